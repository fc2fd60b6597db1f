"""Moderation tables of the report, from ``structural.composite.moderation`` in
results.json (:class:`adoption.structural.moderated.ModerationResults`): showing, not
computing; numbers are rounded here only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adoption.format import format_int, format_number, format_p_value, is_number
from adoption.report.content import Table
from adoption.structural.moderated import moderation_caption

__all__ = ["moderation_tables"]


def _ci(r: Mapping[str, Any], lo: str = "ci.lower", hi: str = "ci.upper") -> str:
    if not (is_number(r.get(lo)) and is_number(r.get(hi))):
        return "–"
    return f"[{format_number(r[lo], 3)}, {format_number(r[hi], 3)}]"


def _interactions(rows: Sequence[Mapping[str, Any]], note: str, key: str) -> Table | None:
    body = tuple((f"{r['focal']} × {r['moderator']} → {r['lhs']}",
                  format_number(r.get("est"), 3), format_number(r.get("se"), 3),
                  format_p_value(r.get("pvalue")), _ci(r),
                  format_number(r.get("delta_r2"), 3),
                  f"F({format_int(r.get('df1'))}, {format_int(r.get('df2'))}) = "
                  f"{format_number(r.get('f'), 2)}", format_p_value(r.get("f.pvalue")))
                 for r in rows)
    if not body:
        return None
    return Table(f"moderation-{key}", "Interaction terms of the composite model",
                 ("Interaction", "b", "SE", "p", "95% CI", "ΔR²", "F test", "p (F)"),
                 body, note)


def _slopes(rows: Sequence[Mapping[str, Any]], key: str) -> Table | None:
    body = tuple((f"{r['focal']} → {r['lhs']}", f"{r['moderator']} {r['at']}",
                  format_number(r.get("value"), 2) if is_number(r.get("value")) else "–",
                  format_number(r.get("est"), 3), format_number(r.get("se"), 3),
                  format_p_value(r.get("pvalue")), _ci(r)) for r in rows)
    if not body:
        return None
    return Table(f"slopes-{key}", "Simple slopes (conditional effects of the focal predictor)",
                 ("Path", "Moderator at", "Value", "b", "SE", "p", "95% CI"), body,
                 "Moderator at its mean and ±1 SD (PROCESS's default), or in each category.",
                 stub=2)


def _conditional(rows: Sequence[Mapping[str, Any]], jn: Sequence[Mapping[str, Any]],
                 key: str) -> Table | None:
    body = tuple((" → ".join(r["path"]), r.get("effect", "").replace("_", " "),
                  f"{r.get('moderator')} {r.get('at')}".strip(),
                  format_number(r.get("est"), 3), format_number(r.get("boot.se"), 3),
                  _ci(r), _ci(r, "bca.lower", "bca.upper")) for r in rows)
    if not body:
        return None
    jn_text = "; ".join(f"{j['moderator']} = {format_number(j['value'], 2)}"
                        + ("" if j.get("in_range") else " (outside the observed range)")
                        for j in jn)
    note = ("Bootstrap SE and percentile CI (PROCESS's default) and BCa CI; index = index of "
            "moderated mediation (Hayes, 2015)."
            + (f" Johnson–Neyman points: {jn_text}." if jn_text else ""))
    return Table(f"conditional-{key}", "Conditional indirect effects and index of moderated "
                 "mediation", ("Path", "Effect", "Moderator at", "Effect size", "Boot SE",
                               "95% CI (percentile)", "95% CI (BCa)"), body, note, stub=3)


def moderation_tables(mod: Mapping[str, Any] | None, key: str = "composite") -> list[Table]:
    """The interaction, simple-slope and conditional-effect tables (those with rows)."""
    if not isinstance(mod, Mapping):
        return []
    note = moderation_caption(mod.get("centre", "mean"), mod.get("estimator", ""))
    tables = [_interactions(mod.get("interactions") or [], note, key),
              _slopes(mod.get("slopes") or [], key),
              _conditional(mod.get("conditional") or [], mod.get("johnson_neyman") or [], key)]
    return [t for t in tables if t is not None]
