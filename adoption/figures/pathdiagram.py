"""Path diagrams of a fitted structural model: interactive (plotly) and static (SVG, PNG).

All three drawings come from one :class:`~adoption.figures.layout.DiagramLayout`, so the
web figure and the image in the report show the same boxes in the same places (this
module decides what is drawn and how each arrow looks; :mod:`adoption.figures.pathdraw`
draws it):

* :func:`path_figure` -> ``plotly.graph_objects.Figure`` (hover on every arrow gives
  b, beta, SE, z, p and the 95% CI; shapes have no hover, so an invisible marker sits
  on each arrow's label);
* :func:`path_svg`, :func:`path_png` -> bytes, drawn with matplotlib's Agg and SVG
  backends (no browser, no network, no kaleido).

Input is the project's vocabulary (lavaan's ``parameterEstimates()`` columns):
regressions are rows with ``op == "~"`` (``lhs`` the outcome, ``rhs`` the predictor),
covariances ``"~~"`` and loadings ``"=~"``. Numbers are formatted here, when drawn,
in APA style by :mod:`adoption.format`: no leading zero for quantities bounded by 1
(beta, r, R², p), ``p < .001``.
"""

from __future__ import annotations

import html
import textwrap
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from adoption.figures.layout import EdgeSpec, layout_diagram
from adoption.figures.pathdraw import EdgeStyle, PreparedDiagram, draw_matplotlib, draw_plotly
from adoption.format import format_bounded, format_number, format_p, stars
from adoption.vocabulary import OP_COVARIANCE, OP_LOADING, OP_REGRESSION

__all__ = [
    "EdgeStyle",
    "PreparedDiagram",
    "prepare_path_diagram",
    "path_figure",
    "path_svg",
    "path_png",
    "format_bounded",
    "format_number",
    "format_p",
    "stars",
]


POSITIVE = "#1f4e79"


NEGATIVE = "#b2182b"


COV_POSITIVE = "#6f8296"


COV_NEGATIVE = "#c77b84"


_REQUIRED = ("lhs", "op", "rhs", "est", "se", "pvalue", "std.all")


def _check_table(paths: pd.DataFrame, name: str) -> None:
    if not isinstance(paths, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame of parameter estimates")
    missing = [c for c in _REQUIRED if c not in paths.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {missing}; expected lavaan's "
                         f"parameterEstimates() columns {list(_REQUIRED)}")
    drawn = paths[paths["op"].isin([OP_REGRESSION, OP_COVARIANCE, OP_LOADING])]
    dup = drawn[drawn.duplicated(["lhs", "op", "rhs"], keep=False)]
    if not dup.empty:
        lhs, op, rhs = dup.iloc[0][["lhs", "op", "rhs"]]
        n = int(((dup["lhs"] == lhs) & (dup["op"] == op) & (dup["rhs"] == rhs)).sum())
        raise ValueError(
            f"{name} has {n} rows for {lhs} {op} {rhs}; draw one model at a time "
            "(for a multi-group fit, keep one group's rows, e.g. paths[paths['group'] == 1])")


def _wrap(label: str, width: int = 18) -> list[str]:
    return textwrap.wrap(label, width=width, break_on_hyphens=True) or [label]


def _hover(row: pd.Series, arrow: str) -> str:
    lo, hi = row.get("ci.lower", np.nan), row.get("ci.upper", np.nan)
    z = row.get("z", np.nan)
    lines = [
        f"<b>{html.escape(arrow)}</b>",
        f"b = {format_number(row['est'], 3)}, SE = {format_number(row['se'], 3)}",
        f"β = {format_bounded(row['std.all'], 3)}",
        f"z = {format_number(z, 2)}, {format_p(row['pvalue'])}",
        f"95% CI [{format_number(lo, 3)}, {format_number(hi, 3)}]",
    ]
    return "<br>".join(lines)


def _label(row: pd.Series, coef_col: str, standardized: bool, with_stars: bool = True) -> str:
    """An arrow's label: beta (no leading zero) or b, with stars for its p value."""
    coef = row[coef_col]
    text = format_bounded(coef) if standardized else format_number(coef)
    return text + stars(row["pvalue"]) if with_stars else text


def _edge_specs(paths: pd.DataFrame, regs: pd.DataFrame, exog: set, coef_col: str,
                standardized: bool, keep, show_items: bool, loadings: pd.DataFrame | None,
                show_covariances: bool) -> tuple[list[EdgeSpec], list[pd.Series], dict]:
    """The arrows to lay out (regressions, then covariances, then loadings), the row
    behind each, and the text of the item boxes. ``keep(row)`` says whether a
    regression or covariance row is drawn."""
    specs: list[EdgeSpec] = []
    rows: list[pd.Series] = []
    for idx, row in regs.iterrows():
        if keep(row):
            specs.append(EdgeSpec(row["rhs"], row["lhs"], "regression",
                                  _label(row, coef_col, standardized), ("paths", idx)))
            rows.append(row)
    if show_covariances:
        covs = paths[(paths["op"] == OP_COVARIANCE) & (paths["lhs"] != paths["rhs"])]
        for idx, row in covs.iterrows():
            if row["lhs"] not in exog or row["rhs"] not in exog:
                continue  # only correlations among exogenous variables are drawn
            if keep(row):
                specs.append(EdgeSpec(row["lhs"], row["rhs"], "covariance",
                                      _label(row, coef_col, standardized), ("paths", idx)))
                rows.append(row)
    item_lines: dict[str, list[str]] = {}
    if show_items:
        source = "loadings" if loadings is not None else "paths"
        load = loadings if loadings is not None else paths
        _check_table(load, source)
        load = load[load["op"] == OP_LOADING]
        drawn = set(regs["lhs"]) | set(regs["rhs"])
        for idx, row in load.iterrows():
            if row["lhs"] not in drawn:
                continue
            specs.append(EdgeSpec(row["lhs"], row["rhs"], "loading",
                                  _label(row, coef_col, standardized, with_stars=False),
                                  (source, idx)))
            rows.append(row)
            item_lines[row["rhs"]] = [str(row["rhs"])]
    return specs, rows, item_lines


def _edge_styles(layout, by_key: Mapping, coef_col: str, standardized: bool,
                 significant) -> tuple[EdgeStyle, ...]:
    """One style per laid-out edge: colour by sign, width by |coefficient| (relative to
    the largest when unstandardised), dashed when not significant, hover text."""
    coefs = [abs(by_key[e.key][coef_col]) for e in layout.edges if e.kind != "loading"]
    scale = max([c for c in coefs if np.isfinite(c)], default=1.0) or 1.0
    styles = []
    for e in layout.edges:
        row = by_key[e.key]
        coef = row[coef_col]
        c = abs(coef) if np.isfinite(coef) else 0.0
        if e.kind == "loading":
            width = 0.9
        elif e.kind == "covariance":
            width = 0.5 + 0.8 * min(c if standardized else c / scale, 1.0)
        else:
            rel = c if standardized else c / scale
            width = 0.7 + 3.0 * min(rel, 1.0)
        arrow = {"regression": f"{e.source} → {e.target}",
                 "covariance": f"{e.source} ↔ {e.target}",
                 "loading": f"{e.source} → {e.target} (loading)"}[e.kind]
        styles.append(EdgeStyle(
            color=(NEGATIVE if coef < 0 else POSITIVE) if e.kind != "covariance"
            else (COV_NEGATIVE if coef < 0 else COV_POSITIVE),
            width=width,
            dashed=not significant(row) if e.kind != "loading" or np.isfinite(row["pvalue"]) else False,
            heads=2 if e.kind == "covariance" else 1,
            hover=_hover(row, arrow),
        ))
    return tuple(styles)


def _note(standardized: bool, alpha: float, hide_nonsignificant: bool, show_covariances: bool,
          n_exogenous: int) -> str:
    """The figure note: what the numbers, stars, dashes, colours and widths mean."""
    what = "Standardised coefficients (β)" if standardized else "Unstandardised coefficients (b)"
    note = (f"{what}; * p < .05, ** p < .01, *** p < .001. "
            f"Dashed: p ≥ {format_bounded(alpha)}. Blue positive, red negative; "
            "width ∝ |coefficient|.")
    if hide_nonsignificant:
        note += f" Paths with p ≥ {format_bounded(alpha)} hidden."
    if not show_covariances and n_exogenous > 1:
        note += " Correlations among exogenous variables not shown."
    return note


def _node_hover(layout, labels: Mapping[str, str], r2: Mapping[str, float]) -> tuple[str, ...]:
    """One hover text per box: its code, its long name and its R²."""
    out = []
    for n in layout.nodes:
        text = f"<b>{html.escape(n.name)}</b>"
        if n.name in labels:
            text += f"<br>{html.escape(labels[n.name])}"
        if n.name in r2 and np.isfinite(r2[n.name]):
            text += f"<br>R² = {format_bounded(r2[n.name], 3)}"
        out.append(text)
    return tuple(out)


def prepare_path_diagram(
    paths: pd.DataFrame,
    r2: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    *,
    standardized: bool = True,
    hide_nonsignificant: bool = False,
    alpha: float = 0.05,
    show_items: bool = False,
    loadings: pd.DataFrame | None = None,
    show_covariances: bool = False,
    draw_note: bool = True,
) -> PreparedDiagram:
    """Lay out the diagram and decide how every arrow looks (shared by all renderers).

    Parameters are those of :func:`path_figure`.

    Returns
    -------
    PreparedDiagram
        ``layout`` (a :class:`~adoption.figures.layout.DiagramLayout` whose edges carry
        ``("paths" or "loadings", row index)`` of their estimate in ``key``), one
        :class:`EdgeStyle` per edge,
        the note printed under the figure and one hover text per node.
    """
    _check_table(paths, "paths")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    r2 = dict(r2 or {})
    labels = dict(labels or {})
    coef_col = "std.all" if standardized else "est"
    regs = paths[paths["op"] == OP_REGRESSION]
    if regs.empty:
        raise ValueError("paths has no regression rows (op '~'); nothing to draw")
    exog = set(regs["rhs"]) - set(regs["lhs"])

    def significant(row: pd.Series) -> bool:
        return bool(np.isfinite(row["pvalue"]) and row["pvalue"] < alpha)

    specs, rows, node_lines = _edge_specs(
        paths, regs, exog, coef_col, standardized,
        lambda row: not (hide_nonsignificant and not significant(row)),
        show_items, loadings, show_covariances)
    for v in sorted(set(regs["lhs"]) | set(regs["rhs"])):
        lines = _wrap(labels.get(v, v))
        if v in r2 and np.isfinite(r2[v]):
            lines.append(f"R² = {format_bounded(r2[v])}")
        node_lines[v] = lines
    structure = [(r.rhs, r.lhs) for r in regs.itertuples()]
    layout = layout_diagram(specs, node_lines, structure=structure)
    if not layout.complete:
        warnings.warn("path diagram: some labels or arrows could not be placed without "
                      "overlap; the best attempt is drawn", RuntimeWarning, stacklevel=2)
    by_key = {spec.key: row for spec, row in zip(specs, rows)}
    return PreparedDiagram(layout, _edge_styles(layout, by_key, coef_col, standardized, significant),
                           _note(standardized, alpha, hide_nonsignificant, show_covariances,
                                 len(exog)),
                           _node_hover(layout, labels, r2), draw_note)


def path_figure(
    paths: pd.DataFrame,
    r2: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    *,
    standardized: bool = True,
    hide_nonsignificant: bool = False,
    alpha: float = 0.05,
    show_items: bool = False,
    loadings: pd.DataFrame | None = None,
    show_covariances: bool = False,
    draw_note: bool = True,
):
    """An interactive path diagram of a fitted structural model.

    Parameters
    ----------
    paths : DataFrame
        Parameter estimates with lavaan's columns ``lhs, op, rhs, est, se, z, pvalue,
        ci.lower, ci.upper, std.all``. Rows with ``op == "~"`` are drawn as arrows
        from ``rhs`` to ``lhs``; ``"~~"`` rows between two exogenous variables are drawn
        as two-headed arcs when ``show_covariances``; ``"=~"`` rows are used as loadings
        when ``show_items`` and ``loadings`` is None. Other rows are ignored.
    r2 : mapping of str to float, optional
        R-squared of each endogenous variable, printed inside its box.
    labels : mapping of str to str, optional
        Long names (``{"HAB": "Habit"}``); the code is shown when absent.
    standardized : bool, default True
        Label arrows with ``std.all`` (beta) rather than ``est`` (b).
    hide_nonsignificant : bool, default False
        Leave out arrows with ``pvalue >= alpha`` (variables keep their columns).
    alpha : float, default 0.05
        Significance level for dashing (and hiding) arrows. Stars always use
        .05 / .01 / .001.
    show_items : bool, default False
        Draw each factor's items as small boxes outside it (left of exogenous
        factors, right of outcomes, above or below mediators) with their loadings.
    loadings : DataFrame, optional
        ``"=~"`` rows to use for the items (default: those in ``paths``).
    show_covariances : bool, default False
        Draw correlations among exogenous variables as arcs left of their column.
    draw_note : bool, default True
        Print the note (what widths, dashes and stars mean) under the diagram; False
        where a caption carries it (the report), so the note is not shown twice.

    Returns
    -------
    plotly.graph_objects.Figure
        Boxes, arrows and labels as layout shapes and annotations in inch coordinates
        (96 px per inch), one invisible hover marker per arrow and per box.

    Notes
    -----
    Arrow width grows with |coefficient|; dashed arrows are not significant at
    ``alpha``; blue is positive, red negative. The same geometry is drawn by
    :func:`path_svg` and :func:`path_png`.

    Examples
    --------
    >>> import pandas as pd
    >>> pe = pd.DataFrame({"lhs": ["Y"], "op": ["~"], "rhs": ["X"], "est": [0.5],
    ...     "se": [0.1], "z": [5.0], "pvalue": [1e-6], "ci.lower": [0.3],
    ...     "ci.upper": [0.7], "std.all": [0.45]})
    >>> fig = path_figure(pe, {"Y": 0.2})
    """
    prep = prepare_path_diagram(paths, r2, labels, standardized=standardized,
                                hide_nonsignificant=hide_nonsignificant, alpha=alpha,
                                show_items=show_items, loadings=loadings,
                                show_covariances=show_covariances, draw_note=draw_note)
    return draw_plotly(prep)


def path_svg(paths: pd.DataFrame, r2: Mapping[str, float] | None = None,
             labels: Mapping[str, str] | None = None, **options) -> bytes:
    """The path diagram of :func:`path_figure` as SVG bytes (matplotlib, no browser).

    Takes the same arguments as :func:`path_figure`. Text is written as SVG ``<text>``
    (``svg.fonttype = "none"``), so labels can be edited in Inkscape or Illustrator;
    1 SVG unit is 1 point.
    """
    prep = prepare_path_diagram(paths, r2, labels, **options)
    return draw_matplotlib(prep, "svg", dpi=72)


def path_png(paths: pd.DataFrame, r2: Mapping[str, float] | None = None,
             labels: Mapping[str, str] | None = None, *, dpi: float = 200, **options) -> bytes:
    """The path diagram of :func:`path_figure` as PNG bytes (matplotlib Agg, no browser).

    Takes the same arguments as :func:`path_figure`, plus ``dpi`` (default 200).
    """
    prep = prepare_path_diagram(paths, r2, labels, **options)
    return draw_matplotlib(prep, "png", dpi=dpi)


def path_drawings(paths: pd.DataFrame, r2: Mapping[str, float] | None = None,
                  labels: Mapping[str, str] | None = None, *, dpi: float = 200,
                  **options) -> tuple:
    """One diagram laid out once and drawn three ways, with its note.

    Takes the arguments of :func:`path_figure` (and ``dpi`` of the PNG). Returns
    ``(plotly figure, SVG bytes, PNG bytes, note)``: with ``draw_note=False`` the note
    is returned for a caption instead of being printed in the images.
    """
    prep = prepare_path_diagram(paths, r2, labels, **options)
    return (draw_plotly(prep), draw_matplotlib(prep, "svg", dpi=72),
            draw_matplotlib(prep, "png", dpi=dpi), prep.note)
