"""Path diagrams: geometric guarantees of the layout, APA formatting, and the renderers.

The layout is checked on the project's example model (11 constructs, the lavaan
estimates of ``latent_sem`` in ``paperlike_survey.json``, made by
``fixtures/reference/make_reference.R``) and on seeded random DAGs. The properties are
geometric and exact (no tolerance beyond float noise): no two boxes overlap, no arrow
passes through a box other than its two ends, no label overlaps a box or another label,
and every arrow starts and ends on the border of its own boxes.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adoption.figures.layout import (
    STYLE,
    Box,
    EdgeSpec,
    layout_diagram,
    polyline_hits_box,
    segment_hits_box,
    text_size,
)
from adoption.figures.pathdiagram import (
    format_bounded,
    format_p,
    path_figure,
    path_png,
    path_svg,
    prepare_path_diagram,
    stars,
)

REFERENCE = Path(__file__).parent / "fixtures" / "reference" / "paperlike_survey.json"
LABELS = {
    "HAB": "Habit", "PU": "Perceived usefulness", "FC": "Facilitating conditions",
    "EB": "Emotional benefit", "EMP": "Perceived empathy of the AI",
    "PRV": "Privacy assurance", "ACC": "Accessibility", "STG": "Stigma of seeking help",
    "COM": "Comfort", "TRU": "Trust",
    "WIL": "Willingness to use AI for mental-health support",
}
EXOGENOUS = {"HAB", "PU", "FC", "EB", "EMP", "PRV", "ACC", "STG"}
# floating-point slack for "touching is not overlapping" (inches; far below a pixel)
EPS = 1e-9


@pytest.fixture(scope="module")
def estimates() -> pd.DataFrame:
    """lavaan parameterEstimates(fit, standardized = TRUE) of the example latent SEM."""
    data = json.loads(REFERENCE.read_text())
    return pd.DataFrame(data["latent_sem"]["ML"]["estimates"])


@pytest.fixture(scope="module")
def r2(estimates) -> dict[str, float]:
    rows = estimates[estimates["op"] == "r2"]
    return dict(zip(rows["lhs"], rows["est"]))


# --------------------------------------------------------------------------- checker
def assert_clean(lay) -> None:
    """Every geometric guarantee of :func:`layout_diagram`."""
    assert lay.complete
    boxes = {n.name: n.box for n in lay.nodes}
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not boxes[a].grown(-EPS).overlaps(boxes[b].grown(-EPS)), (a, b)
    for e in lay.edges:
        for name, box in boxes.items():
            if name in (e.source, e.target):
                continue
            assert not polyline_hits_box(e.points, box.grown(-EPS)), (e.source, e.target, name)
        # ends sit on the border of their own boxes
        for point, name in ((e.points[0], e.source), (e.points[-1], e.target)):
            b = boxes[name]
            on_x = abs(point[0] - b.left) < 1e-6 or abs(point[0] - b.right) < 1e-6
            on_y = abs(point[1] - b.top) < 1e-6 or abs(point[1] - b.bottom) < 1e-6
            inside = (b.left - 1e-6 <= point[0] <= b.right + 1e-6
                      and b.top - 1e-6 <= point[1] <= b.bottom + 1e-6)
            assert inside and (on_x or on_y), (e.source, e.target, name, point)
    labels = [e.label_box for e in lay.edges if e.label]
    assert all(lb is not None for lb in labels)
    for lb in labels:
        for name, box in boxes.items():
            assert not lb.grown(-EPS).overlaps(box.grown(-EPS)), name
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not a.grown(-EPS).overlaps(b.grown(-EPS))
    for box in list(boxes.values()) + labels:
        assert 0 <= box.left and box.right <= lay.width + EPS
        assert 0 <= box.top and box.bottom <= lay.height + EPS
    for e in lay.edges:
        for x, y in e.points:
            assert -EPS <= x <= lay.width + EPS and -EPS <= y <= lay.height + EPS


# --------------------------------------------------------------------------- geometry helpers
def test_segment_hits_box_cases():
    box = Box(0, 0, 2, 2)
    assert segment_hits_box((-2, 0), (2, 0), box)          # straight through
    assert not segment_hits_box((-2, 2), (2, 2), box)      # passes above
    assert not segment_hits_box((-2, 1), (2, 1), box)      # runs along the border
    assert not segment_hits_box((1, 0), (3, 0), box)       # starts on the border, leaves
    assert segment_hits_box((-2, -1.5), (2, 1.5), box)     # diagonal through
    assert not segment_hits_box((-3, 0), (-1.5, 0), box)   # stops short
    assert segment_hits_box((-3, 0), (-1.5, 0), box, pad=0.6)


def test_text_size_grows_with_text_and_font():
    w1, h1 = text_size(["Habit"], 10)
    w2, _ = text_size(["Habit habit"], 10)
    w3, h3 = text_size(["Habit"], 20)
    assert w2 > w1 > 0 and w3 == pytest.approx(2 * w1) and h3 == pytest.approx(2 * h1)
    assert text_size(["a", "b"], 10)[1] == pytest.approx(2 * text_size(["a"], 10)[1])


# --------------------------------------------------------------------------- example model
def test_example_columns(estimates, r2):
    lay = prepare_path_diagram(estimates, r2, LABELS).layout
    layer = {n.name: n.layer for n in lay.nodes}
    assert {v for v, k in layer.items() if k == 0} == EXOGENOUS
    assert (layer["COM"], layer["TRU"], layer["WIL"]) == (1, 2, 3)
    kinds = {n.name: n.kind for n in lay.nodes}
    assert kinds["WIL"] == "outcome" and kinds["COM"] == kinds["TRU"] == "mediator"
    # columns run left to right
    x = {n.name: n.box.x for n in lay.nodes}
    assert max(x[v] for v in EXOGENOUS) < x["COM"] < x["TRU"] < x["WIL"]
    # the three predictors of COM only (ACC) or of COM and TRU (EMP, PRV) sit together
    column = sorted(EXOGENOUS, key=lambda v: lay.node(v).box.y)
    top3 = set(column[:3])
    assert top3 == {"EMP", "PRV", "ACC"}, column
    assert len(lay.edges) == 13


@pytest.mark.parametrize("options", [
    {},
    {"standardized": False},
    {"hide_nonsignificant": True},
    {"show_items": True},
    {"show_covariances": True},
    {"show_items": True, "show_covariances": True},
], ids=lambda o: "-".join(o) or "default")
def test_example_layout_is_clean(estimates, r2, options):
    prep = prepare_path_diagram(estimates, r2, LABELS, **options)
    assert_clean(prep.layout)


def test_hide_nonsignificant_keeps_columns(estimates, r2):
    full = prepare_path_diagram(estimates, r2, LABELS).layout
    hidden = prepare_path_diagram(estimates, r2, LABELS, hide_nonsignificant=True).layout
    assert ("TRU", "WIL") in {(e.source, e.target) for e in full.edges}
    assert ("TRU", "WIL") not in {(e.source, e.target) for e in hidden.edges}
    assert len(hidden.edges) == 12
    assert hidden.node("TRU").layer == full.node("TRU").layer == 2


def test_items_sit_outside_their_factor(estimates, r2):
    lay = prepare_path_diagram(estimates, r2, LABELS, show_items=True).layout
    items = [n for n in lay.nodes if n.kind == "item"]
    assert len(items) == 37
    loads = [e for e in lay.edges if e.kind == "loading"]
    assert len(loads) == 37
    for e in loads:
        f, it = lay.node(e.source).box, lay.node(e.target).box
        if e.source in EXOGENOUS:
            assert it.right < f.left
        elif e.source == "WIL":
            assert it.left > f.right
        else:
            assert it.bottom < f.top or it.top > f.bottom
        # loading labels are APA: no leading zero
        assert e.label.startswith(".")


def test_covariances_are_two_headed_arcs_left_of_exogenous(estimates, r2):
    prep = prepare_path_diagram(estimates, r2, LABELS, show_covariances=True)
    covs = [(e, s) for e, s in zip(prep.layout.edges, prep.styles) if e.kind == "covariance"]
    assert len(covs) == 28  # 8 exogenous factors: 8 * 7 / 2 correlations
    left = min(prep.layout.node(v).box.left for v in EXOGENOUS)
    for e, s in covs:
        assert e.curved and s.heads == 2
        assert max(x for x, _ in e.points) <= left + 1e-9


# --------------------------------------------------------------------------- random DAGs
def random_dag(seed: int) -> list[EdgeSpec]:
    rng = random.Random(seed)
    n = rng.randint(5, 15)
    names = [f"V{i}" for i in range(n)]
    edges = []
    for j in range(1, n):
        preds = [i for i in range(j) if rng.random() < 0.25]
        if not preds:
            preds = [rng.randrange(j)]
        for i in preds:
            coef = rng.uniform(-0.6, 0.6)
            p = rng.choice([0.2, 0.03, 0.004, 0.0001])
            edges.append(EdgeSpec(names[i], names[j], "regression",
                                  format_bounded(coef) + stars(p)))
    return edges


@pytest.mark.parametrize("seed", range(12))
def test_random_dag_layout_is_clean(seed):
    edges = random_dag(seed)
    rng = random.Random(1000 + seed)
    names = {v for e in edges for v in (e.source, e.target)}
    lines = {v: ([v, f"R² = .{rng.randint(10, 80)}"] if rng.random() < 0.5
                 else [v * rng.randint(1, 3)]) for v in names}
    lay = layout_diagram(edges, lines)
    assert_clean(lay)
    # longest-path layering: every arrow points right
    for e in lay.edges:
        assert lay.node(e.source).layer < lay.node(e.target).layer


@pytest.mark.parametrize("seed", range(4))
def test_random_dag_with_items_is_clean(seed):
    edges = random_dag(seed)
    rng = random.Random(2000 + seed)
    names = sorted({v for e in edges for v in (e.source, e.target)})
    for v in names:
        for k in range(rng.randint(2, 4)):
            edges.append(EdgeSpec(v, f"{v}_{k + 1}", "loading", format_bounded(rng.uniform(0.4, 0.9))))
    assert_clean(layout_diagram(edges))


def test_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        layout_diagram([EdgeSpec("A", "B"), EdgeSpec("B", "C"), EdgeSpec("C", "A")])


def test_unknown_edge_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        layout_diagram([EdgeSpec("A", "B", "arrow")])


# --------------------------------------------------------------------------- formatting
@pytest.mark.parametrize("value, text", [
    (0.384, ".38"), (-0.09, "−.09"), (0.0, ".00"), (-0.001, "−.00"), (1.0, "1.00"),
    (float("nan"), "–"),
])
def test_format_bounded(value, text):
    assert format_bounded(value) == text


@pytest.mark.parametrize("p, text", [
    (0.0123, "p = .012"), (0.00099, "p < .001"), (0.0, "p < .001"), (0.45, "p = .450"),
])
def test_format_p(p, text):
    assert format_p(p) == text


@pytest.mark.parametrize("p, text", [
    (0.0004, "***"), (0.001, "**"), (0.009, "**"), (0.01, "*"), (0.049, "*"), (0.05, ""),
])
def test_stars(p, text):
    assert stars(p) == text


# --------------------------------------------------------------------------- renderers
def test_path_figure_edges_and_hover(estimates, r2):
    fig = path_figure(estimates, r2, LABELS)
    hover = fig.data[0].hovertext
    assert len(hover) == 13
    hab = next(h for h in hover if "HAB → WIL" in h)
    row = estimates[(estimates.lhs == "WIL") & (estimates.rhs == "HAB") & (estimates.op == "~")].iloc[0]
    assert f"b = {row['est']:.3f}" in hab
    assert f"SE = {row['se']:.3f}" in hab
    assert "β = .394" in hab and "p < .001" in hab
    assert f"95% CI [{row['ci.lower']:.3f}, {row['ci.upper']:.3f}]" in hab
    tru = next(h for h in hover if "TRU → WIL" in h)
    assert "p = .450" in tru
    texts = [a.text for a in fig.layout.annotations]
    assert ".39***" in texts and ".04" in texts and "−.15**" in texts
    assert any("R² = .46" in t for t in texts)
    dashed = [s for s in fig.layout.shapes if s.type == "path" and s.line.dash == "dash"]
    assert len(dashed) == 1  # only WIL ~ TRU is not significant
    # width grows with |beta|
    widths = {s.line.width for s in fig.layout.shapes if s.type == "path" and s.fillcolor is None}
    assert len(widths) > 5


def test_unstandardized_labels_use_est(estimates, r2):
    fig = path_figure(estimates, r2, LABELS, standardized=False)
    texts = [a.text for a in fig.layout.annotations]
    assert "0.42***" in texts  # WIL ~ HAB, est = 0.418


def test_static_images_without_browser(estimates, r2):
    pytest.importorskip("matplotlib")
    svg = path_svg(estimates, r2, LABELS)
    png = path_png(estimates, r2, LABELS, dpi=60)
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "kaleido" not in sys.modules


def test_svg_keeps_text_as_text(estimates, r2):
    """Labels are <text> elements (editable in Inkscape), not glyph outlines, and the
    setting does not leak into the user's matplotlib configuration."""
    pytest.importorskip("matplotlib")
    import xml.etree.ElementTree as ET

    import matplotlib

    before = matplotlib.rcParams["svg.fonttype"]
    svg = path_svg(estimates, r2, LABELS)
    texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    joined = " ".join(texts)
    for label in ("Comfort", "Trust", ".39***", "R² = .46"):
        assert label in joined, label
    assert b"<use xlink:href=\"#DejaVu" not in svg        # no glyph references
    assert matplotlib.rcParams["svg.fonttype"] == before


def test_note_left_out_where_a_caption_carries_it(estimates, r2):
    pytest.importorskip("matplotlib")
    with_note = path_svg(estimates, r2, LABELS)
    without = path_svg(estimates, r2, LABELS, draw_note=False)
    assert b"Note." in with_note and b"Note." not in without
    fig = path_figure(estimates, r2, LABELS, draw_note=False)
    assert not any("Note." in a.text for a in fig.layout.annotations)
    assert prepare_path_diagram(estimates, r2, LABELS, draw_note=False).note_height == 0


def test_png_size_matches_layout(estimates, r2):
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread
    import io

    prep = prepare_path_diagram(estimates, r2, LABELS)
    img = imread(io.BytesIO(path_png(estimates, r2, LABELS, dpi=50)))
    # the note strip is added below the diagram; allow one pixel of rounding
    assert abs(img.shape[1] - prep.layout.width * 50) <= 1
    assert abs(img.shape[0] - (prep.layout.height + prep.note_height) * 50) <= 1


def test_bad_table_is_refused(estimates):
    with pytest.raises(ValueError, match="std.all"):
        path_figure(estimates.drop(columns=["std.all"]))
    with pytest.raises(ValueError, match="no regression"):
        path_figure(estimates[estimates.op == "=~"])
    two_groups = pd.concat([estimates.assign(group=1), estimates.assign(group=2)])
    with pytest.raises(ValueError, match="2 rows for .* one group"):
        path_figure(two_groups)


def test_inputs_not_modified(estimates, r2):
    before = estimates.copy()
    path_figure(estimates, r2, LABELS, show_items=True, show_covariances=True)
    pd.testing.assert_frame_equal(estimates, before)
    assert np.isfinite(r2["WIL"])


def test_checker_catches_broken_layouts(estimates, r2):
    """The geometric checks above are not vacuous: break a clean layout three ways."""
    from dataclasses import replace

    lay = prepare_path_diagram(estimates, r2, LABELS).layout
    hab, wil = lay.node("HAB"), lay.node("WIL")
    # 1. a box moved onto another
    moved = tuple(replace(n, box=replace(n.box, y=hab.box.y + 0.05)) if n.name == "EB" else n
                  for n in lay.nodes)
    with pytest.raises(AssertionError):
        assert_clean(replace(lay, nodes=moved))
    # 2. an arrow straight through a box (COM -> WIL redrawn through the HAB row)
    com = lay.node("COM").box
    through = tuple(replace(e, points=(e.points[0], (hab.box.x, hab.box.y), e.points[-1]))
                    if (e.source, e.target) == ("COM", "WIL") else e for e in lay.edges)
    with pytest.raises(AssertionError):
        assert_clean(replace(lay, edges=through))
    # 3. a label put on top of another label
    first = lay.edges[0].label_box
    stacked = tuple(replace(e, label_box=first) if i == 1 else e for i, e in enumerate(lay.edges))
    with pytest.raises(AssertionError):
        assert_clean(replace(lay, edges=stacked))
    assert com is not None and wil is not None


def test_styles_follow_the_estimates(estimates, r2):
    """Dashed iff p >= alpha, colour by sign, width increasing in |beta|."""
    prep = prepare_path_diagram(estimates, r2, LABELS, alpha=0.01)
    regs = estimates[estimates.op == "~"].set_index(["rhs", "lhs"])
    seen = []
    for e, s in zip(prep.layout.edges, prep.styles):
        row = regs.loc[(e.source, e.target)]
        assert s.dashed == (row["pvalue"] >= 0.01)
        assert (s.color == "#b2182b") == (row["std.all"] < 0)
        seen.append((abs(row["std.all"]), s.width))
    seen.sort()
    assert all(w1 <= w2 for (_, w1), (_, w2) in zip(seen, seen[1:]))
    # at alpha = .01, WIL ~ FC (p = .019) is dashed too
    assert sum(s.dashed for s in prep.styles) == 2


def test_plotly_geometry_is_the_layout(estimates, r2):
    prep = prepare_path_diagram(estimates, r2, LABELS)
    fig = path_figure(estimates, r2, LABELS)
    assert fig.layout.width == round(prep.layout.width * 96)
    assert fig.layout.yaxis.scaleanchor == "x"
    rects = [s for s in fig.layout.shapes if s.type == "rect" and s.fillcolor != "white"]
    assert len(rects) == len(prep.layout.nodes)
    for s, n in zip(rects, prep.layout.nodes):
        np.testing.assert_allclose([s.x0, s.x1, s.y0, s.y1],
                                   [n.box.left, n.box.right, n.box.top, n.box.bottom])


def test_items_with_hidden_paths_is_clean(estimates, r2):
    prep = prepare_path_diagram(estimates, r2, LABELS, show_items=True,
                                hide_nonsignificant=True, standardized=False)
    assert_clean(prep.layout)
    # unstandardised loadings keep their leading zero; fixed marker loadings read 1.00
    labels = {e.target: e.label for e in prep.layout.edges if e.kind == "loading"}
    assert labels["HAB1"] == "1.00" and labels["HAB2"].startswith("1.")
    assert labels["PU2"].startswith("0.")


def test_separate_loadings_table(estimates, r2):
    """A loadings table with its own 0..n index does not mix with the paths' rows."""
    regs = estimates[estimates.op == "~"].reset_index(drop=True)
    loads = estimates[estimates.op == "=~"].reset_index(drop=True)
    prep = prepare_path_diagram(regs, r2, LABELS, show_items=True, loadings=loads)
    assert_clean(prep.layout)
    hover = {(e.source, e.target): s.hover for e, s in zip(prep.layout.edges, prep.styles)}
    assert "HAB → WIL" in hover[("HAB", "WIL")]
    assert "(loading)" in hover[("HAB", "HAB2")]
    assert sum(e.kind == "loading" for e in prep.layout.edges) == 37


def test_any_small_dag_layout_is_clean():
    """Property test: random DAGs, random label lengths, some with items."""
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @st.composite
    def dags(draw):
        n = draw(st.integers(2, 12))
        edges = []
        for j in range(1, n):
            preds = draw(st.sets(st.integers(0, j - 1), min_size=1, max_size=min(j, 4)))
            for i in sorted(preds):
                label = draw(st.sampled_from([".05", "−.38***", "1.23**", ".4*"]))
                edges.append(EdgeSpec(f"X{i}", f"X{j}", "regression", label))
        if draw(st.booleans()):
            for i in range(n):
                for k in range(draw(st.integers(0, 3))):
                    edges.append(EdgeSpec(f"X{i}", f"X{i}i{k}", "loading", ".7"))
        lines = {f"X{i}": ["X" * draw(st.integers(1, 14))] * draw(st.integers(1, 3))
                 for i in range(n)}
        return edges, lines

    @hypothesis.settings(max_examples=40, deadline=None, derandomize=True)
    @hypothesis.given(dags())
    def check(case):
        edges, lines = case
        assert_clean(layout_diagram(edges, lines))

    check()


def test_layout_style_holds_the_lengths():
    """The layout's lengths come from one LayoutStyle: a wider margin moves every box by
    the difference and widens the drawing by twice it, all else equal."""
    edges = [EdgeSpec("X", "M", label=".40"), EdgeSpec("M", "Y", label=".30"),
             EdgeSpec("X", "Y", label=".10")]
    base = layout_diagram(edges)
    wide = layout_diagram(edges, style=replace(STYLE, margin=STYLE.margin + 0.5))
    assert base.complete and wide.complete
    for n in base.nodes:
        moved = wide.node(n.name).box
        assert moved.x == pytest.approx(n.box.x + 0.5) and moved.y == pytest.approx(n.box.y + 0.5)
    assert wide.width == pytest.approx(base.width + 1.0)
    assert wide.height == pytest.approx(base.height + 1.0)
