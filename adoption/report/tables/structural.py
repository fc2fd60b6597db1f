"""Tables of the structural models: fit, path coefficients and the intervals of β,
R², indirect and total effects, hypotheses, alternative models and their comparison,
modification indices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adoption.cutoffs import hypothesis_result
from adoption.fitview import is_robust
from adoption.format import (
    MISSING,
    format_bounded,
    format_int,
    format_number,
    format_p_value,
    is_number,
    stars,
)
from adoption.report.content import Cell, Table
from adoption.report.tables.common import arrow, fit_columns, fit_row, fit_table, interval
from adoption.vocabulary import sign_word


def structural_fit(models: Mapping[str, Mapping[str, Any]]) -> Table | None:
    """Fit of each structural model present (composite path model, latent SEM)."""
    return fit_table("structural-fit", "Fit of the structural models",
                     {label: (m or {}).get("fit") for label, m in models.items()})


def beta_intervals(model: Mapping[str, Any] | None) -> dict[tuple[str, str], tuple[Any, Any]]:
    """Bootstrap 95% intervals of each direct path's β: ``{(lhs, rhs): (lower, upper)}``.

    Read from the model's ``direct`` effects (``std.all.ci.lower`` / ``.upper``, the
    percentile interval of the resampled std.all); empty when the model was not
    bootstrapped (the delta-method interval is then in the estimates, ``std.all.ci.*``).
    """
    out = {}
    for r in (model or {}).get("direct") or []:
        path = r.get("path")
        lo, hi = r.get("std.all.ci.lower"), r.get("std.all.ci.upper")
        if isinstance(path, (list, tuple)) and len(path) == 2 and (is_number(lo) or is_number(hi)):
            out[(str(path[1]), str(path[0]))] = (lo, hi)
    return out


#: Where the interval of β comes from, for table notes (bootstrapped model).
BETA_CI_NOTE = ("95% CI of β: bootstrap percentile interval of the standardised coefficient "
                "(resampled std.all).")


#: Where the SE (and, without bootstrap, the interval) of β comes from.
BETA_SE_NOTE = ("SE of β: delta-method standard error of the standardised coefficient "
                "(as lavaan's standardizedSolution()).")


BETA_DELTA_CI_NOTE = "95% CI of β: delta method, β ± 1.96 SE of β."


def has_beta_se(rows: Sequence[Mapping[str, Any]] | None, prefix: str = "") -> bool:
    """Whether the rows carry the delta-method SE of β (``<prefix>std.all.se``); results
    of runs before it was computed, and ordinal (WLSMV) fits, do not."""
    return any(is_number(r.get(prefix + "std.all.se")) for r in rows or [])


def beta_cells(r: Mapping[str, Any], boot: Mapping[tuple[str, str], tuple[Any, Any]] | None,
               prefix: str = "") -> tuple[str, str]:
    """(SE of β, 95% CI of β) of one path row: the interval from ``boot`` (see
    :func:`beta_intervals`) when the model was bootstrapped, else the delta-method one
    (``<prefix>std.all.ci.lower`` / ``.upper``)."""
    se = format_number(r.get(prefix + "std.all.se"), 3)
    if boot:
        lo, hi = boot.get((str(r.get("lhs")), str(r.get("rhs"))), (None, None))
    else:
        lo, hi = r.get(prefix + "std.all.ci.lower"), r.get(prefix + "std.all.ci.upper")
    return se, interval(lo, hi, bounded=True)


def beta_note(boot: bool, delta: bool) -> str:
    """The table note saying where the SE and the interval of β come from."""
    parts = ([BETA_SE_NOTE] if delta else []) + \
        ([BETA_CI_NOTE] if boot else [BETA_DELTA_CI_NOTE] if delta else [])
    return " ".join(parts)


#: how each fit measure of the model comparison is shown: (formatter, digits)
_COMPARISON_FORMAT = {"chisq": (format_number, 2), "df": (None, 0), "pvalue": (None, 3),
                      "aic": (format_number, 1), "bic": (format_number, 1)}


def _comparison_cell(quantity: str, kind: str, v) -> str:
    if kind != "fit":
        return format_number(v, 3)  # a std.all can exceed 1 (a suppressor): leading zero kept
    role = quantity.removesuffix(".scaled").removesuffix(".robust")
    if role == "df":
        return format_int(v) if is_number(v) and float(v).is_integer() else format_number(v, 2)
    if role == "pvalue":
        return format_p_value(v)
    fmt, digits = _COMPARISON_FORMAT.get(role, (format_bounded, 3))
    return fmt(v, digits)


def model_comparison(frame) -> Table | None:
    """Every fitted structural model side by side: the fit values shown for the run's
    estimator (lavaan names) and each path's standardised estimate (std.all).

    ``frame`` is :func:`adoption.fitview.model_comparison_frame` of the results."""
    if frame is None or len(frame) == 0:
        return None
    models = [c for c in frame.columns if c not in ("quantity", "kind")]
    rows = []
    for r in frame.to_dict("records"):
        q, kind = r["quantity"], r["kind"]
        label = q if kind == "fit" else arrow(*[x.strip() for x in q.split("~", 1)]) + " (β)"
        rows.append((label, *[_comparison_cell(q, kind, r[m]) for m in models]))
    note = ("Fit measures under lavaan's fitMeasures() names (under MLM/MLR the scaled test "
            "and robust indices); paths are completely standardised estimates (lavaan std.all); "
            f"{MISSING} where a model has no such path. Composite: path model on construct means; "
            "latent: full SEM; an alternative is named after the form it was fitted in.")
    return Table("model-comparison", "Comparison of the fitted structural models",
                 ("Quantity", *models), tuple(rows), note)


def coefficients(model: Mapping[str, Any], key: str, label: str) -> Table | None:
    """Regression coefficients: b, SE, beta, its delta-method SE (when the results carry
    it), z, p, the 95% CI of b and the 95% CI of beta (bootstrap when the model was
    bootstrapped, else delta method; absent when neither is available)."""
    betas = beta_intervals(model)
    regs = [r for r in model.get("estimates") or [] if r.get("op") == "~"]
    delta = has_beta_se(regs)
    rows = []
    for r in regs:
        se_beta, ci_beta = beta_cells(r, betas)
        row = (arrow(r.get("lhs"), r.get("rhs")), format_number(r.get("est"), 3),
               format_number(r.get("se"), 3), format_bounded(r.get("std.all")) + stars(r.get("pvalue")),
               *((se_beta,) if delta else ()),
               format_number(r.get("z")), format_p_value(r.get("pvalue")),
               f"[{format_number(r.get('ci.lower'), 3)}, {format_number(r.get('ci.upper'), 3)}]",
               *((ci_beta,) if betas or delta else ()))
        rows.append(row)
    if not rows:
        return None
    note = ("b = unstandardised coefficient; β = standardised coefficient (std.all); "
            "* p < .05, ** p < .01, *** p < .001. Confidence intervals of b from the standard errors.")
    if betas or delta:
        note += " " + beta_note(bool(betas), delta)
    return Table(f"coefficients-{key}", f"Path coefficients of the {label}",
                 ("Path", "b", "SE", "β", *(("SE of β",) if delta else ()), "z", "p", "95% CI of b",
                  *(("95% CI of β",) if betas or delta else ())),
                 tuple(rows), note)


def outcome_r2(model: Mapping[str, Any]) -> dict[str, Any]:
    """R² of the structural outcomes only (lhs of a regression), not of the items.

    Without regression rows in ``estimates`` every R² given is kept.
    """
    r2 = dict(model.get("r2") or {})
    outcomes = {r.get("lhs") for r in model.get("estimates") or [] if r.get("op") == "~"}
    return {k: v for k, v in r2.items() if k in outcomes} if outcomes else r2


def r_squared(model: Mapping[str, Any], key: str, label: str,
              labels: Mapping[str, str] | None = None) -> Table | None:
    """Variance explained (R²) in each endogenous variable."""
    r2 = outcome_r2(model)
    if not r2:
        return None
    labels = labels or {}
    rows = [(v, labels.get(v, ""), format_bounded(x)) for v, x in r2.items()]
    return Table(f"r2-{key}", f"Variance explained in the {label}", ("Variable", "Name", "R²"),
                 tuple(rows), "", stub=2)


_INTERVAL_NAMES = {"bca": "BCa 95% CI", "std.all.ci": "95% CI of β", "boot": "bootstrap 95% CI"}


def _extra_intervals(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Prefixes X of further interval columns X.lower / X.upper (e.g. bca, std.all.ci)."""
    cols = set().union(*(r.keys() for r in rows)) if rows else set()
    out = []
    for c in sorted(cols):
        if c.endswith(".lower") and c != "ci.lower" and c[:-6] + ".upper" in cols:
            if any(is_number(r.get(c)) for r in rows):
                out.append(c[:-6])
    return out


def _path_text(r: Mapping[str, Any]) -> str:
    p = r.get("path")
    if isinstance(p, (list, tuple)) and p:
        return " → ".join(str(x) for x in p)
    return str(r.get("name", ""))


def effects(rows_in: Sequence[Mapping[str, Any]] | None, key: str, title: str,
            bootstrap: Mapping[str, Any] | None = None) -> Table | None:
    """Indirect or total effects with their (bootstrap) confidence intervals."""
    if not rows_in:
        return None
    extra = _extra_intervals(rows_in)
    rows = []
    for r in rows_in:
        cells = [_path_text(r), format_number(r.get("est"), 3), format_number(r.get("se"), 3),
                 format_bounded(r.get("std.all"), 3), format_p_value(r.get("pvalue")),
                 interval(r.get("ci.lower"), r.get("ci.upper"))]
        lo, hi = r.get("ci.lower"), r.get("ci.upper")
        excludes_zero = is_number(lo) and is_number(hi) and (lo > 0 or hi < 0)
        cells[-1] = Cell(cells[-1], "strong" if excludes_zero else None)
        for x in extra:
            cells.append(interval(r.get(x + ".lower"), r.get(x + ".upper"), bounded=x.startswith("std.all")))
        cells.append(str(r.get("ci_method") or MISSING) if cells[5].text != MISSING else MISSING)
        rows.append(tuple(cells))
    heads = ("Path", "b", "SE", "β", "p", "95% CI", *[_INTERVAL_NAMES.get(x, f"95% CI ({x})") for x in extra],
             "CI method")
    note = "b = unstandardised, β = standardised (std.all). Intervals that exclude zero are in bold."
    if bootstrap and is_number(bootstrap.get("B")):
        note += (f" Bootstrap: {format_int(bootstrap.get('B'))} resamples, seed "
                 f"{bootstrap.get('seed', MISSING)}")
        if is_number(bootstrap.get("failed")) and bootstrap.get("failed"):
            note += f", {format_int(bootstrap.get('failed'))} failed and left out"
        if bootstrap.get("method"):
            note += f"; {bootstrap['method']}"
        note += "."
    return Table(key, title, heads, tuple(rows), note, text=(len(heads) - 1,))


def hypotheses(rows_in: Sequence[Mapping[str, Any]] | None,
               betas: Mapping[tuple[str, str], tuple[Any, Any]] | None = None) -> Table | None:
    """Each hypothesis: the path, its expected sign, beta, p, CI and whether it holds.

    When the rows carry ``latent.std.all`` / ``latent.pvalue`` / ``latent.supported``
    (the same path in the latent model), these are shown too. ``betas`` (see
    :func:`beta_intervals`) gives the bootstrap 95% CI of beta in the composite model;
    rows carrying ``std.all.se`` (``latent.std.all.se``) add the delta-method SE of beta
    and, without ``betas``, its delta-method interval.
    """
    if not rows_in:
        return None
    latent = any(is_number(r.get("latent.std.all")) for r in rows_in)
    delta, delta_l = has_beta_se(rows_in), latent and has_beta_se(rows_in, "latent.")
    with_ci = bool(betas) or delta

    def verdict(sup, sign):
        word = hypothesis_result(sup, sign)
        if word is None:
            return Cell(MISSING)
        return Cell(word.capitalize(), "poor" if word.startswith("not") else "good")

    rows = []
    for r in rows_in:
        raw = r.get("expected_sign")
        se_b, ci_b = beta_cells(r, betas)
        cells = [str(r.get("id", "")), arrow(r.get("lhs"), r.get("rhs")), sign_word(raw),
                 format_bounded(r.get("std.all")) + stars(r.get("pvalue")),
                 *([se_b] if delta else []), format_p_value(r.get("pvalue")),
                 f"[{format_number(r.get('ci.lower'), 3)}, {format_number(r.get('ci.upper'), 3)}]",
                 *([ci_b] if with_ci else []), verdict(r.get("supported"), raw)]
        if latent:
            se_l, ci_l = beta_cells(r, None, "latent.")
            cells += [format_bounded(r.get("latent.std.all")) + stars(r.get("latent.pvalue")),
                      *([se_l] if delta_l else []), format_p_value(r.get("latent.pvalue")),
                      *([ci_l] if delta_l else []), verdict(r.get("latent.supported"), raw)]
        rows.append(tuple(cells))
    heads = ["Hypothesis", "Path", "Expected", "β", *(["SE of β"] if delta else []), "p",
             "95% CI of b", *(["95% CI of β"] if with_ci else []), "Result"]
    note = ("A hypothesis is supported when its path is significant (p < .05) with the expected "
            "sign; a path without an expected sign is only called significant or not. "
            "* p < .05, ** p < .01, *** p < .001.")
    if with_ci:
        note += " " + beta_note(bool(betas), delta)
    if latent:
        heads += ["β (latent)", *(["SE of β (latent)"] if delta_l else []), "p (latent)",
                  *(["95% CI of β (latent)"] if delta_l else []), "Result (latent)"]
        note = ("β, p, CI and result from the composite path model; the columns marked "
                "(latent) from the latent-variable model" +
                (" (SE and 95% CI of β there by the delta method)" if delta_l else "") +
                ". " + note)
    text = tuple(i for i, h in enumerate(heads) if h in ("Expected", "Result", "Result (latent)"))
    return Table("hypotheses", "Hypotheses", tuple(heads), tuple(rows), note, stub=2, text=text)


def model_name(model: Mapping[str, Any]) -> str:
    """A spec's model name as a reader wants it: its ``label`` when the spec gives one,
    else the name humanised ("no_stigma" -> "Without stigma", "direct_empathy" ->
    "Direct empathy"; construct codes such as "STG" keep their case).

    >>> model_name({"name": "no_stigma"}), model_name({"name": "x", "label": "Baseline"})
    ('Without stigma', 'Baseline')
    """
    import re

    if model.get("label"):
        return str(model["label"])
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(model.get("name", "")).strip())   # camelCase
    words = [w for w in re.split(r"[_\s.-]+", name) if w]
    if not words:
        return ""
    if words[0].lower() in ("no", "without", "wo"):
        words[0] = "without"
    words = [w if w.isupper() else w.lower() for w in words]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def alternatives(base_label: str, base_fit: Mapping[str, Any] | None,
                 alts: Sequence[Mapping[str, Any]] | None, key: str) -> Table | None:
    """The hypothesised model against each alternative: fit and the comparison.

    A comparison given as ``{"rows": [...]}`` (one row per model) is read from its last row.
    Δχ² is the test of the restricted model (more df) against the larger one, so it is
    positive for nested models; a negative statistic is shown without a p value.
    Under MLM/MLR the fit is the robust one and ΔCFI the difference of ``cfi.robust``.
    """
    if not alts:
        return None
    robust = any(is_robust(f) for f in [base_fit, *(a.get("fit") for a in alts)])
    cfi_name = "cfi.robust" if robust else "cfi"

    def fit_cells(f):
        r = fit_row("", f)
        return (r[1], r[2], r[4], r[6], r[9] if len(r) > 9 else MISSING)   # χ², df, CFI, RMSEA, BIC

    rows = [(base_label + " (hypothesised)", *fit_cells(base_fit), "", "", "", "", "")]
    larger_alt = False
    for a in alts:
        c = a.get("comparison") or {}
        if isinstance(c.get("rows"), list) and c["rows"]:
            c = c["rows"][-1]
        d, p = c.get("chisq.diff"), c.get("pvalue")
        chi = format_number(d)
        if is_number(d) and c.get("restricted") == "base":
            chi += "†"
            larger_alt = True
        rows.append((model_name(a), *fit_cells(a.get("fit")),
                     chi, format_int(c.get("df.diff")),
                     format_p_value(p) if is_number(d) and d >= 0 else MISSING,
                     format_bounded(c.get(f"{cfi_name}.diff"), 3),
                     format_number(c.get("aic.diff"), 1)))
    notes = [f"{model_name(a)}: {a['comparison']['note']}." for a in alts
             if isinstance(a.get("comparison"), Mapping) and a["comparison"].get("note")]
    heads = fit_columns([base_fit])
    note = ("Δχ² tests the model with more degrees of freedom (the restricted one) against the "
            "other; a significant Δχ² means the restriction worsens fit. ΔCFI and ΔAIC are "
            "alternative minus hypothesised model.")
    if larger_alt:
        note += (" † The alternative is the larger model: the hypothesised model is the "
                 "restricted one.")
    if robust:
        note += (" Under a robust estimator Δχ² is the Satorra-Bentler (2001) scaled difference "
                 "and ΔCFI the difference of the robust CFI.")
    return Table(f"alternatives-{key}", "Alternative models compared",
                 ("Model", heads[1], heads[2], heads[4], heads[6], "BIC", "Δχ²", "Δdf",
                  "p (Δχ²)", "ΔCFI (robust)" if robust else "ΔCFI", "ΔAIC"), tuple(rows),
                 note + " " + " ".join(notes))


def modification_indices(rows_in: Sequence[Mapping[str, Any]] | None, key: str, top: int = 10) -> Table | None:
    """The largest modification indices (at most ``top``)."""
    if not rows_in:
        return None
    rs = sorted((r for r in rows_in if is_number(r.get("mi"))), key=lambda r: -r["mi"])[:top]
    if not rs:
        return None
    rows = [(f"{r.get('lhs')} {r.get('op')} {r.get('rhs')}", format_number(r.get("mi")),
             format_number(r.get("epc"), 3), format_bounded(r.get("sepc.all"))) for r in rs]
    return Table(f"mi-{key}", f"Largest modification indices (top {len(rows)})",
                 ("Parameter", "MI", "EPC", "SEPC (std.all)"), tuple(rows),
                 "MI = expected drop in χ² if the parameter were freed; EPC = expected parameter change. "
                 "Freeing parameters for fit alone capitalises on chance.")
