"""Stage: cleaned responses -> :class:`GroupResults` (group comparisons).

For each column of the spec's ``groups``:

1. **group sizes**; groups smaller than ``Survey.min_group_size`` are reported and left
   out of the comparisons (never merged with another group);
2. **measurement invariance** of the CFA of all constructs, in the usual sequence
   configural -> metric (equal loadings) -> scalar (+ equal intercepts) -> strict
   (+ equal residual variances), each a multi-group fit
   (:func:`adoption.sem.multigroup.fit_multigroup`) compared with the previous level by
   the chi-square difference test and the changes in CFI, RMSEA and SRMR (Chen, 2007);
   the configural model must itself fit by the usual cut-offs
   (:func:`configural_decision`), else no level holds;
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
from adoption.cutoffs import judge
from adoption.errors import InputError
from adoption.load import category_key
from adoption.ordinal import composite_missing, is_ordinal, item_estimation, ordinal_items
from adoption.sem.compare import chisq_difference, satorra_bentler_2001
from adoption.sem.multigroup import (MULTIGROUP_ROBUST_MEASURES, MultiGroupFit, fit_multigroup,
                                     prepare_groups, score_tests)
from adoption.sem.syntax import parse_model, write_formulas
from adoption.spec import Survey
from adoption.structural.stage import composite_scores

#: Invariance levels: name -> lavaan ``group.equal``; each adds one set of constraints.
LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}
#: The constraints each level adds (the ones partial invariance may release).
ADDED = {"metric": "loadings", "scalar": "intercepts", "strict": "residuals"}
#: Chen (2007): non-invariance when CFI drops by more than .01, or RMSEA rises by more
#: than .015, or SRMR rises by more than .03 (metric) / .01 (scalar, strict).
DELTA_CFI = -0.01
DELTA_RMSEA = 0.015
DELTA_SRMR = {"metric": 0.03, "scalar": 0.01, "strict": 0.01}
#: A score test must reach this p-value for its constraint to be released.
RELEASE_P = 0.05
#: A chi-square difference below this p-value is flagged ("chisq.rejects") beside
#: Chen's verdict, which decides.
CHISQ_ALPHA = 0.05

PATH_COLUMNS = ("lhs", "op", "rhs", "group", "group.label", "est", "se", "pvalue",
                "std.all")
SIZE_COLUMNS = ("value", "label", "n", "included")
DIFF_COLUMNS = ("lhs", "op", "rhs", "chisq.diff", "df.diff", "pvalue")
_FIT_KEYS = ("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
             "rmsea.ci.upper", "rmsea.pvalue", "srmr", "aic", "bic", "baseline.chisq",
             "baseline.df", "logl")


# --------------------------------------------------------------------------- formulas
def invariance_decision(base: dict, restricted: dict, level: str) -> dict:
    """Changes in fit from the less to the more constrained model, and Chen's verdict.

    Parameters
    ----------
    base, restricted : dict
        lavaan fit measures of the previous level and of this level.
    level : "metric", "scalar" or "strict".

    Returns
    -------
    dict
        ``cfi.diff``, ``rmsea.diff``, ``srmr.diff`` (restricted minus base), the
        cut-offs used, ``cfi.ok``, ``rmsea.ok``, ``srmr.ok`` and ``supported`` (all
        three hold).

    Notes
    -----
    Chen (2007): Delta CFI >= -.01, Delta RMSEA <= .015, Delta SRMR <= .03 for loadings
    (.01 for intercepts and residuals). The chi-square difference test is reported
    beside it but does not decide: with a few hundred respondents it flags trivial
    differences.

    >>> invariance_decision({"cfi": .95, "rmsea": .05, "srmr": .04},
    ...                     {"cfi": .945, "rmsea": .052, "srmr": .05}, "metric")["supported"]
    True
    """
    d_cfi = restricted["cfi"] - base["cfi"]
    d_rmsea = restricted["rmsea"] - base["rmsea"]
    d_srmr = restricted["srmr"] - base["srmr"]
    cut_srmr = DELTA_SRMR[level]
    ok = {"cfi.ok": bool(d_cfi >= DELTA_CFI), "rmsea.ok": bool(d_rmsea <= DELTA_RMSEA),
          "srmr.ok": bool(d_srmr <= cut_srmr)}
    return {"cfi.diff": float(d_cfi), "rmsea.diff": float(d_rmsea),
            "srmr.diff": float(d_srmr),
            "cutoffs": {"cfi.diff": DELTA_CFI, "rmsea.diff": DELTA_RMSEA,
                        "srmr.diff": cut_srmr},
            **ok, "supported": all(ok.values())}


def configural_decision(indices: dict) -> dict:
    """Whether the configural model fits: CFI, RMSEA and SRMR judged by the project's
    cut-offs (:mod:`adoption.cutoffs`).

    Parameters
    ----------
    indices : dict
        ``cfi``, ``rmsea``, ``srmr`` of the configural model (the robust CFI and RMSEA
        under MLM/MLR).

    Returns
    -------
    dict
        ``judgement`` (measure -> 'good', 'acceptable' or 'poor'), ``poor`` (the
        measures judged poor) and ``supported`` (no measure is poor).

    Notes
    -----
    Invariance tests compare each level with the configural model, so they mean
    something only when the configural model itself fits (Vandenberg & Lance, 2000;
    Putnick & Bornstein, 2016): a poor fit there ends the sequence.

    >>> configural_decision({"cfi": .917, "rmsea": .091, "srmr": .05})["poor"]
    ['rmsea']
    """
    judgement = {m: judge(m, indices[m]) for m in ("cfi", "rmsea", "srmr")}
    poor = [m for m, j in judgement.items() if j == "poor"]
    return {"judgement": judgement, "poor": poor, "supported": not poor}


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
               step=lambda s: None, std_lv: bool = False) -> GroupResults:
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
    out = {}
    for g in survey.groups:
        step(f"group comparisons: {g.label or g.column}")
        # the file's value labels and the spec's, as the loader reconciled them
        g = g.model_copy(update={"labels": cleaned.category_labels.get(g.column, g.labels)})
        comp = _compare(cleaned.data, survey, g, estimator)
        if std_lv:
            comp = replace(comp, warnings=(STD_LV_GROUPS_NOTE, *comp.warnings))
        out[g.column] = comp
    return GroupResults(comparisons=out, estimator=estimator,
                        min_group_size=survey.min_group_size)


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
                inv, highest, partial, w = _invariance(sub, survey, col, inv_keep, estimator,
                                                   missing)
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


def _fit_dict(fit: MultiGroupFit) -> dict:
    keys = _FIT_KEYS + (MULTIGROUP_ROBUST_MEASURES if fit.estimator != "ML" else ())
    return {k: float(fit.fit[k]) for k in keys}


def _fit_entry(level: str, model: str, fit: MultiGroupFit, freed, released=()) -> dict:
    return {"level": level, "model": model, "group.equal": list(LEVELS[level]),
            "freed": list(freed), "released": list(released),
            "nobs": [int(n) for n in fit.nobs], "converged": fit.converged,
            "fit": _fit_dict(fit)}


def difference_test(restricted: MultiGroupFit, free: MultiGroupFit) -> dict:
    """Chi-square difference test of two nested multi-group fits, as ``lavTestLRT``:
    the plain difference under ML, the Satorra-Bentler (2001) scaled difference under
    MLM/MLR. Returns chisq.diff, df.diff, pvalue, method (and scaling.factor)."""
    r, f = restricted.fit, free.fit
    if restricted.estimator == "ML":
        d, ddf, p = chisq_difference(r["chisq"], r["df"], f["chisq"], f["df"])
        return {"chisq.diff": d, "df.diff": ddf, "pvalue": p, "method": "standard"}
    d, ddf, cd, p = satorra_bentler_2001(r["chisq"], r["df"], r["chisq.scaling.factor"],
                                         f["chisq"], f["df"], f["chisq.scaling.factor"])
    return {"chisq.diff": d, "df.diff": ddf, "pvalue": p, "scaling.factor": cd,
            "method": "satorra.bentler.2001"}


def _indices(fit: MultiGroupFit) -> dict:
    """CFI, RMSEA, SRMR for the invariance decision: the robust versions under MLM/MLR
    (Brosseau-Liard & Savalei), the ML ones otherwise."""
    f = fit.fit
    if fit.estimator == "ML":
        return {"cfi": f["cfi"], "rmsea": f["rmsea"], "srmr": f["srmr"]}
    return {"cfi": f["cfi.robust"], "rmsea": f["rmsea.robust"], "srmr": f["srmr"]}


def _comparison(prev_model: str, prev: MultiGroupFit, fit: MultiGroupFit, level: str):
    test = difference_test(fit, prev)
    return {"vs": prev_model, **test,
            "chisq.rejects": bool(test["pvalue"] < CHISQ_ALPHA),
            "indices": "ML" if fit.estimator == "ML" else "robust",
            **invariance_decision(_indices(prev), _indices(fit), level)}


def _invariance(data: pd.DataFrame, survey: Survey, col: str, keep, estimator: str,
                missing: str):
    """The invariance sequence with partial invariance; see the module doc.

    One entry per model fitted: each level with all its constraints (its comparison
    and verdict kept even when it fails), and after a failed level the partial model
    with the constraints released at that level (``model`` "partial <level>")."""
    syntax = survey.measurement_syntax()
    setup = prepare_groups(syntax, data, col, keep, missing)

    def fit_level(equal, freed):
        return fit_multigroup(syntax, data, col, group_equal=equal, group_partial=freed,
                              groups=keep, estimator=estimator, missing=missing,
                              se=False, _setup=setup)

    warnings, entries, partial_log, freed = [], [], [], []
    highest, prev_model, prev, failed = None, None, None, False
    for level, equal in LEVELS.items():
        fit = fit_level(equal, freed)
        if not fit.converged:
            warnings.append(f"The {level} model did not converge.")
        entry = _fit_entry(level, level, fit, freed)
        if prev is None:
            decision = configural_decision(_indices(fit))
            entry.update(comparison=None, configural=decision, partial=False,
                         supported=bool(fit.converged and decision["supported"]))
            entries.append(entry)
            if not fit.converged:
                break
            prev_model, prev = level, fit
            if entry["supported"]:
                highest = level
            else:
                failed = True
                warnings.append(_configural_warning(decision, entry["fit"], fit.estimator))
            continue
        comp = _comparison(prev_model, prev, fit, level)
        supported = None if failed else bool(comp["supported"] and fit.converged)
        entry.update(comparison=comp, supported=supported, partial=False)
        entries.append(entry)
        if failed:
            continue
        model = level
        if not supported:
            fit, comp, released = _release(syntax, data, col, keep, setup, level, equal,
                                           freed, prev_model, prev, fit, comp)
            if released:
                freed = freed + [r["parameter"] for r in released]
                partial_log += released
                model = f"partial {level}"
                supported = bool(comp["supported"] and fit.converged)
                entry = _fit_entry(level, model, fit, freed,
                                   [r["parameter"] for r in released])
                entry.update(comparison=comp, supported=supported, partial=True)
                entries.append(entry)
        if supported:
            highest = ("partial " if freed else "") + level
            prev_model, prev = model, fit
        else:
            failed = True
            warnings.append(f"{level.capitalize()} invariance is not supported"
                            + (" even after releasing " + ", ".join(entry["released"])
                               if entry["released"] else "")
                            + ": higher levels are not tested (their fits are shown).")
    return tuple(entries), highest, tuple(partial_log), warnings


def _configural_warning(decision: dict, fit: dict, estimator: str) -> str:
    suffix = "" if estimator == "ML" else ".robust"
    names = {"cfi": "CFI", "rmsea": "RMSEA", "srmr": "SRMR"}
    poor = ", ".join(f"{names[m]} {fit.get(m + suffix if m != 'srmr' else m, float('nan')):.3f}"
                     for m in decision["poor"])
    return (f"The configural model fits poorly ({poor}, beyond the cut-offs): no level of "
            "invariance holds. The higher levels' fits and changes are shown, not judged.")


def _release(syntax, data, col, keep, setup, level, equal, freed, prev_level, prev, fit,
             comp):
    """Release the constraint of this level with the largest score test, refit, and
    repeat while the level is not supported and a released constraint is significant.
    At most half of the level's constraints are released (a partially invariant
    level needs a majority of invariant parameters; Byrne et al., 1989)."""
    category = ADDED[level]
    op = {"loadings": "=~", "intercepts": "~1", "residuals": "~~"}[category]
    released = []
    n_constraints = None
    while True:
        sc = score_tests(fit)
        sc = sc[(sc["op"] == op)]
        if category == "residuals":
            sc = sc[sc["lhs"] == sc["rhs"]]
        if n_constraints is None:
            n_constraints = len(sc)
        if sc.empty or len(released) >= n_constraints // 2:
            break
        top = sc.iloc[0]
        if not top["pvalue"] < RELEASE_P:
            break
        released.append({"level": level, "parameter": top["parameter"],
                         "X2": float(top["X2"]), "df": float(top["df"]),
                         "pvalue": float(top["pvalue"])})
        fit = fit_multigroup(syntax, data, col, group_equal=equal,
                             group_partial=freed + [r["parameter"] for r in released],
                             groups=keep, estimator=fit.estimator, missing=setup.missing,
                             se=False, _setup=setup)
        comp = _comparison(prev_level, prev, fit, level)
        if comp["supported"]:
            break
    return fit, comp, released


def _paths(scores: pd.DataFrame, survey: Survey, g, col: str, keep, estimator: str,
           missing: str):
    """Multi-group composite path model: coefficients per group and equality tests."""
    syntax = strip_labels(survey.structural)
    setup = prepare_groups(syntax, scores, col, keep, missing)
    warnings = []

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
    for lhs, op, rhs in keys:
        eq = fit(equal=[f"{lhs} ~ {rhs}"])
        test = difference_test(eq, free)
        rows.append({"lhs": lhs, "op": op, "rhs": rhs, "chisq.diff": test["chisq.diff"],
                     "df.diff": test["df.diff"], "pvalue": test["pvalue"]})
        if not eq.converged:
            warnings.append(f"The model with {lhs} ~ {rhs} equal across groups did not "
                            "converge.")
    allfit = fit(group_equal=["regressions"])
    omnibus = {**difference_test(allfit, free), "nobs": [int(n) for n in free.nobs],
               "fit_free": _fit_dict(free), "fit_equal": _fit_dict(allfit)}
    return paths, pd.DataFrame(rows, columns=list(DIFF_COLUMNS)), omnibus, warnings
