"""From ``results.json`` to a :class:`~adoption.report.content.Report` (sections in order).

    1 Summary   2 Sample   3 Items   4 Measurement   5 Structural model
    6 Group comparisons   7 Methods

Every section is optional: a part of the results that is absent shows "not computed in
this run". Figures are drawn here (plotly for the web page, SVG and PNG via matplotlib for
the Word file and ``figures/``); nothing is computed.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from adoption.format import MISSING, format_int, is_number
from adoption.fitview import model_comparison_frame
from adoption.report import ordinal_tables as OT
from adoption.report.latent_moderation import latent_moderation_blocks
from adoption.report import tables as T
from adoption.report import tables_paper as P
from adoption.report.content import NOT_COMPUTED, Code, Figure, Heading, Paragraph, Report, Section
from adoption.report.moderation import moderation_figures, moderation_tables
from adoption.report.pls import pls_sections
from adoption.report.summary_text import plain_summary

#: Packages whose versions the methods section lists.
PACKAGES = ("adoption", "semopy", "numpy", "scipy", "pandas")
#: The structural models, in the order shown, and their names in the text.
MODELS = {"composite": "composite path model", "latent": "latent-variable structural model"}


def construct_labels(results: Mapping[str, Any]) -> dict[str, str]:
    """Long construct names by code from ``results["constructs"]`` (any of the usual shapes).

    Accepts ``{code: "Long name"}``, ``{code: {"label": ...}}`` or a list of
    ``{"code"|"name": ..., "label": ...}``; returns {} when absent.
    """
    c = results.get("constructs")
    out: dict[str, str] = {}
    if isinstance(c, Mapping):
        for k, v in c.items():
            if isinstance(v, str):
                out[str(k)] = v
            elif isinstance(v, Mapping) and v.get("label"):
                out[str(k)] = str(v["label"])
    elif isinstance(c, list):
        for v in c:
            if isinstance(v, Mapping):
                code = v.get("code") or v.get("name")
                if code and v.get("label"):
                    out[str(code)] = str(v["label"])
    return out


def package_versions(results: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Versions recorded in the run (``results["versions"]``) or, failing that, installed now."""
    recorded = results.get("versions") or {}
    out = []
    for p in PACKAGES:
        if p in recorded:
            out.append((p, str(recorded[p])))
            continue
        try:
            v = metadata.version(p)
        except metadata.PackageNotFoundError:
            v = results.get("adoption_version", "not installed") if p == "adoption" else "not installed"
        out.append((p, f"{v} (at report time)"))
    return out


def _missing(what: str) -> Paragraph:
    return Paragraph(f"{what}: {NOT_COMPUTED}.", "missing")


def _add(blocks: list, table, what: str) -> None:
    blocks.append(table if table is not None else _missing(what))


# --------------------------------------------------------------------------- sections
def sample_section(results: Mapping[str, Any]) -> Section:
    b: list = []
    sample = results.get("sample")
    if sample and is_number(sample.get("rows_in")):
        from adoption.report.flow import flow_image

        b.append(Figure("flow", "Flow of responses from rows received to rows analysed", "",
                        "flow", svg=flow_image(sample, "svg"), png=flow_image(sample, "png"),
                        alt="Flow diagram: rows received, excluded by reason, analysed"))
    _add(b, T.sample_flow(sample), "Sample flow")
    demo = (results.get("descriptives") or {}).get("demographics")
    _add(b, T.demographics(demo, T.small_cell(results)), "Demographics")
    return Section("sample", "Sample", tuple(b))


def likert_figure_block(results: Mapping[str, Any], labels: Mapping[str, str]) -> Figure | Paragraph:
    dist = (results.get("descriptives") or {}).get("distribution")
    if not dist:
        return _missing("Answer distribution")
    from adoption.figures.likert import likert_figure, likert_png, likert_svg

    df = pd.DataFrame(dist)
    return Figure("likert", "Distribution of answers to each item, by construct",
                  "Bars are centred on the neutral point: disagreement to the left, agreement to the "
                  "right; percentages of each item's valid answers (below 7% not printed).",
                  "likert", plotly=likert_figure(df, labels), svg=likert_svg(df, labels),
                  png=likert_png(df, labels),
                  png_parts=tuple(likert_png(part, labels) for part in likert_parts(df)),
                  alt="Diverging stacked bar chart of the answers to every item")


#: Items per part of the Likert chart in the Word file (about a page at full width).
LIKERT_ITEMS_PER_PART = 20


def likert_parts(df: pd.DataFrame, per_part: int = LIKERT_ITEMS_PER_PART) -> list[pd.DataFrame]:
    """The answer distribution cut into parts of whole constructs, each with at most
    about ``per_part`` items (one part when it is short enough)."""
    if "construct" not in df or df["item"].nunique() <= per_part:
        return []
    parts: list[list[str]] = [[]]
    count = 0
    for c in dict.fromkeys(df["construct"]):
        n = df.loc[df["construct"] == c, "item"].nunique()
        if count and count + n > per_part:
            parts.append([])
            count = 0
        parts[-1].append(c)
        count += n
    return [df[df["construct"].isin(cs)] for cs in parts]


def items_section(results: Mapping[str, Any], labels: Mapping[str, str]) -> Section:
    b: list = []
    _add(b, T.item_descriptives((results.get("descriptives") or {}).get("items")), "Item descriptives")
    b.append(likert_figure_block(results, labels))
    return Section("items", "Items", tuple(b))


def measurement_section(results: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> Section:
    b: list = []
    b.append(Heading("Construct scores"))
    _add(b, P.construct_scores(results.get("construct_scores"), labels), "Construct scores")
    b.append(Heading("Reliability and convergent validity"))
    _add(b, T.reliability(results.get("reliability")), "Reliability")
    ordinal_rel = OT.ordinal_reliability(results.get("reliability"))
    if ordinal_rel is not None:
        b.append(ordinal_rel)
    validity = results.get("validity") or {}
    b.append(Heading("Discriminant validity"))
    _add(b, T.htmt(validity.get("htmt")), "HTMT")
    _add(b, T.fornell_larcker(validity.get("fornell_larcker")), "Fornell-Larcker criterion")
    b.append(Heading("Sampling adequacy and normality"))
    _add(b, T.sampling_adequacy(validity, (results.get("sample") or {}).get("rows_analysed")),
         "KMO, Bartlett and Mardia tests")
    b.extend(efa_blocks(results))
    b.append(Heading("Confirmatory factor analysis"))
    cfa = results.get("cfa") or {}
    _add(b, T.cfa_fit(cfa, results.get("common_method")), "CFA fit")
    _add(b, T.loadings(cfa.get("estimates")), "CFA loadings")
    b.append(Heading("Common-method variance"))
    _add(b, T.common_method(results.get("common_method")), "Common-method checks")
    return Section("measurement", "Measurement model", tuple(b))


def efa_blocks(results: Mapping[str, Any]) -> list:
    """Exploratory factor analysis: parallel analysis in a sentence, the scree plot and
    the table of rotated loadings."""
    efa = results.get("efa") or {}
    b: list = []
    if not efa:
        return b
    b.append(Heading("Exploratory factor analysis"))
    if is_number(efa.get("n_factors_parallel")):
        b.append(Paragraph(
            f"Parallel analysis (exploratory factor analysis) suggested {format_int(efa['n_factors_parallel'])} "
            f"factors on the SMC-reduced matrix"
            + (f", {format_int(efa['n_factors_parallel_minres'])} with psych's default minres "
               "communalities" if is_number(efa.get("n_factors_parallel_minres")) else "")
            + f" ({format_int(efa.get('n_components_parallel'))} components; "
            f"{format_int(efa.get('n_factors_kaiser'))} eigenvalues above 1); the spec defines "
            f"{len(results.get('reliability') or {})} constructs."
            + (f" The EFA extracted {format_int(efa['n_factors'])} factors, as set by "
               f"{'the spec' if efa['n_factors_rule'] == 'spec' else efa['n_factors_rule']}."
               if efa.get("n_factors_rule") else "")))
    par = efa.get("parallel") or {}
    eig = par.get("eigenvalues") if isinstance(par, Mapping) else None
    if eig:
        from adoption.figures.scree import scree_image

        # the line marks the factors the EFA extracted (the spec's count or the chosen
        # parallel-analysis variant), not always the SMC count
        retained = efa.get("n_factors", efa.get("n_factors_parallel"))
        q = par.get("quantile")
        random = (f"the {format_int(100 * q)}th percentile of" if is_number(q) else "the mean of")
        b.append(Figure("scree", "Scree plot with parallel analysis",
                        f"Eigenvalues of the items' correlation matrix (components) and of the reduced "
                        f"matrix (common factors), against {random} the eigenvalues of "
                        f"{format_int(par.get('n_iter'))} random data sets of the same size (seed "
                        f"{par.get('seed', MISSING)}). Factors are retained while the observed "
                        "eigenvalue exceeds the random one.", "scree",
                        svg=scree_image(eig, retained, "svg"),
                        png=scree_image(eig, retained, "png"),
                        alt="Scree plot of observed and random eigenvalues"))
    _add(b, P.efa_loadings(efa), "EFA loadings")
    return b


def path_figure_block(key: str, model: Mapping[str, Any], labels: Mapping[str, str]) -> Figure | Paragraph:
    est = pd.DataFrame(model.get("estimates") or [])
    if est.empty or "op" not in est or not (est["op"] == "~").any():
        return _missing(f"Path diagram of the {MODELS.get(key, key)}")
    from adoption.figures.pathdiagram import path_drawings

    est = est.copy()
    for c in ("est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all"):
        if c in est:
            est[c] = pd.to_numeric(est[c], errors="coerce")
        else:
            est[c] = float("nan")
    paths = est[est["op"].isin(["~", "~~"])].reset_index(drop=True)
    r2 = {k: float(v) for k, v in T.outcome_r2(model).items() if is_number(v)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fig, svg, png, note = path_drawings(paths, r2, labels, draw_note=False)
    except (ValueError, TypeError) as exc:
        return Paragraph(f"The path diagram of the {MODELS.get(key, key)} could not be drawn: {exc}", "warning")
    return Figure(f"path-{key}", f"Path diagram of the {MODELS.get(key, key)}",
                  note + " R² inside each outcome's box. The table of path coefficients that "
                  "follows gives b, SE, z, p and the 95% CI of every path.",
                  f"path_{key}", plotly=fig, svg=svg, png=png,
                  alt=f"Path diagram of the {MODELS.get(key, key)}")


def model_blocks(key: str, model: Mapping[str, Any], labels: Mapping[str, str]) -> list:
    name = MODELS.get(key, key)
    b: list = [Heading(name[0].upper() + name[1:])]
    facts = []
    if model.get("estimator"):
        facts.append(f"estimator {model['estimator']}")
    if model.get("missing"):
        facts.append(f"missing data: {model['missing']}")
    if is_number(model.get("nobs")):
        facts.append(f"N = {format_int(model['nobs'])}")
    if facts:
        b.append(Paragraph("Fitted with " + ", ".join(facts) + "."))
    b.append(path_figure_block(key, model, labels))
    _add(b, T.coefficients(model, key, name), f"Path coefficients of the {name}")
    _add(b, T.r_squared(model, key, name, labels), "R²")
    if key != "latent":   # the latent model's moderation has its own shape, below
        b.extend(moderation_tables(model.get("moderation"), key))
        b.extend(moderation_figures(model.get("moderation"), labels))
    boot = model.get("bootstrap")
    _add(b, T.effects(model.get("indirect"), f"indirect-{key}", f"Indirect effects in the {name}", boot),
         "Indirect effects")
    ti = T.effects(model.get("total_indirect"), f"total-indirect-{key}",
                   f"Total indirect effects in the {name}", boot)
    if ti is not None:
        b.append(ti)
    _add(b, T.effects(model.get("total"), f"total-{key}", f"Total effects in the {name}", boot),
         "Total effects")
    alt = T.alternatives(name[0].upper() + name[1:], model.get("fit"), model.get("alternatives"), key)
    if alt is not None:
        b.append(alt)
    mi = T.modification_indices(model.get("modification_indices"), key)
    if mi is not None:
        b.append(mi)
    if key == "latent":
        b.extend(latent_moderation_blocks(model.get("moderation")))
    for w in model.get("warnings") or []:
        b.append(Paragraph(str(w), "warning"))
    for a in model.get("alternatives") or []:
        for w in a.get("warnings") or []:
            b.append(Paragraph(f"Alternative model {T.model_name(a)}: {w}", "warning"))
    return b


def structural_section(results: Mapping[str, Any], labels: Mapping[str, str]) -> Section:
    st = results.get("structural")
    if not isinstance(st, Mapping) or not any(isinstance(st.get(k), Mapping) for k in MODELS):
        return Section("structural", "Structural model", (_missing("Structural model"),))
    models = {k: st[k] for k in MODELS if isinstance(st.get(k), Mapping)}
    b: list = []
    _add(b, T.structural_fit({MODELS[k][0].upper() + MODELS[k][1:]: m for k, m in models.items()}),
         "Fit of the structural models")
    b.append(Heading("Comparison of the fitted models"))
    _add(b, T.model_comparison(model_comparison_frame(results)), "Comparison of the fitted models")
    b.append(Heading("Hypotheses"))
    _add(b, T.hypotheses(results.get("hypotheses"), T.beta_intervals(models.get("composite"))),
         "Hypothesis tests")
    for k, m in models.items():
        b.extend(model_blocks(k, m, labels))
    sens = OT.sensitivity(results.get("ordinal"))
    if sens is not None:
        b += [Heading("Sensitivity to treating the answers as ordered categories"), sens]
    return Section("structural", "Structural model", tuple(b))


def summary_section(results: Mapping[str, Any], labels: Mapping[str, str]) -> Section:
    return Section("summary", "Summary in plain language",
                   tuple(Paragraph(p, "lead" if i == 0 else "text")
                         for i, p in enumerate(plain_summary(results, labels))))


def group_figure_blocks(col: str, comp: Mapping[str, Any], labels: Mapping[str, str],
                        threshold: int) -> list:
    """One path diagram per group of ``col``, side by side; paths that differ in orange.

    Static (SVG inlined in the page) so that two fit side by side and shrink with the
    page; the table above gives every number.

    A group with fewer than ``threshold`` respondents gets no diagram (a line says so).
    """
    paths = [p for p in comp.get("paths") or [] if p.get("op") == "~"]
    if not paths:
        return []
    from adoption.figures.groupdiagram import (differing_paths, group_path_png, group_path_svg,
                                               group_paths)

    differing = differing_paths((comp.get("path_differences") or {}).get("paths"))
    small = T.small_groups(comp, threshold)
    name = comp.get("label") or col
    out: list = []
    for g, glabel in dict.fromkeys((str(p.get("group")), T.group_label(p)) for p in paths):
        if g in small:
            out.append(Paragraph(f"{name} = {glabel}: {T.fewer_than(threshold)} respondents; "
                                 "no diagram is shown.", "missing"))
            continue
        df = group_paths(paths, g)
        stem = re.sub(r"[^A-Za-z0-9]+", "_", f"groups_{col}_{g}").strip("_")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                svg = group_path_svg(df, differing, labels, draw_note=False)
                png = group_path_png(df, differing, labels, draw_note=False)
        except (ValueError, TypeError) as exc:
            out.append(Paragraph(f"The path diagram of {name} = {glabel} could not be drawn: {exc}",
                                 "warning"))
            continue
        out.append(Figure(f"groups-{stem}", f"Path diagram: {name} = {glabel}",
                          "Standardised coefficients (β) in this group; dashed: p ≥ .05. " + (
                              "Orange, thicker arrows: paths whose equality test across groups has "
                              "p < .05." if differing else
                              "No path differs across groups at p < .05."),
                          stem, svg=svg, png=png, side=True,
                          alt=f"Path diagram of the group {glabel} of {name}"))
    return out


def groups_section(results: Mapping[str, Any], labels: Mapping[str, str]) -> Section:
    """Per grouping column: sizes (small groups suppressed), measurement invariance,
    partial invariance, path coefficients by group with their equality tests, the
    omnibus test and one path diagram per group."""
    groups = results.get("groups")
    if not isinstance(groups, Mapping) or not groups:
        return Section("groups", "Group comparisons", (_missing("Group comparisons"),))
    k = T.small_cell(results)
    b: list = []
    for col, comp in groups.items():
        if not isinstance(comp, Mapping):
            continue
        name = str(comp.get("label") or col)
        key = re.sub(r"[^A-Za-z0-9]+", "-", str(col)).strip("-").lower() or "group"
        b.append(Heading(f"By {name}"))
        _add(b, T.group_sizes(comp, key, k), f"Group sizes of {name}")
        for e in comp.get("excluded_groups") or []:
            b.append(Paragraph(T.redact_small_counts(
                f"Left out of the {dict(all='comparisons', invariance='invariance tests', paths='path model').get(str(e.get('analysis')), e.get('analysis'))}: "
                f"{T.group_label(e)} ({e.get('reason', '')}).", comp, k), "missing"))
        _add(b, T.invariance(comp, key), f"Measurement invariance across {name}")
        headline = T.invariance_headline(comp)
        if headline:
            b.append(Paragraph(headline))
        pt = T.partial_invariance(comp, key)
        if pt is not None:
            b.append(pt)
        _add(b, T.group_paths_table(comp, key, k), f"Path coefficients by {name}")
        omni = T.omnibus_text(comp)
        if omni:
            b.append(Paragraph(omni))
        b.extend(group_figure_blocks(str(col), comp, labels, k))
        for w in comp.get("warnings") or []:
            if " is left out" in str(w) and comp.get("excluded_groups"):
                continue    # said above, with the reason
            b.append(Paragraph(T.redact_small_counts(str(w), comp, k), "warning"))
    return Section("groups", "Group comparisons", tuple(b))


def methods_section(results: Mapping[str, Any]) -> Section:
    opts = results.get("options") or {}
    spec = results.get("spec") or {}
    inp = results.get("input") or {}
    st = results.get("structural") if isinstance(results.get("structural"), Mapping) else {}
    pairs: list[tuple[str, Any]] = [
        ("Estimator (measurement model)", opts.get("estimator", MISSING)),
        ("Missing data (spec)", spec.get("missing_method", MISSING)),
    ]
    ordinal = results.get("ordinal") or {}
    if opts.get("parameterization") and ordinal.get("ordinal") and ordinal.get("continuous_items"):
        pairs.append(("Items", f"ordered categories: {', '.join(ordinal.get('ordinal_items') or [])}; "
                      f"continuous: {', '.join(ordinal['continuous_items'])} (polychoric, "
                      f"polyserial and Pearson correlations, {opts['parameterization']} "
                      "parameterization)"))
    elif opts.get("parameterization") and ordinal.get("ordinal"):
        pairs.append(("Items", "ordered categories (polychoric correlations, "
                      f"{opts['parameterization']} parameterization)"))
    if opts.get("std_lv"):
        pairs.append(("Scale of the latent variables", "variances fixed at 1, all loadings free "
                      "(lavaan's std.lv; the group comparisons fix the first loadings)"))
    for k, name in MODELS.items():
        m = st.get(k) if isinstance(st.get(k), Mapping) else None
        if not m:
            continue
        pairs.append((f"Estimator ({name})", m.get("estimator", MISSING)))
        pairs.append((f"Missing data ({name})", m.get("missing", MISSING)))
        pairs.append((f"N ({name})", format_int(m.get("nobs"))))
        bt = m.get("bootstrap") or {}
        if bt:
            pairs.append((f"Bootstrap draws ({name})",
                          f"{format_int(bt.get('B'))} (seed {bt.get('seed', MISSING)}, "
                          f"{format_int(bt.get('failed') or 0)} failed)"))
    if not any(k.startswith("Bootstrap") for k, _ in pairs):
        pairs.append(("Bootstrap draws (requested)", f"{format_int(opts.get('bootstrap'))} (seed {opts.get('seed', MISSING)})"
                      if is_number(opts.get("bootstrap")) else MISSING))
    for g in inp.get("recoded_by_labels") or []:
        rule, cols = str(g.get("rule")), ", ".join(map(str, g.get("columns") or []))
        if rule.endswith(" (scale runs descending)"):
            pairs.append((f"Recoded: scale runs descending ({rule.removesuffix(' (scale runs descending)')})",
                          f"{cols}: the scale's lowest code is the most agreeing answer (said by "
                          "the spec or the file's value labels), so the codes were reversed: "
                          "higher numbers mean more agreement"))
            continue
        pairs.append((f"Recoded by value labels ({rule})",
                      f"{cols}: the file's value labels "
                      "differ from the spec's scale, so the codes were recoded to mean what the "
                      "spec's labels say"))
    pairs += [
        ("Input file", Path(str(inp.get("path", MISSING))).name),
        ("Input format", f"{inp.get('format', MISSING)}, {format_int(inp.get('rows'))} rows, "
                         f"encoding {inp.get('encoding', MISSING)}"),
        ("Input SHA-256", inp.get("sha256", MISSING)),
        ("Spec", Path(str(spec.get("path", MISSING))).name),
        ("Small-cell threshold", T.small_cell(results)),
    ]
    kind = (results.get("privacy") or {}).get("ids_pseudonymised")
    if kind:
        pairs.append(("Respondent ids", f"pseudonymised: they looked like {kind}, and each was "
                                        "replaced by a salted hash whose key was not kept"))
    pairs += [(f"Version of {p}", v) for p, v in package_versions(results)]
    b: list = [T.key_values("methods", "Methods and reproducibility", pairs,
                            "Re-running the same spec on a file with the same SHA-256, with the same "
                            "seed and package versions, gives the same numbers.")]
    b.append(T.key_values("spec", "Spec of the run", [(str(k), v) for k, v in spec.items()]))
    cfa_model = (results.get("cfa") or {}).get("model")
    if cfa_model:
        b.append(Code(str(cfa_model), "Measurement model (lavaan syntax)"))
    for k, name in MODELS.items():
        m = st.get(k) if isinstance(st.get(k), Mapping) else None
        syntax = (m or {}).get("syntax") or (m or {}).get("model")
        if syntax:
            b.append(Code(str(syntax), f"{name[0].upper() + name[1:]} (lavaan syntax)"))
    warn = []
    for stage, ws in (results.get("warnings") or {}).items():
        warn += [f"{stage}: {w}" for w in (ws or [])]
    if warn:
        b.append(Heading("Warnings"))
        b += [Paragraph(w, "warning") for w in warn]
    return Section("methods", "Methods and reproducibility", tuple(b))


def build_report(results: Mapping[str, Any]) -> Report:
    """The whole report, section by section, from a run's results."""
    labels = construct_labels(results)
    title = str(results.get("title") or "Survey results")
    s = results.get("sample") or {}
    subtitle = (f"N = {format_int(s.get('rows_analysed'))} analysed of {format_int(s.get('rows_in'))} received"
                if s else "")
    th = OT.thresholds(results.get("ordinal"))
    appendix = (Section("appendix", "Appendix: thresholds", (th,)),) if th is not None else ()
    return Report(title, subtitle, (
        summary_section(results, labels),
        sample_section(results),
        items_section(results, labels),
        OT.name_estimator(measurement_section(results, labels), results),
        OT.name_estimator(structural_section(results, labels), results),
        OT.name_estimator(groups_section(results, labels), results),
        *pls_sections(results, labels),
        methods_section(results),
    ) + appendix)


__all__ = ["build_report", "construct_labels", "groups_section", "package_versions"]
