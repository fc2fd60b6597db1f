"""The terminal summary of a run: showing, not computing.

Numbers are rounded here, for the screen only; the run directory keeps them whole.
"""

from __future__ import annotations

import math
import os

from rich.console import Console
from rich.table import Table

from adoption.clean import CleanedResponses, Flow
from adoption.cutoffs import describe_cutoff, hypothesis_result, judge
from adoption.fitview import plain_note, shown_fit
from adoption.jsonable import to_jsonable
from adoption.load import LoadedResponses, recode_warnings
from adoption.privacy import SMALL, SMALL_CELL
from adoption.readers import DETECTED
from adoption.spec import Survey
from adoption.structural.moderated import moderation_lines

_STYLE = {"good": "green", "acceptable": "yellow", "poor": "red", None: ""}
_MARK = {"good": "", "acceptable": " (~)", "poor": " (!)", None: ""}


#: Columns of the summary when it goes to a file or a pipe: wide enough for every table
#: (rich would otherwise cut at 80 columns and truncate cells with "…").
FILE_WIDTH = 200


def stdout_console() -> Console:
    """The console for the summary: the terminal's width on a terminal; when output goes
    to a file or pipe, $COLUMNS if set, else :data:`FILE_WIDTH`."""
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=FILE_WIDTH)
    return console


def num(x, digits: int = 3, leading_zero: bool = True) -> str:
    """A number for the screen: fixed decimals, '-' for missing, APA's no leading zero
    for values bounded by 1 when ``leading_zero`` is False."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    s = f"{x:.{digits}f}"
    if not leading_zero:
        s = s.replace("0.", ".", 1)
    return s


def marked(measure: str, value, digits: int = 3) -> str:
    """A value coloured and marked by its cut-off (see :mod:`adoption.cutoffs`)."""
    j = judge(measure, value)
    text = num(value, digits, leading_zero=False) + _MARK[j]
    return f"[{_STYLE[j]}]{text}[/{_STYLE[j]}]" if _STYLE[j] else text


def flow_table(flow: Flow) -> Table:
    """The CONSORT-style flow: rows received, excluded by (primary) reason, analysed."""
    t = Table(title="Sample flow", show_header=True, header_style="bold")
    t.add_column("")
    t.add_column("rows", justify="right")
    t.add_row("received", str(flow.rows_in))
    for reason, count in flow.excluded:
        t.add_row(f"  excluded: {reason}", f"-{count}")
    t.add_row("[bold]analysed[/bold]", f"[bold]{flow.rows_analysed}[/bold]")
    return t


def reliability_table(reliability) -> Table:
    t = Table(title="Reliability and convergent validity "
                    f"({describe_cutoff('alpha')}, {describe_cutoff('cr')}, {describe_cutoff('ave')})",
              header_style="bold")
    for c in ["construct", "items", "alpha", "95% CI", "omega", "CR", "AVE"]:
        t.add_column(c, justify="left" if c == "construct" else "right")
    for r in reliability.to_dict("records"):
        t.add_row(r["construct"], str(r["n_items"]), marked("alpha", r["alpha"]),
                  f"[{num(r['alpha_ci_lower'], 2, False)}, {num(r['alpha_ci_upper'], 2, False)}]",
                  marked("omega", r["omega"]), marked("cr", r["cr"]), marked("ave", r["ave"]))
    return t


def fit_table(fits: dict[str, dict], title: str) -> Table:
    """Fit measures of one or more models side by side, with cut-offs marked.

    Under a robust estimator the scaled test and robust indices are shown (see
    :func:`adoption.fitview.shown_fit`), the ML values in the caption."""
    shown = {name: shown_fit(f) for name, f in fits.items()}
    robust = any(s.robust for s in shown.values())
    t = Table(title=title, header_style="bold", caption_justify="left")
    t.add_column("model")
    heads = (["chisq (scaled)", "df", "p", "CFI (robust)", "TLI (robust)", "RMSEA (robust) [90% CI]"]
             if robust else ["chisq", "df", "p", "CFI", "TLI", "RMSEA [90% CI]"])
    for c in heads + ["SRMR"]:
        t.add_column(c, justify="right")
    for name, f in shown.items():
        if not fits[name]:
            t.add_row(name, *["-"] * 7)
            continue
        t.add_row(name, num(f.get("chisq"), 2), num(f.get("df"), 0), _p(f.get("pvalue")),
                  marked("cfi", f.get("cfi")), marked("tli", f.get("tli")),
                  f"{marked('rmsea', f.get('rmsea'))} [{num(f.get('rmsea.ci.lower'), 3, False)}, "
                  f"{num(f.get('rmsea.ci.upper'), 3, False)}]",
                  marked("srmr", f.get("srmr")))
    t.caption = ", ".join(describe_cutoff(m) for m in ["cfi", "tli", "rmsea", "srmr"]) + \
        "; (~) acceptable, (!) poor"
    if robust:
        t.caption += ". " + plain_note(shown, num, lambda x, d: num(x, d, False))
    return t


def hypotheses_table(hyp) -> Table:
    t = Table(title="Hypotheses (composite model; latent model's beta beside it)", header_style="bold")
    for c in ["", "path", "expected", "b", "SE", "beta", "p", "95% CI", "result", "latent beta"]:
        t.add_column(c, justify="left" if c in ("", "path", "result") else "right")
    for r in hyp.to_dict("records"):
        word = hypothesis_result(r["supported"], r["expected_sign"])
        sup = "-" if word is None else f"[red]{word}[/red]" if word.startswith("not") else f"[green]{word}[/green]"
        t.add_row(r["id"], r["path"], r["expected_sign"] if isinstance(r["expected_sign"], str) else "", num(r["est"]), num(r["se"]),
                  num(r["std.all"], 3, False), _p(r["pvalue"]),
                  f"[{num(r['ci.lower'])}, {num(r['ci.upper'])}]", sup,
                  num(r["latent.std.all"], 3, False))
    return t


def effects_table(effects, title: str) -> Table:
    """Indirect effects with their delta-method p and (bootstrap) CI."""
    t = Table(title=title, header_style="bold")
    for c in ["path", "est", "SE", "p", "95% CI", "beta"]:
        t.add_column(c, justify="left" if c == "path" else "right")
    rows = effects[effects["effect"] == "indirect"]
    for r in rows.to_dict("records"):
        t.add_row(" -> ".join(r["path"]), num(r["est"]), num(r["se"]), _p(r["pvalue"]),
                  f"[{num(r['ci.lower'])}, {num(r['ci.upper'])}]", num(r["std.all"], 3, False))
    if len(rows):
        t.caption = f"CI: {rows['ci_method'].iloc[0]}"
    return t


def indirect_block(effects, title: str):
    """The indirect-effects table, or one line saying there is none (a model without a
    mediator), instead of an empty table."""
    if (effects["effect"] == "indirect").any():
        return effects_table(effects, title)
    return f"{title}: none (no path runs through a mediator)"


def _p(p) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "-"
    return "<.001" if p < 0.001 else num(p, 3, False)


def groups_table(groups: dict, k: int = SMALL_CELL) -> Table:
    """Per grouping column: group sizes, highest invariance level, paths equal or not.

    ``groups`` is results.json's section: a hidden size is shown as its mark ("fewer
    than k" or "suppressed", see :mod:`adoption.privacy`)."""
    t = Table(title="Group comparisons", header_style="bold")
    for c in ["grouping", "groups (n)", "invariance", "all paths equal: chisq diff (df)", "p"]:
        t.add_column(c, justify="right" if c in ("p",) else "left")
    for col, g in groups.items():
        sizes = ", ".join(f"{s['label']} {_size(s, k)}" + ("" if s.get("included", True) else " (left out)")
                          for s in g.get("sizes", []))
        om = (g.get("path_differences") or {}).get("omnibus") or {}
        conf = next((e for e in g.get("invariance") or [] if e.get("level") == "configural"), {})
        level = g.get("highest_level") or (
            "none (configural fit poor)" if (conf.get("configural") or {}).get("poor") else "-")
        t.add_row(col, sizes, str(level),
                  f"{num(om.get('chisq.diff'), 2)} ({num(om.get('df.diff'), 0)})",
                  _p(om.get("pvalue")))
    return t


def _size(size: dict, k: int) -> str:
    mark = size.get("suppressed")
    return f"fewer than {k}" if mark == SMALL else "suppressed" if mark else str(size.get("n"))


def print_validation(console: Console, survey: Survey, loaded: LoadedResponses,
                     cleaned: CleanedResponses) -> None:
    src = loaded.source
    console.print(f"{src.path}: {src.format}, {src.rows} rows; spec '{survey.title}': "
                  f"{len(survey.constructs)} constructs, {len(survey.items)} items: OK")
    print_detected(console, loaded)
    print_warnings(console, recode_warnings(loaded.recodes))
    console.print(flow_table(cleaned.flow))
    print_warnings(console, cleaned.warnings)


def print_warnings(console: Console, warnings) -> None:
    for w in warnings:
        console.print(f"[yellow]warning:[/yellow] {w}", soft_wrap=True)


def print_run(console: Console, result) -> None:
    """Flow table, measurement and structural sections, then where it was written."""
    print_detected(console, result.loaded)
    console.print(flow_table(result.cleaned.flow))
    print_warnings(console, recode_warnings(result.loaded.recodes))
    print_warnings(console, result.cleaned.warnings)
    m = result.measurement
    console.print(reliability_table(m.reliability))
    console.print(fit_table({"measurement model (CFA)": m.cfa_fit,
                             "one factor (common method)": m.one_factor_fit},
                            f"Confirmatory factor analysis ({result.results['options']['estimator']})"))
    print_warnings(console, m.warnings)
    st = result.structural
    fits = {"composite path model": st.composite.model_fit.fit}
    for a in st.composite.alternatives:
        fits[f"  alternative: {a.name}"] = a.fit
    if st.latent is not None:
        fits["latent SEM"] = st.latent.model_fit.fit
    est = st.composite.model_fit.estimator
    if st.latent is not None and st.latent.model_fit.estimator != est:
        est = f"composite {est}, latent SEM {st.latent.model_fit.estimator}"
    console.print(fit_table(fits, f"Structural model ({est}, missing: {st.missing})"))
    console.print(hypotheses_table(st.hypotheses))
    console.print(indirect_block(st.composite.effects, "Indirect effects (composite model)"))
    r2 = ", ".join(f"{k} {num(v, 2, False)}" for k, v in st.composite.r2.items())
    console.print(f"R-squared (composite): {r2}")
    if st.moderation is not None:
        for line in moderation_lines(st.moderation):
            console.print(line)
    print_warnings(console, st.composite.warnings)
    if st.latent is not None:
        print_warnings(console, [f"latent: {w}" for w in st.latent.warnings])
    latent_warnings = set(st.latent.warnings) if st.latent is not None else set()
    print_warnings(console, [w for w in result.results.get("warnings", {}).get("ordinal", [])
                             if w not in latent_warnings])
    if result.groups is not None:
        console.print(groups_table(to_jsonable(result.results["groups"]), result.survey.small_cell))
    if result.out_dir is not None:
        console.print(f"run directory: {result.out_dir}")


def print_power(console: Console, table) -> None:
    """Power per effect and sample size, and the N that reaches 80%."""
    ns = [c for c in table.columns if str(c).startswith("power@")]
    t = Table(title="Monte Carlo power (share of replicates with p < .05)", header_style="bold")
    t.add_column("effect")
    for c in ns:
        t.add_column(f"N = {str(c).removeprefix('power@')}", justify="right")
    t.add_column("N for 80%", justify="right")
    for r in table.to_dict("records"):
        path = r["path"] if isinstance(r["path"], str) else " -> ".join(r["path"])
        t.add_row(path, *[num(r[c], 2, False) for c in ns], str(r["n80.label"]))
    console.print(t)


def print_detected(console: Console, loaded: LoadedResponses) -> None:
    """What the loader detected about the file (delimiter, decimal comma, encoding,
    spreadsheet format), one line each, so that a guess is seen before it is trusted."""
    for e in loaded.log:
        if e.action in DETECTED:
            console.print(f"[cyan]note:[/cyan] {e.action}: {e.detail}", soft_wrap=True)
