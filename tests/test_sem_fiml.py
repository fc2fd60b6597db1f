"""fit_model(missing="fiml") against lavaan 0.6-14 ``missing = "ml"``
(tests/fixtures/fiml, made by make_fiml_reference.R; the R script lists the data).

Tolerances
----------
* Estimates, SEs, std.all: rtol 2e-5, atol 1e-6. Ours are converged to a step < 1e-9
  (Newton on the observed information); lavaan's nlminb stops at its relative tolerance,
  which leaves differences of up to 1.8e-6 relative in the small models and 9e-6 in the
  37-item survey CFA (our logl there is higher than lavaan's, by 8e-9). The SEs come
  from the observed information, which we differentiate numerically (central
  differences of the analytic gradient, error ~1e-8).
* Fit measures: rtol 1e-5. lavaan's own numbers are stored at full precision; chisq,
  logl and the baseline are closed-form functions of the converged estimates and the
  EM moments (which we reproduce to 1e-13); the largest difference, 2.7e-6 (baseline
  with fixed_x=False, which lavaan fits with nlminb and we by EM to 1e-12), is lavaan's
  optimiser tolerance again.
* EM moments: rtol 1e-10: same algorithm, start and stopping rule as lavaan.
* MLR (Huber-White SEs, Yuan-Bentler "mplus" scaled test, FIML-corrected robust
  CFI/TLI/RMSEA): same tolerances; the information matrices of the saturated moments
  are numerical derivatives of the analytic gradient (error ~1e-8).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.sem.engine import fit_model
from adoption.vocabulary import FIT_MEASURES, ROBUST_FIT_MEASURES

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "fiml" / "fiml_reference.json").read_text())
EST_RTOL, EST_ATOL = 2e-5, 1e-6
FIT_RTOL = 1e-5

CASES = {  # name -> (reference block, fit_model keyword arguments)
    "hs": ("hs", "ML", {}),
    "composite": ("composite", "ML", {}),
    "composite_free_x": ("composite", "ML_fixed_x_false", {"fixed_x": False}),
    "hs_mlr": ("hs", "MLR", {"estimator": "MLR"}),
    "composite_mlr": ("composite", "MLR", {"estimator": "MLR"}),
    "composite_free_x_mlr": ("composite", "MLR_fixed_x_false",
                             {"estimator": "MLR", "fixed_x": False}),
    "survey": ("survey", "ML", {}),  # 37 items, 11 factors, 545 rows, 2 % missing
    "survey_mlr": ("survey", "MLR", {"estimator": "MLR"}),
}
_FITS: dict = {}


def _data(block):
    return pd.read_csv(FIX / "fiml" / REF[block]["data"])


def _fitted(name):
    if name not in _FITS:
        block, key, kw = CASES[name]
        fit = fit_model(REF[block]["model"], _data(block), missing="fiml", **kw)
        _FITS[name] = (REF[block][key], fit)
    return _FITS[name]


def _ref_estimates(ref):
    est = pd.DataFrame(ref["estimates"])
    return est[est["op"] != "r2"].reset_index(drop=True)


@pytest.mark.parametrize("name", CASES)
def test_rows_and_nobs_as_lavaan(name):
    ref, fit = _fitted(name)
    assert fit.converged
    assert fit.missing == "fiml"
    got = fit.estimates[["lhs", "op", "rhs"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, _ref_estimates(ref)[["lhs", "op", "rhs"]])
    assert fit.nobs == ref["nobs"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("column", ["est", "se", "std.all"])
def test_estimates_equal_lavaan(name, column):
    ref, fit = _fitted(name)
    assert_allclose(fit.estimates[column].to_numpy(dtype=float),
                    _ref_estimates(ref)[column].to_numpy(dtype=float),
                    rtol=EST_RTOL, atol=EST_ATOL)


@pytest.mark.parametrize("name", CASES)
def test_fit_measures_equal_lavaan(name):
    ref, fit = _fitted(name)
    expected = set(FIT_MEASURES) | {"unrestricted.logl"}
    if fit.estimator == "MLR":
        expected |= set(ROBUST_FIT_MEASURES)
    assert expected == set(ref["fit"]) and expected <= set(fit.fit)
    for measure, value in ref["fit"].items():
        # p-values below 1e-6 follow chisq's last digits: absolute 1e-12
        assert_allclose(fit.fit[measure], value, rtol=FIT_RTOL, atol=1e-12, err_msg=measure)


@pytest.mark.parametrize("name", CASES)
def test_r2_equal_lavaan(name):
    ref, fit = _fitted(name)
    r2 = pd.DataFrame(ref["estimates"])
    r2 = r2[r2["op"] == "r2"]
    assert_allclose([fit.r2[v] for v in r2["lhs"]], r2["est"].astype(float),
                    rtol=EST_RTOL, atol=EST_ATOL)


@pytest.mark.parametrize("name", CASES)
def test_moments_equal_lavaan(name):
    # sample_cov/sample_mean: lavaan's EM estimates of the saturated moments, reproduced
    # exactly (same start, update and stopping rule); implied moments to the optimiser.
    ref, fit = _fitted(name)
    est = _ref_estimates(ref)  # lavaan's variable order: that of its observed ~1 rows
    lav_order = [v for v in est.loc[est["op"] == "~1", "lhs"] if v in fit.observed]
    i = [fit.observed.index(v) for v in lav_order]
    assert_allclose(fit.sample_mean[i], ref["h1"]["mean"], rtol=1e-10)
    assert_allclose(fit.sample_cov[np.ix_(i, i)], ref["h1"]["cov"], rtol=1e-10, atol=1e-13)
    assert_allclose(fit.implied_mean[i], ref["implied"]["mean"], rtol=EST_RTOL)
    assert_allclose(fit.implied_cov[np.ix_(i, i)], ref["implied"]["cov"], rtol=EST_RTOL,
                    atol=EST_ATOL)


@pytest.mark.parametrize("name", CASES)
def test_vcov_consistent_with_se(name):
    _, fit = _fitted(name)
    est = fit.estimates
    free = est[est["se"] > 0]
    keys = free["lhs"] + " " + free["op"] + " " + free["rhs"]
    assert list(fit.vcov.index) == list(keys)
    assert_allclose(np.sqrt(np.diag(fit.vcov.to_numpy())), free["se"], rtol=1e-12)


def test_empty_rows_dropped_with_warning():
    ref, fit = _fitted("hs")
    assert ref["norig"] == 301 and "some cases are empty" in str(ref["warnings"])
    assert fit.nobs == 300  # 301 rows, row 5 empty
    assert any("every model variable missing" in w for w in fit.warnings)


def test_fixed_x_deletes_rows_missing_x_as_lavaan():
    ref, fit = _fitted("composite")
    assert fit.nobs == 405 and ref["norig"] == 600
    assert any("195 row(s)" in w and "exogenous" in w for w in fit.warnings)
    assert "195 cases were deleted" in str(ref["warnings"])
    # the x (co)variances and means are the sample moments of the rows kept, se 0
    data = _data("composite")
    xs = ["EMP", "PRV", "ACC", "HAB", "EB", "FC", "PU", "STG"]
    kept = data.dropna(subset=xs)
    est = fit.estimates
    means = est[(est["op"] == "~1") & est["lhs"].isin(xs)]
    assert_allclose(means["est"], kept[xs].mean().loc[means["lhs"]], rtol=1e-12)
    assert (means["se"] == 0).all()


def test_complete_data_fiml_equals_ml():
    # without missing values FIML is ML with a (saturated) mean structure
    hs = pd.read_csv(FIX / "data" / "holzinger_swineford.csv")
    ml_ref = json.loads((FIX / "reference" / "holzinger_swineford_cfa.json").read_text())
    fit = fit_model(ml_ref["model"], hs, missing="fiml")
    ref = pd.DataFrame(ml_ref["ML"]["estimates"])
    ref = ref[ref["op"] != "r2"]
    assert_allclose(fit.estimates["est"].iloc[:len(ref)], ref["est"], rtol=1e-4, atol=1e-6)
    means = fit.estimates[fit.estimates["op"] == "~1"].iloc[:9]
    assert_allclose(means["est"], hs[[f"x{i}" for i in range(1, 10)]].mean(), rtol=1e-9)
    for m in ("chisq", "df", "cfi", "tli", "rmsea", "logl", "unrestricted.logl"):
        assert_allclose(fit.fit[m], ml_ref["ML"]["fit"][m], rtol=1e-5, atol=1e-6, err_msg=m)
    assert fit.fit["npar"] == 30


def test_listwise_default_unchanged():
    hs = _data("hs")
    a = fit_model(REF["hs"]["model"], hs)
    b = fit_model(REF["hs"]["model"], hs, missing="listwise")
    pd.testing.assert_frame_equal(a.estimates, b.estimates)
    assert a.missing == "listwise" and a.sample_mean is None
    assert "~1" not in set(a.estimates["op"])


def test_bad_missing_argument_is_input_error():
    with pytest.raises(InputError, match="missing"):
        fit_model(REF["hs"]["model"], _data("hs"), missing="pairwise")


def test_mlm_with_fiml_is_input_error():
    with pytest.raises(InputError, match="MLM"):
        fit_model(REF["hs"]["model"], _data("hs"), missing="fiml", estimator="MLM")


def test_mlr_estimates_equal_ml_estimates():
    # MLR changes SEs and the test, not the estimates
    _, ml = _fitted("hs")
    _, mlr = _fitted("hs_mlr")
    assert_allclose(mlr.estimates["est"], ml.estimates["est"], rtol=1e-12, atol=1e-14)
    assert (mlr.estimates["se"] != ml.estimates["se"]).any()


def test_mimic_intercepts_and_fit_equal_lavaan():
    # latent variables regressed on observed covariates (fixed x) and an indicator
    # regressed on a factor: intercepts nu = mu - B mu - Lambda E[eta] with E[eta] != 0
    ref = json.loads((FIX / "fiml" / "fiml_mimic_reference.json").read_text())
    fit = fit_model(ref["model"], _data("hs"), missing="fiml")
    assert fit.converged and fit.nobs == ref["nobs"] == 301
    exp = _ref_estimates(ref)
    pd.testing.assert_frame_equal(fit.estimates[["lhs", "op", "rhs"]].reset_index(drop=True),
                                  exp[["lhs", "op", "rhs"]])
    for column in ("est", "se", "std.all"):
        assert_allclose(fit.estimates[column].to_numpy(dtype=float),
                        exp[column].to_numpy(dtype=float), rtol=EST_RTOL, atol=EST_ATOL,
                        err_msg=column)
    for measure, value in ref["fit"].items():
        assert_allclose(fit.fit[measure], value, rtol=FIT_RTOL, atol=1e-12, err_msg=measure)


@pytest.mark.parametrize("change,message", [
    (lambda d: d.head(5), "too few"),
    (lambda d: d.assign(x3=1.0), "constant"),
    (lambda d: d.assign(x3=np.nan), "no observed value"),
])
def test_unfittable_data_returns_unconverged_fit(change, message):
    fit = fit_model(REF["hs"]["model"], change(_data("hs")), missing="fiml")
    assert not fit.converged
    assert any(message in w for w in fit.warnings)
    assert np.isnan(fit.fit["chisq"])


def test_not_identified_returns_unconverged_fit():
    fit = fit_model("f =~ x1 + x2", _data("hs"), missing="fiml")
    assert not fit.converged and any("not identified" in w for w in fit.warnings)


def test_failed_fit_still_says_fiml():
    fit = fit_model(REF["hs"]["model"], _data("hs").head(5), missing="fiml")
    assert fit.missing == "fiml" and not fit.converged
