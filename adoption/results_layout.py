"""The layout of a run directory's shared files: ``results.json`` and ``tables/*.csv``.

The pipeline computes the stages' results; this module lays them out as the files a
run writes (:func:`results_document`, :func:`table_frames`) and is the one catalogue of
the tables (:data:`TABLES`). Both apply the small-cell rule (:mod:`adoption.privacy`):
what is written for sharing carries no count of fewer than ``small_cell`` people
(demographic counts, group sizes, the per-group answer counts).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from adoption import __version__, privacy
from adoption.fitview import fit_measures_frame, model_comparison_frame, run_fits
from adoption.load import label_recodes, recode_warnings
from adoption.ordinal_run import ordinal_dict, ordinal_frames
from adoption.audit import log_frame
from adoption.vocabulary import sign_word

#: The per-group answer table (read by the dashboard).
DISTRIBUTION_BY_GROUP = "tables/distribution_by_group.csv"

#: Every table a run may write: path (``*`` for a model form, a grouping column or a
#: PLS table) -> when it is written.
TABLES: dict[str, str] = {
    "tables/items.csv": "always",
    "tables/distribution.csv": "always",
    "tables/demographics.csv": "always",
    DISTRIBUTION_BY_GROUP: "always",
    "tables/reliability.csv": "always",
    "tables/item_statistics.csv": "always",
    "tables/htmt.csv": "always",
    "tables/fornell_larcker.csv": "always",
    "tables/cfa_estimates.csv": "always",
    "tables/constructs.csv": "always",
    "tables/fit_measures.csv": "always",
    "tables/model_comparison.csv": "always",
    "tables/hypotheses.csv": "structural model",
    "tables/full_collinearity_vif.csv": "structural model",
    "tables/composite_estimates.csv": "structural model",
    "tables/composite_effects.csv": "structural model",
    "tables/composite_modification_indices.csv": "structural model",
    "tables/latent_estimates.csv": "latent SEM",
    "tables/latent_effects.csv": "latent SEM",
    "tables/latent_modification_indices.csv": "latent SEM",
    "tables/moderation_*.csv": "interaction terms (composite model)",
    "tables/latent_interactions.csv": "interaction terms between constructs (latent SEM)",
    "tables/invariance_*.csv": "group comparisons",
    "tables/pls_*.csv": "PLS-SEM",
    "tables/thresholds.csv": "ordinal",
    "tables/sensitivity.csv": "ordinal sensitivity",
}


def catalogued(path: str) -> bool:
    """Whether ``path`` (``tables/name.csv``) is one of :data:`TABLES`."""
    return any(re.fullmatch(re.escape(p).replace(r"\*", ".+"), path) for p in TABLES)


def unique_tables(pairs: Iterable[tuple[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """The (path, table) pairs as a map; a path given twice is an error (a dict literal
    silently kept the last one)."""
    out: dict[str, pd.DataFrame] = {}
    for path, frame in pairs:
        if path in out:
            raise ValueError(f"{path} is laid out twice")
        if path.startswith("tables/") and not catalogued(path):
            raise ValueError(f"{path} is not in adoption.results_layout.TABLES")
        out[path] = frame
    return out


def results_document(result, options, spec: str | Path, spec_sha256: str, estimator: str,
                     std_lv: bool, constructs: pd.DataFrame) -> dict[str, Any]:
    """``results.json`` of a run: a :class:`~adoption.pipeline.RunResult` (its
    ``results`` not used) and its :class:`~adoption.pipeline.RunOptions`.

    ``constructs`` is the construct-score table; the sections are described in the
    README. Counts of people go through :mod:`adoption.privacy`: the demographic rows and
    each grouping column's sizes carry ``suppressed`` marks and no hidden count.
    """
    survey, loaded, cleaned = result.survey, result.loaded, result.cleaned
    structural, pls, groups, ordinal = result.structural, result.pls, result.groups, result.ordinal
    mdict = result.measurement.to_dict()
    k = survey.small_cell
    descriptives = dict(result.description.to_dict())
    descriptives["demographics"] = demographics_table(result.description.demographics, k)
    return {
        "adoption_version": __version__,
        "title": survey.title,
        "input": {"path": loaded.source.path, "sha256": loaded.source.sha256,
                  "format": loaded.source.format, "rows": loaded.source.rows,
                  "encoding": loaded.source.encoding,
                  "recoded_by_labels": label_recodes(loaded.recodes)},
        "spec": {"path": str(Path(spec)), "sha256": spec_sha256,
                 "missing_method": survey.missing.method},
        "options": {"estimator": estimator, "bootstrap": options.bootstrap,
                    "seed": options.seed, "groups": options.groups,
                    "bootstrap_latent": options.bootstrap_latent,
                    "parameterization": options.parameterization, "std_lv": std_lv,
                    "methods": ["cbsem", *(["pls"] if pls else [])]},
        "ordinal": ordinal_dict(ordinal),
        "sample": cleaned.flow.to_dict(),
        "descriptives": descriptives,
        "normality": {"univariate": mdict["normality"], "mardia": mdict["validity"]["mardia"]},
        "reliability": mdict["reliability"],
        "validity": mdict["validity"],
        "efa": mdict["efa"],
        "cfa": mdict["cfa"],
        "common_method": mdict["common_method"],
        "construct_scores": constructs,
        "structural": None if structural is None else structural.to_dict(),
        "hypotheses": None if structural is None else structural.hypotheses,
        "pls": None if pls is None else pls.to_dict(),
        "groups": None if groups is None else
        {col: privacy.suppress_group_sizes(c, k) for col, c in groups.to_dict().items()},
        "constructs": {n: {"label": c.label or n, "items": list(c.items)}
                       for n, c in survey.constructs.items()},
        "privacy": {"small_cell": k, "ids_pseudonymised": loaded.ids_pseudonymised},
        "warnings": {"loading": recode_warnings(loaded.recodes),
                     "cleaning": list(cleaned.warnings),
                     "pls": [] if pls is None else list(pls.warnings),
                     "measurement": mdict["warnings"],
                     "composite": [] if structural is None else list(structural.composite.warnings),
                     "latent": [] if structural is None or structural.latent is None
                     else list(structural.latent.warnings),
                     **({"structural": ["The spec has no structural model: the structural stage "
                                        "was skipped (a measurement-only study)."]}
                        if structural is None else {}),
                     "ordinal": list(ordinal["warnings"])},
    }


def demographics_table(demographics: pd.DataFrame, k: int) -> pd.DataFrame:
    """The demographic counts as written: hidden counts and shares missing, marked."""
    return privacy.suppress_counts(demographics, "variable", threshold=k)


def table_frames(result) -> dict[str, pd.DataFrame]:
    """``tables/*.csv``, ``exclusions.csv`` and ``log.csv`` of a run (path -> table)."""
    structural, measurement, description = result.structural, result.measurement, result.description
    cleaned, pls, k = result.cleaned, result.pls, result.survey.small_cell
    log = cleaned.log + (() if structural is None else structural.log) + (pls.log if pls else ())
    pairs = [
        ("exclusions.csv", cleaned.exclusions),
        ("log.csv", log_frame(log)),
        ("tables/items.csv", description.items),
        ("tables/distribution.csv", description.distribution),
        ("tables/demographics.csv", demographics_table(description.demographics, k)),
        (DISTRIBUTION_BY_GROUP, privacy.suppress_group_distribution(description.distribution_by_group, k)),
        ("tables/reliability.csv", measurement.reliability),
        ("tables/item_statistics.csv", measurement.item_statistics),
        ("tables/htmt.csv", measurement.htmt.reset_index(names="construct")),
        ("tables/fornell_larcker.csv", measurement.fornell_larcker),
        ("tables/cfa_estimates.csv", measurement.cfa_estimates),
        ("tables/constructs.csv", result.results["construct_scores"]),
        ("tables/fit_measures.csv", fit_measures_frame(run_fits(result.results))),
        ("tables/model_comparison.csv", model_comparison_frame(result.results)),
    ]
    if structural is not None:
        pairs += [("tables/hypotheses.csv", structural.hypotheses.assign(
                      expected_sign=structural.hypotheses["expected_sign"].map(sign_word))),
                  ("tables/full_collinearity_vif.csv", structural.full_vif),
                  *model_tables(structural)]
    if pls is not None:
        pairs += [(f"tables/pls_{name}.csv", v) for name, v in pls.tables.items()]
    pairs += group_tables(result.groups)
    if result.ordinal is not None:
        pairs += list(ordinal_frames(result.ordinal).items())
    return unique_tables(pairs)


def group_tables(groups) -> list[tuple[str, pd.DataFrame]]:
    """The invariance sequence of each grouping column as a CSV table."""
    if groups is None:
        return []
    return [(f"tables/invariance_{file_stem(col)}.csv", comp.invariance_table())
            for col, comp in groups.comparisons.items() if comp.invariance]


def file_stem(name: str) -> str:
    """A grouping column's name as part of a file name."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", str(name)).strip("_").lower() or "group"


def model_tables(structural) -> list[tuple[str, pd.DataFrame]]:
    """Estimates, effects, modification indices of each form as CSV tables."""
    out = []
    for form in (structural.composite, structural.latent):
        if form is None:
            continue
        out += [(f"tables/{form.form}_estimates.csv", form.model_fit.estimates),
                (f"tables/{form.form}_effects.csv", _joined(form.effects)),
                (f"tables/{form.form}_modification_indices.csv", form.modification_indices)]
    return out + moderation_tables(structural)


def _joined(frame: pd.DataFrame) -> pd.DataFrame:
    """``path`` lists written as ``X -> M -> Y``."""
    if frame is None or "path" not in frame:
        return frame
    return frame.assign(path=frame["path"].map(lambda p: " -> ".join(p) if isinstance(
        p, (list, tuple)) else p))


def moderation_tables(structural) -> list[tuple[str, pd.DataFrame]]:
    """The composite model's moderation (interactions, simple slopes, Johnson-Neyman
    points, conditional indirect effects and indices) and the latent interactions."""
    out = []
    mod = structural.moderation
    if mod is not None:
        out += [(f"tables/moderation_{name}.csv", frame) for name, frame in (
            ("interactions", mod.interactions), ("slopes", mod.slopes),
            ("johnson_neyman", mod.johnson_neyman), ("conditional", _joined(mod.conditional)))
            if frame is not None and len(frame)]
    lat = structural.latent.moderation if structural.latent is not None else None
    if lat is not None and lat.interactions:
        out.append(("tables/latent_interactions.csv", pd.concat(
            [r.interaction.assign(method=r.method) for r in lat.interactions],
            ignore_index=True)))
    return out
