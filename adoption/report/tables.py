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

from adoption.cutoffs import CUTOFFS, judge
from adoption.figures.format import (
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
from adoption.report.content import Cell, Table

#: Default smallest group size shown; smaller counts are suppressed.
SMALL_CELL = 5


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


def suppressed_cells(counts: Sequence[Any], threshold: int = SMALL_CELL) -> tuple[set[int], set[int]]:
    """Which counts of one variable (or one group split) to hide.

    Returns ``(primary, secondary)``: positions of counts below ``threshold``, and, when
    exactly one count is that small, the position of the next smallest count, so that
    the small one cannot be recovered from the total by subtraction (complementary
    suppression). Use for every table that shows counts of people by category.

    >>> suppressed_cells([223, 319, 3])
    ({2}, {0})
    >>> suppressed_cells([541, 2, 2])
    ({1, 2}, set())
    """
    primary = {i for i, c in enumerate(counts) if is_number(c) and c < threshold}
    secondary: set[int] = set()
    if len(primary) == 1:
        others = [i for i, c in enumerate(counts) if i not in primary and is_number(c)]
        if others:
            secondary.add(min(others, key=lambda i: counts[i]))
    return primary, secondary


def demographics(rows: Sequence[Mapping[str, Any]] | None, threshold: int = SMALL_CELL) -> Table | None:
    """Counts and percentages of each demographic category, small cells suppressed.

    A category with fewer than ``threshold`` respondents shows "fewer than k". When a
    variable has exactly one such cell, the next smallest cell is suppressed too
    ("suppressed"), so the small count cannot be recovered by subtraction from the total.
    """
    if not rows:
        return None
    by_var: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_var.setdefault(str(r.get("variable")), []).append(r)
    out = []
    secondary = False
    for var, cats in by_var.items():
        small, hide2 = suppressed_cells([r.get("count") for r in cats], threshold)
        secondary = secondary or bool(hide2)
        for i, r in enumerate(cats):
            first = (var.replace("_", " ").capitalize() if i == 0 else "")
            label = str(r.get("label") if r.get("label") is not None else r.get("value"))
            if i in small:
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
        rows.append((str(r.get("item")), str(r.get("construct", "")), format_int(r.get("n")),
                     format_number(r.get("mean")), format_number(r.get("sd")),
                     format_number(r.get("median"), 1),
                     format_number(r.get("skew")), format_number(r.get("kurtosis")),
                     format_percent(r.get("floor")), format_percent(r.get("ceiling"))))
    return Table("items", "Item descriptive statistics",
                 ("Item", "Construct", "n", "M", "SD", "Mdn", "Skewness", "Kurtosis",
                  "Floor %", "Ceiling %"), tuple(rows),
                 "n = valid answers. Kurtosis is excess kurtosis. Floor and ceiling: "
                 "share of answers at the lowest and highest scale point.", stub=2)


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


def sampling_adequacy(validity: Mapping[str, Any] | None) -> Table | None:
    """KMO, Bartlett's test of sphericity and Mardia's multivariate normality tests."""
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
    return Table("adequacy", "Sampling adequacy and multivariate normality",
                 ("Test", "Statistic", "df", "p", "Reading"), tuple(rows),
                 "Mardia's kurtosis statistic is the standardised z value.", text=(4,))


def fit_row(label: str, f: Mapping[str, Any] | None) -> tuple:
    """One row of a fit table: χ², df, p, CFI, TLI, RMSEA [90% CI], SRMR, AIC, BIC."""
    f = f or {}
    if not f:
        return (label, *[MISSING] * 9)
    rmsea = marked("rmsea", f.get("rmsea"))
    ci = f"[{format_bounded(f.get('rmsea.ci.lower'), 3)}, {format_bounded(f.get('rmsea.ci.upper'), 3)}]"
    return (label, format_number(f.get("chisq")), format_int(f.get("df")),
            format_p_value(f.get("pvalue")), marked("cfi", f.get("cfi")), marked("tli", f.get("tli")),
            Cell(f"{rmsea.text} {ci}", rmsea.mark), marked("srmr", f.get("srmr")),
            format_number(f.get("aic"), 1), format_number(f.get("bic"), 1))


FIT_COLUMNS = ("Model", "χ²", "df", "p", "CFI", "TLI", "RMSEA [90% CI]", "SRMR", "AIC", "BIC")


def fit_note() -> str:
    return ("Cut-offs (Hu & Bentler, 1999): " + "; ".join(cutoff_text(m) for m in ("cfi", "tli", "rmsea", "srmr"))
            + ". Values beyond the acceptable cut-off are marked.")


def cfa_fit(cfa: Mapping[str, Any] | None, common_method: Mapping[str, Any] | None = None) -> Table | None:
    """Fit of the measurement model (and of the one-factor model, when computed)."""
    if not cfa or not cfa.get("fit"):
        return None
    rows = [fit_row("Measurement model (CFA)", cfa.get("fit"))]
    one = (common_method or {}).get("one_factor_fit")
    if one:
        rows.append(fit_row("One factor (common method)", one))
    return Table("cfa-fit", "Fit of the confirmatory factor analysis", FIT_COLUMNS, tuple(rows), fit_note())


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
    if "chisq.diff" in comp:
        rows.append(("χ² difference, one factor − measurement model",
                     f"Δχ²({format_int(comp.get('df.diff', {}).get('difference'))}) = "
                     f"{format_number(comp['chisq.diff'].get('difference'))}",
                     format_p(comp.get("pvalue.diff", {}).get("difference"))))
    for m, name in (("cfi", "CFI"), ("rmsea", "RMSEA"), ("srmr", "SRMR")):
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
    rows = [fit_row(label, m.get("fit")) for label, m in models.items() if m]
    if not rows:
        return None
    return Table("structural-fit", "Fit of the structural models", FIT_COLUMNS, tuple(rows), fit_note())


def coefficients(model: Mapping[str, Any], key: str, label: str) -> Table | None:
    """Regression coefficients: b, SE, beta, p and the 95% CI of b."""
    rows = []
    for r in model.get("estimates") or []:
        if r.get("op") != "~":
            continue
        rows.append((arrow(r.get("lhs"), r.get("rhs")), format_number(r.get("est"), 3),
                     format_number(r.get("se"), 3), format_bounded(r.get("std.all")) + stars(r.get("pvalue")),
                     format_number(r.get("z")), format_p_value(r.get("pvalue")),
                     f"[{format_number(r.get('ci.lower'), 3)}, {format_number(r.get('ci.upper'), 3)}]"))
    if not rows:
        return None
    return Table(f"coefficients-{key}", f"Path coefficients of the {label}",
                 ("Path", "b", "SE", "β", "z", "p", "95% CI of b"), tuple(rows),
                 "b = unstandardised coefficient; β = standardised coefficient (std.all); "
                 "* p < .05, ** p < .01, *** p < .001. Confidence intervals from the standard errors.")


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


def hypotheses(rows_in: Sequence[Mapping[str, Any]] | None) -> Table | None:
    """Each hypothesis: the path, its expected sign, beta, p, CI and whether it holds.

    When the rows carry ``latent.std.all`` / ``latent.pvalue`` / ``latent.supported``
    (the same path in the latent model), these are shown too.
    """
    if not rows_in:
        return None
    latent = any(is_number(r.get("latent.std.all")) for r in rows_in)

    def verdict(sup):
        if sup is None:
            return Cell(MISSING)
        return Cell("Supported", "good") if sup else Cell("Not supported", "poor")

    rows = []
    for r in rows_in:
        raw = r.get("expected_sign")
        sign = {"+": "positive", "-": "negative", "−": "negative", None: "any"}.get(raw, str(raw))
        cells = [str(r.get("id", "")), arrow(r.get("lhs"), r.get("rhs")), sign,
                 format_bounded(r.get("std.all")) + stars(r.get("pvalue")), format_p_value(r.get("pvalue")),
                 f"[{format_number(r.get('ci.lower'), 3)}, {format_number(r.get('ci.upper'), 3)}]",
                 verdict(r.get("supported"))]
        if latent:
            cells += [format_bounded(r.get("latent.std.all")) + stars(r.get("latent.pvalue")),
                      format_p_value(r.get("latent.pvalue")), verdict(r.get("latent.supported"))]
        rows.append(tuple(cells))
    heads = ["Hypothesis", "Path", "Expected", "β", "p", "95% CI of b", "Result"]
    note = ("A hypothesis is supported when its path is significant (p < .05) with the expected "
            "sign. * p < .05, ** p < .01, *** p < .001.")
    if latent:
        heads += ["β (latent)", "p (latent)", "Result (latent)"]
        note = ("β, p, CI and result from the composite path model; the last three columns from "
                "the latent-variable model. " + note)
    return Table("hypotheses", "Hypotheses", tuple(heads), tuple(rows), note, stub=2, text=(2, 6, 9))


def alternatives(base_label: str, base_fit: Mapping[str, Any] | None,
                 alts: Sequence[Mapping[str, Any]] | None, key: str) -> Table | None:
    """The hypothesised model against each alternative: fit and the comparison.

    A comparison given as ``{"rows": [...]}`` (one row per model) is read from its last row.
    """
    if not alts:
        return None

    def fit_cells(f):
        r = fit_row("", f)
        return (r[1], r[2], r[4], r[6], r[9] if len(r) > 9 else MISSING)   # χ², df, CFI, RMSEA, BIC

    rows = [(base_label + " (hypothesised)", *fit_cells(base_fit), "", "", "", "", "")]
    for a in alts:
        c = a.get("comparison") or {}
        if isinstance(c.get("rows"), list) and c["rows"]:
            c = c["rows"][-1]
        rows.append((str(a.get("name", "")), *fit_cells(a.get("fit")),
                     format_number(c.get("chisq.diff")), format_int(c.get("df.diff")),
                     format_p_value(c.get("pvalue")), format_bounded(c.get("cfi.diff"), 3),
                     format_number(c.get("aic.diff"), 1)))
    notes = [f"{a.get('name')}: {a['comparison']['note']}." for a in alts
             if isinstance(a.get("comparison"), Mapping) and a["comparison"].get("note")]
    return Table(f"alternatives-{key}", "Alternative models compared",
                 ("Model", "χ²", "df", "CFI", "RMSEA [90% CI]", "BIC", "Δχ²", "Δdf", "p (Δχ²)",
                  "ΔCFI", "ΔAIC"), tuple(rows),
                 "Differences are alternative minus hypothesised model; a significant Δχ² means the "
                 "alternative's constraints worsen fit. " + " ".join(notes))


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
