"""The moderation figures' data, their drawing, and the plain-language sentence (issue 14).

The figure data (``curves`` for the Johnson-Neyman plot, ``lines`` for the interaction
plot) are checked against the moderation results they must agree with (the simple slopes
at the probed values, p = .05 at the JN points, R's lm slopes on the paperlike data) and
against an independent least-squares prediction; the sentence against the numbers and
the wording rules of adoption.report.summary_text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.figures.moderation import (interaction_figure, interaction_image, jn_figure,
                                         jn_image, moderated_paths, prepare_interaction,
                                         prepare_jn)
from adoption.jsonable import to_jsonable
from adoption.report.moderation_text import moderation_sentence
from adoption.report.summary_text import causal_words_in
from adoption.structural.moderated import composite_design, fit_moderation
from adoption.structural.probing import moderator_grid
from paperlike import PARAMS, load_recoded_items

FIX = Path(__file__).parent / "fixtures" / "moderation"
REF = json.loads((FIX / "moderation_reference.json").read_text())
LABELS = {"X": "Comfort", "Y": "Willingness", "W": "AI habit"}


@pytest.fixture(scope="module")
def sim():
    return pd.read_csv(FIX / "simulated.csv")


@pytest.fixture(scope="module")
def sim_mod(sim):
    return fit_moderation(composite_design("Y ~ X + W + X:W", sim, sim), B=0)


@pytest.fixture(scope="module")
def scores():
    data = load_recoded_items()
    s = pd.DataFrame({c: data[its].mean(axis=1) for c, its in PARAMS["items"].items()})
    return s.join(data[["gender", "year_level"]])


def _json(res) -> dict:
    return json.loads(json.dumps(to_jsonable(res.to_dict())))


def test_grid_holds_the_probes_and_jn_points():
    g = moderator_grid(np.array([1.0, np.nan, 5.0]), extra=[2.5, 7.0, np.nan], n=5)
    assert g.tolist() == [1.0, 2.0, 2.5, 3.0, 4.0, 5.0]


def test_jn_curve_agrees_with_slopes_and_jn_points(sim_mod, sim):
    c, s, jn = sim_mod.curves, sim_mod.slopes, sim_mod.johnson_neyman
    assert c["value"].min() == sim["W"].min() and c["value"].max() == sim["W"].max()
    at = c.set_index("value").loc[s["value"]]
    # the same closed form evaluated at the same values: equal to rounding
    for col in ("est", "se", "pvalue", "ci.lower", "ci.upper"):
        assert_allclose(at[col], s[col], rtol=1e-12, atol=1e-15)
    at_jn = c.set_index("value").loc[jn["value"]]
    assert_allclose(at_jn["pvalue"], 0.05, rtol=1e-9)       # where significance changes
    assert_allclose(at_jn[["ci.lower", "ci.upper"]].abs().min(axis=1), 0, atol=1e-12)


def test_jn_curve_on_paperlike_equals_r(scores):
    """lm(WIL ~ HAB + COM + HAB:COM), centred: R's slopes of COM at HAB's mean and
    +/-1 SD (make_moderation.R); closed form in double precision, rtol 1e-9."""
    res = fit_moderation(composite_design("WIL ~ COM + HAB + COM:HAB", scores, scores), B=0)
    c = res.curves.set_index("value")
    ref = REF["slopes"]
    got = c.loc[res.slopes["value"]]
    assert_allclose(got.index, ref["w"], rtol=1e-9)
    assert_allclose(got["est"], ref["est"], rtol=1e-9)
    assert_allclose(got["se"], ref["se"], rtol=1e-9)
    assert res.johnson_neyman["in_range"].sum() == 0     # both JN points outside 1..5
    assert prepare_jn(_json(res), ("WIL", "COM", "HAB")).jn_points == ()


def test_interaction_lines_are_lm_predictions(sim_mod, sim):
    """Each point is the prediction of an independent least-squares fit of
    Y ~ X + W + (X - mean X)(W - mean W) at (focal value, moderator value)."""
    mx, mw = sim["X"].mean(), sim["W"].mean()
    A = np.column_stack([np.ones(len(sim)), sim["X"], sim["W"], (sim["X"] - mx) * (sim["W"] - mw)])
    beta = np.linalg.lstsq(A, sim["Y"].to_numpy(), rcond=None)[0]
    ln = sim_mod.lines
    x, w = ln["focal_value"].to_numpy(), ln["value"].to_numpy()
    want = beta[0] + beta[1] * x + beta[2] * w + beta[3] * (x - mx) * (w - mw)
    assert_allclose(ln["predicted"], want, rtol=1e-10)
    # the lines sit at the probed moderator values, focal at its mean and +/- 1 SD
    assert_allclose(sorted(set(w)), sorted(sim_mod.slopes["value"]), rtol=1e-12)
    sd = sim["X"].std(ddof=1)
    assert_allclose(sorted(set(x)), [mx - sd, mx, mx + sd], rtol=1e-12)
    # the slope of each line is the simple slope at that moderator value
    for at, g in ln.groupby("at"):
        slope = np.polyfit(g["focal_value"], g["predicted"], 1)[0]
        assert_allclose(slope, sim_mod.slopes.set_index("at").loc[at, "est"], rtol=1e-9)


def test_categorical_moderator_lines_per_category(scores):
    constructs = scores.drop(columns=["gender", "year_level"])
    res = fit_moderation(composite_design("WIL ~ COM + HAB + gender + COM:gender", constructs,
                                          scores, categorical={"gender": {
                                              1: "female", 2: "male", 3: "diverse"}}), B=0)
    assert res.curves.empty
    ln = res.lines
    assert list(dict.fromkeys(ln["at"])) == ["female", "male", "diverse"]
    for at, g in ln.groupby("at"):
        slope = np.polyfit(g["focal_value"], g["predicted"], 1)[0]
        assert_allclose(slope, res.slopes.set_index("at").loc[at, "est"], rtol=1e-9)
    d = _json(res)
    path = ("WIL", "COM", "gender")
    assert prepare_jn(d, path) is None
    chart = prepare_interaction(d, path)
    assert [label for label, _, _ in chart.lines] == ["gender: female", "gender: male",
                                                      "gender: diverse"]
    text = moderation_sentence(d["interactions"][0], d["slopes"])
    f = d["interactions"][0]
    assert ("does not differ clearly" in text) == (f["f.pvalue"] >= .05)
    assert "among diverse" in text and f"F({f['df1']}, {f['df2']})" in text


def test_charts_read_the_results(sim_mod):
    d = _json(sim_mod)
    path = ("Y", "X", "W")
    assert moderated_paths(d) == [path]
    chart = prepare_interaction(d, path, LABELS)
    assert [label for label, _, _ in chart.lines][0].startswith("W -1 SD")
    assert chart.x_title == "Comfort (X)" and chart.y_title == "Predicted Willingness (Y)"
    first = sim_mod.lines[sim_mod.lines["at"] == "-1 SD"]
    assert_allclose(chart.lines[0][2], first["predicted"], rtol=1e-15)
    jn = prepare_jn(d, path, LABELS)
    assert_allclose(jn.jn_points, sim_mod.johnson_neyman["value"], rtol=1e-15)
    assert len(jn.values) == len(sim_mod.curves)
    fig = jn_figure(jn)
    assert [t.name for t in fig.data] == ["95% CI", "slope"]
    assert len(fig.layout.shapes) == 1 + len(jn.jn_points)      # zero line + JN lines
    assert len(interaction_figure(chart).data) == 3
    svg = jn_image(jn, "svg").decode()
    assert "<svg" in svg and "JN 2.41" in svg
    assert interaction_image(chart, "png")[:4] == b"\x89PNG"


def test_sentence_from_the_numbers(sim_mod):
    d = _json(sim_mod)
    row, slopes = d["interactions"][0], d["slopes"]
    text = moderation_sentence(row, slopes, LABELS)
    assert text.startswith("The link between comfort (X) and willingness (Y) changes direction")
    assert "b = −0.280 at 1 SD below" in text and "b = 0.302 at 1 SD above" in text
    assert f"interaction b = {row['est']:.3f}, 95% CI [{row['ci.lower']:.3f}, " \
           f"{row['ci.upper']:.3f}]" in text
    assert causal_words_in(text) == []


@pytest.mark.parametrize("b, lo, hi, words", [
    (-0.12, 0.40, 0.20, "is weaker among respondents with higher AI habit (W)"),
    (0.12, 0.20, 0.40, "is stronger among respondents with higher AI habit (W)"),
    (-0.12, -0.20, -0.40, "is stronger among"),
    (0.12, -0.40, -0.20, "is weaker among"),
])
def test_sentence_direction(b, lo, hi, words):
    row = {"lhs": "Y", "focal": "X", "moderator": "W", "est": b, "ci.lower": b - .05,
           "ci.upper": b + .05}
    slopes = [{"at": "-1 SD", "est": lo}, {"at": "mean", "est": (lo + hi) / 2},
              {"at": "+1 SD", "est": hi}]
    text = moderation_sentence(row, slopes, LABELS)
    assert words in text and causal_words_in(text) == []


def test_sentence_interval_with_zero_is_no_clear_difference():
    row = {"lhs": "Y", "focal": "X", "moderator": "W", "est": -0.04, "ci.lower": -0.12,
           "ci.upper": 0.04}
    text = moderation_sentence(row, [{"at": "-1 SD", "est": .3}, {"at": "+1 SD", "est": .24}],
                               LABELS)
    assert "does not differ clearly with AI habit (W)" in text
    assert "weaker" not in text and "includes zero" in text


def test_report_blocks_and_same_bytes(sim_mod):
    from adoption.report import same_svg_bytes
    from adoption.report.content import Figure, Paragraph
    from adoption.report.moderation import moderation_figures

    d = _json(sim_mod)
    with same_svg_bytes():
        blocks = moderation_figures(d, LABELS)
        again = moderation_figures(d, LABELS)
    figs = [b for b in blocks if isinstance(b, Figure)]
    assert [(f.key, f.name) for f in figs] == [("interaction-Y_X_W", "interaction_Y_X_W"),
                                               ("jn-Y_X_W", "jn_Y_X_W")]
    assert [f.svg for f in figs] == [f.svg for f in again if isinstance(f, Figure)]
    para = [b for b in blocks if isinstance(b, Paragraph)]
    assert para[0].text == moderation_sentence(d["interactions"][0], d["slopes"], LABELS)
    assert moderation_figures(None) == []


def test_long_labels_leave_the_axis_the_code(sim_mod):
    long = {"Y": "Willingness to use AI for mental-health support", "X": "Habit"}
    chart = prepare_interaction(_json(sim_mod), ("Y", "X", "W"), long)
    assert chart.y_title == "Predicted Y" and chart.x_title == "Habit (X)"
