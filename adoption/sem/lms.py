"""Latent moderated structural equations (LMS; Klein & Moosbrugger 2000).

One latent interaction ``Y ~ X + Z + ... + X:Z`` with normal exogenous latent variables
``xi = (X, Z, ...)``, each measured by its own indicators (first loading 1), and a latent
outcome ``Y`` measured by its indicators. The likelihood is exact up to one numerical
integral: with ``Phi = A A'`` (Cholesky, X first) write ``xi = A w``, ``w ~ N(0, I)``. Then
``X = a_11 w_1`` and, given ``w_1 = v``, every latent variable -- the product ``X Z``
included -- is linear in the remaining ``w``, so the indicators are multivariate normal
with mean ``mu(v)`` and covariance ``Sigma(v)`` (:func:`conditional_moments`). The
marginal density is the mixture

    f(x) = int phi(v) N(x; mu(v), Sigma(v)) dv ~ sum_k w_k N(x; mu(v_k), Sigma(v_k))

over Gauss-Hermite nodes ``v_k`` and weights ``w_k`` of the standard normal
(:func:`normal_quadrature`). It is maximised directly by BFGS with the analytic gradient
(:func:`mixture_gradient`; the small moment Jacobian d(mu, Sigma)/dtheta by central
differences), polished by Newton steps; standard errors come from the observed
information, the Hessian being the central-difference Jacobian of that gradient.

Parameters and their names follow lavaan: ``=~`` loadings, ``~`` regressions (the product
written ``X:Z``), ``~~`` (co)variances of the exogenous latent variables, residual
variances of the outcome and of the indicators, ``~1`` indicator intercepts. Latent means
are 0 and the outcome's intercept is 0, as Mplus's ``XWITH`` model.

References
----------
Klein, A., & Moosbrugger, H. (2000). Maximum likelihood estimation of latent interaction
effects with the LMS method. *Psychometrika, 65*(4), 457-474.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import logsumexp

from adoption.errors import InputError
from adoption.sem.engine import fit_model
from adoption.sem.latent_interaction import (ASSUMPTIONS, INTERACTION_COLUMNS, METHOD_LMS,
                                             LatentInteraction, interaction_rows,
                                             wald_columns)
from adoption.sem.standardized import numerical_jacobian
from adoption.vocabulary import OP_COVARIANCE, OP_INTERCEPT, OP_LOADING, OP_REGRESSION

#: Gauss-Hermite nodes used by default; see :func:`fit_lms` for the accuracy this gives.
DEFAULT_NODES = 128


@dataclass(frozen=True)
class LmsModel:
    """The structure of an LMS model.

    Attributes
    ----------
    exogenous : tuple of (str, tuple of str)
        Exogenous latent variables and their indicators, the focal predictor first.
    outcome : (str, tuple of str)
        The latent outcome and its indicators.
    moderator : str
        The exogenous variable multiplying the focal predictor (not the first).
    """

    exogenous: tuple
    outcome: tuple
    moderator: str

    @property
    def focal(self) -> str:
        return self.exogenous[0][0]

    @property
    def items(self) -> list[str]:
        return [i for _, its in self.exogenous for i in its] + list(self.outcome[1])

    @property
    def latents(self) -> list[str]:
        return [n for n, _ in self.exogenous] + [self.outcome[0]]

    def rows(self) -> list[tuple]:
        """(lhs, op, rhs) of the free parameters, in the order of the vector theta."""
        out = [(n, OP_LOADING, i) for n, its in self.exogenous + (self.outcome,)
               for i in its[1:]]
        y = self.outcome[0]
        names = [n for n, _ in self.exogenous]
        out += [(y, OP_REGRESSION, n) for n in names]
        out += [(y, OP_REGRESSION, f"{self.focal}:{self.moderator}")]
        out += [(a, OP_COVARIANCE, names[j]) for i, a in enumerate(names)
                for j in range(i + 1)]
        out += [(y, OP_COVARIANCE, y)] + [(i, OP_COVARIANCE, i) for i in self.items]
        out += [(i, OP_INTERCEPT, "") for i in self.items]
        return out


def unpack(model: LmsModel, theta: np.ndarray) -> dict:
    """The model matrices from the parameter vector (order of :meth:`LmsModel.rows`).

    Returns
    -------
    dict
        ``lam`` (p, m + 1) loadings, ``gamma`` (m,), ``omega`` (the product's
        coefficient), ``phi`` (m, m), ``psi`` (the outcome's residual variance),
        ``theta`` (p,) indicator residual variances, ``nu`` (p,) intercepts.
    """
    m, p = len(model.exogenous), len(model.items)
    lam = np.zeros((p, m + 1))
    pos, at = 0, 0
    for col, (_, its) in enumerate(model.exogenous + (model.outcome,)):
        lam[pos, col] = 1.0
        lam[pos + 1:pos + len(its), col] = theta[at:at + len(its) - 1]
        at += len(its) - 1
        pos += len(its)
    gamma, omega = theta[at:at + m], theta[at + m]
    at += m + 1
    phi = np.zeros((m, m))
    phi[np.tril_indices(m)] = theta[at:at + m * (m + 1) // 2]
    phi = phi + np.tril(phi, -1).T
    at += m * (m + 1) // 2
    return {"lam": lam, "gamma": gamma, "omega": omega, "phi": phi, "psi": theta[at],
            "theta": theta[at + 1:at + 1 + p], "nu": theta[at + 1 + p:at + 1 + 2 * p]}


def normal_quadrature(k: int, min_weight: float = 1e-14) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and log-weights for the standard normal density.

    Parameters
    ----------
    k : int
        Number of Gauss-Hermite nodes (at most 300: numpy's rule overflows beyond).
    min_weight : float
        Nodes with a smaller weight are dropped (with k = 128 those with |v| > 7.7,
        about half of them): their total weight is below 1e-13 and they matter only
        for a row whose focal latent value lies beyond ~8 standard deviations.

    Returns
    -------
    v, log_w : np.ndarray
        Nodes and log-weights, same length (at most k).

    Notes
    -----
    int phi(v) g(v) dv ~ sum_k w_k g(v_k) with v_k = sqrt(2) t_k and
    w_k = omega_k / sqrt(pi), (t_k, omega_k) the Gauss-Hermite rule for exp(-t^2)
    (``numpy.polynomial.hermite.hermgauss``); exact for polynomials g of degree 2k - 1.
    Near the centre the nodes are about pi / sqrt(k) apart, which must be small beside
    the posterior spread of the focal direction given a row's indicators.
    """
    v, log_w = _gauss_hermite(k, min_weight)
    return v.copy(), log_w.copy()


@functools.lru_cache(maxsize=8)
def _gauss_hermite(k: int, min_weight: float):
    t, w = np.polynomial.hermite.hermgauss(k)     # an eigenproblem: computed once per k
    w = w / np.sqrt(np.pi)
    keep = w >= min_weight
    return np.sqrt(2.0) * t[keep], np.log(w[keep])


def conditional_moments(model: LmsModel, theta: np.ndarray, v: np.ndarray):
    """Mean and covariance of the indicators given the focal direction ``w_1 = v``.

    Parameters
    ----------
    model : LmsModel
    theta : np.ndarray
        Parameter vector.
    v : np.ndarray, shape (K,)
        Values of the standard normal ``w_1`` (quadrature nodes).

    Returns
    -------
    mu : np.ndarray, shape (K, p)
    sigma : np.ndarray, shape (K, p, p)
        None, None when Phi is not positive definite.

    Notes
    -----
    With ``Phi = A A'``, ``a = A[:, 0]``, ``R = A[:, 1:]``, ``j`` the moderator:
    ``xi | v = a v + R u``, ``u ~ N(0, I)``, and
    ``Y | v = (gamma'a) v + omega a_1 a_j v^2 + (gamma'R + omega a_1 v R_j) u + zeta``.
    So the latent vector is ``m(v) + B(v) u + (0, zeta)``, and
    ``mu(v) = nu + Lambda m(v)``,
    ``Sigma(v) = Lambda (B(v) B(v)' + diag(0, psi)) Lambda' + Theta``.
    """
    par = unpack(model, theta)
    try:
        a_mat = np.linalg.cholesky(par["phi"])
    except np.linalg.LinAlgError:
        return None, None
    j = [n for n, _ in model.exogenous].index(model.moderator)
    a, r = a_mat[:, 0], a_mat[:, 1:]
    g, om = par["gamma"], par["omega"]
    k, m = len(v), len(a)
    mean = np.empty((k, m + 1))
    mean[:, :m] = np.outer(v, a)
    mean[:, m] = v * (g @ a) + om * a[0] * a[j] * v ** 2
    b = np.empty((k, m + 1, m - 1))
    b[:, :m, :] = r
    b[:, m, :] = g @ r + om * a[0] * v[:, None] * r[j]
    cov_l = b @ b.transpose(0, 2, 1)
    cov_l[:, m, m] += par["psi"]
    lam = par["lam"]
    mu = par["nu"] + mean @ lam.T
    sigma = lam @ cov_l @ lam.T + np.diag(par["theta"])
    return mu, sigma


def _components(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray, log_w: np.ndarray):
    """Per-row log component densities plus log-weights, (K, n), and the inverses."""
    sign, logdet = np.linalg.slogdet(sigma)
    if np.any(sign <= 0):
        return None, None, None
    s_inv = np.linalg.inv(sigma)
    d = x[None, :, :] - mu[:, None, :]
    quad = np.sum((d @ s_inv) * d, axis=2)
    p = x.shape[1]
    log_c = log_w[:, None] - 0.5 * (p * np.log(2 * np.pi) + logdet[:, None] + quad)
    return log_c, s_inv, d


def mixture_loglik(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                   log_w: np.ndarray) -> float:
    """Log-likelihood of rows under a mixture of normals.

    Notes
    -----
    l = sum_i log sum_k w_k N(x_i; mu_k, Sigma_k), computed with log-sum-exp.
    Returns -inf when a Sigma_k is not positive definite.
    """
    log_c, _, _ = _components(x, mu, sigma, log_w)
    if log_c is None:
        return -np.inf
    return float(logsumexp(log_c, axis=0).sum())


def mixture_gradient(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray, log_w: np.ndarray):
    """Log-likelihood of a normal mixture and its derivatives in each mu_k and Sigma_k.

    Returns
    -------
    loglik : float
    g_mu : np.ndarray, shape (K, p)
    g_sigma : np.ndarray, shape (K, p, p)

    Notes
    -----
    With posterior weights r_ik = w_k N_ik / sum_l w_l N_il and d_ik = x_i - mu_k:
    dl/dmu_k = Sigma_k^-1 sum_i r_ik d_ik, and
    dl/dSigma_k = 1/2 Sigma_k^-1 (sum_i r_ik d_ik d_ik') Sigma_k^-1 - 1/2 (sum_i r_ik)
    Sigma_k^-1 (derivative in each element of Sigma_k taken as free, so the chain rule
    through a symmetric dSigma/dtheta is a plain elementwise sum).
    """
    log_c, s_inv, d = _components(x, mu, sigma, log_w)
    if log_c is None:
        return -np.inf, None, None
    log_f = logsumexp(log_c, axis=0)
    r = np.exp(log_c - log_f[None, :])
    rd = (r[:, None, :] @ d)[:, 0, :]
    g_mu = (s_inv @ rd[:, :, None])[:, :, 0]
    scatter = (d * r[:, :, None]).transpose(0, 2, 1) @ d
    g_sigma = 0.5 * (s_inv @ scatter @ s_inv - r.sum(axis=1)[:, None, None] * s_inv)
    return float(log_f.sum()), g_mu, g_sigma


def lms_loglik(model: LmsModel, theta: np.ndarray, x: np.ndarray, nodes: int) -> float:
    """LMS log-likelihood of the rows ``x`` (columns in ``model.items`` order)."""
    v, log_w = normal_quadrature(nodes)
    mu, sigma = conditional_moments(model, theta, v)
    if mu is None:
        return -np.inf
    return mixture_loglik(x, mu, sigma, log_w)


def lms_gradient(model: LmsModel, theta: np.ndarray, x: np.ndarray, nodes: int):
    """LMS log-likelihood and its gradient in theta.

    Notes
    -----
    dl/dtheta = sum_k [dl/dmu_k . dmu_k/dtheta + sum(dl/dSigma_k * dSigma_k/dtheta)]
    (:func:`mixture_gradient`); the moments' Jacobian, which does not depend on the
    number of rows, by central differences (:func:`numerical_jacobian`, relative step
    1e-6: the moments are polynomials of degree <= 6 in theta, truncation ~1e-12).
    """
    v, log_w = normal_quadrature(nodes)
    mu, sigma = conditional_moments(model, theta, v)
    if mu is None:
        return -np.inf, np.full(len(theta), np.nan)
    ll, g_mu, g_sigma = mixture_gradient(x, mu, sigma, log_w)
    if g_mu is None:
        return -np.inf, np.full(len(theta), np.nan)

    def moments(t):
        m, s = conditional_moments(model, t, v)
        if m is None:
            return np.full(mu.size + sigma.size, np.nan)
        return np.concatenate([m.ravel(), s.ravel()])

    jac = numerical_jacobian(moments, theta)
    return ll, np.concatenate([g_mu.ravel(), g_sigma.ravel()]) @ jac


def start_values(model: LmsModel, data: pd.DataFrame) -> np.ndarray:
    """Start values: the linear model without the product, fitted by the engine.

    Loadings, regressions, (co)variances from :func:`adoption.sem.engine.fit_model`; the
    product's coefficient 0; intercepts the sample means.
    """
    lines = [f"{n} =~ " + " + ".join(its) for n, its in model.exogenous + (model.outcome,)]
    lines.append(f"{model.outcome[0]} ~ " + " + ".join(n for n, _ in model.exogenous))
    est = fit_model("\n".join(lines), data).estimates
    table = {(r.lhs, r.op, r.rhs): r.est for r in est.itertuples()}
    theta = []
    for lhs, op, rhs in model.rows():
        if op == OP_INTERCEPT:
            theta.append(float(data[lhs].mean()))
        elif op == OP_REGRESSION and ":" in rhs:
            theta.append(0.0)
        else:
            theta.append(float(table.get((lhs, op, rhs), table.get((rhs, op, lhs)))))
    return np.array(theta)


def _maximise(model: LmsModel, theta: np.ndarray, x: np.ndarray, nodes: int):
    """BFGS on -l/n with the analytic gradient, then one Newton step.

    The information at BFGS's point also gives the standard errors (the Newton step
    moves the estimates by far less than their standard errors' precision).
    """
    n = len(x)

    def objective(t):
        ll, g = lms_gradient(model, t, x, nodes)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(t)
        return -ll / n, -g / n

    res = optimize.minimize(objective, theta, jac=True, method="BFGS",
                            options={"gtol": 1e-8, "maxiter": 1000})
    info = information(model, res.x, x, nodes)
    theta = res.x + np.linalg.solve(info, lms_gradient(model, res.x, x, nodes)[1])
    ll, grad = lms_gradient(model, theta, x, nodes)
    if not ll >= -res.fun * n:       # the Newton step did not improve: keep BFGS's point
        theta, ll, grad = res.x, -res.fun * n, -res.jac * n
    converged = bool(np.isfinite(ll) and np.max(np.abs(grad)) < 1e-3)
    return theta, ll, info, converged


def information(model: LmsModel, theta: np.ndarray, x: np.ndarray, nodes: int) -> np.ndarray:
    """Observed information -d2l/dtheta2: the central-difference Jacobian of the
    analytic gradient (relative step 1e-5), symmetrised."""
    hess = numerical_jacobian(lambda t: lms_gradient(model, t, x, nodes)[1], theta,
                              rel_step=1e-5)
    return -0.5 * (hess + hess.T)


def fit_lms(data: pd.DataFrame, *, outcome: tuple, focal: tuple, moderator: tuple,
            others: tuple = (), nodes: int = DEFAULT_NODES) -> LatentInteraction:
    """Fit ``outcome ~ focal + moderator + others + focal:moderator`` by LMS.

    Parameters
    ----------
    data : pd.DataFrame
        Raw data; rows with a missing indicator are deleted (listwise, said in
        ``warnings``).
    outcome, focal, moderator : (str, list of str)
        Latent variables and their indicators (first loading fixed at 1).
    others : tuple of (str, list of str)
        Further exogenous latent predictors of the outcome.
    nodes : int
        Gauss-Hermite nodes for the focal direction.

    Returns
    -------
    LatentInteraction
        ``method`` :data:`METHOD_LMS`; ``fit`` has npar, logl, aic, bic; ``details`` the
        nodes and the optimiser.

    Raises
    ------
    InputError
        An indicator missing from the data or not numeric, a variable named twice.
    ValueError
        ``nodes`` outside 8..300.

    Notes
    -----
    Matches Mplus 8.10 (``TYPE = RANDOM; ALGORITHM = INTEGRATION; XZ | X XWITH Z``) on
    modsem's oneInt data to the three decimals Mplus prints
    (``tests/test_sem_lms.py``). The log-likelihood is the exact marginal likelihood up to
    the quadrature error: there 32, 64, 96, 128 and 256 nodes give -15142.93, -15142.610,
    -15142.61172, -15142.611754, -15142.611754 at Mplus's estimates. The quadrature is
    not adaptive, so the nodes must be close beside the spread of the focal direction
    given a row's indicators: a more reliable focal predictor needs more nodes (check
    by refitting with more). The SEs use the observed information, as Mplus's default
    (a numerical Hessian: central differences of the analytic gradient).
    """
    if not 8 <= nodes <= 300:
        raise ValueError(f"nodes must be between 8 and 300, not {nodes}.")
    model = LmsModel(exogenous=((focal[0], tuple(focal[1])), (moderator[0],
                                tuple(moderator[1])))
                     + tuple((n, tuple(i)) for n, i in others),
                     outcome=(outcome[0], tuple(outcome[1])), moderator=moderator[0])
    _check_columns(model, data)
    complete = data.dropna(subset=model.items)
    x = complete[model.items].to_numpy(dtype=float)
    theta, ll, info, converged = _maximise(model, start_values(model, complete), x, nodes)
    try:
        se = np.sqrt(np.diag(np.linalg.inv(info)))
    except np.linalg.LinAlgError:
        se = np.full(len(theta), np.nan)
    rows = model.rows()
    est = pd.DataFrame(rows, columns=["lhs", "op", "rhs"])
    est["est"], est["se"] = theta, se
    for col, values in wald_columns(theta, se).items():
        est[col] = values
    est = est[list(INTERACTION_COLUMNS)]
    k, n = len(theta), len(x)
    dropped = len(data) - n
    notes = (f"{dropped} rows with a missing indicator deleted (listwise).",) if dropped else ()
    if not converged:
        notes += ("LMS did not converge (gradient not near zero); do not interpret.",)
    return LatentInteraction(
        method=METHOD_LMS, assumptions=ASSUMPTIONS[METHOD_LMS], outcome=outcome[0],
        focal=focal[0], moderator=moderator[0],
        interaction=interaction_rows(est, outcome[0], focal[0], moderator[0],
                                     f"{focal[0]}:{moderator[0]}"),
        estimates=est, fit={"npar": float(k), "logl": ll, "aic": -2 * ll + 2 * k,
                            "bic": -2 * ll + k * np.log(n)},
        nobs=n, converged=converged, warnings=notes,
        details=(("quadrature", f"{nodes} Gauss-Hermite nodes, focal direction"),
                 ("optimiser", "BFGS, analytic gradient, Newton polish"),
                 ("standard errors", "observed information (numerical Hessian)")))


def _check_columns(model: LmsModel, data: pd.DataFrame) -> None:
    items = model.items
    missing = [c for c in items if c not in data.columns]
    if missing:
        raise InputError(f"LMS: indicator(s) {', '.join(missing)} not in the data; name "
                         "columns of the data file.")
    text = [c for c in items if not pd.api.types.is_numeric_dtype(data[c])]
    if text:
        raise InputError(f"LMS: indicator(s) {', '.join(text)} not numeric; recode them.")
    names = model.latents + items
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"LMS: {', '.join(twice)} named twice; give each latent "
                         "variable its own indicators.")
