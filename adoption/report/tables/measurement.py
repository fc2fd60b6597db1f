"""Tables of the sample and the measurement model: sample flow, demographics, item
descriptives, reliability, discriminant validity, sampling adequacy, CFA fit and
loadings, common-method variance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adoption.cutoffs import judge
from adoption.fitview import shown_fit
from adoption.format import (
    MISSING,
    format_bounded,
    format_int,
    format_number,
    format_p,
    format_p_value,
    format_percent,
    is_number,
)
from adoption.privacy import OTHER, SMALL_CELL, hidden_cells
from adoption.report.content import Cell, Table
from adoption.report.tables.common import cutoff_text, fewer_than, fit_table, marked


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
