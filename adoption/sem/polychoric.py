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

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special, stats

from adoption.errors import InputError
from adoption.sem.polyserial import (OPEN_END, POLYSERIAL_BOUND, normal_scores, pearson_scores,
                                     polyserial, polyserial_scores)

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
    the values. Every item with one observed category or more than
    :data:`MAX_CATEGORIES` is named in one message."""
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
        cols.append(codes)
        levels.append(vals)
    _check_categories(list(map(str, data.columns)), levels)
    return np.column_stack(cols), levels


def _check_categories(names: list[str], levels: list[np.ndarray]) -> None:
    """Refuse items with fewer than two or more than MAX_CATEGORIES observed categories,
    naming every such item."""
    one = [(n, f"{v[0]!r}" if len(v) else "no answers") for n, v in zip(names, levels) if len(v) < 2]
    if one:
        which = (f"Ordinal item {one[0][0]!r} has a single observed category ({one[0][1]})"
                 if len(one) == 1 else "Ordinal items " + ", ".join(f"{n!r} ({c})" for n, c in one)
                 + " each have a single observed category")
        raise InputError(f"{which}; a threshold model needs two or more (lavaan stops here too): "
                         "drop the item or treat it as continuous.")
    many = [(n, len(v)) for n, v in zip(names, levels) if len(v) > MAX_CATEGORIES]
    if many:
        which = (f"Ordinal item {many[0][0]!r} has {many[0][1]} categories" if len(many) == 1
                 else "Ordinal items " + ", ".join(f"{n!r} ({k} categories)" for n, k in many)
                 + " have")
        raise InputError(f"{which} (more than {MAX_CATEGORIES}); treat it as continuous (lavaan "
                         "would fit one threshold per category boundary).")


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


def polychoric(data: pd.DataFrame, *, ordered=None) -> pd.DataFrame:
    """Two-step correlation matrix of ordinal (and continuous) items, as ``lavCor(ordered=)``.

    Parameters
    ----------
    data : pd.DataFrame
        Complete rows of the items.
    ordered : list of str, optional
        The ordinal items (default: all). Pairs of ordinal items get polychoric
        correlations, an ordinal and a continuous item a polyserial one, two continuous
        items Pearson's r.

    Returns
    -------
    pd.DataFrame
        p x p correlation matrix, index and columns the item names.
    """
    return ordinal_statistics(data, nacov=False, ordered=ordered).correlation


@dataclass(frozen=True)
class OrdinalStatistics:
    """Sample statistics of ordinal (and continuous) items, in lavaan's order.

    Attributes
    ----------
    items : tuple of str
    nobs : int
    threshold_names : tuple of str
        ``"item|tk"`` of the ordinal items.
    threshold_item : np.ndarray
        Item index (in ``items``) of each threshold.
    thresholds : np.ndarray
    correlation : pd.DataFrame
        Polychoric / polyserial / Pearson correlation matrix.
    pair_i, pair_j : np.ndarray
        Item indices (i > j) of each correlation in the statistics vector.
    nacov : np.ndarray or None
        N times the asymptotic covariance matrix of :attr:`vector` (lavaan
        ``lavInspect(fit, "gamma")``).
    numeric : tuple of str
        The continuous items (none when every item is ordinal).
    means, variances : np.ndarray or None
        ML means and variances (divisor N) of the continuous items.
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
    numeric: tuple = ()
    means: np.ndarray | None = None
    variances: np.ndarray | None = None

    @property
    def is_numeric(self) -> np.ndarray:
        """Whether each item is continuous."""
        return np.array([v in self.numeric for v in self.items], bool)

    @property
    def sd(self) -> np.ndarray:
        """SD of each item's scale: 1 for the latent response of an ordinal item."""
        sd = np.ones(len(self.items))
        if self.numeric:
            sd[self.is_numeric] = np.sqrt(self.variances)
        return sd

    @property
    def univariate_item(self) -> np.ndarray:
        """Item index of each univariate statistic: an ordinal item's thresholds, or the
        (negated) mean of a continuous item, item by item (lavaan's ``th.idx`` order)."""
        num = self.is_numeric
        return np.concatenate([[v] if num[v] else self.threshold_item[self.threshold_item == v]
                               for v in range(len(self.items))]).astype(int)

    @property
    def univariate_is_mean(self) -> np.ndarray:
        """Whether each univariate statistic is a (negated) mean."""
        return self.is_numeric[self.univariate_item]

    @property
    def n_univariate(self) -> int:
        """Number of statistics before the correlations: thresholds, means, variances."""
        return len(self.thresholds) + 2 * len(self.numeric)

    @property
    def covariance(self) -> np.ndarray:
        """The correlation matrix with continuous items on their own scale (lavaan's
        ``sampstat`` cov)."""
        sd = self.sd
        return self.correlation.to_numpy() * np.outer(sd, sd)

    @property
    def vector(self) -> np.ndarray:
        """lavaan's ``wls.obs``: thresholds and minus the means item by item, the
        variances of the continuous items, then the covariances (i > j)."""
        is_mean = self.univariate_is_mean
        uni = np.empty(len(is_mean))
        uni[~is_mean] = self.thresholds
        var = np.zeros(0)
        if self.numeric:
            uni[is_mean] = -np.asarray(self.means)
            var = np.asarray(self.variances)
        return np.concatenate([uni, var, self.covariance[self.pair_i, self.pair_j]])


def _continuous(data: pd.DataFrame) -> np.ndarray:
    """The continuous items as floats; refuses text and constant columns, naming them."""
    bad = [str(c) for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
    if bad:
        raise InputError(f"Continuous item(s) {', '.join(map(repr, bad))} are not numeric; recode "
                         "them as numbers or declare them ordinal.")
    y = data.to_numpy(float)
    const = [str(c) for c, v in zip(data.columns, y.var(0)) if not v > 0]
    if const:
        raise InputError(f"Continuous item(s) {', '.join(map(repr, const))} have no variance; "
                         "drop them.")
    return y


def ordinal_statistics(data: pd.DataFrame, *, nacov: bool = True,
                       missing: str = "listwise", ordered=None) -> OrdinalStatistics:
    """Thresholds, correlations and (optionally) their NACOV, as lavaan's ``muthen1984``.

    Parameters
    ----------
    data : pd.DataFrame
        The items (complete rows unless ``missing="pairwise"``).
    nacov : bool
        Also compute the asymptotic covariance matrix (Gamma).
    missing : {"listwise", "pairwise"}
        "pairwise" (lavaan ``missing = "pairwise"``, ordinal items only): thresholds from
        each item's answers, each polychoric from the rows answering both items, a
        missing answer scores 0 in the casewise scores; N is the number of rows.
    ordered : list of str, optional
        The ordinal items (default: all columns); the others are continuous (lavaan's
        ``ordered =`` a subset).

    Returns
    -------
    OrdinalStatistics

    Notes
    -----
    Step 1, per item: thresholds (ordinal) or ML mean and variance (continuous). Step 2,
    per pair given step 1: polychoric, polyserial (:func:`adoption.sem.polyserial.polyserial`)
    or Pearson correlation. With s_c the casewise scores (step-1 parameters, then the
    correlations), A11 the within-item blocks of sum s s', A22 = diag(sum s_rho^2) and
    A21 = sum s_rho s_1' (bivariate scores in the step-1 parameters),
    B^-1 = [[A11^-1, 0], [-A22^-1 A21 A11^-1, A22^-1]] and
    NACOV = N H B^-1 (sum s s') B^-T H', where H takes a correlation to the covariance
    r sd_i sd_j of the statistics vector and the means to minus the means (lavaan).
    """
    if missing == "listwise" and data.isna().any().any():
        raise InputError("Ordinal statistics need complete rows under missing='listwise'; "
                         "remove missing values first or use missing='pairwise'.")
    names = [str(c) for c in data.columns]
    wanted = set(names if ordered is None else map(str, ordered))
    is_ord = np.array([v in wanted for v in names], bool)
    if not is_ord.any():
        raise InputError("None of the items is ordinal; fit continuous items with ML, MLM or MLR.")
    if missing == "pairwise" and not is_ord.all():
        raise InputError("missing='pairwise' is supported for ordinal items only; with "
                         "continuous items use missing='listwise'.")
    oi, ni = np.flatnonzero(is_ord), np.flatnonzero(~is_ord)
    codes, levels = _codes(data.iloc[:, oi])
    y = _continuous(data.iloc[:, ni])
    ncat = np.array([len(v) for v in levels])
    tab = _threshold_table(codes, ncat)
    p, n = len(names), codes.shape[0]
    r = np.eye(p)
    polyc = ()
    if len(oi) > 1:
        polyc = _fit_rho(codes, tab, ncat, [names[k] for k in oi])
        r[oi[polyc[0]], oi[polyc[1]]] = r[oi[polyc[1]], oi[polyc[0]]] = polyc[2]
    mean, var = y.mean(0), y.var(0)
    if len(ni):
        r[np.ix_(ni, ni)] = np.corrcoef(y, rowvar=False) if len(ni) > 1 else 1.0
        u, v, rho = _polyserial_pairs(y, mean, var, codes, tab, ncat, [names[k] for k in ni],
                                      [names[k] for k in oi])
        r[ni[u], oi[v]] = r[oi[v], ni[u]] = rho
    j, i = np.triu_indices(p, 1)  # i > j, column by column of the lower triangle
    th_sub = np.concatenate([np.full(ncat[v] - 1, v) for v in range(len(oi))])
    th_k = np.concatenate([np.arange(1, ncat[v]) for v in range(len(oi))])
    th_names = tuple(f"{names[oi[v]]}|t{k}" for v, k in zip(th_sub, th_k))
    st = OrdinalStatistics(tuple(names), n, th_names, oi[th_sub], tab[th_sub, th_k],
                           pd.DataFrame(r, names, names), i, j, None,
                           tuple(names[k] for k in ni), mean if len(ni) else None,
                           var if len(ni) else None)
    if not nacov:
        return st
    return replace(st, nacov=_nacov(st, y, (codes, tab, ncat, th_sub, th_k), polyc))


def _polyserial_pairs(y, mean, var, codes, tab, ncat, num_names, ord_names):
    """Polyserial correlations of every (continuous u, ordinal v) pair: (u, v, rho) with
    u, v indices among the continuous and the ordinal items."""
    u = np.repeat(np.arange(len(num_names)), len(ord_names))
    v = np.tile(np.arange(len(ord_names)), len(num_names))
    z, upper, lower = _polyserial_data(y, mean, var, codes, tab, u, v)
    # lavaan's start: r(y1, y2) sd(y2) / sum phi(tau), halved above 0.9
    c = codes[:, v].astype(float)
    cor = ((y[:, u] - mean[u]) * (c - c.mean(0))).mean(0) / np.sqrt(var[u] * c.var(0))
    th_dens = np.array([_phi(tab[k, 1:ncat[k]]).sum() for k in v])
    start = cor * np.sqrt(c.var(0)) / th_dens
    start = np.where(np.abs(start) > 0.9, start / 2, start)
    rho, ok = polyserial(z, upper, lower, np.sqrt(var[u]), start)
    bad = (np.abs(rho) >= POLYSERIAL_BOUND) | ~ok
    if bad.any():
        which = ", ".join(f"{num_names[a]}-{ord_names[b]}" for a, b in zip(u[bad], v[bad]))
        raise InputError(f"The polyserial correlation of {which} is at +-{POLYSERIAL_BOUND} or did "
                         "not converge: the ordinal item's categories separate the continuous "
                         "one almost perfectly; merge sparse categories or drop one of the items.")
    return u, v, rho


def _polyserial_data(y, mean, var, codes, tab, u, v):
    """Standardised continuous values and each case's bounding thresholds, per pair."""
    z = (y[:, u] - mean[u]) / np.sqrt(var[u])
    open_tab = np.where(tab <= -_BIG, -OPEN_END, np.where(tab >= _BIG, OPEN_END, tab))
    c = codes[:, v]
    return z, open_tab[v, c + 1], open_tab[v, c]


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
    return sc_th, sc_rho, a21


def _nacov(st: OrdinalStatistics, y, parts, polyc) -> np.ndarray:
    """N H B^-1 (sum s s') B^-T H' of the statistics (see :func:`ordinal_statistics`)."""
    codes, tab, ncat, th_sub, th_k = parts
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
        sc1[:, mean_col[ni]], sc1[:, var_col[ni]] = normal_scores(y, st.means, st.variances)
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
    _mixed_pair_scores(st, y, codes, tab, ncat, pair_of, r, sc_rho, a21,
                       th_col, mean_col, var_col)
    return _sandwich(sc1, sc_rho, a21, st, var_col, mean_col, r)


def _mixed_pair_scores(st, y, codes, tab, ncat, pair_of, r, sc_rho, a21, th_col,
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
        z, up, lo = _polyserial_data(y, st.means, st.variances, codes, tab, np.array([a]),
                                     np.array([b]))
        s = polyserial_scores(z, up, lo, r[u, v], np.sqrt(st.variances[a]))
        rho = s["rho"][:, 0]
        sc_rho[:, q] = rho
        a21[q, mean_col[u]] = rho @ s["mean"][:, 0]
        a21[q, var_col[u]] = rho @ s["var"][:, 0]
        k = ncat[b]
        upper = np.bincount(codes[:, b], weights=rho * s["upper"][:, 0], minlength=k)
        lower = np.bincount(codes[:, b], weights=rho * s["lower"][:, 0], minlength=k)
        a21[q, th_col[th_start[b]:th_start[b + 1]]] = upper[:-1] + lower[1:]
    for u, v in ((u, v) for u in ni for v in ni if u > v):
        q = pair_of[(u, v)]
        cu, cv = col_of[u], col_of[v]
        s = pearson_scores(y[:, cu], y[:, cv], st.means[cu], st.means[cv], st.variances[cu],
                           st.variances[cv], r[u, v])
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
