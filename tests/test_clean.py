"""Cleaning and screening: every rule, every row accounted for, every change logged."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adoption.audit import log_frame
from adoption.clean import clean
from adoption.errors import InputError
from adoption.load import LoadedResponses, SourceInfo
from adoption.screening import irv, longstring, mahalanobis
from adoption.spec import parse_spec
from adoption.vocabulary import (
    REASON_ATTENTION,
    REASON_DUPLICATE_ID,
    REASON_IDENTICAL,
    REASON_LISTWISE,
    REASON_LOW_VARIABILITY,
    REASON_NO_ANSWER,
    REASON_OUTLIER,
    REASON_STRAIGHT_LINING,
    REASON_TOO_FAST,
    REASON_TOO_MANY_MISSING,
)

ITEMS = [f"A{i}" for i in range(1, 5)] + [f"B{i}" for i in range(1, 5)]


def make_survey(**over):
    raw = {
        "title": "t",
        "id": "rid",
        "constructs": {"A": {"items": ITEMS[:4], "reverse": ["A4"]}, "B": {"items": ITEMS[4:]}},
        "missing": {"codes": [99, -9], "method": "listwise"},
        "screening": {},
    }
    raw.update(over)
    return parse_spec(raw, path=Path("spec.yaml"))


def make_data(n=200, seed=0):
    """Plausible answers: two correlated factors, 5-point items."""
    rng = np.random.default_rng(seed)
    f = rng.multivariate_normal([0, 0], [[1, .4], [.4, 1]], size=n)
    cols = {}
    for j, item in enumerate(ITEMS):
        latent = f[:, 0 if j < 4 else 1] * (-1 if item == "A4" else 1)
        cols[item] = np.clip(np.round(3 + 0.9 * latent + rng.normal(0, .7, n)), 1, 5)
    df = pd.DataFrame(cols)
    df.insert(0, "rid", [f"r{i:04d}" for i in range(n)])
    df["ATT"] = 4.0
    df["secs"] = rng.uniform(200, 900, n)
    df.index = pd.RangeIndex(1, n + 1, name="row")
    return df


def loaded(df):
    return LoadedResponses(data=df, source=SourceInfo("x.csv", "0" * 64, "csv", len(df)))


def test_flow_adds_up_and_reasons_are_exact():
    df = make_data()
    df.loc[5, ITEMS] = 3.0              # straight-liner
    df.loc[6, "ATT"] = 2.0              # failed attention check
    df.loc[7, "secs"] = 20.0            # too fast
    df.loc[8, ITEMS[:6]] = np.nan       # too many missing (6 of 8)
    df.loc[9, "rid"] = df.loc[10, "rid"]  # duplicate id: row 10 keeps it (first), 9 is first!
    df.loc[11] = df.loc[12]             # identical submission: row 12 repeats row 11
    df.loc[12, "rid"] = "r-new"
    df.loc[13, "A1"] = np.nan           # incomplete -> listwise
    s = make_survey(screening={
        "attention_checks": [{"column": "ATT", "correct": [4]}],
        "longstring_max": 6, "min_seconds": 60, "time_column": "secs",
        "max_missing_share": 0.5})
    c = clean(loaded(df), s)
    f = c.flow
    assert f.rows_in == 200
    assert f.rows_in == f.rows_analysed + sum(n for _, n in f.excluded)
    reasons = dict(zip(c.exclusions["row"], c.exclusions["reason"]))
    planted = {5: REASON_STRAIGHT_LINING, 6: REASON_ATTENTION, 7: REASON_TOO_FAST,
               8: REASON_TOO_MANY_MISSING, 10: REASON_DUPLICATE_ID,
               12: REASON_IDENTICAL, 13: REASON_LISTWISE}
    assert {r: reasons.get(r) for r in planted} == planted
    # With 8 five-point items, two honest respondents can answer identically by chance;
    # every other exclusion must be such a true repeat of an earlier row.
    others = [r for r in reasons if r not in planted]
    for r in others:
        assert reasons[r] == REASON_IDENTICAL
        same = (df.loc[:r - 1, ITEMS + ["ATT"]] == df.loc[r, ITEMS + ["ATT"]]).all(axis=1)
        assert same.any()
    assert set(c.data.index).isdisjoint(reasons)
    assert len(c.data) == 200 - len(planted) - len(others)
    # one log line per excluded row
    log = log_frame(c.log)
    assert sorted(log.loc[log.action == "row excluded", "row"].tolist()) == sorted(reasons)


def test_missing_codes_out_of_range_and_reverse_are_logged():
    df = make_data()
    df.loc[3, "A1"] = 99
    df.loc[4, "B2"] = -9
    df.loc[5, "B3"] = 7      # out of range
    df.loc[6, "B4"] = 2.5    # not a scale point
    original_a4 = df["A4"].copy()
    c = clean(loaded(df), make_survey(missing={"codes": [99, -9], "method": "fiml"}))
    log = log_frame(c.log)
    codes = log[log.action == "missing code to missing"]
    assert set(codes.column) == {"A1", "B2"}
    oor = log[log.action == "out of range to missing"]
    assert set(zip(oor.column, oor.row)) == {("B3", 5), ("B4", 6)}
    assert np.isnan(c.data.loc[3, "A1"]) and np.isnan(c.data.loc[5, "B3"])
    # reverse-keyed: 6 - x, logged; under FIML the incomplete rows stay
    np.testing.assert_array_equal(c.data["A4"], 6 - original_a4)
    assert (log.action == "reverse-coded").sum() == 1
    assert c.flow.rows_analysed == 200
    # kept rows are otherwise unchanged
    untouched = [i for i in ITEMS if i != "A4"]
    kept = df.loc[c.data.index, untouched].drop(index=[3, 4, 5, 6])
    pd.testing.assert_frame_equal(c.data.loc[kept.index, untouched], kept)


def test_out_of_range_can_stop_the_run():
    df = make_data()
    df.loc[17, "B1"] = 0
    with pytest.raises(InputError, match=r"column B1, row 17: answer 0 is outside the scale 1\.\.5"):
        clean(loaded(df), make_survey(out_of_range="error"))


def test_input_is_not_modified():
    df = make_data()
    df.loc[3, "A1"] = 99
    before = df.copy()
    clean(loaded(df), make_survey())
    pd.testing.assert_frame_equal(df, before)


def test_item_without_variance_is_an_input_error():
    df = make_data()
    df["B2"] = 3.0
    with pytest.raises(InputError, match="column B2: every analysed respondent gave the same answer"):
        clean(loaded(df), make_survey())


def test_irv_rule():
    df = make_data()
    df.loc[20, ITEMS] = [3, 3, 3, 4, 3, 3, 3, 3]   # longstring 3 / 4, irv .35
    c = clean(loaded(df), make_survey(screening={"irv_min": 0.4, "longstring_max": 7}))
    assert c.exclusions.set_index("row").loc[20, "reason"] == REASON_LOW_VARIABILITY


def test_mahalanobis_rule_flags_a_planted_outlier():
    df = make_data(n=400)
    df.loc[30, ITEMS] = [5, 1, 5, 5, 1, 5, 1, 5]  # contradicts both factors and A4's keying
    c = clean(loaded(df), make_survey(screening={"mahalanobis_p": 0.001}))
    ex = c.exclusions.set_index("row")
    assert ex.loc[30, "reason"] == REASON_OUTLIER
    assert c.screening_scores.loc[30, "mahalanobis_p"] < 0.001
    # p < .001 by chance: a handful of 400 rows at most
    assert (ex["reason"] == REASON_OUTLIER).sum() <= 5


def test_no_item_answered_is_always_excluded():
    df = make_data()
    df.loc[40, ITEMS] = np.nan
    c = clean(loaded(df), make_survey(missing={"method": "fiml"}))
    assert c.exclusions.set_index("row").loc[40, "reason"] == REASON_NO_ANSWER


# --- the screening indices, against hand-computed values ------------------------------

def test_longstring_against_hand_values():
    x = np.array([[1, 1, 2, 2, 2, 1], [4, 4, 4, 4, 4, 4], [1, np.nan, 1, 1, 2, 2],
                  [np.nan] * 6])
    np.testing.assert_array_equal(longstring(x), [3, 6, 2, 0])


def test_irv_is_row_sd():
    x = np.array([[1, 2, 3, 4], [2, 2, 2, 2], [1, np.nan, 5, np.nan], [1, np.nan, np.nan, np.nan]])
    np.testing.assert_allclose(irv(x)[:3], [np.std([1, 2, 3, 4], ddof=1), 0, np.std([1, 5], ddof=1)])
    assert np.isnan(irv(x)[3])


def test_mahalanobis_matches_scipy():
    from scipy.spatial.distance import mahalanobis as scipy_md
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    d2, p = mahalanobis(x)
    vi = np.linalg.inv(np.cov(x, rowvar=False))
    mu = x.mean(axis=0)
    expected = np.array([scipy_md(r, mu, vi) ** 2 for r in x])
    np.testing.assert_allclose(d2, expected, rtol=1e-10)
    # a row with a missing value is measured on what it answered
    x2 = x.copy()
    x2[0, 2] = np.nan
    d2m, _ = mahalanobis(x2, reference=x)
    sub = np.cov(x, rowvar=False)[:2, :2]
    dev = x[0, :2] - mu[:2]
    np.testing.assert_allclose(d2m[0], dev @ np.linalg.solve(sub, dev), rtol=1e-10)


# --- the speed screen reads the completion-time formats survey tools export -----------

def _speed_run(tmp_path, times: list[str], name: str):
    """Write make_data() with the given time texts to a CSV, load and clean it."""
    from adoption.load import load_responses

    df = make_data().reset_index(drop=True)
    df["secs"] = times
    p = tmp_path / f"{name}.csv"
    # comma-separated (a "45,5" is quoted): a ';' file would have its decimal commas read by
    # the CSV reader already (European CSV detection), and this tests the time parser's own
    df.to_csv(p, index=False)
    s = make_survey(screening={"min_seconds": 60, "time_column": "secs"})
    return clean(load_responses(p, s), s)


def _speeders(c) -> set[int]:
    ex = c.exclusions
    return set(ex.loc[ex["reasons"].str.contains(REASON_TOO_FAST), "row"])


def test_speed_screen_reads_decimal_commas_and_clock_times(tmp_path):
    rng = np.random.default_rng(5)
    secs = rng.integers(200, 900, 200).astype(float)
    fast = rng.choice(200, 37, replace=False)
    secs[fast] = rng.integers(10, 59, 37) + 0.5       # 37 speeders, under the 60 s limit
    secs[3] = 60.5                                    # just over: kept
    dot = _speed_run(tmp_path, [f"{t:.1f}" for t in secs], "dot")
    expected = {int(i) + 1 for i in fast}
    assert _speeders(dot) == expected and not dot.warnings
    comma = _speed_run(tmp_path, [f"{t:.1f}".replace(".", ",") for t in secs], "comma")
    assert _speeders(comma) == expected and not comma.warnings
    log = log_frame(comma.log)
    line = log[log.action == "completion time read as seconds"]
    assert line["count"].tolist() == [200] and "200 value(s) as decimal comma" in line["detail"].iloc[0]
    whole = np.floor(secs)
    mmss = _speed_run(tmp_path, [f"{int(t) // 60:02d}:{int(t) % 60:02d}" for t in whole], "mmss")
    assert _speeders(mmss) == expected
    assert "as minutes:seconds" in log_frame(mmss.log).detail.str.cat()
    hms = _speed_run(tmp_path, [f"0:{int(t) // 60:02d}:{int(t) % 60:02d}" for t in whole], "hms")
    assert _speeders(hms) == expected
    np.testing.assert_array_equal(hms.data["secs"], mmss.data["secs"])


def test_unreadable_time_column_is_said_not_skipped(tmp_path):
    times = [f"{t} sec" for t in range(200)]   # no format the reader knows
    c = _speed_run(tmp_path, times, "words")
    assert len(c.warnings) == 1
    assert re.search(r"time column 'secs': 200 of 200 value\(s\) could not be read as a duration "
                     r"\(data rows 1, 2, 3, 4, 5, \.\.\.\); the speed screen \(min_seconds 60\) was "
                     r"not applied to any row", c.warnings[0])
    log = log_frame(c.log)
    assert log.loc[log.action == "completion time unreadable", "count"].tolist() == [200]
    # a few bad values among good ones: those rows are named, the rest are screened
    times = ["300"] * 200
    times[9], times[19] = "n/a?", "30"
    c = _speed_run(tmp_path, times, "some")
    assert _speeders(c) == {20}
    assert "1 of 200 value(s)" in c.warnings[0] and "(data rows 10)" in c.warnings[0]
    assert "was not applied to these rows" in c.warnings[0]
