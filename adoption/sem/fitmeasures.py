"""Fit indices as lavaan's ``fitMeasures()`` computes them: one pure function each.

Every function takes numbers or numpy arrays (chisq, df, N, S, Sigma, ...) and returns a
float; nothing here knows about semopy or about a fitted-model object. ``N`` is the
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

from adoption.sem.robust import vech_index


def _logdet(m: np.ndarray) -> float:
    sign, ld = np.linalg.slogdet(m)
    return ld if sign > 0 else float("nan")


def loglik(s: np.ndarray, sigma: np.ndarray, n: int, x_idx=()) -> float:
    """Normal log-likelihood of the model (``logl``).

    Notes
    -----
    logl = -N/2 [p log(2 pi) + log|Sigma| + tr(S Sigma^-1)]; with fixed x the likelihood of
    the x block, -N/2 [q log(2 pi) + log|S_xx| + q], is subtracted (lavaan ``logl``).
    """
    p = s.shape[0]
    ll = -n / 2 * (p * math.log(2 * math.pi) + _logdet(sigma)
                   + np.trace(s @ np.linalg.inv(sigma)))
    return ll - loglik_x(s, n, x_idx)


def loglik_x(s: np.ndarray, n: int, x_idx=()) -> float:
    """Log-likelihood of the fixed-x block, -N/2 [q log(2 pi) + log|S_xx| + q]."""
    x_idx = list(x_idx)
    if not x_idx:
        return 0.0
    q = len(x_idx)
    sxx = s[np.ix_(x_idx, x_idx)]
    return -n / 2 * (q * math.log(2 * math.pi) + _logdet(sxx) + q)


def unrestricted_loglik(s: np.ndarray, n: int, x_idx=()) -> float:
    """Log-likelihood of the saturated model (``unrestricted.logl``):
    -N/2 [p log(2 pi) + log|S| + p], minus the fixed-x block."""
    p = s.shape[0]
    return -n / 2 * (p * math.log(2 * math.pi) + _logdet(s) + p) - loglik_x(s, n, x_idx)


def chisq_ml(s: np.ndarray, sigma: np.ndarray, n: int) -> float:
    """Likelihood-ratio statistic N F_ML = N [log|Sigma| - log|S| + tr(S Sigma^-1) - p]."""
    p = s.shape[0]
    f = _logdet(sigma) - _logdet(s) + np.trace(s @ np.linalg.inv(sigma)) - p
    return float(n * f)


def degrees_of_freedom(p: int, npar: int, n_x: int = 0) -> int:
    """df = p(p+1)/2 - q(q+1)/2 - npar (q = number of fixed-x variables)."""
    return p * (p + 1) // 2 - n_x * (n_x + 1) // 2 - npar


def baseline_sigma(s: np.ndarray, x_idx=()) -> np.ndarray:
    """ML-implied covariance of lavaan's baseline (independence) model: diag(S), keeping
    the whole S_xx block when x is fixed."""
    b = np.diag(np.diag(s))
    x_idx = list(x_idx)
    if x_idx:
        b[np.ix_(x_idx, x_idx)] = s[np.ix_(x_idx, x_idx)]
    return b


def baseline_df(p: int, n_x: int = 0) -> int:
    """Baseline df = p(p+1)/2 - q(q+1)/2 - (p - q)."""
    return p * (p + 1) // 2 - n_x * (n_x + 1) // 2 - (p - n_x)


def pvalue_chisq(chisq: float, df: float) -> float:
    """P(chi2_df > chisq); NaN when df = 0 would make it undefined (lavaan gives NA)."""
    if df <= 0:
        return float("nan")
    return float(stats.chi2.sf(chisq, df))


def cfi(chisq: float, df: float, chisq_b: float, df_b: float) -> float:
    """Comparative fit index (Bentler, 1990), clipped to [0, 1] as lavaan.

    CFI = 1 - max(chisq - df, 0) / max(chisq - df, chisq_b - df_b, 0).
    """
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, chisq_b - df_b, 0.0)
    if t2 == 0:
        return 1.0
    return float(min(max(1.0 - t1 / t2, 0.0), 1.0))


def tli(chisq: float, df: float, chisq_b: float, df_b: float) -> float:
    """Tucker-Lewis index (not clipped, as lavaan).

    TLI = (chisq_b/df_b - chisq/df) / (chisq_b/df_b - 1); 1 when df = 0.
    """
    if df <= 0:
        return 1.0
    return float((chisq_b / df_b - chisq / df) / (chisq_b / df_b - 1.0))


def nfi(chisq: float, df: float, chisq_b: float, df_b: float) -> float:
    """Normed fit index (Bentler & Bonett, 1980; lavaan ``lav_fit_nfi``):
    NFI = (chisq_b - chisq) / chisq_b; NaN when df > df_b or chisq_b = 0 (lavaan's NA),
    1 when df = 0."""
    if any(math.isnan(v) for v in (chisq, df, chisq_b, df_b)):
        return float("nan")
    if df > df_b or math.isclose(chisq_b, 0.0, abs_tol=1.5e-8):
        return float("nan")
    if df > 0:
        return float((chisq_b - chisq) / chisq_b)
    return 1.0


def cfi_robust(chisq: float, df: float, c: float, chisq_b: float, df_b: float,
               c_b: float) -> float:
    """Robust CFI (Brosseau-Liard & Savalei, 2014; lavaan ``cfi.robust``), from the
    unscaled statistics and the scaling factors c, c_b:
    1 - max(chisq - c df, 0) / max(chisq - c df, chisq_b - c_b df_b, 0)."""
    t1 = max(chisq - c * df, 0.0)
    t2 = max(chisq - c * df, chisq_b - c_b * df_b, 0.0)
    if t2 == 0:
        return 1.0
    return float(min(max(1.0 - t1 / t2, 0.0), 1.0))


def tli_robust(chisq: float, df: float, c: float, chisq_b: float, df_b: float,
               c_b: float) -> float:
    """Robust TLI (lavaan ``tli.robust``): 1 - [(chisq - c df)/df] / [(chisq_b - c_b df_b)/df_b]."""
    if df <= 0:
        return 1.0
    return float(1.0 - ((chisq - c * df) / df) / ((chisq_b - c_b * df_b) / df_b))


def rmsea(chisq: float, df: float, n: int, c: float = 1.0) -> float:
    """RMSEA with lavaan's N (not N - 1): sqrt(max(chisq/(N df) - c/N, 0)).

    With ``chisq`` the unscaled statistic and c the scaling factor this is lavaan's
    ``rmsea.robust`` (Brosseau-Liard et al., 2012); with the scaled statistic and c = 1
    it is ``rmsea.scaled``.
    """
    if df <= 0:
        return 0.0
    return float(math.sqrt(max(chisq / (n * df) - c / n, 0.0)))


def _ncp_for(chisq: float, df: float, prob: float) -> float:
    """lambda with P(chi2_df(lambda) <= chisq) = prob, or 0 if none >= 0."""
    f = lambda lam: stats.ncx2.cdf(chisq, df, lam) - prob if lam > 0 else stats.chi2.cdf(chisq, df) - prob
    if f(0.0) < 0:
        return 0.0
    hi = max(chisq, 1.0)
    while f(hi) > 0:
        hi *= 2.0
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-12, rtol=1e-12))


def rmsea_ci(chisq: float, df: float, n: int, level: float = 0.90,
             c: float = 1.0) -> tuple[float, float]:
    """Confidence interval of RMSEA (Browne & Cudeck, 1993), as lavaan.

    Notes
    -----
    lower: lambda_L with P(chi2_df(lambda_L) <= chisq) = (1 + level)/2, upper: lambda_U
    with probability (1 - level)/2; bound = sqrt(c lambda / (N df)). ``c`` rescales the
    interval of the scaled statistic to the robust metric.
    """
    if df <= 0:
        return 0.0, 0.0
    lo = _ncp_for(chisq, df, (1 + level) / 2)
    hi = _ncp_for(chisq, df, (1 - level) / 2)
    return (float(math.sqrt(c * lo / (n * df))), float(math.sqrt(c * hi / (n * df))))


def rmsea_pvalue(chisq: float, df: float, n: int, close: float = 0.05) -> float:
    """P(RMSEA <= close): 1 - P(chi2_df(N df close^2) <= chisq) (lavaan ``rmsea.pvalue``)."""
    if df <= 0:
        return float("nan")
    return float(stats.ncx2.sf(chisq, df, n * df * close ** 2))


def srmr_bentler(s: np.ndarray, sigma: np.ndarray, mean: np.ndarray | None = None,
                 implied_mean: np.ndarray | None = None) -> float:
    """Standardised root mean square residual, lavaan's default (Bentler) version:
    sqrt(mean_{i<=j} [(s_ij - sigma_ij) / sqrt(s_ii s_jj)]^2).

    With a mean structure (``mean``, ``implied_mean`` given; lavaan under
    ``missing = "ml"``, where S and the means are the EM estimates) the standardised mean
    residuals (m_i - mu_i) / sqrt(s_ii) join the average: p(p+1)/2 + p terms.
    """
    d = np.sqrt(np.diag(s))
    r = (s - sigma) / np.outer(d, d)
    terms = r[vech_index(s.shape[0])]
    if mean is not None:
        terms = np.concatenate([terms, (np.asarray(mean) - np.asarray(implied_mean)) / d])
    return float(math.sqrt(np.mean(terms ** 2)))


def gfi(s: np.ndarray, sigma: np.ndarray, w: np.ndarray | None = None, x_idx=()) -> float:
    """Goodness-of-fit index, lavaan's generalised form GFI = 1 - e'We / s'Ws with
    e = vech(S - Sigma), s = vech(S), W = 1/2 D'(Sigma^-1 (x) Sigma^-1) D; rows and
    columns of W belonging to the fixed-x block are zeroed.

    Under ML without fixed x this equals 1 - tr[(Sigma^-1 S - I)^2] / tr[(Sigma^-1 S)^2].
    Without ``w`` (the p* x p* matrix) the quadratic forms are computed as
    vech(A)' W vech(A) = 1/2 tr(Sigma^-1 A Sigma^-1 A) on the matrices with the fixed-x
    block zeroed (same value, no p* x p* matrix).
    """
    if w is None:
        si = np.linalg.inv(sigma)
        e_m, s_m = s - sigma, s.copy()
        x_idx = list(x_idx)
        if x_idx:
            e_m[np.ix_(x_idx, x_idx)] = 0.0
            s_m[np.ix_(x_idx, x_idx)] = 0.0
        q = lambda a: float(np.sum((si @ a) * (si @ a).T))  # noqa: E731 tr(SiA SiA)
        return float(1.0 - q(e_m) / q(s_m))
    r, c = vech_index(s.shape[0])
    e = s[r, c] - sigma[r, c]
    sv = s[r, c]
    w = w.copy()
    x_idx = set(x_idx)
    if x_idx:
        mask = np.array([(i in x_idx) and (j in x_idx) for i, j in zip(r, c)])
        w[mask, :] = 0.0
        w[:, mask] = 0.0
    return float(1.0 - (e @ w @ e) / (sv @ w @ sv))


def agfi(gfi_value: float, p: int, df: float, meanstructure: bool = False) -> float:
    """Adjusted GFI = 1 - (nel / df)(1 - GFI), nel = p(p+1)/2, plus p with a mean
    structure (lavaan: the length of its sample-statistics vector)."""
    if df <= 0:
        return 1.0
    nel = p * (p + 1) / 2 + (p if meanstructure else 0)
    return float(1.0 - nel / df * (1.0 - gfi_value))


def aic(logl: float, npar: int) -> float:
    """AIC = -2 logl + 2 npar."""
    return float(-2 * logl + 2 * npar)


def bic(logl: float, npar: int, n: int) -> float:
    """BIC = -2 logl + npar log N."""
    return float(-2 * logl + npar * math.log(n))
