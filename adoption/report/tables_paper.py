"""The tables a paper starts its measurement section with: the construct table (means,
SDs, correlations of the construct scores, alpha on the diagonal) and the EFA's rotated
loadings. Showing only, as :mod:`adoption.report.tables` (numbers rounded here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adoption.format import (
    MISSING,
    format_bounded,
    format_int,
    format_number,
    format_percent,
    is_number,
)
from adoption.report.content import Cell, Table

__all__ = ["EFA_BLANK_BELOW", "construct_scores", "efa_loadings"]


def construct_scores(rows_in: Sequence[Mapping[str, Any]] | None,
                     labels: Mapping[str, str] | None = None) -> Table | None:
    """Means, SDs and correlations of the construct scores, Cronbach's alpha on the
    diagonal (the table most papers start with)."""
    if not rows_in:
        return None
    names = [str(r.get("construct")) for r in rows_in]
    labels = labels or {}
    rows = []
    for i, r in enumerate(rows_in):
        name = f"{labels[names[i]]} ({names[i]})" if labels.get(names[i]) else names[i]
        cells: list = [f"{i + 1}. {name}", format_number(r.get("mean")), format_number(r.get("sd"))]
        for j, b in enumerate(names):
            if j > i:
                cells.append("")
            elif j == i:
                a = r.get("alpha")
                cells.append(Cell(f"({format_bounded(a)})", None) if is_number(a) else MISSING)
            else:
                cells.append(format_bounded(r.get(b)))
        rows.append(tuple(cells))
    ns = sorted({int(r["n"]) for r in rows_in if is_number(r.get("n"))})
    n_text = (f"N = {format_int(ns[0])}" if len(ns) == 1 else
              f"n = {format_int(ns[0])} to {format_int(ns[-1])}" if ns else "")
    note = ("Construct scores are the means of each construct's answered items (a score needs at "
            "least half of the items). Cronbach's α in parentheses on the diagonal; below it, "
            "Pearson correlations (pairwise complete)" + (f"; {n_text}." if n_text else "."))
    return Table("constructs", "Means, standard deviations, reliabilities and correlations of the "
                 "construct scores", ("Construct", "M", "SD", *[str(i) for i in range(1, len(names) + 1)]),
                 tuple(rows), note)


#: Pattern loadings below this (in absolute value) are left blank in the EFA table.
EFA_BLANK_BELOW = 0.30


def efa_loadings(efa: Mapping[str, Any] | None) -> Table | None:
    """The rotated pattern loadings of the EFA, communalities and variance explained.

    Each item's largest loading is in bold; loadings below :data:`EFA_BLANK_BELOW` are
    left blank; items flagged weak (largest loading < .40) or cross-loading are marked.
    """
    rows_in = list((efa or {}).get("loadings") or [])
    if not rows_in:
        return None
    factors = [v.get("factor") for v in efa.get("variance") or []] or sorted(
        (k for k in rows_in[0] if k[:1] == "F" and k[1:].isdigit()), key=lambda k: int(k[1:]))
    rows = []
    for r in rows_in:
        item = str(r.get("item"))
        if r.get("low_loading") or r.get("cross_loading"):
            item = Cell(item + (" ‡" if r.get("low_loading") else " †"), "poor")
        cells: list = [item, str(r.get("construct") or "")]
        for f in factors:
            v = r.get(f)
            if not is_number(v) or abs(v) < EFA_BLANK_BELOW:
                cells.append("")
            else:
                cells.append(Cell(format_bounded(v), "strong" if f == r.get("primary_factor") else None))
        cells.append(format_bounded(r.get("communality")))
        rows.append(tuple(cells))
    var = {v.get("factor"): v for v in efa.get("variance") or []}
    if var:
        rows.append(("SS loadings", "", *[format_number(var.get(f, {}).get("ss_loadings")) for f in factors], ""))
        rows.append(("% of variance", "", *[format_percent(var.get(f, {}).get("proportion")) for f in factors], ""))
    rot = efa.get("rotation") or "no"
    note = (f"Minimum-residual factoring, {rot} rotation, {format_int(len(factors))} factors "
            "(parallel analysis); pattern loadings. Each item's largest loading is in bold; "
            f"loadings below {format_bounded(EFA_BLANK_BELOW)} in absolute value are not shown. "
            "h² = communality. † loads ≥ .30 on a second factor; ‡ no loading reaches .40. "
            "Rows with a missing answer are left out.")
    return Table("efa", "Exploratory factor analysis: rotated loadings",
                 ("Item", "Construct", *factors, "h²"), tuple(rows), note, stub=2)
