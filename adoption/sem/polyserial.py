"""Polyserial and Pearson correlations of mixed items and their casewise scores.

The continuous side of lavaan 0.6's two-step sample statistics for a mix of ordered and
continuous items (``lavCor(data, ordered = some)``, the first stage of
``estimator = "WLSMV"`` with ``ordered =`` a subset):

* :func:`normal_scores` -- casewise scores of a continuous item's ML mean and variance
  (lavaan ``lav_uvreg_scores`` without covariates).
* :func:`polyserial` -- two-step polyserial correlations of (continuous, ordinal) pairs,
  all pairs at once: each maximises the likelihood of the ordinal answer given the
  continuous value, with the mean, variance and thresholds held at their one-step values
  (lavaan ``lav_bvmix_cor_twostep_fit``).
* :func:`polyserial_scores` -- casewise scores of a polyserial pair's bivariate
  likelihood with respect to rho, the continuous mean and variance and the thresholds
  (lavaan ``lav_bvmix_cor_scores``).
* :func:`pearson_scores` -- the same for a pair of continuous items (bivariate normal,
  lavaan ``lav_bvreg_cor_scores``); the estimate itself is Pearson's r.

:mod:`adoption.sem.polychoric` assembles these with the polychoric parts into the
statistics and their asymptotic covariance.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from adoption.errors import InputError

__all__ = ["POLYSERIAL_BOUND", "OPEN_END", "normal_pdf", "normal_scores", "polyserial",
           "polyserial_pairs", "polyserial_data", "polyserial_scores", "pearson_pairwise",
           "pearson_scores"]

#: lavaan's bounds of a polyserial estimate (``nlminb(lower = -0.995, upper = 0.995)``).
POLYSERIAL_BOUND = 0.995
#: Stands for an infinite threshold (the open ends of the lowest and highest categories),
#: as lavaan's ``lav_uvord`` (+-100).
OPEN_END = 100.0
_EPS = np.finfo(float).eps


def normal_pdf(x):
    """Standard normal density."""
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def normal_scores(y: np.ndarray, mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Casewise scores of the normal log-likelihood in the mean and the variance.

    Parameters
    ----------
    y : (n, q) array
        Continuous items, one column each.
    mean, var : (q,) arrays
        ML mean and variance (divisor N).

    Returns
    -------
    (d_mean, d_var) : two (n, q) arrays
        (y - mu) / s2 and -1 / (2 s2) + (y - mu)^2 / (2 s2^2) (lavaan ``lav_uvreg_scores``).
    """
    res = y - mean
    return res / var, -0.5 / var + 0.5 * res * res / (var * var)


def _bvmix_parts(z, upper, lower, rho):
    r = np.sqrt(1.0 - rho * rho)
    a, b = (upper - rho * z) / r, (lower - rho * z) / r
    pa, pb = normal_pdf(a), normal_pdf(b)
    prob = np.maximum(special.ndtr(a) - special.ndtr(b), _EPS)
    return r, pa, pb, prob


def _rho_score(z, upper, lower, rho):
    """d log P(y2 | y1) / d rho per case (lavaan's ``dx.rho``)."""
    r, pa, pb, prob = _bvmix_parts(z, upper, lower, rho)
    return (pa * (upper * rho - z) - pb * (lower * rho - z)) / (prob * r ** 3), prob


def polyserial(z: np.ndarray, upper: np.ndarray, lower: np.ndarray, sd: np.ndarray,
               start: np.ndarray, observed: np.ndarray | None = None, tol: float = 1e-10,
               max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Two-step ML polyserial correlations of many (continuous, ordinal) pairs at once.

    Parameters
    ----------
    z : (n, q) array
        The continuous item of each pair standardised by its ML mean and SD.
    upper, lower : (n, q) arrays
        The thresholds above and below each case's answer on the ordinal item
        (+-:data:`OPEN_END` at the open ends).
    sd : (q,) array
        ML SD of the continuous item (for lavaan's small-likelihood rule, below).
    start : (q,) array
        Starting values.
    observed : (n, q) bool array, optional
        Cases answering both items of the pair (default: all); the others are left out
        (lavaan ``missing = "pairwise"``).

    Returns
    -------
    (rho, converged) : (q,) arrays
        Estimates in [-:data:`POLYSERIAL_BOUND`, :data:`POLYSERIAL_BOUND`]; whether the
        score reached zero.

    Notes
    -----
    The log-likelihood of a pair, given the one-step estimates, is
    sum_c log[Phi((tau_k - rho z_c) / R) - Phi((tau_(k-1) - rho z_c) / R)] + const,
    R = sqrt(1 - rho^2) (Olsson, Drasgow & Dorans, 1982). It is maximised by Newton steps
    on its score in rho (a numerical derivative), vectorised over pairs. As lavaan's
    ``lav_bvmix_lik_cache``, cases whose bivariate density phi(y1) P(y2 | y1) falls below
    sqrt(machine eps) are left out of the likelihood, and P(y2 | y1) is bounded below by
    machine eps. Agrees with ``lavCor(ordered = )`` to about 1e-8.
    """
    dens = normal_pdf(z) / sd  # phi(y1; mu, sigma)
    small = np.sqrt(_EPS)
    seen = np.ones(z.shape, bool) if observed is None else observed

    def score(rho):
        s, prob = _rho_score(z, upper, lower, rho)
        return np.where(seen & (dens * prob >= small), s, 0.0).sum(0)

    rho = np.clip(np.asarray(start, float), -0.9, 0.9)
    h = 1e-6
    done = np.zeros(len(rho), bool)
    for _ in range(max_iter):
        g = score(rho)
        dg = (score(rho + h) - score(rho - h)) / (2 * h)
        step = np.where(dg < 0, -g / np.where(dg < 0, dg, 1.0), 0.05 * np.sign(g))
        step = np.clip(step, -0.2, 0.2)
        new = np.clip(rho + step, -POLYSERIAL_BOUND, POLYSERIAL_BOUND)
        done = np.abs(new - rho) < tol
        rho = new
        if done.all():
            break
    return rho, done | (np.abs(rho) >= POLYSERIAL_BOUND)


def polyserial_scores(z: np.ndarray, upper: np.ndarray, lower: np.ndarray, rho: np.ndarray,
                      sd: np.ndarray, observed: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Casewise scores of polyserial pairs' bivariate log-likelihoods.

    Parameters
    ----------
    z, upper, lower : (n, q) arrays
        As :func:`polyserial`.
    rho : (q,) array
        The polyserial estimates.
    sd : (q,) array
        ML SD of the continuous item of each pair.
    observed : (n, q) bool array, optional
        Cases answering both items; the others score 0.

    Returns
    -------
    dict of (n, q) arrays
        ``rho``, ``mean``, ``var`` (the continuous item's mean and variance), ``upper``
        and ``lower`` (the thresholds above and below the case's answer), as lavaan's
        ``lav_bvmix_cor_scores`` (``dx.rho``, ``dx.mu.y1``, ``dx.var.y1``, ``dx.th.y2``).
    """
    r, pa, pb, prob = _bvmix_parts(z, upper, lower, rho)
    diff = pa - pb
    out = {"rho": (pa * (upper * rho - z) - pb * (lower * rho - z)) / (prob * r ** 3),
           "mean": (z + rho / r * diff / prob) / sd,
           "var": (z * z - 1.0 + rho * z / r * diff / prob) / (2.0 * sd * sd),
           "upper": pa / (r * prob), "lower": -pb / (r * prob)}
    if observed is not None:
        out = {k: np.where(observed, v, 0.0) for k, v in out.items()}
    return out


def pearson_pairwise(y1: np.ndarray, y2: np.ndarray, mean1, mean2, var1, var2,
                     tol: float = 1e-12, max_iter: int = 100) -> np.ndarray:
    """Correlations of continuous pairs with missing values, as lavaan's two-step
    ``lav_bvreg_cor_twostep_fit``: the bivariate normal ML estimate over the cases
    answering both, with each item's mean and variance held at its own (all answers)
    ML values. Without missing values this is Pearson's r.

    Parameters
    ----------
    y1, y2 : (n, q) arrays
        The two items of each pair (NaN for missing).
    mean1, mean2, var1, var2 : (q,) arrays

    Returns
    -------
    (q,) array
    """
    seen = np.isfinite(y1) & np.isfinite(y2)
    a, b = np.where(seen, y1, mean1), np.where(seen, y2, mean2)

    def score(rho):
        return np.where(seen, pearson_scores(a, b, mean1, mean2, var1, var2, rho)["rho"], 0).sum(0)

    ac, bc = np.where(seen, a - mean1, 0.0), np.where(seen, b - mean2, 0.0)
    rho = np.clip((ac * bc).sum(0) / np.sqrt((ac * ac).sum(0) * (bc * bc).sum(0)), -0.9, 0.9)
    h = 1e-6
    for _ in range(max_iter):
        g = score(rho)
        dg = (score(rho + h) - score(rho - h)) / (2 * h)
        new = np.clip(rho - g / np.where(dg < 0, dg, -1.0), -0.999, 0.999)
        done = np.all(np.abs(new - rho) < tol)
        rho = new
        if done:
            break
    return rho


def pearson_scores(y1: np.ndarray, y2: np.ndarray, mean1, mean2, var1, var2,
                   rho) -> dict[str, np.ndarray]:
    """Casewise scores of bivariate normal log-likelihoods of continuous pairs.

    Parameters
    ----------
    y1, y2 : (n, q) arrays
        The two items of each pair.
    mean1, mean2, var1, var2, rho : (q,) arrays
        ML means, variances and the correlation.

    Returns
    -------
    dict of (n, q) arrays
        ``rho``, ``mean1``, ``mean2``, ``var1``, ``var2`` (lavaan ``lav_bvreg_cor_scores``).
    """
    e1, e2 = y1 - mean1, y2 - mean2
    s1, s2 = np.sqrt(var1), np.sqrt(var2)
    one = 1.0 - rho * rho
    cross = e1 * e2 / (s1 * s2)
    q = e1 * e1 / var1 - 2.0 * rho * cross + e2 * e2 / var2
    return {"rho": rho / one + cross / one - q * rho / one ** 2,
            "mean1": (e1 / var1 - rho * e2 / (s1 * s2)) / one,
            "mean2": (e2 / var2 - rho * e1 / (s1 * s2)) / one,
            "var1": -(0.5 / var1 - (e1 * e1 / var1 ** 2 - rho * cross / var1) / (2 * one)),
            "var2": -(0.5 / var2 - (e2 * e2 / var2 ** 2 - rho * cross / var2) / (2 * one))}


def polyserial_pairs(y: np.ndarray, mean: np.ndarray, var: np.ndarray, codes: np.ndarray,
                     bounds: np.ndarray, ncat: np.ndarray, num_names, ord_names):
    """Polyserial correlations of every (continuous, ordinal) pair of items.

    Parameters
    ----------
    y : (n, q) array
        The continuous items; ``mean`` and ``var`` their ML means and variances.
    codes : (n, o) int array
        The ordinal items' answers as codes 0..K-1.
    bounds : (o, K + 1) array
        Each ordinal item's thresholds with the open ends at -+:data:`OPEN_END`
        (``bounds[v, k]`` is the lower threshold of category k).
    ncat : (o,) array
        Categories per ordinal item.
    num_names, ord_names : list of str
        Item names, for messages.

    Returns
    -------
    (u, v, rho) : arrays, one entry per pair
        Indices among the continuous and among the ordinal items, and the estimate.

    Raises
    ------
    InputError
        A pair at the bound or not converged (named).
    """
    u = np.repeat(np.arange(len(num_names)), len(ord_names))
    v = np.tile(np.arange(len(ord_names)), len(num_names))
    z, upper, lower, seen = polyserial_data(y, mean, var, codes, bounds, u, v)
    # lavaan's start: r(y1, y2) sd(y2) / sum phi(tau), halved above 0.9 (pairwise cases)
    c = np.where(seen, codes[:, v], np.nan)
    yy = np.where(seen, y[:, u], np.nan)
    cc, yc = c - np.nanmean(c, 0), yy - np.nanmean(yy, 0)
    cor = np.nanmean(cc * yc, 0) / np.sqrt(np.nanmean(cc * cc, 0) * np.nanmean(yc * yc, 0))
    sd2 = np.nanstd(np.where(codes[:, v] >= 0, codes[:, v], np.nan), 0)
    th_dens = np.array([normal_pdf(bounds[k, 1:ncat[k]]).sum() for k in v])
    start = cor * sd2 / th_dens
    start = np.where(np.abs(start) > 0.9, start / 2, start)
    rho, ok = polyserial(z, upper, lower, np.sqrt(var[u]), start, seen)
    bad = (np.abs(rho) >= POLYSERIAL_BOUND) | ~ok
    if bad.any():
        which = ", ".join(f"{num_names[a]}-{ord_names[b]}" for a, b in zip(u[bad], v[bad]))
        raise InputError(f"The polyserial correlation of {which} is at +-{POLYSERIAL_BOUND} or did "
                         "not converge: the ordinal item's categories separate the continuous "
                         "one almost perfectly; merge sparse categories or drop one of the items.")
    return u, v, rho


def polyserial_data(y, mean, var, codes, bounds, u, v):
    """(z, upper, lower, observed) of pairs (continuous u, ordinal v): the standardised
    continuous values and each case's thresholds above and below its answer (see
    :func:`polyserial_pairs`), and which cases answer both (missing: NaN in ``y``, -1 in
    ``codes``; their z and thresholds are placeholders)."""
    z = (y[:, u] - mean[u]) / np.sqrt(var[u])
    c = codes[:, v]
    seen = np.isfinite(z) & (c >= 0)
    c = np.maximum(c, 0)
    return np.where(seen, z, 0.0), bounds[v, c + 1], bounds[v, c], seen
