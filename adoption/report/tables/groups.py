"""Tables of the group comparisons: group sizes (small groups suppressed), measurement
invariance and partial invariance, path coefficients by group and the omnibus test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adoption.fitview import is_robust, shown_fit
from adoption.format import (
    MISSING,
    format_bounded,
    format_int,
    format_number,
    format_p,
    format_p_value,
    is_number,
    stars,
)
from adoption.privacy import SMALL, SMALL_CELL, hidden_cells, redact_counts
from adoption.report.content import Cell, Table
from adoption.report.tables.common import arrow, cutoff_text, fewer_than
from adoption.vocabulary import ORDINAL_ESTIMATORS


#: Invariance levels in order, as named in the tables.
INVARIANCE_LEVELS = {"configural": "Configural", "metric": "Metric (loadings)",
                     "scalar": "Scalar (+ intercepts)", "strict": "Strict (+ residuals)"}


def group_label(row: Mapping[str, Any]) -> str:
    """A group's label, falling back to its value."""
    label = row.get("label", row.get("group.label"))
    return str(label if label is not None else row.get("value", row.get("group")))


def small_groups(comparison: Mapping[str, Any], threshold: int = SMALL_CELL) -> set[str]:
    """The values (as text) of the groups of one column with fewer than ``threshold``
    respondents (in ``sizes`` or in ``excluded_groups``): their numbers are not shown."""
    out = {str(s.get("value")) for s in comparison.get("sizes") or []
           if (is_number(s.get("n")) and s["n"] < threshold) or s.get("suppressed") == SMALL}
    out |= {str(e.get("value")) for e in comparison.get("excluded_groups") or []
            if is_number(e.get("n")) and e["n"] < threshold}
    return out


def redact_small_counts(text: str, comparison: Mapping[str, Any], threshold: int = SMALL_CELL) -> str:
    """A pipeline message with the counts of small groups replaced by "fewer than k".

    The group stage's warnings and exclusion reasons name the count of a group left out
    ("(3 respondents)", "only 3 complete rows"); below the privacy threshold that count
    is not shown.
    """
    small = [(group_label(e), e.get("n"), SMALL) for e in comparison.get("excluded_groups") or []
             if is_number(e.get("n")) and e["n"] < threshold]
    text = redact_counts(text, small, threshold)
    return text


def group_sizes(comparison: Mapping[str, Any], key: str, threshold: int = SMALL_CELL) -> Table | None:
    """Respondents per group of one column, and whether each group was compared.

    Counts below ``threshold`` show "fewer than k"; when only one count is that small the
    next smallest is suppressed too (see :func:`suppressed_cells`). Groups left out of an
    analysis (fewer than ``min_group_size`` usable rows) are listed as such.
    """
    sizes = list(comparison.get("sizes") or [])
    if not sizes:
        return None
    small, hide2 = hidden_cells(sizes, "n", threshold)
    left_out: dict[str, list[str]] = {}
    for e in comparison.get("excluded_groups") or []:
        what = {"all": "all comparisons", "invariance": "invariance tests",
                "paths": "path model"}.get(str(e.get("analysis")), str(e.get("analysis")))
        left_out.setdefault(str(e.get("value")), []).append(what)
    rows = []
    for i, s in enumerate(sizes):
        if i in small:
            n = Cell(fewer_than(threshold), "suppressed")
        elif i in hide2:
            n = Cell("suppressed", "suppressed")
        else:
            n = format_int(s.get("n"))
        out = left_out.get(str(s.get("value")))
        status = "Left out of " + ", ".join(out) if out else "Compared"
        rows.append((group_label(s), n, status))
    nm, nm_mark = comparison.get("n_missing"), comparison.get("n_missing_suppressed")
    if nm_mark or (is_number(nm) and nm > 0):
        rows.append(("No value", Cell(fewer_than(threshold), "suppressed") if nm_mark == SMALL or
                     (is_number(nm) and nm < threshold) else Cell("suppressed", "suppressed")
                     if nm_mark else format_int(nm), "Left out"))
    note = (f"Groups with fewer than {threshold} respondents show \"{fewer_than(threshold)}\", "
            "to protect their privacy. Groups below the spec's min_group_size are left out "
            "of the comparisons, never merged with another group.")
    if hide2:
        note += " The next smallest group is suppressed too, so the small count cannot be recovered."
    return Table(f"group-sizes-{key}", f"Group sizes: {comparison.get('label') or key}",
                 ("Group", "n", "Status"), tuple(rows), note, text=(2,))


def _delta(comp: Mapping[str, Any], name: str, digits: int = 3) -> Cell | str:
    v = comp.get(f"{name}.diff")
    if not is_number(v):
        return MISSING
    ok = comp.get(f"{name}.ok")
    return Cell(format_bounded(v, digits), "poor" if ok is False else None)


def invariance_model_name(entry: Mapping[str, Any]) -> str:
    """The row name of one fitted model: 'Scalar (+ intercepts)', or 'Partial scalar'
    for the refit with constraints released after the level failed."""
    level = str(entry.get("level"))
    if entry.get("partial"):
        return f"Partial {level}"
    return str(entry.get("label") or INVARIANCE_LEVELS.get(level, level))


def _invariance_fit(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """The fit values of one invariance row: :func:`shown_fit`, except for ordered items
    (WLSMV, ULSMV), whose CFI, TLI and RMSEA are lavaan's scaled ones (it gives no
    robust ones once thresholds are held equal), as the ordinal decision uses."""
    f = shown_fit(entry.get("fit"))
    if (entry.get("comparison") or {}).get("indices") != "scaled" and \
            entry.get("estimator") not in ORDINAL_ESTIMATORS:
        return f
    fit = entry.get("fit") or {}
    return {**f.values, **{k: fit.get(f"{k}.scaled") for k in
                           ("cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper")}}


def _rmsea_ci(f: Mapping[str, Any]) -> str:
    text = format_bounded(f.get("rmsea"), 3)
    lo, hi = f.get("rmsea.ci.lower"), f.get("rmsea.ci.upper")
    if is_number(lo) and is_number(hi):
        text += f" [{format_bounded(lo, 3)}, {format_bounded(hi, 3)}]"
    return text


def _supported_cell(e: Mapping[str, Any]) -> Cell | str:
    sup = e.get("supported")
    if not e.get("comparison") and e.get("level") != "configural":
        return MISSING
    if sup is None:
        return Cell("not tested", "suppressed")
    if sup:
        return Cell("Yes" + (" (partial)" if e.get("partial") else ""), "good")
    if e.get("level") == "configural" and (e.get("configural") or {}).get("poor"):
        return Cell("No (poor fit)", "poor")
    return Cell("No", "poor")


def _invariance_notes(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """Sentences on the configural fit and on levels whose χ² difference is
    significant although the change in fit passes Chen's rule."""
    notes = []
    conf = next((e for e in entries if e.get("level") == "configural"), {})
    if conf.get("configural"):
        notes.append("The configural model is judged first, by the cut-offs "
                     + ", ".join(cutoff_text(m) for m in ("cfi", "rmsea", "srmr"))
                     + ": when it fits poorly, no level of invariance holds and the "
                       "higher levels are shown, not tested.")
    for e in entries:
        c = e.get("comparison") or {}
        if e.get("supported") and c.get("chisq.rejects"):
            notes.append(f"{invariance_model_name(e)} passes Chen's rule although its χ² "
                         f"difference against {c.get('vs')} is significant "
                         f"(Δχ²({format_int(c.get('df.diff'))}) = "
                         f"{format_number(c.get('chisq.diff'))}, {format_p(c.get('pvalue'))}): "
                         "the groups differ by more than chance, by an amount the change "
                         "in fit judges small.")
    return notes


def invariance(comparison: Mapping[str, Any], key: str) -> Table | None:
    """Measurement invariance: the fit of each model and its change from the previous
    supported one.

    One row per fitted model: each level with all its constraints (kept when it fails,
    with its comparison and verdict) and, after a failed level, the partial model with
    the constraints released. Columns: model, χ², df, CFI, TLI, RMSEA [90% CI], SRMR,
    Δχ² (df) and its p, ΔCFI, ΔRMSEA, ΔSRMR (changes beyond Chen's (2007) cut-offs
    marked), supported, and the constraints released (only when some were).
    """
    entries = list(comparison.get("invariance") or [])
    if not entries:
        return None
    rows = []
    robust = False
    cutoffs: dict[str, dict] = {}
    for e in entries:
        f = _invariance_fit(e)     # scaled chi-square, robust CFI/RMSEA under MLM/MLR
        c = e.get("comparison") or {}
        robust = robust or c.get("indices") == "robust"
        if c.get("cutoffs"):
            cutoffs[str(e.get("level"))] = c["cutoffs"]
        freed = ", ".join(str(x) for x in e.get("freed") or []) or "–"
        chi = (f"{format_number(c.get('chisq.diff'))} ({format_int(c.get('df.diff'))})"
               if c else "–")
        rows.append((invariance_model_name(e),
                     format_number(f.get("chisq")), format_int(f.get("df")),
                     format_bounded(f.get("cfi"), 3), format_bounded(f.get("tli"), 3),
                     _rmsea_ci(f), format_bounded(f.get("srmr"), 3), chi,
                     format_p_value(c.get("pvalue")) if c else "–",
                     _delta(c, "cfi") if c else "–", _delta(c, "rmsea") if c else "–",
                     _delta(c, "srmr") if c else "–", _supported_cell(e), freed))
    cut = []
    for lvl, cu in cutoffs.items():
        cut.append(f"{lvl}: ΔCFI ≥ {format_bounded(cu.get('cfi.diff'), 3)}, "
                   f"ΔRMSEA ≤ {format_bounded(cu.get('rmsea.diff'), 3)}, "
                   f"ΔSRMR ≤ {format_bounded(cu.get('srmr.diff'), 3)}")
    heads = ("Model", "χ²", "df", "CFI", "TLI", "RMSEA [90% CI]", "SRMR", "Δχ² (Δdf)", "p",
             "ΔCFI", "ΔRMSEA", "ΔSRMR", "Supported", "Released")
    released = any(e.get("freed") for e in entries)
    if not released:        # no partial invariance: the column would be all dashes
        heads, rows = heads[:-1], [r[:-1] for r in rows]
    methods = {str((e.get("comparison") or {}).get("method")) for e in entries if e.get("comparison")}
    note = ("Each level adds equality constraints across groups and is compared with the "
            "previous supported model. A level is supported when the changes in fit stay "
            "within the cut-offs of Chen (2007)" + (" (" + "; ".join(cut) + ")" if cut else "")
            + "; changes beyond them are marked. The χ² difference test is shown but does not "
            "decide" + (" (Satorra-Bentler scaled)" if "satorra.bentler.2001" in methods else "")
            + (". When a level fails, its model is kept with its comparison, followed by the "
               "partial model with the constraints released (largest score test first; "
               "Released: all constraints freed in the model), compared with the same model."
               if released else ". No equality constraint was released (no partial invariance)."))
    note = " ".join([note, *_invariance_notes(entries)])
    ordinal = sorted({str(e.get("estimator")) for e in entries
                      if e.get("estimator") in ORDINAL_ESTIMATORS})
    if ordinal:
        note += (f" Items as ordered categories ({', '.join(ordinal)}): χ² is the mean- and "
                 "variance-adjusted statistic (lavaan chisq.scaled), CFI, TLI and RMSEA and "
                 "their changes lavaan's scaled indices (.scaled; it gives no robust ones once "
                 "thresholds are held equal); Δχ² is lavTestLRT's scaled-shifted difference "
                 "test (satorra.2000).")
    elif robust or any(is_robust(e.get("fit")) for e in entries):
        note += (" χ² is the scaled statistic, CFI and RMSEA and their changes the robust "
                 "indices.")
    title = f"Measurement invariance across {comparison.get('label') or key}"
    if ordinal:
        title += f" ({', '.join(ordinal)}, items as ordered categories)"
    return Table(f"invariance-{key}", title,
                 heads, tuple(rows), note, text=(13,) if released else ())


def invariance_headline(comparison: Mapping[str, Any]) -> str | None:
    """The invariance result in one or two sentences: the highest level supported, or
    why none is (a configural model that fits poorly), and what was released."""
    entries = list(comparison.get("invariance") or [])
    if not entries:
        return None
    highest = comparison.get("highest_level")
    conf = next((e for e in entries if e.get("level") == "configural"), {})
    poor = (conf.get("configural") or {}).get("poor") or []
    if highest:
        text = f"Highest level of invariance supported: {highest}."
    elif poor:
        f = conf.get("fit") or {}
        robust = (entries[-1].get("comparison") or {}).get("indices") == "robust"
        values = ", ".join(
            f"{m.upper()} = {format_bounded(f.get(m + ('.robust' if robust and m != 'srmr' else '')), 3)}"
            for m in poor)
        text = (f"No level of invariance is supported: the configural model fits poorly "
                f"({values}; {', '.join(cutoff_text(m) for m in poor)}), so not even the "
                "same factor structure holds in every group and the higher levels are not "
                "tested.")
    else:
        text = "No level of invariance is supported."
    partial = comparison.get("partial") or []
    if partial:
        text += (" Partial invariance: released " + ", ".join(
            f"{p.get('parameter')} ({p.get('level')})" for p in partial) + ".")
    return text


def partial_invariance(comparison: Mapping[str, Any], key: str) -> Table | None:
    """The constraints released for partial invariance, with their score tests."""
    rows = [(str(p.get("level", "")).capitalize(), str(p.get("parameter")),
             format_number(p.get("X2")), format_int(p.get("df")), format_p_value(p.get("pvalue")))
            for p in comparison.get("partial") or []]
    if not rows:
        return None
    return Table(f"partial-{key}", f"Constraints released for partial invariance across "
                 f"{comparison.get('label') or key}", ("Level", "Parameter", "Score χ²", "df", "p"),
                 tuple(rows), "Score test (lavaan lavTestScore) of each released equality "
                 "constraint, in the order released.", stub=2)


def group_paths_table(comparison: Mapping[str, Any], key: str, threshold: int = SMALL_CELL,
                      alpha: float = 0.05) -> Table | None:
    """Path coefficients (β) per group side by side, with each path's equality test.

    A path whose equality test across groups has p < ``alpha`` is marked. The
    coefficients of a group with fewer than ``threshold`` respondents are not shown.
    """
    paths = [p for p in comparison.get("paths") or [] if p.get("op") == "~"]
    if not paths:
        return None
    small = small_groups(comparison, threshold)
    groups: dict[str, str] = {}
    for p in paths:
        groups.setdefault(str(p.get("group")), group_label(p))
    by = {(str(p.get("lhs")), str(p.get("rhs")), str(p.get("group"))): p for p in paths}
    tests = {(str(d.get("lhs")), str(d.get("rhs"))): d
             for d in (comparison.get("path_differences") or {}).get("paths") or []}
    rows = []
    for lhs, rhs in dict.fromkeys((str(p.get("lhs")), str(p.get("rhs"))) for p in paths):
        d = tests.get((lhs, rhs), {})
        differs = is_number(d.get("pvalue")) and d["pvalue"] < alpha
        cells: list = [Cell(arrow(lhs, rhs), "strong") if differs else arrow(lhs, rhs)]
        for g in groups:
            p = by.get((lhs, rhs, g))
            if g in small:
                cells.append(Cell(fewer_than(threshold), "suppressed"))
            elif p is None:
                cells.append(MISSING)
            else:
                cells.append(format_bounded(p.get("std.all")) + stars(p.get("pvalue")))
        cells += [f"{format_number(d.get('chisq.diff'))} ({format_int(d.get('df.diff'))})" if d else MISSING,
                  Cell(format_p_value(d.get("pvalue")), "poor") if differs else
                  (format_p_value(d.get("pvalue")) if d else MISSING)]
        rows.append(tuple(cells))
    heads = ("Path", *[f"β {label}" for label in groups.values()], "Δχ² (Δdf)", "p (equal)")
    note = ("β = standardised coefficient (std.all) in each group, from the multi-group path "
            "model on the construct scores; * p < .05, ** p < .01, *** p < .001. Δχ²: the path "
            "held equal across groups against all paths free; paths that differ "
            f"(p < {format_bounded(alpha)}) are marked.")
    if small & set(groups):
        note += f" Groups with fewer than {threshold} respondents are not shown."
    return Table(f"group-paths-{key}", f"Path coefficients by {comparison.get('label') or key}",
                 heads, tuple(rows), note)


def omnibus_text(comparison: Mapping[str, Any]) -> str | None:
    """The test of all paths equal across groups, in one sentence (APA)."""
    o = (comparison.get("path_differences") or {}).get("omnibus") or {}
    if not is_number(o.get("chisq.diff")):
        return None
    p = o.get("pvalue")
    verdict = ("the paths differ across groups as a set" if is_number(p) and p < 0.05
               else "no evidence that the paths differ across groups as a set")
    return (f"Omnibus test of all paths equal across {comparison.get('label') or 'groups'}: "
            f"Δχ²({format_int(o.get('df.diff'))}) = {format_number(o.get('chisq.diff'))}, "
            f"{format_p(p)}; {verdict}.")
