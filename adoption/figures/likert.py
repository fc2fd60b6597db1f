"""Diverging stacked bar charts of Likert answers: interactive (plotly) and static (SVG, PNG).

Each item is one horizontal bar split into its answer categories. Disagreement lies left of
zero, agreement right of it, and the middle category of an odd scale ("Neutral") straddles
zero, half on each side (Robbins & Heiberger, 2011). Items are grouped by construct, in the
order of the table.

Input is the run's answer distribution (``results["descriptives"]["distribution"]`` or
``tables/distribution.csv``): one row per item and scale point with the columns
``item, construct, value, label, count, share`` (share of the item's valid answers), of
the answers as given; an optional ``reversed`` column marks reverse-keyed items, which
are named "<item> (reversed)".

* :func:`prepare_likert` -> :class:`LikertChart` (geometry only; no drawing);
* :func:`likert_figure` -> ``plotly.graph_objects.Figure``;
* :func:`likert_svg`, :func:`likert_png` -> bytes, drawn with matplotlib (no browser).

References
----------
Robbins, N. B., & Heiberger, R. M. (2011). Plotting Likert and other rating scales.
*Proceedings of the Joint Statistical Meetings*, 1058-1066.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from adoption.format import format_int, format_percent, is_number
from adoption.figures.save import figure_bytes
from adoption.spec import label_direction

__all__ = ["LikertChart", "Segment", "prepare_likert", "likert_figure", "likert_svg",
           "likert_png", "likert_colors"]

_REQUIRED = ("item", "construct", "value", "label", "count", "share")
FONT_FAMILY = "DejaVu Sans"
INK = "#222222"
# ColorBrewer RdBu end points and a neutral grey (colour-blind safe for 5 points).
_NEG = (0xB2, 0x18, 0x2B)
_POS = (0x21, 0x66, 0xAC)
_MID = (0xD9, 0xD9, 0xD9)
#: Segments narrower than this share get no printed percentage.
MIN_LABELLED_SHARE = 0.07


@dataclass(frozen=True)
class Segment:
    """One answer category of one item: where its bar starts and how wide it is (shares)."""

    value: float
    label: str
    left: float
    width: float
    count: int
    color: str


@dataclass(frozen=True)
class LikertChart:
    """The chart's geometry: rows (construct, item), their segments, the categories."""

    rows: tuple[tuple[str, str], ...]
    segments: tuple[tuple[Segment, ...], ...]
    categories: tuple[tuple[float, str, str], ...]   # value, label, colour
    group_labels: Mapping[str, str]
    n: tuple[int, ...]

    @property
    def extent(self) -> float:
        """Largest distance of any bar end from zero (for a symmetric axis)."""
        ends = [abs(s.left) for segs in self.segments for s in segs[:1]]
        ends += [abs(segs[-1].left + segs[-1].width) for segs in self.segments if segs]
        return max(ends, default=1.0)


def _mix(a, b, t: float) -> str:
    r, g, bl = (round(a[i] + (b[i] - a[i]) * t) for i in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def likert_colors(k: int) -> list[str]:
    """``k`` diverging colours, red (disagree) through grey (middle) to blue (agree).

    >>> likert_colors(3)
    ['#b2182b', '#d9d9d9', '#2166ac']
    """
    if k <= 1:
        return [_mix(_MID, _MID, 0)]
    out = []
    for i in range(k):
        t = 2 * i / (k - 1) - 1            # -1 .. 1
        strength = 0.35 + 0.65 * abs(t)
        if abs(t) < 1e-9:
            out.append(_mix(_MID, _MID, 0))
        else:
            out.append(_mix(_MID, _NEG if t < 0 else _POS, strength))
    return out


def prepare_likert(distribution: pd.DataFrame,
                   labels: Mapping[str, str] | None = None) -> LikertChart:
    """Lay out a diverging stacked bar chart (shared by the plotly and matplotlib drawings).

    Parameters
    ----------
    distribution : DataFrame
        Columns ``item, construct, value, label, count, share``.
    labels : mapping of str to str, optional
        Long construct names (``{"HAB": "Habit"}``), shown as group headings.

    Returns
    -------
    LikertChart
        One row per item in table order; each row's segments run left to right, the
        first starting at minus (share below the middle + half the middle share).
        Disagreement is always on the left: categories whose labels run from agreeing
        to disagreeing (1 = Strongly agree) are laid out in reverse.
    """
    if not isinstance(distribution, pd.DataFrame):
        raise TypeError("distribution must be a pandas DataFrame")
    missing = [c for c in _REQUIRED if c not in distribution.columns]
    if missing:
        raise ValueError(f"distribution lacks the column(s) {missing}; expected {list(_REQUIRED)}")
    if distribution.empty:
        raise ValueError("distribution has no rows; nothing to draw")
    d = distribution.copy()
    d["value"] = pd.to_numeric(d["value"], errors="coerce")
    d = d[d["value"].notna()]
    cats = (d.drop_duplicates("value").sort_values("value")[["value", "label"]]
            .itertuples(index=False))
    cats = [(float(v), str(lab)) for v, lab in cats]
    if label_direction(dict(cats)) == -1:      # 1 = Strongly agree: agreement still right
        cats = cats[::-1]
    colors = likert_colors(len(cats))
    color_of = {v: c for (v, _), c in zip(cats, colors)}
    values = [v for v, _ in cats]
    k = len(values)
    middle = values[k // 2] if k % 2 else None
    below = set(values[: k // 2])

    rows, segments, ns = [], [], []
    for item, g in d.groupby("item", sort=False):
        g = g.sort_values("value")
        share = dict(zip(g["value"], g["share"].astype(float).fillna(0.0)))
        count = dict(zip(g["value"], g["count"]))
        left = -sum(share.get(v, 0.0) for v in below) - (share.get(middle, 0.0) / 2 if middle is not None else 0.0)
        segs = []
        for v, lab in cats:
            w = float(share.get(v, 0.0))
            c = count.get(v, 0)
            segs.append(Segment(v, lab, left, w, int(c) if is_number(c) else 0, color_of[v]))
            left += w
        rev = "reversed" in g and str(g["reversed"].iloc[0]).lower() == "true"
        rows.append((str(g["construct"].iloc[0]), str(item) + (" (reversed)" if rev else "")))
        segments.append(tuple(segs))
        ns.append(int(sum(s.count for s in segs)))
    return LikertChart(tuple(rows), tuple(segments), tuple((v, lab, color_of[v]) for v, lab in cats),
                       dict(labels or {}), tuple(ns))


def _group_title(chart: LikertChart, code: str) -> str:
    long = chart.group_labels.get(code)
    return f"{long} ({code})" if long and long != code else code


def _pct(share: float) -> str:
    return f"{format_percent(share, 0)}%"


# --------------------------------------------------------------------------- plotly
def likert_figure(distribution: pd.DataFrame, labels: Mapping[str, str] | None = None):
    """An interactive diverging stacked bar chart of the answers to every item.

    Parameters are those of :func:`prepare_likert`. Hovering a segment shows the item,
    the answer, its count and its share of the item's valid answers.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    chart = prepare_likert(distribution, labels)
    y = [[_group_title(chart, c) for c, _ in chart.rows], [i for _, i in chart.rows]]
    fig = go.Figure()
    for j, (v, lab, color) in enumerate(chart.categories):
        segs = [row[j] for row in chart.segments]
        fig.add_trace(go.Bar(
            orientation="h", name=lab, y=y, x=[s.width for s in segs], base=[s.left for s in segs],
            marker=dict(color=color, line=dict(color="white", width=0.5)),
            text=[_pct(s.width) if s.width >= MIN_LABELLED_SHARE else "" for s in segs],
            textposition="inside", insidetextanchor="middle",
            textfont=dict(size=10, color=INK if 0 < j < len(chart.categories) - 1 else "white"),
            # no counts (a group whose counts are suppressed): its shares only
            customdata=[[item, format_int(s.count) if n else "–", _pct(s.width), format_int(n) if n else "–"]
                        for (_, item), s, n in zip(chart.rows, segs, chart.n)],
            hovertemplate=(f"<b>%{{customdata[0]}}</b><br>{html.escape(lab)}: "
                           "%{customdata[1]} of %{customdata[3]} (%{customdata[2]})<extra></extra>"),
        ))
    ext = min(1.0, chart.extent + 0.05)
    ticks = [t / 100 for t in range(-100, 101, 25) if abs(t / 100) <= ext + 1e-9]
    fig.update_layout(
        barmode="overlay", bargap=0.25,
        height=int(90 + 22 * len(chart.rows) + 14 * len({c for c, _ in chart.rows})),
        margin=dict(l=10, r=10, t=50, b=40), plot_bgcolor="white", paper_bgcolor="white",
        font=dict(family=FONT_FAMILY + ", Arial, Helvetica, sans-serif", size=12, color=INK),
        legend=dict(orientation="h", x=0.5, xanchor="center", y=1.0, yanchor="bottom",
                    traceorder="normal"),
        xaxis=dict(range=[-ext, ext], tickvals=ticks,
                   ticktext=[_pct(abs(t)) for t in ticks], zeroline=True,
                   zerolinecolor="#555555", gridcolor="#eeeeee",
                   title="Share of valid answers (disagreement left, agreement right)"),
        yaxis=dict(autorange="reversed", showdividers=True, dividercolor="#bbbbbb"),
    )
    return fig


# --------------------------------------------------------------------------- matplotlib
def _draw(chart: LikertChart, fmt: str, dpi: float) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    if fmt == "svg":
        from matplotlib.backends.backend_svg import FigureCanvasSVG as Canvas
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg as Canvas

    # y positions: one unit per item, an extra gap and a heading per construct
    ypos, headings, y = [], [], 0.0
    prev = None
    for construct, _ in chart.rows:
        if construct != prev:
            y += 0.4 if prev is not None else 0.0
            headings.append((y, _group_title(chart, construct)))
            y += 0.9
            prev = construct
        ypos.append(y)
        y += 1.0
    height_units = y
    fig = Figure(figsize=(7.0, 0.9 + 0.24 * height_units), dpi=dpi)
    Canvas(fig)
    ax = fig.add_axes((0.11, 0.55 / (0.9 + 0.24 * height_units) + 0.0,
                       0.86, 1 - 1.05 / (0.9 + 0.24 * height_units)))
    font = dict(family=FONT_FAMILY)
    for j, (v, lab, color) in enumerate(chart.categories):
        segs = [row[j] for row in chart.segments]
        ax.barh(ypos, [s.width for s in segs], left=[s.left for s in segs], height=0.78,
                color=color, edgecolor="white", linewidth=0.5)
        dark = j in (0, len(chart.categories) - 1)
        for yy, s in zip(ypos, segs):
            if s.width >= MIN_LABELLED_SHARE:
                ax.text(s.left + s.width / 2, yy, _pct(s.width), ha="center", va="center",
                        fontsize=6.5, color="white" if dark else INK, **font)
    ext = min(1.0, chart.extent + 0.05)
    ax.set_xlim(-ext, ext)
    ax.set_ylim(height_units - 0.3, -0.3)
    ax.axvline(0, color="#555555", linewidth=0.8, zorder=0)
    ticks = [t / 100 for t in range(-100, 101, 25) if abs(t / 100) <= ext + 1e-9]
    ax.set_xticks(ticks, [_pct(abs(t)) for t in ticks], fontsize=7, **font)
    ax.set_yticks(ypos, [i for _, i in chart.rows], fontsize=7, **font)
    ax.tick_params(axis="y", length=0)
    for yy, title in headings:
        ax.text(-ext, yy, title, ha="left", va="center", fontsize=7.5, fontweight="bold",
                color=INK, **font)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("Share of valid answers (disagreement left, agreement right)", fontsize=7.5,
                  **font)
    ax.legend(handles=[Patch(facecolor=c, label=lab) for _, lab, c in chart.categories],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(chart.categories),
              frameon=False, fontsize=7, prop=dict(family=FONT_FAMILY, size=7))
    return figure_bytes(fig, fmt, dpi)


def likert_svg(distribution: pd.DataFrame, labels: Mapping[str, str] | None = None) -> bytes:
    """The chart of :func:`likert_figure` as SVG bytes (matplotlib; 1 unit = 1 point)."""
    return _draw(prepare_likert(distribution, labels), "svg", dpi=72)


def likert_png(distribution: pd.DataFrame, labels: Mapping[str, str] | None = None, *,
               dpi: float = 200) -> bytes:
    """The chart of :func:`likert_figure` as PNG bytes (matplotlib Agg)."""
    return _draw(prepare_likert(distribution, labels), "png", dpi=dpi)
