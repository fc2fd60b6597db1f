"""Fit indices as lavaan's ``fitMeasures()`` computes them: one pure function each.

Every function takes numbers or numpy arrays (chisq, df, N, S, Sigma, ...) and returns a
float (the residual-based measures and the GFI family live in
:mod:`adoption.sem.fitresiduals` and are imported here under the same names); nothing here knows about semopy or about a fitted-model object. ``N`` is the
number of observations used, and S is the sample covariance matrix with divisor N.
With observed exogenous predictors (lavaan's ``fixed.x = TRUE``), ``x_idx`` lists their
positions in S.

References
----------
lavaan 0.6-14, ``lav_fit_measures.R``, ``lav_fit_cfi.R``, ``lav_fit_rmsea.R``,
``lav_fit_srmr.R``, ``lav_fit_gfi.R``, ``lav_fit_aic.R``.
Brosseau-Liard, P. E., Savalei, V., & Li, L. (2012). An investigation of the sample
performance of two nonnormality corrections for RMSEA. *MBR*, 47, 904-930.
Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for
nonnormality. *MBR*, 49, 460-470.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

from adoption.sem.fitresiduals import (agfi, crmr, gfi, n_moments, pgfi,  # noqa: F401
                                      residual_measures, rmr, srmr_bentler, srmr_mplus,
                                      weighted_by_n)


def _logdet(m: np.ndarray) -> float:
    sign, ld = np.linalg.slogdet(m)
    return ld if sign > 0 else float("nan")


def loglik(s: np.ndarray, sigma: np.ndarray, n: int, x_idx=()) -> float:
    """Normal log-likelihood of the model (``logl``).

    Notes
    -----
    logl = -N/2 [p log(2 pi) + log|Sigma| + tr(S Sigma^-1)]; with fixed x the likelihood of
    the x block, -N/2 [q log(2 pi) + log|S_xx| + q], is subtracted (lavaan ``logl``).

    Examples
    --------
    >>> import numpy as np
    >>> s, sigma = np.array([[1, .5], [.5, 1]]), np.array([[1, .4], [.4, 1]])
    >>> round(loglik(s, sigma, 100), 4)
    -270.3081
    """
    p = s.shape[0]
    ll = -n / 2 * (p * math.log(2 * math.pi) + _logdet(sigma)
                   + np.trace(s @ np.linalg.inv(sigma)))
    return float(ll - loglik_x(s, n, x_idx))


def loglik_x(s: np.ndarray, n: int, x_idx=()) -> float:
    """Log-likelihood of the fixed-x block, -N/2 [q log(2 pi) + log|S_xx| + q].

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[1, .5], [.5, 1]])
    >>> round(loglik_x(s, 100, x_idx=[1]), 4)  # -50 (log(2 pi) + 0 + 1)
    -141.8939
    """
    x_idx = list(x_idx)
    if not x_idx:
        return 0.0
    q = len(x_idx)
    sxx = s[np.ix_(x_idx, x_idx)]
    return float(-n / 2 * (q * math.log(2 * math.pi) + _logdet(sxx) + q))


def unrestricted_loglik(s: np.ndarray, n: int, x_idx=()) -> float:
    """Log-likelihood of the saturated model (``unrestricted.logl``):
    -N/2 [p log(2 pi) + log|S| + p], minus the fixed-x block.

    Examples
    --------
    >>> import numpy as np
    >>> round(unrestricted_loglik(np.array([[1, .5], [.5, 1]]), 100), 4)
    -269.4036
    """
    p = s.shape[0]
    return float(-n / 2 * (p * math.log(2 * math.pi) + _logdet(s) + p) - loglik_x(s, n, x_idx))


def chisq_ml(s: np.ndarray, sigma: np.ndarray, n: int, mean: np.ndarray | None = None,
             implied_mean: np.ndarray | None = None) -> float:
    """Likelihood-ratio statistic N F_ML = N [log|Sigma| - log|S| + tr(S Sigma^-1) - p],
    plus N (m - mu)' Sigma^-1 (m - mu) with a mean structure (``mean`` m,
    ``implied_mean`` mu).

    Examples
    --------
    >>> import numpy as np
    >>> s, sigma = np.array([[1, .5], [.5, 1]]), np.array([[1, .4], [.4, 1]])
    >>> round(chisq_ml(s, sigma, 100), 4)  # 2 (unrestricted_loglik - loglik)
    1.8091
    """
    p = s.shape[0]
    si = np.linalg.inv(sigma)
    f = _logdet(sigma) - _logdet(s) + np.trace(s @ si) - p
    if mean is not None:
        d = np.asarray(mean) - np.asarray(implied_mean)
        f += float(d @ si @ d)
    return float(n * f)


def degrees_of_freedom(p: int, npar: int, n_x: int = 0) -> int:
    """df = p(p+1)/2 - q(q+1)/2 - npar (q = number of fixed-x variables).

    Examples
    --------
    >>> degrees_of_freedom(9, 21)  # lavaan's HS CFA: 45 moments, 21 parameters
    24
    """
    return p * (p + 1) // 2 - n_x * (n_x + 1) // 2 - npar


def baseline_sigma(s: np.ndarray, x_idx=()) -> np.ndarray:
    """ML-implied covariance of lavaan's baseline (independence) model: diag(S), keeping
    the whole S_xx block when x is fixed.

    Examples
    --------
    >>> import numpy as np
    >>> baseline_sigma(np.array([[2., .5], [.5, 1.]]))
    array([[2., 0.],
           [0., 1.]])
    """
    b = np.diag(np.diag(s))
    x_idx = list(x_idx)
    if x_idx:
        b[np.ix_(x_idx, x_idx)] = s[np.ix_(x_idx, x_idx)]
    return b


def baseline_df(p: int, n_x: int = 0) -> int:
    """Baseline df = p(p+1)/2 - q(q+1)/2 - (p - q).

    Examples
    --------
    >>> baseline_df(9)  # lavaan's HS CFA: baseline.df 36
    36
    """
    return p * (p + 1) // 2 - n_x * (n_x + 1) // 2 - (p - n_x)


def pvalue_chisq(chisq: float, df: float) -> float:
    """P(chi2_df > chisq); NaN when df = 0 would make it undefined (lavaan gives NA).

    Examples
    --------
    >>> round(pvalue_chisq(3.841459, 1), 6)
    0.05
    """
    if df <= 0:
        return float("nan")
    return float(stats.chi2.sf(chisq, df))


def fmin(chisq: float, n: int) -> float:
    """Minimum of lavaan's ML objective (``fmin``): F = chisq / (2 N).

    lavaan minimises F = 1/2 [log|Sigma| + tr(S Sigma^-1) - log|S| - p] (per group,
    weighted by N_g / N; under FIML 1/2 of minus twice the log-likelihood ratio per
    case), and its test statistic is 2 N F, so fmin = chisq / (2 N).

    Examples
    --------
    >>> round(fmin(85.306, 301), 6)  # lavaan's HS CFA: fmin 0.141705
    0.141704
    """
    return float(chisq / (2 * n))


def _robust_pair(df: float, c: float, c_b: float) -> tuple[float, float]:
    """lavaan's rule for (c, c_b) in ``lav_fit_cfi``/``tli``/``rni``: the scaling factors
    are used only when df > 0 and both differ from 1; otherwise (1, 1)."""
    if df > 0 and c != 1 and c_b != 1:
        return c, c_b
    return 1.0, 1.0


def _any_nan(*values) -> bool:
    return any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values)


def cfi(chisq: float, df: float, chisq_b: float, df_b: float, c: float = 1.0,
        c_b: float = 1.0) -> float:
    """Comparative fit index (Bentler, 1990; lavaan ``lav_fit_cfi``).

    CFI = 1 - max(chisq - c df, 0) / max(chisq - c df, chisq_b - c_b df_b, 0); 1 when
    both are 0; NaN when an input is NaN. With the unscaled statistics and the scaling
    factors c, c_b this is ``cfi.robust`` (Brosseau-Liard & Savalei, 2014), used only
    when df > 0 and c, c_b both differ from 1 (lavaan's rule).

    Examples
    --------
    >>> round(cfi(85.306, 24, 918.852, 36), 3)  # lavaan's HS CFA: cfi 0.931
    0.931
    """
    if _any_nan(chisq, df, chisq_b, df_b, c, c_b):
        return float("nan")
    c, c_b = _robust_pair(df, c, c_b)
    t1 = max(chisq - c * df, 0.0)
    t2 = max(chisq - c * df, chisq_b - c_b * df_b, 0.0)
    if math.isclose(t1, 0.0, abs_tol=1.5e-8) and math.isclose(t2, 0.0, abs_tol=1.5e-8):
        return 1.0
    return float(1.0 - t1 / t2)


def tli(chisq: float, df: float, chisq_b: float, df_b: float, c: float = 1.0,
        c_b: float = 1.0) -> float:
    """Tucker-Lewis index = non-normed fit index (``tli`` = ``nnfi``; lavaan
    ``lav_fit_tli``/``lav_fit_nnfi``), not clipped.

    TLI = 1 - [(chisq - c df) df_b] / [(chisq_b - c_b df_b) df]; 1 when df = 0 or the
    denominator is 0. With the unscaled statistics and scaling factors c, c_b (df > 0,
    both != 1) it is ``tli.robust``/``nnfi.robust``.

    Examples
    --------
    >>> round(tli(85.306, 24, 918.852, 36), 3)  # lavaan's HS CFA: tli 0.896
    0.896
    """
    if _any_nan(chisq, df, chisq_b, df_b, c, c_b):
        return float("nan")
    c, c_b = _robust_pair(df, c, c_b)
    t1 = (chisq - c * df) * df_b
    t2 = (chisq_b - c_b * df_b) * df
    if df > 0 and abs(t2) > 0:
        return float(1.0 - t1 / t2)
    if not (math.isfinite(t1) and math.isfinite(t2)):
        return float("nan")
    return 1.0


def rni(chisq: float, df: float, chisq_b: float, df_b: float, c: float = 1.0,
        c_b: float = 1.0) -> float:
    """Relative noncentrality index (McDonald & Marsh, 1990; lavaan ``lav_fit_rni``):
    RNI = 1 - (chisq - c df) / (chisq_b - c_b df_b), CFI without the clipping; NaN when
    the denominator is 0. ``rni.robust`` with the scaling factors (as :func:`cfi`).

    Examples
    --------
    >>> round(rni(85.3, 24, 918.9, 36), 6)  # lavaan 0.6-14 gives 0.93057
    0.93057
    """
    if _any_nan(chisq, df, chisq_b, df_b, c, c_b):
        return float("nan")
    c, c_b = _robust_pair(df, c, c_b)
    t1, t2 = chisq - c * df, chisq_b - c_b * df_b
    if math.isclose(t2, 0.0, abs_tol=1.5e-8) or not math.isfinite(t1 + t2):
        return float("nan")
    return float(1.0 - t1 / t2)


def cfi_robust(chisq: float, df: float, c: float, chisq_b: float, df_b: float,
               c_b: float) -> float:
    """Robust CFI (lavaan ``cfi.robust``): :func:`cfi` of the unscaled statistics with
    their scaling factors c, c_b.

    Examples
    --------
    >>> round(cfi_robust(85.3, 24, 1.1, 918.9, 36, 1.2), 4)
    0.9327
    """
    return cfi(chisq, df, chisq_b, df_b, c, c_b)


def tli_robust(chisq: float, df: float, c: float, chisq_b: float, df_b: float,
               c_b: float) -> float:
    """Robust TLI (lavaan ``tli.robust`` = ``nnfi.robust``): :func:`tli` of the unscaled
    statistics with their scaling factors c, c_b.

    Examples
    --------
    >>> round(tli_robust(85.3, 24, 1.1, 918.9, 36, 1.2), 4)
    0.8991
    """
    return tli(chisq, df, chisq_b, df_b, c, c_b)


def nfi(chisq: float, df: float, chisq_b: float, df_b: float) -> float:
    """Normed fit index (Bentler & Bonett, 1980; lavaan ``lav_fit_nfi``):
    NFI = (chisq_b - chisq) / chisq_b; NaN when df > df_b or chisq_b = 0 (lavaan's NA),
    1 when df = 0.

    Examples
    --------
    >>> round(nfi(85.3, 24, 918.9, 36), 6)  # lavaan 0.6-14 gives 0.907172
    0.907172
    """
    if _any_nan(chisq, df, chisq_b, df_b):
        return float("nan")
    if df > df_b or math.isclose(chisq_b, 0.0, abs_tol=1.5e-8):
        return float("nan")
    if df > 0:
        return float((chisq_b - chisq) / chisq_b)
    return 1.0


def rfi(chisq: float, df: float, chisq_b: float, df_b: float) -> float:
    """Relative fit index (Bollen, 1986; lavaan ``lav_fit_rfi``):
    RFI = (chisq_b/df_b - chisq/df) / (chisq_b/df_b); NaN when df > df_b; 1 when df = 0
    or df_b = 0, or when either term is negative (lavaan's rule).

    Examples
    --------
    >>> round(rfi(85.3, 24, 918.9, 36), 6)  # lavaan 0.6-14 gives 0.860757
    0.860757
    """
    if _any_nan(chisq, df, chisq_b, df_b):
        return float("nan")
    if df > df_b:
        return float("nan")
    if not (df > 0 and df_b > 0):
        return 1.0
    t1 = chisq_b / df_b - chisq / df
    t2 = chisq_b / df_b
    if not (math.isfinite(t1) and math.isfinite(t2)):
        return float("nan")
    if t1 < 0 or t2 < 0:
        return 1.0
    return float(t1 / t2)


def pnfi(chisq: float, df: float, chisq_b: float, df_b: float) -> float:
    """Parsimony normed fit index (James, Mulaik & Brett, 1982; lavaan ``lav_fit_pnfi``):
    PNFI = (df / df_b) (chisq_b - chisq) / chisq_b; NaN unless df_b > 0 and chisq_b > 0.

    Examples
    --------
    >>> round(pnfi(85.3, 24, 918.9, 36), 6)  # lavaan 0.6-14 gives 0.604781
    0.604781
    """
    if _any_nan(chisq, df, chisq_b, df_b):
        return float("nan")
    if df_b > 0 and chisq_b > 0:
        return float(df / df_b * (chisq_b - chisq) / chisq_b)
    return float("nan")


def ifi(chisq: float, df: float, chisq_b: float, df_b: float) -> float:
    """Incremental fit index (Bollen, 1989; lavaan ``lav_fit_ifi``):
    IFI = (chisq_b - chisq) / (chisq_b - df); 1 when chisq_b < df, NaN when
    chisq_b = df.

    Examples
    --------
    >>> round(ifi(85.3, 24, 918.9, 36), 6)  # lavaan 0.6-14 gives 0.931501
    0.931501
    """
    if _any_nan(chisq, df, chisq_b, df_b):
        return float("nan")
    t1, t2 = chisq_b - chisq, chisq_b - df
    if not (math.isfinite(t1) and math.isfinite(t2)):
        return float("nan")
    if t2 < 0:
        return 1.0
    if math.isclose(t2, 0.0, abs_tol=1.5e-8):
        return float("nan")
    return float(t1 / t2)


def rmsea(chisq: float, df: float, n: int, c: float = 1.0, n_groups: int = 1) -> float:
    """RMSEA with lavaan's N (not N - 1; ``lav_fit_rmsea``):
    sqrt(G) sqrt(max(chisq/(N df) - c/N, 0)), 0 when df = 0.

    With ``chisq`` the unscaled statistic and c the scaling factor this is lavaan's
    ``rmsea.robust`` (Brosseau-Liard et al., 2012); with the scaled statistic and c = 1
    it is ``rmsea.scaled``. G (``n_groups``) > 1: lavaan's multi-group RMSEA
    (Steiger, 1998), N the total sample size.

    Examples
    --------
    >>> round(rmsea(85.306, 24, 301), 3)  # lavaan's HS CFA: rmsea 0.092
    0.092
    """
    if df <= 0:
        return 0.0
    return float(math.sqrt(n_groups) * math.sqrt(max(chisq / (n * df) - c / n, 0.0)))


def _ncp_for(chisq: float, df: float, prob: float, upper: float | None = None) -> float:
    """lambda with P(chi2_df(lambda) <= chisq) = prob; 0 if none >= 0, or (with
    ``upper``) if none in [0, upper] (lavaan's search interval)."""
    f = lambda lam: stats.ncx2.cdf(chisq, df, lam) - prob if lam > 0 else stats.chi2.cdf(chisq, df) - prob
    if f(0.0) < 0:
        return 0.0
    if upper is not None:
        if f(upper) > 0:
            return 0.0
        hi = upper
    else:
        hi = max(chisq, 1.0)
        while f(hi) > 0:
            hi *= 2.0
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-12, rtol=1e-12))


def rmsea_ci(chisq: float, df: float, n: int, level: float = 0.90,
             c: float = 1.0, n_groups: int = 1) -> tuple[float, float]:
    """Confidence interval of RMSEA (Browne & Cudeck, 1993; lavaan ``lav_fit_rmsea_ci``).

    Notes
    -----
    lower: lambda_L with P(chi2_df(lambda_L) <= chisq) = (1 + level)/2, upper: lambda_U
    with probability (1 - level)/2, searched in [0, max(N, 4 chisq)] (0 when outside);
    bound = sqrt(G) sqrt(c lambda / (N df)); both 0 when df < 1. ``c`` rescales the
    interval of the scaled statistic to the robust metric. ``level`` is lavaan's
    ``rmsea.ci.level``.

    Examples
    --------
    >>> [round(b, 3) for b in rmsea_ci(85.306, 24, 301)]  # lavaan's HS CFA: 0.071, 0.114
    [0.071, 0.114]
    """
    if not all(math.isfinite(v) for v in (chisq, df, n)):
        return float("nan"), float("nan")
    if df < 1:
        return 0.0, 0.0
    lo = _ncp_for(chisq, df, (1 + level) / 2)
    hi = _ncp_for(chisq, df, (1 - level) / 2, upper=max(n, 4 * chisq))
    g = math.sqrt(n_groups)
    return (float(g * math.sqrt(c * lo / (n * df))), float(g * math.sqrt(c * hi / (n * df))))


def rmsea_pvalue(chisq: float, df: float, n: int, close: float = 0.05, c: float = 1.0,
                 n_groups: int = 1) -> float:
    """Test of close fit, P(RMSEA <= close) (lavaan ``rmsea.pvalue``,
    ``lav_fit_rmsea_closefit``): 1 - P(chi2_df(lambda) <= chisq) with
    lambda = N df close^2 / (c G); NaN when df = 0. ``close`` is ``rmsea.close.h0``.

    Examples
    --------
    >>> round(rmsea_pvalue(85.306, 24, 301), 3)  # lavaan's HS CFA: rmsea.pvalue 0.001
    0.001
    """
    if df <= 0 or not math.isfinite(chisq):
        return float("nan")
    return float(stats.ncx2.sf(chisq, df, n * df * close ** 2 / (c * n_groups)))


def rmsea_notclose_pvalue(chisq: float, df: float, n: int, notclose: float = 0.08,
                          c: float = 1.0, n_groups: int = 1) -> float:
    """Test of not-close fit (MacCallum, Browne & Sugawara, 1996; lavaan
    ``rmsea.notclose.pvalue``, ``lav_fit_rmsea_notclosefit``): P(chi2_df(lambda) <= chisq)
    with lambda = N df notclose^2 / (c G), ``notclose`` = ``rmsea.notclose.h0``
    (0.08); NaN when df = 0.

    Examples
    --------
    >>> round(rmsea_notclose_pvalue(85.306, 24, 301), 3)
    0.84
    """
    if df <= 0 or not math.isfinite(chisq):
        return float("nan")
    return float(stats.ncx2.cdf(chisq, df, n * df * notclose ** 2 / (c * n_groups)))


def cn(chisq: float, df: float, n: int, alpha: float = 0.05) -> float:
    """Hoelter's critical N (lavaan ``cn_05``, ``cn_01``; ``lav_fit_cn``):
    CN = chi2_{1-alpha}(df) / (chisq / N) + 1; NaN when df = 0 and chisq = 0 (below
    machine epsilon), 1 when df = 0 otherwise (R's ``qchisq(p, 0)`` is 0).

    Examples
    --------
    >>> round(cn(85.3, 24, 301), 6)  # lavaan 0.6-14 gives 129.498518
    129.498518
    """
    if df == 0:
        return float("nan") if chisq < np.finfo(float).eps else 1.0
    return float(stats.chi2.ppf(1 - alpha, df) / (chisq / n) + 1)


def mfi(chisq: float, df: float, n: int) -> float:
    """McDonald's fit index (McDonald, 1989; lavaan ``mfi``) = exp(-1/2 (chisq - df) / N).

    Examples
    --------
    >>> round(mfi(85.3, 24, 301), 6)  # lavaan 0.6-14 gives 0.903186
    0.903186
    """
    return float(math.exp(-0.5 * (chisq - df) / n))


def ecvi(chisq: float, npar: int, n: int) -> float:
    """Expected cross-validation index (Browne & Cudeck, 1989; lavaan ``ecvi``)
    = chisq / N + 2 npar / N.

    Examples
    --------
    >>> round(ecvi(85.306, 21, 301), 3)  # lavaan's HS CFA: ecvi 0.423
    0.423
    """
    return float(chisq / n + 2 * npar / n)


def aic(logl: float, npar: int) -> float:
    """AIC = -2 logl + 2 npar.

    Examples
    --------
    >>> round(aic(-3737.745, 21), 2)  # lavaan's HS CFA: aic 7517.490
    7517.49
    """
    return float(-2 * logl + 2 * npar)


def bic(logl: float, npar: int, n: int) -> float:
    """BIC = -2 logl + npar log N.

    Examples
    --------
    >>> round(bic(-3737.745, 21, 301), 3)  # lavaan's HS CFA: bic 7595.339
    7595.339
    """
    return float(-2 * logl + npar * math.log(n))


def sabic(logl: float, npar: int, n: int) -> float:
    """Sample-size adjusted BIC (Sclove, 1987; lavaan ``bic2``):
    -2 logl + npar log((N + 2) / 24).

    Examples
    --------
    >>> round(sabic(-3737.745, 21, 301), 3)  # lavaan's HS CFA: bic2 7528.739
    7528.739
    """
    return float(-2 * logl + npar * math.log((n + 2) / 24))
