"""What every APA table shares: cut-off marks, the privacy threshold, intervals, and
the fit tables of the measurement and structural models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adoption.cutoffs import CUTOFFS, judge
from adoption.fitview import is_robust, plain_note, robust_caption, shown_fit
from adoption.format import (
    MISSING,
    format_bounded,
    format_int,
    format_number,
    format_p_value,
    is_number,
)
from adoption.privacy import SMALL_CELL
from adoption.report.content import Cell, Table


def cutoff_text(measure: str) -> str:
    """A cut-off as APA text: 'CFI ≥ .95 (acceptable ≥ .90)'."""
    direction, good, ok = CUTOFFS[measure]
    sign = "≥" if direction > 0 else "≤"
    name = {"cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR", "alpha": "α",
            "omega": "ω", "cr": "CR", "ave": "AVE", "htmt": "HTMT"}[measure]
    text = f"{name} {sign} {format_bounded(good)}"
    if ok != good:
        text += f" (acceptable {sign} {format_bounded(ok)})"
    return text


def marked(measure: str, value, digits: int = 3) -> Cell:
    """A value formatted without leading zero and marked by its cut-off."""
    return Cell(format_bounded(value, digits), judge(measure, value if is_number(value) else None))


def small_cell(results: Mapping[str, Any]) -> int:
    """The privacy threshold: ``results["privacy"]["small_cell"]`` if present, else 5."""
    v = (results.get("privacy") or {}).get("small_cell")
    return int(v) if is_number(v) and v >= 1 else SMALL_CELL


def fewer_than(k: int) -> str:
    return f"fewer than {k}"


def fit_row(label: str, f: Mapping[str, Any] | None) -> tuple:
    """One row of a fit table: χ², df, p, CFI, TLI, RMSEA [90% CI], SRMR, AIC, BIC.

    Under a robust estimator the scaled test and the robust indices
    (:func:`adoption.fitview.shown_fit`), marked by the cut-offs on those values."""
    if not f:
        return (label, *[MISSING] * 9)
    s = shown_fit(f)
    rmsea = marked("rmsea", s.get("rmsea"))
    ci = f"[{format_bounded(s.get('rmsea.ci.lower'), 3)}, {format_bounded(s.get('rmsea.ci.upper'), 3)}]"
    return (label, format_number(s.get("chisq")), format_int(s.get("df")),
            format_p_value(s.get("pvalue")), marked("cfi", s.get("cfi")), marked("tli", s.get("tli")),
            Cell(f"{rmsea.text} {ci}", rmsea.mark), marked("srmr", s.get("srmr")),
            format_number(s.get("aic"), 1), format_number(s.get("bic"), 1))


FIT_COLUMNS = ("Model", "χ²", "df", "p", "CFI", "TLI", "RMSEA [90% CI]", "SRMR", "AIC", "BIC")


#: The heads of a fit table whose models were fitted with a robust estimator.
ROBUST_FIT_COLUMNS = ("Model", "χ² (scaled)", "df", "p", "CFI (robust)", "TLI (robust)",
                      "RMSEA (robust) [90% CI]", "SRMR", "AIC", "BIC")


def fit_columns(fits: Sequence[Mapping[str, Any] | None]) -> tuple:
    """The heads of a fit table: robust ones when any of ``fits`` is robust."""
    return ROBUST_FIT_COLUMNS if any(is_robust(f) for f in fits) else FIT_COLUMNS


def fit_note(fits: Mapping[str, Mapping[str, Any] | None] | None = None) -> str:
    """Cut-offs; under a robust estimator, which values are shown and the ML ones."""
    note = ("Cut-offs (Hu & Bentler, 1999): " + "; ".join(cutoff_text(m) for m in ("cfi", "tli", "rmsea", "srmr"))
            + ". Values beyond the acceptable cut-off are marked.")
    shown = {label: shown_fit(f) for label, f in (fits or {}).items() if f}
    if any(s.robust for s in shown.values()):
        note += " " + robust_caption(ordinal=any(s.ordinal for s in shown.values())) + " " + \
            plain_note(shown, format_number, format_bounded)
    return note


def fit_table(key: str, title: str, fits: Mapping[str, Mapping[str, Any] | None]) -> Table | None:
    """A fit table of the models in ``fits`` (label -> fit measures) that have a fit."""
    fits = {label: f for label, f in fits.items() if f}
    if not fits:
        return None
    return Table(key, title, fit_columns(list(fits.values())),
                 tuple(fit_row(label, f) for label, f in fits.items()), fit_note(fits))


def arrow(lhs: str, rhs: str) -> str:
    """'rhs → lhs' for a regression ``lhs ~ rhs``."""
    return f"{rhs} → {lhs}"


def interval(lo, hi, digits: int = 3, bounded: bool = False) -> str:
    """``[lo, hi]``, or a dash when neither limit is known."""
    if not is_number(lo) and not is_number(hi):
        return MISSING
    f = format_bounded if bounded else format_number
    return f"[{f(lo, digits)}, {f(hi, digits)}]"


def key_values(key: str, title: str, pairs: Sequence[tuple[str, Any]], note: str = "") -> Table:
    """A two-column table of labels and values (methods, reproducibility)."""
    rows = tuple((k, "" if v is None else str(v)) for k, v in pairs)
    return Table(key, title, ("Item", "Value"), rows, note, stub=2)
