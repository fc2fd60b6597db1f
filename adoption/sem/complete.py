"""The complete-data ML objective behind :func:`adoption.sem.engine.fit_model`
(``missing="listwise"``): the sample (complete rows, S with divisor N), the optimiser
route, the standard errors of ML, MLM and MLR and the fit measures. The fit skeleton
(:mod:`adoption.sem.engine`) calls these in the same order as the FIML objective's
(:mod:`adoption.sem.fimlfit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.sem import robust as rb
from adoption.sem import teststat as ts
from adoption.sem.estimates import (Inference, estimate_table, vcov_frame, with_defined,
                                    with_std_inference)
from adoption.sem.matrices import SemModel, nx_free
from adoption.sem.optimise import fisher_scoring, observed_information
from adoption.sem.partable import ParTable

__all__ = ["Sample", "CompleteData", "numeric_columns"]


def numeric_columns(data: pd.DataFrame, observed: list[str]) -> pd.DataFrame:
    """The model columns of ``data``; InputError naming those that are not numeric."""
    sub = data[observed]
    bad = [c for c in observed if not pd.api.types.is_numeric_dtype(sub[c])]
    if bad:
        raise InputError(
            "Model variable(s) are not numeric: " + ", ".join(bad)
            + ". Recode them to numbers before fitting."
        )
    return sub


class Sample:
    """The data side of a single-group fit, one class per ``missing`` (complete rows:
    :class:`CompleteData`; FIML: :class:`adoption.sem.fimlfit.FimlData`).

    A subclass holds the rows ``x``, the fixed-x columns ``x_idx``, the declared observed
    exogenous predictors ``x_base`` (saturated block of the baseline), the covariance
    matrix ``s`` and its ``missing``, and gives the steps the engine calls in order:
    ``read(pt, data, exo_declared)`` -> (sample, messages, problem), with ``problem``
    the reason the data cannot be fitted or None; ``npar``, ``unidentified``,
    ``optimise``, ``inference``, ``estimates``, ``fit_measures``.
    """

    @property
    def n(self) -> int:
        """Rows used."""
        return int(self.x.shape[0])

    @staticmethod
    def column_index(pt: ParTable, names) -> list:
        """Positions of ``names`` among the model's observed variables."""
        obs_index = {v: i for i, v in enumerate(pt.observed)}
        return [obs_index[v] for v in names]


@dataclass(frozen=True)
class CompleteData(Sample):
    """Complete rows of the model variables and their covariance matrix (divisor N)."""

    x: np.ndarray
    s: np.ndarray
    x_idx: list
    x_base: list
    missing = "listwise"

    @classmethod
    def read(cls, pt: ParTable, data: pd.DataFrame, exo_declared) -> tuple:
        """Listwise complete rows (see :class:`Sample`)."""
        sub = numeric_columns(data, pt.observed)
        x = sub.dropna().to_numpy(dtype=float)
        n, p = x.shape
        s = np.cov(x, rowvar=False, bias=True) if n > 1 else np.full((p, p), np.nan)
        out = cls(x, np.atleast_2d(s), cls.column_index(pt, pt.exogenous_x),
                  cls.column_index(pt, exo_declared))
        msgs = []
        if len(sub) - n:
            msgs.append(f"{len(sub) - n} row(s) with missing values in model variables were "
                        "deleted (listwise).")
        if n < 2 or n <= p:
            return out, msgs, (f"Only {n} complete rows for {p} observed variables: too few "
                               "to fit.")
        eig_s = np.linalg.eigvalsh(out.s)
        if eig_s.min() <= 1e-12 * max(eig_s.max(), 1.0):
            return out, msgs, ("The sample covariance matrix is not positive definite (a "
                               "variable is constant or a linear combination of others).")
        return out, msgs, None

    def npar(self, npar_cov: int) -> int:
        return npar_cov

    @staticmethod
    def unidentified(npar_cov: int, df: int) -> str:
        return (f"The model is not identified: {npar_cov} free parameters but only "
                f"{npar_cov + df} sample moments (df = {df}).")

    def optimise(self, model: SemModel, start):
        """Fisher scoring from lavaan's starting values, finished by BFGS (as lavaan's
        default optimiser reaches the same optimum); if it fails, semopy's SLSQP with a
        tight tolerance from the same values, then Fisher scoring again to polish.
        Returns (theta, None, converged)."""
        theta, ok = fisher_scoring(model, start, self.s, max_iter=100, switch=1e-3)
        if not ok:
            theta, _ = model.optimise(start)
            theta, ok = fisher_scoring(model, theta, self.s)
        return theta, None, ok

    def inference(self, model: SemModel, pt, names, index_of, theta, mu,
                  estimator: str) -> Inference:
        """vcov of ML (expected information), MLM (robust.sem) or MLR (Huber-White)."""
        sigma, delta = model.sigma_delta(theta)
        n = self.n
        # expected information per observation, Delta'W Delta, without the p* x p* W
        # (only the robust corrections need W itself)
        info = delta.T @ rb.ml_weight_times_delta(np.linalg.inv(sigma), delta)
        w = rb.ml_weight(sigma) if estimator != "ML" else None
        k = len(theta)
        vc = np.full((k, k), np.nan)
        a_obs = None  # observed information per observation (MLR), computed once
        ok = True
        try:
            info_inv = np.linalg.inv(info)
            if np.linalg.cond(info) > 1e12:
                raise np.linalg.LinAlgError
            if estimator == "ML":
                vc = info_inv / n
            elif estimator == "MLM":
                gamma = rb.gamma_adf(self.x, self.x_idx)
                vc = rb.sandwich(info_inv, delta.T @ w @ gamma @ w @ delta, n)
            else:
                a_obs = observed_information(model, theta, self.s)
                scores = rb.casewise_h1_scores(self.x, sigma) @ delta
                vc = rb.sandwich(np.linalg.inv(a_obs), scores.T @ scores / n, n)
        except np.linalg.LinAlgError:
            ok = False
        return Inference(vc, ok, sigma, delta, {"w": w, "a_obs": a_obs})

    def estimates(self, model: SemModel, pt, names, index_of, theta, mu, inf: Inference):
        """The estimate table (with ``:=`` rows and std.all inference) and R-squared."""
        est, r2 = estimate_table(pt, names, index_of, theta, inf.vc, model, inf.sigma)
        est = with_defined(pt, est, names, index_of, inf.vc)
        return with_std_inference(pt, est, model, names, index_of, theta, inf.vc), r2

    def fit_measures(self, model: SemModel, theta, mu, inf: Inference, estimator: str,
                     npar: int, df: int, names) -> tuple[dict, list]:
        """lavaan's fitMeasures() and the warnings of a failed scaled test."""
        tests = ts.complete_test_statistics(self.s, inf.sigma, self.n, self.x_idx,
                                            self.x_base)
        scaled = robust = None
        msgs = []
        a_obs, w = inf.parts["a_obs"], inf.parts["w"]
        if estimator != "ML":
            try:
                if estimator == "MLR" and a_obs is None:
                    a_obs = observed_information(model, theta, self.s)
                scaled, robust = ts.robust_fit(estimator, self.x, self.s, inf.sigma, self.n,
                                               df, self.x_idx, inf.delta, w, tests, a_obs,
                                               self.x_base, nx_free(names))
            except np.linalg.LinAlgError:
                scaled, robust = ts.nan_robust(estimator)
                msgs.append("The robust (scaled) test statistic could not be computed: an "
                            "information matrix is singular.")
        fit = ts.complete_fit_measures(self.s, inf.sigma, self.n, npar, df, self.x_idx, w,
                                       tests, scaled, robust)
        return fit, msgs

    def vcov(self, pt, names, index_of, inf: Inference) -> pd.DataFrame:
        return vcov_frame(pt, names, index_of, inf.vc)

    def fields(self, mu) -> dict:
        """The :class:`adoption.sem.engine.ModelFit` fields particular to this sample."""
        return {"sample_cov": self.s}


