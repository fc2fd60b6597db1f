"""Ordinal SEM: DWLS (WLSMV) and ULS (ULSMV) fits of ordered-category items, as lavaan 0.6.

Public entry point::

    fit_ordinal(model, data, ordered=None, estimator="WLSMV", parameterization="delta")
        -> adoption.sem.engine.ModelFit

``model`` is lavaan syntax (or a :class:`~adoption.sem.partable.ParTable` from
:func:`~adoption.sem.partable.build_partable`); ``ordered`` names the ordinal items
(None: all of them), the others are continuous, as lavaan's ``ordered =`` a subset: their
intercepts (``x ~1``) and residual variances are free and their means, variances and
covariances enter the statistics. The result has the engine's shape:
``estimates`` with lavaan's ``parameterEstimates(standardized=TRUE)`` columns, including
the thresholds (op ``|``, ``x1 | t1``), the (computed, fixed) residual variances of the
latent responses, the scaling factors (op ``~*~``); ``fit`` with lavaan's
``fitMeasures()`` names (:mod:`adoption.sem.ordinal_fit`); ``r2`` of the latent responses
and endogenous factors; ``sample_cov`` the polychoric matrix, ``implied_cov`` the model's.

What is computed (lavaan 0.6-14's ``estimator = "WLSMV"``/``"ULSMV"``):

1. Sample statistics (:mod:`adoption.sem.polychoric`): thresholds, polychorics (with
   continuous items: means, variances, polyserial and Pearson correlations), and their
   asymptotic covariance Gamma (NACOV).
2. Estimates minimise F = (s - sigma(x))' W (s - sigma(x)), W = diag(Gamma)^-1 (DWLS) or
   I (ULS), by Gauss-Newton with the analytic Jacobian Delta of the implied statistics
   (LISREL matrices Lambda, B, Psi, Theta). Delta parameterization: the latent responses
   have unit variance, residual variances are 1 - diag(Lambda C Lambda'); theta
   parameterization: residual variances are 1 and the implied thresholds and
   correlations are rescaled by diag(Sigma*)^-1/2.
3. Robust (sandwich) covariance of the estimates: (D'WD)^-1 D'W Gamma W D (D'WD)^-1 / N.
4. The test and fit measures (:mod:`adoption.sem.ordinal_fit`).

Labelled parameters may be shared (equality) and ``:=`` rows (indirect and total effects)
get delta-method SEs from the robust covariance matrix, as lavaan. Missing answers:
listwise by default, ``missing="pairwise"`` as lavaan's.

Only single-group models of indicators with latent variables (CFA, latent SEM) are
handled here; observed variables in regressions, ``==`` constraints and groups raise
:class:`~adoption.errors.InputError`; a model that is not
identified comes back with ``converged=False`` and the reason in ``warnings``.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
from scipy import stats

from adoption.errors import InputError
from adoption.sem.defined import defined_parameters
from adoption.sem.engine import ESTIMATE_COLUMNS, ModelFit, blas_one_thread
from adoption.sem.ordinal_fit import ORDINAL_FIT_MEASURES, ordinal_fit_measures
from adoption.sem.partable import ParTable, build_partable
from adoption.sem.polychoric import OrdinalStatistics, ordinal_statistics
from adoption.sem.start import start_values
from adoption.vocabulary import (ORDINAL_ESTIMATORS, OP_COVARIANCE, OP_INTERCEPT, OP_LOADING,
                                 OP_REGRESSION)

__all__ = ["ESTIMATORS", "PARAMETERIZATIONS", "damped_gauss_newton", "fit_ordinal"]

ESTIMATORS = ORDINAL_ESTIMATORS
PARAMETERIZATIONS = ("delta", "theta")
MISSING = ("listwise", "pairwise")
OP_THRESHOLD = "|"
OP_SCALE = "~*~"
_Z975 = stats.norm.ppf(0.975)


class _Model:
    """LISREL matrices of a parameter table and the implied ordinal statistics."""

    def __init__(self, pt: ParTable, st: OrdinalStatistics, theta: bool):
        self.pt, self.st, self.theta = pt, st, theta
        self.ov, self.lv = list(st.items), list(pt.latent)
        p, m = len(self.ov), len(self.lv)
        self.num = st.is_numeric  # continuous items: free residual variance and intercept
        self.uni_item, self.uni_mean = st.univariate_item, st.univariate_is_mean
        oi, li = {v: k for k, v in enumerate(self.ov)}, {v: k for k, v in enumerate(self.lv)}
        self.mats = {"L": np.zeros((p, m)), "B": np.zeros((m, m)), "P": np.zeros((m, m)),
                     "T": np.eye(p) if theta else np.zeros((p, p))}
        slots, names, self.row_slot = [], {}, []
        for r in pt.rows:
            if r.op == OP_LOADING:
                if r.rhs not in oi:
                    raise InputError(f"Model syntax: '{r.lhs} =~ {r.rhs}': ordinal estimation "
                                     "here needs observed indicators (no higher-order factors).")
                slot = ("L", oi[r.rhs], li[r.lhs])
            elif r.op == OP_REGRESSION:
                if r.lhs not in li or r.rhs not in li:
                    raise InputError(f"Model syntax: '{r.lhs} ~ {r.rhs}': ordinal estimation "
                                     "here supports regressions among latent variables only.")
                slot = ("B", li[r.lhs], li[r.rhs])
            elif r.op == OP_COVARIANCE and r.lhs in li:
                slot = ("P", li[r.lhs], li[r.rhs])
            elif r.op == OP_COVARIANCE and r.lhs == r.rhs and not self.num[oi[r.lhs]]:
                slot = ("D", oi[r.lhs], oi[r.lhs])  # ordinal residual variance: computed or 1
            else:
                slot = ("T", oi[r.lhs], oi[r.rhs])
            self.row_slot.append(slot)
            if slot[0] == "D":
                continue
            if r.free:
                key = pt.parameter_label(r) or f"{r.lhs}{r.op}{r.rhs}"
                names.setdefault(key, len(names))
                slots.append((slot, names[key]))
            else:
                self._set(self.mats, slot, 0.0 if r.value is None else r.value)
        self.slots = slots
        self.nfree = len(names)
        self.nth = len(self.uni_item)  # thresholds and intercepts of continuous items

    @staticmethod
    def _set(mats, slot, v):
        kind, r, c = slot
        mats[kind][r, c] = v
        if kind in "PT":
            mats[kind][c, r] = v

    def matrices(self, x):
        mats = {k: v.copy() for k, v in self.mats.items()}
        for slot, k in self.slots:
            self._set(mats, slot, x[k])
        return mats

    def sigma(self, x):
        """(Sigma*, Sigma0 = Lambda C Lambda', C, A) at structural parameters x."""
        mt = self.matrices(x)
        a = np.linalg.inv(np.eye(len(self.lv)) - mt["B"])
        c = a @ mt["P"] @ a.T
        s0 = mt["L"] @ c @ mt["L"].T
        t = mt["T"].copy()
        if not self.theta:
            o = np.flatnonzero(~self.num)
            t[o, o] = 1.0 - np.diag(s0)[o]
        return s0 + t, s0, c, a, mt

    def scale(self, sig) -> np.ndarray:
        """Delta: 1 / SD of each latent response under theta, 1 otherwise (and for the
        continuous items)."""
        d = np.ones(len(self.ov))
        if self.theta:
            d[~self.num] = 1.0 / np.sqrt(np.diag(sig)[~self.num])
        return d

    def implied(self, x_all, jacobian=True):
        """Implied statistics (thresholds and minus the intercepts, variances of the
        continuous items, covariances) and their Jacobian."""
        tau, x = x_all[:self.nth], x_all[self.nth:]
        sig, s0, c, a, mt = self.sigma(x)
        i, j = self.st.pair_i, self.st.pair_j
        d = self.scale(sig)
        ti = self.uni_item
        nv = np.flatnonzero(self.num)
        out = np.concatenate([np.where(self.uni_mean, -tau, tau * d[ti]), np.diag(sig)[nv],
                              sig[i, j] * d[i] * d[j]])
        if not jacobian:
            return out, None
        lam = mt["L"]
        dsig = np.zeros((len(self.slots), len(self.ov), len(self.ov)))
        lc = lam @ c
        for s, ((kind, r, cc), _) in enumerate(self.slots):
            if kind == "L":
                dsig[s, r, :] += lc[:, cc]
                dsig[s, :, r] += lc[:, cc]
                continue
            if kind == "T":
                dsig[s, r, cc] = dsig[s, cc, r] = 1.0
                continue
            if kind == "P":
                dc = np.outer(a[:, r], a[:, cc])
                dc = dc + dc.T if r != cc else dc
            else:  # B
                dc = np.outer(a[:, r], c[cc, :])
                dc = dc + dc.T
            dsig[s] = lam @ dc @ lam.T
        o = np.flatnonzero(~self.num)
        if not self.theta:  # diagonal of Sigma* fixed at 1 for the ordinal items
            dsig[:, o, o] = 0.0
        jac = np.zeros((len(out), self.nth + self.nfree))
        jac[np.arange(self.nth), np.arange(self.nth)] = np.where(self.uni_mean, -1.0, d[ti])
        dcor = np.hstack([dsig[:, nv, nv], dsig[:, i, j] * (d[i] * d[j])])
        if self.theta:
            ddiag = np.diagonal(dsig, axis1=1, axis2=2) / np.diag(sig)  # dlog Sigma_ii
            ddiag[:, self.num] = 0.0  # continuous items keep their scale
            dcor[:, len(nv):] -= 0.5 * (sig[i, j] * d[i] * d[j]) * (ddiag[:, i] + ddiag[:, j])
            dtau = -0.5 * (tau * d[ti]) * ddiag[:, ti]
        for s, (_, k) in enumerate(self.slots):
            jac[self.nth:, self.nth + k] += dcor[s]
            if self.theta:
                jac[:self.nth, self.nth + k] += dtau[s]
        return out, jac


def _start(model: _Model, pt: ParTable) -> np.ndarray:
    sv = start_values(pt, model.st.covariance)  # st.items are pt.observed
    x = np.zeros(model.nth + model.nfree)
    k_of = {}
    for row, v, slot in zip(pt.rows, sv, model.row_slot):
        if row.free and slot[0] != "D":
            key = pt.parameter_label(row) or f"{row.lhs}{row.op}{row.rhs}"
            k_of.setdefault(key, v)
    x[model.nth:] = list(k_of.values())
    uni = model.st.vector[:model.nth]
    x[:model.nth] = np.where(model.uni_mean, -uni, uni)  # thresholds, intercepts = means
    if model.theta:
        sig = model.sigma(x[model.nth:])[0]
        x[:model.nth] /= model.scale(sig)[model.uni_item]
    return x


def damped_gauss_newton(normal, objective, x, tol=1e-10, max_iter=300):
    """Minimise a weighted least-squares function by damped Gauss-Newton (the single- and
    the multi-group ordinal fit).

    Parameters
    ----------
    normal : callable
        x -> (info, grad, f): the normal equations Delta' W Delta and Delta' W (s - sigma),
        and the function value, at x.
    objective : callable
        x -> f = (s - sigma(x))' W (s - sigma(x)); may raise ``LinAlgError`` or return a
        non-finite value where sigma(x) is not defined (the step is then halved).
    x : np.ndarray
        Start values.
    tol, max_iter
        Stop when every coordinate of the accepted step is under ``tol`` or f no longer
        moves (1e-16); at most ``max_iter`` steps.

    Returns
    -------
    (np.ndarray, float, bool)
        The minimiser, the function value and whether it converged.

    Notes
    -----
    step = info^-1 grad, halved from 1 until f does not increase (at most to 1e-4).

    Examples
    --------
    >>> s, w = np.array([1.0, 2.0]), np.ones(2)
    >>> obj = lambda x: float(((s - x) ** 2 * w).sum())
    >>> x, f, ok = damped_gauss_newton(lambda x: (np.diag(w), w * (s - x), obj(x)), obj,
    ...                                np.zeros(2))
    >>> x.tolist(), ok
    ([1.0, 2.0], True)
    """
    info, grad, f = normal(x)
    for _ in range(max_iter):
        step = np.linalg.solve(info, grad)
        t = 1.0
        while True:
            xn = x + t * step
            try:
                fn = objective(xn)
            except np.linalg.LinAlgError:
                fn = np.inf
            fn = fn if np.isfinite(fn) else np.inf
            if fn <= f or t < 1e-4:
                break
            t *= 0.5
        x = xn
        info, grad, _ = normal(x)
        done = np.max(np.abs(t * step)) < tol or abs(f - fn) < 1e-16
        f = fn
        if done:
            return x, f, True
    return x, f, False


def _gauss_newton(model: _Model, s, w, x, tol=1e-10, max_iter=300):
    """Minimise (s - sigma(x))' W (s - sigma(x)) by damped Gauss-Newton."""
    def normal(x):
        sig, jac = model.implied(x)
        jw = jac.T * w
        return jw @ jac, jw @ (s - sig), float(((s - sig) ** 2 * w).sum())

    def objective(x):
        with np.errstate(invalid="ignore"):  # theta: a step may leave diag(Sigma*) > 0
            sn, _ = model.implied(x, jacobian=False)
        return float(((s - sn) ** 2 * w).sum())

    return damped_gauss_newton(normal, objective, x, tol, max_iter)


def fit_ordinal(model, data: pd.DataFrame, *, ordered=None, estimator: str = "WLSMV",
                parameterization: str = "delta", std_lv: bool = False,
                missing: str = "listwise") -> ModelFit:
    """Fit a model to ordinal items by WLSMV or ULSMV, as lavaan 0.6-14.

    Parameters
    ----------
    model : str or ParTable
        lavaan model syntax, or a parameter table built from it.
    data : pd.DataFrame
        The items (integer or ordered codes). Rows with a missing model variable are
        deleted (listwise), as lavaan's default under WLSMV; the count is in ``warnings``.
    ordered : list of str or None
        Ordinal variables; None: all observed model variables. The others are continuous
        (lavaan's ``ordered =`` a subset).
    estimator : {"WLSMV", "ULSMV"}
    parameterization : {"delta", "theta"}
    std_lv : bool
        lavaan's ``std.lv = TRUE``.
    missing : {"listwise", "pairwise"}
        lavaan's ``missing``: delete incomplete rows, or use every item's and every
        pair's available answers (rows with no answer at all are deleted).

    Returns
    -------
    ModelFit
        See the module docstring; ``estimator`` is "WLSMV" or "ULSMV".

    Raises
    ------
    InputError
        Unknown estimator or parameterization, no model variable ordinal, bad items
        (see :mod:`adoption.sem.polychoric`).

    Notes
    -----
    Agrees with ``lavaan::cfa/sem(model, data, ordered = items, estimator = "WLSMV")``
    (lavaan 0.6-14) to about 1e-5 relative in every estimate, SE, std.all and fit
    measure (tests/test_sem_wlsmv.py), also with some items continuous
    (tests/test_sem_wlsmv_mixed.py; the catML robust CFI/TLI/RMSEA are NaN then, as
    lavaan's NA).

    Examples
    --------
    >>> fit = fit_ordinal("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6", hs)  # doctest: +SKIP
    >>> fit.fit["chisq.scaled"], fit.estimates.query("op == '|'").head(3)   # doctest: +SKIP
    """
    with blas_one_thread():
        return _fit_ordinal(model, data, ordered, str(estimator).upper(), parameterization,
                            std_lv, missing)


def _fit_ordinal(model, data, ordered, estimator, parameterization, std_lv, missing) -> ModelFit:
    t0 = time.perf_counter()
    if estimator not in ESTIMATORS:
        raise InputError(f"Unknown ordinal estimator {estimator!r}; use one of {', '.join(ESTIMATORS)}.")
    if parameterization not in PARAMETERIZATIONS:
        raise InputError(f"Unknown parameterization {parameterization!r}; use 'delta' or 'theta'.")
    pt = model if isinstance(model, ParTable) else build_partable(model, data.columns, std_lv=std_lv)
    if pt.constraints or pt.intercepts:
        raise InputError("Ordinal estimation here takes no '==' constraints and no '~ 1' "
                         "lines (a shared label fixes parameters equal; intercepts are 0).")
    if pt.exogenous_x:
        raise InputError("Ordinal estimation here does not take observed exogenous predictors "
                         f"({', '.join(pt.exogenous_x)}).")
    ordinal = list(pt.observed) if ordered is None else [v for v in pt.observed if v in set(ordered)]
    if not ordinal:
        raise InputError(f"None of the model's items ({', '.join(pt.observed)}) is ordinal; fit "
                         "continuous items with ML, MLM or MLR.")
    if missing not in MISSING:
        raise InputError(f"Unknown missing-data option {missing!r} for {estimator}; use "
                         "'listwise' or 'pairwise' (FIML is an ML method).")
    sub = data[pt.observed]
    keep = sub.notna().all(axis=1) if missing == "listwise" else sub.notna().any(axis=1)
    warn = [] if keep.all() else [f"{int((~keep).sum())} rows with missing values deleted ({missing})."]
    st = ordinal_statistics(sub[keep], missing=missing, ordered=ordinal)
    t1 = time.perf_counter()
    m = _Model(pt, st, parameterization == "theta")
    s = st.vector
    w_dwls = 1.0 / np.diag(st.nacov)
    w = w_dwls if estimator == "WLSMV" else np.ones_like(s)
    n = st.nobs
    if m.nth + m.nfree > len(s):
        return _failed(pt, st, estimator, warn + [
            f"The model has {m.nth + m.nfree} free parameters but the data give only {len(s)} "
            "thresholds and polychoric correlations: it is not identified."])
    try:
        x, f, ok = _gauss_newton(m, s, w, _start(m, pt))
        sig, jac = m.implied(x)
        bread = np.linalg.inv((jac.T * w) @ jac)
    except np.linalg.LinAlgError:
        return _failed(pt, st, estimator, warn + [
            "The information matrix is singular: the model is not identified (fix a loading "
            "or a variance per factor, check equality labels)."])
    if not ok:
        warn.append("The DWLS iterations did not converge.")
    meat = (jac.T * w) @ st.nacov @ (jac * w[:, None])
    vc = bread @ meat @ bread / (n - 1)  # lavaan's N - 1 under WLS-family estimators
    fit = ordinal_fit_measures(s, sig, st, jac, w, bread, n, estimator,
                               implied_cor=None if st.numeric else _implied_correlation(m, x))
    t2 = time.perf_counter()
    est, r2, sig_star, names = _estimate_table(m, pt, x, vc)
    return ModelFit(estimates=est, fit=fit, r2=r2, nobs=n, estimator=estimator, converged=ok,
                    warnings=tuple(warn), observed=tuple(st.items),
                    sample_cov=st.covariance, implied_cov=sig_star,
                    vcov=pd.DataFrame(vc, index=names, columns=names),
                    timings={"sample_statistics": t1 - t0, "fit": t2 - t1}, partable=pt,
                    std_lv=std_lv)


def _failed(pt: ParTable, st: OrdinalStatistics, estimator: str, msgs) -> ModelFit:
    """A fit that could not be made: no estimates, NaN fit measures, the reason in warnings."""
    p = len(st.items)
    return ModelFit(estimates=pd.DataFrame(columns=list(ESTIMATE_COLUMNS)),
                    fit={k: float("nan") for k in ORDINAL_FIT_MEASURES}, r2={},
                    nobs=st.nobs, estimator=estimator, converged=False, warnings=tuple(msgs),
                    observed=tuple(st.items), sample_cov=st.covariance,
                    implied_cov=np.full((p, p), np.nan), vcov=pd.DataFrame(), partable=pt)


def _implied_correlation(m: _Model, x) -> np.ndarray:
    sig = m.sigma(x[m.nth:])[0]
    d = 1.0 / np.sqrt(np.diag(sig))
    return sig * np.outer(d, d)


def _estimate_table(m: _Model, pt: ParTable, x, vc):
    """Parameter rows in lavaan's order: user rows, thresholds, variances, covariances,
    scaling factors; with std.all on the latent-response scale, and R-squared."""
    tau, xs = x[:m.nth], x[m.nth:]
    sig, s0, c, a, mt = m.sigma(xs)
    se_all = np.sqrt(np.clip(np.diag(vc), 0, None))
    ov_var = dict(zip(m.ov, np.diag(sig)))
    lv_var = dict(zip(m.lv, np.diag(c)))
    tot = {**ov_var, **lv_var}
    rows = []
    own = {}
    k_of = {sl: k for sl, k in m.slots}
    for r, slot in zip(pt.rows, m.row_slot):
        if slot[0] == "D":
            e, k = (1.0 if m.theta else sig[slot[1], slot[1]] - s0[slot[1], slot[1]]), -1
        elif slot in k_of:
            k = m.nth + k_of[slot]
            e = x[k]
        else:
            e, k = mt[slot[0]][slot[1], slot[2]], -1
        rows.append((r.lhs, r.op, r.rhs, r.label, e, k))
        if r.op == OP_COVARIANCE:
            own[(r.lhs, r.rhs)] = e
    first = sum(1 for r in pt.rows if r.user)
    th_at = np.flatnonzero(~m.uni_mean)
    th_rows = [(nm.split("|")[0], OP_THRESHOLD, nm.split("|")[1], "", tau[t], t)
               for t, nm in zip(th_at, m.st.threshold_names)]
    d = m.scale(sig)
    scale_rows = [(v, OP_SCALE, v, "", d[q], -1) for q, v in enumerate(m.ov) if not m.num[q]]
    int_rows = [(m.ov[m.uni_item[t]], OP_INTERCEPT, "", "", tau[t], t)
                for t in np.flatnonzero(m.uni_mean)]
    rows = rows[:first] + th_rows + rows[first:] + scale_rows + int_rows
    est = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "label", "est", "free_index"])
    k = est["free_index"].to_numpy()
    est["se"] = np.where(k >= 0, se_all[np.maximum(k, 0)], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        est["z"] = np.where(k >= 0, est["est"] / est["se"], np.nan)
    est["pvalue"] = 2 * stats.norm.sf(np.abs(est["z"]))
    est["ci.lower"] = est["est"] - _Z975 * est["se"]
    est["ci.upper"] = est["est"] + _Z975 * est["se"]
    est["std.all"] = [_std_all(row, tot, own) for row in est.itertuples(index=False)]
    est = _with_defined(pt, est, vc)
    names = [""] * len(x)
    for row in est.itertuples(index=False):
        if row.free_index >= 0 and not names[row.free_index]:
            names[row.free_index] = f"{row.lhs} {row.op} {row.rhs}"
    est = est[list(ESTIMATE_COLUMNS)]
    r2 = {v: 1.0 - own[(v, v)] / tot[v] for v in m.ov if (v, v) in own}
    endo = {r.lhs for r in pt.rows if r.op == OP_REGRESSION}
    r2.update({v: 1.0 - own[(v, v)] / tot[v] for v in m.lv if v in endo and (v, v) in own})
    return est, r2, sig, names


def _with_defined(pt: ParTable, est: pd.DataFrame, vc) -> pd.DataFrame:
    """``est`` with lavaan's ``:=`` rows appended (delta-method SEs from ``vc``)."""
    if not pt.defined:
        return est
    values, std, idx = {}, {}, []
    for label, e, sa, k in est[["label", "est", "std.all", "free_index"]].itertuples(index=False):
        if label and label not in values:
            values[label], std[label] = float(e), float(sa)
            idx.append(int(k))
    v = np.zeros((len(idx), len(idx)))
    for a, ia in enumerate(idx):
        for b, ib in enumerate(idx):
            if ia >= 0 and ib >= 0:
                v[a, b] = vc[ia, ib]
    rows = defined_parameters([(d.lhs, d.rhs) for d in pt.defined], values, v, std)
    rows["free_index"] = -1
    return pd.concat([est, rows[list(est.columns)]], ignore_index=True)


def _std_all(row, tot, own) -> float:
    e = row.est
    if row.op == OP_LOADING:
        return e * math.sqrt(tot[row.lhs] / tot[row.rhs])
    if row.op == OP_REGRESSION:
        return e * math.sqrt(tot[row.rhs] / tot[row.lhs])
    if row.op in (OP_THRESHOLD, OP_INTERCEPT):
        return e / math.sqrt(tot[row.lhs])
    if row.op == OP_SCALE:
        return 1.0
    if row.lhs == row.rhs:
        return e / tot[row.lhs]
    va, vb = own.get((row.lhs, row.lhs)), own.get((row.rhs, row.rhs))
    return e / math.sqrt(va * vb) if va and vb and va * vb > 0 else float("nan")
