"""Thresholds, polychoric correlations and their asymptotic covariance (NACOV).

The sample statistics of ordinal (Likert-as-ordered) estimation, computed as lavaan 0.6
does for ordered indicators without covariates (``lavCor(..., ordered=)``, and the
first stage of ``estimator = "WLSMV"``):

* :func:`thresholds` -- per item, tau_k = Phi^-1(proportion of answers <= category k).
* :func:`polychoric` -- two-step polychorics: each correlation maximises the bivariate
  multinomial likelihood given the thresholds (Olsson, 1979), all pairs at once
  (Newton-Raphson vectorised over pairs, bivariate normal rectangle probabilities by
  :func:`bvn_cdf`).
* :func:`ordinal_statistics` -- both, plus the asymptotic covariance matrix of
  (thresholds, polychorics) by Muthen's (1984) two-step sandwich, as lavaan's
  ``muthen1984``: casewise scores of the univariate and bivariate likelihoods, the
  outer-product blocks A11, A21, A22, and ``NACOV = N B^-1 (S'S) B^-T``.

Statistic order everywhere: the thresholds item by item (``x1|t1, x1|t2, ..., x2|t1``),
then the polychorics of the pairs (i > j) column by column of the lower triangle
(lavaan's ``vech(R, diagonal = FALSE)``).

Bad input (an item with one observed category, more than :data:`MAX_CATEGORIES`
categories, a pair whose two-way table drives the polychoric to +-1) raises
:class:`adoption.errors.InputError` naming the items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from adoption.errors import InputError

__all__ = ["MAX_CATEGORIES", "OrdinalStatistics", "bvn_cdf", "thresholds", "polychoric",
           "ordinal_statistics"]

MAX_CATEGORIES = 10
_BIG = 10.0  # stands for +-infinity in thresholds: Phi(10) = 1 - 7.6e-24
_GL = {nq: np.polynomial.legendre.leggauss(nq) for nq in (6, 12, 20, 200)}
_GL_X, _GL_W = _GL[20]


def _phi(x):
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def bvn_cdf(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """P(X <= h, Y <= k) for standard bivariate normals with correlation rho (broadcast).

    Notes
    -----
    Phi2(h, k; r) = Phi(h) Phi(k) + (1 / 2 pi) int_0^asin(r) exp(-(h^2 + k^2 - 2 h k
    sin t) / (2 cos^2 t)) dt (Drezner & Wesolowsky, 1990), by 20-point Gauss-Legendre
    on [0, asin r], accurate to about 1e-14 for |r| < 0.925 (Genz, 2004); larger |r| use
    200 points. Infinite limits are passed as +-10.
    """
    h, k, rho = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float),
                                    np.asarray(rho, float))
    a = np.arcsin(rho)
    x, w = (_GL_X, _GL_W) if np.all(np.abs(rho) < 0.925) else np.polynomial.legendre.leggauss(200)
    t = 0.5 * a[..., None] * (x + 1.0)
    s, c2 = np.sin(t), np.cos(t) ** 2
    hh, kk = h[..., None], k[..., None]
    f = np.exp(-(hh * hh + kk * kk - 2.0 * hh * kk * s) / (2.0 * c2))
    integral = 0.5 * a * (f @ w)
    return special.ndtr(h) * special.ndtr(k) + integral / (2.0 * np.pi)


def bvn_pdf(h, k, rho):
    """Standard bivariate normal density phi2(h, k; rho) (broadcast)."""
    r2 = 1.0 - rho * rho
    return np.exp(-(h * h - 2.0 * rho * h * k + k * k) / (2.0 * r2)) / (2.0 * np.pi * np.sqrt(r2))


def _codes(data: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray]]:
    """Integer codes 0..K-1 of each column (sorted observed values; -1 for missing) and
    the values."""
    cols, levels = [], []
    for name in data.columns:
        col = data[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            if not col.cat.ordered:
                raise InputError(f"Ordinal item {name!r} is an unordered categorical; give its "
                                 "categories an order (or numeric codes).")
            col = col.cat.codes.where(col.notna())  # category order, NaN for missing
        elif not pd.api.types.is_numeric_dtype(col):
            raise InputError(f"Ordinal item {name!r} is not numeric; recode its answers as "
                             "ordered numbers (1 = lowest) or an ordered categorical.")
        vals = np.unique(col.dropna().to_numpy())
        codes = np.where(col.isna(), -1, np.searchsorted(vals, col.fillna(vals[0] if len(vals) else 0)))
        if len(vals) < 2:
            raise InputError(f"Ordinal item {name!r} has a single observed category ({vals[0]!r}); "
                             "a threshold model needs two or more (lavaan stops here too): "
                             "drop the item or treat it as continuous.")
        if len(vals) > MAX_CATEGORIES:
            raise InputError(f"Ordinal item {name!r} has {len(vals)} categories (more than "
                             f"{MAX_CATEGORIES}); treat it as continuous (lavaan would fit "
                             "one threshold per category boundary).")
        cols.append(codes)
        levels.append(vals)
    return np.column_stack(cols), levels


def _threshold_table(codes: np.ndarray, ncat: np.ndarray) -> np.ndarray:
    """(p, kmax + 1) padded thresholds [-BIG, tau_1, ..., tau_K-1, BIG, BIG, ...]."""
    p = codes.shape[1]
    kmax = int(ncat.max())
    tab = np.full((p, kmax + 1), _BIG)
    tab[:, 0] = -_BIG
    for i in range(p):
        seen = codes[codes[:, i] >= 0, i]
        cum = np.cumsum(np.bincount(seen, minlength=ncat[i]))[:-1] / len(seen)
        tab[i, 1:ncat[i]] = special.ndtri(cum)
    return tab


def thresholds(data: pd.DataFrame) -> dict[str, float]:
    """Thresholds of ordinal items: tau_k = Phi^-1(P(y <= k)), as ``lavCor``.

    Parameters
    ----------
    data : pd.DataFrame
        Complete rows of the ordinal items (any sortable codes).

    Returns
    -------
    dict
        ``"item|tk"`` -> threshold, items in column order.
    """
    codes, levels = _codes(data)
    ncat = np.array([len(v) for v in levels])
    tab = _threshold_table(codes, ncat)
    return {f"{c}|t{k}": float(tab[i, k]) for i, c in enumerate(data.columns)
            for k in range(1, ncat[i])}


@dataclass(frozen=True)
class _Pairs:
    """Cell-level quantities of all pairs (pair, k, l) at the current correlations."""

    i: np.ndarray
    j: np.ndarray
    counts: np.ndarray  # (npair, K, K)
    prob: np.ndarray
    dprob: np.ndarray  # dP/drho


def _grid_cdf(a, b, rho):
    """Phi2 on the corner grid of every pair: a (npair, K+1), b (npair, K+1) thresholds
    with a[:, 0] = b[:, 0] = -inf and a[:, -1] = b[:, -1] = +inf (stored as -+BIG); the
    infinite rows and columns are exact (0, Phi(b), Phi(a)), the interior by the
    Drezner-Wesolowsky integral of :func:`bvn_cdf`, with Genz's (2004) node counts:
    6 Gauss-Legendre nodes for |r| < 0.3, 12 below 0.75, 20 below 0.925, else 200."""
    npair, k1 = a.shape
    pa, pb = special.ndtr(a), special.ndtr(b)
    grid = np.zeros((npair, k1, k1))
    grid[:, 1:-1, 1:-1] = pa[:, 1:-1, None] * pb[:, None, 1:-1]
    ar = np.abs(rho)
    for lo, hi, nq in ((0.0, 0.3, 6), (0.3, 0.75, 12), (0.75, 0.925, 20), (0.925, 1.1, 200)):
        sel = np.flatnonzero((ar >= lo) & (ar < hi))
        if len(sel) == 0:
            continue
        x, w = _GL[nq]
        asr = np.arcsin(rho[sel])
        t = 0.5 * asr[:, None] * (x + 1.0)  # (nsel, nq)
        sn, ic2 = np.sin(t)[:, None, None, :], 1.0 / np.cos(t)[:, None, None, :] ** 2
        h, k = a[sel, 1:-1, None, None], b[sel, None, 1:-1, None]
        f = np.exp((h * k * sn - 0.5 * (h * h + k * k)) * ic2)
        grid[sel, 1:-1, 1:-1] += (f @ w) * (0.25 * asr / np.pi)[:, None, None]
    grid[:, -1, :] = pb
    grid[:, :, -1] = pa
    grid[:, 0, :] = 0.0
    grid[:, :, 0] = 0.0
    return grid


def _pair_cells(tab, i, j, rho, counts=None):
    """Cell probabilities and dP/drho from the (K+1) x (K+1) grid of corner values."""
    a, b = tab[i], tab[j]
    r = rho[:, None, None]
    cdf = _grid_cdf(a, b, rho)
    pdf = bvn_pdf(a[:, :, None], b[:, None, :], r)
    rect = lambda g: g[:, 1:, 1:] - g[:, :-1, 1:] - g[:, 1:, :-1] + g[:, :-1, :-1]
    return _Pairs(i, j, counts, np.maximum(rect(cdf), 1e-300), rect(pdf))


def _pair_counts(codes, i, j, kmax):
    """(npair, K, K) two-way tables of all pairs, from one product of one-hot codes."""
    n, p = codes.shape
    onehot = np.zeros((n, p, kmax))
    rows, cols = np.nonzero(codes >= 0)  # a missing answer adds to no cell
    onehot[rows, cols, codes[rows, cols]] = 1.0
    z = onehot.reshape(n, p * kmax)
    tables = (z.T @ z).reshape(p, kmax, p, kmax)
    return tables[i, :, j, :]


def _fit_rho(codes, tab, ncat, names, tol=1e-9, max_iter=100):
    """ML polychorics of all pairs given the thresholds: Fisher scoring, vectorised over
    pairs, from the Pearson correlations of the codes. Returns (i, j, rho, cells)."""
    p = codes.shape[1]
    j, i = np.triu_indices(p, 1)  # i > j, ordered column by column of the lower triangle
    kmax = int(ncat.max())
    counts = _pair_counts(codes, i, j, kmax)
    n = counts.sum((1, 2))  # rows observed on both items
    filled = np.where(codes >= 0, codes, np.nan)
    filled = np.where(np.isnan(filled), np.nanmean(filled, axis=0), filled)
    rho = np.clip(np.corrcoef(filled, rowvar=False)[i, j], -0.9, 0.9)  # Pearson start
    for _ in range(max_iter):
        cells = _pair_cells(tab, i, j, rho, counts)
        valid = cells.prob > 1e-290
        score = np.where(valid, counts * cells.dprob / cells.prob, 0).sum((1, 2))
        info = n * np.where(valid, cells.dprob ** 2 / cells.prob, 0).sum((1, 2))
        step = score / info
        new = np.clip(rho + step, -0.9999, 0.9999)
        done = np.max(np.abs(new - rho)) < tol
        rho = new
        if done:
            break
    bad = np.abs(rho) > 0.9995
    slow = ~bad & (np.abs(step) > 1e-6)
    if slow.any():
        which = ", ".join(f"{names[a]}-{names[b]}" for a, b in zip(i[slow], j[slow]))
        raise InputError(f"The polychoric correlation of {which} did not converge in "
                         f"{max_iter} iterations; check the two-way table for sparse cells.")
    if bad.any():
        which = ", ".join(f"{names[a]}-{names[b]}" for a, b in zip(i[bad], j[bad]))
        raise InputError(f"The polychoric correlation of {which} is +-1: an empty cell in "
                         "the two-way table leaves no finite estimate (lavaan adds 0.5 to the "
                         "empty cells of a 2 x 2 table and otherwise reports a correlation at "
                         "the boundary); merge sparse categories or drop one of the items.")
    return i, j, rho, _pair_cells(tab, i, j, rho, counts)


def polychoric(data: pd.DataFrame) -> pd.DataFrame:
    """Two-step polychoric correlation matrix of ordinal items, as ``lavCor(ordered=)``.

    Parameters
    ----------
    data : pd.DataFrame
        Complete rows of the ordinal items.

    Returns
    -------
    pd.DataFrame
        p x p correlation matrix, index and columns the item names.
    """
    return ordinal_statistics(data, nacov=False).correlation


@dataclass(frozen=True)
class OrdinalStatistics:
    """Sample statistics of ordinal items (see module docstring for the order).

    Attributes
    ----------
    items : tuple of str
    nobs : int
    threshold_names : tuple of str
        ``"item|tk"``.
    threshold_item : np.ndarray
        Item index of each threshold.
    thresholds : np.ndarray
    correlation : pd.DataFrame
        Polychoric correlation matrix.
    pair_i, pair_j : np.ndarray
        Item indices (i > j) of each polychoric in the statistics vector.
    nacov : np.ndarray or None
        N times the asymptotic covariance matrix of (thresholds, polychorics)
        (lavaan ``lavInspect(fit, "gamma")``).
    """

    items: tuple
    nobs: int
    threshold_names: tuple
    threshold_item: np.ndarray
    thresholds: np.ndarray
    correlation: pd.DataFrame
    pair_i: np.ndarray
    pair_j: np.ndarray
    nacov: np.ndarray | None

    @property
    def vector(self) -> np.ndarray:
        """(thresholds, polychorics) in statistic order."""
        r = self.correlation.to_numpy()
        return np.concatenate([self.thresholds, r[self.pair_i, self.pair_j]])


def ordinal_statistics(data: pd.DataFrame, *, nacov: bool = True,
                       missing: str = "listwise") -> OrdinalStatistics:
    """Thresholds, polychorics and (optionally) their NACOV, as lavaan's ``muthen1984``.

    Parameters
    ----------
    data : pd.DataFrame
        The ordinal items (complete rows unless ``missing="pairwise"``).
    nacov : bool
        Also compute the asymptotic covariance matrix (Gamma).
    missing : {"listwise", "pairwise"}
        "pairwise" (lavaan ``missing = "pairwise"``): thresholds from each item's answers,
        each polychoric from the rows answering both items, a missing answer scores 0
        in the casewise scores; N is the number of rows.

    Returns
    -------
    OrdinalStatistics

    Notes
    -----
    With s_c the casewise scores (threshold scores of the univariate likelihoods, then
    correlation scores of the bivariate ones), A11 the within-item blocks of sum s s',
    A22 = diag(sum s_rho^2) and A21[pair, tau of its items] = sum s_rho ds_log P_kl/dtau,
    B^-1 = [[A11^-1, 0], [-A22^-1 A21 A11^-1, A22^-1]] and NACOV = N B^-1 (sum s s') B^-T.
    """
    if missing == "listwise" and data.isna().any().any():
        raise InputError("Ordinal statistics need complete rows under missing='listwise'; "
                         "remove missing values first or use missing='pairwise'.")
    names = [str(c) for c in data.columns]
    codes, levels = _codes(data)
    ncat = np.array([len(v) for v in levels])
    tab = _threshold_table(codes, ncat)
    i, j, rho, cells = _fit_rho(codes, tab, ncat, names)
    p, n = len(names), codes.shape[0]
    r = np.eye(p)
    r[i, j] = r[j, i] = rho
    th_item = np.concatenate([np.full(ncat[v] - 1, v) for v in range(p)])
    th_k = np.concatenate([np.arange(1, ncat[v]) for v in range(p)])
    th = tab[th_item, th_k]
    th_names = tuple(f"{names[v]}|t{k}" for v, k in zip(th_item, th_k))
    gamma = _nacov(codes, tab, ncat, th_item, th_k, i, j, rho, cells) if nacov else None
    return OrdinalStatistics(tuple(names), n, th_names, th_item, th, pd.DataFrame(r, names, names),
                             i, j, gamma)


def _threshold_scores(codes, tab, th_item, th_k):
    """(n, nth) casewise d log P(y_c) / d tau_k (univariate): phi(tau_k) / P(y_c) when
    y_c is the category below tau_k, minus that when it is the category above."""
    sc = np.zeros((codes.shape[0], len(th_item)))
    safe = np.maximum(codes, 0)  # missing answers (-1) score 0 below
    for t, (v, k) in enumerate(zip(th_item, th_k)):
        pv = special.ndtr(tab[v, safe[:, v] + 1]) - special.ndtr(tab[v, safe[:, v]])
        g = _phi(tab[v, k]) / pv
        sc[:, t] = np.where(codes[:, v] == k - 1, g, 0.0) - np.where(codes[:, v] == k, g, 0.0)
    return sc


def _nacov(codes, tab, ncat, th_item, th_k, i, j, rho, cells):
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
    ga = _phi(a)[:, :, None] * (special.ndtr((b[:, None, 1:] - r * a[:, :, None]) / s)
                                - special.ndtr((b[:, None, :-1] - r * a[:, :, None]) / s))  # (npair, K+1, K)
    gb = _phi(b)[:, :, None] * (special.ndtr((a[:, None, 1:] - r * b[:, :, None]) / s)
                                - special.ndtr((a[:, None, :-1] - r * b[:, :, None]) / s))  # (npair, K+1, K)
    th_start = np.concatenate([[0], np.cumsum(ncat - 1)])
    # A21 = sum over cases of s_rho * dlogP/dtau, summed by cell: with
    # Q = n_kl (dP_kl/drho) / P_kl^2, threshold m of item i: sum_l ga[m, l] (Q[m-1, l] - Q[m, l])
    q = cells.counts * cells.dprob / cells.prob ** 2
    a21_i = (ga[:, 1:kmax, :] * (q[:, :-1, :] - q[:, 1:, :])).sum(2)  # (npair, K-1)
    a21_j = (gb[:, 1:kmax, :] * (q[:, :, :-1] - q[:, :, 1:]).transpose(0, 2, 1)).sum(2)
    a21 = np.zeros((len(i), len(th_item)))
    for m in range(1, kmax):
        ok_i, ok_j = m < ncat[i], m < ncat[j]
        a21[pair[ok_i], th_start[i[ok_i]] + m - 1] = a21_i[ok_i, m - 1]
        a21[pair[ok_j], th_start[j[ok_j]] + m - 1] = a21_j[ok_j, m - 1]
    # influence functions sc B^-T: thresholds sc_th A11^-1 (A11 block diagonal by item),
    # correlations (sc_rho - sc_th A11^-1 A21') / A22
    if_th = np.zeros_like(sc_th)
    for v in range(p):
        sl = slice(th_start[v], th_start[v + 1])
        if_th[:, sl] = sc_th[:, sl] @ np.linalg.inv(sc_th[:, sl].T @ sc_th[:, sl])
    a22 = (sc_rho * sc_rho).sum(0)
    if_rho = (sc_rho - if_th @ a21.T) / a22
    infl = np.hstack([if_th, if_rho])
    return n * (infl.T @ infl)
