"""The asymptotic covariance matrix (Gamma, NACOV) of ordinal and mixed sample statistics.

:func:`nacov` is the last step of :func:`adoption.sem.polychoric.ordinal_statistics`:
Muthen's (1984) two-step sandwich as lavaan 0.6's ``muthen1984``, from the casewise
scores of the univariate likelihoods (thresholds; means and variances of continuous
items) and of the bivariate ones (polychoric, polyserial, Pearson correlations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from adoption.sem.polyserial import (normal_pdf, normal_scores, pearson_scores, polyserial_data,
                                     polyserial_scores)

if TYPE_CHECKING:
    from adoption.sem.polychoric import OrdinalStatistics

__all__ = ["nacov"]


def _threshold_scores(codes, tab, th_item, th_k):
    """(n, nth) casewise d log P(y_c) / d tau_k (univariate): phi(tau_k) / P(y_c) when
    y_c is the category below tau_k, minus that when it is the category above."""
    sc = np.zeros((codes.shape[0], len(th_item)))
    safe = np.maximum(codes, 0)  # missing answers (-1) score 0 below
    for t, (v, k) in enumerate(zip(th_item, th_k)):
        pv = special.ndtr(tab[v, safe[:, v] + 1]) - special.ndtr(tab[v, safe[:, v]])
        g = normal_pdf(tab[v, k]) / pv
        sc[:, t] = np.where(codes[:, v] == k - 1, g, 0.0) - np.where(codes[:, v] == k, g, 0.0)
    return sc


def _polychoric_parts(codes, tab, ncat, th_item, th_k, i, j, rho, cells):
    """Casewise threshold and polychoric scores and A21 (pairs x thresholds) of the
    ordinal items (their own indexing)."""
    n, p = codes.shape
    kmax = tab.shape[1] - 1
    # casewise rho scores: dP/drho / P of each case's cell
    cell_score = cells.dprob / cells.prob  # (npair, K, K)
    pair = np.arange(len(i))
    ci, cj = codes[:, i], codes[:, j]
    sc_rho = np.where((ci >= 0) & (cj >= 0),
                      cell_score[pair[None, :], np.maximum(ci, 0), np.maximum(cj, 0)], 0.0)
    sc_th = _threshold_scores(codes, tab, th_item, th_k)
    # d log P_kl / d a_m (thresholds of item i of the pair) and of b_m (item j), per cell
    s = np.sqrt(1.0 - rho * rho)[:, None, None]
    a, b = tab[i], tab[j]
    r = rho[:, None, None]
    # for threshold a_m: dP_kl/da_m = phi(a_m)[Phi((b_l - r a_m)/s) - Phi((b_l-1 - r a_m)/s)]
    # times (+1 if k == m - 1 (upper limit of cell k = m-1 with 0-based k), -1 if k == m)
    ga = normal_pdf(a)[:, :, None] * (special.ndtr((b[:, None, 1:] - r * a[:, :, None]) / s)
                                - special.ndtr((b[:, None, :-1] - r * a[:, :, None]) / s))  # (npair, K+1, K)
    gb = normal_pdf(b)[:, :, None] * (special.ndtr((a[:, None, 1:] - r * b[:, :, None]) / s)
                                - special.ndtr((a[:, None, :-1] - r * b[:, :, None]) / s))  # (npair, K+1, K)
    th_start = np.concatenate([[0], np.cumsum(ncat - 1)])
    # A21 = sum over cases of s_rho * dlogP/dtau, summed by cell: with
    # Q = n_kl (dP_kl/drho) / P_kl^2, threshold m of item i: sum_l ga[m, l] (Q[m-1, l] - Q[m, l])
    # Only observed cells carry a score; an empty cell whose probability underflows
    # (prob ** 2 underflows to 0: padded cells of an item with fewer categories, or 7-point
    # items at n = 216) must add 0, not 0/0 = NaN.
    seen = cells.counts > 0
    q = np.divide(cells.counts * cell_score, cells.prob, out=np.zeros_like(cells.dprob),
                  where=seen)
    a21_i = (ga[:, 1:kmax, :] * (q[:, :-1, :] - q[:, 1:, :])).sum(2)  # (npair, K-1)
    a21_j = (gb[:, 1:kmax, :] * (q[:, :, :-1] - q[:, :, 1:]).transpose(0, 2, 1)).sum(2)
    a21 = np.zeros((len(i), len(th_item)))
    for m in range(1, kmax):
        ok_i, ok_j = m < ncat[i], m < ncat[j]
        a21[pair[ok_i], th_start[i[ok_i]] + m - 1] = a21_i[ok_i, m - 1]
        a21[pair[ok_j], th_start[j[ok_j]] + m - 1] = a21_j[ok_j, m - 1]
    return sc_th, sc_rho, a21


def nacov(st: "OrdinalStatistics", y: np.ndarray, codes: np.ndarray, tab: np.ndarray,
          bounds: np.ndarray, ncat: np.ndarray, polyc: tuple = ()) -> np.ndarray:
    """N times the asymptotic covariance matrix (Gamma) of ``st.vector``.

    Parameters
    ----------
    st : OrdinalStatistics
        The statistics (without ``nacov``).
    y : (n, q) array
        The continuous items.
    codes : (n, o) int array
        The ordinal items' codes 0..K-1 (-1 missing).
    tab, bounds : (o, K + 1) arrays
        Thresholds padded with -+10 (``tab``) or -+100 (``bounds``) at the open ends.
    ncat : (o,) array
    polyc : tuple
        ``(i, j, rho, cells)`` of the polychoric pairs (among the ordinal items), empty
        with fewer than two.

    Returns
    -------
    np.ndarray
        lavaan's ``lavInspect(fit, "gamma")``.

    Notes
    -----
    Muthen (1984), as lavaan's ``muthen1984``: with s_c the casewise scores (step-1
    parameters, then the correlations), A11 the within-item blocks of sum s s',
    A22 = diag(sum s_rho^2) and A21 = sum s_rho s_1' (bivariate scores in the step-1
    parameters), B^-1 = [[A11^-1, 0], [-A22^-1 A21 A11^-1, A22^-1]] and
    NACOV = N H B^-1 (sum s s') B^-T H', where H takes a correlation to the covariance
    r sd_i sd_j of the statistics vector and the means to minus the means.
    """
    th_sub = np.concatenate([np.full(ncat[v] - 1, v) for v in range(len(ncat))])
    th_k = np.concatenate([np.arange(1, ncat[v]) for v in range(len(ncat))])
    n, p = st.nobs, len(st.items)
    num = st.is_numeric
    uni_item = st.univariate_item
    nuni, nnum = len(uni_item), len(st.numeric)
    oi, ni = np.flatnonzero(~num), np.flatnonzero(num)
    # columns of the step-1 parameters: thresholds / means item by item, then variances
    th_col = np.flatnonzero(~st.univariate_is_mean)  # in threshold order
    mean_col = np.full(p, -1)
    mean_col[ni] = np.flatnonzero(st.univariate_is_mean)
    var_col = np.full(p, -1)
    var_col[ni] = nuni + np.arange(nnum)
    sc1 = np.zeros((n, nuni + nnum))
    sc1[:, th_col] = _threshold_scores(codes, tab, th_sub, th_k)
    if nnum:
        d_mean, d_var = normal_scores(y, st.means, st.variances)
        sc1[:, mean_col[ni]], sc1[:, var_col[ni]] = np.nan_to_num(d_mean), np.nan_to_num(d_var)
    pair_of = {(a, b): q for q, (a, b) in enumerate(zip(st.pair_i, st.pair_j))}
    npair = len(st.pair_i)
    sc_rho, a21 = np.zeros((n, npair)), np.zeros((npair, nuni + nnum))
    if polyc:  # polychoric pairs
        io, jo = polyc[0], polyc[1]
        s_th, s_rho, a = _polychoric_parts(codes, tab, ncat, th_sub, th_k, *polyc)
        q = np.array([pair_of[(oi[x], oi[w])] for x, w in zip(io, jo)])
        sc_rho[:, q] = s_rho
        a21[np.ix_(q, th_col)] = a
    r = st.correlation.to_numpy()
    _mixed_pair_scores(st, y, codes, bounds, ncat, pair_of, r, sc_rho, a21,
                       th_col, mean_col, var_col)
    return _sandwich(sc1, sc_rho, a21, st, var_col, mean_col, r)


def _mixed_pair_scores(st, y, codes, bounds, ncat, pair_of, r, sc_rho, a21, th_col,
                       mean_col, var_col):
    """Fill the polyserial and Pearson pairs' scores and A21 rows (in place)."""
    num = st.is_numeric
    oi, ni = np.flatnonzero(~num), np.flatnonzero(num)
    if not len(ni):
        return
    col_of = {v: k for k, v in enumerate(ni)}
    th_start = np.concatenate([[0], np.cumsum(ncat - 1)])
    for a, b in ((a, b) for a in range(len(ni)) for b in range(len(oi))):
        u, v = ni[a], oi[b]
        q = pair_of[(max(u, v), min(u, v))]
        z, up, lo, seen = polyserial_data(y, st.means, st.variances, codes, bounds,
                                           np.array([a]), np.array([b]))
        s = polyserial_scores(z, up, lo, r[u, v], np.sqrt(st.variances[a]), seen)
        rho = s["rho"][:, 0]
        sc_rho[:, q] = rho
        a21[q, mean_col[u]] = rho @ s["mean"][:, 0]
        a21[q, var_col[u]] = rho @ s["var"][:, 0]
        k = ncat[b]
        code = np.maximum(codes[:, b], 0)  # a missing answer scores 0 in s
        upper = np.bincount(code, weights=rho * s["upper"][:, 0], minlength=k)
        lower = np.bincount(code, weights=rho * s["lower"][:, 0], minlength=k)
        a21[q, th_col[th_start[b]:th_start[b + 1]]] = upper[:-1] + lower[1:]
    for u, v in ((u, v) for u in ni for v in ni if u > v):
        q = pair_of[(u, v)]
        cu, cv = col_of[u], col_of[v]
        s = pearson_scores(y[:, cu], y[:, cv], st.means[cu], st.means[cv], st.variances[cu],
                           st.variances[cv], r[u, v])
        s = {k: np.nan_to_num(x) for k, x in s.items()}  # missing answers score 0
        sc_rho[:, q] = s["rho"]
        for key, w in (("mean1", mean_col[u]), ("mean2", mean_col[v]), ("var1", var_col[u]),
                       ("var2", var_col[v])):
            a21[q, w] = s["rho"] @ s[key]


def _sandwich(sc1, sc_rho, a21, st, var_col, mean_col, r):
    """N times the covariance of the influence functions s B^-T, on lavaan's scale."""
    uni_item = st.univariate_item
    if_1 = np.zeros_like(sc1)
    for v in range(len(st.items)):  # A11 is block diagonal by item
        cols = np.concatenate([np.flatnonzero(uni_item == v), [var_col[v]] if var_col[v] >= 0 else []])
        cols = cols.astype(int)
        s = sc1[:, cols]
        if_1[:, cols] = s @ np.linalg.inv(s.T @ s)
    if_rho = (sc_rho - if_1 @ a21.T) / (sc_rho * sc_rho).sum(0)
    i, j = st.pair_i, st.pair_j
    sd = st.sd
    rho = r[i, j]
    if_cov = if_rho * (sd[i] * sd[j])  # H: covariance r sd_i sd_j of the statistics
    for side, other in ((i, j), (j, i)):
        has = np.flatnonzero(var_col[side] >= 0)
        if_cov[:, has] += (rho * sd[other] / (2 * sd[side]))[has] * if_1[:, var_col[side[has]]]
    has_mean = mean_col[mean_col >= 0]
    if_1[:, has_mean] *= -1.0  # the statistic is minus the mean
    infl = np.hstack([if_1, if_cov])
    return st.nobs * (infl.T @ infl)
