"""Report tables of the ordinal treatment of the answers, and the estimator in captions.

* :func:`sensitivity`: fit and standardised paths with the answers treated as continuous
  (ML/MLR) and as ordered categories (WLSMV), side by side (``results["ordinal"]``);
* :func:`thresholds`: the thresholds of an ordinal CFA (appendix);
* :func:`ordinal_reliability`: ordinal alpha and categorical omega per construct;
* :func:`name_estimator`: appends the estimator of the models behind a table to its note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from adoption.format import format_bounded, format_int, format_number, format_p_value, is_number
from adoption.report.content import Section, Table

__all__ = ["sensitivity", "thresholds", "ordinal_reliability", "estimator_text", "name_estimator"]

#: Fit rows of the sensitivity table and their heads.
_FIT_LABELS = {"chisq": "χ²", "df": "df", "pvalue": "p", "cfi": "CFI", "tli": "TLI",
               "rmsea": "RMSEA", "srmr": "SRMR", "nobs": "N"}
_MODEL_LABELS = {"cfa": "Measurement model (CFA)", "latent": "Latent structural model"}


def _value(name: str, v: Any) -> str:
    if name in ("df", "nobs"):
        return format_int(v)
    if name == "pvalue":
        return format_p_value(v)
    if name == "chisq":
        return format_number(v, 2)
    return format_bounded(v, 3) if is_number(v) else format_number(v)


def sensitivity(ordinal: Mapping[str, Any] | None) -> Table | None:
    """The sensitivity table: each model's fit and standardised paths (β, p) under both
    treatments of the answers; None when not computed."""
    rows_in = (ordinal or {}).get("sensitivity") or []
    if not rows_in:
        return None
    cont, ordi = ordinal.get("continuous_estimator", "ML"), ordinal.get("ordinal_estimator", "WLSMV")
    rows = []
    prev = None
    for r in rows_in:
        model = _MODEL_LABELS.get(r.get("model"), str(r.get("model")))
        head = model if model != prev else ""
        prev = model
        name = r.get("name")
        if r.get("kind") == "fit":
            rows.append((head, _FIT_LABELS.get(name, str(name)), _value(name, r.get("continuous")),
                         "", _value(name, r.get("ordinal")), ""))
        else:
            rows.append((head, str(name), format_bounded(r.get("continuous")),
                         format_p_value(r.get("continuous_pvalue")), format_bounded(r.get("ordinal")),
                         format_p_value(r.get("ordinal_pvalue"))))
    note = (f"Answers treated as continuous ({cont}) and as ordered categories ({ordi}, "
            "polychoric correlations, thresholds). Fit: under a robust or ordinal estimator the "
            "scaled test and robust indices. Paths: standardised coefficients β (std.all) and "
            "their p values. A path whose significance or sign differs between the columns "
            "depends on how the answers are treated.")
    return Table("sensitivity", f"Sensitivity: answers as continuous ({cont}) and as ordered "
                 f"categories ({ordi})", ("Model", "Measure / path", f"{cont}", "p", f"{ordi}", "p"),
                 tuple(rows), note, stub=2)


def thresholds(ordinal: Mapping[str, Any] | None) -> Table | None:
    """Thresholds of the ordinal CFA (lavaan ``item | t1``): estimate and SE."""
    rows_in = (ordinal or {}).get("thresholds") or []
    if not rows_in:
        return None
    rows = [(str(r.get("item")), str(r.get("threshold")), format_number(r.get("est"), 3),
             format_number(r.get("se"), 3)) for r in rows_in]
    return Table("thresholds", f"Thresholds of the measurement model ({ordinal.get('estimator')})",
                 ("Item", "Threshold", "Estimate", "SE"), tuple(rows),
                 "Thresholds on the scale of the item's latent response (lavaan op '|', "
                 f"{ordinal.get('parameterization') or 'delta'} parameterization): t_k separates "
                 "answer category k from k + 1.", stub=2)


def ordinal_reliability(rel: Mapping[str, Mapping[str, Any]] | None) -> Table | None:
    """Ordinal alpha and categorical omega beside Cronbach's alpha; None when absent."""
    if not rel or not any(is_number((r or {}).get("alpha_ordinal")) for r in rel.values()):
        return None
    rows = tuple((name, format_bounded(r.get("alpha"), 2), format_bounded(r.get("alpha_ordinal"), 2),
                  format_bounded(r.get("omega"), 2), format_bounded(r.get("omega_categorical"), 2))
                 for name, r in rel.items())
    return Table("reliability-ordinal", "Reliability with the answers as ordered categories",
                 ("Construct", "α (Pearson)", "ordinal α", "ω", "categorical ω"), rows,
                 "Ordinal α = Cronbach's alpha of the polychoric correlations (Zumbo et al., "
                 "2007); categorical ω = Green & Yang's (2009) omega of the WLSMV CFA "
                 "(semTools::compRelSEM). α and ω as in the reliability table. Both ordinal "
                 "figures are given only for constructs whose items are all ordinal.")


def estimator_text(results: Mapping[str, Any], key: str) -> str:
    """The estimator sentence of a table from its key (latent, composite, or the
    measurement model's), e.g. ``Estimator: WLSMV (items as ordered categories).``"""
    st = results.get("structural") if isinstance(results.get("structural"), Mapping) else {}
    run = (results.get("options") or {}).get("estimator")
    ordinal = (results.get("ordinal") or {}).get("ordinal")
    mixed = ordinal and bool((results.get("ordinal") or {}).get("continuous_items"))

    def est(m: str | None) -> str | None:
        model = (st or {}).get(m) if m else None
        return (model or {}).get("estimator") if isinstance(model, Mapping) else None

    if "composite" in key:
        e = est("composite") or run
        return f"Estimator: {e} (construct scores)." if e else ""
    if "latent" in key:
        e = est("latent") or run
    else:
        e = run
    if not e:
        return ""
    if mixed:
        return f"Estimator: {e} (some items as ordered categories, the others continuous)."
    return f"Estimator: {e}" + (" (items as ordered categories)." if ordinal else ".")


#: Tables whose numbers come from no model (descriptive).
_NO_MODEL = ("flow", "demographics", "items", "adequacy", "htmt", "methods", "spec",
             "sensitivity", "reliability-ordinal", "constructs", "efa")


def name_estimator(section: Section, results: Mapping[str, Any]) -> Section:
    """``section`` with the estimator named in the note of every model-based table."""
    blocks = []
    for b in section.blocks:
        if isinstance(b, Table) and not b.key.startswith(_NO_MODEL):
            key = b.key
            if section.key == "structural" and key in ("structural-fit", "hypotheses"):
                text = ("Composite model: " + estimator_text(results, "composite").removeprefix(
                    "Estimator: ") + " Latent model: " + estimator_text(results, "latent")
                    .removeprefix("Estimator: "))
            else:
                text = estimator_text(results, key)
            if text and text not in b.note:
                b = replace(b, note=(b.note + " " + text).strip())
        blocks.append(b)
    return replace(section, blocks=tuple(blocks))
