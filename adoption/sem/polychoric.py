"""Thresholds, polychoric correlations and their asymptotic covariance (NACOV).

The sample statistics of ordinal (Likert-as-ordered) estimation, computed as lavaan 0.6
does for ordered indicators without covariates (``lavCor(..., ordered=)``, and the
first stage of ``estimator = "WLSMV"``):

* :func:`thresholds` -- per item, tau_k = Phi^-1(proportion of answers <= category k).
* :func:`polychoric` -- two-step polychorics: each correlation maximises the bivariate
  multinomial likelihood given the thresholds (Olsson, 1979), all pairs at once
  (Newton-Raphson vectorised over pairs, bivariate normal rectangle probabilities by
  :func:`bvn_cdf`).
* :func:`ordinal_statistics` -- both, plus (lavaan's ``ordered =`` a subset) the means,
  variances, polyserial and Pearson correlations of continuous items
  (:mod:`adoption.sem.polyserial`), and the asymptotic covariance matrix of all of them
  by Muthen's (1984) two-step sandwich, as lavaan's ``muthen1984``
  (:mod:`adoption.sem.ordinal_nacov`).

Statistic order everywhere (lavaan's ``wls.obs``): the thresholds item by item
(``x1|t1, x1|t2, ..., x2|t1``; a continuous item contributes minus its mean in its
place), the variances of the continuous items, then the correlations -- covariances
where an item is continuous -- of the pairs (i > j) column by column of the lower
triangle (lavaan's ``vech(R, diagonal = FALSE)``).

Bad input (items with one observed category or more than :data:`MAX_CATEGORIES`
categories, pairs whose two-way table drives the polychoric to +-1 or whose polyserial
reaches its bound, a continuous item without variance) raises
:class:`adoption.errors.InputError` naming all such items.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special

from adoption.errors import InputError
from adoption.sem.ordinal_nacov import nacov as sample_nacov
from adoption.sem.polyserial import OPEN_END, pearson_pairwise, polyserial_pairs

__all__ = ["MAX_CATEGORIES", "OrdinalStatistics", "bvn_cdf", "thresholds", "polychoric",
           "ordinal_statistics"]

MAX_CATEGORIES = 10
_BIG = 10.0  # stands for +-infinity in thresholds: Phi(10) = 1 - 7.6e-24
_GL = {nq: np.polynomial.legendre.leggauss(nq) for nq in (6, 12, 20, 200)}
_GL_X, _GL_W = _GL[20]


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


def _named(parts: list[str], limit: int = 6) -> str:
    """'a', 'b', ... and k more: a list of items that keeps the message to a line or two."""
    more = f" and {len(parts) - limit} more" if len(parts) > limit else ""
    return ", ".join(parts[:limit]) + more


def _check_categories(names: list[str], levels: list[np.ndarray]) -> None:
    """Refuse items with fewer than two or more than MAX_CATEGORIES observed categories,
    naming every such item (the first few of many)."""
    one = [(n, repr(getattr(v[0], "item", lambda: v[0])()) if len(v) else "no answers")
           for n, v in zip(names, levels) if len(v) < 2]
    if one:
        which = (f"Ordinal item {one[0][0]!r} has a single observed category ({one[0][1]})"
                 if len(one) == 1 else "Ordinal items " + _named([f"{n!r} ({c})" for n, c in one])
                 + " each have a single observed category")
        raise InputError(f"{which}; a threshold model needs two or more (lavaan stops here too): "
                         "drop the item or treat it as continuous.")
    many = [(n, len(v)) for n, v in zip(names, levels) if len(v) > MAX_CATEGORIES]
    if many:
        which = (f"Ordinal item {many[0][0]!r} has {many[0][1]} categories" if len(many) == 1
                 else "Ordinal items " + _named([f"{n!r} ({k} categories)" for n, k in many])
                 + " have")
        raise InputError(f"{which} (more than {MAX_CATEGORIES}); treat it as continuous (lavaan "
                         "would fit one threshold per category boundary; with some items "
                         "ordinal, leave it out of the ordinal ones).")


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
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.nanvar(y, 0) if len(y) else np.zeros(y.shape[1])
    const = [str(c) for c, v in zip(data.columns, var) if not v > 0]
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
        "pairwise" (lavaan ``missing = "pairwise"``): thresholds, means and variances
        from each item's answers, each correlation from the rows answering both items
        (a continuous pair's by ML with the margins held fixed,
        :func:`adoption.sem.polyserial.pearson_pairwise`), a missing answer scores 0 in
        the casewise scores; N is the number of rows.
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
    or Pearson correlation. The NACOV: :func:`adoption.sem.ordinal_nacov.nacov`.
    """
    if missing == "listwise" and data.isna().any().any():
        raise InputError("Ordinal statistics need complete rows under missing='listwise'; "
                         "remove missing values first or use missing='pairwise'.")
    names = [str(c) for c in data.columns]
    wanted = set(names if ordered is None else map(str, ordered))
    is_ord = np.array([v in wanted for v in names], bool)
    if not is_ord.any():
        raise InputError("None of the items is ordinal; fit continuous items with ML, MLM or MLR.")
    oi, ni = np.flatnonzero(is_ord), np.flatnonzero(~is_ord)
    codes, levels = _codes(data.iloc[:, oi])
    y = _continuous(data.iloc[:, ni])
    ncat = np.array([len(v) for v in levels])
    tab = _threshold_table(codes, ncat)
    bounds = np.where(tab <= -_BIG, -OPEN_END, np.where(tab >= _BIG, OPEN_END, tab))
    p, n = len(names), codes.shape[0]
    r = np.eye(p)
    polyc = ()
    if len(oi) > 1:
        polyc = _fit_rho(codes, tab, ncat, [names[k] for k in oi])
        r[oi[polyc[0]], oi[polyc[1]]] = r[oi[polyc[1]], oi[polyc[0]]] = polyc[2]
    mean, var = np.nanmean(y, 0), np.nanvar(y, 0)  # ML, each item's own answers
    if len(ni):
        nj, nk = np.triu_indices(len(ni), 1)
        r[ni[nk], ni[nj]] = r[ni[nj], ni[nk]] = pearson_pairwise(
            y[:, nk], y[:, nj], mean[nk], mean[nj], var[nk], var[nj])
        u, v, rho = polyserial_pairs(y, mean, var, codes, bounds, ncat, [names[k] for k in ni],
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
    return replace(st, nacov=sample_nacov(st, y, codes, tab, bounds, ncat, polyc))
