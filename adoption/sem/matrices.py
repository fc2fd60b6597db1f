"""Model matrices: the one module that imports semopy.

A parameter table (:class:`adoption.sem.partable.ParTable`) becomes a semopy model whose
matrices give Sigma(theta), its Jacobian Delta = d vech(Sigma) / d theta' and the
gradient trace tr(G dSigma/dtheta) in this project's variable order
(:class:`SemModel`); lavaan's stage ``lav_model_*``. Nothing here estimates anything:
the optimisers (:mod:`adoption.sem.optimise`), the objectives and the statistics use
these functions of theta.
"""

from __future__ import annotations

import contextlib
import logging
import warnings

import numpy as np
import pandas as pd

from adoption.parallel import blas_one_thread
from adoption.sem import robust as rb
from adoption.sem.partable import ParTable
from adoption.sem.start import start_values

__all__ = ["SemModel", "semopy_description", "parameter_index", "start_vector",
           "row_values", "total_variances", "sigma_jacobian", "dsigma_stack", "nx_free",
           "n_free"]


@contextlib.contextmanager
def _quiet_root_logger():
    """Drop what semopy logs on the root logger (warnings about free first loadings,
    "Solver didn't converge"). ``logging.warning`` on a root logger without handlers
    would also install a stderr handler (``basicConfig``) for the rest of the process:
    a temporary null handler prevents that."""
    root = logging.getLogger()
    level, null = root.level, logging.NullHandler()
    root.addHandler(null)
    root.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        root.setLevel(level)
        root.removeHandler(null)


def semopy_description(pt: ParTable) -> tuple[str, list[str | None]]:
    """semopy syntax naming every free parameter, and the semopy name of each row
    (None for a fixed row; rows sharing a label share a name)."""
    lines, names = [], []
    k = 0
    for row in pt.rows:
        if row.free:
            if row.label:
                name = f"L__{pt.parameter_label(row)}"
            else:
                k += 1
                name = f"P__{k}"
            mod = name
        else:
            name = None
            mod = repr(float(row.value))
        names.append(name)
        lines.append(f"{row.lhs} {row.op} {mod}*{row.rhs}")
    return "\n".join(lines), names


def n_free(names) -> int:
    """Distinct free parameters of a description's row names (lavaan's npar)."""
    return len({nm for nm in names if nm is not None})


def nx_free(names) -> int:
    """Free entries of the parameter table, each equality-constrained copy counted
    (lavaan's ``nx.free``, the divisor of ``scaling.factor.h0``; npar counts them once)."""
    return sum(nm is not None for nm in names)


class SemModel:
    """Thin wrapper: semopy model matrices as functions of theta, in our variable order.

    ``theta`` is in semopy's order (:attr:`active`); :func:`parameter_index` maps a
    row's name to its position.
    """

    def __init__(self, desc: str, s: np.ndarray, observed: list[str]):
        import semopy  # the only semopy import in the project

        logging.getLogger("semopy").setLevel(logging.ERROR)
        with _quiet_root_logger():  # semopy warns about free first loadings there
            self.m = semopy.Model(desc, cov_diag=True)
        # semopy's start rules are not used (the engine's are lavaan's, adoption.sem.start)
        # and can loop forever (a factor with every loading free and its variance fixed)
        self.m.start_rules = [lambda *_: 0.0 for _ in self.m.start_rules]
        cov_df = pd.DataFrame(s, index=observed, columns=observed)
        self.m.load(cov=cov_df, n_samples=None)
        for p in self.m.parameters.values():  # lavaan does not bound variances
            p.bound = (None, None)
        self.active = [n for n, p in self.m.parameters.items() if p.active]
        sem_obs = list(self.m.vars["observed"])
        self.perm = [sem_obs.index(v) for v in observed]
        self.inner = list(self.m.names_beta[0])
        self.p = len(observed)
        self._gterms = None

    def optimise(self, theta0, ftol=1e-12):
        """semopy's SLSQP from ``theta0`` (the fallback optimiser): (theta, success).

        semopy reports a failed solve ("Solver didnt converge") on the root logger; that
        message is silenced here and the failure returned as ``success`` False, which
        the caller turns into the fit's ``converged`` and ``warnings``.
        """
        from semopy.solver import Solver

        fun, grad = self.m.get_objective("MLW")
        solver = Solver("SLSQP", fun, grad, np.asarray(theta0, dtype=float), constrs=[],
                        bounds=self.m.get_bounds(), options={"ftol": ftol, "maxiter": 10000})
        with _quiet_root_logger(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = solver.solve()
        return np.asarray(res.x, dtype=float), bool(res.success)

    def sigma(self, theta):
        """Sigma(theta) in our order, and semopy's Lambda C and C (for gradients)."""
        self.m.update_matrices(theta)
        sig, (mm, cc) = self.m.calc_sigma()
        return sig[np.ix_(self.perm, self.perm)], mm, cc

    def sigma_delta(self, theta):
        """Sigma(theta) and Delta (p* x k, :func:`adoption.sem.robust.vech_index` rows)."""
        sig, mm, cc = self.sigma(theta)
        grads = self.m.calc_sigma_grad(mm, cc)
        r, c = rb.vech_index(self.p)
        pr = np.array(self.perm)
        delta = np.asarray(grads, dtype=float)[:, pr[r], pr[c]].T \
            if grads else np.zeros((len(r), 0))
        return sig, delta

    def _gradient_terms(self):
        """Each free parameter's entries (i, j, value) in Beta, Lambda, Psi, Theta."""
        out = []
        for kind in range(4):
            ii, jj, vv, kk = [], [], [], []
            for k, dmxs in enumerate(self.m.mx_diffs):
                dmx = dmxs[kind]
                if dmx is None:
                    continue
                i, j = np.nonzero(dmx)
                ii += list(i)
                jj += list(j)
                vv += list(np.asarray(dmx, dtype=float)[i, j])
                kk += [k] * len(i)
            out.append((np.array(ii, dtype=int), np.array(jj, dtype=int),
                        np.array(vv, dtype=float), np.array(kk, dtype=int)))
        return out

    def trace_gradient(self, g: np.ndarray, mm: np.ndarray, cc: np.ndarray) -> np.ndarray:
        """tr(G dSigma/dtheta_k) for every free parameter, without Delta.

        ``g`` is symmetric, in our variable order; ``mm``, ``cc`` are Lambda C and C from
        :meth:`sigma`. With Sigma = M Psi M' + Theta: Theta entries give G, Psi entries
        M'GM, Lambda entries 2 (C Psi M') G and Beta entries 2 (C Psi) M'GM (each
        read at the transposed position of the entry), summed per parameter.
        """
        if self._gterms is None:
            self._gterms = self._gradient_terms()
        gs = np.empty_like(g)
        pr = np.asarray(self.perm)
        gs[np.ix_(pr, pr)] = g
        psi = self.m.matrices[2]
        cp = cc @ psi
        mgm = mm.T @ gs @ mm
        mats = (2 * cp @ mgm, 2 * (cp @ mm.T) @ gs, mgm, gs)
        k = len(self.active)
        out = np.zeros(k)
        for (i, j, v, owner), x in zip(self._gterms, mats):
            if len(i):
                out += np.bincount(owner, weights=v * x[j, i], minlength=k)
        return out

    def inner_cov(self, theta):
        """Model-implied covariance of semopy's inner (latent + structural) variables."""
        self.m.update_matrices(theta)
        beta, _, psi, _ = self.m.matrices[:4]
        c = np.linalg.inv(np.identity(beta.shape[0]) - beta)
        return c @ psi @ c.T


def parameter_index(model: SemModel, names) -> dict:
    """semopy name -> position in theta, for the free rows' ``names``."""
    return {nm: model.active.index(nm) for nm in set(names) if nm is not None}


def start_vector(pt: ParTable, names, model: SemModel, s) -> np.ndarray:
    """lavaan's default starting values (:func:`adoption.sem.start.start_values`) as a
    parameter vector in semopy's order (a label shared by rows: its first row's)."""
    theta = np.zeros(len(model.active))
    seen = set()
    for nm, v in zip(names, start_values(pt, s)):
        if nm is not None and nm not in seen:
            seen.add(nm)
            theta[model.active.index(nm)] = v
    return theta


def row_values(pt: ParTable, names, index_of, theta) -> list[float]:
    """The value of every row of ``pt``: fixed ones' ``row.value``, free ones' theta."""
    return [float(row.value) if nm is None else float(theta[index_of[nm]])
            for row, nm in zip(pt.rows, names)]


def total_variances(model: SemModel, theta, pt: ParTable, sigma) -> dict:
    """Model-implied total variance of every observed and latent variable."""
    tv = {v: float(sigma[i, i]) for i, v in enumerate(pt.observed)}
    inner = model.inner_cov(theta)
    for i, v in enumerate(model.inner):
        if v not in tv:
            tv[v] = float(inner[i, i])
    return tv


def sigma_jacobian(partable: ParTable, sample_cov: np.ndarray, values) -> tuple:
    """Sigma(theta) and Delta = d vech(Sigma) / d theta' of any parameter table.

    Parameters
    ----------
    partable : ParTable
        Rows to model (e.g. a fitted table extended by candidate parameters).
    sample_cov : np.ndarray
        S, in ``partable.observed`` order (semopy needs it to build the model).
    values : sequence of float
        One value per row: where to evaluate the free rows. Fixed rows keep
        ``row.value``; free rows sharing a label are one parameter (first row's value).

    Returns
    -------
    sigma : np.ndarray
        p x p, ``partable.observed`` order.
    delta : np.ndarray
        p* x k, :func:`adoption.sem.robust.vech_index` rows, one column per free
        parameter in order of its first row.
    """
    desc, names = semopy_description(partable)
    model = SemModel(desc, sample_cov, partable.observed)
    theta = np.zeros(len(model.active))
    order: list[str] = []
    for nm, v in zip(names, values):
        if nm is not None and nm not in order:
            theta[model.active.index(nm)] = v
            order.append(nm)
    if len(order) != len(model.active):
        raise RuntimeError("semopy added parameters that are not in the parameter table.")
    with blas_one_thread():
        sigma, delta = model.sigma_delta(theta)
    return sigma, delta[:, [model.active.index(nm) for nm in order]]


def dsigma_stack(delta: np.ndarray, p: int) -> np.ndarray:
    """k x p x p stack of dSigma/dtheta_k from Delta (vech rows)."""
    r, c = rb.vech_index(p)
    out = np.zeros((delta.shape[1], p, p))
    out[:, r, c] = delta.T
    out[:, c, r] = delta.T
    return out
