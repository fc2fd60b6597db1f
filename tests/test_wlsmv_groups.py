"""Multi-group ordinal estimation (WLSMV, ULSMV) and its scaled difference test against
lavaan 0.6-14 (issue 12, groups).

Reference values: tests/fixtures/ordinal/hs_ordinal_groups.json, made by
make_ordinal_groups_reference.R (beside it) from hs_ordinal.csv by school: the
configural and the thresholds + loadings models (``group.equal = c("thresholds",
"loadings")``) under WLSMV and ULSMV and ``lavTestLRT`` between them, unrounded.
lavaan orders the groups as they first appear in the data (Pasteur, Grant-White), and
the first group is the reference (latent means 0, scaling factors 1): the fits here are
given that order.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adoption.errors import InputError
from adoption.ordinal_groups import harmonise_categories, ordinal_invariance
from adoption.sem.wlsmv_groups import fit_ordinal_multigroup
from adoption.sem.wlsmv_lrt import difference_test_ordinal

ORD = Path(__file__).parent / "fixtures" / "ordinal"
REF = json.loads((ORD / "hs_ordinal_groups.json").read_text())
ORDER = ["Pasteur", "Grant-White"]
EQUAL = ("thresholds", "loadings")
# Estimates and SEs: lavaan's optimiser stops about 1e-6 (configural) and 2e-5 (equal
# thresholds and loadings, a flatter optimum) relative short of the exact DWLS minimum
# found here (its threshold x1|t2 = 0.0856 differs by 1.3e-6 absolute), so 1e-4 relative
# as the issue asks, with a 1e-6 absolute floor for estimates near 0.
RTOL, ATOL = 1e-4, 1e-6
# Fit measures and the difference test are smooth functions of the estimates: they agree
# to ~7e-6 relative; 2e-5 leaves room for the optimiser's stop. p-values far in the tail
# (1.4e-9 under ULSMV) move by a larger relative amount: an absolute 1e-12 floor.
FIT_RTOL = 2e-5


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(ORD / "hs_ordinal.csv")


@pytest.fixture(scope="module")
def fits(hs):
    out = {}
    for est in ("WLSMV", "ULSMV"):
        for name, ge in (("configural", ()), ("thresholds_loadings", EQUAL)):
            out[est, name] = fit_ordinal_multigroup(REF["model"], hs, "school", group_equal=ge,
                                                    groups=ORDER, estimator=est)
    return out


def _ref(est, name):
    return REF[name] if est == "WLSMV" else REF["ulsmv_lrt"][name]


@pytest.mark.parametrize("name", ["configural", "thresholds_loadings"])
def test_estimates_ses_and_std_all_equal_lavaan(fits, name):
    fit = fits["WLSMV", name]
    assert fit.converged and list(fit.nobs) == REF[name]["nobs"]
    mine = fit.estimates.set_index(["lhs", "op", "rhs", "group"])
    ref = pd.DataFrame(REF[name]["estimates"])
    assert len(mine) == len(ref)                  # every lavaan row, no more
    got = mine.loc[list(ref[["lhs", "op", "rhs", "group"]].itertuples(index=False, name=None))]
    for col in ("est", "se", "std.all"):
        np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float),
                                   rtol=RTOL, atol=ATOL, err_msg=col)
    free = ref["se"].to_numpy(float) > 0
    np.testing.assert_allclose(got["z"].to_numpy(float)[free], ref["z"].to_numpy(float)[free],
                               rtol=RTOL)


@pytest.mark.parametrize("est", ["WLSMV", "ULSMV"])
@pytest.mark.parametrize("name", ["configural", "thresholds_loadings"])
def test_fit_measures_equal_lavaan(fits, est, name):
    got, ref = fits[est, name].fit, _ref(est, name)["fit"]
    for k, v in ref.items():
        if v is None:   # lavaan: NA (robust indices once thresholds are equal; ULSMV p)
            assert math.isnan(got[k]), k
        else:
            assert got[k] == pytest.approx(v, rel=FIT_RTOL, abs=1e-12), k


def test_robust_indices_only_without_equality_constraints(fits):
    assert not math.isnan(fits["WLSMV", "configural"].fit["cfi.robust"])
    assert math.isnan(fits["WLSMV", "thresholds_loadings"].fit["cfi.robust"])


@pytest.mark.parametrize("est,key", [("WLSMV", "lrt"), ("ULSMV", "ulsmv_lrt")])
def test_scaled_shifted_difference_test_equals_lavtestlrt(fits, est, key):
    ref = REF[key]
    d = difference_test_ordinal(fits[est, "thresholds_loadings"], fits[est, "configural"])
    assert d["method"] == "satorra.2000"
    assert d["df.diff"] == ref["df_diff"]
    assert d["chisq.diff"] == pytest.approx(ref["chisq_diff"], rel=FIT_RTOL)
    assert d["pvalue"] == pytest.approx(ref["pvalue"], rel=FIT_RTOL * 10)  # steep tail


def test_intercepts_and_residuals_add_no_constraint_under_delta(hs, fits):
    # lavaan: the same npar, df and chi-square with "intercepts" and "residuals" added
    f = fit_ordinal_multigroup(REF["model"], hs, "school", groups=ORDER,
                               group_equal=EQUAL + ("intercepts", "residuals"))
    ref = REF["all_equal"]
    assert (f.fit["npar"], f.fit["df"]) == (ref["npar"], ref["df"])
    assert f.fit["chisq"] == pytest.approx(ref["chisq"], rel=FIT_RTOL)


def test_categories_differing_between_groups_are_refused_by_the_fit(hs):
    bad = hs.copy()
    bad.loc[(bad["school"] == "Pasteur") & (bad["x1"] == 4), "x1"] = 3
    with pytest.raises(InputError, match="x1.*other answer categories"):
        fit_ordinal_multigroup(REF["model"], bad, "school", groups=ORDER)


def test_group_equal_keywords_are_checked_as_for_continuous_fits(hs):
    # One check (sem.groupequal.check_group_equal) for both fits: a keyword lavaan has
    # but this engine refuses gets its reason, an unknown one the list to choose from.
    with pytest.raises(InputError, match="composite.loadings.*composites"):
        fit_ordinal_multigroup(REF["model"], hs, "school", group_equal=("composite.loadings",))
    with pytest.raises(InputError, match="Unknown group.equal keyword.*use thresholds"):
        fit_ordinal_multigroup(REF["model"], hs, "school", group_equal=("loading",))


def test_empty_category_is_merged_in_every_group_and_said():
    d = pd.DataFrame({"g": ["a"] * 6 + ["b"] * 6,
                      "y": [1, 2, 3, 4, 4, 2, 1, 2, 3, 3, 2, 1],
                      "z": [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2]})
    out, notes = harmonise_categories(d, ["y", "z"], "g", label=lambda v: f"group {v}")
    assert sorted(out["y"].unique()) == [1, 2, 3]          # 4 merged into 3, in a and b
    assert out.loc[d["y"] == 4, "y"].eq(3).all() and out["z"].equals(d["z"])
    assert len(notes) == 1 and "Item y" in notes[0] and "group b" in notes[0] \
        and "category 4 merged with 3" in notes[0]
    lowest = d.assign(y=[1, 2, 3, 2, 3, 2, 2, 2, 3, 3, 2, 2])   # 1 only in group a
    out, notes = harmonise_categories(lowest, ["y"], "g")
    assert sorted(out["y"].unique()) == [2, 3] and "category 1 merged with 2" in notes[0]


def test_an_item_left_with_one_category_cannot_be_compared():
    d = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4, "y": [3, 3, 3, 3, 1, 2, 3, 2]})
    with pytest.raises(InputError, match="Item y.*single category"):
        harmonise_categories(d, ["y"], "g")


def test_invariance_sequence_merges_then_fits_as_lavaan_on_merged_data(hs):
    # Pasteur never answers x1 = 4: the run merges 4 into 3 in both schools, and then
    # equals lavaan fitted to the merged data (items with 3 and 4 categories)
    bad = hs.copy()
    bad.loc[(bad["school"] == "Pasteur") & (bad["x1"] == 4), "x1"] = 3
    entries, highest, partial, warnings = ordinal_invariance(
        bad, REF["model"], [f"x{i}" for i in range(1, 10)], "school", ORDER, "WLSMV",
        "listwise")
    ref = REF["merged_x1"]
    assert [e["level"] for e in entries] == ["configural", "scalar"]
    assert entries[1]["group.equal"] == ["thresholds", "loadings"]
    assert any("Item x1: no answer 4 in group Pasteur" in w for w in warnings)
    for e, name in zip(entries, ("configural", "thresholds_loadings")):
        for k, v in ref[name]["fit"].items():
            if v is not None:
                assert e["fit"][k] == pytest.approx(v, rel=FIT_RTOL, abs=1e-12), (name, k)
    c = entries[1]["comparison"]
    assert c["method"] == "satorra.2000" and c["indices"] == "scaled"
    assert c["df.diff"] == ref["df_diff"]
    assert c["chisq.diff"] == pytest.approx(ref["chisq_diff"], rel=FIT_RTOL)
    assert partial == ()
    assert highest == ("scalar" if c["supported"] and entries[0]["supported"] else
                       "configural" if entries[0]["supported"] else None)


def test_some_items_continuous_is_said_not_fitted(hs):
    entries, highest, partial, warnings = ordinal_invariance(
        hs, REF["model"], [f"x{i}" for i in range(1, 10)], "school", ORDER, "WLSMV",
        "listwise", ordered=["x1", "x2", "x3"])
    assert entries == () and highest is None
    assert "x4, x5, x6, x7, x8, x9 are continuous" in warnings[0]
