"""Stage: cleaned responses -> :class:`GroupResults` (group comparisons).

For each column of the spec's ``groups``:

1. **group sizes**; groups smaller than ``Survey.min_group_size`` are reported and left
   out of the comparisons (never merged with another group);
2. **measurement invariance** of the CFA of all constructs (:mod:`adoption.invariance`),
   in the usual sequence configural -> metric (equal loadings) -> scalar (+ equal
   intercepts) -> strict (+ equal residual variances), each a multi-group fit
   (:func:`adoption.sem.multigroup.fit_multigroup`) compared with the previous level by
   the chi-square difference test and the changes in CFI, RMSEA and SRMR (Chen, 2007);
   the configural model must itself fit by the usual cut-offs
   (:func:`adoption.invariance.configural_decision`), else no level holds;
   when a level fails, **partial invariance**: the equality constraint with the largest
   score test (lavaan's ``lavTestScore``) is released, one at a time, until the level
   holds or no constraint is significant;
3. **multi-group path model** on the construct mean scores: the path coefficients per
   group, a chi-square difference test of each path held equal across groups, and the
   omnibus test of all paths equal (lavaan ``group.equal = "regressions"``).

Rows without a group value are left out. Missing answers are handled as the spec says:
listwise deletion, or full-information ML (``missing: {method: fiml}``; lavaan
``missing = "ml"``) with estimator ML or MLR (MLM, which needs complete data, becomes
MLR with a warning).

References
----------
Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
invariance. *Structural Equation Modeling*, 14, 464-504.
Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing
measurement invariance. *Structural Equation Modeling*, 9, 233-255.
Byrne, B. M., Shavelson, R. J., & Muthen, B. (1989). Testing for the equivalence of
factor covariance and mean structures: the issue of partial measurement invariance.
*Psychological Bulletin*, 105, 456-466.
Putnick, D. L., & Bornstein, M. H. (2016). Measurement invariance conventions and
reporting. *Developmental Review*, 41, 71-90.
Vandenberg, R. J., & Lance, C. E. (2000). A review and synthesis of the measurement
invariance literature. *Organizational Research Methods*, 3, 4-70.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from adoption.clean import CleanedResponses
from adoption.errors import InputError
from adoption.invariance import (CHISQ_ALPHA, configural_decision, difference_test,
                                 fit_dict, invariance_decision, invariance_sequence)
from adoption.load import category_key
from adoption.ordinal import composite_missing, is_ordinal, item_estimation, ordinal_items
from adoption.parallel import run_tasks
from adoption.sem.multigroup import fit_multigroup, prepare_groups
from adoption.sem.syntax import parse_model, write_formulas
from adoption.spec import Survey
from adoption.structural.moderated import construct_model
from adoption.structural.stage import composite_scores

__all__ = ["GroupComparison", "GroupResults", "run_groups", "strip_labels",
           "STD_LV_GROUPS_NOTE", "PATH_COLUMNS", "SIZE_COLUMNS", "DIFF_COLUMNS",
           # the invariance sequence's verdicts (adoption.invariance), part of this stage
           "CHISQ_ALPHA", "configural_decision", "invariance_decision"]

PATH_COLUMNS = ("lhs", "op", "rhs", "group", "group.label", "est", "se", "pvalue",
                "std.all")
SIZE_COLUMNS = ("value", "label", "n", "included")
DIFF_COLUMNS = ("lhs", "op", "rhs", "chisq.diff", "df.diff", "pvalue")


def strip_labels(syntax: str) -> str:
    """lavaan syntax without ``:=`` definitions, constraints and coefficient labels
    (``b1*X`` -> ``X``); fixed values (``0*X``) and start values are kept. In a
    multi-group model a label would hold the coefficient equal across groups. Read and
    written by the one parser (:mod:`adoption.sem.syntax`)."""
    return write_formulas(parse_model(syntax, where="structural").formulas, labels=False)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class GroupComparison:
    """The comparisons across the groups of one column.

    Attributes
    ----------
    column, label : the grouping column and its label from the spec.
    sizes : DataFrame ``value, label, n, included`` (rows with a group value).
    excluded_groups : groups below ``min_group_size``: {value, label, n, reason}.
    n_missing : rows without a group value.
    invariance : one dict per model fitted, in order: ``level`` (configural, metric,
        scalar, strict), ``model`` (the level, or "partial <level>" for the refit with
        the constraints released after that level failed; the full level's entry is
        kept before it), ``group.equal``, ``freed`` (all released constraints in the
        model), ``released`` (those released at this level), ``nobs`` per group,
        ``fit`` (lavaan names), ``converged``; for configural ``configural`` (its fit
        judged by :func:`configural_decision`); for the others ``comparison`` with the
        previous supported model: ``vs``, ``chisq.diff``, ``df.diff``, ``pvalue``,
        ``method``, ``chisq.rejects`` (p < .05), the fit-index changes and Chen's
        verdict (see :func:`invariance_decision`); ``supported`` (None when an
        earlier level failed: not tested), ``partial`` (the partial refit).
    highest_level : the highest level supported ("configural" .. "strict", prefixed
        "partial " when constraints were released), None if none could be fitted or
        the configural model fits poorly.
    partial : released constraints: {level, parameter, X2, df, pvalue} in order.
    paths : DataFrame of the path coefficients per group: ``lhs, op, rhs, group,
        group.label, est, se, pvalue, std.all``.
    path_differences : DataFrame ``lhs, op, rhs, chisq.diff, df.diff, pvalue``: each path
        held equal across groups vs all free.
    omnibus : the test of all paths equal: chisq.diff, df.diff, pvalue, and both fits.
    warnings : plain-language problems.
    timings : seconds per part.
    """

    column: str
    label: str
    sizes: pd.DataFrame
    excluded_groups: tuple
    n_missing: int
    invariance: tuple
    highest_level: str | None
    partial: tuple
    paths: pd.DataFrame
    path_differences: pd.DataFrame
    omnibus: dict
    warnings: tuple
    timings: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        return {"column": self.column, "label": self.label, "sizes": self.sizes,
                "excluded_groups": list(self.excluded_groups),
                "n_missing": self.n_missing, "invariance": list(self.invariance),
                "highest_level": self.highest_level, "partial": list(self.partial),
                "paths": self.paths,
                "path_differences": {"paths": self.path_differences,
                                     "omnibus": self.omnibus},
                "warnings": list(self.warnings)}

    def invariance_table(self) -> pd.DataFrame:
        """The invariance sequence as one row per model (for ``tables/*.csv``):
        ``model, level, freed, released, npar, chisq, df, pvalue, cfi, tli, rmsea,
        rmsea.ci.lower, rmsea.ci.upper, srmr`` (and the robust indices under MLM/MLR),
        then the comparison ``vs, chisq.diff, df.diff, pvalue.diff, cfi.diff,
        rmsea.diff, srmr.diff, chisq.rejects`` and ``supported``."""
        rows = []
        for e in self.invariance:
            c = e.get("comparison") or {}
            rows.append({"model": e["model"], "level": e["level"],
                         "freed": "; ".join(e["freed"]),
                         "released": "; ".join(e["released"]), **e["fit"],
                         "vs": c.get("vs"), "chisq.diff": c.get("chisq.diff"),
                         "df.diff": c.get("df.diff"), "pvalue.diff": c.get("pvalue"),
                         "cfi.diff": c.get("cfi.diff"), "rmsea.diff": c.get("rmsea.diff"),
                         "srmr.diff": c.get("srmr.diff"),
                         "chisq.rejects": c.get("chisq.rejects"),
                         "supported": e["supported"]})
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class GroupResults:
    """Result of :func:`run_groups`: one :class:`GroupComparison` per grouping column."""

    comparisons: dict
    estimator: str
    min_group_size: int

    def to_dict(self) -> dict:
        return {col: c.to_dict() for col, c in self.comparisons.items()}


# --------------------------------------------------------------------------- stage
#: Said in each comparison's warnings when the run asks for std.lv.
STD_LV_GROUPS_NOTE = ("std.lv is not supported for multi-group models: the invariance "
                      "sequence and the multi-group paths are fitted with the first loading "
                      "of each factor fixed at 1 (lavaan's default). Their fit, tests and "
                      "std.all are the same as under std.lv; only unstandardised loadings "
                      "and latent (co)variances are on another scale.")


def run_groups(cleaned: CleanedResponses, survey: Survey, estimator: str = "ML",
               step=lambda s: None, std_lv: bool = False, n_jobs: int = 2) -> GroupResults:
    """Compare the spec's groups: sizes, measurement invariance, multi-group paths.

    Parameters
    ----------
    cleaned : the analysed responses (reverse-keyed items recoded).
    survey : the spec: ``groups``, ``min_group_size``, ``constructs``, ``structural``.
    estimator : the run's estimator, "ML", "MLM" or "MLR". Under MLM/MLR the
        difference tests are Satorra-Bentler (2001) scaled (lavaan's ``lavTestLRT``), the
        SEs robust, and the invariance decision uses the robust CFI and RMSEA.
    step : progress callback.
    std_lv : the run's std.lv; multi-group fits do not support it, and each
        comparison's warnings say so (:data:`STD_LV_GROUPS_NOTE`).
    n_jobs : local workers (:func:`adoption.parallel.run_tasks`): the grouping columns
        are compared in parallel, one task each; the results do not depend on it.

    Returns
    -------
    GroupResults
        ``to_dict()`` gives, per grouping column, ``sizes``, ``excluded_groups``,
        ``invariance``, ``highest_level``, ``partial``, ``paths``, ``path_differences``
        (``paths`` and ``omnibus``) and ``warnings`` (see :class:`GroupComparison`).

    Notes
    -----
    Fits agree with lavaan 0.6-14 (``cfa``/``sem`` with ``group``, ``group.equal`` and
    ``group.partial``) to about 1e-6 in chi-square and fit indices
    (``tests/test_multigroup.py``). The reference group (latent means fixed at 0) is
    the first group value in sorted order.
    """
    # the file's value labels and the spec's, as the loader reconciled them
    columns = [g.model_copy(update={"labels": cleaned.category_labels.get(g.column, g.labels)})
               for g in survey.groups]
    step("group comparisons: " + ", ".join(g.label or g.column for g in columns))
    # the largest comparisons first, so that the workers finish together
    order = sorted(range(len(columns)), key=lambda i: -_n_values(cleaned.data, columns[i]))
    done = run_tasks(_compare_task, [(cleaned.data, survey, columns[i], estimator)
                                     for i in order], scheduler="local", n_jobs=n_jobs)
    out = {}
    for i in sorted(order):
        comp = done[order.index(i)]
        if std_lv:
            comp = replace(comp, warnings=(STD_LV_GROUPS_NOTE, *comp.warnings))
        out[columns[i].column] = comp
    return GroupResults(comparisons=out, estimator=estimator,
                        min_group_size=survey.min_group_size)


def _n_values(data: pd.DataFrame, g) -> int:
    """How many groups a column has (the size of its comparison)."""
    return int(data[g.column].nunique()) if g.column in data.columns else 0


def _compare_task(task) -> GroupComparison:
    """One grouping column's comparison, as a task of :func:`run_tasks`."""
    return _compare(*task)


def _label(g, value) -> str:
    for k, v in g.labels.items():
        if str(k) == str(value) or (_num(k) is not None and _num(k) == _num(value)):
            return v
    return category_key(value)


def _num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _compare(data: pd.DataFrame, survey: Survey, g, estimator: str) -> GroupComparison:
    col = g.column
    warnings = []
    empty = pd.DataFrame(columns=list(PATH_COLUMNS))
    nodiff = pd.DataFrame(columns=list(DIFF_COLUMNS))
    if col not in data.columns:
        return GroupComparison(col, g.label or col, pd.DataFrame(columns=list(SIZE_COLUMNS)),
                               (), 0, (), None, (), empty, nodiff, {},
                               (f"The grouping column '{col}' is not in the cleaned data.",))
    missing = survey.missing.method
    ordinal, item_missing, estimator, missing = _ordinal_split(estimator, missing)
    if missing == "fiml" and estimator == "MLM":  # lavaan: MLM needs complete data
        warnings.append("Multi-group FIML is fitted by MLR instead of MLM (the "
                        "Satorra-Bentler test needs complete data, as in lavaan).")
        estimator = "MLR"
    counts = data[col].value_counts(dropna=True).sort_index()
    n_missing = int(data[col].isna().sum())
    small = [v for v, n in counts.items() if n < survey.min_group_size]
    sizes = pd.DataFrame({"value": [_py(v) for v in counts.index],
                          "label": [_label(g, v) for v in counts.index],
                          "n": counts.to_numpy(dtype=int),
                          "included": [v not in small for v in counts.index]},
                         columns=list(SIZE_COLUMNS))
    excluded = [{"value": _py(v), "label": _label(g, v), "n": int(counts[v]),
                 "analysis": "all",
                 "reason": f"fewer than {survey.min_group_size} respondents "
                           "(min_group_size)"} for v in small]
    for e in excluded:
        warnings.append(f"{g.label or col} = {e['label']} ({e['n']} respondents) is left "
                        f"out: fewer than min_group_size = {survey.min_group_size}.")
    keep = [v for v in counts.index if v not in small]
    result = dict(invariance=(), highest_level=None, partial=(), paths=empty,
                  path_differences=nodiff, omnibus={})
    timings = {}
    if len(keep) < 2:
        warnings.append(f"Fewer than two groups of {g.label or col} have at least "
                        f"{survey.min_group_size} respondents: no comparison.")
    else:
        sub = data[data[col].isin(keep)]
        t0 = time.perf_counter()
        inv_keep = _complete_groups(sub, list(survey.items), col, keep, survey, g,
                                    "invariance", excluded, warnings,
                                    item_missing if ordinal else missing)
        if len(inv_keep) >= 2 and ordinal:  # raises InputError (exit 2) when it cannot fit
            from adoption.ordinal_groups import ordinal_invariance  # it imports this module
            inv, highest, partial, w = ordinal_invariance(
                sub, survey.measurement_syntax(), list(survey.items), col, inv_keep,
                ordinal, item_missing, lambda v: _label(g, v),
                ordered=ordinal_items(survey.ordinal, survey.items))
            result.update(invariance=inv, highest_level=highest, partial=partial)
            warnings += w
        elif len(inv_keep) >= 2:
            try:
                inv, highest, partial, w = invariance_sequence(sub, survey, col, inv_keep,
                                                               estimator, missing)
                result.update(invariance=inv, highest_level=highest, partial=partial)
                warnings += w
            except InputError as exc:
                warnings.append(f"Measurement invariance not tested: {exc}")
        timings["invariance"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if survey.structural.strip():
            scores, _ = composite_scores(sub, survey)
            scores[col] = sub[col]
            path_keep = _complete_groups(scores, list(survey.constructs), col, keep, survey,
                                         g, "paths", excluded, warnings, missing)
            if len(path_keep) >= 2:
                try:
                    paths, diffs, omni, w = _paths(scores, survey, g, col, path_keep,
                                                   estimator, missing)
                    result.update(paths=paths, path_differences=diffs, omnibus=omni)
                    warnings += w
                except InputError as exc:
                    warnings.append(f"Multi-group path model not fitted: {exc}")
        timings["paths"] = time.perf_counter() - t0
    return GroupComparison(col, g.label or col, sizes, tuple(excluded), n_missing,
                           warnings=tuple(warnings), timings=timings, **result)


def _ordinal_split(estimator: str, missing: str):
    """(ordinal estimator or None, the items' missing option, the composite paths'
    estimator and missing option): under WLSMV/ULSMV the invariance treats the items as
    ordered categories and the composite path model stays under ML."""
    if not is_ordinal(estimator):
        return None, missing, estimator, missing
    return (estimator, item_estimation(estimator, missing).missing, "ML",
            composite_missing(missing))


def _py(v):
    """A group value as a plain Python value (2.0 -> 2)."""
    v = v.item() if isinstance(v, np.generic) else v
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _complete_groups(frame, columns, col, keep, survey, g, analysis, excluded, warnings,
                     missing):
    """The groups with at least ``min_group_size`` usable rows on ``columns`` (complete
    rows when the models are fitted listwise, rows with any value under FIML); the
    others are added to ``excluded``."""
    if missing in ("fiml", "pairwise"):  # pairwise: ordered items (WLSMV, ULSMV)
        complete = frame[columns].notna().any(axis=1)
        kind, how = "usable", "FIML" if missing == "fiml" else "pairwise"
    else:
        complete = frame[columns].notna().all(axis=1)
        kind, how = "complete", "listwise"
    out = []
    what = {"invariance": "the CFA items", "paths": "the composite scores"}[analysis]
    for v in keep:
        n = int((complete & (frame[col] == v)).sum())
        if n >= survey.min_group_size and n > len(columns):
            out.append(v)
            continue
        why = (f"fewer than min_group_size = {survey.min_group_size}"
               if n < survey.min_group_size else
               f"not more than the {len(columns)} variables (singular covariance matrix)")
        excluded.append({"value": _py(v), "label": _label(g, v), "n": n,
                         "analysis": analysis,
                         "reason": f"{n} {kind} rows on {what} ({how}): {why}"})
        warnings.append(f"{g.label or col} = {_label(g, v)} is left out of the "
                        f"{'invariance tests' if analysis == 'invariance' else 'path model'}: "
                        f"only {n} {kind} rows on {what} ({how}), {why}.")
    if len(out) < 2:
        warnings.append(f"Fewer than two groups of {g.label or col} are large enough for "
                        f"the {'invariance tests' if analysis == 'invariance' else 'path model'}.")
    return out


def _paths(scores: pd.DataFrame, survey: Survey, g, col: str, keep, estimator: str,
           missing: str):
    """Multi-group composite path model: coefficients per group and equality tests
    (of the main effects: interaction terms are the composite moderation's)."""
    reduced, moderated, observed = construct_model(survey.structural, list(survey.constructs))
    syntax = strip_labels(reduced)
    setup = prepare_groups(syntax, scores, col, keep, missing)
    warnings = (["The multi-group path model compares the main effects; the interaction "
                 "terms are in the composite moderation tables."] if moderated else [])
    if observed:
        warnings.append(f"The multi-group path model leaves out the observed predictor(s) "
                        f"{', '.join(observed)}: it compares the construct scores' paths.")

    def fit(**kw):
        return fit_multigroup(syntax, scores, col, groups=keep, estimator=estimator,
                              missing=missing, _setup=setup, **kw)

    free = fit()
    warnings += [w for w in free.warnings if "deleted" in w]
    if not free.converged:
        warnings.append("The multi-group path model did not converge.")
    est = free.estimates
    paths = est[est["op"] == "~"].copy()
    paths["group.label"] = [_label(g, v) for v in paths["group"]]
    paths["group"] = [_py(v) for v in paths["group"]]
    paths = paths[list(PATH_COLUMNS)].reset_index(drop=True)
    rows = []
    keys = paths[["lhs", "op", "rhs"]].drop_duplicates().itertuples(index=False)
    for lhs, op, rhs in keys:  # only the fit is compared: no standard errors
        eq = fit(equal=[f"{lhs} ~ {rhs}"], se=False)
        test = difference_test(eq, free)
        rows.append({"lhs": lhs, "op": op, "rhs": rhs, "chisq.diff": test["chisq.diff"],
                     "df.diff": test["df.diff"], "pvalue": test["pvalue"]})
        if not eq.converged:
            warnings.append(f"The model with {lhs} ~ {rhs} equal across groups did not "
                            "converge.")
    allfit = fit(group_equal=["regressions"], se=False)
    omnibus = {**difference_test(allfit, free), "nobs": [int(n) for n in free.nobs],
               "fit_free": fit_dict(free), "fit_equal": fit_dict(allfit)}
    return paths, pd.DataFrame(rows, columns=list(DIFF_COLUMNS)), omnibus, warnings
