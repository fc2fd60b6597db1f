"""Ordinal estimation (polychorics, WLSMV, ULSMV) against lavaan 0.6-14.

Reference values: tests/fixtures/ordinal/ (see its README; made by
make_ordinal_reference.R with lavaan 0.6-14).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from adoption.errors import InputError
from adoption.sem.ordinal_reliability import omega_from_fit, ordinal_alpha
from adoption.sem.polychoric import bvn_cdf, ordinal_statistics, polychoric, thresholds
from adoption.sem.wlsmv import fit_ordinal
from paperlike import load_recoded_items

ORD = Path(__file__).parent / "fixtures" / "ordinal"
HS = json.loads((ORD / "holzinger_swineford_ordinal.json").read_text())
PL = json.loads((ORD / "paperlike_ordinal.json").read_text())

# Thresholds are closed form (qnorm of proportions) and the polychorics a 1-D ML
# maximum that lavaan's optimiser finds to ~1e-8: 1e-6 absolute.
CLOSED_FORM = 1e-6
# Iterative fits: both optima are found to ~1e-7 or better; lavaan's theta-parameterization
# run stops ~1e-5 short (its thresholds differ from the exact optimum by 1.3e-5 relative),
# so 1e-4 relative as the issue asks.
RTOL = 1e-4
# The R script rounded fit measures to 8 decimals.
FIT_ATOL = 5e-9 + 1e-12


@pytest.fixture(scope="module")
def hs_data():
    return pd.read_csv(ORD / "hs_ordinal.csv")


@pytest.fixture(scope="module")
def pl_data():
    return load_recoded_items()


def _items(ref):
    return list(dict.fromkeys(k.split("|")[0] for k in ref["thresholds"]))


@pytest.mark.parametrize("ref,loader", [(HS, "hs_data"), (PL, "pl_data")])
def test_thresholds_and_polychorics_equal_lavcor(ref, loader, request):
    data = request.getfixturevalue(loader)[_items(ref)]
    th = thresholds(data)
    assert list(th) == list(ref["thresholds"])
    np.testing.assert_allclose(list(th.values()), list(ref["thresholds"].values()),
                               rtol=0, atol=CLOSED_FORM)
    np.testing.assert_allclose(polychoric(data).to_numpy(), np.array(ref["polychoric"]),
                               rtol=0, atol=CLOSED_FORM)


def test_bvn_cdf_equals_scipy():
    rng = np.random.default_rng(1)
    h, k = rng.normal(size=20), rng.normal(size=20)
    for r in (-0.95, -0.5, 0.0, 0.3, 0.8, 0.97):
        mine = bvn_cdf(h, k, np.full(20, r))
        mvn = stats.multivariate_normal([0, 0], [[1, r], [r, 1]])
        ref = [mvn.cdf([a, b]) for a, b in zip(h, k)]
        np.testing.assert_allclose(mine, ref, atol=1e-7)  # scipy's own accuracy ~1e-8


def _compare(fit, ref):
    est = fit.estimates.set_index(["lhs", "op", "rhs"])
    n = 0
    for row in ref["estimates"]:
        key = (row["lhs"], row["op"], row["rhs"])
        if row["op"] == "~1":  # lavaan lists the zero intercepts of the delta model
            assert row["est"] == 0
            continue
        if row["op"] == "r2":
            np.testing.assert_allclose(fit.r2[row["lhs"]], row["est"], rtol=RTOL, err_msg=str(key))
            continue
        for col in ("est", "se", "std.all"):
            np.testing.assert_allclose(est.loc[key, col], row[col], rtol=RTOL, atol=1e-10,
                                       err_msg=f"{key} {col}")
        n += 1
    assert n == len(fit.estimates)  # every row of ours is one of lavaan's
    for name, value in ref["fit"].items():
        mine = fit.fit[name]
        if value is None:  # lavaan's NA (ULS has no p-value of the unscaled statistic)
            assert math.isnan(mine), name
            continue
        np.testing.assert_allclose(mine, value, rtol=RTOL, atol=FIT_ATOL, err_msg=name)


@pytest.mark.parametrize("which,kw", [("WLSMV", {}), ("ULSMV", {"estimator": "ULSMV"}),
                                      ("WLSMV_theta", {"parameterization": "theta"})])
def test_hs_cfa_equals_lavaan(hs_data, which, kw):
    fit = fit_ordinal(HS["model"], hs_data, **kw)
    assert fit.converged and fit.nobs == HS[which]["nobs"]
    _compare(fit, HS[which])


def test_paperlike_cfa_equals_lavaan(pl_cfa):
    assert pl_cfa.converged
    _compare(pl_cfa, PL["cfa_WLSMV"])


def test_paperlike_latent_sem_equals_lavaan(pl_data):
    fit = fit_ordinal(PL["measurement"] + "\n" + PL["structural"], pl_data)
    assert fit.converged
    _compare(fit, PL["sem_WLSMV"])


def test_nacov_is_symmetric_and_scaled_by_n(hs_data):
    st = ordinal_statistics(hs_data[[f"x{i}" for i in range(1, 10)]])
    np.testing.assert_allclose(st.nacov, st.nacov.T, atol=1e-12)
    # a threshold's asymptotic variance is p(1-p)/phi(tau)^2 (delta method)
    p1 = stats.norm.cdf(st.thresholds[0])
    np.testing.assert_allclose(st.nacov[0, 0], p1 * (1 - p1) / stats.norm.pdf(st.thresholds[0]) ** 2,
                               rtol=1e-10)


def test_single_category_item_is_refused():
    d = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3], "b": [2] * 6})
    with pytest.raises(InputError, match="'b' has a single observed category"):
        ordinal_statistics(d)


def test_too_many_categories_refused():
    d = pd.DataFrame({"a": list(range(12)) * 2, "b": [1, 2] * 12})
    with pytest.raises(InputError, match="'a' has 12 categories"):
        thresholds(d)


def test_empty_cell_making_polychoric_infinite_is_refused():
    d = pd.DataFrame({"a": [1, 1, 1, 2, 2, 2, 1, 2], "b": [1, 1, 1, 2, 2, 2, 1, 2],
                      "c": [1, 2, 1, 2, 1, 2, 2, 1]})
    with pytest.raises(InputError, match="polychoric correlation of b-a is"):
        polychoric(d)


def test_unknown_estimator_and_no_ordinal_item_refused(hs_data):
    with pytest.raises(InputError, match="Unknown ordinal estimator"):
        fit_ordinal(HS["model"], hs_data, estimator="ML")
    with pytest.raises(InputError, match="None of the model's items"):
        fit_ordinal(HS["model"], hs_data, ordered=["school"])


@pytest.fixture(scope="module")
def pl_cfa(pl_data):
    return fit_ordinal(PL["measurement"], pl_data)


def test_ordinal_alpha_and_categorical_omega_equal_r(pl_data, pl_cfa):
    r = polychoric(pl_data[list(pl_cfa.observed)])
    omega = omega_from_fit(pl_cfa)
    assert set(omega) == set(PL["omega_categorical"])
    for factor, ref in PL["omega_categorical"].items():
        items = list(pl_cfa.estimates.query("op == '=~' and lhs == @factor")["rhs"])
        # alpha is closed form in the polychorics (1e-6 away from lavCor's): 1e-6
        np.testing.assert_allclose(ordinal_alpha(r.loc[items, items].to_numpy()),
                                   PL["ordinal_alpha"][factor], atol=1e-6)
        # omega is a smooth function of the WLSMV estimates (matched to ~1e-6): 1e-5
        np.testing.assert_allclose(omega[factor], ref, rtol=1e-5, err_msg=factor)


CASES = json.loads((ORD / "wlsmv_cases.json").read_text())  # make_wlsmv_cases.R


@pytest.mark.parametrize("case", CASES["cases"],
                         ids=lambda c: f"{c['parameterization']}-std_lv={c['std_lv']}")
def test_residual_covariance_label_regression_std_lv_equal_lavaan(hs_data, case):
    fit = fit_ordinal(CASES["model"], hs_data, parameterization=case["parameterization"],
                      std_lv=case["std_lv"])
    est = fit.estimates.set_index(["lhs", "op", "rhs"])
    for row in case["estimates"]:
        if row["op"] == "~1":
            continue
        key = (row["lhs"], row["op"], row["rhs"])
        for col in ("est", "se", "std.all"):
            np.testing.assert_allclose(est.loc[key, col], row[col], rtol=RTOL, atol=1e-9,
                                       err_msg=f"{key} {col}")
    for name, value in case["fit"].items():
        np.testing.assert_allclose(fit.fit[name], value, rtol=RTOL, atol=1e-10, err_msg=name)


def test_unidentified_model_is_not_fitted_and_says_why(hs_data):
    # a factor with its first loading freed and its variance free: not identified
    fit = fit_ordinal("f =~ NA*x1 + x2 + x3\ng =~ x4 + x5 + x6", hs_data)
    assert not fit.converged
    assert "not identified" in fit.warnings[-1]


def test_fit_reports_every_ordinal_measure(hs_data):
    from adoption.sem.ordinal_fit import ORDINAL_FIT_MEASURES
    fit = fit_ordinal(HS["model"], hs_data)
    assert set(fit.fit) == set(ORDINAL_FIT_MEASURES)
    assert all(np.isfinite(v) for v in fit.fit.values())


def test_pairwise_missing_equals_lavaan(hs_data):
    ref = json.loads((ORD / "pairwise_case.json").read_text())  # make_pairwise_case.R
    d = hs_data.copy()
    r = np.arange(1, len(d) + 1)
    for k in range(1, 10):  # the R script's deletion rule
        d.loc[(r * k) % 17 == 3, f"x{k}"] = np.nan
    with pytest.raises(InputError, match="missing='pairwise'"):
        ordinal_statistics(d[[f"x{k}" for k in range(1, 10)]])
    fit = fit_ordinal(ref["model"], d, missing="pairwise")
    assert fit.nobs == ref["nobs"]
    np.testing.assert_allclose(fit.sample_cov, np.array(ref["polychoric"]), atol=CLOSED_FORM)
    est = fit.estimates.set_index(["lhs", "op", "rhs"])
    for row in ref["estimates"]:
        if row["op"] != "~1":
            key = (row["lhs"], row["op"], row["rhs"])
            np.testing.assert_allclose(est.loc[key, ["est", "se", "std.all"]].to_numpy(float),
                                       [row["est"], row["se"], row["std.all"]], rtol=RTOL,
                                       atol=1e-9, err_msg=str(key))
    for name, value in ref["fit"].items():
        np.testing.assert_allclose(fit.fit[name], value, rtol=RTOL, err_msg=name)
    listwise = fit_ordinal(ref["model"], d)
    assert listwise.nobs < fit.nobs and "deleted (listwise)" in listwise.warnings[0]


def test_defined_indirect_and_total_effects_equal_lavaan(hs_data):
    ref = json.loads((ORD / "defined_case.json").read_text())  # make_defined_case.R
    fit = fit_ordinal(ref["model"], hs_data)
    est = fit.estimates.set_index(["lhs", "op", "rhs"])
    for row in ref["estimates"]:
        if row["op"] != "~1":
            key = (row["lhs"], row["op"], row["rhs"])
            np.testing.assert_allclose(est.loc[key, ["est", "se", "std.all"]].to_numpy(float),
                                       [row["est"], row["se"], row["std.all"]], rtol=RTOL,
                                       atol=1e-9, err_msg=str(key))
    assert list(fit.estimates["op"]).count(":=") == 2


def test_ordered_categorical_follows_category_order_and_text_is_refused():
    labels = ["disagree", "neutral", "agree"]  # alphabetical order would differ
    a = pd.Series([0, 1, 2, 2, 1, 0, 2, 1, 2, 0])
    b = pd.Series([0, 1, 2, 1, 1, 0, 2, 2, 2, 1])
    codes = pd.DataFrame({"a": a, "b": b})
    cat = pd.DataFrame({k: pd.Categorical.from_codes(v, labels, ordered=True) for k, v in codes.items()})
    np.testing.assert_allclose(list(thresholds(cat).values()), list(thresholds(codes).values()))
    with pytest.raises(InputError, match="'a' is not numeric"):
        thresholds(cat.astype(str))


def test_gamma_is_finite_with_an_empty_cell_whose_probability_underflows():
    """A 7-point pair with one answer far off the diagonal (7 against 1) and empty cells
    next to it: an empty cell's probability underflows to 0 when squared, and its 0 count
    once gave 0/0 = NaN in the threshold-correlation block of Gamma, so every WLSMV figure
    of the model was NaN (in an ML run, the sensitivity table's ordinal column was empty).
    The table is made up, shaped like a real UTAUT2 export's pair of 7-point items (n = 216).
    """
    table = {(3, 2): 1, (3, 3): 6, (3, 4): 1, (4, 3): 2, (4, 4): 5, (4, 5): 2, (5, 4): 2,
             (5, 5): 19, (5, 6): 19, (5, 7): 1, (6, 5): 15, (6, 6): 69, (6, 7): 12, (7, 1): 1,
             (7, 5): 3, (7, 6): 9, (7, 7): 49}
    rows = [pair for pair, n in table.items() for _ in range(n)]
    d = pd.DataFrame(rows, columns=["x", "y"])
    d["z"] = np.clip(d["x"] - (np.arange(len(d)) % 3) + 1, 1, 7)
    st = ordinal_statistics(d)
    assert np.isfinite(st.nacov).all()
    assert (np.diag(st.nacov) > 0).all()
