"""Report blocks of the latent interactions (``structural.latent.moderation``).

:func:`latent_moderation_blocks` gives a heading, one table of the structural rows
``Y ~ X``, ``Y ~ Z``, ``Y ~ X:Z`` per interaction (b, SE, z, p, 95% CI), the method and its
assumptions in a paragraph, and the notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adoption.format import format_number, format_p_value
from adoption.report.content import Heading, Paragraph, Table

__all__ = ["latent_moderation_blocks"]


def latent_moderation_blocks(moderation: Mapping[str, Any] | None) -> list:
    """Heading, tables and paragraphs for a latent model's interactions; [] without."""
    if not isinstance(moderation, Mapping):
        return []
    blocks: list = [Heading("Latent interactions")]
    for res in moderation.get("interactions") or []:
        rows = tuple((f"{r['lhs']} ← {r['rhs']}", format_number(r.get("est"), 3),
                      format_number(r.get("se"), 3), format_number(r.get("z"), 2),
                      format_p_value(r.get("pvalue")),
                      f"[{format_number(r.get('ci.lower'), 3)}, "
                      f"{format_number(r.get('ci.upper'), 3)}]")
                     for r in res.get("interaction") or [])
        details = "; ".join(f"{k}: {v}" for k, v in (res.get("details") or {}).items())
        note = (f"Method: {res.get('method')} ({details}); N = {res.get('nobs')}. "
                f"Unstandardised coefficients; Wald z tests and normal 95% CIs. "
                f"{res.get('assumptions', '')}")
        blocks.append(Table(f"latent-interaction-{res.get('outcome')}-{res.get('term')}",
                            f"Latent interaction {res.get('term')} on {res.get('outcome')}",
                            ("Path", "b", "SE", "z", "p", "95% CI"), rows, note))
        for w in res.get("warnings") or []:
            blocks.append(Paragraph(str(w), "warning"))
    for n in moderation.get("notes") or []:
        blocks.append(Paragraph(str(n)))
    return blocks
