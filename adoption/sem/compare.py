"""Comparing two fitted models: chi-square difference tests and fit-index differences.

:func:`compare_models` reproduces ``lavaan::lavTestLRT(fit1, fit2)`` (``anova``) of lavaan
0.6-14 for models fitted by :func:`adoption.sem.engine.fit_model`:

* ML: the likelihood-ratio (chi-square difference) test, with the RMSEA of the
  difference (lavaan's ``RMSEA`` column);
* MLM and MLR: lavaan's default ``method = "satorra.bentler.2001"`` for its
  ``satorra.bentler`` (MLM) and ``yuan.bentler.mplus`` (MLR) tests: the scaled
  difference of the two *unscaled* statistics (Satorra & Bentler, 2001);

plus the differences in CFI, TLI, RMSEA, SRMR, AIC and BIC. A difference test is
reported only when it is valid: the same observed variables, rows and missing-data
method, different degrees of freedom, and the model with more df nested in the other,
which :func:`net_nested` checks by the NET procedure (Bentler & Satorra, 2010; lavaan
itself does not check). Models on different variables (or rows) have likelihoods of
different data: neither the test nor the AIC/BIC difference is meaningful, and none is
reported. Non-nested models on the same data are compared by AIC/BIC only.

References
----------
Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for
moment structure analysis. *Psychometrika*, 66, 507-514.
Bentler, P. M., & Satorra, A. (2010). Testing model nesting and equivalence.
*Psychological Methods*, 15, 111-123.
lavaan 0.6-14 source: ``lav_test_LRT.R`` (``lavTestLRT``), ``lav_test_diff.R``
(``lav_test_diff_SatorraBentler2001``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.sem import fitmeasures as fm
from adoption.sem.engine import ModelFit, fit_model
from adoption.sem.partable import ParTable
from adoption.vocabulary import OP_LOADING

#: Fit measures whose difference (alternative minus base) is reported.
DIFF_MEASURES = ("chisq", "df", "npar", "cfi", "tli", "rmsea", "srmr", "aic", "bic")
ROBUST_DIFF_MEASURES = ("chisq.scaled", "cfi.scaled", "tli.scaled", "rmsea.scaled",
                        "cfi.robust", "tli.robust", "rmsea.robust")
#: Columns of :attr:`ModelComparison.anova`, as ``lavTestLRT``'s table.
ANOVA_COLUMNS = ("model", "Df", "AIC", "BIC", "Chisq", "Chisq diff", "RMSEA", "Df diff",
                 "Pr(>Chisq)")


# --------------------------------------------------------------------------- formulas
def chisq_difference(chisq0: float, df0: float, chisq1: float, df1: float) -> tuple:
    """Chi-square difference test of a restricted model 0 against a larger model 1.

    Returns
    -------
    (chisq_diff, df_diff, pvalue) : tuple of float
        ``chisq0 - chisq1`` on ``df0 - df1`` degrees of freedom; p-value NaN when the
        degrees of freedom are equal (lavaan: "some models have the same degrees of
        freedom").
    """
    d, ddf = chisq0 - chisq1, df0 - df1
    p = fm.pvalue_chisq(d, ddf) if ddf > 0 else float("nan")
    return float(d), float(ddf), p


def satorra_bentler_2001(chisq0: float, df0: float, c0: float,
                         chisq1: float, df1: float, c1: float) -> tuple:
    """Satorra-Bentler (2001) scaled chi-square difference test.

    Parameters
    ----------
    chisq0, df0, c0 : float
        Unscaled (normal-theory) chi-square, degrees of freedom and scaling factor
        (lavaan ``chisq.scaling.factor``) of the restricted model.
    chisq1, df1, c1 : float
        The same for the less restricted model (c1 is taken as 1 when df1 = 0).

    Returns
    -------
    (t_diff, df_diff, scaling, pvalue) : tuple of float
        ``scaling = (df0 c0 - df1 c1) / (df0 - df1)``, ``t_diff = (chisq0 - chisq1) /
        scaling``; NaN when the scaling is negative (lavaan warns "scaling factor is
        negative") or the degrees of freedom are equal (then t_diff is the plain
        difference, as lavaan).

    Notes
    -----
    ``lavaan:::lav_test_diff_SatorraBentler2001``, used by ``lavTestLRT`` by default for
    the ``satorra.bentler`` (MLM) and ``yuan.bentler.mplus`` (MLR) tests.
    """
    if df1 == 0:
        c1 = 1.0
    m = df0 - df1
    if m == 0:
        return float(chisq0 - chisq1), 0.0, float("nan"), float("nan")
    cd = (df0 * c0 - df1 * c1) / m
    if cd < 0:
        return float("nan"), float(m), float("nan"), float("nan")
    t = (chisq0 - chisq1) / cd
    return float(t), float(m), float(cd), fm.pvalue_chisq(t, m)


def fit_differences(base: dict, alt: dict, names=DIFF_MEASURES) -> dict:
    """``alt[name] - base[name]`` for each fit measure both have (NaN otherwise)."""
    return {k: float(alt.get(k, np.nan)) - float(base.get(k, np.nan)) for k in names}


# --------------------------------------------------------------------------- nesting
def partable_syntax(pt: ParTable) -> str:
    """lavaan syntax that rebuilds a parameter table row by row (free rows with their
    labels, fixed rows with their values); fixed-x rows are left to ``fixed_x``."""
    lines = []
    first: set[str] = set()
    for r in pt.rows:
        if r.fixed_x:
            continue
        label = pt.parameter_label(r)
        free_first = r.free and r.op == OP_LOADING and r.lhs not in first
        if r.op == OP_LOADING:
            first.add(r.lhs)
        if not r.free:
            terms = [f"{r.value!r}*{r.rhs}"]
        else:  # a free first loading must say so (NA*): lavaan would fix it
            terms = (["NA*" + r.rhs] if free_first else []) + \
                    ([f"{label}*{r.rhs}"] if label else [] if free_first else [r.rhs])
        lines.append(f"{r.lhs} {r.op} " + " + ".join(terms))
    return "\n".join(lines)


def _data_with_covariance(sigma: np.ndarray, n: int, names, seed: int = 1) -> pd.DataFrame:
    """n rows whose covariance matrix (divisor n) is exactly ``sigma``."""
    z = np.random.default_rng(seed).standard_normal((n, len(names)))
    z -= z.mean(axis=0)
    lz = np.linalg.cholesky(z.T @ z / n)
    x = np.linalg.solve(lz, z.T).T @ np.linalg.cholesky(sigma).T
    return pd.DataFrame(x, columns=list(names))


def net_nested(restricted: ModelFit, larger: ModelFit, crit: float = 1e-4) -> tuple:
    """Is ``restricted`` nested in ``larger``? The NET procedure (Bentler & Satorra, 2010).

    ``larger`` is fitted by ML to data whose covariance matrix is exactly the one
    ``restricted`` implies (same N). If ``larger`` reproduces it (chi-square below
    ``crit``, as ``semTools::net``), every covariance matrix of the restricted model is
    one of the larger model's: the models are nested (in their covariance structure).

    Returns
    -------
    (nested, chisq) : (bool or None, float)
        None when the check could not be made (no parameter table, no convergence).

    References
    ----------
    Bentler, P. M., & Satorra, A. (2010). Testing model nesting and equivalence.
    *Psychological Methods*, 15, 111-123.
    """
    if restricted.partable is None or larger.partable is None:
        return None, float("nan")
    fixed_x = any(r.fixed_x for r in larger.partable.rows)
    data = _data_with_covariance(restricted.implied_cov, restricted.nobs,
                                 restricted.observed)
    fit = fit_model(partable_syntax(larger.partable), data, estimator="ML",
                    fixed_x=fixed_x)
    chisq = fit.fit["chisq"]
    if not fit.converged or not np.isfinite(chisq):
        return None, float(chisq)
    return bool(chisq < crit), float(chisq)


def comparability(base: ModelFit, alt: ModelFit) -> tuple[bool, bool, tuple[str, ...]]:
    """Can the two fits be compared, and by a nested test?

    Returns
    -------
    (same_data, testable, notes)
        ``same_data``: the likelihoods are of the same data (same observed variables,
        rows and missing-data method), so AIC/BIC differences are meaningful.
        ``testable``: also different degrees of freedom, so the model with more df can be
        a restricted version of the other and a difference test is defined (whether it
        is, :func:`net_nested` checks).
        ``notes``: why not.
    """
    notes = []
    if set(base.observed) != set(alt.observed):
        only_b = sorted(set(base.observed) - set(alt.observed))
        only_a = sorted(set(alt.observed) - set(base.observed))
        notes.append(
            "The models use different observed variables (only in base: "
            f"{', '.join(only_b) or '-'}; only in alt: {', '.join(only_a) or '-'}). Their "
            "likelihoods are of different data, so neither a chi-square difference test "
            "nor an AIC/BIC comparison is valid. To test a path, keep the variable and "
            "fix the path to 0 (e.g. 'y ~ 0*x').")
    if base.nobs != alt.nobs:
        notes.append(f"The models use different numbers of rows ({base.nobs} vs "
                     f"{alt.nobs}): their likelihoods are not comparable.")
    if base.missing != alt.missing:
        notes.append("The models handle missing data differently (listwise vs FIML): "
                     "their likelihoods are not comparable.")
    same_data = not notes
    testable = same_data
    if same_data and base.fit["df"] == alt.fit["df"]:
        testable = False
        notes.append("The models have the same degrees of freedom: they are not nested "
                     "(or are equivalent); compare them by AIC/BIC only.")
    return same_data, testable, tuple(notes)


# --------------------------------------------------------------------------- adapter
@dataclass(frozen=True)
class ModelComparison:
    """Result of :func:`compare_models`.

    Attributes
    ----------
    anova : pd.DataFrame
        ``lavTestLRT``'s table, one row per model, less restricted first: model
        ("base"/"alt"), Df, AIC, BIC, Chisq (unscaled), and on the restricted model's
        row "Chisq diff" (scaled under MLM/MLR), RMSEA (of the difference; ML only),
        "Df diff", "Pr(>Chisq)".
    method : str
        "standard" (ML), "satorra.bentler.2001" (MLM, MLR) or "none" (no valid test).
    restricted : str or None
        Which model has more degrees of freedom: "base" or "alt" (None when equal).
    chisq_diff, df_diff, pvalue : float
        The difference test (NaN when no valid test).
    scaling_factor : float
        Satorra-Bentler (2001) scaling of the difference (NaN under ML).
    rmsea_diff : float
        RMSEA of the unscaled difference (ML only, as lavaan).
    differences : dict
        Fit measure -> alt minus base, for ``DIFF_MEASURES`` (and the robust ones under
        MLM/MLR); AIC/BIC (and every index) NaN when the models are fitted to different
        data.
    valid_test : bool
    notes : tuple of str
    """

    anova: pd.DataFrame
    method: str
    restricted: str | None
    chisq_diff: float
    df_diff: float
    pvalue: float
    scaling_factor: float
    rmsea_diff: float
    differences: dict
    valid_test: bool
    notes: tuple


def compare_models(base: ModelFit, alt: ModelFit, *, check_nesting: bool = True
                   ) -> ModelComparison:
    """Compare two fitted models as ``lavaan::lavTestLRT(base, alt)``.

    Parameters
    ----------
    base, alt : ModelFit
        Two fits of :func:`adoption.sem.engine.fit_model` with the same estimator, in
        either order (the test is of the model with more df against the other).
    check_nesting : bool
        Verify by :func:`net_nested` (one extra ML fit) that the model with more df is
        nested in the other; if it is not, no difference test is reported. Without the
        check, or when it cannot be made, nesting is assumed and the notes say so.

    Returns
    -------
    ModelComparison

    Raises
    ------
    InputError
        The two fits use different estimators.

    Notes
    -----
    With model 0 the restricted one: under ML, ``Chisq diff = chisq0 - chisq1`` on
    ``df0 - df1`` df and ``RMSEA = sqrt(max(Chisq diff / (N Df diff) - 1/N, 0))``;
    under MLM/MLR, ``Chisq diff = (chisq0 - chisq1) / cd`` with ``cd = (df0 c0 - df1
    c1) / (df0 - df1)`` from the unscaled statistics and the scaling factors c
    (:func:`satorra_bentler_2001`). Agrees with lavaan 0.6-14 ``lavTestLRT`` to 1e-9
    (ML) and 1.2e-5 relative (MLM/MLR) (``tests/test_sem_compare.py``).

    Examples
    --------
    >>> full = fit_model("y ~ a + b", data)                       # doctest: +SKIP
    >>> restricted = fit_model("y ~ a + 0*b", data)               # doctest: +SKIP
    >>> res = compare_models(full, restricted)                    # doctest: +SKIP
    >>> res.chisq_diff, res.df_diff, res.pvalue                   # doctest: +SKIP
    """
    if base.estimator != alt.estimator:
        raise InputError(f"Cannot compare a {base.estimator} fit with a {alt.estimator} "
                         "fit; refit both with the same estimator.")
    same_data, testable, notes = comparability(base, alt)
    notes = list(notes)
    if not (base.converged and alt.converged):
        notes.append("Not all models converged: the comparison is unreliable.")
    robust = base.estimator != "ML"
    names = DIFF_MEASURES + (ROBUST_DIFF_MEASURES if robust else ())
    differences = fit_differences(base.fit, alt.fit, names)
    if not same_data:
        differences = {k: float("nan") for k in differences}

    if base.fit["df"] == alt.fit["df"]:
        restricted = None
        order = [("base", base), ("alt", alt)]
    else:
        restricted = "base" if base.fit["df"] > alt.fit["df"] else "alt"
        order = sorted([("base", base), ("alt", alt)], key=lambda t: t[1].fit["df"])
    (_, f1), (_, f0) = order
    if testable:
        nested, net_chisq = net_nested(f0, f1) if check_nesting else (None, float("nan"))
        if nested is None:
            notes.append("The model with more degrees of freedom is assumed to be a "
                         "restricted version of the other (nesting was not checked).")
        elif nested:
            notes.append("Nesting checked (NET, Bentler & Satorra, 2010): the less "
                         "restricted model reproduces the restricted model's implied "
                         "covariances.")
        else:
            testable = False
            notes.append("The models are not nested (NET, Bentler & Satorra, 2010: the "
                         "model with fewer df does not reproduce the other's implied "
                         f"covariances, chi-square {net_chisq:.4g}): a chi-square "
                         "difference test is not valid; compare them by AIC/BIC.")
    nan = float("nan")
    d = ddf = p = cd = rmsea_d = nan
    method = "none"
    if testable:
        if robust:
            method = "satorra.bentler.2001"
            d, ddf, cd, p = satorra_bentler_2001(
                f0.fit["chisq"], f0.fit["df"], f0.fit["chisq.scaling.factor"],
                f1.fit["chisq"], f1.fit["df"], f1.fit["chisq.scaling.factor"])
            if np.isnan(cd):
                notes.append("The scaling factor of the difference is negative: the scaled "
                             "difference test is not available (lavaan warns the same).")
        else:
            method = "standard"
            d, ddf, p = chisq_difference(f0.fit["chisq"], f0.fit["df"],
                                         f1.fit["chisq"], f1.fit["df"])
            rmsea_d = fm.rmsea(d, ddf, f0.nobs)
        if f0.fit["chisq"] - f1.fit["chisq"] < -np.finfo(float).eps ** (1 / 3):
            notes.append("The restricted model fits better than the less restricted one: "
                         "either the models are not nested, or the less restricted model "
                         "failed to reach a global optimum.")

    rows = []
    for k, (name, f) in enumerate(order):
        last = k == 1 and testable
        rows.append({"model": name, "Df": f.fit["df"], "AIC": f.fit["aic"],
                     "BIC": f.fit["bic"], "Chisq": f.fit["chisq"],
                     "Chisq diff": d if last else nan,
                     "RMSEA": rmsea_d if last else nan,
                     "Df diff": ddf if last else nan, "Pr(>Chisq)": p if last else nan})
    anova = pd.DataFrame(rows, columns=list(ANOVA_COLUMNS))
    return ModelComparison(anova=anova, method=method, restricted=restricted,
                           chisq_diff=d, df_diff=ddf, pvalue=p, scaling_factor=cd,
                           rmsea_diff=rmsea_d, differences=differences,
                           valid_test=testable, notes=tuple(notes))
