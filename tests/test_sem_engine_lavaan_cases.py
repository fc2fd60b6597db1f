"""Single-group engine cases of issue 19 against lavaan 0.6-14: second-order factors,
std.lv (as an option and written in the syntax), lavaan's starting values, NA fit
measures and R-squared.

Reference values: ``tests/fixtures/engine/single_group_cases.json``, made by
``tests/fixtures/engine/make_engine_reference.R`` (the R calls are there; stored with
full precision).

Tolerances (as ``tests/test_sem_lavaan_reference.py``): estimates, SEs and std.all
rtol 1e-4 with atol 1e-6 (lavaan's nlminb stops within about 1e-5 relative of the optimum
that Fisher scoring polishes to a step below 1e-10); fit measures rtol 1e-5, atol 1e-6
(smooth functions of the optimum); a saturated model's chisq is 0 to 1e-8.
"""

from __future__ import annotations

import json
import math
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.sem.engine import LeanRefit, fit_model
from adoption.sem.start import fabin3_loadings, start_values, three_indicator_loadings
from adoption.sem.partable import build_partable

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "engine" / "single_group_cases.json").read_text())
EST_RTOL, EST_ATOL = 1e-4, 1e-6
FIT_RTOL, FIT_ATOL = 1e-5, 1e-6
FIT_KEYS = ("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi",
            "tli", "nfi", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "gfi",
            "agfi", "aic", "bic", "logl", "unrestricted.logl")


@pytest.fixture(scope="module")
def data():
    hs = pd.read_csv(FIX / "multigroup" / "holzinger_swineford_school.csv")
    pd_ = pd.read_csv(FIX / "data" / "political_democracy.csv")
    return {"HS": hs, "PD": pd_}


def _fit(case, data):
    ref = REF[case]
    return fit_model(ref["model"], data[ref["data"]], std_lv=ref["std_lv"]), ref


def _fit_close(ours: dict, ref: dict, keys=FIT_KEYS):
    for k in keys:
        r = ref[k]
        if r is None:  # lavaan's NA
            assert math.isnan(ours[k]), k
        elif k in ("chisq", "pvalue") and ref["df"] == 0:
            assert_allclose(ours[k], r, atol=1e-8, err_msg=k)
        else:
            assert_allclose(ours[k], r, rtol=FIT_RTOL, atol=FIT_ATOL, err_msg=k)


def _estimates_close(ours: pd.DataFrame, ref: list):
    e = pd.DataFrame(ref)
    ours = ours[ours["op"] != ":="]
    m = e.merge(ours, on=["lhs", "op", "rhs"], suffixes=("_r", ""))
    assert len(m) == len(e) == len(ours)
    for c in ("est", "se", "std.all"):
        assert_allclose(m[c], m[c + "_r"], rtol=EST_RTOL, atol=EST_ATOL, err_msg=c)


@pytest.mark.parametrize("case", ["second_order", "second_order_std_lv"])
def test_second_order_factor_matches_lavaan(data, case):
    fit, ref = _fit(case, data)
    assert fit.converged, fit.warnings
    assert fit.fit["npar"] == 21  # 9 + 3 loadings, 9 + 3 + 1 variances, no covariances
    lat = fit.estimates[(fit.estimates["op"] == "~~")
                        & (fit.estimates["lhs"] != fit.estimates["rhs"])]
    assert lat.empty  # the first-order factors covary through g only
    _fit_close(fit.fit, ref["fit"])
    _estimates_close(fit.estimates, ref["estimates"])


def _alarm(signum, frame):
    raise TimeoutError("fit_model did not return within 60 s")


def test_std_lv_in_syntax_fits_without_hanging(data):
    """f =~ NA*x1 + x2 + x3; f ~~ 1*f looped forever in semopy's start values."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    try:
        fit, ref = _fit("one_factor_std_lv_syntax", data)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert fit.converged
    _fit_close(fit.fit, ref["fit"])
    _estimates_close(fit.estimates, ref["estimates"])


@pytest.mark.parametrize("case", ["hs3_std_lv_syntax", "hs3_std_lv", "pd_std_lv"])
def test_std_lv_matches_lavaan(data, case):
    fit, ref = _fit(case, data)
    assert fit.converged
    _fit_close(fit.fit, ref["fit"])
    _estimates_close(fit.estimates, ref["estimates"])
    latent_var = fit.estimates[(fit.estimates["op"] == "~~")
                               & (fit.estimates["lhs"] == fit.estimates["rhs"])
                               & fit.estimates["lhs"].isin(fit.partable.latent)]
    assert (latent_var["est"] == 1.0).all() and (latent_var["se"] == 0.0).all()


def test_lean_refit_keeps_std_lv(data):
    """Bootstrap refits of a std_lv fit are std_lv fits: refitted to the same data they
    return the fit's regressions (rtol 1e-6: both optimisers stop within 1e-10)."""
    fit, ref = _fit("pd_std_lv", data)
    coef, _ = LeanRefit.from_fit(ref["model"], fit)(data["PD"])
    reg = fit.estimates[fit.estimates["op"] == "~"]
    for lhs, rhs, e in zip(reg["lhs"], reg["rhs"], reg["est"]):
        assert_allclose(coef[(lhs, rhs)], e, rtol=1e-6, err_msg=f"{lhs} ~ {rhs}")


def test_std_lv_rules_for_written_variances(data):
    """lavaan 0.6-14, parTable(cfa(model, HS, std.lv = TRUE, do.fit = FALSE)): a written
    first loading keeps its value; a written latent variance is fixed at 1 even with a
    label, at its value when fixed, at its start() value, and free only with NA*."""
    cols = data["HS"].columns

    def var_row(model):
        pt = build_partable(model, cols, std_lv=True)
        row = next(r for r in pt.rows if (r.lhs, r.op, r.rhs) == ("f", "~~", "f"))
        return pt.rows[0], row

    first, var = var_row("f =~ 1*x1 + x2 + x3\nf ~~ v*f")
    assert (first.free, first.value) == (False, 1.0)
    assert (var.free, var.value, var.label) == (False, 1.0, "v")
    first, var = var_row("f =~ a*x1 + x2 + x3")
    assert first.free and (var.free, var.value) == (False, 1.0)
    assert (var_row("f =~ x1 + x2 + x3\nf ~~ 2*f")[1].value) == 2.0
    assert (var_row("f =~ x1 + x2 + x3\nf ~~ start(0.5)*f")[1].value) == 0.5
    assert var_row("f =~ x1 + x2 + x3\nf ~~ NA*f")[1].free


def test_nfi_is_nan_when_df_exceed_the_baselines(data):
    fit, ref = _fit("nfi_na", data)
    assert fit.fit["df"] == 8 and fit.fit["baseline.df"] == 6
    assert ref["fit"]["nfi"] is None
    _fit_close(fit.fit, ref["fit"])


def test_r2_is_nan_for_a_negative_residual_variance(data):
    fit, ref = _fit("heywood", data)
    assert fit.converged
    _fit_close(fit.fit, ref["fit"])
    _estimates_close(fit.estimates, ref["estimates"])
    assert ref["r2"]["x4"] is None
    assert math.isnan(fit.r2["x4"])
    for v, r in ref["r2"].items():
        if r is not None:
            assert_allclose(fit.r2[v], r, rtol=EST_RTOL, atol=EST_ATOL, err_msg=v)
    assert any("x4" in w and "negative" in w for w in fit.warnings)


# --------------------------------------------------------------------------- start values
def test_fabin3_recovers_an_exact_one_factor_structure():
    lam = np.array([1.0, 0.5, 0.375, 0.25, 0.8])
    psi, theta = 1.6, np.array([0.4, 0.6, 0.7, 0.9, 0.5])
    s = psi * np.outer(lam, lam) + np.diag(theta)
    assert_allclose(fabin3_loadings(s)[0], lam, rtol=1e-12)
    # std.lv: the same loadings scaled to a factor variance of 1
    assert_allclose(fabin3_loadings(s, std_lv=True)[0], lam * math.sqrt(psi), rtol=1e-12)
    assert_allclose(three_indicator_loadings(s[:3, :3])[0], lam[:3], rtol=1e-12)
    lam3, neg = three_indicator_loadings(s[:3, :3], std_lv=True)
    assert not neg
    assert_allclose(lam3, lam[:3] * math.sqrt(psi), rtol=1e-12)


@pytest.mark.parametrize("case", list(REF))
def test_start_values_are_lavaans(data, case):
    """Every row's starting value equals lavaan's ``parTable(fit)$start`` (FABIN 3
    loadings, 0.05 latent variances, half the observed variances, OLS regressions in a
    path model, fixed values, fixed-x sample moments); rtol 1e-9 (closed forms)."""
    ref = REF[case]
    d = data[ref["data"]]
    pt = build_partable(ref["model"], d.columns, std_lv=ref["std_lv"])
    s = np.cov(d[pt.observed].to_numpy(dtype=float), rowvar=False, bias=True)
    ours = pd.DataFrame({"lhs": [r.lhs for r in pt.rows], "op": [r.op for r in pt.rows],
                         "rhs": [r.rhs for r in pt.rows], "ours": start_values(pt, s)})
    lav = pd.DataFrame(ref["start"])
    lav = lav[lav["op"].isin(["=~", "~", "~~"])]  # not lavaan's "==" rows of shared labels
    m = lav.merge(ours, on=["lhs", "op", "rhs"])
    assert len(m) == len(ours) == len(lav)
    assert_allclose(m["ours"], m["start"], rtol=1e-9, atol=1e-12)
