"""The FIML objective behind :func:`adoption.sem.engine.fit_model` (``missing="fiml"``,
lavaan's ``missing = "ml"`` with ``information = "observed"``): the rows lavaan keeps,
their missing-data patterns and EM moments, the optimiser route, the standard errors of
ML and MLR (with the intercepts by the delta method) and the fit measures. Same
interface as the complete-data objective (:mod:`adoption.sem.complete`); the casewise
likelihood itself is in :mod:`adoption.sem.fiml`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.sem import fiml
from adoption.sem import teststat as ts
from adoption.sem.complete import Sample, numeric_columns
from adoption.sem.estimates import (Inference, estimate_table, intercepts, vcov_frame,
                                    with_defined, with_std_inference)
from adoption.sem.matrices import SemModel, nx_free, row_values
from adoption.sem.optimise import (fiml_observed_information, fiml_optimise, fiml_scores,
                                   fisher_scoring)
from adoption.sem.partable import ParTable
from adoption.vocabulary import OP_INTERCEPT

__all__ = ["FimlData", "fiml_rows"]


def _fiml_data(data: pd.DataFrame, pt: ParTable):
    """Model columns as a float array with NaN, after lavaan's deletions under
    ``missing = "ml"``: rows missing a fixed-x predictor, then rows missing everything."""
    x = numeric_columns(data, pt.observed).to_numpy(dtype=float)
    msgs = []
    x_idx = Sample.column_index(pt, pt.exogenous_x)
    if x_idx:
        miss_x = np.isnan(x[:, x_idx]).any(axis=1)
        if miss_x.any():
            msgs.append(f"{int(miss_x.sum())} row(s) with missing values in observed exogenous "
                        f"predictor(s) ({', '.join(pt.exogenous_x)}) were deleted: with fixed "
                        "x their values are conditioned on, as lavaan's missing = \"ml\" with "
                        "fixed.x = TRUE does (fixed_x=False keeps them and models x).")
            x = x[~miss_x]
    empty = np.isnan(x).all(axis=1)
    if empty.any():
        msgs.append(f"{int(empty.sum())} row(s) with every model variable missing were "
                    "deleted (as lavaan).")
        x = x[~empty]
    return x, x_idx, msgs


def fiml_rows(data: pd.DataFrame, pt: ParTable) -> np.ndarray:
    """The rows a FIML fit of ``pt`` uses (model columns, NaN for holes), after
    lavaan's deletions under ``missing = "ml"`` (see :func:`adoption.sem.engine.fit_model`)."""
    return _fiml_data(data, pt)[0]


def _unusable(pt: ParTable, x: np.ndarray) -> str | None:
    """Why rows ``x`` cannot be fitted (too few, a variable never seen or constant)."""
    n, p = x.shape
    if n < 2 or n <= p:
        return f"Only {n} usable rows for {p} observed variables: too few to fit."
    never = [v for v, seen in zip(pt.observed, (~np.isnan(x)).any(axis=0)) if not seen]
    if never:
        return "Variable(s) with no observed value: " + ", ".join(never) + "."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        constant = [v for v, sd in zip(pt.observed, np.nanstd(x, axis=0)) if not sd > 0]
    if constant:
        return ("Variable(s) with a single observed value (constant): "
                + ", ".join(constant) + ". Remove them from the model.")
    return None


@dataclass(frozen=True)
class FimlData(Sample):
    """Rows under FIML, their patterns and EM (saturated) moments ``mu_h1``, ``s``
    (with the fixed-x block at its complete-data moments); ``free_mu``: the observed
    variables whose intercepts are free (all but fixed x)."""

    x: np.ndarray
    x_idx: list
    x_base: list
    pat: object = None
    mu_h1: np.ndarray | None = None
    s: np.ndarray | None = None
    free_mu: tuple = ()
    missing = "fiml"

    @classmethod
    def read(cls, pt: ParTable, data: pd.DataFrame, exo_declared) -> tuple:
        """All rows with an observed value, and the EM moments (see
        :class:`adoption.sem.complete.Sample`)."""
        x, x_idx, msgs = _fiml_data(data, pt)
        x_base = cls.column_index(pt, exo_declared)
        problem = _unusable(pt, x)
        if problem:
            return cls(x, x_idx, x_base), msgs, problem
        pat = fiml.missing_patterns(x)
        mu_h1, s_h1, _, em_ok = fiml.em_moments(pat)
        if not em_ok:
            msgs.append("The EM estimate of the saturated moments did not converge in 500 "
                        "iterations; chi-square and SRMR are approximate.")
        out = cls(x, x_idx, x_base, pat, mu_h1, s_h1)
        eig_s = np.linalg.eigvalsh(s_h1)
        if eig_s.min() <= 1e-12 * max(eig_s.max(), 1.0):
            return out, msgs, ("The (EM) covariance matrix is not positive definite (a "
                               "variable is constant or a linear combination of others).")
        if x_idx:  # fixed x: sample moments of the (complete) x columns
            xx = x[:, x_idx]
            dx = xx - xx.mean(axis=0)
            mu_h1[x_idx] = xx.mean(axis=0)
            s_h1[np.ix_(x_idx, x_idx)] = dx.T @ dx / len(x)
        free_mu = tuple(i for i in range(pat.p) if i not in set(x_idx))
        return cls(x, x_idx, x_base, pat, mu_h1, s_h1, free_mu), msgs, None

    def npar(self, npar_cov: int) -> int:
        return npar_cov + len(self.free_mu)

    @staticmethod
    def unidentified(npar_cov: int, df: int) -> str:
        return (f"The model is not identified: {npar_cov} free (co)variance-structure "
                f"parameters but only {npar_cov + df} sample (co)variances (df = {df}).")

    def optimise(self, model: SemModel, start):
        """Start from the complete-data ML fit to the EM moments, then FIML scoring and
        Newton (:func:`adoption.sem.optimise.fiml_optimise`). Returns (theta, mu, ok)."""
        theta, ok = fisher_scoring(model, start, self.s, max_iter=100)
        if not ok:
            theta, _ = model.optimise(start)
            theta, _ = fisher_scoring(model, theta, self.s)
        return fiml_optimise(model, self.pat, theta, self.mu_h1.copy(), list(self.free_mu))

    def inference(self, model: SemModel, pt, names, index_of, theta, mu,
                  estimator: str) -> Inference:
        """vcov of (theta, free intercepts): inverse observed information (ML) or the
        Huber-White sandwich with the casewise scores (MLR); the intercepts nu by the
        delta method from the free means mu."""
        free_mu = list(self.free_mu)
        sigma, delta = model.sigma_delta(theta)
        k = len(theta)
        vc_full = np.full((k + len(free_mu),) * 2, np.nan)
        info_inv = s0 = None
        ok = True
        try:
            info = fiml_observed_information(model, self.pat, theta, mu, free_mu)
            if np.linalg.cond(info) > 1e12:
                raise np.linalg.LinAlgError
            info_inv = np.linalg.inv(info)
            if estimator == "ML":
                vc_full = info_inv
            else:
                s0 = fiml_scores(model, self.pat, theta, mu, free_mu)
                vc_full = info_inv @ (s0.T @ s0) @ info_inv
        except np.linalg.LinAlgError:
            ok = False
        nu, jac = self._intercept_jacobian(pt, names, index_of, theta, mu)
        vc_full = jac @ vc_full @ jac.T
        return Inference(vc_full, ok, sigma, delta,
                         {"info_inv": info_inv, "s0": s0, "nu": nu})

    def _intercept_jacobian(self, pt, names, index_of, theta, mu):
        """nu(theta, mu) and the Jacobian of (theta, nu[free]) in (theta, mu[free])
        (the identity in the theta block), by central differences."""
        free_mu = list(self.free_mu)
        k, m = len(theta), len(free_mu)
        nu = intercepts(pt, row_values(pt, names, index_of, theta), mu)[0]
        jac = np.zeros((m, k + m))
        for j in range(k + m):
            th_p, th_m, mu_p, mu_m = theta.copy(), theta.copy(), mu.copy(), mu.copy()
            if j < k:
                h = 1e-6 * max(1.0, abs(theta[j]))
                th_p[j] += h
                th_m[j] -= h
            else:
                i = free_mu[j - k]
                h = 1e-6 * max(1.0, abs(mu[i]))
                mu_p[i] += h
                mu_m[i] -= h
            nu_p = intercepts(pt, row_values(pt, names, index_of, th_p), mu_p)[0]
            nu_m = intercepts(pt, row_values(pt, names, index_of, th_m), mu_m)[0]
            jac[:, j] = (nu_p - nu_m)[free_mu] / (2 * h)
        return nu, np.vstack([np.hstack([np.identity(k), np.zeros((k, m))]), jac])

    def _order_obs(self, pt) -> list:
        """Observed variables in lavaan's order of the ``~1`` rows (exogenous x last)."""
        x_base = {pt.observed[i] for i in self.x_base}
        return [v for v in pt.observed if v not in x_base] + \
            [v for v in pt.observed if v in x_base]

    def estimates(self, model: SemModel, pt, names, index_of, theta, mu, inf: Inference):
        """The estimate table with the ``~1`` rows last, and R-squared."""
        k = len(theta)
        free_mu = list(self.free_mu)
        obs_index = {v: i for i, v in enumerate(pt.observed)}
        nu, vc_full = inf.parts["nu"], inf.vc
        vc = vc_full[:k, :k]
        var_mu = {free_mu[i]: vc_full[k + i, k + i] for i in range(len(free_mu))}
        mean_rows = []
        for v in self._order_obs(pt):
            i = obs_index[v]
            if i in var_mu:
                se = math.sqrt(var_mu[i]) if var_mu[i] >= 0 else float("nan")
                mean_rows.append((v, nu[i], se, True))
            else:
                mean_rows.append((v, nu[i], 0.0, False))
        mean_rows += [(v, 0.0, 0.0, False) for v in pt.latent]
        est, r2 = estimate_table(pt, names, index_of, theta, vc, model, inf.sigma, mean_rows)
        est = with_defined(pt, est, names, index_of, vc)
        means = ([(v, obs_index[v]) for v in self._order_obs(pt)]
                 + [(v, None) for v in pt.latent],
                 free_mu, np.asarray(nu, dtype=float))
        return with_std_inference(pt, est, model, names, index_of, theta, vc_full, means), r2

    def fit_measures(self, model: SemModel, theta, mu, inf: Inference, estimator: str,
                     npar: int, df: int, names) -> tuple[dict, list]:
        """lavaan's fitMeasures() under missing = "ml", and the warnings of a failed
        scaled test or FIML-corrected statistic."""
        pat, free_mu, k, p = self.pat, list(self.free_mu), len(theta), self.pat.p
        info_inv = inf.parts["info_inv"]
        delta_full = np.zeros((p + inf.delta.shape[0], k + len(free_mu)))  # d(mu, vech Sigma)
        delta_full[p:, :k] = inf.delta
        delta_full[free_mu, k + np.arange(len(free_mu))] = 1.0
        tests = ts.fiml_test_statistics(pat, self.mu_h1, self.s, mu, inf.sigma, self.x_idx,
                                        self.x_base)
        scaled = robust = None
        msgs = []
        try:
            if estimator != "ML" and info_inv is None:  # no information: no scaled test
                raise np.linalg.LinAlgError
            h1 = fiml.h1_informations(pat, self.mu_h1, self.s, self.x_idx)
            if estimator != "ML":
                scaled = ts.fiml_scaled_test(pat, h1, self.x_idx, self.x_base, info_inv,
                                             inf.parts["s0"], tests, df,
                                             nx_free(names) + len(free_mu))
            robust = ts.fiml_corrected(pat, h1, self.mu_h1, self.s, mu, inf.sigma,
                                       delta_full, self.x_idx, self.x_base, tests, self.n,
                                       df, "V6" if estimator == "ML" else "V3")
        except np.linalg.LinAlgError:
            scaled, robust = ts.nan_robust(estimator)
            scaled = None if estimator == "ML" else scaled
            if info_inv is not None:
                msgs.append("The robust (scaled) test statistic could not be computed: an "
                            "information matrix is singular.")
        fit = ts.fiml_fit_measures(pat, self.mu_h1, self.s, mu, inf.sigma, npar, df,
                                   self.x_idx, tests, scaled, robust)
        return fit, msgs

    def vcov(self, pt, names, index_of, inf: Inference) -> pd.DataFrame:
        """vcov over the free parameters, then the free intercepts in table order."""
        k = inf.delta.shape[1]
        obs_index = {v: i for i, v in enumerate(pt.observed)}
        free_mu = list(self.free_mu)
        extra = [(f"{v} {OP_INTERCEPT} ", k + free_mu.index(obs_index[v]))
                 for v in self._order_obs(pt) if obs_index[v] in free_mu]
        return vcov_frame(pt, names, index_of, inf.vc, extra)

    def fields(self, mu) -> dict:
        """The :class:`adoption.sem.engine.ModelFit` fields particular to FIML."""
        return {"sample_cov": self.s, "missing": "fiml", "sample_mean": self.mu_h1,
                "implied_mean": mu}
