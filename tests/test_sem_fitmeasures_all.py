"""Every lavaan ``fitMeasures()`` name, checked against lavaan 0.6-14.

Reference values: ``tests/fixtures/fitmeasures/fitmeasures.json``, made by
``tests/fixtures/fitmeasures/make_fitmeasures.R`` (the same folder): for each case the
model, the data file (under ``tests/fixtures/``), the estimator, ``missing`` and
``group``, and ``fitMeasures(fit)`` with every name lavaan returns; plus lavaan's index
functions (``lav_fit_cfi``, ``lav_fit_nfi``, ...) evaluated on edge inputs, where its NA
rules apply.

Cases: Holzinger-Swineford 3-factor CFA (ML, MLM, MLR; MLR and ML with FIML on the copy
with 10 % holes), a saturated one-factor model (MLR, df = 0), an HS MIMIC model with fixed-x predictors (MLR; ML with FIML),
Political Democracy (ML), HS with an equality label (MLR), psych's bfi (15 items, 3 factors, MLR with
FIML, 2800 rows) and the HS CFA by school (configural: ML, MLR, and ML with FIML on
the copy with holes; metric: MLR). The label and metric cases check lavaan's divisor of
``scaling.factor.h0`` (``nx.free``: equality-constrained copies counted).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.sem import fitdict as fd
from adoption.sem import fitmeasures as fm
from adoption.sem.engine import fit_model
from adoption.sem.multigroup import fit_multigroup

FIXTURES = Path(__file__).parent / "fixtures"
REF = json.loads((FIXTURES / "fitmeasures" / "fitmeasures.json").read_text())
CASES = REF["cases"]

# Closed forms given lavaan's own inputs (chisq, df, scaling factors, logl, GFI, ...):
# the same arithmetic, so only the last digits of the JSON (15 significant) and the
# root finding of the RMSEA interval differ (ours to 1e-12; R's uniroot stops at
# |d lambda| < 1.2e-4, up to 3e-7 relative in the bounds seen here).
CLOSED_RTOL = 1e-6
# End to end (our fit against lavaan's): the iterative fits agree with lavaan to about
# 1e-6 relative in chisq and the estimates, so the project's fit-measure tolerance
# elsewhere (tests/test_sem_lavaan_reference.py, tests/test_sem_fiml.py,
# tests/test_multigroup.py) applies: rtol 1e-5. Tail p-values (1e-8 .. 1e-3) move by
# their relative error times about chisq/2 and are compared with an absolute 1e-8 as
# well (no printed digit depends on it).
FIT_RTOL, FIT_ATOL = 1e-5, 1e-8

# the residual family and GFI are functions of the matrices, not of the statistics
_MATRIX_NAMES = set(fd.RESIDUAL_NAMES) | {"srmr", "gfi"}
_FIML_ROBUST = {"cfi.robust", "tli.robust", "nnfi.robust", "rni.robust", "rmsea.robust",
                "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust",
                "rmsea.notclose.pvalue.robust"}


@lru_cache(maxsize=None)
def _fitted(name: str) -> dict:
    case = CASES[name]
    data = pd.read_csv(FIXTURES / case["data"])
    missing = "fiml" if case["missing"] == "ml" else "listwise"
    if case["group"] is not None:
        fit = fit_multigroup(case["model"], data, case["group"], estimator=case["estimator"],
                             missing=missing, group_equal=np.atleast_1d(case["group.equal"]))
    else:
        fit = fit_model(case["model"], data, estimator=case["estimator"], missing=missing)
    assert fit.converged
    return fit.fit


@pytest.mark.parametrize("name", list(CASES))
def test_every_lavaan_name_is_returned_in_lavaan_order(name):
    assert list(_fitted(name)) == list(CASES[name]["fit"])


@pytest.mark.parametrize("name", list(CASES))
def test_every_fit_measure_equals_lavaan(name):
    ours = _fitted(name)
    for measure, value in CASES[name]["fit"].items():
        if value is None:  # lavaan's NA
            assert math.isnan(ours[measure]), measure
        elif measure in ("cn_05", "cn_01") and CASES[name]["fit"]["chisq"] < 1e-8:
            # saturated model: lavaan's rule gives NA for chisq = 0 (ours is exactly 0);
            # its 1 comes from a chisq of 4e-13, rounding noise
            assert math.isnan(ours[measure]), measure
        else:
            # at a saturated model lavaan's residuals are its optimiser's noise (~2e-8)
            atol = 5e-8 if measure in _MATRIX_NAMES else FIT_ATOL
            assert_allclose(ours[measure], value, rtol=FIT_RTOL, atol=atol, err_msg=measure)


def _from_lavaan_inputs(case: dict) -> dict:
    """fitdict.fit_measures fed with lavaan's own statistics of the case."""
    f = case["fit"]
    scaled = robust = None
    if "chisq.scaled" in f:
        c = f["chisq.scaling.factor"] if f["chisq.scaling.factor"] is not None else math.nan
        scaled = fd.ScaledTest(c, f["baseline.chisq.scaling.factor"],
                               f.get("scaling.factor.h1"), f.get("scaling.factor.h0"))
        if case["missing"] != "ml":
            robust = fd.RobustBasis(f["chisq"], c,
                                    f["baseline.chisq"], f["baseline.chisq.scaling.factor"])
    n_groups = case["ngroups"]
    return fd.fit_measures(
        npar=f["npar"], n=f["ntotal"], chisq=f["chisq"], df=f["df"],
        chisq_b=f["baseline.chisq"], df_b=f["baseline.df"], logl=f["logl"],
        logl_h1=f["unrestricted.logl"], residuals={k: f[k] for k in fd.RESIDUAL_NAMES},
        gfi=f["gfi"], nel=fm.n_moments(case["nvar"], case["meanstructure"], n_groups),
        n_groups=n_groups, scaled=scaled, robust=robust)


@pytest.mark.parametrize("name", list(CASES))
def test_closed_forms_equal_lavaan_given_its_statistics(name):
    case = CASES[name]
    ours = _from_lavaan_inputs(case)
    skip = _MATRIX_NAMES | (_FIML_ROBUST if case["missing"] == "ml" else set())
    checked = 0
    for measure, value in case["fit"].items():
        if measure in skip or value is None:
            continue
        assert_allclose(ours[measure], value, rtol=CLOSED_RTOL, atol=1e-14, err_msg=measure)
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize("edge", REF["edges"], ids=lambda e: f"X2={e['X2']},df={e['df']},"
                         f"X2b={e['X2.null']},dfb={e['df.null']},c={e['c.hat']}")
def test_incremental_indices_follow_lavaans_na_rules(edge):
    x2, df, x2b, dfb = edge["X2"], edge["df"], edge["X2.null"], edge["df.null"]
    c, cb = edge["c.hat"], edge["c.hat.null"]
    ours = {"cfi": fm.cfi(x2, df, x2b, dfb, c, cb), "tli": fm.tli(x2, df, x2b, dfb, c, cb),
            "nnfi": fm.tli(x2, df, x2b, dfb, c, cb), "rni": fm.rni(x2, df, x2b, dfb, c, cb),
            "nfi": fm.nfi(x2, df, x2b, dfb), "rfi": fm.rfi(x2, df, x2b, dfb),
            "pnfi": fm.pnfi(x2, df, x2b, dfb), "ifi": fm.ifi(x2, df, x2b, dfb),
            "cn_05": fm.cn(x2, df, 301, 0.05), "mfi": fm.mfi(x2, df, 301),
            "rmsea": fm.rmsea(x2, df, 301, c=c, n_groups=2),
            "rmsea.ci": fm.rmsea_ci(x2, df, 301, 0.9, c=c, n_groups=2),
            "rmsea.pvalue": fm.rmsea_pvalue(x2, df, 301, 0.05, c=c, n_groups=2),
            "rmsea.notclose.pvalue": fm.rmsea_notclose_pvalue(x2, df, 301, 0.08, c=c,
                                                              n_groups=2),
            "agfi": fm.agfi(0.9, 45, df), "pgfi": fm.pgfi(0.9, 45, df)}
    for name, value in ours.items():
        expected = edge[name]
        if expected is None:  # lavaan's NA
            assert math.isnan(value), name
        else:
            # exact arithmetic, except the interval: R's uniroot stops at
            # |d lambda| < eps^0.25 = 1.2e-4 (bound error <= 1.2e-4 / (2 lambda)); seen
            # up to 3e-7 relative here, so CLOSED_RTOL
            rtol = CLOSED_RTOL if name == "rmsea.ci" else 1e-9
            assert_allclose(value, expected, rtol=rtol, atol=1e-14, err_msg=name)


def test_nfi_is_nan_when_the_model_has_more_df_than_the_baseline():
    # issue 19: lavaan gives NA; the project used to return (chisq_b - chisq) / chisq_b
    assert math.isnan(fm.nfi(10.0, 30, 100.0, 20))


def test_residual_indices_without_means_equal_their_nomean_versions():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 4))
    s = np.cov(a, rowvar=False, bias=True)
    sigma = np.diag(np.diag(s))
    res = fm.residual_measures(s, sigma)
    for k in ("rmr", "srmr_bentler", "crmr", "srmr_mplus"):
        assert res[k] == res[k + "_nomean"]
    with_means = fm.residual_measures(s, sigma, a.mean(axis=0), a.mean(axis=0) + 0.1)
    assert with_means["rmr_nomean"] == res["rmr"]
    assert with_means["rmr"] != res["rmr"]
