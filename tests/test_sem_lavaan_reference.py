"""fit_model against lavaan 0.6-14 (tests/fixtures/reference, made by make_reference.R).

Tolerances
----------
* Estimates, SEs, std.all, R-squared: rtol 1e-4, atol 1e-6. Our estimates are polished
  by Fisher scoring to a step < 1e-10; lavaan's nlminb stops earlier (its relative
  convergence tolerance), which leaves differences up to 1.3e-5 relative in the
  11-factor paperlike models (1e-6 in the small ones). The JSON holds 8 significant
  digits, so 1e-6 absolute covers rounding of values near zero.
* Fit measures: rtol 1e-5, atol 1e-6. make_reference.R rounds fitMeasures() to 6
  decimals (so pvalue 8.5e-9 is stored as 0); closed-form functions of chisq, df, N
  agree to the rounding.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.sem.engine import fit_model
from adoption.vocabulary import FIT_MEASURES, ROBUST_FIT_MEASURES
from paperlike import PARAMS, load_composites, load_recoded_items

FIX = Path(__file__).parent / "fixtures"
REF = FIX / "reference"
EST_RTOL, EST_ATOL = 1e-4, 1e-6
FIT_RTOL, FIT_ATOL = 1e-5, 1e-6


def _ref(name):
    return json.loads((REF / name).read_text())


def _paperlike_items():
    return load_recoded_items(), PARAMS


def _paperlike_composites():
    return load_composites()


def _case(name):
    if name == "hs":
        ref = _ref("holzinger_swineford_cfa.json")
        return ref, ref["model"], pd.read_csv(FIX / "data" / "holzinger_swineford.csv")
    if name == "pd":
        ref = _ref("political_democracy_sem.json")
        return ref, ref["model"], pd.read_csv(FIX / "data" / "political_democracy.csv")
    paper = _ref("paperlike_survey.json")
    if name == "composite":
        ref = paper["composite_path"]
        return ref, ref["model"], _paperlike_composites()
    ref = paper[name]
    return ref, ref["model"], _paperlike_items()[0]


CASES = [("hs", "ML"), ("hs", "MLM"), ("hs", "MLR"), ("pd", "ML"),
         ("composite", "ML"), ("composite", "MLM"),
         ("cfa", "ML"), ("cfa", "MLR"), ("latent_sem", "ML"), ("latent_sem", "MLR")]
_FITS: dict = {}


def _fitted(name, estimator):
    key = (name, estimator)
    if key not in _FITS:
        ref, model, data = _case(name)
        _FITS[key] = (ref[estimator], fit_model(model, data, estimator=estimator))
    return _FITS[key]


def _ref_estimates(ref):
    est = pd.DataFrame(ref["estimates"])
    return est[est["op"] != "r2"].reset_index(drop=True)  # ':=' rows included


@pytest.mark.parametrize("name,estimator", CASES)
def test_rows_as_lavaan(name, estimator):
    ref, fit = _fitted(name, estimator)
    assert fit.converged
    expected = _ref_estimates(ref)[["lhs", "op", "rhs"]]
    got = fit.estimates[["lhs", "op", "rhs"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)  # same rows in lavaan's order
    assert fit.nobs == ref["nobs"]


@pytest.mark.parametrize("name,estimator", CASES)
@pytest.mark.parametrize("column", ["est", "se", "std.all"])
def test_estimates_equal_lavaan(name, estimator, column):
    ref, fit = _fitted(name, estimator)
    expected = _ref_estimates(ref)[column].to_numpy(dtype=float)
    assert_allclose(fit.estimates[column].to_numpy(dtype=float), expected,
                    rtol=EST_RTOL, atol=EST_ATOL)


@pytest.mark.parametrize("name,estimator", CASES)
def test_z_and_pvalue_follow_se(name, estimator):
    ref, fit = _fitted(name, estimator)
    free = fit.estimates["se"] > 0
    exp = _ref_estimates(ref)
    if "z" in exp:
        assert_allclose(fit.estimates.loc[free, "z"], exp.loc[free, "z"].astype(float),
                        rtol=EST_RTOL)
    assert_allclose(fit.estimates["ci.lower"], exp["ci.lower"].astype(float),
                    rtol=EST_RTOL, atol=EST_ATOL)


@pytest.mark.parametrize("name,estimator", CASES)
def test_fit_measures_equal_lavaan(name, estimator):
    ref, fit = _fitted(name, estimator)
    expected_names = set(FIT_MEASURES) | {"unrestricted.logl"}
    if estimator != "ML":
        expected_names |= set(ROBUST_FIT_MEASURES)
    assert expected_names <= set(fit.fit)
    for measure, value in ref["fit"].items():
        assert_allclose(fit.fit[measure], value, rtol=FIT_RTOL, atol=FIT_ATOL,
                        err_msg=measure)


@pytest.mark.parametrize("name,estimator", CASES)
def test_r2_equal_lavaan(name, estimator):
    ref, fit = _fitted(name, estimator)
    r2 = pd.DataFrame(ref["estimates"])
    r2 = r2[r2["op"] == "r2"]
    assert set(r2["lhs"]) == set(fit.r2)
    assert_allclose([fit.r2[v] for v in r2["lhs"]], r2["est"].astype(float),
                    rtol=EST_RTOL, atol=EST_ATOL)


@pytest.mark.parametrize("name,estimator", CASES)
def test_vcov_consistent_with_se(name, estimator):
    _, fit = _fitted(name, estimator)
    est = fit.estimates
    free = est[(est["se"] > 0) & (est["op"] != ":=")]  # vcov: the model's parameters
    keys = free["lhs"] + " " + free["op"] + " " + free["rhs"]
    assert list(fit.vcov.index) == list(keys)
    assert_allclose(np.sqrt(np.diag(fit.vcov.to_numpy())), free["se"], rtol=1e-12)


def test_composite_fixed_x_rows_are_sample_moments():
    # lavaan fixed.x: x (co)variances are the N-divisor sample values, se 0
    _, fit = _fitted("composite", "ML")
    x = fit.estimates.iloc[16:52]
    assert (x["se"] == 0).all() and x["z"].isna().all()
    comp = _paperlike_composites()
    s = comp.cov(ddof=0)
    assert_allclose(x["est"], [s.loc[a, b] for a, b in zip(x["lhs"], x["rhs"])], rtol=1e-12)
    assert fit.fit["df"] == 14  # semopy alone would say 50


def test_labels_kept():
    _, fit = _fitted("composite", "ML")
    row = fit.estimates.iloc[0]
    assert (row["lhs"], row["rhs"], row["label"]) == ("COM", "EMP", "b_EMP_COM")
