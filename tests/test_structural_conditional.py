"""Conditional indirect effects and the index of moderated mediation against lavaan.

PROCESS model 7 (X = EMP, M = COM, W = HAB, Y = WIL) on the paperlike composites; the
reference (tests/fixtures/moderation/make_moderation.R) fits the same expanded model with
lavaan 0.6-14 and defines the effects with ``:=``.

Tolerances: the ML coefficients and SEs here are closed forms, lavaan's come from its
iterative optimiser, hence 1e-6 relative for coefficients, SEs and the ``:=`` estimates
and delta-method SEs (the task's bar for an iterative fit; measured: 4e-15, lavaan
converges to the closed form on this model).

The bootstrap is compared with an independent R bootstrap (lm refits, B = 5000, another
random stream) only statistically. A percentile limit at level p from B draws has Monte
Carlo SD sqrt(p (1 - p) / B) / f(q_p); for a near-normal distribution with SD s,
f(q_.025) = phi(1.96) / s, giving 0.0378 s; two independent bootstraps differ by
sqrt(2) times that, 0.0535 s; we allow 4 of those (0.21 s). The bootstrap SDs differ by
about s / sqrt(B) (SD of an SD is s / sqrt(2B), twice): allowed 4 of those (0.057 s).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from adoption.structural.conditional import (
    bootstrap_conditional,
    conditional_definitions,
    conditional_table,
    evaluate_forms,
    forms_gradient,
)
from adoption.structural.moderation import add_products, expand_interactions, probe_values
from adoption.structural.ols import fit_path_ols
from adoption.structural.paths import parse_structural
from tests.paperlike import load_composites

REF = json.loads((Path(__file__).parent / "fixtures" / "moderation"
                  / "moderation_reference.json").read_text())
MODEL7 = "COM ~ EMP + HAB + EMP:HAB\nWIL ~ COM + EMP"


@pytest.fixture(scope="module")
def setup():
    syntax, products = expand_interactions(MODEL7)
    scores = load_composites()
    data = add_products(scores, products, "mean")
    model = parse_structural(syntax)
    w = probe_values(scores["HAB"])
    mean = scores["HAB"].mean()
    probes = {k: {"HAB": v - mean} for k, v in w.items()}
    defs = conditional_definitions(model, products, "EMP", "WIL", probes, w)
    return data, model, defs


def test_ml_fit_equals_lavaan(setup):
    data, model, _ = setup
    fit = fit_path_ols(data, model)
    ref = REF["model7"]
    est = fit.estimates[fit.estimates["op"] == "~"]
    assert list(est["rhs"]) == ref["coef_rhs"]
    assert_allclose(est["est"], ref["coef"], rtol=1e-6)
    assert_allclose(est["se"], ref["coef_se"], rtol=1e-6)


def test_conditional_indirect_and_index_equal_lavaan_defined(setup):
    data, model, defs = setup
    fit = fit_path_ols(data, model)
    coef = np.array([fit.coefficients[e] for e in model.edges])
    tab = conditional_table(defs, coef, fit.vcov.to_numpy())
    ind = tab[tab["effect"].isin(["conditional_indirect", "index"])]
    assert list(ind["at"]) == ["-1 SD", "mean", "+1 SD", ""]
    assert list(ind["name"]) == ["ind_EMP_COM_WIL"] * 3 + ["imm_EMP_COM_WIL"]
    assert_allclose(ind["est"], REF["model7"]["est"], rtol=1e-6)
    assert_allclose(ind["se"], REF["model7"]["se"], rtol=1e-6)


def test_gradient_equals_finite_differences(setup):
    data, model, defs = setup
    rng = np.random.default_rng(1)
    c = rng.normal(size=len(model.edges))
    h = 1e-6
    num = np.array([(evaluate_forms(defs, c + h * e) - evaluate_forms(defs, c - h * e)) / (2 * h)
                    for e in np.eye(len(c))]).T
    assert_allclose(forms_gradient(defs, c), num, atol=1e-8)


def test_model_58_has_no_index():
    syntax, products = expand_interactions("M ~ X + W + X:W\nY ~ M + X + W + M:W")
    model = parse_structural(syntax)
    defs = conditional_definitions(model, products, "X", "Y", {"mean": {"W": 0.0}})
    assert [d.effect for d in defs] == ["conditional_indirect", "conditional_direct"]


def test_bootstrap_agrees_with_r_within_monte_carlo_error(setup):
    data, model, defs = setup
    t0 = time.perf_counter()
    tab, info = bootstrap_conditional(data, model, defs, B=5000, seed=12345)
    seconds = time.perf_counter() - t0
    ind = tab[tab["effect"].isin(["conditional_indirect", "index"])]
    ref = REF["model7_boot"]
    s = np.array(ref["sd"])
    mc = np.sqrt(0.025 * 0.975 / ref["B"]) / stats.norm.pdf(1.96) * s * np.sqrt(2)
    assert (np.abs(ind["ci.lower"].to_numpy() - ref["lower"]) < 4 * mc).all()
    assert (np.abs(ind["ci.upper"].to_numpy() - ref["upper"]) < 4 * mc).all()
    assert (np.abs(ind["boot.se"].to_numpy() - s) < 4 * s / np.sqrt(ref["B"])).all()
    assert (ind["bca.lower"] < ind["est"]).all() and (ind["est"] < ind["bca.upper"]).all()
    assert info["failed"] == 0
    assert seconds < 5.0, seconds   # about 0.3 s measured; generous for a shared machine
