"""Path diagrams of a multi-group model: one diagram per group, paths that differ marked.

Built on :mod:`adoption.figures.pathdiagram`: each group's diagram is that module's
diagram of the group's rows of ``results["groups"][column]["paths"]`` (lavaan
``parameterEstimates()`` columns plus ``group`` and ``group.label``), with the arrows of
the paths whose across-group equality test has ``pvalue < alpha`` drawn thick and in
orange. Every group of one column gets the same layout (the same paths), so the
diagrams can be set side by side. Nothing is computed here: the test results come from
``path_differences``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from adoption.figures.pathdiagram import prepare_path_diagram
from adoption.figures.pathdraw import PreparedDiagram, draw_matplotlib, draw_plotly

__all__ = ["DIFFERS", "differing_paths", "group_paths", "group_path_figure",
           "group_path_svg", "group_path_png"]

#: Colour of an arrow whose coefficient differs across groups.
DIFFERS = "#d95f02"
_NUMERIC = ("est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all")


def differing_paths(differences: Iterable[Mapping], alpha: float = 0.05) -> set[tuple[str, str]]:
    """The ``(lhs, rhs)`` of every path whose equality test across groups has p < alpha.

    ``differences`` are the rows of ``path_differences["paths"]`` (``lhs, op, rhs,
    chisq.diff, df.diff, pvalue``).
    """
    out = set()
    for d in differences or []:
        p = d.get("pvalue")
        if isinstance(p, (int, float)) and np.isfinite(p) and p < alpha:
            out.add((str(d.get("lhs")), str(d.get("rhs"))))
    return out


def group_paths(paths: Iterable[Mapping] | pd.DataFrame, group) -> pd.DataFrame:
    """One group's rows of the multi-group path table, numeric columns as floats."""
    df = pd.DataFrame(paths)
    if df.empty or "group" not in df:
        return pd.DataFrame(columns=["lhs", "op", "rhs", *_NUMERIC])
    df = df[df["group"].astype(str) == str(group)].copy()
    for c in _NUMERIC:
        df[c] = pd.to_numeric(df[c], errors="coerce") if c in df else float("nan")
    return df.reset_index(drop=True)


def _prepare(paths: pd.DataFrame, differing: set[tuple[str, str]], labels, alpha: float,
             **options) -> PreparedDiagram:
    prep = prepare_path_diagram(paths, None, labels, alpha=alpha, **options)
    styles = []
    for e, s in zip(prep.layout.edges, prep.styles):
        row = paths.loc[e.key[1]] if e.key[0] == "paths" else None
        if row is not None and row["op"] == "~" and (str(row["lhs"]), str(row["rhs"])) in differing:
            s = dataclasses.replace(s, color=DIFFERS, width=s.width + 1.5,
                                    hover=s.hover + "<br><b>differs across groups</b>")
        styles.append(s)
    note = prep.note + (" Orange, thicker: the path differs across groups (equality test "
                        f"p < {str(alpha).lstrip('0')})." if differing else "")
    return dataclasses.replace(prep, styles=tuple(styles), note=note)


def group_path_figure(paths: pd.DataFrame, differing: set[tuple[str, str]],
                      labels: Mapping[str, str] | None = None, *, alpha: float = 0.05,
                      **options):
    """The interactive diagram (plotly) of one group, paths in ``differing`` marked.

    Parameters
    ----------
    paths : one group's rows (:func:`group_paths`).
    differing : ``(lhs, rhs)`` of the paths that differ (:func:`differing_paths`).
    labels : long construct names by code.
    alpha : significance level of the dashed (non-significant) arrows.
    options : further options of :func:`adoption.figures.pathdiagram.path_figure`.
    """
    return draw_plotly(_prepare(paths, differing, labels, alpha, **options))


def group_path_svg(paths: pd.DataFrame, differing: set[tuple[str, str]],
                   labels: Mapping[str, str] | None = None, *, alpha: float = 0.05,
                   **options) -> bytes:
    """:func:`group_path_figure` as SVG bytes (matplotlib)."""
    return draw_matplotlib(_prepare(paths, differing, labels, alpha, **options), "svg", dpi=72)


def group_path_png(paths: pd.DataFrame, differing: set[tuple[str, str]],
                   labels: Mapping[str, str] | None = None, *, alpha: float = 0.05,
                   dpi: float = 200, **options) -> bytes:
    """:func:`group_path_figure` as PNG bytes (matplotlib)."""
    return draw_matplotlib(_prepare(paths, differing, labels, alpha, **options), "png", dpi=dpi)
