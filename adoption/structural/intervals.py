"""Bootstrap confidence intervals: pure functions of arrays of draws.

Shared by the batched and the refit bootstrap of path effects
(:mod:`adoption.structural.bootstrap`, :mod:`adoption.structural.refit`) and the PLS-SEM
bootstrap (:mod:`adoption.pls.bootstrap`).

* :func:`norm_inter` - quantiles by interpolation on the normal scale (``boot``);
* :func:`percentile_interval` - lavaan's ``boot.ci.type = "perc"``;
* :func:`bias_corrected_interval` - ``"bca.simple"`` and, with an acceleration, BCa;
* :func:`jackknife_acceleration` - the BCa acceleration from leave-one-out estimates.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

__all__ = [
    "CI_TYPES",
    "norm_inter",
    "percentile_interval",
    "bias_corrected_interval",
    "jackknife_acceleration",
]

#: Bootstrap interval types: lavaan's ``boot.ci.type`` names plus full BCa.
CI_TYPES: tuple[str, ...] = ("perc", "bca.simple", "bca")


def norm_inter(t: np.ndarray, alpha: np.ndarray, presorted: bool = False) -> np.ndarray:
    """Quantiles of bootstrap draws by interpolation on the normal scale.

    Parameters
    ----------
    t : ndarray, shape (R, K)
        Draws of K statistics (finite values).
    alpha : ndarray, shape (m,) or (K, m)
        Probabilities, common to all statistics or one row per statistic.
    presorted : bool
        ``t`` is already sorted along axis 0.

    Returns
    -------
    ndarray, shape (K, m)

    Notes
    -----
    The ``boot`` package's ``norm.inter`` (Davison & Hinkley, 1997, eq. 5.8), used by
    ``boot.ci`` and by lavaan's ``parameterEstimates(boot.ci.type = "perc" /
    "bca.simple")``: with ``rk = (R + 1) alpha`` and ``k = floor(rk)``, the quantile is
    ``t_(k)`` when ``rk`` is an integer, the extreme order statistic when ``k`` is 0 or
    R, and otherwise ``t_(k) + (qnorm(alpha) - qnorm(k/(R+1))) / (qnorm((k+1)/(R+1)) -
    qnorm(k/(R+1))) (t_(k+1) - t_(k))``.
    """
    t = np.asarray(t, dtype=float)
    if t.ndim == 1:
        t = t[:, None]
    R, K = t.shape
    ts = t if presorted else np.sort(t, axis=0)
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (K, np.shape(alpha)[-1]))
    rk = (R + 1) * a
    k = np.floor(np.nan_to_num(rk)).astype(int)
    cols = np.arange(K)[:, None]
    lo = ts[np.clip(k - 1, 0, R - 1), cols]
    hi = ts[np.clip(k, 0, R - 1), cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        z1 = ndtri(a)                 # qnorm, without scipy.stats' per-call checks
        z2 = ndtri(k / (R + 1))
        z3 = ndtri((k + 1) / (R + 1))
        out = lo + (z1 - z2) / (z3 - z2) * (hi - lo)
    out = np.where(k == rk, lo, out)
    out = np.where(k <= 0, ts[0][cols[:, 0]][:, None], out)
    out = np.where(k >= R, ts[-1][cols[:, 0]][:, None], out)
    return np.where(np.isfinite(a), out, np.nan)


def percentile_interval(draws: np.ndarray, level: float = 0.95,
                        presorted: bool = False) -> np.ndarray:
    """Percentile bootstrap interval (lavaan's ``boot.ci.type = "perc"``).

    Parameters
    ----------
    draws : ndarray, shape (R, K)
    level : float

    Returns
    -------
    ndarray, shape (K, 2)
        :func:`norm_inter` at ``(1 -+ level) / 2``.
    """
    alpha = np.array([(1 - level) / 2, (1 + level) / 2])
    return norm_inter(draws, alpha, presorted=presorted)


def jackknife_acceleration(jack: np.ndarray) -> np.ndarray:
    """BCa acceleration from leave-one-out estimates.

    Parameters
    ----------
    jack : ndarray, shape (N, K)
        Estimate of each of K statistics with row i left out.

    Returns
    -------
    ndarray, shape (K,)
        ``a = sum L^3 / (6 (sum L^2)^{3/2})`` with ``L_i = mean(jack) - jack_i``
        (Efron, 1987; ``boot::empinf(type = "jack")`` up to a factor that cancels).
    """
    jack = np.asarray(jack, dtype=float)
    L = jack.mean(axis=0) - jack
    with np.errstate(divide="ignore", invalid="ignore"):
        return (L * L * L).sum(axis=0) / (6.0 * (L * L).sum(axis=0) ** 1.5)


def bias_corrected_interval(draws: np.ndarray, est: np.ndarray, level: float = 0.95,
                            acceleration: np.ndarray | float = 0.0,
                            presorted: bool = False) -> np.ndarray:
    """Bias-corrected (and accelerated) percentile interval.

    Parameters
    ----------
    draws : ndarray, shape (R, K)
    est : ndarray, shape (K,)
        The full-sample estimates ``t0``.
    level : float
    acceleration : float or ndarray, shape (K,)
        0 gives lavaan's ``boot.ci.type = "bca.simple"`` (bias correction only); the
        jackknife value (:func:`jackknife_acceleration`) gives the BCa interval of
        ``boot::boot.ci(type = "bca")``.

    Returns
    -------
    ndarray, shape (K, 2)
        NaN where the bias correction is infinite (every draw on one side of ``t0``).

    Notes
    -----
    ``w = qnorm(mean(t < t0))``; ``alpha' = pnorm(w + (w + z_alpha) / (1 - a (w +
    z_alpha)))`` for ``z_alpha = qnorm((1 -+ level) / 2)``; the interval is
    :func:`norm_inter` at ``alpha'`` (Efron, 1987; lavaan ``parameterEstimates``,
    ``boot`` ``bca.ci``).
    """
    draws = np.asarray(draws, dtype=float)
    if draws.ndim == 1:
        draws = draws[:, None]
    est = np.asarray(est, dtype=float).reshape(-1)
    a = np.broadcast_to(np.asarray(acceleration, dtype=float), est.shape)
    w = ndtri((draws < est).mean(axis=0))
    za = ndtri(np.array([(1 - level) / 2, (1 + level) / 2]))
    with np.errstate(divide="ignore", invalid="ignore"):
        adj = ndtr(w[:, None] + (w[:, None] + za) / (1 - a[:, None] * (w[:, None] + za)))
    adj = np.where(np.isfinite(w)[:, None] & np.isfinite(a)[:, None], adj, np.nan)
    return norm_inter(draws, adj, presorted=presorted)
