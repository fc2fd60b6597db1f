"""Figures of a run, built by ``adoption.figures`` from the run's tables and cached.

The functions here only pick the table out of the run and call the pure figure builders;
the cache key is the run's path, the mtime of its results.json and the options (the run
object itself is not hashed).
"""

from __future__ import annotations

import warnings

import pandas as pd
import streamlit as st

from adoption.figures.pathdiagram import path_figure, path_png, path_svg

_NUMERIC = ("est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all")


def _paths(model: dict) -> tuple[pd.DataFrame, dict[str, float]] | None:
    est = pd.DataFrame(model.get("estimates") or [])
    if est.empty or "op" not in est or not (est["op"] == "~").any():
        return None
    est = est.copy()
    for c in _NUMERIC:
        est[c] = pd.to_numeric(est[c], errors="coerce") if c in est else float("nan")
    paths = est[est["op"].isin(["~", "~~"])].reset_index(drop=True)
    r2 = {k: float(v) for k, v in (model.get("r2") or {}).items() if v is not None}
    return paths, r2


def _draw(drawer, run, form: str, standardized: bool, hide: bool):
    got = _paths(run.structural.get(form) or {})
    if got is None:
        return None
    paths, r2 = got
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return drawer(paths, r2, run.labels, standardized=standardized, hide_nonsignificant=hide)


@st.cache_data(max_entries=32, show_spinner=False)
def _cached(kind: str, path: str, mtime: float, form: str, standardized: bool, hide: bool, _run):
    drawer = {"figure": path_figure, "png": path_png, "svg": path_svg}[kind]
    return _draw(drawer, _run, form, standardized, hide)


def path_diagram(run, form: str, standardized: bool, hide: bool):
    """The interactive path diagram (plotly) of one form of the model, or None."""
    return _cached("figure", str(run.path), run.mtime, form, standardized, hide, run)


def path_diagram_png(run, form: str, standardized: bool, hide: bool) -> bytes:
    return _cached("png", str(run.path), run.mtime, form, standardized, hide, run)


def path_diagram_svg(run, form: str, standardized: bool, hide: bool) -> bytes:
    return _cached("svg", str(run.path), run.mtime, form, standardized, hide, run)


def likert_by_group(by_group: pd.DataFrame) -> pd.DataFrame:
    """Per-group answer rows reshaped for :func:`adoption.figures.likert.likert_figure`.

    Each item becomes a heading (``construct``) and each of its groups a bar (``item`` =
    "ITEM · group"), so the chart compares the groups item by item. Suppressed rows
    (groups below the small-cell threshold) must have been removed by the caller.
    """
    d = by_group.copy()
    rev = (d["reversed"].astype(str).str.lower() == "true") if "reversed" in d else False
    d["construct"] = d["item"].astype(str) + pd.Series(rev, index=d.index).map(
        {True: " (reversed)", False: ""})
    # the chart keys bars by their text: the group's name, made unique per item by
    # trailing zero-width spaces (invisible)
    order = {item: i for i, item in enumerate(dict.fromkeys(d["construct"]))}
    d["item"] = [f"{_short(g)}{chr(0x200B) * order[i]}"
                 for g, i in zip(d["group_label"].astype(str), d["construct"])]
    d["_order"] = d["construct"].map(order)
    d = d.sort_values("_order", kind="stable")          # item by item, groups in table order
    return d[["item", "construct", "value", "label", "count", "share"]]


def _short(label: str, width: int = 11) -> str:
    """Long group names cut for the chart's axis (the static chart's margin is fixed)."""
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


@st.cache_data(max_entries=16, show_spinner=False)
def flow_diagram(sample_json: str, fmt: str) -> bytes:
    """The report's CONSORT-style sample-flow diagram (PNG or SVG) of ``results["sample"]``."""
    import json

    from adoption.report.flow import flow_image

    return flow_image(json.loads(sample_json), fmt=fmt, dpi=150 if fmt == "png" else 72)


@st.cache_data(max_entries=64, show_spinner=False)
def _group_cached(fmt: str, path: str, mtime: float, column: str, group: str, _run):
    from adoption.figures.groupdiagram import (differing_paths, group_path_png, group_path_svg,
                                               group_paths)

    comp = (_run.results.get("groups") or {}).get(column) or {}
    paths = group_paths([p for p in comp.get("paths") or [] if p.get("op") == "~"], group)
    if paths.empty:
        return None
    differing = differing_paths((comp.get("path_differences") or {}).get("paths"))
    drawer = {"png": lambda *a: group_path_png(*a, dpi=150), "svg": group_path_svg}[fmt]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return drawer(paths, differing, _run.labels)


def group_diagram(run, column: str, group: str, fmt: str = "png") -> bytes | None:
    """One group's path diagram (PNG or SVG), paths that differ across groups in orange."""
    return _group_cached(fmt, str(run.path), run.mtime, column, str(group), run)
