"""The SEM engine: the one module that imports semopy.

``fit_model(syntax, data, estimator=...)`` is the entry point; it calls lavaan's stages
in order, one module each:

    syntax -> parameter table (:mod:`adoption.sem.partable`, :mod:`adoption.sem.syntax`)
      -> sample: complete rows (:mod:`adoption.sem.complete`) or FIML patterns and EM
         moments (:mod:`adoption.sem.fimlfit`), the objective of the fit
      -> model matrices Sigma(theta), Delta (:mod:`adoption.sem.matrices`, semopy)
      -> optimisation from lavaan's start values (:mod:`adoption.sem.start`,
         :mod:`adoption.sem.optimise`)
      -> standard errors and the estimate table (:mod:`adoption.sem.estimates`)
      -> test statistics and fit measures (:mod:`adoption.sem.teststat`,
         :mod:`adoption.sem.fitdict`)

The two objectives share this skeleton (:func:`_fit`) and differ only in what each stage
computes. semopy is used for the model matrices, their derivatives and the fallback
optimiser only; its own statistics (``calc_stats``, ``inspect`` SEs) are not used
because they differ from lavaan's. Every fit runs with single-threaded BLAS
(threadpoolctl). :class:`adoption.sem.refit.LeanRefit` (also importable from here)
refits a fitted model's estimates to bootstrap draws.

Errors
------
* Wrong user input (unparseable syntax, a variable missing from the data, a non-numeric
  model column, an unknown estimator) raises :class:`adoption.errors.InputError`.
* A model that cannot be fitted to these data (too few complete rows, more free
  parameters than sample moments, optimiser failure, singular information matrix) does
  not raise: the returned :class:`ModelFit` has ``converged=False`` (or NaN standard
  errors) and says why in ``warnings``.

Missing data: by default rows with a missing value in any model variable are deleted
(listwise); the number deleted is reported in ``warnings``. ``missing="fiml"`` fits by
full-information ML instead (lavaan ``missing = "ml"``), with a mean structure; the
casewise likelihood, its gradient, EM and the expected information are in
:mod:`adoption.sem.fiml`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.parallel import blas_one_thread
from adoption.sem import fitdict as fd
from adoption.sem import fitmeasures as fm
from adoption.sem import teststat as ts
from adoption.sem.complete import CompleteData
from adoption.sem.estimates import (ESTIMATE_COLUMNS, SINGULAR_INFORMATION, diagnose,
                                    latent_covariance, r_squared)
from adoption.sem.fimlfit import FimlData, fiml_rows
from adoption.sem.matrices import (SemModel, dsigma_stack, n_free, parameter_index,
                                   semopy_description, sigma_jacobian, start_vector)
from adoption.sem.partable import ParTable, build_partable
from adoption.vocabulary import CONTINUOUS_ESTIMATORS

__all__ = ["ModelFit", "fit_model", "LeanRefit", "ESTIMATORS", "MISSING",
           "ESTIMATE_COLUMNS", "blas_one_thread", "sigma_jacobian", "dsigma_stack",
           "fiml_rows", "r_squared"]

ESTIMATORS = CONTINUOUS_ESTIMATORS
MISSING = ("listwise", "fiml")


@dataclass(frozen=True)
class ModelFit:
    """Result of :func:`fit_model`.

    Attributes
    ----------
    estimates : pd.DataFrame
        One row per parameter as ``lavaan::parameterEstimates(fit, standardized=TRUE)``:
        lhs, op, rhs, label, est, se, z, pvalue, ci.lower, ci.upper, std.all. Fixed
        parameters (first loadings, fixed-x (co)variances) have se 0 and z/pvalue NaN.
        Then :data:`adoption.vocabulary.STD_ALL_COLUMNS`: the delta-method se, z,
        pvalue and interval of std.all from the fit's own ``vcov`` (lavaan's
        ``standardizedSolution(type = "std.all")``, :mod:`adoption.sem.standardized`),
        ``:=`` rows included; a fixed first loading has a std.all SE, a constant std.all
        (a fixed-x variance) SE 0 and z NaN, as in lavaan.
    fit : dict
        lavaan ``fitMeasures()`` names -> float: every name lavaan returns for the fit
        (``fit.measures = "all"``; :func:`adoption.sem.fitdict.fit_measures`), which
        includes ``FIT_MEASURES``, ``unrestricted.logl`` and, under MLM/MLR,
        ``ROBUST_FIT_MEASURES``.
    r2 : dict
        R-squared of every endogenous variable (indicators and dependent variables).
    nobs : int
        Rows used (after listwise deletion).
    estimator : str
        "ML", "MLM" or "MLR".
    converged : bool
    warnings : tuple of str
        Plain-language problems (non-convergence, Heywood cases, non-positive-definite
        matrices, identification, rows deleted).
    observed : tuple of str
        Observed variables in the order of ``sample_cov``/``implied_cov``.
    sample_cov, implied_cov : np.ndarray
        S and Sigma(theta-hat), divisor N.
    vcov : pd.DataFrame
        Covariance matrix of the free parameters (robust under MLM/MLR); index and
        columns "lhs op rhs" of the first row carrying each free parameter.
    partable : ParTable or None
        The parameter table that was fitted (free/fixed rows, fixed-x values), in the
        row order of ``estimates``; for :func:`sigma_jacobian` (modification indices).
        Under FIML the ``~1`` rows of ``estimates`` follow the table's rows.
    missing : str
        "listwise" or "fiml".
    sample_mean, implied_mean : np.ndarray or None
        FIML only: the EM (saturated) means and the model-implied means, in the order
        of ``observed``; ``sample_cov`` is then the EM covariance matrix.
    std_lv : bool
        The model was fitted with ``std_lv=True``.
    """

    estimates: pd.DataFrame
    fit: dict
    r2: dict
    nobs: int
    estimator: str
    converged: bool
    warnings: tuple
    observed: tuple
    sample_cov: np.ndarray
    implied_cov: np.ndarray
    vcov: pd.DataFrame
    timings: dict = field(default_factory=dict, compare=False)
    partable: ParTable | None = field(default=None, compare=False, repr=False)
    missing: str = "listwise"
    sample_mean: np.ndarray | None = field(default=None, compare=False, repr=False)
    implied_mean: np.ndarray | None = field(default=None, compare=False, repr=False)
    std_lv: bool = False


def fit_model(syntax: str, data: pd.DataFrame, *, estimator: str = "ML",
              fixed_x: bool = True, missing: str = "listwise",
              std_lv: bool = False) -> ModelFit:
    """Fit a lavaan-syntax model by maximum likelihood, reporting as lavaan does.

    Parameters
    ----------
    syntax : str
        lavaan model syntax, read by :func:`adoption.sem.syntax.parse_model`: ``=~``,
        ``~``, ``~~``, modifiers (``a*x`` labels, ``1*x`` fixed values, ``NA*x``,
        ``start(0.5)*x``), ``a == b`` (one parameter), ``name := expression`` (defined
        parameters: rows with op ``:=`` at the end of ``estimates``, delta-method SEs),
        ``y ~ 1`` under FIML. Labels that repeat impose equality, as in lavaan. What the
        engine cannot fit (``<``, ``>``, thresholds, interactions, ...) is refused with
        an InputError naming the line.
    data : pd.DataFrame
        Raw data, one row per respondent; other columns are ignored.
    estimator : {"ML", "MLM", "MLR"}
        "ML": expected-information SEs, likelihood-ratio chisq (lavaan ``estimator="ML"``).
        "MLM": robust SEs (``se="robust.sem"``) and Satorra-Bentler scaled test.
        "MLR": Huber-White SEs from the observed information and Yuan-Bentler (Mplus
        variant) scaled test.
    fixed_x : bool
        Observed exogenous predictors' (co)variances fixed at their sample values, and
        excluded from df, baseline and likelihood (lavaan ``fixed.x = TRUE``, default).
    std_lv : bool
        Scale each latent variable by fixing its (residual) variance at 1 and freeing its
        first loading (lavaan ``std.lv = TRUE``; rules in
        :func:`adoption.sem.syntax.build_partable`). Default: the first loading is 1.
    missing : {"listwise", "fiml"}
        "listwise": rows with any missing model variable are deleted (lavaan's default
        ``missing = "listwise"``). "fiml": full-information ML, lavaan
        ``missing = "ml"``, with estimator "ML" or "MLR": casewise likelihood with
        intercepts of the observed variables free and latent means 0; SEs from the
        observed information (lavaan's default there; MLR: Huber-White sandwich with
        the casewise scores, Yuan-Bentler "mplus" scaled test); the robust
        CFI/TLI/RMSEA come from the FIML-corrected statistic as in lavaan 0.6-14 (its
        version "V3" under MLR, "V6" under ML); rows with every model
        variable missing are dropped. With ``fixed_x=True`` rows missing an exogenous predictor
        are deleted, as lavaan 0.6-14 does (it warns "cases were deleted due to missing
        values in exogenous variable(s), while fixed.x = TRUE"); ``fixed_x=False`` keeps
        them and models x as random. The estimates table then ends with the ``~1`` rows
        (intercepts; fixed-x means and latent means with se 0).

    Returns
    -------
    ModelFit

    Raises
    ------
    InputError
        Unknown estimator or missing-data method, MLM with FIML, bad syntax,
        model variables missing or non-numeric.

    Notes
    -----
    Agrees with lavaan 0.6-14 ``sem()``/``cfa()`` with the same estimator to about 1e-6
    in estimates and SEs (see ``tests/test_sem_*.py``).

    Fit measures under FIML, as lavaan's ``fitMeasures()`` with ``missing = "ml"``:
    logl is the casewise log-likelihood (minus the fixed-x block's); unrestricted.logl
    that of the saturated moments estimated by EM exactly as
    ``lav_mvnorm_missing_h1_estimate_moments`` (tolerance 1e-5);
    chisq = 2 (unrestricted.logl - logl); df as with complete data (the means are
    saturated in both models); the baseline keeps free means and variances (and the
    exogenous-x block) and is fitted to the incomplete data; RMSEA uses N; SRMR is
    Bentler's with the mean residuals, on the EM moments; GFI/AGFI use lavaan's
    ``WLS.obs`` (available-case means, pairwise covariances times (N-1)/N) and the
    expected information under missing data; AIC/BIC count the intercepts.

    Examples
    --------
    >>> fit = fit_model("visual =~ x1 + x2 + x3", hs_data)      # doctest: +SKIP
    >>> fit.fit["cfi"], fit.estimates[["lhs", "op", "rhs", "est", "se"]]  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    if estimator not in ESTIMATORS:
        raise InputError(f"Unknown estimator '{estimator}'; use one of {', '.join(ESTIMATORS)}.")
    if not isinstance(data, pd.DataFrame):
        raise InputError("fit_model needs a pandas DataFrame of raw data.")
    if missing not in MISSING:
        raise InputError(f"Unknown missing-data method '{missing}'; use one of "
                         f"{', '.join(MISSING)}.")
    if missing == "fiml" and estimator == "MLM":
        raise InputError("estimator='MLM' needs complete data (as in lavaan); with "
                         "missing='fiml' use estimator='ML'.")
    with blas_one_thread():
        return _fit(syntax, data, estimator, fixed_x, missing, t0, std_lv)


def _failed(pt: ParTable | None, estimator, n, msgs, s=None, missing="listwise") -> ModelFit:
    """The result of a fit that could not run: NaN under every fit-measure name."""
    nan = float("nan")
    scaled, robust = ts.nan_robust(estimator)
    fit = fd.fit_measures(npar=nan, n=n, chisq=nan, df=nan, chisq_b=nan, df_b=nan,
                          logl=nan, logl_h1=nan, residuals=fd.nan_residuals(), gfi=nan,
                          nel=0, scaled=scaled if estimator != "ML" else None,
                          robust=robust if estimator != "ML" or missing == "fiml" else None)
    fit = {k: (nan if k != "ntotal" else float(n)) for k in fit}
    obs = tuple(pt.observed) if pt else ()
    p = len(obs)
    return ModelFit(
        estimates=pd.DataFrame(columns=list(ESTIMATE_COLUMNS)),
        fit=fit, r2={}, nobs=int(n), estimator=estimator,
        converged=False, warnings=tuple(msgs), observed=obs,
        sample_cov=s if s is not None else np.full((p, p), np.nan),
        implied_cov=np.full((p, p), np.nan), vcov=pd.DataFrame(), missing=missing,
    )


def _table(syntax: str, columns, fixed_x: bool, std_lv: bool, missing: str):
    """The parameter table, and the declared observed exogenous predictors (before
    ``fixed_x=False`` frees their (co)variances)."""
    pt = build_partable(syntax, columns, std_lv=std_lv)
    _check_intercepts(pt, missing)
    exo_declared = list(pt.exogenous_x)
    if not fixed_x:
        for row in pt.rows:
            if row.fixed_x:
                row.free, row.fixed_x = True, False
        pt.exogenous_x = []
    return pt, exo_declared


def _fit(syntax: str, data: pd.DataFrame, estimator: str, fixed_x: bool, missing: str,
         t0: float, std_lv: bool = False) -> ModelFit:
    """:func:`fit_model` after its input checks, under single-threaded BLAS: the stages
    in order, with the objective (complete data or FIML) choosing what each computes."""
    timings = {}
    pt, exo_declared = _table(syntax, data.columns, fixed_x, std_lv, missing)
    objective = CompleteData if missing == "listwise" else FimlData
    sample, msgs, problem = objective.read(pt, data, exo_declared)
    if problem:
        return _failed(pt, estimator, sample.n, msgs + [problem], sample.s, missing)
    obs_index = {v: i for i, v in enumerate(pt.observed)}
    for row in pt.rows:
        if row.fixed_x:
            row.value = float(sample.s[obs_index[row.lhs], obs_index[row.rhs]])
    desc, names = semopy_description(pt)
    npar_cov = n_free(names)
    df = fm.degrees_of_freedom(len(pt.observed), npar_cov, len(sample.x_idx))
    if df < 0:
        msgs.append(sample.unidentified(npar_cov, df))
        return _failed(pt, estimator, sample.n, msgs, sample.s, missing)
    try:
        model = SemModel(desc, sample.s, pt.observed)
        theta, mu, converged = sample.optimise(model, start_vector(pt, names, model, sample.s))
    except Exception as exc:  # noqa: BLE001 - semopy raises bare Exception; never leak it
        msgs.append(f"The model could not be fitted ({type(exc).__name__}: {exc}).")
        return _failed(pt, estimator, sample.n, msgs, sample.s, missing)
    timings["optimise"] = time.perf_counter() - t0
    if not converged:
        msgs.append("The model did not converge: estimates are unreliable.")

    index_of = parameter_index(model, names)
    inf = sample.inference(model, pt, names, index_of, theta, mu, estimator)
    if not inf.ok:
        msgs.append(SINGULAR_INFORMATION)
        converged = False
    timings["se"] = time.perf_counter() - t0
    est, r2 = sample.estimates(model, pt, names, index_of, theta, mu, inf)
    timings["std.all.se"] = time.perf_counter() - t0
    fit, fit_msgs = sample.fit_measures(model, theta, mu, inf, estimator,
                                        sample.npar(npar_cov), df, names)
    timings["total"] = time.perf_counter() - t0

    cov_lv = latent_covariance(model, theta, pt)
    msgs += fit_msgs + pt.notes + diagnose(pt, est, inf.sigma, cov_lv)
    return ModelFit(estimates=est, fit=fit, r2=r2, nobs=sample.n, estimator=estimator,
                    converged=bool(converged), warnings=tuple(msgs),
                    observed=tuple(pt.observed), implied_cov=inf.sigma,
                    vcov=sample.vcov(pt, names, index_of, inf), timings=timings,
                    partable=pt, std_lv=std_lv, **sample.fields(mu))


def _check_intercepts(pt: ParTable, missing: str) -> None:
    """``y ~ 1`` lines: the mean structure exists only under FIML, where every observed
    intercept is free and latent means are 0; refuse anything else, naming the line."""
    for f in pt.intercepts:
        here = f"Model syntax, line {f.line}: '{f.lhs} ~ 1'"
        if missing != "fiml":
            raise InputError(f"{here}: intercepts (a mean structure) are not supported with "
                             "missing='listwise'; use missing='fiml', which estimates every "
                             "intercept, or remove the line.")
        latent_default = f.lhs in pt.latent and f.fixed == (0.0,) and not f.label
        plain = f.lhs in pt.observed and f.lhs not in pt.exogenous_x and not (
            f.fixed or f.label or f.start)
        if not (plain or latent_default):
            raise InputError(f"{here}: fixed, labelled or latent intercepts are not supported "
                             "(under FIML observed intercepts are free and latent means 0).")


def __getattr__(name: str):
    """``LeanRefit`` lives in :mod:`adoption.sem.refit` (which imports this module)."""
    if name == "LeanRefit":
        from adoption.sem.refit import LeanRefit
        return LeanRefit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
