"""Test oracles: independent re-implementations that the library's results are checked
against (they must not be imported by the library).

Screening statistics, written directly from their definitions (Curran, 2016) and not
from :mod:`adoption.screening`: the simulator's truth record
(:attr:`adoption.simulate.Truth.trips`) is recomputed with them from the exported file.

* :func:`longstring` - longest run of equal answers, missing answers skipped;
* :func:`irv` - SD of the answered items, divisor k - ddof;
* :func:`mahalanobis_outliers` - chi-square outliers against the rows that break no other
  rule, each row on the items it answered (pseudo-inverse per missingness pattern);
* :func:`trips` - every rule of the spec's screening each row breaks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from adoption.spec import Survey
from adoption.vocabulary import (
    REASON_ATTENTION,
    REASON_DUPLICATE_ID,
    REASON_IDENTICAL,
    REASON_LOW_VARIABILITY,
    REASON_OUTLIER,
    REASON_STRAIGHT_LINING,
    REASON_TOO_FAST,
    REASON_TOO_MANY_MISSING,
)


def longstring(X: np.ndarray) -> np.ndarray:
    """Longest run of equal answers per row, missing answers skipped (the stricter
    reading: ``1, NaN, 1`` is a run of 2)."""
    X = np.asarray(X, float)
    order = np.argsort(np.isnan(X), axis=1, kind="stable")   # answered first, in order
    x = np.take_along_axis(X, order, axis=1)
    n, p = x.shape
    best = np.where(np.isnan(x[:, 0]), 0, 1) if p else np.zeros(n, int)
    run = best.copy()
    for j in range(1, p):
        run = np.where(np.isnan(x[:, j]), 0, np.where(x[:, j] == x[:, j - 1], run + 1, 1))
        best = np.maximum(best, run)
    return best


def irv(X: np.ndarray, ddof: int) -> np.ndarray:
    """SD of each row's answered items (NaN with too few answers)."""
    X = np.asarray(X, float)
    k = (~np.isnan(X)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.nansum(X, axis=1) / k
        ss = np.nansum((X - m[:, None]) ** 2, axis=1)
        return np.where(k > ddof, np.sqrt(ss / (k - ddof)), np.nan)


def mahalanobis_outliers(X: np.ndarray, reference: np.ndarray, p_cut: float) -> np.ndarray:
    """Boolean per row: squared Mahalanobis distance with chi-square p < p_cut.

    Mean and covariance come from the complete rows among ``reference`` (a boolean mask:
    the rows that break no other rule); a row with missing answers is measured on the
    items it answered (sub-vector, sub-matrix, df = answered items).
    """
    ref = X[reference & ~np.isnan(X).any(axis=1)]
    out = np.zeros(len(X), bool)
    if len(ref) <= X.shape[1]:
        return out
    mu = ref.mean(axis=0)
    cov = np.cov(ref, rowvar=False)
    by_pattern: dict[bytes, list[int]] = {}
    obs = ~np.isnan(X)
    for i in range(len(X)):
        by_pattern.setdefault(obs[i].tobytes(), []).append(i)
    for rows in by_pattern.values():
        pat = obs[rows[0]]
        if not pat.any():
            continue
        d = X[np.ix_(rows, np.flatnonzero(pat))] - mu[pat]
        d2 = np.einsum("ij,jk,ik->i", d, np.linalg.pinv(cov[np.ix_(pat, pat)]), d)
        out[rows] = stats.chi2.sf(d2, int(pat.sum())) < p_cut
    return out


def trips(X, attn_ok, seconds, ids, other, survey: Survey, *, ddof_irv: int = 1) -> list[set[str]]:
    """The screening reasons each row breaks, computed here independently of the library
    (``other`` holds the non-item columns compared for identical rows)."""
    sc = survey.screening
    n = len(X)
    flags: list[tuple[str, np.ndarray]] = []
    if ids is not None and sc.duplicate_ids:
        flags.append((REASON_DUPLICATE_ID, pd.Series(ids).duplicated().to_numpy()))
    if sc.duplicate_rows:
        both = pd.concat([pd.DataFrame(X).fillna(-1e9), other.reset_index(drop=True)], axis=1)
        flags.append((REASON_IDENTICAL, both.duplicated().to_numpy()))
    flags.append((REASON_ATTENTION, ~np.asarray(attn_ok, bool)))
    if sc.min_seconds is not None:
        flags.append((REASON_TOO_FAST, np.asarray(seconds) < sc.min_seconds))
    if sc.max_missing_share is not None:
        flags.append((REASON_TOO_MANY_MISSING, np.isnan(X).mean(axis=1) > sc.max_missing_share))
    if sc.longstring_max is not None:
        flags.append((REASON_STRAIGHT_LINING, longstring(X) > sc.longstring_max))
    if sc.irv_min is not None:
        with np.errstate(invalid="ignore"):
            flags.append((REASON_LOW_VARIABILITY, irv(X, ddof_irv) < sc.irv_min))
    out: list[set[str]] = [set() for _ in range(n)]
    for reason, mask in flags:
        for i in np.flatnonzero(mask):
            out[i].add(reason)
    if sc.mahalanobis_p is not None:
        reference = np.array([not t for t in out])
        for i in np.flatnonzero(mahalanobis_outliers(X, reference, sc.mahalanobis_p)):
            out[i].add(REASON_OUTLIER)
    return out
