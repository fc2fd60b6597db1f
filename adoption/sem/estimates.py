"""Estimates and standard errors as lavaan reports them: ``parameterEstimates(fit,
standardized = TRUE)`` rows (:func:`estimate_table`), ``:=`` rows (:func:`with_defined`),
the delta-method inference of std.all (:func:`with_std_inference`), R-squared and the
plain-language diagnostics of a fitted table (lavaan's ``lav_object_*`` /
``lav_standardize_*`` stage). Every function takes the fitted values; none fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from adoption.sem.defined import defined_parameters, evaluate_defined
from adoption.sem.matrices import SemModel, row_values, total_variances
from adoption.sem.partable import ParTable
from adoption.sem.standardized import numerical_jacobian, standardized_columns
from adoption.vocabulary import (OP_COVARIANCE, OP_INTERCEPT, OP_LOADING, OP_REGRESSION,
                                 PARAMETER_COLUMNS)

__all__ = ["ESTIMATE_COLUMNS", "estimate_table", "std_all", "with_std_inference",
           "with_defined", "r_squared", "ratio_sqrt", "diagnose", "latent_covariance",
           "intercepts", "vcov_frame", "Inference", "SINGULAR_INFORMATION"]

ESTIMATE_COLUMNS = ("lhs", "op", "rhs", "label") + PARAMETER_COLUMNS[3:]
_Z975 = stats.norm.ppf(0.975)


def ratio_sqrt(a: float, b: float) -> float:
    """sqrt(a / b), NaN when undefined (non-positive variances of a failed model)."""
    return math.sqrt(a / b) if a > 0 and b > 0 else float("nan")


def r_squared(residual_variance: float, total_variance: float) -> float:
    """R-squared of an endogenous variable, 1 - residual variance / total variance.

    NaN where lavaan gives NA (``lavInspect(fit, "r2")``): when the value exceeds 1 (a
    negative residual variance, a Heywood case) or the total variance is 0.
    """
    if not total_variance:
        return float("nan")
    r2 = 1.0 - residual_variance / total_variance
    return float(r2) if r2 <= 1.0 else float("nan")


def _sd_or_nan(variance: float) -> float:
    return math.sqrt(variance) if variance >= 0 else float("nan")


def estimate_table(pt: ParTable, names, index_of, theta, vc, model: SemModel, sigma,
                   mean_rows=()):
    """lavaan's ``parameterEstimates(standardized = TRUE)`` rows, and R-squared.

    ``mean_rows``: extra ``~1`` rows (variable, est, se, free) appended after the
    (co)variance rows, as lavaan lists intercepts and latent means last.
    """
    est_rows = []
    for row, nm in zip(pt.rows, names):
        if nm is None:
            est, se = row.value, 0.0
        else:
            k = index_of[nm]
            est, se = theta[k], _sd_or_nan(vc[k, k])
        est_rows.append((row.lhs, row.op, row.rhs, row.label, float(est), float(se)))
    for v, e, se, _ in mean_rows:
        est_rows.append((v, OP_INTERCEPT, "", "", float(e), float(se)))
    est = pd.DataFrame(est_rows, columns=["lhs", "op", "rhs", "label", "est", "se"])
    free = np.array([nm is not None for nm in names] + [bool(m[3]) for m in mean_rows])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(free, est["est"] / est["se"], np.nan)
    est["z"] = z
    est["pvalue"] = 2 * stats.norm.sf(np.abs(z))
    est["ci.lower"] = est["est"] - _Z975 * est["se"]
    est["ci.upper"] = est["est"] + _Z975 * est["se"]

    total_var = total_variances(model, theta, pt, sigma)
    own = {(r.lhs, r.rhs): e for r, e in zip(pt.rows, est["est"]) if r.op == OP_COVARIANCE}
    est["std.all"] = std_all(pt, est["est"].iloc[:len(pt.rows)], total_var,
                             [(v, e) for v, e, _, _ in mean_rows])
    est = est[list(ESTIMATE_COLUMNS)]

    endogenous = {r.rhs for r in pt.rows if r.op == OP_LOADING} | \
                 {r.lhs for r in pt.rows if r.op == OP_REGRESSION}
    r2 = {}
    for v in pt.observed + pt.latent:
        if v in endogenous and (v, v) in own:
            r2[v] = r_squared(own[(v, v)], total_var[v])
    return est, r2


def std_all(pt: ParTable, values, total_var: dict, means=()) -> list[float]:
    """lavaan's ``std.all`` of the table's rows (values ``values``) and of the ``~1``
    rows ``means`` ((variable, value) pairs), given every variable's total variance."""
    own = {(r.lhs, r.rhs): e for r, e in zip(pt.rows, values) if r.op == OP_COVARIANCE}
    std = []
    for r, e in zip(pt.rows, values):
        if r.op == OP_LOADING:
            std.append(e * ratio_sqrt(total_var[r.lhs], total_var[r.rhs]))
        elif r.op == OP_REGRESSION:
            std.append(e * ratio_sqrt(total_var[r.rhs], total_var[r.lhs]))
        elif r.lhs == r.rhs:
            std.append(e / total_var[r.lhs] if total_var[r.lhs] != 0 else float("nan"))
        else:
            va, vb = own.get((r.lhs, r.lhs)), own.get((r.rhs, r.rhs))
            std.append(e / math.sqrt(va * vb) if va and vb and va * vb > 0 else float("nan"))
    for v, e in means:  # intercepts and means: est / sd(v)
        std.append(e / math.sqrt(total_var[v]) if total_var[v] > 0 else float("nan"))
    return std


def with_std_inference(pt: ParTable, est: pd.DataFrame, model: SemModel, names,
                       index_of, theta, vc, means=None) -> pd.DataFrame:
    """``est`` with the delta-method columns of ``std.all`` (:data:`STD_ALL_COLUMNS`).

    ``std.all`` of every row, ``:=`` rows included (their expressions evaluated at the
    standardised labelled parameters, as lavaan's ``lav_standardize_all``), is
    re-computed by :func:`std_all` as a function of the free parameters (and, under
    FIML, of the free intercepts: ``means = (rows, free, nu)`` with ``rows`` the
    (variable, index in ``nu`` or None) of the ``~1`` rows and ``free`` the indices of
    the free intercepts, which follow ``theta`` in ``vc``).
    """
    k = len(theta)

    def std_of(x):
        th = x[:k]
        values = row_values(pt, names, index_of, th)
        tv = total_variances(model, th, pt, model.sigma(th)[0])
        mrows = []
        if means is not None:
            rows, free, nu = means
            nu = nu.copy()
            nu[free] = x[k:]
            mrows = [(v, nu[i] if i is not None else 0.0) for v, i in rows]
        std = std_all(pt, values, tv, mrows)
        if pt.defined:
            labelled = {}
            for row, v in zip(pt.rows, std):
                if row.label and row.label not in labelled:
                    labelled[row.label] = v
            std += list(evaluate_defined([(d.lhs, d.rhs) for d in pt.defined], labelled))
        return np.array(std)

    x0 = theta if means is None else np.concatenate([theta, means[2][means[1]]])
    try:
        std0 = std_of(x0)
        jac = numerical_jacobian(std_of, x0)
    finally:
        model.sigma(theta)  # semopy's matrices back at the estimates
    cols = standardized_columns(std0, jac, vc)
    return pd.concat([est.reset_index(drop=True), cols], axis=1)


def with_defined(pt: ParTable, est: pd.DataFrame, names, index_of, vc) -> pd.DataFrame:
    """``est`` with lavaan's ``:=`` rows appended (delta-method SEs from ``vc``)."""
    if not pt.defined:
        return est
    values, std, idx = {}, {}, []
    for i, (row, nm) in enumerate(zip(pt.rows, names)):
        if row.label and row.label not in values:
            values[row.label] = float(est["est"].iat[i])
            std[row.label] = float(est["std.all"].iat[i])
            idx.append(index_of[nm] if nm is not None else None)
    v = np.zeros((len(idx), len(idx)))
    for a, ia in enumerate(idx):
        for b, ib in enumerate(idx):
            if ia is not None and ib is not None:
                v[a, b] = vc[ia, ib]
    rows = defined_parameters([(d.lhs, d.rhs) for d in pt.defined], values, v, std)
    return pd.concat([est, rows[list(ESTIMATE_COLUMNS)]], ignore_index=True)


def latent_covariance(model: SemModel, theta, pt: ParTable) -> np.ndarray:
    """Model-implied covariance matrix of the latent variables, in ``pt.latent`` order
    (lavaan ``lavInspect(fit, "cov.lv")``)."""
    inner = model.inner_cov(theta)
    pos = {v: i for i, v in enumerate(model.inner)}
    idx = [pos[v] for v in pt.latent if v in pos]
    return inner[np.ix_(idx, idx)]


def diagnose(pt: ParTable, est: pd.DataFrame, sigma, cov_lv=None) -> list[str]:
    """Heywood cases, a non-positive-definite Sigma and (given ``cov_lv``,
    :func:`latent_covariance`) a non-positive-definite latent covariance matrix, which
    lavaan warns about after the fit (``lav_object_post_check``), in plain language."""
    msgs = []
    for r in est.itertuples(index=False):
        if r.op == OP_COVARIANCE and r.lhs == r.rhs and r.est < 0:
            msgs.append(f"Heywood case: the variance of {r.lhs} is negative ({r.est:.4g}).")
    loadings = est[est["op"] == OP_LOADING]
    for lhs, rhs, v in zip(loadings["lhs"], loadings["rhs"], loadings["std.all"]):
        if abs(v) > 1:
            msgs.append(f"Heywood case: the standardised loading of {rhs} on {lhs} "
                        f"exceeds 1 in absolute value ({v:.4g}).")
    if np.min(np.linalg.eigvalsh(sigma)) <= 0:
        msgs.append("The model-implied covariance matrix is not positive definite.")
    if cov_lv is not None and cov_lv.size and np.min(np.linalg.eigvalsh(cov_lv)) < 0:
        msgs.append("The covariance matrix of the latent variables is not positive "
                    "definite (as lavaan warns): a correlation between factors beyond 1 or "
                    "a negative variance; check the factors it involves.")
    return msgs


def intercepts(pt: ParTable, values, mu) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's intercepts nu of the observed variables and means alpha (= 0) of the
    latent ones, from the model-implied observed means ``mu``.

    Notes
    -----
    Each variable's mean is its intercept plus its coefficients (loadings as
    indicator <- factor, regressions) times its predictors' means, with latent
    intercepts fixed at 0: the latent means m solve (I - B_LL) m = B_LO mu, and
    nu = mu - B_OO mu - B_OL m.
    """
    obs, lat = pt.observed, pt.latent
    names = obs + lat
    pos = {v: i for i, v in enumerate(names)}
    b = np.zeros((len(names), len(names)))
    for row, v in zip(pt.rows, values):
        if row.op == OP_LOADING:
            b[pos[row.rhs], pos[row.lhs]] += v
        elif row.op == OP_REGRESSION:
            b[pos[row.lhs], pos[row.rhs]] += v
    p = len(obs)
    b_oo, b_ol = b[:p, :p], b[:p, p:]
    b_lo, b_ll = b[p:, :p], b[p:, p:]
    m_lat = np.linalg.solve(np.identity(len(lat)) - b_ll, b_lo @ mu) if lat else np.zeros(0)
    return mu - b_oo @ mu - b_ol @ m_lat, m_lat


def vcov_frame(pt: ParTable, names, index_of, vc, extra=()) -> pd.DataFrame:
    """``vc`` as a frame over the free parameters in table order, named "lhs op rhs"
    after the first row carrying each; ``extra``: further (name, index in ``vc``)."""
    vnames, order = [], []
    for row, nm in zip(pt.rows, names):
        if nm is not None and index_of[nm] not in order:
            order.append(index_of[nm])
            vnames.append(f"{row.lhs} {row.op} {row.rhs}")
    for name, i in extra:
        vnames.append(name)
        order.append(i)
    return pd.DataFrame(vc[np.ix_(order, order)], index=vnames, columns=vnames)


@dataclass(frozen=True)
class Inference:
    """The covariance of the estimates and what the test statistics reuse of it.

    Attributes
    ----------
    vc : np.ndarray
        Covariance of (theta, free intercepts) (NaN when it could not be computed), in
        semopy's order of theta followed by the free intercepts (FIML).
    ok : bool
        False when the information matrix was singular.
    sigma, delta : np.ndarray
        Sigma(theta-hat) and its Jacobian.
    parts : dict
        Objective-specific pieces (information matrices, casewise scores, intercepts).
    """

    vc: np.ndarray
    ok: bool
    sigma: np.ndarray
    delta: np.ndarray
    parts: dict = field(default_factory=dict)


#: Warning of a fit whose information matrix is singular (no standard errors).
SINGULAR_INFORMATION = ("The information matrix is singular: the model is probably not "
                        "identified (check fixed loadings / scaling of each factor); "
                        "standard errors are not available.")
