"""Starting values of a parameter table, by lavaan's default rule (``start = "default"``).

:func:`start_values` gives one starting value per row of a
:class:`adoption.sem.partable.ParTable`, computed from the sample covariance matrix only
(no iterative step, so it cannot loop): the engine's optimisers start there. The rule is
lavaan 0.6-14's ``lav_start()`` for one group of continuous variables without
``conditional.x``:

* factor loadings 1, then, for each factor whose indicators are all observed, the
  FABIN 3 estimates of its loadings (:func:`fabin3_loadings`; three or fewer indicators:
  :func:`three_indicator_loadings`), 1 (0.7 with the factor's variance fixed at 1) when
  the three covariances have a negative product;
* latent (residual) variances 0.05; observed residual variances half the sample
  variance; covariances 0;
* the variance of an exogenous factor with a single indicator: the indicator's variance
  minus its residual variance (fixed value, else 1), at least 0.05;
* without latent variables, regressions start at their OLS values and a dependent
  variable's residual variance at the OLS residual variance when that lies between 1%
  and 99% of its variance;
* ``start()`` values of the syntax replace these for free rows; fixed rows keep their
  fixed value (fixed-x (co)variances: their sample values).

References
----------
lavaan 0.6-14 source: ``lav_start.R`` (``lav_start``), ``lav_cfa_1fac.R``
(``lav_cfa_1fac_fabin``, ``lav_cfa_1fac_3ind``).
Hägglund, G. (1982). Factor analysis by instrumental variables methods.
*Psychometrika*, 47, 209-222.
"""

from __future__ import annotations

import numpy as np

from adoption.sem.partable import ParTable
from adoption.vocabulary import OP_COVARIANCE, OP_LOADING, OP_REGRESSION

#: lavaan's starting value of a latent (residual) variance.
LATENT_VARIANCE_START = 0.05


def three_indicator_loadings(s: np.ndarray, std_lv: bool = False) -> tuple[np.ndarray, bool]:
    """Closed-form loadings of one factor with one to three indicators.

    Parameters
    ----------
    s : np.ndarray
        k x k sample covariance matrix of the indicators, k in 1..3.
    std_lv : bool
        Scale the loadings to a factor variance of 1 instead of a first loading of 1.

    Returns
    -------
    lambda : np.ndarray
        k loadings (first 1 unless ``std_lv``).
    neg_triad : bool
        The product of the three covariances is negative (the loadings are then not
        usable as starting values).

    Notes
    -----
    lavaan ``lav_cfa_1fac_3ind``: psi = s21 s31 / s32, lambda = (1, s32/s31, s32/s21),
    psi bounded to [0.1 s11, s11] and each loading to +- sqrt(s_ii / (0.1 s11)). One
    indicator: a 3 x 3 matrix of ones; two: the matrix is extended by a third
    variable with covariance s21 and variance max(s11, s22).
    """
    s = np.atleast_2d(np.asarray(s, dtype=float))
    k = s.shape[0]
    if k == 1:
        s = np.ones((3, 3))
    elif k == 2:
        extra = [np.mean(np.diag(s)), s[1, 0]]
        s = np.block([[s, np.array(extra)[:, None]],
                      [np.array(extra)[None, :], np.array([[np.max(np.diag(s))]])]])
    s11, s22, s33 = s[0, 0], s[1, 1], s[2, 2]
    s21, s31, s32 = s[1, 0], s[2, 0], s[2, 1]
    neg_triad = bool(s21 * s31 * s32 < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        psi = s21 * s31 / s32
        lam = np.array([1.0, s32 / s31, s32 / s21])
    lower = 0.1 * s11
    psi = min(max(psi, lower), s11)
    for i, sii in ((1, s22), (2, s33)):
        bound = np.sqrt(sii / lower)
        lam[i] = min(max(-bound, lam[i]), bound)
    if std_lv:
        lam = lam * np.sign(psi) * np.sqrt(abs(psi))
    return lam[:k], neg_triad


def fabin3_loadings(s: np.ndarray, std_lv: bool = False) -> tuple[np.ndarray, bool]:
    """FABIN 3 instrumental-variable loadings of one factor (Hägglund, 1982).

    Parameters
    ----------
    s : np.ndarray
        k x k sample covariance matrix of the factor's indicators (first: the scaling
        indicator).
    std_lv : bool
        Scale the loadings to a factor variance of 1.

    Returns
    -------
    lambda : np.ndarray
        k loadings (first 1 unless ``std_lv``).
    neg_triad : bool
        Only with k <= 3 (:func:`three_indicator_loadings`); False otherwise.

    Notes
    -----
    lavaan ``lav_cfa_1fac_fabin(method = "fabin3")``: for indicator i > 1 with the other
    indicators j (neither 1 nor i) as instruments,
    lambda_i = s_ij S_jj^-1 s_j1 / (s_1j S_jj^-1 s_j1), bounded to
    +- sqrt(s_ii / (0.1 s11)). With ``std_lv`` the residual variances theta solve
    (I - D * D) theta = diag(S - D S D), D = lambda lambda' / lambda'lambda, the factor
    variance is psi = lambda'(S - diag theta) lambda / (lambda'lambda)^2 and lambda is
    multiplied by sign(psi) sqrt(|psi|).

    Examples
    --------
    >>> s = np.array([[2., .8, .6, .4], [.8, 1., .3, .2], [.6, .3, 1., .15],
    ...               [.4, .2, .15, 1.]])
    >>> fabin3_loadings(s)[0].round(3).tolist()
    [1.0, 0.5, 0.375, 0.25]
    """
    s = np.atleast_2d(np.asarray(s, dtype=float))
    k = s.shape[0]
    if k < 4:
        return three_indicator_loadings(s, std_lv)
    lam = np.ones(k)
    for i in range(1, k):
        j = [m for m in range(k) if m not in (0, i)]
        s23, s31 = s[i, j], s[j, 0]
        try:
            tmp = np.linalg.solve(s[np.ix_(j, j)], s31)
            lam[i] = (s23 @ tmp) / (s31 @ tmp)
        except np.linalg.LinAlgError:
            lam[i] = (s23 @ s31) / (s31 @ s31)
    lower = 0.1 * s[0, 0]
    for i in range(1, k):
        bound = np.sqrt(s[i, i] / lower)
        lam[i] = min(max(-bound, lam[i]), bound)
    if std_lv:
        d = np.outer(lam, lam) / (lam @ lam)
        theta = np.linalg.solve(np.identity(k) - d * d, np.diag(s - d @ s @ d))
        l2 = lam @ lam
        psi = lam @ (s - np.diag(theta)) @ lam / (l2 * l2)
        lam = lam * np.sign(psi) * np.sqrt(abs(psi))
    return lam, False


def start_values(pt: ParTable, s: np.ndarray) -> list[float]:
    """lavaan's default starting value of every row of ``pt`` (see the module doc).

    Parameters
    ----------
    pt : ParTable
        The parameter table (one group).
    s : np.ndarray
        Sample covariance matrix (divisor N) in ``pt.observed`` order.

    Returns
    -------
    list of float
        One value per row of ``pt.rows``; fixed rows carry their fixed value (fixed-x
        rows: the sample (co)variance).
    """
    obs = {v: i for i, v in enumerate(pt.observed)}
    lat = set(pt.latent)
    rows = pt.rows
    start = [0.0] * len(rows)
    for k, r in enumerate(rows):
        if r.op == OP_LOADING:
            start[k] = 1.0
        elif r.op == OP_COVARIANCE and r.lhs == r.rhs:
            start[k] = LATENT_VARIANCE_START if r.lhs in lat else 0.5 * s[obs[r.lhs], obs[r.lhs]]
    for f in pt.latent:
        _factor_loadings(pt, s, f, obs, start)
    _single_indicator_variances(pt, s, obs, start)
    if not pt.latent:
        _regression_starts(pt, s, obs, start)
    for k, r in enumerate(rows):
        if r.fixed_x:
            start[k] = float(s[obs[r.lhs], obs[r.rhs]])
        elif not r.free and r.value is not None:
            start[k] = float(r.value)
        elif r.free and r.start is not None:  # start() of the syntax
            start[k] = float(r.start)
    return start


def _factor_loadings(pt: ParTable, s, f: str, obs: dict, start: list) -> None:
    """FABIN 3 starting loadings of factor ``f`` when its indicators are all observed."""
    idx = [k for k, r in enumerate(pt.rows) if r.op == OP_LOADING and r.lhs == f]
    ind = [pt.rows[k].rhs for k in idx]
    if not idx or any(v not in obs for v in ind):
        return
    var_rows = [r for r in pt.rows if r.op == OP_COVARIANCE and r.lhs == f and r.rhs == f]
    std_lv = bool(var_rows) and all(not r.free and r.value == 1.0 for r in var_rows)
    cols = [obs[v] for v in ind]
    with np.errstate(divide="ignore", invalid="ignore"):
        lam, neg_triad = fabin3_loadings(s[np.ix_(cols, cols)], std_lv=std_lv)
    lam = np.where(np.isfinite(lam), lam, 1.0)
    if neg_triad:
        lam = np.full(len(lam), 0.7 if std_lv else 1.0)
    for k, v in zip(idx, lam):
        start[k] = float(v)


def _single_indicator_variances(pt: ParTable, s, obs: dict, start: list) -> None:
    """Variance of an exogenous factor measured by one observed indicator."""
    rows = pt.rows
    dependent = {r.lhs for r in rows if r.op == OP_REGRESSION}
    indicators = {r.rhs for r in rows if r.op == OP_LOADING}
    for f in pt.latent:
        if f in dependent or f in indicators:
            continue
        ind = [r.rhs for r in rows if r.op == OP_LOADING and r.lhs == f]
        if len(ind) != 1 or ind[0] not in obs:
            continue
        res = [r for r in rows if r.op == OP_COVARIANCE and r.lhs == ind[0] == r.rhs]
        single = res[0].value if res and not res[0].free and res[0].value is not None else 1.0
        ov_var = s[obs[ind[0]], obs[ind[0]]]
        val = (1.0 - single / ov_var) * ov_var
        for k, r in enumerate(rows):
            if r.op == OP_COVARIANCE and r.lhs == f == r.rhs:
                start[k] = float(val) if np.isfinite(val) and val >= 0.05 else 0.05


def _regression_starts(pt: ParTable, s, obs: dict, start: list) -> None:
    """OLS starting values of a model without latent variables."""
    rows = pt.rows
    for y in dict.fromkeys(r.lhs for r in rows if r.op == OP_REGRESSION):
        idx = [k for k, r in enumerate(rows) if r.op == OP_REGRESSION and r.lhs == y]
        xs = [obs[rows[k].rhs] for k in idx]
        s_xy = s[xs, obs[y]]
        try:
            beta = np.linalg.solve(s[np.ix_(xs, xs)], s_xy)
        except np.linalg.LinAlgError:
            beta = np.zeros(len(xs))
        for k, b in zip(idx, beta):
            start[k] = float(b)
        s_yy = s[obs[y], obs[y]]
        res = s_yy - float(beta @ s_xy)
        if 0.01 * s_yy < res < 0.99 * s_yy:
            for k, r in enumerate(rows):
                if r.op == OP_COVARIANCE and r.lhs == y == r.rhs:
                    start[k] = res
