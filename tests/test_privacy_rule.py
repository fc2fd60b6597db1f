"""The one small-cell rule (adoption.privacy), tested by what a reader could work out.

A reader of a table knows the total of each variable, the shown counts and the labels
of the hidden ones ("fewer than k": 1 .. k-1; "suppressed": k or more). The property
tests enumerate every table of counts that matches what is shown and check that each
count under k could still have been at least two values.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from adoption.privacy import (SECONDARY, SHARE_SPAN, SHARE_STEP, SMALL, hidden_cells, marks,
                              suppress_counts, suppress_group_distribution, suppressed_cells)

K = 5
counts_lists = st.lists(st.one_of(st.integers(1, 2 * K), st.integers(1, 60)), min_size=1, max_size=5)


def possible_values(counts, primary, secondary, k=K):
    """Each hidden position -> the values it can take in a table that shows the same."""
    hidden = sorted(primary | secondary)
    total = sum(counts[i] for i in hidden)
    ranges = [range(1, k) if i in primary else range(k, total + 1) for i in hidden]
    seen = {i: set() for i in hidden}
    for vals in itertools.product(*ranges[:-1]):
        last = total - sum(vals)
        if last in ranges[-1]:
            for i, v in zip(hidden, (*vals, last)):
                seen[i].add(v)
    return seen


@settings(max_examples=300, deadline=None)
@given(counts_lists)
def test_no_small_count_is_recovered_from_the_total(counts):
    primary, secondary = suppressed_cells(counts, K)
    assert primary == {i for i, c in enumerate(counts) if c < K}
    if not primary:
        assert not secondary
        return
    hidden = primary | secondary
    if len(hidden) == len(counts):
        return     # everything hidden: the variable's total must not be shown (docstring)
    assert len(hidden) >= 2 and sum(counts[i] for i in hidden) >= K
    seen = possible_values(counts, primary, secondary)
    assert all(len(seen[i]) >= 2 for i in primary), seen
    # the secondary counts are the smallest of the others
    shown = [c for i, c in enumerate(counts) if i not in hidden]
    assert all(counts[i] <= min(shown) for i in secondary)


def test_report_and_dashboard_cases():
    # issue 15: the report hid {0, 1}, the dashboard {0, 1, 2}; 2 + 2 people hidden
    # together would show the pooled answers of 4 people, so the rule hides one more
    assert suppressed_cells([2, 2, 100, 200]) == ({0, 1}, {2})
    assert suppressed_cells([223, 319, 3]) == ({2}, {0})
    # two counts "fewer than 5" summing to 8 are 4 and 4: hidden with the next one
    assert suppressed_cells([4, 4, 100]) == ({0, 1}, {2})
    assert marks([20, 17, 3]) == ["", SECONDARY, SMALL]


def test_marks_a_run_wrote_are_used_as_they_are():
    rows = [{"count": 20, "suppressed": ""}, {"count": None, "suppressed": SECONDARY},
            {"count": None, "suppressed": SMALL}]
    assert hidden_cells(rows, "count") == ({2}, {1})
    assert hidden_cells([{"count": 20}, {"count": 17}, {"count": 3}], "count") == ({2}, {1})


def test_suppress_counts_per_variable():
    t = pd.DataFrame({"variable": ["a", "a", "a", "b", "b"], "count": [20, 17, 3, 30, 10],
                      "share": [.5, .425, .075, .75, .25]})
    s = suppress_counts(t, "variable")
    assert s["suppressed"].tolist() == ["", SECONDARY, SMALL, "", ""]
    assert s["count"].isna().tolist() == [False, True, True, False, False]
    assert s["share"].isna().tolist() == [False, True, True, False, False]


group_tables = st.lists(st.integers(1, 400), min_size=1, max_size=4).flatmap(
    lambda sizes: st.tuples(st.just(sizes), st.lists(
        st.lists(st.floats(0, 1), min_size=3, max_size=3), min_size=len(sizes), max_size=len(sizes))))


def _by_group(sizes, weights):
    rows = []
    for g, (n, w) in enumerate(zip(sizes, weights)):
        w = np.asarray(w) + 1e-9
        c = np.floor(n * w / w.sum()).astype(int)
        c[0] += n - c.sum()
        for v, cnt in enumerate(c, start=1):
            rows.append({"group_column": "g", "group_value": str(g), "group_label": f"G{g}",
                         "n_group": n, "item": "X1", "value": v, "count": int(cnt),
                         "share": cnt / n})
    return pd.DataFrame(rows)


@settings(max_examples=150, deadline=None)
@given(group_tables)
def test_per_group_table_shows_no_count_of_a_hidden_group(table):
    sizes, weights = table
    t = _by_group(sizes, weights)
    s = suppress_group_distribution(t, K)
    primary, secondary = suppressed_cells(sizes, K)
    for g, n in enumerate(sizes):
        rows = s[s["group_value"] == str(g)]
        raw = t[t["group_value"] == str(g)]
        if g in primary:
            assert (rows["suppressed"] == SMALL).all()
            assert rows[["n_group", "count", "share"]].isna().all().all()
        elif g in secondary:
            # a large group hidden for a small one's sake stays, without its counts
            assert (rows["suppressed"] == SECONDARY).all()
            assert rows[["n_group", "count"]].isna().all().all()
            if n * SHARE_STEP >= SHARE_SPAN:
                assert rows["share"].notna().all()
            for share in rows["share"].dropna():
                # the counts of a group of n that show this share: never just one
                fits = [c for c in range(n + 1) if round(c / n / SHARE_STEP) * SHARE_STEP == share]
                assert len(fits) >= 2
        else:
            assert (rows["suppressed"] == "").all()
            pd.testing.assert_frame_equal(rows[["n_group", "count"]].astype(float),
                                          raw[["n_group", "count"]].astype(float))
