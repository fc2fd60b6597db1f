"""Closed-form ML fit of recursive path models of observed variables.

For a recursive path model with uncorrelated disturbances (and lavaan's default
``fixed.x = TRUE``) the likelihood factorises into one conditional normal regression per
endogenous variable, so the ML estimates are equation-by-equation OLS (with ``RSS/N``
residual variances). The functions work on a (B, p, p) stack of covariance matrices, so
the bootstrap (:mod:`adoption.structural.bootstrap`) and the power analysis
(:mod:`adoption.power`) estimate many samples at once with the same code.

* :func:`model_data` - the model's columns as a float matrix (listwise complete);
* :func:`path_moments` - covariance matrices from weighted sums;
* :func:`estimates_from_moments` - coefficients and std.all of a stack of samples;
* :func:`implied_cov` - the model-implied covariance of a stack of fitted models;
* :func:`path_vcov` - the coefficients' covariance matrix of a stack of fits;
* :func:`fit_path_ols` - one fit with lavaan's estimate table (:class:`PathFit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.structural.effects import wald_table
from adoption.structural.paths import PathModel

__all__ = [
    "SINGULAR_TOL",
    "PathFit",
    "check_fast_class",
    "model_data",
    "path_moments",
    "implied_cov",
    "estimates_from_moments",
    "path_vcov",
    "fit_path_ols",
]

#: Smallest eigenvalue of a draw's predictor correlation matrix below which the draw
#: counts as singular (collinear predictors) and is dropped.
SINGULAR_TOL = 1e-10


# --------------------------------------------------------------------------------------
# data at the edge
# --------------------------------------------------------------------------------------
def model_data(data: pd.DataFrame, model: PathModel) -> np.ndarray:
    """The model's variables as a float matrix (columns in ``model.variables`` order),
    complete cases only (lavaan's default listwise deletion)."""
    missing = [v for v in model.variables if v not in data.columns]
    if missing:
        raise InputError(f"path model data: no column {', '.join(missing)}. The data must "
                         "have one column per variable of the structural model.")
    frame = data[list(model.variables)]
    bad = [v for v in model.variables if not pd.api.types.is_numeric_dtype(frame[v])]
    if bad:
        raise InputError(f"path model data: column {', '.join(bad)} is not numeric. "
                         "Compute composite scores before fitting the path model.")
    Z = frame.to_numpy(dtype=float)
    Z = Z[np.isfinite(Z).all(axis=1)]
    if Z.shape[0] <= len(model.variables):
        raise InputError(f"path model data: {Z.shape[0]} complete rows for "
                         f"{len(model.variables)} variables; too few to fit the model.")
    constant = [v for v, c in zip(model.variables, Z.T) if np.ptp(c) == 0]
    if constant:
        raise InputError(f"path model data: column {', '.join(constant)} has the same "
                         "value in every complete row; it cannot be in the model.")
    return Z


def check_fast_class(model: PathModel) -> None:
    """Refuse a model outside the closed-form class (correlated disturbances)."""
    if model.residual_covariances:
        pairs = ", ".join(f"{a} ~~ {b}" for a, b in model.residual_covariances)
        raise InputError(f"path model: correlated disturbances ({pairs}) make ML differ "
                         "from equation-by-equation OLS; use bootstrap_refit with the SEM "
                         "engine for this model.")


# --------------------------------------------------------------------------------------
# batched estimation
# --------------------------------------------------------------------------------------
def path_moments(sums: np.ndarray, sums2: np.ndarray, n: np.ndarray | float,
                 p: int) -> np.ndarray:
    """Covariance matrices (divisor n) from weighted sums.

    Parameters
    ----------
    sums : ndarray, shape (B, p)
        ``sum_i w_i z_i`` per draw.
    sums2 : ndarray, shape (B, p (p + 1) / 2)
        ``sum_i w_i z_ij z_ik`` for the upper triangle ``j <= k`` (``np.triu_indices``).
    n : float or ndarray, shape (B,)
        ``sum_i w_i``.
    p : int

    Returns
    -------
    ndarray, shape (B, p, p)
        ``S = sums2 / n - (sums / n)(sums / n)'``, the ML (divisor n) covariance, as
        lavaan's sample statistics (``lavInspect(fit, "sampstat")``).
    """
    n = np.asarray(n, dtype=float).reshape(-1, 1)
    m = sums / n
    iu, ju = np.triu_indices(p)
    S = np.empty((sums.shape[0], p, p))
    tri = sums2 / n - m[:, iu] * m[:, ju]
    S[:, iu, ju] = tri
    S[:, ju, iu] = tri
    return S


def implied_cov(S: np.ndarray, Bmat: np.ndarray, psi: dict, model: PathModel) -> np.ndarray:
    """Model-implied covariance ``(I - B)^{-1} Psi (I - B)^{-T}`` of a stack of
    recursive models, computed row by row in causal order (no inversion).

    The exogenous block is the sample covariance (``fixed.x``). Endogenous variables
    are visited in causal order; for ``y`` with coefficients ``b`` on predictors ``x``,
    ``Sigma[y, v] = b' Sigma[x, v]`` is final for every exogenous ``v`` and every
    endogenous ``v`` visited before (entries for later ones are overwritten when
    those are visited), and ``Sigma[y, y] = b' Sigma[x, y] + psi_y``.
    """
    idx = {v: i for i, v in enumerate(model.variables)}
    Sigma = S.copy()
    for v in model.endogenous:
        y = idx[v]
        xi = [idx[x] for x in model.predictors(v)]
        b = Bmat[:, y, xi]
        row = np.einsum("bk,bkv->bv", b, Sigma[:, xi, :])
        Sigma[:, y, :] = row
        Sigma[:, :, y] = row
        Sigma[:, y, y] = np.einsum("bk,bk->b", b, row[:, xi]) + psi[y]
    return Sigma


def _predictors_ok(Sxx: np.ndarray, floor: np.ndarray | float) -> np.ndarray:
    """Per sample, whether the (B, k, k) predictor covariances are usable: every
    variance above ``floor`` and the smallest eigenvalue of the correlation matrix above
    ``SINGULAR_TOL``.

    The check is on the correlation scale R. det(R) is the product of its eigenvalues,
    each at most k, so det(R) > tol * k^(k-1) proves the smallest eigenvalue exceeds tol
    (one LU per sample); the few samples that fail that screen get the exact test on
    their smallest eigenvalue.
    """
    k = Sxx.shape[-1]
    dg = np.diagonal(Sxx, axis1=1, axis2=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_sd = 1.0 / np.sqrt(dg)
        R = Sxx * inv_sd[:, :, None] * inv_sd[:, None, :]
        detR = np.linalg.det(R)
    good = (dg > floor).all(axis=1) & np.isfinite(detR)
    unsure = np.flatnonzero(good & ~(detR > SINGULAR_TOL * k ** (k - 1)))
    if unsure.size:
        good[unsure] = np.linalg.eigvalsh(R[unsure])[:, 0] > SINGULAR_TOL
    return good


def estimates_from_moments(S: np.ndarray, model: PathModel, standardize: bool = True,
                           ref_var: np.ndarray | None = None
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ML estimates of a recursive path model from a stack of covariance matrices.

    Parameters
    ----------
    S : ndarray, shape (B, p, p)
        Covariance matrices (divisor N) of ``model.variables``.
    model : PathModel
    standardize : bool
        Also compute the std.all coefficients (needs the implied covariance).
    ref_var : ndarray, shape (p,), optional
        Full-sample variances; a predictor whose variance in a draw falls below
        ``SINGULAR_TOL`` times its full-sample variance counts as constant (its
        rounding-level variance would otherwise pass the correlation check).

    Returns
    -------
    coef : ndarray, shape (B, n_edges)
        Regression coefficients aligned with ``model.edges`` (NaN for failed draws).
    std : ndarray, shape (B, n_edges)
        std.all coefficients (NaN when ``standardize`` is False or the draw failed).
    ok : ndarray of bool, shape (B,)
        False where some equation's predictors are (nearly) collinear (the smallest
        eigenvalue of their correlation matrix is below ``SINGULAR_TOL``), one of them
        is constant in the draw, or the result is not finite.

    Notes
    -----
    Per equation ``b = S_xx^{-1} s_xy`` and ``psi = s_yy - s_yx b`` (RSS/N), the ML
    solution when disturbances are uncorrelated and ``fixed.x = TRUE`` (Bollen, 1989,
    ch. 4). std.all is ``b sqrt(Sigma_xx) / sqrt(Sigma_yy)`` with ``Sigma = (I - B)^{-1}
    Psi (I - B)^{-T}`` the model-implied covariance, ``Psi`` holding the sample
    covariance of the exogenous variables and the ``psi`` (lavaan's
    ``standardizedSolution``).
    """
    Bn, p, _ = S.shape
    idx = {v: i for i, v in enumerate(model.variables)}
    coef = np.full((Bn, len(model.edges)), np.nan)
    ok = np.ones(Bn, dtype=bool)
    Bmat = np.zeros((Bn, p, p))
    psi = {}
    col = 0
    for reg in model.regressions:
        xi = [idx[x] for x in reg.rhs]
        yi = idx[reg.lhs]
        Sxx = S[:, xi][:, :, xi]
        sxy = S[:, xi, yi]
        k = len(xi)
        floor = 0.0 if ref_var is None else SINGULAR_TOL * np.asarray(ref_var)[xi]
        good = _predictors_ok(Sxx, floor)
        ok &= good
        b = np.full((Bn, k), np.nan)
        if good.all():
            b = np.linalg.solve(Sxx, sxy[..., None])[..., 0]
        elif good.any():
            b[good] = np.linalg.solve(Sxx[good], sxy[good][..., None])[..., 0]
        coef[:, col:col + k] = b
        Bmat[:, yi, xi] = b
        psi[yi] = S[:, yi, yi] - np.einsum("bk,bk->b", b, sxy)
        col += k
    ok &= np.isfinite(coef).all(axis=1)
    std = np.full_like(coef, np.nan)
    if standardize and ok.any():
        Sigma = implied_cov(S, Bmat, psi, model)
        sd = np.sqrt(np.clip(np.diagonal(Sigma, axis1=1, axis2=2), 0.0, None))
        lhs = [idx[y] for y, _ in model.edges]
        rhs = [idx[x] for _, x in model.edges]
        with np.errstate(divide="ignore", invalid="ignore"):
            std = coef * sd[:, rhs] / sd[:, lhs]
        std[~ok] = np.nan
    return coef, std, ok


@dataclass(frozen=True)
class PathFit:
    """ML (= OLS) fit of a recursive path model with uncorrelated disturbances.

    Attributes
    ----------
    estimates : DataFrame
        lavaan's columns ``lhs, op, rhs, label, est, se, z, pvalue, ci.lower, ci.upper,
        std.all`` for the regressions (``~``) and the residual variances (``~~``).
    vcov : DataFrame
        Covariance matrix of the regression coefficients, indexed by ``"lhs ~ rhs"``.
    coefficients : dict
        ``{(lhs, rhs): est}``.
    std_all : dict
        ``{(lhs, rhs): std.all}``.
    implied_cov : DataFrame
        Model-implied covariance matrix (divisor N) of ``model.variables``.
    nobs : int
        Complete cases used.
    information : str
        ``"expected"`` (lavaan's default for ML) or ``"observed"``.
    """

    estimates: pd.DataFrame
    vcov: pd.DataFrame
    coefficients: dict
    std_all: dict
    implied_cov: pd.DataFrame
    nobs: int
    information: str = "expected"


def path_vcov(S: np.ndarray, coef: np.ndarray, ok: np.ndarray, model: PathModel,
              nobs: int, information: str = "expected"
              ) -> tuple[np.ndarray, dict[int, np.ndarray], np.ndarray]:
    """Covariance matrix of the regression coefficients of a stack of fits.

    Parameters
    ----------
    S : ndarray, shape (R, p, p)
        Covariance matrices (divisor N) of ``model.variables``.
    coef, ok : the first and last results of :func:`estimates_from_moments` on ``S``.
    model : PathModel
    nobs : int
        N of every sample.
    information : {"expected", "observed"}
        ``C`` below: the model-implied or the sample covariance of the predictors.

    Returns
    -------
    V : ndarray, shape (R, n_edges, n_edges)
        Block diagonal (NaN where not ``ok``).
    psi : dict
        Index of each endogenous variable -> its residual variances, shape (R,).
    Sigma : ndarray, shape (R, p, p)
        Model-implied covariance (NaN where not ``ok``).

    Notes
    -----
    Per equation ``psi = s_yy - s_yx b`` and ``Var(b) = psi / N * C_xx^{-1}``;
    coefficients of different equations are uncorrelated (see :func:`fit_path_ols`).
    """
    Rn, p, _ = S.shape
    idx = {v: i for i, v in enumerate(model.variables)}
    E = len(model.edges)
    Bm = np.zeros((Rn, p, p))
    psi = {}
    col = 0
    spans = []
    for reg in model.regressions:
        xi = [idx[x] for x in reg.rhs]
        yi = idx[reg.lhs]
        b = coef[:, col:col + len(xi)]
        Bm[:, yi, xi] = b
        psi[yi] = S[:, yi, yi] - np.einsum("rk,rk->r", b, S[:, yi, xi])
        spans.append((col, xi, yi))
        col += len(xi)
    V = np.full((Rn, E, E), np.nan)
    Sigma = np.full((Rn, p, p), np.nan)
    if ok.any():
        good = np.flatnonzero(ok)
        Sigma[good] = implied_cov(S[good], Bm[good], {k: v[good] for k, v in psi.items()},
                                  model)
        C = Sigma[good] if information == "expected" else S[good]
        V[good] = 0.0
        for col, xi, yi in spans:
            k = len(xi)
            inv = np.linalg.inv(C[:, xi][:, :, xi])
            V[good, col:col + k, col:col + k] = (psi[yi][good] / nobs)[:, None, None] * inv
    return V, psi, Sigma


def _estimates_table(model: PathModel, coef: np.ndarray, std: np.ndarray, V: np.ndarray,
                     psis: dict, Sigma: np.ndarray, N: int, level: float) -> pd.DataFrame:
    """lavaan's estimate rows: the regressions, then the residual variances."""
    idx = {v: i for i, v in enumerate(model.variables)}
    reg_rows = pd.DataFrame({"lhs": [y for y, _ in model.edges], "op": "~",
                             "rhs": [x for _, x in model.edges],
                             "label": [model.label(y, x) or "" for y, x in model.edges]})
    reg_rows = pd.concat([reg_rows, wald_table(coef, np.sqrt(np.diag(V)), level)], axis=1)
    reg_rows["std.all"] = std
    psi_est = np.array([psis[r.lhs] for r in model.regressions])
    var_rows = pd.DataFrame({"lhs": [r.lhs for r in model.regressions], "op": "~~",
                             "rhs": [r.lhs for r in model.regressions], "label": ""})
    var_rows = pd.concat([var_rows, wald_table(psi_est, psi_est * np.sqrt(2.0 / N), level)],
                         axis=1)
    var_rows["std.all"] = psi_est / np.array([Sigma[idx[r.lhs], idx[r.lhs]]
                                              for r in model.regressions])
    return pd.concat([reg_rows, var_rows], ignore_index=True)


def fit_path_ols(data: pd.DataFrame, model: PathModel, information: str = "expected",
                 level: float = 0.95) -> PathFit:
    """Fit a recursive path model of observed variables equation by equation.

    Parameters
    ----------
    data : DataFrame
        One numeric column per variable of ``model``; incomplete rows are dropped.
    model : PathModel
        Recursive, without correlated disturbances.
    information : {"expected", "observed"}
        Which information matrix the standard errors come from (lavaan's
        ``information`` option; ``"expected"`` is its default for ML).
    level : float
        Confidence level of the Wald intervals.

    Returns
    -------
    PathFit

    Raises
    ------
    InputError
        Missing or non-numeric columns, too few rows, correlated disturbances, or a
        singular predictor covariance matrix.

    Notes
    -----
    Estimates: ``b = S_xx^{-1} s_xy``, ``psi = RSS / N``. Under ML the coefficients of
    different equations are uncorrelated (the likelihood factorises over equations),
    and within an equation ``Var(b) = psi / N * C^{-1}`` where ``C`` is

    * ``"observed"``: the sample covariance of the predictors, ``X'X / N`` with
      centred ``X`` (the OLS formula with divisor N instead of N - k);
    * ``"expected"``: their *model-implied* covariance. It differs from the sample one
      when the model leaves a covariance among the predictors unexplained (in the
      reference model, ``WIL ~ COM + HAB`` while ``COM`` is not regressed on ``HAB``),
      by 2.6 % in the SEs of the ``WIL`` equation there; with it the SEs agree with
      lavaan's ``sem(model, data)`` to 1e-6 relative.

    ``se(psi) = psi sqrt(2 / N)``. z, p and intervals as ``parameterEstimates``.
    """
    if information not in ("expected", "observed"):
        raise ValueError(f"information must be 'expected' or 'observed', not {information!r}")
    check_fast_class(model)
    Z = model_data(data, model)
    N = Z.shape[0]
    Zc = Z - Z.mean(axis=0)
    S = (Zc.T @ Zc / N)[None]
    coef, std, ok = estimates_from_moments(S, model)
    if not ok[0]:
        raise InputError("path model: the predictors of some equation are collinear "
                         "(singular covariance matrix); drop one of them.")
    V, psi, Sigma = path_vcov(S, coef, ok, model, N, information)
    idx = {v: i for i, v in enumerate(model.variables)}
    psis = {r.lhs: psi[idx[r.lhs]][0] for r in model.regressions}
    coef, std, V, Sigma = coef[0], std[0], V[0], Sigma[0]
    names = [f"{y} ~ {x}" for y, x in model.edges]
    estimates = _estimates_table(model, coef, std, V, psis, Sigma, N, level)
    return PathFit(
        estimates=estimates,
        vcov=pd.DataFrame(V, index=names, columns=names),
        coefficients=dict(zip(model.edges, coef.tolist())),
        std_all=dict(zip(model.edges, std.tolist())),
        implied_cov=pd.DataFrame(Sigma, index=list(model.variables),
                                 columns=list(model.variables)),
        nobs=N,
        information=information,
    )
