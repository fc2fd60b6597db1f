"""APA tables built from ``results.json``: showing, not computing.

Each function takes a part of the results (plain dicts and lists as the run directory
stores them, unrounded) and returns a :class:`~adoption.report.content.Table` of
formatted text, or ``None`` when that part is absent. Numbers are rounded here and only
here: two decimals for reliability, loadings, correlations and beta; three for fit
indices, p values and unstandardised coefficients; no leading zero for values bounded
by 1; ``< .001`` for small p values (APA, 2020, sections 6.36 and 6.38).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adoption.cutoffs import CUTOFFS, hypothesis_result, judge
from adoption.format import (
    MISSING,
    format_bounded,
    format_int,
    format_number,
    format_p,
    format_p_value,
    format_percent,
    is_number,
    stars,
)
from adoption.fitview import is_robust, plain_note, robust_caption, shown_fit
from adoption.privacy import OTHER, SMALL, SMALL_CELL, hidden_cells, redact_counts
from adoption.report.content import Cell, Table
from adoption.vocabulary import ORDINAL_ESTIMATORS, sign_word



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


# --------------------------------------------------------------------------- sample
def sample_flow(sample: Mapping[str, Any] | None) -> Table | None:
    """Rows received, excluded by reason, analysed (CONSORT-style flow)."""
    if not sample:
        return None
    n_in = sample.get("rows_in")
    rows = [(Cell("Rows received", "strong"), format_int(n_in), "100.0" if is_number(n_in) and n_in else MISSING)]
    for e in sample.get("excluded") or []:
        c = e.get("count")
        pct = format_percent(c / n_in) if is_number(c) and is_number(n_in) and n_in else MISSING
        rows.append((f"Excluded: {e.get('reason', '')}", format_int(c), pct))
    n_out = sample.get("rows_analysed")
    pct = format_percent(n_out / n_in) if is_number(n_out) and is_number(n_in) and n_in else MISSING
    rows.append((Cell("Rows analysed", "strong"), format_int(n_out), pct))
    return Table("flow", "Sample flow from rows received to rows analysed",
                 ("Step", "n", "%"), tuple(rows),
                 "Percentages of rows received. Each excluded row is counted once, under the "
                 "first reason that applied.")


def demographics(rows: Sequence[Mapping[str, Any]] | None, threshold: int = SMALL_CELL) -> Table | None:
    """Counts and percentages of each demographic category, small cells suppressed.

    A category with fewer than ``threshold`` respondents shows "fewer than k", under the
    name "other (suppressed)" (its text may be a free-text answer: a name); the run pools
    such categories before they are written (:mod:`adoption.privacy`), this covers older
    runs. When a variable has exactly one such cell, the next smallest cell is suppressed
    too ("suppressed"), so the small count cannot be recovered by subtraction from the total.
    """
    if not rows:
        return None
    by_var: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_var.setdefault(str(r.get("variable")), []).append(r)
    out = []
    secondary = False
    for var, cats in by_var.items():
        small, hide2 = hidden_cells(cats, "count", threshold)
        secondary = secondary or bool(hide2)
        for i, r in enumerate(cats):
            first = (var.replace("_", " ").capitalize() if i == 0 else "")
            label = str(r.get("label") if r.get("label") is not None else r.get("value"))
            if i in small:
                label = label if label in (OTHER, "missing") else OTHER
                out.append((first, label, Cell(fewer_than(threshold), "suppressed"), Cell(MISSING, "suppressed")))
            elif i in hide2:
                out.append((first, label, Cell("suppressed", "suppressed"), Cell(MISSING, "suppressed")))
            else:
                out.append((first, label, format_int(r.get("count")), format_percent(r.get("share"))))
    note = (f"Percentages of the analysed sample. Categories with fewer than {threshold} "
            "respondents are not shown, to protect their privacy.")
    if secondary:
        note += (" Where only one category of a variable was that small, the next smallest is "
                 "suppressed too, so that it cannot be recovered from the total.")
    return Table("demographics", "Demographic characteristics of the analysed sample",
                 ("Variable", "Category", "n", "%"), tuple(out), note, stub=2)


# --------------------------------------------------------------------------- items
def item_descriptives(items: Sequence[Mapping[str, Any]] | None) -> Table | None:
    """n, M, SD, median, skewness, kurtosis and floor/ceiling shares of every item."""
    if not items:
        return None
    rows = []
    for r in items:
        rows.append((item_name(r), str(r.get("construct", "")), format_int(r.get("n")),
                     format_number(r.get("mean")), format_number(r.get("sd")),
                     format_number(r.get("median"), 1),
                     format_number(r.get("skew")), format_number(r.get("kurtosis")),
                     format_percent(r.get("floor")), format_percent(r.get("ceiling"))))
    return Table("items", "Item descriptive statistics",
                 ("Item", "Construct", "n", "M", "SD", "Mdn", "Skewness", "Kurtosis",
                  "Floor %", "Ceiling %"), tuple(rows),
                 "n = valid answers. Kurtosis is excess kurtosis. Floor and ceiling: "
                 "share of answers at the lowest and highest scale point."
                 + (" Reversed: a reverse-keyed item, whose statistics are of the recoded "
                    "answers (min + max − x) the models use; the answer distribution shows "
                    "the answers as given." if any(r.get("reversed") for r in items) else ""),
                 stub=2)


def item_name(row: Mapping[str, Any]) -> str:
    """An item's code, followed by "(reversed)" for a reverse-keyed item."""
    return str(row.get("item")) + (" (reversed)" if row.get("reversed") is True else "")


# --------------------------------------------------------------------------- measurement
def reliability(rel: Mapping[str, Mapping[str, Any]] | None) -> Table | None:
    """Cronbach's alpha with its CI, McDonald's omega, composite reliability and AVE."""
    if not rel:
        return None
    rows = []
    for name, r in rel.items():
        rows.append((name, format_int(r.get("n_items")), marked("alpha", r.get("alpha"), 2),
                     f"[{format_bounded(r.get('alpha_ci_lower'))}, {format_bounded(r.get('alpha_ci_upper'))}]",
                     marked("omega", r.get("omega"), 2), marked("cr", r.get("cr"), 2),
                     marked("ave", r.get("ave"), 2)))
    note = ("α = Cronbach's alpha with its 95% confidence interval; ω = McDonald's omega; "
            "CR = composite reliability; AVE = average variance extracted. Cut-offs: "
            + "; ".join(cutoff_text(m) for m in ("alpha", "cr", "ave"))
            + ". Values below the cut-off are marked.")
    single = [name for name, r in rel.items() if r.get("n_items") == 1]
    if single:
        note += (f" {', '.join(single)}: a single item, for which α, ω, CR and AVE are not "
                 "defined (–).")
    return Table("reliability", "Reliability and convergent validity", ("Construct", "Items", "α",
                 "95% CI", "ω", "CR", "AVE"), tuple(rows), note)


def htmt(matrix: Mapping[str, Mapping[str, Any]] | None) -> Table | None:
    """The heterotrait-monotrait ratios (lower triangle), marked above .85 and .90."""
    if not matrix:
        return None
    names = list(matrix)
    rows = []
    for i, a in enumerate(names):
        cells: list = [a]
        for j, b in enumerate(names):
            if j >= i:
                cells.append("")
                continue
            v = (matrix.get(a) or {}).get(b)
            text = format_bounded(v)
            mark = judge("htmt", v if is_number(v) else None)
            if mark == "acceptable":
                text += "†"
            elif mark == "poor":
                text += "‡"
            cells.append(Cell(text, None if mark == "good" else mark))
        rows.append(tuple(cells))
    return Table("htmt", "Heterotrait-monotrait ratios (HTMT)", ("Construct", *names), tuple(rows),
                 "† HTMT ≥ .85 (above the strict cut-off); ‡ HTMT ≥ .90 (above the lenient "
                 "cut-off; discriminant validity in doubt). Henseler, Ringle and Sarstedt (2015).")


def fornell_larcker(rows_in: Sequence[Mapping[str, Any]] | None) -> Table | None:
    """Square roots of AVE on the diagonal, construct correlations below it."""
    if not rows_in:
        return None
    names = [str(r.get("construct")) for r in rows_in]
    rows = []
    for i, r in enumerate(rows_in):
        cells: list = [names[i]]
        for j, b in enumerate(names):
            if j > i:
                cells.append("")
            elif j == i:
                cells.append(Cell(format_bounded(r.get("sqrt_ave", r.get(b))), "strong"))
            else:
                cells.append(format_bounded(r.get(b)))
        passes = r.get("passes")
        cells.append(Cell("Yes" if passes else "No", None if passes else "poor")
                     if passes is not None else MISSING)
        rows.append(tuple(cells))
    return Table("fornell-larcker", "Fornell-Larcker criterion", ("Construct", *names, "Passes"),
                 tuple(rows),
                 "Diagonal (bold): square root of the AVE; below the diagonal: correlations between "
                 "constructs. The criterion holds when each diagonal value exceeds the construct's "
                 "correlations with all others (Fornell & Larcker, 1981).")


def sampling_adequacy(validity: Mapping[str, Any] | None, n_analysed: Any = None) -> Table | None:
    """KMO, Bartlett's test of sphericity and Mardia's multivariate normality tests.

    Mardia's tests use the complete rows only; ``n_analysed`` (rows analysed) lets the
    note say how many of them that was.
    """
    if not validity:
        return None
    rows = []
    kmo = (validity.get("kmo") or {}).get("overall")
    if kmo is not None:
        rows.append(("Kaiser-Meyer-Olkin (overall)", format_bounded(kmo), "", "",
                     "≥ .60 adequate, ≥ .80 meritorious"))
    b = validity.get("bartlett") or {}
    if b:
        rows.append(("Bartlett's test of sphericity", f"χ² = {format_number(b.get('chisq'))}",
                     format_int(b.get("df")), format_p_value(b.get("pvalue")),
                     "p < .05: correlations suitable for factoring"))
    m = validity.get("mardia") or {}
    if m:
        rows.append(("Mardia's multivariate skewness", format_number(m.get("skew")), "",
                     format_p_value(m.get("p_skew")), f"n = {format_int(m.get('n'))}"))
        rows.append(("Mardia's multivariate kurtosis", format_number(m.get("kurtosis")), "",
                     format_p_value(m.get("p_kurt")), "p < .05: not multivariate normal"))
    if not rows:
        return None
    note = "Mardia's kurtosis statistic is the standardised z value."
    if m and is_number(m.get("n")):
        note += (f" Mardia's tests use the {format_int(m['n'])} rows with an answer to every item"
                 + (f" (of {format_int(n_analysed)} analysed)" if is_number(n_analysed) else "")
                 + "; rows with any missing answer are left out of them.")
    return Table("adequacy", "Sampling adequacy and multivariate normality",
                 ("Test", "Statistic", "df", "p", "Reading"), tuple(rows), note, text=(4,))


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


def cfa_fit(cfa: Mapping[str, Any] | None, common_method: Mapping[str, Any] | None = None) -> Table | None:
    """Fit of the measurement model (and of the one-factor model, when computed)."""
    if not cfa or not cfa.get("fit"):
        return None
    return fit_table("cfa-fit", "Fit of the confirmatory factor analysis",
                     {"Measurement model (CFA)": cfa.get("fit"),
                      "One factor (common method)": (common_method or {}).get("one_factor_fit")})


def loadings(estimates: Sequence[Mapping[str, Any]] | None) -> Table | None:
    """Loadings of the CFA: unstandardised b, SE, p and standardised λ (``std.all``)."""
    rows = []
    prev = None
    for r in estimates or []:
        if r.get("op") != "=~":
            continue
        lam = r.get("std.all")
        factor = r.get("lhs")
        rows.append((factor if factor != prev else "", str(r.get("rhs")), format_number(r.get("est")),
                     format_number(r.get("se")) if is_number(r.get("se")) and r.get("se") else MISSING,
                     format_p_value(r.get("pvalue")),
                     Cell(format_bounded(lam), "poor" if is_number(lam) and abs(lam) < 0.5 else None)))
        prev = factor
    if not rows:
        return None
    return Table("loadings", "Factor loadings of the measurement model",
                 ("Construct", "Item", "b", "SE", "p", "λ"), tuple(rows),
                 "b = unstandardised loading (the first item of each construct fixed to 1, no SE); "
                 "λ = standardised loading (std.all); loadings below .50 are marked.", stub=2)


def common_method(cm: Mapping[str, Any] | None) -> Table | None:
    """Harman's single-factor share and the one-factor versus measurement-model comparison."""
    if not cm:
        return None
    rows = []
    h = cm.get("harman") or {}
    if h:
        rows.append(("Harman's single factor: variance explained", f"{format_percent(h.get('share'))}%",
                     Cell("exceeds 50%", "poor") if h.get("exceeds_half") else "below 50%"))
    comp = {r.get("measure"): r for r in cm.get("comparison") or []}
    scaled = " (Satorra-Bentler scaled)" if "chisq.scaled" in comp else ""
    if "chisq.diff" in comp:
        rows.append((f"χ² difference{scaled}, one factor − measurement model",
                     f"Δχ²({format_int(comp.get('df.diff', {}).get('difference'))}) = "
                     f"{format_number(comp['chisq.diff'].get('difference'))}",
                     format_p(comp.get("pvalue.diff", {}).get("difference"))))
    shown = shown_fit(cm.get("one_factor_fit")).measures    # robust indices under MLM/MLR
    for m, name in (("cfi", "CFI"), ("rmsea", "RMSEA"), ("srmr", "SRMR")):
        m = shown[m] if shown[m] in comp else m
        name += " (robust)" if m.endswith(".robust") else ""
        if m in comp:
            r = comp[m]
            rows.append((f"{name}: measurement model vs one factor",
                         f"{format_bounded(r.get('measurement_model'), 3)} vs {format_bounded(r.get('one_factor'), 3)}",
                         f"Δ = {format_bounded(r.get('difference'), 3)}"))
    if not rows:
        return None
    return Table("common-method", "Common-method variance", ("Check", "Value", "Reading"), tuple(rows),
                 "Harman's test: share of the variance of all items on the first unrotated component; "
                 "a share above 50% suggests common-method variance (Podsakoff et al., 2003). A one-factor "
                 "model that fits much worse than the measurement model argues against a single common "
                 "source.", text=(2,))


# --------------------------------------------------------------------------- structural
def arrow(lhs: str, rhs: str) -> str:
    """'rhs → lhs' for a regression ``lhs ~ rhs``."""
    return f"{rhs} → {lhs}"


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


def interval(lo, hi, digits: int = 3, bounded: bool = False) -> str:
    """``[lo, hi]``, or a dash when neither limit is known."""
    if not is_number(lo) and not is_number(hi):
        return MISSING
    f = format_bounded if bounded else format_number
    return f"[{f(lo, digits)}, {f(hi, digits)}]"


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


def key_values(key: str, title: str, pairs: Sequence[tuple[str, Any]], note: str = "") -> Table:
    """A two-column table of labels and values (methods, reproducibility)."""
    rows = tuple((k, "" if v is None else str(v)) for k, v in pairs)
    return Table(key, title, ("Item", "Value"), rows, note, stub=2)


# --------------------------------------------------------------------------- groups
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
