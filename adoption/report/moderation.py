"""Moderation tables and figures of the report, from ``structural.composite.moderation``
in results.json (:class:`adoption.structural.moderated.ModerationResults`): showing, not
computing; numbers are rounded here only. :func:`moderation_figures` gives, per moderated
path, a plain-language sentence (:mod:`adoption.report.moderation_text`), the interaction
plot and the Johnson-Neyman plot (:mod:`adoption.figures.moderation`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adoption.format import format_int, format_number, format_p_value, is_number
from adoption.report.content import Figure, Paragraph, Table
from adoption.report.moderation_text import moderation_sentence
from adoption.structural.moderated import moderation_caption

__all__ = ["moderation_tables", "moderation_figures"]


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


def moderation_figures(mod: Mapping[str, Any] | None,
                       labels: Mapping[str, str] | None = None) -> list:
    """Per moderated path: its sentence, interaction plot and (continuous moderator)
    Johnson-Neyman plot. Figure keys and file names come from the path's names."""
    if not isinstance(mod, Mapping):
        return []
    from adoption.figures.moderation import (interaction_figure, interaction_image, jn_figure,
                                             jn_image, moderated_paths, prepare_interaction,
                                             prepare_jn)

    out: list = []
    inter = {(r["lhs"], r["focal"], r["moderator"]): r for r in mod.get("interactions") or []}
    for path in moderated_paths(mod):
        lhs, focal, w = path
        stem = f"{lhs}_{focal}_{w}"
        if path in inter:
            slopes = [s for s in mod.get("slopes") or [] if (s["lhs"], s["focal"],
                                                             s["moderator"]) == path]
            out.append(Paragraph(moderation_sentence(inter[path], slopes, labels)))
        chart = prepare_interaction(mod, path, labels)
        out.append(Figure(f"interaction-{stem}", f"Interaction plot: {focal} × {w} → {lhs}",
                          chart.note, f"interaction_{stem}", plotly=interaction_figure(chart),
                          svg=interaction_image(chart, "svg"),
                          png=interaction_image(chart, "png"),
                          alt=f"Predicted {lhs} against {focal}, one line per value of {w}"))
        jn = prepare_jn(mod, path, labels)
        if jn is not None:
            out.append(Figure(f"jn-{stem}", f"Johnson–Neyman plot: slope of {focal} on {lhs} "
                              f"across {w}", jn.note, f"jn_{stem}", plotly=jn_figure(jn),
                              svg=jn_image(jn, "svg"), png=jn_image(jn, "png"),
                              alt=f"Slope of {focal} on {lhs} with its 95% band against {w}"))
    return out
