"""Which screening rules each simulated row breaks, with the spec's thresholds and the
statistics of the screening stage (:mod:`adoption.screening`).

The simulator redraws rows until each breaks exactly its own rule; it measures under the
stricter reading where two could differ (longstring skipping missing answers, see
:func:`longstring_skipping_missing`; the caller compares the response variability with
divisor k and k - 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adoption import screening
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

__all__ = ["longstring_skipping_missing", "rule_trips"]


def longstring_skipping_missing(X: np.ndarray) -> np.ndarray:
    """:func:`adoption.screening.longstring` with missing answers skipped (the stricter
    reading: ``1, NaN, 1`` is a run of 2), so a clean row passes under either reading."""
    X = np.asarray(X, float)
    order = np.argsort(np.isnan(X), axis=1, kind="stable")   # answered first, in order
    return screening.longstring(np.take_along_axis(X, order, axis=1))


def rule_trips(X, attn_ok, seconds, ids, other, survey: Survey, *, ddof_irv: int = 1) -> list[set[str]]:
    """The screening reasons each row breaks, with the spec's thresholds and the
    statistics of :mod:`adoption.screening` (``other`` holds the non-item columns
    compared for identical rows). The Mahalanobis distance uses the mean and covariance
    of the complete rows that break no other rule."""
    sc = survey.screening
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
        flags.append((REASON_TOO_MANY_MISSING,
                      np.isnan(X).mean(axis=1) > sc.max_missing_share))
    if sc.longstring_max is not None:
        flags.append((REASON_STRAIGHT_LINING,
                      longstring_skipping_missing(X) > sc.longstring_max))
    if sc.irv_min is not None:
        with np.errstate(invalid="ignore"):
            flags.append((REASON_LOW_VARIABILITY,
                          screening.irv(X, ddof=ddof_irv) < sc.irv_min))
    out: list[set[str]] = [set() for _ in range(len(X))]
    for reason, mask in flags:
        for i in np.flatnonzero(mask):
            out[i].add(reason)
    if sc.mahalanobis_p is not None:
        reference = np.array([not t for t in out])
        _, p = screening.mahalanobis(X, reference=X[reference])
        for i in np.flatnonzero(p < sc.mahalanobis_p):
            out[i].add(REASON_OUTLIER)
    return out
