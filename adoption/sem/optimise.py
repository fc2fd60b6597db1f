"""Optimisation: the iterations that find the ML estimates (lavaan's ``lav_optim_*``).

Each function takes a :class:`adoption.sem.matrices.SemModel` and the sample it is fitted
to, and returns the estimates and whether they converged; none of them reports,
standardises or tests. Complete data: Fisher scoring on F_ML, finished by BFGS with the
analytic gradient (:func:`fisher_scoring`, :func:`bfgs`). FIML: Fisher scoring with the
expected information under MAR, then Newton with the observed information
(:func:`fiml_optimise`). The observed informations and casewise scores here are those
of the same objectives (the standard errors use them).
"""

from __future__ import annotations

import math

import numpy as np

from adoption.sem import fiml
from adoption.sem import fitmeasures as fm
from adoption.sem import robust as rb
from adoption.sem.matrices import SemModel, dsigma_stack

__all__ = ["fisher_scoring", "scoring_step", "bfgs", "ml_objective", "fiml_objective", "ml_gradient",
           "observed_information", "fiml_optimise", "fiml_gradient",
           "fiml_observed_information", "fiml_scores"]


# --------------------------------------------------------------------------- complete data
def fisher_scoring(model: SemModel, theta, s, max_iter=200, tol=1e-10, switch=None):
    """Polish ML estimates: theta += (Delta'W Delta)^-1 Delta'W vech(S - Sigma).

    Fisher scoring converges linearly when the model misfits; with ``switch`` (a step
    size), once a step is below it the iterations continue by BFGS (:func:`bfgs`)
    from the inverse Fisher information, with the analytic gradient of F_ML at a
    fraction of the cost of an iteration (same optimum and stopping rule). Where the
    information is singular the step is its minimum-norm least-squares solution.
    Returns (theta, converged)."""
    ok = False
    for _ in range(max_iter):
        sig, delta = model.sigma_delta(theta)
        if np.min(np.linalg.eigvalsh(sig)) <= 0:
            return theta, False
        si = np.linalg.inv(sig)
        g = delta.T @ rb.ml_weight_times(si, s - sig)
        info = delta.T @ rb.ml_weight_times_delta(si, delta)
        step = scoring_step(info, g)
        if step is None:
            return theta, False
        # halve the step while the discrepancy does not decrease
        f0 = fm.chisq_ml(s, sig, 1)
        lam = 1.0
        while lam > 1e-6:
            new = theta + lam * step
            sn, _, _ = model.sigma(new)
            if np.min(np.linalg.eigvalsh(sn)) > 0 and fm.chisq_ml(s, sn, 1) <= f0 + 1e-14:
                break
            lam /= 2
        theta = new
        if np.max(np.abs(lam * step)) < tol:
            ok = True
            break
        if switch is not None and np.max(np.abs(lam * step)) < switch:
            try:
                h0 = np.linalg.inv(2 * info)
            except np.linalg.LinAlgError:
                continue
            return bfgs(lambda th: ml_objective(model, th, s), theta, h0, tol=tol)
    return theta, ok


def scoring_step(info: np.ndarray, g: np.ndarray, max_cond: float = 1e12) -> np.ndarray:
    """The Fisher-scoring step I^-1 g, or, where I is singular or its condition number
    exceeds ``max_cond``, the minimum-norm least-squares step with the singular values
    below ``1 / max_cond`` of the largest left out (truncated SVD).

    A singular information occurs at lavaan's start values (latent covariances 0) when
    a factor is identified only through its covariances with the other factors: a
    second-order factor over two factors, or a factor of three items with a residual
    covariance. The truncated step moves in the directions the data identify there
    and takes those covariances off 0; lavaan's quasi-Newton (nlminb) needs no inverse
    and moves likewise. The same 1e12 bound marks a singular information for the
    standard errors. None when I is not finite.
    """
    try:
        if np.linalg.cond(info) <= max_cond:
            return np.linalg.solve(info, g)
    except np.linalg.LinAlgError:
        pass
    try:
        return np.linalg.lstsq(info, g, rcond=1.0 / max_cond)[0]
    except np.linalg.LinAlgError:  # not finite: no step
        return None


def ml_objective(model: SemModel, theta, s):
    """F_ML = log|Sigma| + tr(S Sigma^-1) - log|S| - p and its gradient
    -2 Delta' W vech(S - Sigma); ok False when Sigma is not positive definite."""
    sig, mm, cc = model.sigma(theta)
    try:
        chol = np.linalg.cholesky(sig)
    except np.linalg.LinAlgError:
        return math.inf, None, False
    si = np.linalg.inv(sig)
    si = (si + si.T) / 2
    f = 2.0 * float(np.sum(np.log(np.diag(chol)))) + float(np.sum(s * si))
    # dF = tr(G dSigma), G = Sigma^-1 (Sigma - S) Sigma^-1
    return f, model.trace_gradient(si - si @ s @ si, mm, cc), True


def fiml_objective(model: SemModel, pat, theta, mu):
    """-logl of FIML and its gradient in (theta, mu) (every mean free)."""
    sig, mm, cc = model.sigma(theta)
    try:
        d, z, ld, si, a_sum = fiml.casewise_terms(pat, mu, sig)
    except np.linalg.LinAlgError:
        return math.inf, None, False
    f = 0.5 * (float(np.sum(ld)) + float(np.einsum("ij,ij->", d, z)))
    # d logl = 1/2 tr(M dSigma) (fiml.gradient): d(-logl) = tr(-M/2 dSigma)
    g_th = model.trace_gradient(-0.5 * (z.T @ z - a_sum), mm, cc)
    return f, np.concatenate([g_th, -z.sum(axis=0)]), True


def bfgs(fg, z, h_inv, tol=1e-10, max_iter=200):
    """Minimise f by BFGS from ``z`` with initial inverse Hessian ``h_inv`` (the inverse
    expected information, so the first step is a Fisher-scoring step); steps are halved
    while f does not decrease (beyond rounding). Converged when the largest step is
    below ``tol``, as :func:`fisher_scoring`. Returns (z, converged)."""
    f, g, ok = fg(z)
    if not ok:
        return z, False
    h = np.array(h_inv, dtype=float)
    for _ in range(max_iter):
        step = -h @ g
        lam = 1.0
        while True:
            z_new = z + lam * step
            f_new, g_new, ok = fg(z_new)
            if ok and f_new <= f + 1e-13 * max(1.0, abs(f)):
                break
            lam /= 2
            if lam < 1e-8:
                return z, False
        sz, y = z_new - z, g_new - g
        z, f, g = z_new, f_new, g_new
        if np.max(np.abs(sz)) < tol:
            return z, True
        sy = float(sz @ y)
        if sy > 1e-300:
            hy = h @ y
            h += ((sy + y @ hy) / sy ** 2) * np.outer(sz, sz) \
                - (np.outer(hy, sz) + np.outer(sz, hy)) / sy
    return z, False


def ml_gradient(model: SemModel, theta, s):
    """-1/2 dF_ML/dtheta = Delta' W vech(S - Sigma) (score per observation)."""
    sig, delta = model.sigma_delta(theta)
    return delta.T @ rb.ml_weight_times(np.linalg.inv(sig), s - sig)


def observed_information(model: SemModel, theta, s, h=1e-6):
    """Observed information per observation: minus the Jacobian of the analytic score,
    by central differences (lavaan ``observed.information = "hessian"``)."""
    k = len(theta)
    a = np.zeros((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h * max(1.0, abs(theta[j]))
        a[:, j] = -(ml_gradient(model, theta + e, s) - ml_gradient(model, theta - e, s)) \
            / (2 * e[j])
    model.sigma(theta)
    return (a + a.T) / 2


# --------------------------------------------------------------------------- FIML
def fiml_optimise(model: SemModel, pat, theta, mu, free_mu, tol=1e-9):
    """Maximise the FIML log-likelihood over (theta, mu[free_mu]).

    Fisher scoring first, (theta, mu) += I^-1 g with g the analytic FIML gradient and I
    the expected information under MAR (:func:`adoption.sem.fiml.expected_information`);
    it converges only linearly, slowly when the model misfits (observed and expected
    information then differ), so once a step is more than 0.2 times the previous one,
    Newton steps with the observed information (the Hessian, by differences of the
    analytic gradient) finish the job. Steps are halved
    while the log-likelihood does not increase. Returns (theta, mu, converged).
    """
    k = len(theta)
    sig, _, _ = model.sigma(theta)
    f0 = fiml.loglik(pat, mu, sig)
    if not np.isfinite(f0):
        return theta, mu, False

    def line_search(step):
        lam = 1.0
        while True:
            new_th = theta + lam * step[:k]
            new_mu = mu.copy()
            new_mu[free_mu] += lam * step[k:]
            sn, _, _ = model.sigma(new_th)
            f1 = fiml.loglik(pat, new_mu, sn)
            if f1 >= f0 - 1e-12 * abs(f0) or lam < 1e-6:
                return new_th, new_mu, f1, lam * np.max(np.abs(step), initial=0.0)
            lam /= 2

    prev = math.inf
    for it in range(50):  # Fisher scoring while it contracts fast
        sig, delta = model.sigma_delta(theta)
        g_th, g_mu = fiml_gradient(model, pat, theta, mu)
        info_th, info_mu = fiml.expected_information(pat, sig, dsigma_stack(delta, pat.p))
        try:
            step = np.concatenate([np.linalg.solve(info_th, g_th),
                                   np.linalg.solve(info_mu[np.ix_(free_mu, free_mu)],
                                                   g_mu[free_mu])])
        except np.linalg.LinAlgError:
            return theta, mu, False
        theta, mu, f0, size = line_search(step)
        if size < tol:
            return theta, mu, True
        if it >= 2 and size > 0.2 * prev:
            break
        prev = size
    for _ in range(3):  # Newton, Hessian refreshed if 20 steps do not converge
        info = fiml_observed_information(model, pat, theta, mu, free_mu)
        for _ in range(20):
            g_th, g_mu = fiml_gradient(model, pat, theta, mu)
            try:
                step = np.linalg.solve(info, np.concatenate([g_th, g_mu[free_mu]]))
            except np.linalg.LinAlgError:
                return theta, mu, False
            theta, mu, f0, size = line_search(step)
            if size < tol:
                return theta, mu, True
    return theta, mu, False


def fiml_gradient(model: SemModel, pat, theta, mu):
    """(d logl/d theta, d logl/d mu) of the FIML log-likelihood."""
    r, c = rb.vech_index(pat.p)
    sig, delta = model.sigma_delta(theta)
    g_mu, big_m = fiml.gradient(pat, mu, sig)
    return delta.T @ (big_m[r, c] * np.where(r == c, 0.5, 1.0)), g_mu


def fiml_observed_information(model: SemModel, pat, theta, mu, free_mu, h=1e-6):
    """Observed information (minus the Hessian of the FIML logl, total, not per case)
    of (theta, mu[free_mu]): theta columns by central differences of the analytic
    gradient, the mu-mu block analytic, sum_g n_g Sigma_oo^-1 (embedded)."""
    k, m = len(theta), len(free_mu)
    hess = np.zeros((k + m, k + m))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h * max(1.0, abs(theta[j]))
        gp_th, gp_mu = fiml_gradient(model, pat, theta + e, mu)
        gm_th, gm_mu = fiml_gradient(model, pat, theta - e, mu)
        hess[:k, j] = (gp_th - gm_th) / (2 * e[j])
        hess[k:, j] = (gp_mu - gm_mu)[free_mu] / (2 * e[j])
    sig, _, _ = model.sigma(theta)
    _, a = fiml.expected_information(pat, sig, np.zeros((0, pat.p, pat.p)))
    hess[:k, k:] = hess[k:, :k].T
    hess[k:, k:] = -a[np.ix_(free_mu, free_mu)]
    return -(hess + hess.T) / 2


def fiml_scores(model: SemModel, pat, theta, mu, free_mu) -> np.ndarray:
    """Casewise scores d logl_i / d (theta, mu[free_mu]), N x (k + m)."""
    sig, delta = model.sigma_delta(theta)
    s_mu, s_sig = fiml.casewise_scores(pat, mu, sig)
    return np.hstack([s_sig @ delta, s_mu[:, free_mu]])
