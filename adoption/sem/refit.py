"""Refits: a fitted model's estimates refitted to other data (bootstrap draws),
warm-started and without standard errors or fit measures (:class:`LeanRefit`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.parallel import blas_one_thread
from adoption.sem import fiml
from adoption.sem import robust as rb
from adoption.sem.engine import ModelFit, fit_model
from adoption.sem.estimates import ratio_sqrt
from adoption.sem.fimlfit import fiml_rows
from adoption.sem.matrices import SemModel, semopy_description
from adoption.sem.optimise import (bfgs, fiml_objective, fiml_observed_information,
                                   ml_objective, observed_information)
from adoption.sem.partable import ParTable, build_partable
from adoption.vocabulary import OP_REGRESSION

__all__ = ["LeanRefit"]

#: Prepared models of :class:`LeanRefit`, per process (semopy models are not pickled:
#: each worker builds its own on its first draw).
_PREPARED: dict = {}


@dataclass(frozen=True)
class _Prepared:
    pt: ParTable
    names: list
    model: SemModel
    index_of: dict
    regressions: list  # (lhs, rhs, theta index or None, fixed value)
    free_mu: list
    lean: bool  # False: fixed-x values depend on the sample, refit cold instead


@dataclass(frozen=True)
class LeanRefit:
    """The regression estimates of one model refitted to other data (bootstrap draws),
    warm-started from a full-sample fit: no standard errors, no fit measures.

    A picklable callable for :func:`adoption.structural.bootstrap.bootstrap_refit`:
    ``refit(frame) -> ({(lhs, rhs): est}, {(lhs, rhs): std.all})`` for every ``~`` row.
    Each draw runs the same iterations as :func:`fit_model` (Fisher scoring to a step
    below 1e-10 with complete data, the FIML scoring/Newton iterations to 1e-9 under
    ``missing="fiml"``) from the full-sample estimates instead of lavaan's start values,
    so it reaches the same optimum in a few iterations. A draw where that does not
    converge, or a model with fixed-x (co)variances (whose values change with the
    sample), is refitted cold by :func:`fit_model`. A draw that does not converge either
    way raises ``RuntimeError`` (counted as failed by the bootstrap, as in lavaan).

    Build it with :meth:`from_fit`.
    """

    syntax: str
    missing: str = "listwise"
    fixed_x: bool = True
    std_lv: bool = False
    start: tuple = ()  # free parameters, one per distinct free row, in row order
    start_mu: tuple = ()  # FIML: model-implied means of the observed variables
    #: inverse Hessian (per observation) at the full-sample optimum, semopy's order
    hessian_inv: np.ndarray | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_fit(cls, syntax: str, fit: ModelFit, data: pd.DataFrame | None = None,
                 fixed_x: bool = True) -> "LeanRefit":
        """The refit warm-started from ``fit``, a converged :func:`fit_model` result of
        ``syntax`` with the same ``fixed_x``. With ``data`` (the data ``fit`` was fitted
        to), the draws' quasi-Newton iterations start from the inverse observed Hessian
        at the full-sample optimum instead of the inverse expected information at the
        start values; on the example's 37-item SEM that saved no iterations (a draw's
        Hessian differs from the full sample's as much as the expected information
        does), so the stage does not pass it."""
        if fit.partable is None or not fit.converged:
            raise InputError("LeanRefit needs a converged fit_model result.")
        _, names = semopy_description(fit.partable)
        start, seen = [], set()
        for nm, e in zip(names, fit.estimates["est"]):
            if nm is not None and nm not in seen:
                seen.add(nm)
                start.append(float(e))
        mu = () if fit.implied_mean is None else tuple(map(float, fit.implied_mean))
        out = cls(syntax=syntax, missing=fit.missing, fixed_x=fixed_x, std_lv=fit.std_lv,
                  start=tuple(start), start_mu=mu)
        if data is None:
            return out
        with blas_one_thread():
            prep = out._prepare(data.columns)
            if not prep.lean:
                return out
            theta = out._theta(prep)
            try:
                if out.missing == "listwise":
                    hess = 2 * observed_information(prep.model, theta, fit.sample_cov)
                else:
                    x = fiml_rows(data, prep.pt)
                    pat = fiml.missing_patterns(x)
                    hess = fiml_observed_information(prep.model, pat, theta,
                                                      np.array(mu), prep.free_mu) / pat.n
                h0 = np.linalg.inv(hess)
            except np.linalg.LinAlgError:
                return out
        return replace(out, hessian_inv=h0)

    def _theta(self, prep: _Prepared) -> np.ndarray:
        theta = np.empty(len(prep.model.active))
        for nm, v in zip(prep.names, self.start):
            theta[prep.index_of[nm]] = v
        return theta

    def _prepare(self, columns) -> _Prepared:
        key = (self.syntax, self.missing, self.fixed_x, self.std_lv, tuple(columns))
        prep = _PREPARED.get(key)
        if prep is not None:
            return prep
        pt = build_partable(self.syntax, columns, std_lv=self.std_lv)
        if not self.fixed_x:
            for row in pt.rows:
                if row.fixed_x:
                    row.free, row.fixed_x = True, False
            pt.exogenous_x = []
        lean = not pt.exogenous_x
        for row in pt.rows:
            if row.fixed_x:
                row.value = 0.0  # placeholder: such models are refitted cold
        desc, names = semopy_description(pt)
        model = SemModel(desc, np.identity(len(pt.observed)), pt.observed)
        index_of = {nm: model.active.index(nm) for nm in set(names) if nm is not None}
        # theta is in the order of first appearance; semopy's is model.active
        order = list(dict.fromkeys(nm for nm in names if nm is not None))
        if len(order) != len(model.active) or len(order) != len(self.start):
            lean = False
        regs = [(r.lhs, r.rhs, None if nm is None else index_of[nm], r.value)
                for r, nm in zip(pt.rows, names) if r.op == OP_REGRESSION]
        free_mu = list(range(len(pt.observed)))
        prep = _Prepared(pt=pt, names=order, model=model, index_of=index_of,
                         regressions=regs, free_mu=free_mu, lean=lean)
        _PREPARED[key] = prep
        return prep

    def _h0(self, prep: _Prepared, theta0, n=None) -> np.ndarray:
        """Initial inverse Hessian of the BFGS iterations: the full-sample one of
        :meth:`from_fit`, else the inverse expected information at the start values
        (data-free: it depends on Sigma(theta0) only), of F_ML (complete data) or of
        -logl (FIML; means block n Sigma^-1)."""
        if self.hessian_inv is not None:
            return self.hessian_inv if n is None else self.hessian_inv / n
        key = ("h0", id(prep))
        h0 = _PREPARED.get(key)
        if h0 is None:
            sig, delta = prep.model.sigma_delta(theta0)
            si = np.linalg.inv(sig)
            info = 2 * delta.T @ rb.ml_weight_times_delta(si, delta)  # Hessian of F_ML
            h0 = _PREPARED[key] = (np.linalg.inv(info), np.linalg.inv(si))
        if n is None:
            return h0[0]
        k, p = len(theta0), h0[1].shape[0]
        out = np.zeros((k + p, k + p))
        out[:k, :k] = 2 * h0[0] / n  # -logl = n/2 F_ML with complete data
        out[k:, k:] = h0[1] / n
        return out

    def _cold(self, frame: pd.DataFrame) -> tuple[dict, dict]:
        mf = fit_model(self.syntax, frame, fixed_x=self.fixed_x, missing=self.missing,
                       std_lv=self.std_lv)
        if not mf.converged:
            raise RuntimeError("did not converge")
        reg = mf.estimates[mf.estimates["op"] == OP_REGRESSION]
        keys = list(zip(reg["lhs"], reg["rhs"]))
        return (dict(zip(keys, reg["est"].astype(float))),
                dict(zip(keys, reg["std.all"].astype(float))))

    def __call__(self, frame: pd.DataFrame) -> tuple[dict, dict]:
        """Refit to ``frame``: ``({(lhs, rhs): est}, {(lhs, rhs): std.all})``."""
        with blas_one_thread():
            return self._refit(frame)

    def _refit(self, frame: pd.DataFrame) -> tuple[dict, dict]:
        prep = self._prepare(frame.columns)
        sub = frame[prep.pt.observed].to_numpy(dtype=float)
        if self.missing == "listwise":
            x = sub[~np.isnan(sub).any(axis=1)]
            n, p = x.shape
            if n <= p:
                raise RuntimeError(f"only {n} complete rows")
            s = np.cov(x, rowvar=False, bias=True)
        else:
            x = sub[~np.isnan(sub).all(axis=1)]
        if not prep.lean:
            return self._cold(frame)
        model = prep.model
        theta0 = self._theta(prep)
        try:
            if self.missing == "listwise":
                theta, ok = bfgs(lambda th: ml_objective(model, th, s), theta0,
                                  self._h0(prep, theta0))
            else:
                pat = fiml.missing_patterns(x)
                if any(not (~np.isnan(x[:, j])).any() for j in range(x.shape[1])):
                    return self._cold(frame)
                k = len(theta0)
                z, ok = bfgs(lambda z: fiml_objective(model, pat, z[:k], z[k:]),
                              np.concatenate([theta0, self.start_mu]),
                              self._h0(prep, theta0, n=len(x)))
                theta = z[:k]
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            ok = False
        if not ok:
            return self._cold(frame)
        sigma, _, _ = model.sigma(theta)
        tv = {v: float(sigma[i, i]) for i, v in enumerate(prep.pt.observed)}
        inner = model.inner_cov(theta)
        for i, v in enumerate(model.inner):
            tv.setdefault(v, float(inner[i, i]))
        coef, std = {}, {}
        for lhs, rhs, k, value in prep.regressions:
            b = float(theta[k]) if k is not None else float(value)
            coef[(lhs, rhs)] = b
            std[(lhs, rhs)] = b * ratio_sqrt(tv[rhs], tv[lhs])
        return coef, std
