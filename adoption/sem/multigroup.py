"""Multi-group models: one lavaan-syntax model fitted in several groups at once, with
equality constraints across groups (lavaan's ``group =``, ``group.equal =``,
``group.partial =``).

:func:`fit_multigroup` reproduces ``lavaan::sem(model, data, group = g, group.equal =
..., group.partial = ...)`` (lavaan 0.6-14) for models the engine fits, with estimator ML,
MLM or MLR on complete rows, or ML with full-information ML for missing values
(``missing = "ml"``): every group has its own parameters unless a constraint makes them
one, a mean structure is always on (as in lavaan's multi-group models), and the
likelihood is the sum of the groups' likelihoods. :func:`score_tests` gives the score
test of releasing each equality constraint (lavaan's ``lavTestScore(fit, univariate =
TRUE)``).

The stages, one module each: the groups' samples, tables and the stacked parameter
vector in which a constrained parameter is one coordinate shared by the groups
(:mod:`adoption.sem.groupsetup`); each group's moments, the likelihood and the
optimiser (:mod:`adoption.sem.groupoptim`, the covariance structure from the engine's
model matrices, :mod:`adoption.sem.matrices`); the robust statistics
(:mod:`adoption.sem.grouprobust`). This module calls them in order and reports.

Model
-----
For group g with N_g rows, sample covariance S_g (divisor N_g) and means m_g, with all
variables (observed, then latent) in one vector v = a + B v + e:
Sigma_g(theta) from the engine, mu_g(theta) = [(I - B)^-1 a]_observed, where a holds the
intercepts of the observed variables (free), the latent means (0, or free in groups 2..G
when intercepts are equal), and the sample means of fixed-x predictors.

    chisq = sum_g N_g [log|Sigma_g| - log|S_g| + tr(S_g Sigma_g^-1) - p
                       + (m_g - mu_g)' Sigma_g^-1 (m_g - mu_g)]

(lavaan's ML test statistic, 2 N F with F = sum_g (N_g / N) F_g / 2 and divisor N).
Under FIML each group's term is 2 [logl_g(EM moments) - logl_g(mu_g, Sigma_g)] with the
casewise likelihood of :mod:`adoption.sem.fiml`.

References
----------
lavaan 0.6-14 source: ``lav_model_objective.R``, ``lav_fit_measures.R``
(``lav_fit_rmsea_lavobject``, ``lav_fit_srmr_lavobject``), ``lav_test_score.R``,
``lav_test_satorra_bentler.R``, ``lav_test_yuan_bentler.R``.
Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
*Psychometrika*, 58, 525-543.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.parallel import blas_one_thread
from adoption.sem import fiml
from adoption.sem import fitdict as fd
from adoption.sem import fitmeasures as fm
from adoption.sem.estimates import diagnose, estimate_table, latent_covariance
from adoption.sem.groupequal import GROUP_EQUAL, latent_means_free
from adoption.sem.groupoptim import (expand, group_moments, observed_information, optimise,
                                     score_information, starting_values)
from adoption.sem.grouprobust import fiml_corrected, gamma_meanstructure, mlm, mlr, mlr_fiml
from adoption.sem.groupsetup import (Group, Registry, Setup, build_registry, equal_keys,
                                     key_name, parse_parameter, prepare_groups)
from adoption.sem.teststat import nan_robust
from adoption.vocabulary import CONTINUOUS_ESTIMATORS
from adoption.vocabulary import PARAMETER_COLUMNS

ESTIMATORS = CONTINUOUS_ESTIMATORS
#: Scaled and robust fit measures of a multi-group fit under MLM/MLR.
MULTIGROUP_ROBUST_MEASURES = (
    "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
    "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
    "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "cfi.robust",
    "tli.robust", "rmsea.scaled", "rmsea.robust")

__all__ = ["GROUP_EQUAL", "MULTIGROUP_ROBUST_MEASURES", "MULTIGROUP_FIT_MEASURES",
           "MULTIGROUP_ESTIMATE_COLUMNS", "SCORE_COLUMNS", "MultiGroupResult", "MultiGroupFit",
           "fit_multigroup",
           "score_tests", "parse_parameter", "rmsea_multigroup", "srmr_multigroup",
           "gamma_meanstructure", "prepare_groups"]

#: Fit measures of a multi-group fit (lavaan ``fitMeasures()`` names).
MULTIGROUP_FIT_MEASURES = ("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df",
                           "cfi", "tli", "nfi", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
                           "rmsea.pvalue", "srmr", "aic", "bic", "logl",
                           "unrestricted.logl")
#: Columns of :attr:`MultiGroupFit.estimates`.
MULTIGROUP_ESTIMATE_COLUMNS = ("lhs", "op", "rhs", "group") + PARAMETER_COLUMNS[3:]
SCORE_COLUMNS = ("parameter", "lhs", "op", "rhs", "X2", "df", "pvalue")


def rmsea_multigroup(chisq: float, df: float, n: int, n_groups: int) -> float:
    """RMSEA of a multi-group model as lavaan: sqrt(G) sqrt(max(chisq/(N df) - 1/N, 0))
    (Steiger, 1998; ``lav_fit_rmsea``), N the total sample size
    (:func:`adoption.sem.fitmeasures.rmsea` with ``n_groups``)."""
    return fm.rmsea(chisq, df, n, n_groups=n_groups)


def srmr_multigroup(srmr_groups, nobs) -> float:
    """SRMR of a multi-group model: the groups' SRMR weighted by their sizes,
    sum_g N_g SRMR_g / N (lavaan ``lav_fit_srmr_lavobject``)."""
    return fm.weighted_by_n(srmr_groups, nobs)


@dataclass(frozen=True)
class MultiGroupResult:
    """What every multi-group fit returns (continuous: :class:`MultiGroupFit`; ordinal:
    :class:`adoption.sem.wlsmv_groups.OrdinalMultiGroupFit`).

    Attributes
    ----------
    estimates : pd.DataFrame
        ``parameterEstimates(fit, standardized = TRUE)`` of every group, stacked:
        lhs, op, rhs, group (the group's value), est, se, z, pvalue, ci.lower, ci.upper,
        std.all (standardised within the group).
    fit : dict
        lavaan's ``fitMeasures()`` of the fit (lavaan names).
    groups : tuple
        The group values, in fitting order.
    nobs : tuple of int
        Rows used per group.
    group_fit : dict
        group -> {"srmr": its SRMR, and for continuous fits "chisq": its contribution}.
    r2 : dict
        group -> {variable: R-squared}.
    constrained : tuple of str
        The parameters held equal across groups ("lhs op rhs").
    converged : bool
    warnings : tuple of str
    estimator : str
    timings : dict
        Seconds per step (not compared).
    """

    estimates: pd.DataFrame
    fit: dict
    groups: tuple
    nobs: tuple
    group_fit: dict
    r2: dict
    constrained: tuple
    converged: bool
    warnings: tuple
    estimator: str = "ML"
    timings: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class MultiGroupFit(MultiGroupResult):
    """Result of :func:`fit_multigroup` (attributes as :class:`MultiGroupResult`).

    ``estimates`` has the ``~1`` rows (intercepts, latent means, fixed-x means) last in
    each group; ``fit`` holds every name lavaan's ``fitMeasures()`` returns for the fit, in
    its order (:func:`adoption.sem.fitdict.fit_measures`; includes
    :data:`MULTIGROUP_FIT_MEASURES`); ``groups`` are sorted, as lavaan; ``nobs`` counts
    listwise complete rows.
    """

    _state: object = field(default=None, compare=False, repr=False)


def fit_multigroup(syntax: str, data: pd.DataFrame, group: str, *, group_equal=(),
                   group_partial=(), equal=(), groups=None, estimator: str = "ML",
                   missing: str = "listwise", se: bool = True,
                   _setup: Setup | None = None) -> MultiGroupFit:
    """Fit a model in several groups at once by ML, as lavaan's multi-group ``sem()``.

    Parameters
    ----------
    syntax : str
        lavaan model syntax (as :func:`adoption.sem.engine.fit_model`). As in lavaan, a
        plain label (``a*x2``) names one parameter in every group (with lavaan's warning),
        ``c(a1, a2)*x2`` one label per group, and ``c(1, NA)*x2`` fixes it in group 1
        only (:mod:`adoption.sem.groupequal`).
    data : pd.DataFrame
        Raw data with the model variables and the grouping column.
    group : str
        The grouping column; rows with it missing are left out.
    group_equal : sequence of str
        lavaan ``group.equal`` keywords (:data:`GROUP_EQUAL`): "loadings",
        "intercepts" (then the latent means are free in groups 2..G unless "means" is
        also given, as lavaan), "means", "residuals", "residual.covariances",
        "lv.variances", "lv.covariances", "regressions"; "thresholds" is refused (no
        ordinal indicators). A user label wins over them, as in lavaan.
    group_partial : sequence of str
        Parameters exempt from ``group_equal`` ("visual =~ x2", "x3 ~ 1"), lavaan
        ``group.partial``.
    equal : sequence of str
        Further single parameters held equal across groups ("WIL ~ HAB"; in lavaan a
        label vector ``c(b, b, b)*HAB``).
    groups : sequence, optional
        The group values to fit, in this order (default: every value, sorted).
    missing : {"listwise", "fiml"}
        "listwise": complete rows only. "fiml": full-information ML (lavaan
        ``missing = "ml"``) with the EM moments of each group as the saturated model, SEs
        from the observed information (lavaan's default there); estimator ML or MLR
        (Huber-White SEs with the casewise FIML scores, Yuan-Bentler scaled test and
        the FIML-corrected robust indices, :func:`adoption.sem.grouprobust.mlr_fiml`).
    se : bool
        Compute standard errors (False: NaN; faster, e.g. when only the fit is needed).
    estimator : {"ML", "MLM", "MLR"}
        "ML": expected-information SEs and the likelihood-ratio chisq. "MLM": robust.sem
        SEs and the Satorra-Bentler scaled test (lavaan ``estimator = "MLM"``). "MLR":
        Huber-White SEs from the observed information and the Yuan-Bentler (Mplus)
        scaled test (lavaan ``estimator = "MLR"``). Estimates are the ML ones.

    Returns
    -------
    MultiGroupFit

    Raises
    ------
    InputError
        Unknown or unsupported keyword, parameter or estimator, a variable missing or
        non-numeric, a group with too few rows, a label vector ``c(...)`` of the wrong
        length, a parameter held equal across groups but fixed in one and free in another
        (lavaan would fix it everywhere).

    Notes
    -----
    Fit measures as lavaan 0.6-14 ``fitMeasures()`` for multiple groups: chisq is the
    sum of the groups' N_g F_g (see module doc); df = G [p(p+1)/2 + p] minus the
    fixed-x moments minus npar (intercepts and latent means counted); the baseline
    model has diagonal covariances and free means in every group; CFI/TLI from those;
    RMSEA = sqrt(G) sqrt(max(chisq/(N df) - 1/N, 0)) with the total N (and its interval
    and p-value likewise); SRMR is each group's Bentler SRMR with the mean residuals,
    weighted by N_g / N; AIC/BIC from the summed log-likelihood, BIC with the total N.
    Standard errors from the expected information (ML). Under MLM/MLR the scaled
    statistics (:data:`MULTIGROUP_ROBUST_MEASURES`) are added, with lavaan's multi-group
    traces (see :func:`mlm`, :func:`mlr`); rmsea.scaled and rmsea.robust carry the
    sqrt(G) factor. Under FIML the robust indices come from the FIML-corrected
    statistic (:func:`fiml_corrected`, version "V6" under ML, "V3" under MLR). GFI is the groups' GFI (with the mean
    structure) weighted by N_g / N, as SRMR, RMR and CRMR. Agrees with lavaan to about
    1e-6 (``tests/test_multigroup.py``, ``tests/test_sem_fitmeasures_all.py``).

    Examples
    --------
    >>> hs = "visual =~ x1 + x2 + x3"
    >>> metric = fit_multigroup(hs, data, "school", group_equal=["loadings"])  # doctest: +SKIP
    >>> metric.fit["chisq"], metric.fit["df"]                                 # doctest: +SKIP
    """
    if estimator not in ESTIMATORS:
        raise InputError(f"Unknown estimator '{estimator}'; use one of "
                         f"{', '.join(ESTIMATORS)}.")
    if missing == "fiml" and estimator == "MLM":
        raise InputError("estimator='MLM' needs complete data (as in lavaan); with "
                         "missing='fiml' use estimator='ML' or 'MLR'.")
    with blas_one_thread():  # many small products: faster without BLAS threads
        return _fit_multigroup(syntax, data, group, group_equal, group_partial, equal,
                               groups, estimator, missing, se, _setup)


class _NoSE(Exception):
    """Standard errors not requested."""


def _fit_multigroup(syntax, data, group, group_equal, group_partial, equal, groups,
                    estimator, missing, se, _setup) -> MultiGroupFit:
    t0 = time.perf_counter()
    setup = _setup if _setup is not None else prepare_groups(syntax, data, group, groups,
                                                             missing)
    if setup.missing != missing:
        raise InputError("The prepared groups were made for another missing-data method.")
    keys = equal_keys(setup, tuple(group_equal), tuple(group_partial), tuple(equal))
    lm_free = latent_means_free(group_equal) and bool(setup.latent)
    reg = build_registry(setup, keys, lm_free)
    msgs = list(setup.msgs)
    theta = starting_values(setup, reg)
    try:
        theta, ok = optimise(setup, reg, theta)
    except (np.linalg.LinAlgError, ValueError) as exc:
        ok = False
        msgs.append(f"The optimiser failed ({exc}).")
    if not ok:
        msgs.append("The multi-group model did not converge: estimates are unreliable.")
    t_opt = time.perf_counter() - t0
    _, info = score_information(setup, reg, theta)
    hess = None  # FIML: the observed information, lavaan's default with missing = "ml"
    try:
        if not se:
            raise _NoSE
        a = hess = observed_information(setup, reg, theta) if missing == "fiml" else info
        vc = np.linalg.inv(a)
        if np.linalg.cond(a) > 1e12:
            raise np.linalg.LinAlgError
    except _NoSE:
        vc = np.full((reg.k, reg.k), np.nan)
    except np.linalg.LinAlgError:
        vc = np.full((reg.k, reg.k), np.nan)
        msgs.append("The information matrix is singular: the model is probably not "
                    "identified; standard errors are not available.")
        ok = False
    est, r2, group_fit, pieces, warns = _results(setup, reg, theta, vc)
    msgs += warns
    scaled = robust = None
    if estimator != "ML":
        try:
            if missing == "fiml":
                (scaled, robust), vc_r = mlr_fiml(setup, reg, theta, pieces, hess)
            elif estimator == "MLM":
                (scaled, robust), vc_r = mlm(setup, reg, theta, info, pieces)
            else:
                (scaled, robust), vc_r = mlr(setup, reg, theta, pieces)
            est, *_ = _results(setup, reg, theta, vc_r)
        except np.linalg.LinAlgError:
            scaled, robust = nan_robust(estimator)
            msgs.append("The robust standard errors and scaled test could not be computed: "
                        "an information matrix is singular.")
    if missing == "fiml":  # lavaan's robust indices under FIML: "V6" (ML), "V3" (MLR)
        try:
            robust = fiml_corrected(setup, reg, theta, pieces,
                                    "V6" if estimator == "ML" else "V3")
        except np.linalg.LinAlgError:
            robust = fd.RobustBasis(*(float("nan"),) * 4)
            msgs.append("The robust fit indices (FIML-corrected) could not be computed: "
                        "an information matrix is singular.")
    fit = fd.fit_measures(**pieces, scaled=scaled, robust=robust)
    return MultiGroupFit(
        estimates=est, fit=fit, groups=tuple(g.value for g in setup.groups),
        nobs=tuple(g.n for g in setup.groups), group_fit=group_fit, r2=r2,
        constrained=tuple(key_name(k) for k in reg.constrained), converged=bool(ok),
        warnings=tuple(msgs), estimator=estimator,
        timings={"optimise": t_opt, "total": time.perf_counter() - t0},
        _state=(setup, reg, theta, info))


def _results(setup: Setup, reg: Registry, theta, vc):
    obs, lat = setup.observed, setup.latent
    p = len(obs)
    tables, r2s, gfit, warns = [], {}, {}, []
    logl = logl_h1 = chisq_b = 0.0
    resids, gfis = [], []
    for g, grp in enumerate(setup.groups):
        sig, mu = group_moments(setup, reg, g, theta, with_jacobian=False)
        model = grp.model
        local = theta[reg.cov_gid[g]]
        index_of = {nm: model.active.index(nm) for nm in set(grp.names) if nm is not None}
        vcl = vc[np.ix_(reg.cov_gid[g], reg.cov_gid[g])]
        a_gid = dict(reg.a_free[g])
        x_set = set(grp.x_idx)
        # intercept of each variable: its a entry (free or fixed)
        mean_rows = []
        order_obs = [i for i in range(p) if i not in x_set] + sorted(x_set)
        for i in order_obs:
            if i in a_gid:
                k = a_gid[i]
                mean_rows.append((obs[i], theta[k], math.sqrt(vc[k, k]) if vc[k, k] >= 0
                                  else float("nan"), True))
            else:
                mean_rows.append((obs[i], float(grp.m[i]), 0.0, False))
        for j, f in enumerate(lat):
            k = a_gid.get(p + j)
            if k is None:
                mean_rows.append((f, 0.0, 0.0, False))
            else:
                mean_rows.append((f, theta[k], math.sqrt(vc[k, k]) if vc[k, k] >= 0
                                  else float("nan"), True))
        est, r2 = estimate_table(grp.pt, grp.names, index_of, local, vcl, model, sig,
                                  mean_rows)
        cov_lv = latent_covariance(model, local, grp.pt)
        warns += [f"Group {grp.value}: {m}" for m in diagnose(grp.pt, est, sig, cov_lv)]
        est.insert(3, "group", grp.value)
        tables.append(est)
        r2s[grp.value] = r2
        if grp.pat is not None:
            ll_x = fm.loglik_x(grp.s, grp.n, grp.x_idx)
            ll = fiml.loglik(grp.pat, mu, sig) - ll_x
            ll1 = grp.ll_h1 - ll_x
            mu_b, s_b = fiml.independence_moments(grp.pat, grp.x_idx)
            chisq_b += 2 * (grp.ll_h1 - fiml.loglik(grp.pat, mu_b, s_b))
        else:
            d = grp.m - mu
            ll = fm.loglik(grp.s, sig, grp.n, grp.x_idx) \
                - grp.n / 2 * float(d @ np.linalg.solve(sig, d))
            ll1 = fm.unrestricted_loglik(grp.s, grp.n, grp.x_idx)
            chisq_b += fm.chisq_ml(grp.s, fm.baseline_sigma(grp.s, grp.x_idx), grp.n)
        logl += ll
        logl_h1 += ll1
        resids.append(fm.residual_measures(grp.s, sig, grp.m, mu))
        gfis.append(_group_gfi(grp, sig, mu))
        gfit[grp.value] = {"chisq": max(2 * (ll1 - ll), 0.0),
                           "srmr": resids[-1]["srmr_bentler"]}
    est = pd.concat(tables, ignore_index=True)[list(MULTIGROUP_ESTIMATE_COLUMNS)]
    n_groups = len(setup.groups)
    n = sum(g.n for g in setup.groups)
    q = len(setup.groups[0].x_idx)
    npar = reg.k
    df = n_groups * (p * (p + 1) // 2 + p - q * (q + 1) // 2 - q) - npar
    df_b = n_groups * fm.baseline_df(p, q)
    nobs = [g.n for g in setup.groups]
    pieces = dict(npar=npar, n=n, chisq=max(2 * (logl_h1 - logl), 0.0), df=df,
                  chisq_b=chisq_b, df_b=df_b, logl=logl, logl_h1=logl_h1,
                  residuals={k: fm.weighted_by_n([r[k] for r in resids], nobs)
                             for k in fd.RESIDUAL_NAMES},
                  gfi=fm.weighted_by_n(gfis, nobs),
                  nel=fm.n_moments(p, meanstructure=True, n_groups=n_groups),
                  n_groups=n_groups)
    return est, r2s, gfit, pieces, warns


def _group_gfi(grp: Group, sig: np.ndarray, mu: np.ndarray) -> float:
    """GFI of one group with its mean structure (lavaan ``lav_fit_gfi``): complete data
    (:func:`adoption.sem.fitmeasures.gfi`), or FIML with lavaan's pairwise sample
    statistics (:func:`adoption.sem.fiml.gfi`)."""
    if grp.pat is not None:
        m_obs, s_obs = fiml.pairwise_moments(grp.pat.x)
        return fiml.gfi(grp.pat, m_obs, s_obs, mu, sig, grp.x_idx)
    return fm.gfi(grp.s, sig, None, grp.x_idx, mean=grp.m, implied_mean=mu)


# --------------------------------------------------------------------------- score tests
def score_tests(fit: MultiGroupFit) -> pd.DataFrame:
    """Score test of releasing each equality constraint of a multi-group fit.

    For each parameter held equal across groups: the score (Lagrange multiplier) test
    of letting it differ, all other constraints kept, on G - 1 df.

    Returns
    -------
    pd.DataFrame
        parameter ("lhs op rhs"), lhs, op, rhs, X2, df, pvalue; largest X2 first.

    Notes
    -----
    With theta-hat the constrained estimates and the parameter split into one copy per
    group (all at theta-hat), X2 = g' I^-1 g with g the gradient of the log-likelihood
    and I the expected information of the split parameterisation (both totals). With
    two groups this is lavaan's ``lavTestScore(fit, univariate = TRUE)`` (expected
    information) for the constraint ``.pA. == .pB.``; with more groups it frees the
    parameter in every group at once (lavaan's univariate tests free one pair).
    """
    with blas_one_thread():
        return _score_tests(fit)


def _score_tests(fit: MultiGroupFit) -> pd.DataFrame:
    setup, reg, theta, _ = fit._state
    rows = []
    n_groups = len(setup.groups)
    for key in reg.constrained:
        cons = {k for k in reg.constrained if k != key}
        ereg = build_registry(setup, set(cons), reg.latent_means_free)
        etheta = expand(reg, ereg, theta)
        grad, info = score_information(setup, ereg, etheta)
        try:
            x2 = float(grad @ np.linalg.solve(info, grad))
        except np.linalg.LinAlgError:
            x2 = float("nan")
        df = n_groups - 1
        rows.append({"parameter": key_name(key), "lhs": key[0], "op": key[1],
                     "rhs": key[2], "X2": x2, "df": float(df),
                     "pvalue": fm.pvalue_chisq(x2, df)})
    out = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    return out.sort_values("X2", ascending=False, ignore_index=True)
