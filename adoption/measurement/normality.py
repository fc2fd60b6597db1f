"""Normality: univariate skewness/kurtosis per item and Mardia's multivariate tests.

Pure functions. A singular covariance matrix (an item that is a copy or a linear
combination of others, an item with no variance) makes Mardia's statistics undefined:
the result is NaN with a warning, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.linalg import solve_triangular

from adoption.measurement.items import kurtosis, skewness
from adoption.parallel import blas_one_thread

__all__ = ["MardiaResult", "mardia", "mardia_moments", "univariate_normality"]


@dataclass(frozen=True)
class MardiaResult:
    """Mardia's multivariate skewness and kurtosis (names as ``psych::mardia``).

    Attributes
    ----------
    n, p : int
        Complete cases used and number of variables.
    b1p, b2p : float
        Multivariate skewness and kurtosis.
    skew : float
        :math:`n b_{1p}/6`, chi-square with :math:`p(p+1)(p+2)/6` df.
    p_skew : float
        Its upper-tail p-value.
    small_skew, p_small : float
        Small-sample corrected skewness statistic and p-value.
    kurtosis : float
        :math:`(b_{2p} - p(p+2))/\\sqrt{8p(p+2)/n}`, standard normal.
    p_kurt : float
        Its two-sided p-value.
    warnings : tuple of str
    """

    n: int
    p: int
    b1p: float
    b2p: float
    skew: float
    p_skew: float
    small_skew: float
    p_small: float
    kurtosis: float
    p_kurt: float
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready; NaN stays float NaN)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def mardia(data: pd.DataFrame | np.ndarray) -> MardiaResult:
    """Mardia's (1970) tests of multivariate skewness and kurtosis, as ``psych::mardia``.

    Parameters
    ----------
    data : DataFrame or (n, p) array
        Rows with any NaN are dropped (``psych::mardia(na.rm = TRUE)``).

    Returns
    -------
    MardiaResult

    Notes
    -----
    With centred data :math:`X`, :math:`S` the covariance with n - 1 (as ``psych``) and
    :math:`D = X S^{-1} X'`:
    :math:`b_{1p} = \\sum_{ij} D_{ij}^3 / n^2`, :math:`b_{2p} = \\sum_i D_{ii}^2 / n`,
    skew :math:`= n b_{1p}/6 \\sim \\chi^2_{p(p+1)(p+2)/6}`, small-sample
    :math:`= n k b_{1p}/6` with :math:`k = (p+1)(n+1)(n+3)/(n((n+1)(p+1)-6))`,
    kurtosis :math:`= (b_{2p}-p(p+2))\\sqrt{n/(8p(p+2))} \\sim N(0,1)` (two-sided p).
    Agrees with ``psych::mardia(x, plot = FALSE)`` (psych 2.2.9). A singular :math:`S`
    gives NaN with a warning (psych would stop with an error). The sums are computed
    without :math:`D` (:func:`mardia_moments`): exact, in :math:`O(np^3)` time and
    memory linear in n, so a million rows take seconds, not an n x n matrix.
    """
    x = np.asarray(data, dtype=float)
    x = x[~np.isnan(x).any(axis=1)]
    n, p = x.shape
    nan = float("nan")

    def empty(msg: str) -> MardiaResult:
        return MardiaResult(n, p, nan, nan, nan, nan, nan, nan, nan, nan, (msg,))

    if p < 1 or n <= p + 1:
        return empty(f"Mardia's tests need more complete cases ({n}) than variables ({p}) plus one.")
    mean = x.mean(axis=0)
    s = np.zeros((p, p))
    for b in _blocks(n, p):
        xc = x[b] - mean
        s += xc.T @ xc
    s /= n - 1
    if not _well_conditioned(s):
        return empty("The items' covariance matrix is singular (an item has no variance or is a "
                     "linear combination of others), so Mardia's tests are not defined.")
    b1p, b2p = mardia_moments(x, mean, s)
    df = p * (p + 1) * (p + 2) / 6
    k = (p + 1) * (n + 1) * (n + 3) / (n * ((n + 1) * (p + 1) - 6))
    m_skew = n * b1p / 6
    small = n * k * b1p / 6
    m_kurt = (b2p - p * (p + 2)) * np.sqrt(n / (8 * p * (p + 2)))
    return MardiaResult(
        n=n, p=p, b1p=b1p, b2p=b2p,
        skew=float(m_skew), p_skew=float(stats.chi2.sf(m_skew, df)),
        small_skew=float(small), p_small=float(stats.chi2.sf(small, df)),
        kurtosis=float(m_kurt), p_kurt=float(2 * stats.norm.sf(abs(m_kurt))),
    )


def mardia_moments(x: np.ndarray, mean: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    r"""Mardia's :math:`b_{1p}` and :math:`b_{2p}` without the n x n matrix D.

    Parameters
    ----------
    x : (n, p) array
        Complete rows.
    mean, s : (p,) and (p, p) arrays
        Their mean and (positive definite) covariance matrix.

    Returns
    -------
    b1p, b2p : float

    Notes
    -----
    With :math:`S = LL'` and whitened rows :math:`y_i = L^{-1}(x_i - \bar x)`,
    :math:`D_{ij} = y_i' y_j`, so :math:`D_{ii} = \lVert y_i \rVert^2` and

    .. math:: \sum_{ij} D_{ij}^3 = \sum_{ij} \sum_{abc} y_{ia} y_{ib} y_{ic} y_{ja} y_{jb} y_{jc}
              = \sum_{abc} T_{abc}^2, \quad T_{abc} = \sum_i y_{ia} y_{ib} y_{ic}.

    :math:`T` (the third-moment tensor) is symmetric: its entries with :math:`a \le b`
    are summed over blocks of rows, those with :math:`a < b` counted twice. Time
    :math:`O(n p^3)` instead of :math:`O(n^2 p)`, memory :math:`O(p^3)` plus one block,
    the same value to rounding.
    """
    n, p = x.shape
    chol = np.linalg.cholesky(s)
    # T_abc for a <= b only (T is symmetric): the pair products y_a y_b, then y' (pairs)
    first = np.concatenate([np.full(p - a, a) for a in range(p)])
    weight = np.where(first == np.concatenate([np.arange(a, p) for a in range(p)]), 1.0, 2.0)
    t = np.zeros((len(first), p))
    sum_d2 = 0.0
    with blas_one_thread():  # thin products: 10x faster without BLAS threads on a busy machine
        for b in _blocks(n, len(first)):
            yt = solve_triangular(chol, (x[b] - mean).T, lower=True)  # p x rows
            pairs = np.empty((len(first), yt.shape[1]))
            at = 0
            for a in range(p):
                np.multiply(yt[a:], yt[a], out=pairs[at:at + p - a])
                at += p - a
            t += pairs @ yt.T
            sum_d2 += float(np.sum(np.einsum("ij,ij->j", yt, yt) ** 2))
    return float(np.sum(weight[:, None] * t * t) / n**2), sum_d2 / n


def _blocks(n: int, width: int, cells: int = 2_000_000):
    """Row slices of about ``cells`` / ``width`` rows (16 MB of ``width``-wide products)."""
    step = max(1, cells // max(width, 1))
    return (slice(a, min(a + step, n)) for a in range(0, n, step))


def univariate_normality(items: pd.DataFrame, type: int = 3) -> pd.DataFrame:
    """Skewness and excess kurtosis of each item with rule-of-thumb flags.

    Parameters
    ----------
    items : pandas.DataFrame
        One column per item; NaN ignored per item.
    type : {1, 2, 3}
        Definition of skewness and kurtosis (see :func:`adoption.measurement.items.skewness`);
        3 as ``psych::describe``.

    Returns
    -------
    pandas.DataFrame
        Columns ``item``, ``n``, ``skew``, ``kurtosis``, ``flag_skew`` (:math:`|skew| > 2`),
        ``flag_kurtosis`` (:math:`|kurtosis| > 7`), the thresholds of West, Finch & Curran
        (1995) for when ML estimates become doubtful.
    """
    rows = []
    for col in items.columns:
        v = items[col].to_numpy(dtype=float)
        sk, ku = skewness(v, type), kurtosis(v, type)
        rows.append({"item": col, "n": int(np.sum(~np.isnan(v))), "skew": sk, "kurtosis": ku,
                     "flag_skew": bool(abs(sk) > 2), "flag_kurtosis": bool(abs(ku) > 7)})
    return pd.DataFrame(rows, columns=["item", "n", "skew", "kurtosis", "flag_skew", "flag_kurtosis"])


def _well_conditioned(m: np.ndarray, tol: float = 1e-10) -> bool:
    """True when the symmetric matrix ``m`` is finite and positive definite (relative tolerance)."""
    if not np.all(np.isfinite(m)):
        return False
    ev = np.linalg.eigvalsh(m)
    return bool(ev[0] > tol * max(ev[-1], 0.0) and ev[-1] > 0)
