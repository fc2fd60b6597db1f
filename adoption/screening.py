"""Careless-response screening: small pure functions and the rules of the spec.

The indices follow Curran (2016), "Methods for the detection of carelessly invalid
responses in survey data", J. Exp. Soc. Psych. 66, and agree with R's ``careless``
package (``longstring``, ``irv``, ``mahad``).
"""

from __future__ import annotations

import datetime as dt
import gc
import re

import numpy as np
import pandas as pd
from scipy import stats

from adoption.load import NA_TOKENS
from adoption.parallel import blas_one_thread
from adoption.spec import Survey
from adoption.vocabulary import (
    REASON_ATTENTION,
    REASON_DUPLICATE_ID,
    REASON_FILTER,
    REASON_IDENTICAL,
    REASON_LOW_VARIABILITY,
    REASON_NO_ANSWER,
    REASON_OUTLIER,
    REASON_STRAIGHT_LINING,
    REASON_TOO_FAST,
    REASON_TOO_MANY_MISSING,
)


def longstring(x: np.ndarray) -> np.ndarray:
    """Longest run of identical consecutive answers in each row.

    Parameters
    ----------
    x : ndarray of shape (n, p)
        Answers in questionnaire order; NaN (missing) breaks a run.

    Returns
    -------
    ndarray of int, shape (n,)
        As ``careless::longstring(x)``; 0 for a row with no answer.

    Examples
    --------
    >>> longstring(np.array([[1, 1, 2, 2, 2], [3, 3, 3, 3, 3]]))
    array([3, 5])
    """
    x = np.asarray(x, dtype=float)
    n, p = x.shape
    best = np.where(np.isnan(x[:, 0]), 0, 1) if p else np.zeros(n, int)
    run = best.copy()
    for j in range(1, p):
        same = (x[:, j] == x[:, j - 1])  # NaN == NaN is False: missing breaks the run
        run = np.where(np.isnan(x[:, j]), 0, np.where(same, run + 1, 1))
        best = np.maximum(best, run)
    return best.astype(int)


def irv(x: np.ndarray, ddof: int = 1) -> np.ndarray:
    """Intra-individual response variability: the SD of each row's answers.

    Uses the sample SD (divisor p - 1) over the answered items, as ``careless::irv``;
    NaN where fewer than two items are answered. ``ddof=0`` gives the divisor p (NaN
    for a row with no answer), which the simulator compares with the default.
    """
    x = np.asarray(x, dtype=float)
    ok = ~np.isnan(x)
    answered = ok.sum(axis=1)
    filled = np.where(ok, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=1) / answered
        ss = (np.where(ok, x - mean[:, None], 0.0) ** 2).sum(axis=1)
        sd = np.sqrt(ss / (answered - ddof))
    return np.where(answered > ddof, sd, np.nan)


def mahalanobis(x: np.ndarray, reference: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Squared Mahalanobis distance of each row and its chi-square p-value.

    The mean and covariance come from the complete rows of ``reference`` (default: ``x``).
    A row with missing answers is measured on the items it answered, with the matching
    sub-vector and sub-matrix, and tested on that many degrees of freedom.

    Returns
    -------
    d2, p : ndarrays of shape (n,)
        ``d2`` as ``careless::mahad(x, flag = FALSE)`` for complete rows; ``p`` =
        ``1 - pchisq(d2, df = answered items)``. NaN where a row has no answer or the
        covariance is singular.
    """
    x = np.asarray(x, dtype=float)
    ref = x if reference is None else np.asarray(reference, dtype=float)
    ref = ref[~np.isnan(ref).any(axis=1)]
    n, p = x.shape
    d2 = np.full(n, np.nan)
    pv = np.full(n, np.nan)
    if len(ref) <= p:
        return d2, pv
    with blas_one_thread():
        mu = ref.mean(axis=0)
        cov = np.cov(ref, rowvar=False)
        obs = ~np.isnan(x)
        answered = obs.sum(axis=1)
        if np.linalg.matrix_rank(cov) == p:
            d2 = _mahalanobis_partitioned(x, obs, mu, np.linalg.inv(cov))
        else:
            d2 = _mahalanobis_by_pattern(x, obs, mu, cov)
    d2[answered == 0] = np.nan
    ok = np.isfinite(d2)
    pv[ok] = stats.chi2.sf(d2[ok], df=answered[ok])
    return d2, pv


#: Rows per block in :func:`_mahalanobis_partitioned` (bounds its memory).
_BLOCK = 65_536


def _mahalanobis_partitioned(x, obs, mu, prec) -> np.ndarray:
    """d_o' (S_oo)^-1 d_o for every row from one inverse P = S^-1 of the full covariance.

    With d zero where missing and w = P d: (S_oo)^-1 = P_oo - P_om (P_mm)^-1 P_mo, so
    d2 = d'w - w_m' (P_mm)^-1 w_m; rows are grouped by their number of missing answers m
    and the m x m systems solved in batches (no loop over missingness patterns, which a
    large file has by the ten thousand).
    """
    n, p = x.shape
    d2 = np.empty(n)
    for start in range(0, n, _BLOCK):
        blk = slice(start, min(n, start + _BLOCK))
        ob = obs[blk]
        d = x[blk] - mu
        d[~ob] = 0.0
        w = d @ prec
        d2[blk] = np.einsum("ij,ij->i", d, w)
        nm = p - ob.sum(axis=1)
        for m in np.unique(nm):
            if m == 0 or m == p:
                continue
            rows = np.flatnonzero(nm == m)
            mis = np.nonzero(~ob[rows])[1].reshape(len(rows), m)
            pmm = prec[mis[:, :, None], mis[:, None, :]]
            wm = np.take_along_axis(w[rows], mis, axis=1)
            sol = np.linalg.solve(pmm, wm[:, :, None])[:, :, 0]
            d2[start + rows] -= np.einsum("ij,ij->i", wm, sol)
    return d2


def _mahalanobis_by_pattern(x, obs, mu, cov) -> np.ndarray:
    """The same distances, one sub-matrix per missingness pattern (for a singular
    covariance, where a pattern's sub-matrix may still be invertible); NaN where it is
    not."""
    n = x.shape[0]
    d2 = np.full(n, np.nan)
    patterns, inverse = np.unique(obs, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(patterns) + 1))
    for k, pat in enumerate(patterns):
        rows = order[bounds[k]:bounds[k + 1]]
        if not pat.any():
            continue
        sub = cov[np.ix_(pat, pat)]
        if np.linalg.matrix_rank(sub) < pat.sum():
            continue
        dev = x[np.ix_(rows, np.flatnonzero(pat))] - mu[pat]
        d2[rows] = np.einsum("ij,jk,ik->i", dev, np.linalg.inv(sub), dev)
    return d2


_DURATION_FORMATS = (
    # (name, pattern); the groups are (hours, minutes, seconds) where present
    ("decimal comma", re.compile(r"^(\d+),(\d+)$")),
    ("minutes:seconds", re.compile(r"^(\d+):([0-5]?\d(?:[.,]\d+)?)$")),
    ("hours:minutes:seconds", re.compile(r"^(\d+):([0-5]?\d):([0-5]?\d(?:[.,]\d+)?)$")),
)


def _duration(v) -> tuple[float, str]:
    """One completion time in seconds and the format it was read in."""
    if isinstance(v, (bool, np.bool_)):
        return np.nan, "unreadable"
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v), "number"
    if isinstance(v, (pd.Timedelta, dt.timedelta)):
        return pd.Timedelta(v).total_seconds(), "duration"
    if isinstance(v, dt.time):
        return v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6, "hours:minutes:seconds"
    t = str(v).strip()
    if t == "" or t.casefold() in NA_TOKENS:
        return np.nan, "blank"
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", t):
        return float(t), "number"
    for name, pattern in _DURATION_FORMATS:
        m = pattern.match(t)
        if m is None:
            continue
        if name == "decimal comma":
            return float(f"{m.group(1)}.{m.group(2)}"), name
        parts = [float(g.replace(",", ".")) for g in m.groups()]
        return sum(x * 60 ** k for k, x in enumerate(reversed(parts))), name
    return np.nan, "unreadable"


def durations_to_seconds(values: pd.Series) -> tuple[pd.Series, dict[str, int]]:
    """Completion times in seconds, from the formats survey tools export.

    Parameters
    ----------
    values : Series
        Numbers (seconds), or text: ``"45.5"``, ``"45,5"`` (decimal comma),
        ``"00:45"`` (minutes:seconds), ``"1:02:03"`` (hours:minutes:seconds, also with
        fractional seconds); Excel time cells and timedeltas are read as durations.

    Returns
    -------
    seconds : Series of float
        NaN where a value is missing or cannot be read.
    formats : dict
        How many non-missing values were read in each format: ``number``, ``decimal
        comma``, ``minutes:seconds``, ``hours:minutes:seconds``, ``duration``, and
        ``unreadable`` for values that are none of these.

    Notes
    -----
    Two parts separated by a colon are read as minutes:seconds, as completion times
    are exported (Qualtrics "Duration", LimeSurvey "interviewtime" as mm:ss).

    Examples
    --------
    >>> s, f = durations_to_seconds(pd.Series(["45,5", "00:45", "1:02:03", "x"]))
    >>> s.tolist()[:3], f["unreadable"]
    ([45.5, 45.0, 3723.0], 1)
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        seconds = values.astype("float64")
        return seconds, {"number": int(seconds.notna().sum())}
    vals = values.dropna()
    parsed = {v: _duration(v) for v in pd.unique(vals.astype(object))}
    seconds = pd.Series(np.nan, index=values.index, name=values.name, dtype="float64")
    seconds[vals.index] = vals.astype(object).map({v: r[0] for v, r in parsed.items()}).astype("float64").to_numpy()
    formats: dict[str, int] = {}
    for v, n in vals.astype(object).value_counts(sort=False).items():
        kind = parsed[v][1]
        if kind != "blank":
            formats[kind] = formats.get(kind, 0) + int(n)
    return seconds, formats


def scores(df: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """Per-row screening statistics on the item answers as given.

    Columns: ``n_missing``, ``missing_share``, ``longstring``, ``irv``. The Mahalanobis
    distance is added by :func:`reasons`, because it is measured against the rows that
    pass the other rules.
    """
    x = df[survey.items].to_numpy(dtype=float)
    n_missing = np.isnan(x).sum(axis=1)
    return pd.DataFrame({
        "n_missing": n_missing,
        "missing_share": n_missing / x.shape[1],
        "longstring": longstring(x),
        "irv": irv(x),
    }, index=df.index)




def filter_mask(df: pd.DataFrame, filters) -> pd.Series:
    """True for the rows that pass every filter (:class:`adoption.spec.Filter`).

    A missing value fails a filter. Values are compared as given (``equals: 1`` keeps a
    numeric 1; a text column needs ``equals: "yes"``); ``min``/``max`` compare numbers
    (text that is not a number fails). Nothing is evaluated as an expression.
    """
    keep = pd.Series(True, index=df.index)
    for f in filters:
        v = df[f.column]
        if f.equals is not None:
            keep &= v.eq(f.equals)
        if f.one_of is not None:
            keep &= v.isin(list(f.one_of))
        if f.min is not None or f.max is not None:
            x = pd.to_numeric(v, errors="coerce")
            keep &= x.ge(-np.inf if f.min is None else f.min) & x.le(np.inf if f.max is None else f.max)
    return keep.fillna(False).astype(bool)


def reasons(df: pd.DataFrame, sc: pd.DataFrame, survey: Survey) -> pd.Series:
    """Every screening rule each row breaks, as a Series of lists of reason names.

    Adds ``mahalanobis_d2`` and ``mahalanobis_p`` columns to ``sc`` (in place: ``sc``
    is this stage's own table).
    """
    rules = survey.screening
    items = survey.items
    flags: list[tuple[str, np.ndarray]] = []  # (reason, row mask) in rule order

    def flag(mask: pd.Series, reason: str) -> None:
        flags.append((reason, mask.fillna(False).to_numpy(dtype=bool)))

    if survey.filters:
        flag(~filter_mask(df, survey.filters), REASON_FILTER)
    flag(sc["n_missing"] == len(items), REASON_NO_ANSWER)
    if rules.duplicate_ids and survey.id and survey.id in df:
        ids = df[survey.id]
        flag(ids.notna() & ids.duplicated(keep="first"), REASON_DUPLICATE_ID)
    if rules.duplicate_rows:
        # Identical answers to every item and every other column except the id and the
        # completion time (a resubmission gets a new id or timestamp).
        skip = {survey.id, rules.time_column}
        cols = [c for c in df.columns if c not in skip]
        answered = sc["n_missing"] < len(items)
        flag(answered & df[cols].duplicated(keep="first"), REASON_IDENTICAL)
    for check in rules.attention_checks:
        if check.column in df:
            v = df[check.column]
            flag(~v.isin(check.correct), REASON_ATTENTION)
    if rules.min_seconds is not None and rules.time_column in df:
        t = pd.to_numeric(df[rules.time_column], errors="coerce")
        flag(t < rules.min_seconds, REASON_TOO_FAST)
    if rules.max_missing_share is not None:
        flag(sc["missing_share"] > rules.max_missing_share, REASON_TOO_MANY_MISSING)
    if rules.longstring_max is not None:
        flag(sc["longstring"] > rules.longstring_max, REASON_STRAIGHT_LINING)
    if rules.irv_min is not None:
        flag(sc["irv"] < rules.irv_min, REASON_LOW_VARIABILITY)

    sc["mahalanobis_d2"] = np.nan
    sc["mahalanobis_p"] = np.nan
    if rules.mahalanobis_p is not None:
        clean_rows = ~np.logical_or.reduce([m for _, m in flags]) if flags else \
            np.ones(len(df), dtype=bool)
        x = df[items].to_numpy(dtype=float)
        d2, p = mahalanobis(x, reference=x[clean_rows])
        sc["mahalanobis_d2"] = d2
        sc["mahalanobis_p"] = p
        flag(pd.Series(p < rules.mahalanobis_p, index=df.index), REASON_OUTLIER)
    # a list per row (most empty): built for the flagged rows only
    gc_was_on = gc.isenabled()
    gc.disable()  # a million small lists would trigger full collections of a big heap
    try:
        out: list[list[str]] = [[] for _ in range(len(df))]
    finally:
        if gc_was_on:
            gc.enable()
    if flags:
        names = [r for r, _ in flags]
        m = np.vstack([mk for _, mk in flags])
        hit = np.flatnonzero(m.any(axis=0))
        for i, col in zip(hit, m[:, hit].T):
            out[i] = [names[k] for k in np.flatnonzero(col)]
    return pd.Series(out, index=df.index, dtype=object)
