"""The decision brief (adoption/brief.py, adoption/report/brief_page.py) on a run's results.

The run is the shared example run (tests/conftest.py's ``example_run``); group and
small-cell cases are copies of its results with one part changed.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from numpy.testing import assert_allclose

from adoption.brief import build_brief, certainty, final_outcome, size_word
from adoption.format import format_bounded
from adoption.privacy import OTHER
from adoption.report.build import construct_labels
from adoption.report.summary_text import causal_words_in

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "surveys" / "ai_mental_health" / "survey.yaml"
#: p values in any of the ways a text may write them
P_VALUE = re.compile(r"\bp\s*[<=>≤]|p-value|p value|significan", re.IGNORECASE)


def _all_text(b) -> str:
    return "\n".join([*b.findings, *b.certainty, *b.sample, *b.groups, *b.limits, *b.act])


@pytest.fixture(scope="module")
def results(example_run):
    """results.json as the run wrote it (what the dashboard reads)."""
    return json.loads((Path(example_run.out_dir) / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def brief(results):
    return build_brief(results, construct_labels(results), "4 December 2026")


def test_certainty_words_follow_the_interval():
    assert certainty(0.25, 0.41) == "clear"
    assert certainty(-0.41, -0.25) == "clear"
    assert certainty(0.10, 0.30) == "clear"             # the near end exactly at .10
    assert certainty(0.004, 0.15) == "possibly tiny"
    assert certainty(-0.15, -0.02) == "possibly tiny"
    assert certainty(-0.06, 0.09) == "unclear"
    assert certainty(0.0, 0.2) == "unclear"             # touching zero is not excluding it
    assert certainty(float("nan"), 0.2) == "unclear"
    assert [size_word(b) for b in (0.05, -0.2, 0.35, 0.7)] == ["very small", "small", "moderate", "large"]


def test_final_outcome_is_the_outcome_that_predicts_nothing(results):
    est = results["structural"]["composite"]["estimates"]
    assert final_outcome(est) == "WIL"
    assert final_outcome([{"op": "=~", "lhs": "A", "rhs": "a1"}]) is None


def test_wording_rules_on_the_run(brief, results):
    text = _all_text(brief)
    assert causal_words_in(text) == []
    assert not P_VALUE.search(text), P_VALUE.search(text)
    assert "associations" in text and "not what would happen" in text
    assert 3 <= len(brief.findings) <= 4
    flow = results["sample"]   # the run's own sample flow (601 in, 546 analysed today)
    assert brief.sample[0].startswith(f"{flow['rows_analysed']:,} responses were analysed, "
                                      f"of {flow['rows_in']:,} received")
    set_aside = sum(r["count"] for r in flow["excluded"])
    assert f"{set_aside} were set aside" in brief.sample[0]


def test_findings_and_certainty_are_the_run_numbers(brief, results):
    labels = construct_labels(results)
    total = [r for r in results["structural"]["composite"]["total"] if r["path"][-1] == "WIL"]
    ranked = sorted(total, key=lambda r: -abs(r["std.all"]))
    clear = [r for r in ranked if r["std.all.ci.lower"] >= 0.10 or r["std.all.ci.upper"] <= -0.10]
    unclear = [r for r in ranked if r["std.all.ci.lower"] <= 0 <= r["std.all.ci.upper"]]
    top = clear[0]["path"][0]
    assert f"higher on {labels[top].lower()} ({top})" in brief.findings[1]
    assert f"{labels[clear[1]['path'][0]]} ({clear[1]['path'][0]}) comes next" in brief.findings[2]
    assert unclear and all(f"({r['path'][0]})" in brief.findings[-1] for r in unclear)
    assert "no clear link" in brief.findings[-1]
    # every driver's range, in words, with the interval's ends as shown; a product term
    # of the moderation (COM_x_HAB) is not a driver
    assert len(brief.certainty) == len(total)
    assert not any("_x_" in s for s in brief.certainty)
    for r in total:
        line = next(s for s in brief.certainty if f"({r['path'][0]}):" in s)
        rng = f"{format_bounded(r['std.all.ci.lower'])} to {format_bounded(r['std.all.ci.upper'])}"
        assert rng in line
        assert ("not sure there is a link" in line) == (r in unclear)
    # the willingness share: answers above the middle (4 or 5 of 1-5), by hand
    dist = pd.DataFrame(results["descriptives"]["distribution"])
    wil = dist[dist["item"].str.startswith("WIL") & (dist["value"] > 3)].groupby("item")["share"].sum()
    assert f"About {100 * wil.mean():.0f}% of respondents chose 'Agree' or 'Strongly agree'" in brief.findings[0]


def test_where_to_act_against_a_hand_computation_from_the_tables(brief, example_run):
    """Importance = standardised total effect on WIL (tables/composite_effects.csv);
    performance = the mean of the construct's item means (tables/items.csv) rescaled with
    the spec's scale bounds, 100 (mean - min) / (max - min)."""
    out = Path(example_run.out_dir) / "tables"
    scale = yaml.safe_load(SPEC.read_text(encoding="utf-8"))["scale"]
    lo, hi = float(scale["min"]), float(scale["max"])
    items = pd.read_csv(out / "items.csv")
    perf = (100 * (items["mean"] - lo) / (hi - lo)).groupby(items["construct"]).mean()
    eff = pd.read_csv(out / "composite_effects.csv")
    imp = eff[(eff["effect"] == "total") & (eff["target"] == "WIL")].set_index("source")["std.all"]
    t = brief.ipma.set_index("construct")
    assert set(t.index) == set(imp.index)
    # the same doubles through a CSV round trip: only the last bits may differ
    assert_allclose(t["importance"], imp[t.index], rtol=1e-12)
    assert_allclose(t["performance"], perf[t.index], rtol=1e-12)
    corner = set(imp.index[(imp > imp.mean()).to_numpy() & (perf[imp.index] < perf[imp.index].mean()).to_numpy()])
    assert set(t.index[t["priority"]]) == corner
    assert corner, "the example has drivers in the high-importance, low-performance corner"
    assert all(f"({c}, rated {perf[c]:.0f} of 100)" in brief.act[0] for c in corner)


def _groups_case(results, p_path: float, p_omnibus: float, small: bool) -> dict:
    r = copy.deepcopy(results)
    g = r["groups"]["gender"]
    if small:                                           # the third group: 3 respondents
        g["sizes"][2]["n"] = 3
        for d in r["descriptives"]["demographics"]:
            if d["variable"] == "gender" and str(d["value"]) == str(g["sizes"][2]["value"]):
                d["count"] = 3
    g["path_differences"]["paths"][0]["pvalue"] = p_path
    g["path_differences"]["omnibus"]["pvalue"] = p_omnibus
    return r


def test_groups_in_words(results):
    labels = construct_labels(results)
    g = results["groups"]["gender"]
    names = [s["label"] for s in g["sizes"]]
    first = g["path_differences"]["paths"][0]
    same = build_brief(_groups_case(results, 0.5, 0.5, False), labels)
    line = next(s for s in same.groups if "(gender)" in s)
    assert line.startswith("No path differed clearly between") and all(n in line for n in names)
    differ = build_brief(_groups_case(results, 0.01, 0.5, False), labels)
    line = next(s for s in differ.groups if s.startswith("By gender"))
    assert f"({first['rhs']}) and" in line and f"({first['lhs']})" in line
    assert "1 of" in line and "chance" in line
    strong = build_brief(_groups_case(results, 0.01, 0.001, False), labels)
    assert "chance" not in next(s for s in strong.groups if s.startswith("By gender"))


def test_a_small_group_is_never_named(results):
    labels = construct_labels(results)
    small_name = results["groups"]["gender"]["sizes"][2]["label"]
    b = build_brief(_groups_case(results, 0.5, 0.5, True), labels)
    text = _all_text(b)
    assert small_name not in text
    gender = next(s for s in b.sample if s.startswith("Gender:"))
    assert f"{OTHER} fewer than 5" in gender
    assert "suppressed" in gender                       # a second count hidden with it
    assert "1 small group(s) not named" in next(s for s in b.groups if "(gender)" in s)


def test_without_a_structural_model(results):
    r = copy.deepcopy(results)
    r.pop("structural")
    b = build_brief(r)
    assert b.outcome is None and b.ipma.empty and not b.act and not b.certainty
    assert "not computed" in b.findings[0]
    assert causal_words_in(_all_text(b)) == []


def test_the_brief_on_one_page(brief):
    from adoption.report.brief_page import brief_page

    pdf = brief_page(brief, "pdf")
    assert pdf[:5] == b"%PDF-"
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    png = brief_page(brief, "png", dpi=40)
    import matplotlib.image as mpimg
    import io
    h, w = mpimg.imread(io.BytesIO(png), format="png").shape[:2]
    assert_allclose(h / w, 11.69 / 8.27, rtol=0.01)     # A4 portrait
    assert np.isfinite(brief.ipma["importance"]).all()
