"""Moderation in the composite model against R (lm, anova, lavaan :=).

Reference values: tests/fixtures/moderation/moderation_reference.json, made by
make_moderation.R beside it on the paperlike data's composite scores.

Tolerances: OLS estimates, SEs, R-squared, F and the simple slopes are closed forms that
R and numpy compute from the same cross-products in double precision, so they agree to
about 1e-12; 1e-9 relative leaves room for differing summation order and still catches
any formula difference (a divisor N instead of N - k - 1 changes SEs by 0.3 %). p-values
are compared at 1e-7 relative (pt/pf in R vs scipy's t/F tails, both near machine
precision in the tails used here). The Johnson-Neyman points are found in R by uniroot
(tol 1e-12) on the p-value itself, independently of the quadratic formula used here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.structural.moderation import (
    add_products,
    conditional_slopes,
    expand_interactions,
    johnson_neyman,
    ols_equation,
    probe_values,
    r2_change,
)
from tests.paperlike import load_composites

REF = json.loads((Path(__file__).parent / "fixtures" / "moderation"
                  / "moderation_reference.json").read_text())
CLOSED = 1e-9   # closed-form OLS in double precision (see module docstring)
PVAL = 1e-7


@pytest.fixture(scope="module")
def scores():
    return load_composites()


def _fit(scores, centre):
    syntax, products = expand_interactions("WIL ~ HAB + COM + HAB:COM")
    data = add_products(scores, products, centre)
    return ols_equation(data, "WIL", ("HAB", "COM", products[0].name)), products, data


@pytest.mark.parametrize("centre, key", [("mean", "centred"), ("none", "raw")])
def test_interaction_equation_equals_lm(scores, centre, key):
    fit, _, _ = _fit(scores, centre)
    ref = REF[key]
    tab = fit.table()
    assert_allclose(tab["est"], ref["est"], rtol=CLOSED)
    assert_allclose(tab["se"], ref["se"], rtol=CLOSED)
    assert_allclose(tab["t"], ref["t"], rtol=CLOSED)
    assert_allclose(tab["ci.lower"], ref["ci.lower"], rtol=CLOSED)
    assert_allclose(tab["ci.upper"], ref["ci.upper"], rtol=CLOSED)
    assert_allclose(tab["pvalue"], ref["pvalue"], rtol=PVAL)
    assert_allclose(fit.vcov, np.array(ref["vcov"]), rtol=CLOSED, atol=1e-15)
    assert_allclose(fit.r2, ref["r2"], rtol=CLOSED)
    assert fit.df_resid == ref["df"]


def test_expanded_syntax_names_the_product():
    syntax, products = expand_interactions("COM ~ EMP\nWIL ~ HAB + COM + HAB:COM")
    assert syntax.splitlines()[-1] == "WIL ~ HAB + COM + HAB_x_COM"
    assert products[0].factors == ("HAB", "COM") and products[0].lhs == "WIL"


def test_r2_change_equals_anova(scores):
    full, _, data = _fit(scores, "mean")
    reduced = ols_equation(data, "WIL", ("HAB", "COM"))
    ch = r2_change(full, reduced)
    ref = REF["r2_change"]
    assert_allclose(reduced.r2, REF["reduced_r2"], rtol=CLOSED)
    assert_allclose(ch["delta_r2"], ref["delta_r2"], rtol=1e-7)  # a difference of two R2
    assert_allclose(ch["f"], ref["f"], rtol=1e-7)
    assert (ch["df1"], ch["df2"]) == (ref["df1"], ref["df2"])
    assert_allclose(ch["pvalue"], ref["pvalue"], rtol=PVAL)
    # one term: F equals the product's t squared
    assert_allclose(ch["f"], full.table()["t"].iloc[2] ** 2, rtol=1e-9)


def test_simple_slopes_equal_r(scores):
    fit, products, _ = _fit(scores, "mean")
    w = probe_values(scores["HAB"])
    ref = REF["slopes"]
    assert_allclose(list(w.values()), ref["w"], rtol=CLOSED)
    d = np.array(list(w.values())) - scores["HAB"].mean()
    tab = conditional_slopes(fit.coef, fit.vcov, fit.index("COM"), fit.index(products[0].name),
                             d, df=fit.df_resid)
    for col in ("est", "se", "ci.lower", "ci.upper"):
        assert_allclose(tab[col], ref[col], rtol=CLOSED)
    assert_allclose(tab["pvalue"], ref["pvalue"], rtol=PVAL)
    # at the mean the slope is the lower-order coefficient (centred product)
    assert_allclose(tab["est"].iloc[1], fit.coef[1], rtol=1e-12)


def test_johnson_neyman_equals_r_root_finding(scores):
    fit, products, _ = _fit(scores, "mean")
    jn = johnson_neyman(fit.coef, fit.vcov, fit.index("COM"), fit.index(products[0].name),
                        df=fit.df_resid)
    # uniroot's tolerance 1e-12 on d; the quadratic's roots are exact to rounding
    assert_allclose(jn, REF["jn"]["d"], rtol=1e-8)


def test_johnson_neyman_points_have_p_at_alpha():
    coef = np.array([0.2, -0.15])
    V = np.array([[0.004, 0.0005], [0.0005, 0.002]])
    jn = johnson_neyman(coef, V, 0, 1, df=100)
    assert jn.size == 2
    tab = conditional_slopes(coef, V, 0, 1, jn, df=100)
    assert_allclose(tab["pvalue"], 0.05, rtol=1e-10)


@pytest.mark.parametrize("syntax, words", [
    ("WIL ~ HAB + COM + HAB:XYZ", "XYZ"),
    ("WIL ~ HAB + HAB:COM\nCOM ~ EMP", "needs COM"),
    ("WIL ~ HAB + COM + EB + HAB:COM:EB", "two-way"),
])
def test_bad_interactions_are_named(syntax, words):
    with pytest.raises(InputError, match=words):
        expand_interactions(syntax)


def test_collinear_dummies_are_refused(scores):
    data = scores.assign(HAB2=2 * scores["HAB"])
    with pytest.raises(InputError, match="collinear"):
        ols_equation(data, "WIL", ("HAB", "HAB2"))
