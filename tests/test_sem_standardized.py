"""Delta-method SEs of std.all against lavaan 0.6-14's ``standardizedSolution()``.

Reference: tests/fixtures/standardized/standardized.json, made by make_standardized.R.

Tolerance: rtol 1e-4 (atol 1e-6). The estimates themselves differ from lavaan's by up
to ~1e-5 relative (lavaan's nlminb stops at its relative convergence tolerance, ours is
polished further; see tests/test_sem_lavaan_reference.py), and std.all and its SE are
smooth functions of them; our central-difference Jacobian is exact to ~1e-10 relative
(:func:`adoption.sem.standardized.numerical_jacobian`), lavaan's complex-step one to
rounding. Rows whose SE lavaan sets to 0 (below eps^(1/4)) must be 0 here too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.sem.engine import fit_model
from adoption.sem.standardized import numerical_jacobian, standardized_columns
from adoption.vocabulary import STD_ALL_COLUMNS
from paperlike import load_composite_reference

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "standardized" / "standardized.json").read_text())["cases"]
RTOL, ATOL = 1e-4, 1e-6
_fits: dict = {}


def _data(name: str) -> pd.DataFrame:
    if name.startswith("composite"):
        return load_composite_reference()[1]
    return pd.read_csv(FIX.parent.parent / REF[name]["data"])


def _fit(name):
    if name not in _fits:
        case = REF[name]
        _fits[name] = fit_model(case["model"], _data(name), estimator=case["estimator"],
                                missing=case["missing"])
    return _fits[name]


def _merged(name) -> pd.DataFrame:
    ours = _fit(name).estimates.copy()
    ours["rhs"] = ours["rhs"].fillna("")
    ref = pd.DataFrame(REF[name]["solution"])
    ref["rhs"] = ref["rhs"].fillna("")
    # lavaan's :=, rhs is the expression with spaces removed
    ours.loc[ours["op"] == ":=", "rhs"] = ours.loc[ours["op"] == ":=", "rhs"].str.replace(" ", "")
    ref.loc[ref["op"] == ":=", "rhs"] = ref.loc[ref["op"] == ":=", "rhs"].str.replace(" ", "")
    ref = ref.rename(columns={c: f"ref.{c}" for c in ref.columns if c not in ("lhs", "op", "rhs")})
    merged = ref.merge(ours, on=["lhs", "op", "rhs"], how="left", indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both",
                                                          ["lhs", "op", "rhs"]]
    return merged


@pytest.mark.parametrize("name", sorted(REF))
def test_std_all_se_and_ci_match_lavaan(name):
    m = _merged(name)
    assert_allclose(m["std.all"], m["ref.est.std"], rtol=RTOL, atol=ATOL)
    assert_allclose(m["std.all.se"], m["ref.se"], rtol=RTOL, atol=ATOL)
    assert_allclose(m["std.all.ci.lower"], m["ref.ci.lower"], rtol=RTOL, atol=ATOL)
    assert_allclose(m["std.all.ci.upper"], m["ref.ci.upper"], rtol=RTOL, atol=ATOL)
    finite = m["ref.z"].notna()
    assert_allclose(m.loc[finite, "std.all.z"], m.loc[finite, "ref.z"], rtol=RTOL, atol=ATOL)
    assert m.loc[~finite, "std.all.z"].isna().all()


def test_std_all_se_of_a_fixed_marker_loading_is_not_zero():
    """The first loading is fixed at 1 but its std.all is estimated: lavaan gives an SE."""
    est = _fit("hs_ml").estimates
    row = est[(est["lhs"] == "visual") & (est["rhs"] == "x1")].iloc[0]
    assert row["se"] == 0 and row["std.all.se"] > 0.01


def test_columns_follow_the_vocabulary():
    cols = list(_fit("pd_ml").estimates.columns)
    assert cols[-len(STD_ALL_COLUMNS):] == list(STD_ALL_COLUMNS)


def test_jacobian_of_a_ratio_is_exact_to_1e_9():
    f = lambda v: np.array([v[0] / np.sqrt(v[1] * v[2])])  # noqa: E731 - a covariance's std
    x = np.array([0.3, 2.0, 0.5])
    exact = np.array([[1.0, -0.5 * 0.3 / 2.0, -0.5 * 0.3 / 0.5]])
    assert_allclose(numerical_jacobian(f, x), exact, rtol=1e-9)


def test_zero_and_negative_variances_follow_lavaan():
    t = standardized_columns(np.array([1.0, 0.4]), np.array([[1e-9, 0.0], [0.0, 1.0]]),
                             np.diag([0.04, -0.04]))
    assert t["std.all.se"].iat[0] == 0 and np.isnan(t["std.all.z"].iat[0])
    assert np.isnan(t["std.all.se"].iat[1])
