"""The dashboard's one door to the data: list run directories, load one, cached.

Everything the pages show comes from here, read from a run directory written by
``adoption run``; nothing is refitted and the raw export is never opened.

Privacy is enforced here, before any page sees a table, by the run's one small-cell
rule (:mod:`adoption.privacy`, threshold ``results["privacy"]["small_cell"]``, default 5):

* the per-group answer counts are the run's ``tables/distribution_by_group.csv``, as
  the run wrote it (hidden groups already marked in its ``suppressed`` column); a table
  of an older run without that column is suppressed here by the same rule
  (:func:`adoption.privacy.suppress_group_distribution`). Respondent-level files
  (``responses.parquet``) are never read.

Paths are guarded: :func:`resolve_run` opens only a run directory that lies under the
root the dashboard was started with (the selector and the ``?run=`` URL parameter go
through it).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from adoption.privacy import SMALL_CELL, suppress_group_distribution
from adoption.report.build import construct_labels
from adoption.report.tables import small_cell
from adoption.results_layout import DISTRIBUTION_BY_GROUP

#: Environment variables set by :func:`adoption.dashboard_launch.launch`.
ENV_ROOT = "ADOPTION_DASHBOARD_ROOT"
ENV_RUN = "ADOPTION_DASHBOARD_RUN"
RESULTS = "results.json"
#: Columns of the per-group answer distribution.
BY_GROUP_COLUMNS = ["group_column", "group_value", "group_label", "n_group", "item", "construct",
                    "reversed", "value", "label", "count", "share"]


class RunNotFound(LookupError):
    """A requested run directory is not a run under the root."""


# --------------------------------------------------------------------------- where runs are
def root_dir() -> Path:
    """The folder whose runs the dashboard may open (``$ADOPTION_DASHBOARD_ROOT`` or ./reports)."""
    return Path(os.environ.get(ENV_ROOT) or "reports").expanduser().resolve()


def resolve_run(root: Path, name: str | os.PathLike) -> Path:
    """The run directory ``name`` (relative to ``root``), only if it lies under ``root``.

    ``name`` is resolved (symbolic links followed, ``..`` removed) and must be ``root``
    itself or inside it and hold a ``results.json``; anything else raises
    :class:`RunNotFound`, so a crafted selector value or URL cannot open other folders.
    """
    root = Path(root).resolve()
    text = os.fspath(name)
    if "\x00" in text:
        raise RunNotFound("invalid run name")
    path = (root / text).resolve()
    if path != root and not path.is_relative_to(root):
        raise RunNotFound(f"{text!r} is not under {root}")
    if not (path / RESULTS).is_file():
        raise RunNotFound(f"{text!r} is not a run directory (no {RESULTS})")
    return path


@dataclass(frozen=True)
class RunInfo:
    """One entry of the run selector."""

    name: str            # path relative to the root ('.' for the root itself)
    title: str
    date: str            # when results.json was written, UTC
    n: int | None        # rows analysed
    mtime: float

    @property
    def caption(self) -> str:
        n = f"N = {self.n:,}" if self.n is not None else "N unknown"
        return f"{self.title} · {self.date} · {n} · {self.name}"


#: the type of each top-level section of results.json that the pages read (None allowed)
SECTION_TYPES: dict[str, type] = {
    "title": str, "input": dict, "spec": dict, "options": dict, "sample": dict,
    "descriptives": dict, "normality": dict, "reliability": dict, "validity": dict, "efa": dict,
    "cfa": dict, "common_method": dict, "structural": dict, "hypotheses": list, "groups": dict,
    "constructs": dict, "privacy": dict, "warnings": dict}


def results_problem(r: Any) -> str | None:
    """Why a parsed results.json cannot be shown (a section of the wrong type), or None."""
    if not isinstance(r, dict):
        return f"results.json holds a {type(r).__name__}, not an object"
    for key, kind in SECTION_TYPES.items():
        v = r.get(key)
        if v is not None and not isinstance(v, kind):
            return f"'{key}' is a {type(v).__name__}, not a {kind.__name__}"
    for key, kind in (("rows_analysed", (int, float)),):
        v = (r.get("sample") or {}).get(key)
        if v is not None and (not isinstance(v, kind) or isinstance(v, bool)):
            return f"'sample.{key}' is a {type(v).__name__}, not a number"
    return None


def _info(root: Path, path: Path) -> RunInfo | str:
    """The selector's entry for a run, or the reason it cannot be shown."""
    f = path / RESULTS
    try:
        mtime = f.stat().st_mtime
        with f.open(encoding="utf-8") as fh:
            r = json.load(fh)
    except (OSError, ValueError) as exc:
        return f"results.json cannot be read ({exc.__class__.__name__})"
    problem = results_problem(r)
    if problem is not None:
        return problem
    n = (r.get("sample") or {}).get("rows_analysed")
    name = path.relative_to(root).as_posix() or "."
    date = _dt.datetime.fromtimestamp(mtime, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return RunInfo(name, str(r.get("title") or path.name), date,
                   int(n) if isinstance(n, (int, float)) else None, mtime)


def _scan(root: str) -> tuple[list[RunInfo], list[tuple[str, str]]]:
    base = Path(root).resolve()
    if not base.is_dir():
        return [], []
    found, broken = [], []
    for pattern in (RESULTS, f"*/{RESULTS}", f"*/*/{RESULTS}"):
        for f in base.glob(pattern):
            rel = f.parent.relative_to(base)
            if any(part.startswith(".") for part in rel.parts):
                continue
            try:
                path = resolve_run(base, rel)
            except RunNotFound:
                continue
            info = _info(base, path)
            if isinstance(info, RunInfo):
                found.append(info)
            else:
                broken.append((rel.as_posix() or ".", info))
    return sorted(found, key=lambda i: -i.mtime), sorted(broken)


@st.cache_data(ttl=10, show_spinner=False)
def list_runs(root: str) -> list[RunInfo]:
    """Run directories at ``root`` and up to two levels below it, newest first.

    Hidden folders (a run being written, ``.name.tmp-*``) are skipped; folders whose
    resolved path leaves the root (symbolic links) are skipped too, and so are runs whose
    results.json cannot be shown (:func:`skipped_runs` lists them with the reason).
    """
    return _scan(root)[0]


@st.cache_data(ttl=10, show_spinner=False)
def skipped_runs(root: str) -> list[tuple[str, str]]:
    """(name, reason) of the run directories under ``root`` that cannot be shown: their
    results.json is unreadable or has a section of the wrong type (:func:`results_problem`)."""
    return _scan(root)[1]


# --------------------------------------------------------------------------- one run
@dataclass(frozen=True)
class Run:
    """What the pages read: ``results.json`` and the aggregate tables of one run."""

    path: Path
    results: dict[str, Any]
    labels: dict[str, str]
    small_cell: int
    distribution: pd.DataFrame
    by_group: pd.DataFrame                  # privacy-safe: see :func:`read_by_group`
    group_names: dict[str, str] = field(default_factory=dict)   # column -> readable name
    by_group_source: str = ""
    mtime: float = 0.0                      # of results.json: part of every cache key

    @property
    def title(self) -> str:
        return str(self.results.get("title") or self.path.name)

    @property
    def structural(self) -> dict[str, Any]:
        """``{"composite": ..., "latent": ...}`` for the forms present (maybe empty)."""
        st_ = self.results.get("structural")
        if not isinstance(st_, dict):
            return {}
        return {k: st_[k] for k in ("composite", "latent") if isinstance(st_.get(k), dict)}


def _unescape(df: pd.DataFrame) -> pd.DataFrame:
    """Undo the run directory's CSV-injection escape (a leading apostrophe)."""
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].map(lambda v: v[1:] if isinstance(v, str) and v[:2] in
                              ("'=", "'+", "'-", "'@", "'\t", "'\r") else v)
    return df


def read_by_group(path: Path, k: int) -> tuple[pd.DataFrame, str]:
    """The run's per-group answer table with its small-cell marks (``suppressed``), and
    where it came from ("" and an empty table when the run has none)."""
    table = path / DISTRIBUTION_BY_GROUP
    if not table.is_file():
        return pd.DataFrame(columns=[*BY_GROUP_COLUMNS, "suppressed"]), ""
    df = _unescape(pd.read_csv(table, dtype={"group_value": str, "group_label": str,
                                             "suppressed": str}, keep_default_na=False,
                               na_values=[""]))
    if "group_label" not in df:
        df["group_label"] = df["group_value"]
    df = df[[c for c in [*BY_GROUP_COLUMNS, "suppressed"] if c in df]]
    if "suppressed" not in df:                      # a run written before the marks
        df = suppress_group_distribution(df, k)
    df["suppressed"] = df["suppressed"].fillna("").astype(str)
    return df, DISTRIBUTION_BY_GROUP


@st.cache_data(show_spinner="Reading the run directory …", max_entries=8)
def load_run(path: str, mtime: float) -> Run:
    """Read one run directory (``mtime`` of its results.json is part of the cache key)."""
    p = Path(path)
    with (p / RESULTS).open(encoding="utf-8") as fh:
        results = json.load(fh)
    k = small_cell(results)
    dist = pd.DataFrame((results.get("descriptives") or {}).get("distribution") or [])
    by_group, source = read_by_group(p, k)
    names = {c: c.replace("_", " ").capitalize() for c in by_group.get("group_column", pd.Series()).unique()}
    return Run(path=p, results=results, labels=construct_labels(results), small_cell=k,
               distribution=dist, by_group=by_group, group_names=names, by_group_source=source,
               mtime=mtime)


# --------------------------------------------------------------------------- the selection
def select_run(runs: list[RunInfo], requested: str | None, default: str | None) -> RunInfo | None:
    """The run to show: the requested one if listed, else the default, else the newest."""
    by_name = {r.name: r for r in runs}
    for name in (requested, default):
        if name and name in by_name:
            return by_name[name]
    return runs[0] if runs else None


def current() -> Run | None:
    """The run chosen in the sidebar (set by ``app.py``), loaded through the cache."""
    chosen = st.session_state.get("run_path")
    if not chosen:
        return None
    p = Path(chosen)
    try:
        mtime = (p / RESULTS).stat().st_mtime
    except OSError:
        return None
    return load_run(str(p), mtime)


__all__ = ["ENV_ROOT", "ENV_RUN", "SMALL_CELL", "Run", "RunInfo", "RunNotFound", "root_dir",
           "resolve_run", "list_runs", "skipped_runs", "results_problem", "load_run", "select_run", "current", "read_by_group"]
