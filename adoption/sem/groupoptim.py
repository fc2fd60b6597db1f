"""Multi-group moments and optimisation (lavaan's ``lav_model`` / ``lav_optim`` stages
for ``group =``): each group's Sigma_g and mu_g as functions of the stacked parameter
vector of :mod:`adoption.sem.groupsetup` (:func:`group_moments`), the total discrepancy,
gradient and informations (complete data and FIML), the starting values and the Fisher
scoring / L-BFGS iterations (:func:`optimise`).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import optimize

from adoption.errors import InputError
from adoption.sem import fiml
from adoption.sem import fitmeasures as fm
from adoption.sem import robust as rb
from adoption.sem.compare import partable_syntax
from adoption.sem.engine import fit_model
from adoption.sem.groupsetup import Registry, Setup
from adoption.sem.matrices import dsigma_stack, start_vector
from adoption.vocabulary import OP_INTERCEPT

__all__ = ["group_moments", "discrepancy", "score_information", "loglik_gradient",
           "observed_information", "starting_values", "optimise", "expand"]


def group_moments(setup: Setup, reg: Registry, g: int, theta, with_jacobian=True):
    """Sigma_g, mu_g and (optionally) their Jacobians in the group's own columns.

    Returns sigma, mu, cols (gids), d_sigma (p* x len(cols)), d_mu (p x len(cols)).
    """
    grp = setup.groups[g]
    p = len(setup.observed)
    nall = p + len(setup.latent)
    local = theta[reg.cov_gid[g]]
    if with_jacobian:
        sig, dl = grp.model.sigma_delta(local)
    else:
        sig = grp.model.sigma(local)[0]
    b = np.zeros((nall, nall))
    for i, j, k in reg.b_free[g]:
        b[i, j] += theta[k]
    for i, j, v in reg.b_fixed[g]:
        b[i, j] += v
    a = np.zeros(nall)
    for i, k in reg.a_free[g]:
        a[i] += theta[k]
    for i, v in reg.a_fixed[g]:
        a[i] += v
    ainv = np.linalg.inv(np.identity(nall) - b)
    mall = ainv @ a
    mu = mall[:p]
    if not with_jacobian:
        return sig, mu
    cols = sorted(set(reg.cov_gid[g].tolist()) | {k for *_, k in reg.b_free[g]}
                  | {k for _, k in reg.a_free[g]})
    where = {k: c for c, k in enumerate(cols)}
    ds = np.zeros((dl.shape[0], len(cols)))
    for c_local, k in enumerate(reg.cov_gid[g]):
        ds[:, where[k]] += dl[:, c_local]
    dm = np.zeros((p, len(cols)))
    for i, j, k in reg.b_free[g]:
        dm[:, where[k]] += ainv[:p, i] * mall[j]
    for i, k in reg.a_free[g]:
        dm[:, where[k]] += ainv[:p, i]
    return sig, mu, cols, ds, dm


def discrepancy(setup: Setup, reg: Registry, theta) -> float:
    """chisq(theta) = sum_g N_g F_g (see module doc); inf where Sigma is not PD."""
    total = 0.0
    for g, grp in enumerate(setup.groups):
        sig, mu = group_moments(setup, reg, g, theta, with_jacobian=False)
        if np.min(np.linalg.eigvalsh(sig)) <= 0:
            return math.inf
        if grp.pat is not None:
            total += 2 * (grp.ll_h1 - fiml.loglik(grp.pat, mu, sig))
            continue
        total += fm.chisq_ml(grp.s, sig, grp.n, grp.m, mu)
    return total


def score_information(setup: Setup, reg: Registry, theta):
    """Gradient of the log-likelihood and the expected information, both totals."""
    k = reg.k
    grad = np.zeros(k)
    info = np.zeros((k, k))
    for g, grp in enumerate(setup.groups):
        sig, mu, cols, ds, dm = group_moments(setup, reg, g, theta)
        if grp.pat is not None:
            grad[cols] += _fiml_group_gradient(grp.pat, mu, sig, ds, dm)
            info_th, info_mu = fiml.expected_information(grp.pat, sig,
                                                         dsigma_stack(ds, len(mu)))
            info[np.ix_(cols, cols)] += info_th + dm.T @ info_mu @ dm
            continue
        si = np.linalg.inv(sig)
        d = grp.m - mu
        gs = ds.T @ rb.ml_weight_times(si, grp.s + np.outer(d, d) - sig)
        gm = dm.T @ (si @ d)
        grad[cols] += grp.n * (gs + gm)
        blk = ds.T @ rb.ml_weight_times_delta(si, ds) + dm.T @ si @ dm
        info[np.ix_(cols, cols)] += grp.n * blk
    return grad, info


def _fiml_group_gradient(pat, mu, sig, ds, dm) -> np.ndarray:
    """Gradient of one group's FIML log-likelihood in the group's columns."""
    r, c = rb.vech_index(len(mu))
    g_mu, big_m = fiml.gradient(pat, mu, sig)
    return ds.T @ (big_m[r, c] * np.where(r == c, 0.5, 1.0)) + dm.T @ g_mu


def loglik_gradient(setup: Setup, reg: Registry, theta) -> np.ndarray:
    """Gradient of the total log-likelihood (as :func:`score_information`)."""
    grad = np.zeros(reg.k)
    for g, grp in enumerate(setup.groups):
        sig, mu, cols, ds, dm = group_moments(setup, reg, g, theta)
        if grp.pat is not None:
            grad[cols] += _fiml_group_gradient(grp.pat, mu, sig, ds, dm)
            continue
        si = np.linalg.inv(sig)
        d = grp.m - mu
        grad[cols] += grp.n * (ds.T @ rb.ml_weight_times(si, grp.s + np.outer(d, d) - sig)
                               + dm.T @ (si @ d))
    return grad


def observed_information(setup: Setup, reg: Registry, theta, h=1e-6) -> np.ndarray:
    """Observed information (total): minus the Jacobian of the analytic gradient, by
    central differences (lavaan ``observed.information = "hessian"``)."""
    k = reg.k
    a = np.zeros((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h * max(1.0, abs(theta[j]))
        a[:, j] = -(loglik_gradient(setup, reg, theta + e)
                    - loglik_gradient(setup, reg, theta - e)) / (2 * e[j])
    return (a + a.T) / 2


def _group_starts(setup: Setup) -> list:
    """Per group: the single-group fit's value of each semopy parameter (model.active
    order) and of each intercept, or lavaan's simple starting values where that fit
    fails. The configural model is the groups' separate models, so these are its
    estimates; constrained models start from their averages. Under FIML: lavaan's
    simple starting values until a model without shared parameters has been fitted
    (:func:`optimise` keeps its estimates here)."""
    if setup.starts is not None:
        return setup.starts
    if setup.missing == "fiml":
        # a FIML fit of each group would be the configural model fitted G times: its
        # first stage (the complete-data fit to the EM moments) is the optimiser's own,
        # so start from lavaan's simple values and keep the first model fitted with
        # nothing shared across groups as the later models' start (:func:`optimise`)
        return [(start_vector(grp.pt, grp.names, grp.model, grp.s), grp.m.copy())
                for grp in setup.groups]
    obs_index = {v: i for i, v in enumerate(setup.observed)}
    out = []
    for grp in setup.groups:
        local = start_vector(grp.pt, grp.names, grp.model, grp.s)
        means = grp.m.copy()
        try:
            # the group's own table (its c(...) modifiers), as syntax
            f = fit_model(partable_syntax(grp.pt), pd.DataFrame(grp.x, columns=setup.observed),
                          missing=setup.missing)
        except InputError:
            f = None
        if f is not None and f.converged:
            est = f.estimates["est"].to_numpy()
            for row, nm, e in zip(grp.pt.rows, grp.names, est):
                if nm is not None:
                    local[grp.model.active.index(nm)] = e
            if setup.missing == "fiml":
                ints = f.estimates[f.estimates["op"] == OP_INTERCEPT]
                for v, e in zip(ints["lhs"], ints["est"]):
                    if v in obs_index:
                        means[obs_index[v]] = e
        out.append((local, means))
    setup.starts = out
    return out


def starting_values(setup: Setup, reg: Registry) -> np.ndarray:
    """Starting values: each group's single-group estimates (:func:`_group_starts`),
    latent means 0; a shared parameter starts at the mean of the groups' values."""
    acc = np.zeros(reg.k)
    cnt = np.zeros(reg.k)
    for g, (local, means) in enumerate(_group_starts(setup)):
        for c_local, k in enumerate(reg.cov_gid[g]):
            acc[k] += local[c_local]
            cnt[k] += 1
        for i, k in reg.a_free[g]:
            if i < len(setup.observed):
                acc[k] += means[i]
            cnt[k] += 1
    return np.where(cnt > 0, acc / np.maximum(cnt, 1), 0.0)


#: Steps of FIML scoring with one expected information before it is recomputed.
REFRESH = 8
#: Under FIML the complete-data fit to the EM moments only gives the start of FIML
#: scoring (which converges to ``tol``): it stops when no parameter moves by this much.
START_TOL = 1e-5


def optimise(setup: Setup, reg: Registry, theta, max_iter=300, tol=1e-9):
    """Fisher scoring, theta += I^-1 g, with step halving on chisq(theta).

    Under FIML, first the complete-data fit to each group's EM moments (as the engine
    does; to :data:`START_TOL`), then FIML scoring from there. If scoring stalls, L-BFGS with the analytic
    gradient, then scoring again to polish. Under FIML, the first converged model with
    no parameter shared across groups (the configural model) becomes the start of the
    later models of the same ``setup`` (:func:`_group_starts`).
    """
    if any(g.pat is not None for g in setup.groups):
        complete = replace(setup, groups=[replace(g, pat=None) for g in setup.groups])
        theta, _ = _scoring(complete, reg, theta, 100, START_TOL)
    theta, ok = _scoring(setup, reg, theta, max_iter, tol)
    if not ok:
        theta = _lbfgs(setup, reg, theta)
        theta, ok = _scoring(setup, reg, theta, max_iter, tol)
    if ok and setup.starts is None and setup.missing == "fiml" and _separate(reg):
        setup.starts = _group_solution(setup, reg, theta)
    return theta, ok


def _separate(reg: Registry) -> bool:
    """No parameter is shared by two groups (the configural model)."""
    used = [set(reg.cov_gid[g].tolist()) | {k for *_, k in reg.b_free[g]}
            | {k for _, k in reg.a_free[g]} for g in range(len(reg.cov_gid))]
    return sum(len(u) for u in used) == len(set().union(*used))


def _group_solution(setup: Setup, reg: Registry, theta) -> list:
    """Per group, as :func:`_group_starts`: the values of its semopy parameters and of
    its intercepts at ``theta``."""
    out = []
    for g, grp in enumerate(setup.groups):
        means = grp.m.copy()
        for i, k in reg.a_free[g]:
            if i < len(setup.observed):
                means[i] = theta[k]
        out.append((theta[reg.cov_gid[g]].copy(), means))
    return out


def _lbfgs(setup: Setup, reg: Registry, theta):
    """Minimise chisq(theta) by L-BFGS with the analytic gradient."""
    def fun(th):
        try:
            f = discrepancy(setup, reg, th)
            g = -2 * loglik_gradient(setup, reg, th) if np.isfinite(f) else np.zeros_like(th)
        except np.linalg.LinAlgError:
            f, g = math.inf, np.zeros_like(th)
        return (f if np.isfinite(f) else 1e300), g

    res = optimize.minimize(fun, theta, jac=True, method="L-BFGS-B",
                            options={"maxiter": 10000, "ftol": 1e-15, "gtol": 1e-8,
                                     "maxcor": 30})
    return res.x if np.isfinite(res.fun) and res.fun < 1e300 else theta


def _scoring(setup: Setup, reg: Registry, theta, max_iter, tol):
    """Fisher scoring with step halving; converged when no parameter moves by ``tol``.

    Under FIML the expected information costs about fifty gradients, and near the
    optimum it hardly changes: it is kept while the steps shrink and none needs halving,
    and recomputed otherwise (and every :data:`REFRESH` steps). The point converged to
    is the same (the gradient is zero there whatever the matrix); only the path changes.
    """
    f0 = discrepancy(setup, reg, theta)
    if not np.isfinite(f0):
        return theta, False
    reuse = any(g.pat is not None for g in setup.groups)
    info, age, prev = None, 0, math.inf
    for _ in range(max_iter):
        if info is None or not reuse:
            grad, info = score_information(setup, reg, theta)
            age = 0
        else:
            grad = loglik_gradient(setup, reg, theta)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return theta, False
        lam = 1.0
        while True:
            new = theta + lam * step
            f1 = discrepancy(setup, reg, new)
            if f1 <= f0 + 1e-10 * max(1.0, abs(f0)) or lam < 1e-6:
                break
            lam /= 2
        if not np.isfinite(f1) or lam < 1e-6:  # no descent along the scoring direction
            if age == 0:
                return theta, False
            info = None  # a stale information matrix: retry with a fresh one
            continue
        size = float(np.max(np.abs(lam * step)))
        theta, f0 = new, f1
        if size < tol:
            return theta, True
        age += 1
        if lam < 1 or size > prev or age >= REFRESH:
            info = None
        prev = size
    return theta, False


def expand(reg: Registry, ereg: Registry, theta) -> np.ndarray:
    """Values of ``theta`` (registry ``reg``) in the less constrained registry ``ereg``
    (same model, fewer shared parameters): each parameter takes its group's value."""
    out = np.zeros(ereg.k)
    for g in range(len(reg.cov_gid)):
        out[ereg.cov_gid[g]] = theta[reg.cov_gid[g]]
        for (i, j, k), (_, _, ke) in zip(reg.b_free[g], ereg.b_free[g]):
            out[ke] = theta[k]
        for (i, k), (_, ke) in zip(reg.a_free[g], ereg.a_free[g]):
            out[ke] = theta[k]
    return out
