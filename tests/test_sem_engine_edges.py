"""fit_model on inputs that are wrong or cannot be fitted: clear errors, never a
semopy traceback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.sem.engine import ModelFit, fit_model
from adoption.vocabulary import FIT_MEASURES
from paperlike import load_composites

FIX = Path(__file__).parent / "fixtures"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(FIX / "data" / "holzinger_swineford.csv")


def test_unknown_estimator_is_input_error(hs):
    with pytest.raises(InputError, match="estimator"):
        fit_model(HS_MODEL, hs, estimator="WLSMV")


def test_missing_variable_is_input_error(hs):
    with pytest.raises(InputError, match="x10"):
        fit_model("f =~ x1 + x2 + x10", hs)


def test_non_numeric_variable_is_input_error(hs):
    data = hs.assign(x1=hs["x1"].astype(str) + "a")
    with pytest.raises(InputError, match="x1"):
        fit_model(HS_MODEL, data)


def test_unparseable_syntax_is_input_error(hs):
    with pytest.raises(InputError, match="operator"):
        fit_model("visual is x1 + x2", hs)


def test_too_few_rows_returns_unconverged_fit(hs):
    fit = fit_model(HS_MODEL, hs.head(5))
    assert isinstance(fit, ModelFit)
    assert not fit.converged
    assert any("too few" in w for w in fit.warnings)
    assert set(FIT_MEASURES) <= set(fit.fit)
    assert np.isnan(fit.fit["chisq"])


def test_not_identified_returns_unconverged_fit(hs):
    fit = fit_model("f =~ x1 + x2", hs)  # 4 parameters, 3 moments
    assert not fit.converged
    assert any("not identified" in w for w in fit.warnings)


def test_listwise_deletion_reported(hs):
    data = hs.copy()
    data.loc[data.index[:4], "x2"] = np.nan
    fit = fit_model(HS_MODEL, data)
    assert fit.nobs == len(hs) - 4
    assert any("4 row(s)" in w for w in fit.warnings)
    assert fit.converged


def test_heywood_case_warned():
    # r(a,b) = r(a,c) = .8, r(b,c) = .45 (positive definite): the one-factor loading of
    # a is sqrt(.8 * .8 / .45) = 1.19 > 1, so theta_a < 0 (lavaan warns the same way).
    rng = np.random.default_rng(1)
    corr = np.array([[1, .8, .8], [.8, 1, .45], [.8, .45, 1]])
    x = rng.multivariate_normal(np.zeros(3), corr, size=500)
    data = pd.DataFrame(x, columns=["a", "b", "c"])
    fit = fit_model("f =~ a + b + c", data)
    assert fit.converged
    assert any("Heywood" in w and "a" in w for w in fit.warnings)
    theta_a = fit.estimates.query("lhs == 'a' and op == '~~'")["est"].iloc[0]
    assert theta_a < 0  # not bounded at zero, as lavaan


def test_constant_column_not_positive_definite(hs):
    data = hs.assign(x3=1.0)
    fit = fit_model(HS_MODEL, data)
    assert not fit.converged
    assert any("not positive definite" in w for w in fit.warnings)


def test_defined_parameters_computed_and_labels_kept(hs):
    """':=' rows come last, as lavaan's parameterEstimates() (they used to be dropped
    without a word); lavaan's numbers: tests/test_syntax_conformance.py."""
    fit = fit_model("x4 ~ a*x1\nx7 ~ b*x4\nab := a*b", hs)
    est = fit.estimates
    assert list(est["label"].iloc[:2]) == ["a", "b"]
    last = est.iloc[-1]
    assert (last["lhs"], last["op"], last["rhs"], last["label"]) == ("ab", ":=", "a*b", "ab")
    assert last["est"] == pytest.approx(est["est"].iloc[0] * est["est"].iloc[1], rel=1e-12)
    assert list(fit.vcov.index[:2]) == ["x4 ~ x1", "x7 ~ x4"]
    with pytest.raises(InputError, match=r"unknown label\(s\) in variable definition\(s\): q"):
        fit_model("x4 ~ a*x1\nab := a*q", hs)


def test_fixed_x_false_frees_x_moments_same_fit():
    ref = FIX / "reference"
    comp = load_composites()
    model = json.loads((ref / "paperlike_survey.json").read_text())["composite_path"]["model"]
    fixed = fit_model(model, comp)
    free = fit_model(model, comp, fixed_x=False)
    # x moments are saturated either way: same chisq and df, estimates, more npar
    assert free.fit["df"] == fixed.fit["df"] == 14
    assert_allclose(free.fit["chisq"], fixed.fit["chisq"], rtol=1e-8)
    assert free.fit["npar"] == fixed.fit["npar"] + 36
    assert_allclose(free.estimates["est"], fixed.estimates["est"], rtol=1e-7, atol=1e-10)
    assert (free.estimates["se"].iloc[16:] > 0).all()


def test_fit_does_not_change_input(hs):
    before = hs.copy()
    fit_model(HS_MODEL, hs, estimator="MLR")
    pd.testing.assert_frame_equal(hs, before)


def test_empirically_unidentified_model_does_not_crash(hs):
    # f1 has two indicators and is uncorrelated with f2: 4 parameters for 3 moments in
    # that block although the overall df is 5
    fit = fit_model("f1 =~ x1 + x2\nf2 =~ x4 + x5 + x6\nf1 ~~ 0*f2", hs)
    assert not fit.converged
    assert any("not identified" in w for w in fit.warnings)


def test_semopy_failure_becomes_warning(hs, monkeypatch):
    from adoption.sem import matrices

    def boom(*args, **kwargs):
        raise Exception("semopy internal error")  # semopy raises bare Exception

    monkeypatch.setattr(matrices.SemModel, "__init__", boom)
    fit = fit_model(HS_MODEL, hs)
    assert not fit.converged
    assert any("could not be fitted" in w for w in fit.warnings)


def test_fixed_x_false_baseline_keeps_x_covariances():
    # lavaan keeps the exogenous predictors' covariances in the baseline model with
    # fixed.x = FALSE too (tests/fixtures/fixedx/make_fixed_x_false.R); baseline chisq
    # and df, CFI/TLI and the robust baseline must match it. Tolerance: closed forms of
    # the converged fit (1e-6 relative).
    ref = json.loads((FIX / "fixedx" / "fixed_x_false.json").read_text())
    comp = load_composites()
    for est in ("ML", "MLM", "MLR"):
        fit = fit_model(ref["model"], comp, estimator=est, fixed_x=False)
        for name, value in ref[est].items():
            assert_allclose(fit.fit[name], value, rtol=1e-6, err_msg=f"{est} {name}")
