"""Published-model features of the spec (issue 18): a single-item construct, a residual
covariance between items and a second-order construct, through the measurement and the
structural stages, against lavaan.

Reference: tests/fixtures/utaut/utaut_reference.json, made by make_utaut.R (lavaan 0.6-14)
on simulated UTAUT-like data (seed 18, n = 400): ``cfa(meas)``, ``sem(meas + 'INT ~ PERF +
SI')`` and the composite path model on the row means.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adoption.clean import CleanedResponses, Flow
from adoption.errors import InputError
from adoption.measurement import measure
from adoption.spec import parse_spec
from adoption.structural.stage import fit_structural

FIX = Path(__file__).parent / "fixtures" / "utaut"
REF = json.loads((FIX / "utaut_reference.json").read_text())

RAW = {"title": "UTAUT-like",
       "constructs": {"PE": ["pe1", "pe2", "pe3"], "EE": ["ee1", "ee2", "ee3"],
                      "FC": ["fc1", "fc2", "fc3"], "SI": ["si1", "si2", "si3", "si4"],
                      "INT": ["int1"]},
       "higher_order": {"PERF": ["PE", "EE", "FC"]},
       "residual_covariances": ["si3 ~~ si4"],
       "structural": "INT ~ PERF + SI",
       "hypotheses": {"H1": "PERF -> INT (+)", "H2": "SI -> INT (+)"}}


def survey(**over):
    return parse_spec({**RAW, **over}, path=FIX / "utaut.yaml")


@pytest.fixture(scope="module")
def data():
    d = pd.read_csv(FIX / "utaut.csv")
    d.index = pd.RangeIndex(1, len(d) + 1, name="row")
    return d


def _compare(est: pd.DataFrame, ref: dict) -> None:
    ref = pd.DataFrame(ref).set_index(["lhs", "op", "rhs"])
    est = est[est["op"].isin(["=~", "~", "~~"])].set_index(["lhs", "op", "rhs"])
    assert set(est.index) == set(ref.index)
    est = est.loc[ref.index]
    # iterative ML fits of the same model on the same data: both optimisers stop near
    # 1e-6 relative; the fixed parameters (se 0 in R, NaN or 0 here) are compared on est
    np.testing.assert_allclose(est["est"], ref["est"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(est["se"].fillna(0), ref["se"], rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(est["std.all"], ref["std.all"], rtol=1e-4, atol=1e-5)


def test_measurement_syntax_writes_single_items_second_order_and_residual_covariances():
    syntax = survey().measurement_syntax()
    assert "INT =~ 1*int1\nint1 ~~ 0*int1" in syntax
    assert "PERF =~ PE + EE + FC" in syntax
    assert syntax.endswith("si3 ~~ si4")


def test_measurement_stage_equals_lavaan(data):
    s = survey()
    res = measure(data, {n: list(c.items) for n, c in s.constructs.items()},
                  syntax=s.measurement_syntax())
    _compare(res.cfa_estimates, REF["cfa"]["estimates"])
    for m, v in REF["cfa"]["fit"].items():
        np.testing.assert_allclose(res.cfa_fit[m], v, rtol=1e-4, atol=1e-5, err_msg=m)
    rel = res.reliability.set_index("construct")
    # one item: no alpha, omega, CR or AVE, said in a warning (the report shows '–')
    assert rel.loc["INT", ["alpha", "omega", "cr", "ave"]].isna().all()
    assert any("INT is a single item" in w for w in res.warnings)
    # omega and AVE of a first-order construct under PERF use its total variance, as
    # semTools 0.5-6 does (closed forms of the fitted estimates: the fit's 1e-4)
    for c in ["PE", "EE", "FC", "SI"]:
        np.testing.assert_allclose(rel.loc[c, "omega"], REF["cfa"]["omega"][c], rtol=1e-4)
        np.testing.assert_allclose(rel.loc[c, "ave"], REF["cfa"]["ave"][c], rtol=1e-4)
    assert "PERF =~ PE + EE + FC" in res.to_dict()["cfa"]["model"]


def test_structural_stage_equals_lavaan(data):
    s = survey()
    cleaned = CleanedResponses(data=data, items=tuple(s.items), exclusions=pd.DataFrame(),
                               flow=Flow(len(data), len(data), ()), log=(),
                               screening_scores=pd.DataFrame())
    res = fit_structural(cleaned, s, bootstrap=0)
    _compare(res.latent.model_fit.estimates, REF["sem"]["estimates"])
    for m, v in REF["sem"]["fit"].items():
        np.testing.assert_allclose(res.latent.model_fit.fit[m], v, rtol=1e-4, atol=1e-5, err_msg=m)
    _compare(res.composite.model_fit.estimates, REF["composite"]["estimates"])
    assert list(res.hypotheses["supported"]) == [True, True]


@pytest.mark.parametrize("over, message", [
    ({"higher_order": {"PERF": ["PE"]}}, "needs at least 2"),
    ({"higher_order": {"PERF": ["PE", "XX"]}}, "'XX', which is not a construct"),
    ({"higher_order": {"PE": ["EE", "FC"]}}, "must be new"),
    ({"higher_order": {"A": ["PE", "EE"], "B": ["EE", "FC"]}}, "listed under both"),
    ({"residual_covariances": ["si3 ~ si4"]}, "should read like"),
    ({"residual_covariances": ["si3 ~~ zz"]}, "'zz' is not an item"),
    ({"residual_covariances": ["si3 ~~ int1"]}, "single-item construct"),
])
def test_spec_refuses_bad_published_model_keys(over, message):
    with pytest.raises(InputError, match=message):
        survey(**over)
