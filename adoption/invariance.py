"""Measurement invariance across the groups of one column: the sequence configural ->
metric -> scalar -> strict, each level compared with the previous one, and partial
invariance where a level fails (a stage part of :mod:`adoption.groups`).

Each level is a multi-group fit (:func:`adoption.sem.multigroup.fit_multigroup`)
compared with the previous supported model by the chi-square difference test
(:func:`difference_test`, lavaan's ``lavTestLRT``) and the changes in CFI, RMSEA and
SRMR (:func:`invariance_decision`, Chen, 2007); the configural model must itself fit
by the usual cut-offs (:func:`configural_decision`), else no level holds. When a level
fails, the equality constraint with the largest score test (lavaan's ``lavTestScore``)
is released, one at a time, until the level holds or no constraint is significant
(Byrne et al., 1989).

References
----------
Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
invariance. *Structural Equation Modeling*, 14, 464-504.
Byrne, B. M., Shavelson, R. J., & Muthen, B. (1989). Testing for the equivalence of
factor covariance and mean structures: the issue of partial measurement invariance.
*Psychological Bulletin*, 105, 456-466.
Putnick, D. L., & Bornstein, M. H. (2016). Measurement invariance conventions and
reporting. *Developmental Review*, 41, 71-90.
Vandenberg, R. J., & Lance, C. E. (2000). A review and synthesis of the measurement
invariance literature. *Organizational Research Methods*, 3, 4-70.
"""

from __future__ import annotations

import pandas as pd

from adoption.cutoffs import judge
from adoption.sem.compare import chisq_difference, satorra_bentler_2001
from adoption.sem.multigroup import (MULTIGROUP_ROBUST_MEASURES, MultiGroupFit, fit_multigroup,
                                     prepare_groups, score_tests)
from adoption.spec import Survey

__all__ = ["LEVELS", "ADDED", "DELTA_CFI", "DELTA_RMSEA", "DELTA_SRMR", "RELEASE_P",
           "CHISQ_ALPHA", "invariance_decision", "configural_decision", "difference_test",
           "fit_dict", "invariance_sequence"]

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


def fit_dict(fit: MultiGroupFit) -> dict:
    keys = _FIT_KEYS + (MULTIGROUP_ROBUST_MEASURES if fit.estimator != "ML" else ())
    return {k: float(fit.fit[k]) for k in keys}


def _fit_entry(level: str, model: str, fit: MultiGroupFit, freed, released=()) -> dict:
    return {"level": level, "model": model, "group.equal": list(LEVELS[level]),
            "freed": list(freed), "released": list(released),
            "nobs": [int(n) for n in fit.nobs], "converged": fit.converged,
            "fit": fit_dict(fit)}


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


def invariance_sequence(data: pd.DataFrame, survey: Survey, col: str, keep, estimator: str,
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
