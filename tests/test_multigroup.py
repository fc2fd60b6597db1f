"""Multi-group models against lavaan 0.6-14.

Reference values: ``tests/fixtures/reference/holzinger_swineford_invariance.json`` (the
invariance sequence of the Holzinger-Swineford CFA by school) and
``tests/fixtures/multigroup/*.json``, made by
``tests/fixtures/multigroup/make_multigroup_reference.R`` (the R calls are there).

Tolerances: chi-square, fit indices and log-likelihoods are smooth functions of the
optimum and agree to 1e-6 relative (1e-5 for the RMSEA interval, found by lavaan with a
root finder). Estimates agree to 5e-4 relative (absolute below 1e-3): lavaan's nlminb
stops within about 1e-4 of the optimum that Fisher scoring polishes to 1e-9 (both
chisq agree to 1e-10, the criterion is flat there). lavaan rounds
``holzinger_swineford_invariance.json`` to 6 decimals, so 1e-6 relative there is its
rounding. Score tests agree to 5e-5 relative (they inherit lavaan's estimates).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.sem.compare import satorra_bentler_2001
from adoption.sem.multigroup import (fit_multigroup, parse_parameter, rmsea_multigroup,
                                     score_tests, srmr_multigroup)
from paperlike import composite_scores, load_recoded_items

FIX = Path(__file__).parent / "fixtures"
HS_REF = json.loads((FIX / "reference" / "holzinger_swineford_invariance.json").read_text())
HS_GROUPS = json.loads((FIX / "multigroup" / "holzinger_swineford_groups.json").read_text())
PATH_REF = json.loads((FIX / "multigroup" / "paperlike_path_groups.json").read_text())
LEVELS = {"configural": (), "metric": ("loadings",), "scalar": ("loadings", "intercepts"),
          "strict": ("loadings", "intercepts", "residuals")}
#: lavaan orders groups by first appearance; Pasteur comes first in the data
HS_ORDER = ["Pasteur", "Grant-White"]
FIT_KEYS = ("npar", "df", "chisq", "baseline.chisq", "baseline.df", "cfi", "tli", "rmsea",
            "srmr", "aic", "bic", "logl")


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(FIX / "multigroup" / "holzinger_swineford_school.csv")


@pytest.fixture(scope="module")
def composites():
    d = load_recoded_items()
    out = composite_scores(d)
    out["gender"] = d["gender"]
    return out


def _fit_close(ours: dict, ref: dict, rtol=1e-6):
    for k in FIT_KEYS:
        assert_allclose(ours[k], ref[k], rtol=rtol, atol=1e-6, err_msg=k)
    for k in ("rmsea.ci.lower", "rmsea.ci.upper"):
        assert_allclose(ours[k], ref[k], rtol=1e-5, atol=1e-6, err_msg=k)


def _estimates_close(ours: pd.DataFrame, ref: list, order):
    e = pd.DataFrame(ref)
    e["group"] = e["group"].map(dict(enumerate(order, 1)))
    m = e.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert len(m) == len(e) == len(ours)
    for c in ("est", "se", "std.all"):
        assert_allclose(m[c], m[c + "_r"], rtol=5e-4, atol=1e-3 * 5e-4, err_msg=c)


@pytest.mark.parametrize("level", list(LEVELS))
def test_invariance_sequence_matches_lavaan(hs, level):
    fit = fit_multigroup(HS_REF["model"], hs, "school", group_equal=LEVELS[level],
                         groups=HS_ORDER)
    assert fit.converged
    assert fit.nobs == (156, 145)
    _fit_close(fit.fit, HS_REF["fits"][level]["fit"])
    _estimates_close(fit.estimates, HS_GROUPS["ML"][level]["estimates"], HS_ORDER)


def test_fit_does_not_depend_on_group_order(hs):
    a = fit_multigroup(HS_REF["model"], hs, "school", group_equal=LEVELS["scalar"])
    assert a.groups == ("Grant-White", "Pasteur")  # default: sorted
    _fit_close(a.fit, HS_REF["fits"]["scalar"]["fit"])


def test_partial_scalar_matches_lavaan(hs):
    ref = HS_GROUPS["ML"]["partial_scalar"]
    fit = fit_multigroup(HS_REF["model"], hs, "school", group_equal=LEVELS["scalar"],
                         group_partial=["x3 ~ 1", "x7 ~1"], groups=HS_ORDER)
    _fit_close(fit.fit, ref["fit"])
    _estimates_close(fit.estimates, ref["estimates"], HS_ORDER)
    assert "x3 ~1" not in fit.constrained and "visual =~ x2" in fit.constrained


def test_score_tests_match_lavTestScore(hs):
    ref = HS_GROUPS["ML"]["score_scalar"]
    fit = fit_multigroup(HS_REF["model"], hs, "school", group_equal=LEVELS["scalar"],
                         groups=HS_ORDER)
    sc = score_tests(fit).set_index("parameter")
    names = [p.strip() for p in ref["parameter"]]
    assert sorted(names) == sorted(sc.index)
    assert_allclose(sc.loc[names, "X2"], ref["X2"], rtol=5e-5, atol=1e-6)
    assert_allclose(sc.loc[names, "pvalue"], ref["p.value"], rtol=5e-4, atol=1e-7)
    assert sc.index[0] == "x3 ~1"  # the largest, as lavaan


@pytest.mark.parametrize("name, kw", [("free", {}),
                                      ("regressions", {"group_equal": ["regressions"]}),
                                      ("one_path", {"equal": ["WIL ~ HAB"]})])
def test_path_model_by_gender_matches_lavaan(composites, name, kw):
    ref = PATH_REF["ML"][name]
    fit = fit_multigroup(PATH_REF["model"], composites, "gender", groups=[1, 2, 3], **kw)
    assert fit.converged
    _fit_close(fit.fit, ref["fit"])
    _estimates_close(fit.estimates, ref["estimates"], [1, 2, 3])


def test_path_difference_matches_lavTestLRT(composites):
    free = fit_multigroup(PATH_REF["model"], composites, "gender")
    eq = fit_multigroup(PATH_REF["model"], composites, "gender", group_equal=["regressions"])
    lrt = PATH_REF["ML"]["lrt_regressions"]
    assert_allclose(eq.fit["chisq"] - free.fit["chisq"], lrt["Chisq diff"][1], rtol=1e-6)
    assert eq.fit["df"] - free.fit["df"] == lrt["Df diff"][1]


def test_formulas():
    # lavaan: RMSEA of a two-group model is sqrt(2) times the one-group formula
    assert_allclose(rmsea_multigroup(115.851344, 48, 301, 2), 0.096915, rtol=1e-5)
    assert srmr_multigroup([0.1, 0.2], [100, 300]) == pytest.approx(0.175)
    assert parse_parameter("x3 ~ 1") == ("x3", "~1", "")
    assert parse_parameter("b ~~ a") == ("a", "~~", "b")


def test_bad_input(hs):
    with pytest.raises(InputError, match="group.equal"):
        fit_multigroup(HS_REF["model"], hs, "school", group_equal=["loading"])
    with pytest.raises(InputError, match="not in the data"):
        fit_multigroup(HS_REF["model"], hs, "sex")
    with pytest.raises(InputError, match="not a free parameter"):
        fit_multigroup(HS_REF["model"], hs, "school", equal=["visual =~ x4"])
    with pytest.raises(InputError, match="estimator"):
        fit_multigroup(HS_REF["model"], hs, "school", estimator="WLS")
    with pytest.raises(InputError, match="too few"):  # 4 Grant-White rows, 9 variables
        fit_multigroup(HS_REF["model"], hs.iloc[:160], "school")


ROBUST_KEYS = ("chisq.scaled", "chisq.scaling.factor", "baseline.chisq.scaled",
               "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "rmsea.scaled",
               "cfi.robust", "tli.robust", "rmsea.robust")


def _robust_close(ours: dict, ref: dict):
    # scaling factors are traces at the estimates: lavaan's optimiser tolerance (1e-4 in
    # the estimates) moves them by about 1e-6 relative
    for k in ROBUST_KEYS:
        assert_allclose(ours[k], ref[k], rtol=1e-5, atol=1e-7, err_msg=k)


@pytest.mark.parametrize("estimator", ["MLM", "MLR"])
@pytest.mark.parametrize("level", list(LEVELS))
def test_robust_invariance_matches_lavaan(hs, level, estimator):
    ref = HS_GROUPS[estimator][level]
    fit = fit_multigroup(HS_REF["model"], hs, "school", group_equal=LEVELS[level],
                         groups=HS_ORDER, estimator=estimator)
    _fit_close(fit.fit, ref["fit"])
    _robust_close(fit.fit, ref["fit"])
    _estimates_close(fit.estimates, ref["estimates"], HS_ORDER)


@pytest.mark.parametrize("estimator", ["MLM", "MLR"])
@pytest.mark.parametrize("name, kw", [("free", {}),
                                      ("regressions", {"group_equal": ["regressions"]})])
def test_robust_path_model_matches_lavaan(composites, estimator, name, kw):
    ref = PATH_REF[estimator][name]
    fit = fit_multigroup(PATH_REF["model"], composites, "gender", groups=[1, 2, 3],
                         estimator=estimator, **kw)
    _robust_close(fit.fit, ref["fit"])
    _estimates_close(fit.estimates, ref["estimates"], [1, 2, 3])


@pytest.mark.parametrize("estimator", ["MLM", "MLR"])
def test_scaled_difference_matches_lavTestLRT(hs, estimator):
    fits = [fit_multigroup(HS_REF["model"], hs, "school", group_equal=LEVELS[lv],
                           groups=HS_ORDER, estimator=estimator) for lv in ("configural", "metric")]
    c, m = (f.fit for f in fits)
    t, df, _, p = satorra_bentler_2001(m["chisq"], m["df"], m["chisq.scaling.factor"],
                                       c["chisq"], c["df"], c["chisq.scaling.factor"])
    lrt = HS_GROUPS[estimator]["lrt_metric"]
    assert_allclose(t, lrt["Chisq diff"][1], rtol=1e-5)
    assert df == lrt["Df diff"][1]
    assert_allclose(p, lrt["Pr(>Chisq)"][1], rtol=1e-4)


FIML_REF = json.loads((FIX / "multigroup" / "holzinger_swineford_fiml_groups.json").read_text())


@pytest.mark.parametrize("level", ["configural", "metric", "scalar"])
def test_fiml_invariance_matches_lavaan(level):
    # lavaan cfa(..., group = "school", missing = "ml"): EM saturated moments per group,
    # observed-information SEs; SRMR is printed to 6 digits by lavaan's EM (tol 1e-5)
    data = pd.read_csv(FIX / "multigroup" / "holzinger_swineford_school_missing.csv")
    ref = FIML_REF[level]
    fit = fit_multigroup(FIML_REF["model"], data, "school", group_equal=LEVELS[level],
                         groups=HS_ORDER, missing="fiml")
    assert fit.converged and fit.nobs == (156, 145)
    for k in FIT_KEYS + ("unrestricted.logl",):
        assert_allclose(fit.fit[k], ref["fit"][k], rtol=1e-5 if k == "srmr" else 1e-6,
                        atol=1e-6, err_msg=k)
    _estimates_close(fit.estimates, ref["estimates"], HS_ORDER)
    with pytest.raises(InputError, match="MLM"):  # MLR with FIML: test_multigroup_mlr_fiml.py
        fit_multigroup(FIML_REF["model"], data, "school", missing="fiml", estimator="MLM")
