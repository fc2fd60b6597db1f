"""Item descriptives and univariate normality.

Definitions are checked against closed forms (scipy.stats with bias=True is type 1;
psych::describe's type 3 is type 1 times ((n-1)/n)^(3/2) for skew and
(g2 + 3)(1 - 1/n)^2 - 3 for kurtosis). rtol 1e-12: same arithmetic, different order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pandas as pd
from numpy.testing import assert_allclose
from scipy import stats

from adoption.measurement.items import item_descriptives, kurtosis, skewness
from adoption.measurement.normality import univariate_normality


def test_skew_kurtosis_types():
    x = np.array([1, 2, 2, 3, 3, 3, 4, 5, 5, 1, 2, 4.0])
    n = x.size
    g1 = stats.skew(x, bias=True)
    g2 = stats.kurtosis(x, bias=True)
    assert_allclose(skewness(x, 1), g1, rtol=1e-12)
    assert_allclose(skewness(x, 2), stats.skew(x, bias=False), rtol=1e-12)
    assert_allclose(skewness(x, 3), g1 * ((n - 1) / n) ** 1.5, rtol=1e-12)
    assert_allclose(kurtosis(x, 1), g2, rtol=1e-12)
    assert_allclose(kurtosis(x, 2), stats.kurtosis(x, bias=False), rtol=1e-12)
    assert_allclose(kurtosis(x, 3), (g2 + 3) * (1 - 1 / n) ** 2 - 3, rtol=1e-12)


def test_skew_undefined_is_nan():
    assert np.isnan(skewness([3, 3, 3, 3]))
    assert np.isnan(kurtosis([1, 2, np.nan]))


def test_item_descriptives_shares():
    df = pd.DataFrame({"a": [1, 1, 2, 5, np.nan], "b": [3, 3, 3, 3, 3]})
    tab = item_descriptives(df, options=[1, 2, 3, 4, 5]).set_index("item")
    assert tab.loc["a", "n"] == 4 and tab.loc["a", "n_missing"] == 1
    assert_allclose(tab.loc["a", ["share_1", "share_2", "share_3", "share_4", "share_5"]].astype(float),
                    [0.5, 0.25, 0, 0, 0.25])
    assert tab.loc["a", "floor"] == 0.5 and tab.loc["a", "ceiling"] == 0.25
    assert tab.loc["b", "share_3"] == 1.0
    assert np.isnan(tab.loc["b", "skew"])  # no variance: NaN, not a crash
    assert_allclose(tab.loc["a", "sd"], np.std([1, 1, 2, 5], ddof=1))


def test_univariate_normality_flags():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"norm": rng.normal(size=500), "exp": rng.exponential(size=500) ** 3})
    tab = univariate_normality(df).set_index("item")
    assert not tab.loc["norm", "flag_skew"]
    assert tab.loc["exp", "flag_skew"]


def test_continuous_data_has_no_shares():
    rng = np.random.default_rng(2)
    tab = item_descriptives(pd.DataFrame({"a": rng.normal(size=50)}))
    assert not any(c.startswith("share_") and c != "share_other" for c in tab.columns)
    assert np.isnan(tab.loc[0, "floor"]) and np.isnan(tab.loc[0, "share_other"])


# --------------------------------------------------------------------------- answers as given
def _reversed_item_run():
    """Twelve respondents; A3 is reverse-keyed. Raw answers to A3: eight "Strongly
    agree" (5), three "Disagree" (2), one "Strongly disagree" (1)."""
    from adoption.clean import clean
    from adoption.describe import describe
    from adoption.load import LoadedResponses, SourceInfo
    from adoption.spec import parse_spec

    survey = parse_spec({
        "title": "t",
        "scale": {"min": 1, "max": 5, "labels": {1: "Strongly disagree", 2: "Disagree",
                                                 3: "Neutral", 4: "Agree",
                                                 5: "Strongly agree"}},
        "constructs": {"A": {"items": ["A1", "A2", "A3"], "reverse": ["A3"]}},
        "screening": {"duplicate_rows": False},
    }, path=Path("spec.yaml"))
    rng = np.random.default_rng(3)
    raw = pd.DataFrame({"A1": rng.integers(1, 6, 12), "A2": rng.integers(1, 6, 12),
                        "A3": [5] * 8 + [2] * 3 + [1]})
    loaded = LoadedResponses(data=raw.astype(float),
                             source=SourceInfo("x.csv", "0" * 64, "csv", len(raw)))
    cleaned = clean(loaded, survey)
    return survey, cleaned, describe(cleaned, survey)


def test_reversed_item_distribution_counts_the_answers_as_given():
    _, cleaned, d = _reversed_item_run()
    assert cleaned.data["A3"].tolist() == [1.0] * 8 + [4.0] * 3 + [5.0]   # analysed: recoded
    a3 = d.distribution[d.distribution["item"] == "A3"].set_index("label")
    assert a3["count"].to_dict() == {"Strongly disagree": 1, "Disagree": 3, "Neutral": 0,
                                     "Agree": 0, "Strongly agree": 8}
    assert a3["reversed"].all() and not d.distribution.loc[
        d.distribution["item"] != "A3", "reversed"].any()
    # item statistics stay on the analysed scale, and say so
    items = d.items.set_index("item")
    assert items.loc["A3", "reversed"]
    assert_allclose(items.loc["A3", "mean"], (8 * 1 + 3 * 4 + 5) / 12)


def test_reversed_item_is_marked_in_the_chart_and_the_tables():
    from adoption.figures.likert import prepare_likert
    from adoption.jsonable import to_jsonable
    from adoption.report import tables as T

    _, _, d = _reversed_item_run()
    chart = prepare_likert(d.distribution)
    assert [i for _, i in chart.rows] == ["A1", "A2", "A3 (reversed)"]
    a3 = dict((s.label, s.count) for s in chart.segments[2])
    assert a3["Strongly agree"] == 8 and a3["Strongly disagree"] == 1
    # agreement (8 of 12) lies right of zero
    assert chart.segments[2][-1].left + chart.segments[2][-1].width == pytest.approx(8 / 12)
    table = T.item_descriptives(to_jsonable(d.items))
    assert [r[0] for r in table.rows] == ["A1", "A2", "A3 (reversed)"]
    assert "answers as given" in table.note


def test_likert_chart_puts_agreement_right_when_labels_run_descending():
    from adoption.figures.likert import prepare_likert

    dist = pd.DataFrame({"item": "X", "construct": "C", "value": [1, 2, 3],
                         "label": ["Agree", "Neutral", "Disagree"], "count": [6, 3, 1],
                         "share": [0.6, 0.3, 0.1]})
    chart = prepare_likert(dist)
    segs = chart.segments[0]
    assert [s.label for s in segs] == ["Disagree", "Neutral", "Agree"]
    assert segs[-1].left + segs[-1].width == pytest.approx(0.6 + 0.15)   # agreement right
