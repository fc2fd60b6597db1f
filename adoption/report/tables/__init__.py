"""APA tables built from ``results.json``: showing, not computing.

Each function takes a part of the results (plain dicts and lists as the run directory
stores them, unrounded) and returns a :class:`~adoption.report.content.Table` of
formatted text, or ``None`` when that part is absent. Numbers are rounded here and only
here: two decimals for reliability, loadings, correlations and beta; three for fit
indices, p values and unstandardised coefficients; no leading zero for values bounded
by 1; ``< .001`` for small p values (APA, 2020, sections 6.36 and 6.38).

    common.py       cut-off marks, the privacy threshold, intervals, the fit tables
    measurement.py  sample flow, demographics, items, reliability, validity, CFA
    structural.py   path coefficients, R², effects, hypotheses, alternative models
    groups.py       group sizes, measurement invariance, paths by group

Public names (import them from here: ``from adoption.report import tables as T``):

    common:      cutoff_text, marked, small_cell, fewer_than, fit_row, FIT_COLUMNS,
                 ROBUST_FIT_COLUMNS, fit_columns, fit_note, fit_table, arrow,
                 interval, key_values
    measurement: sample_flow, demographics, item_descriptives, item_name, reliability,
                 htmt, fornell_larcker, sampling_adequacy, cfa_fit, loadings,
                 common_method
    structural:  structural_fit, beta_intervals, BETA_CI_NOTE, BETA_SE_NOTE,
                 BETA_DELTA_CI_NOTE, has_beta_se, beta_cells, beta_note,
                 model_comparison, coefficients, outcome_r2, r_squared, effects,
                 hypotheses, model_name, alternatives, modification_indices
    groups:      INVARIANCE_LEVELS, group_label, small_groups, redact_small_counts,
                 group_sizes, invariance_model_name, invariance, invariance_headline,
                 partial_invariance, group_paths_table, omnibus_text
"""

from adoption.report.tables.common import (  # noqa: F401
    FIT_COLUMNS,
    ROBUST_FIT_COLUMNS,
    arrow,
    cutoff_text,
    fewer_than,
    fit_columns,
    fit_note,
    fit_row,
    fit_table,
    interval,
    key_values,
    marked,
    small_cell,
)
from adoption.report.tables.measurement import (  # noqa: F401
    cfa_fit,
    common_method,
    demographics,
    fornell_larcker,
    htmt,
    item_descriptives,
    item_name,
    loadings,
    reliability,
    sample_flow,
    sampling_adequacy,
)
from adoption.report.tables.structural import (  # noqa: F401
    BETA_CI_NOTE,
    BETA_DELTA_CI_NOTE,
    BETA_SE_NOTE,
    alternatives,
    beta_cells,
    beta_intervals,
    beta_note,
    coefficients,
    effects,
    has_beta_se,
    hypotheses,
    model_comparison,
    model_name,
    modification_indices,
    outcome_r2,
    r_squared,
    structural_fit,
)
from adoption.report.tables.groups import (  # noqa: F401
    INVARIANCE_LEVELS,
    group_label,
    group_paths_table,
    group_sizes,
    invariance,
    invariance_headline,
    invariance_model_name,
    omnibus_text,
    partial_invariance,
    redact_small_counts,
    small_groups,
)

__all__ = [
    "cutoff_text",
    "marked",
    "small_cell",
    "fewer_than",
    "fit_row",
    "FIT_COLUMNS",
    "ROBUST_FIT_COLUMNS",
    "fit_columns",
    "fit_note",
    "fit_table",
    "arrow",
    "interval",
    "key_values",
    "sample_flow",
    "demographics",
    "item_descriptives",
    "item_name",
    "reliability",
    "htmt",
    "fornell_larcker",
    "sampling_adequacy",
    "cfa_fit",
    "loadings",
    "common_method",
    "structural_fit",
    "beta_intervals",
    "BETA_CI_NOTE",
    "BETA_SE_NOTE",
    "BETA_DELTA_CI_NOTE",
    "has_beta_se",
    "beta_cells",
    "beta_note",
    "model_comparison",
    "coefficients",
    "outcome_r2",
    "r_squared",
    "effects",
    "hypotheses",
    "model_name",
    "alternatives",
    "modification_indices",
    "INVARIANCE_LEVELS",
    "group_label",
    "small_groups",
    "redact_small_counts",
    "group_sizes",
    "invariance_model_name",
    "invariance",
    "invariance_headline",
    "partial_invariance",
    "group_paths_table",
    "omnibus_text",
]
