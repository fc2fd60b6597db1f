"""Bootstrap confidence intervals for path effects, as batched linear algebra.

For a recursive path model of observed variables with uncorrelated disturbances (and
lavaan's default ``fixed.x = TRUE``) the likelihood factorises into one conditional
normal regression per endogenous variable, so the ML estimates are equation-by-equation
OLS (with ``RSS/N`` residual variances). A bootstrap draw only changes the weights of
the rows, so all draws can be estimated at once:

1. ``W`` (B x N): how often each row is drawn in each draw (``bincount`` of the index
   matrix from ``numpy.random.default_rng(seed).integers(0, N, size=(B, N))``);
2. the moments of every draw: ``W @ Z`` and ``W @ [z_i z_j]_{i<=j}`` (one BLAS matrix
   product on the centred data), giving a (B, p, p) stack of covariance matrices;
3. for each equation ``np.linalg.solve`` on the (B, k, k) stack of ``S_xx``;
4. the model-implied covariance of every draw (batched ``inv(I - B)``) for std.all;
5. every effect of every draw (:func:`~adoption.structural.effects.evaluate_effects`).

The jackknife needed for the BCa acceleration uses the same code on leave-one-out
moments (total minus one row), so it costs one more batch of N "draws".

:func:`bootstrap_refit` is the fallback for models outside that class (correlated
disturbances, latent variables, constraints, non-recursive): it calls a ``refit(data)``
function once per draw, in parallel (:func:`adoption.parallel.run_tasks`: local cores
or a dask cluster), with per-draw seeds from ``SeedSequence(seed).spawn(B)`` so the
result does not depend on the worker count or the backend.

The interval functions (:func:`norm_inter`, :func:`percentile_interval`,
:func:`bias_corrected_interval`, :func:`jackknife_acceleration`) are pure functions of
arrays, shared by both routes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from adoption.errors import InputError
from adoption.parallel import blas_one_thread
from adoption.structural.effects import (
    EffectDefinition,
    coefficient_vector,
    effect_definitions,
    evaluate_effects,
    wald_table,
)
from adoption.structural.paths import PathModel

__all__ = [
    "PathFit",
    "BootstrapDraws",
    "BootstrapEffects",
    "CI_TYPES",
    "fit_path_ols",
    "path_moments",
    "estimates_from_moments",
    "bootstrap_path_draws",
    "bootstrap_effects",
    "bootstrap_refit",
    "OLSRefit",
    "norm_inter",
    "percentile_interval",
    "bias_corrected_interval",
    "jackknife_acceleration",
    "summarise_draws",
]

#: Bootstrap interval types: lavaan's ``boot.ci.type`` names plus full BCa.
CI_TYPES: tuple[str, ...] = ("perc", "bca.simple", "bca")

#: Smallest eigenvalue of a draw's predictor correlation matrix below which the draw
#: counts as singular (collinear predictors) and is dropped.
SINGULAR_TOL = 1e-10


# --------------------------------------------------------------------------------------
# data at the edge
# --------------------------------------------------------------------------------------
def _model_data(data: pd.DataFrame, model: PathModel) -> np.ndarray:
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


def _check_fast_class(model: PathModel) -> None:
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


def _implied_cov(S: np.ndarray, Bmat: np.ndarray, psi: dict, model: PathModel) -> np.ndarray:
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
        # collinearity check on the correlation scale R. det(R) is the product of its
        # eigenvalues, each at most k, so det(R) > tol * k^(k-1) proves the smallest
        # eigenvalue exceeds tol (one LU per draw); the few draws that fail that screen
        # get the exact test on their smallest eigenvalue.
        dg = np.diagonal(Sxx, axis1=1, axis2=2)
        floor = 0.0 if ref_var is None else SINGULAR_TOL * np.asarray(ref_var)[xi]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_sd = 1.0 / np.sqrt(dg)
            R = Sxx * inv_sd[:, :, None] * inv_sd[:, None, :]
            detR = np.linalg.det(R)
        good = (dg > floor).all(axis=1) & np.isfinite(detR)
        unsure = np.flatnonzero(good & ~(detR > SINGULAR_TOL * k ** (k - 1)))
        if unsure.size:
            good[unsure] = np.linalg.eigvalsh(R[unsure])[:, 0] > SINGULAR_TOL
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
        Sigma = _implied_cov(S, Bmat, psi, model)
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
    _check_fast_class(model)
    Z = _model_data(data, model)
    N, p = Z.shape
    Zc = Z - Z.mean(axis=0)
    S = (Zc.T @ Zc / N)[None]
    coef, std, ok = estimates_from_moments(S, model)
    if not ok[0]:
        raise InputError("path model: the predictors of some equation are collinear "
                         "(singular covariance matrix); drop one of them.")
    coef, std, S = coef[0], std[0], S[0]
    idx = {v: i for i, v in enumerate(model.variables)}
    Bm = np.zeros((p, p))
    psis = {}
    col = 0
    for reg in model.regressions:
        xi = [idx[x] for x in reg.rhs]
        yi = idx[reg.lhs]
        b = coef[col:col + len(xi)]
        Bm[yi, xi] = b
        psis[reg.lhs] = S[yi, yi] - S[yi, xi] @ b
        col += len(xi)
    Sigma = _implied_cov(S[None], Bm[None], {idx[v]: np.array([x]) for v, x in psis.items()},
                         model)[0]
    C = Sigma if information == "expected" else S
    E = len(model.edges)
    V = np.zeros((E, E))
    col = 0
    for reg in model.regressions:
        xi = [idx[x] for x in reg.rhs]
        k = len(xi)
        V[col:col + k, col:col + k] = psis[reg.lhs] / N * np.linalg.inv(C[np.ix_(xi, xi)])
        col += k
    names = [f"{y} ~ {x}" for y, x in model.edges]
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
    estimates = pd.concat([reg_rows, var_rows], ignore_index=True)
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


@dataclass(frozen=True)
class BootstrapDraws:
    """Coefficient estimates of every successful bootstrap draw.

    Attributes
    ----------
    coef, std : DataFrame, shape (n_ok, n_edges)
        Regression and std.all coefficients; columns ``"lhs ~ rhs"``; index the draw
        number (0..B-1) so dropped draws leave gaps.
    failed : tuple of int
        Draws dropped because an ``S_xx`` was singular (or a refit failed).
    jack_coef, jack_std : DataFrame or None
        Leave-one-out estimates (N rows) for the BCa acceleration.
    seed : int or None
    """

    coef: pd.DataFrame
    std: pd.DataFrame
    failed: tuple[int, ...]
    jack_coef: pd.DataFrame | None = None
    jack_std: pd.DataFrame | None = None
    seed: int | None = None


def bootstrap_path_draws(data: pd.DataFrame, model: PathModel, B: int = 5000,
                         seed: int | None = 20261125, chunk: int = 2500,
                         jackknife: bool = True) -> BootstrapDraws:
    """Nonparametric bootstrap of a recursive path model, all draws at once.

    Parameters
    ----------
    data : DataFrame
        One numeric column per model variable; incomplete rows are dropped first.
    model : PathModel
        Recursive, uncorrelated disturbances (else :class:`InputError`: use
        :func:`bootstrap_refit`).
    B : int
        Number of draws.
    seed : int or None
        Seed of ``numpy.random.default_rng``. Draw ``b`` uses rows
        ``default_rng(seed).integers(0, N, size=(B, N))[b]``, whatever ``chunk``.
    chunk : int
        Draws per batch (memory is about ``chunk * (N + p^2) * 8`` bytes).
    jackknife : bool
        Also compute the N leave-one-out estimates (for BCa).

    Returns
    -------
    BootstrapDraws

    Notes
    -----
    Each draw's estimates are the ML estimates on the resampled rows, as in lavaan's
    ``se = "bootstrap"`` (which refits by iterative ML); see
    :func:`estimates_from_moments`. Draws whose predictors are collinear are dropped
    and listed in ``failed``, as lavaan drops non-converged draws.
    """
    if B < 1 or chunk < 1:
        raise ValueError("B and chunk must be positive")
    _check_fast_class(model)
    Z = _model_data(data, model)
    N, p = Z.shape
    Zc = Z - Z.mean(axis=0)
    iu, ju = np.triu_indices(p)
    # one design matrix: [z, z_j z_k]; a draw's sums are W @ D
    D = np.concatenate([Zc, Zc[:, iu] * Zc[:, ju]], axis=1)
    ref_var = (Zc ** 2).mean(axis=0)
    rng = np.random.default_rng(seed)
    coefs, stds, oks = [], [], []
    offsets = None
    for start in range(0, B, chunk):
        c = min(chunk, B - start)
        idx = rng.integers(0, N, size=(c, N))
        if offsets is None or offsets.shape[0] != c:
            offsets = (np.arange(c) * N)[:, None]
        idx += offsets                # row b's draws into bins b * N .. b * N + N - 1
        W = np.bincount(idx.ravel(), minlength=c * N).reshape(c, N)
        sums = W.astype(float) @ D
        S = path_moments(sums[:, :p], sums[:, p:], float(N), p)
        cf, sd, ok = estimates_from_moments(S, model, ref_var=ref_var)
        coefs.append(cf)
        stds.append(sd)
        oks.append(ok)
    coef = np.concatenate(coefs)
    std = np.concatenate(stds)
    ok = np.concatenate(oks)
    names = [f"{y} ~ {x}" for y, x in model.edges]
    keep = np.flatnonzero(ok)
    jc = js = None
    if jackknife:
        total = D.sum(axis=0)
        S = path_moments(total[:p] - D[:, :p], total[p:] - D[:, p:], float(N - 1), p)
        jcoef, jstd, _ = estimates_from_moments(S, model, ref_var=ref_var)
        jc = pd.DataFrame(jcoef, columns=names)
        js = pd.DataFrame(jstd, columns=names)
    return BootstrapDraws(
        coef=pd.DataFrame(coef[keep], index=keep, columns=names),
        std=pd.DataFrame(std[keep], index=keep, columns=names),
        failed=tuple(int(i) for i in np.flatnonzero(~ok)),
        jack_coef=jc, jack_std=js, seed=seed,
    )


# --------------------------------------------------------------------------------------
# intervals (pure functions, vectorised over columns)
# --------------------------------------------------------------------------------------
def norm_inter(t: np.ndarray, alpha: np.ndarray, presorted: bool = False) -> np.ndarray:
    """Quantiles of bootstrap draws by interpolation on the normal scale.

    Parameters
    ----------
    t : ndarray, shape (R, K)
        Draws of K statistics (finite values).
    alpha : ndarray, shape (m,) or (K, m)
        Probabilities, common to all statistics or one row per statistic.
    presorted : bool
        ``t`` is already sorted along axis 0.

    Returns
    -------
    ndarray, shape (K, m)

    Notes
    -----
    The ``boot`` package's ``norm.inter`` (Davison & Hinkley, 1997, eq. 5.8), used by
    ``boot.ci`` and by lavaan's ``parameterEstimates(boot.ci.type = "perc" /
    "bca.simple")``: with ``rk = (R + 1) alpha`` and ``k = floor(rk)``, the quantile is
    ``t_(k)`` when ``rk`` is an integer, the extreme order statistic when ``k`` is 0 or
    R, and otherwise ``t_(k) + (qnorm(alpha) - qnorm(k/(R+1))) / (qnorm((k+1)/(R+1)) -
    qnorm(k/(R+1))) (t_(k+1) - t_(k))``.
    """
    t = np.asarray(t, dtype=float)
    if t.ndim == 1:
        t = t[:, None]
    R, K = t.shape
    ts = t if presorted else np.sort(t, axis=0)
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (K, np.shape(alpha)[-1]))
    rk = (R + 1) * a
    k = np.floor(np.nan_to_num(rk)).astype(int)
    cols = np.arange(K)[:, None]
    lo = ts[np.clip(k - 1, 0, R - 1), cols]
    hi = ts[np.clip(k, 0, R - 1), cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        z1 = ndtri(a)                 # qnorm, without scipy.stats' per-call checks
        z2 = ndtri(k / (R + 1))
        z3 = ndtri((k + 1) / (R + 1))
        out = lo + (z1 - z2) / (z3 - z2) * (hi - lo)
    out = np.where(k == rk, lo, out)
    out = np.where(k <= 0, ts[0][cols[:, 0]][:, None], out)
    out = np.where(k >= R, ts[-1][cols[:, 0]][:, None], out)
    return np.where(np.isfinite(a), out, np.nan)


def percentile_interval(draws: np.ndarray, level: float = 0.95,
                        presorted: bool = False) -> np.ndarray:
    """Percentile bootstrap interval (lavaan's ``boot.ci.type = "perc"``).

    Parameters
    ----------
    draws : ndarray, shape (R, K)
    level : float

    Returns
    -------
    ndarray, shape (K, 2)
        :func:`norm_inter` at ``(1 -+ level) / 2``.
    """
    alpha = np.array([(1 - level) / 2, (1 + level) / 2])
    return norm_inter(draws, alpha, presorted=presorted)


def jackknife_acceleration(jack: np.ndarray) -> np.ndarray:
    """BCa acceleration from leave-one-out estimates.

    Parameters
    ----------
    jack : ndarray, shape (N, K)
        Estimate of each of K statistics with row i left out.

    Returns
    -------
    ndarray, shape (K,)
        ``a = sum L^3 / (6 (sum L^2)^{3/2})`` with ``L_i = mean(jack) - jack_i``
        (Efron, 1987; ``boot::empinf(type = "jack")`` up to a factor that cancels).
    """
    jack = np.asarray(jack, dtype=float)
    L = jack.mean(axis=0) - jack
    with np.errstate(divide="ignore", invalid="ignore"):
        return (L * L * L).sum(axis=0) / (6.0 * (L * L).sum(axis=0) ** 1.5)


def bias_corrected_interval(draws: np.ndarray, est: np.ndarray, level: float = 0.95,
                            acceleration: np.ndarray | float = 0.0,
                            presorted: bool = False) -> np.ndarray:
    """Bias-corrected (and accelerated) percentile interval.

    Parameters
    ----------
    draws : ndarray, shape (R, K)
    est : ndarray, shape (K,)
        The full-sample estimates ``t0``.
    level : float
    acceleration : float or ndarray, shape (K,)
        0 gives lavaan's ``boot.ci.type = "bca.simple"`` (bias correction only); the
        jackknife value (:func:`jackknife_acceleration`) gives the BCa interval of
        ``boot::boot.ci(type = "bca")``.

    Returns
    -------
    ndarray, shape (K, 2)
        NaN where the bias correction is infinite (every draw on one side of ``t0``).

    Notes
    -----
    ``w = qnorm(mean(t < t0))``; ``alpha' = pnorm(w + (w + z_alpha) / (1 - a (w +
    z_alpha)))`` for ``z_alpha = qnorm((1 -+ level) / 2)``; the interval is
    :func:`norm_inter` at ``alpha'`` (Efron, 1987; lavaan ``parameterEstimates``,
    ``boot`` ``bca.ci``).
    """
    draws = np.asarray(draws, dtype=float)
    if draws.ndim == 1:
        draws = draws[:, None]
    est = np.asarray(est, dtype=float).reshape(-1)
    a = np.broadcast_to(np.asarray(acceleration, dtype=float), est.shape)
    w = ndtri((draws < est).mean(axis=0))
    za = ndtri(np.array([(1 - level) / 2, (1 + level) / 2]))
    with np.errstate(divide="ignore", invalid="ignore"):
        adj = ndtr(w[:, None] + (w[:, None] + za) / (1 - a[:, None] * (w[:, None] + za)))
    adj = np.where(np.isfinite(w)[:, None] & np.isfinite(a)[:, None], adj, np.nan)
    return norm_inter(draws, adj, presorted=presorted)


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------
#: Columns of :attr:`BootstrapEffects.table`.
BOOT_COLUMNS: tuple[str, ...] = (
    "name", "effect", "source", "target", "path", "scale",
    "est", "se", "ci.type", "ci.lower", "ci.upper",
)


@dataclass(frozen=True)
class BootstrapEffects:
    """Bootstrap inference for path effects.

    Attributes
    ----------
    table : DataFrame
        Long format, columns :data:`BOOT_COLUMNS`: one row per effect x ``scale``
        (``"unstandardized"`` or ``"std.all"``) x ``ci.type`` (``"perc"``,
        ``"bca.simple"``, ``"bca"``). ``est`` is the full-sample estimate, ``se`` the
        standard deviation of the draws (lavaan's bootstrap SE).
    draws : DataFrame
        Unstandardised effects of every successful draw (columns: effect names).
    std_draws : DataFrame
        The same for std.all.
    B : int
        Draws requested.
    n_failed : int
        Draws dropped (singular ``S_xx`` or a failed refit).
    level : float
    seed : int or None
    seconds : float
        Wall time of draws + intervals.
    messages : tuple of str
        Why draws failed (first few distinct messages), for the run log.
    """

    table: pd.DataFrame
    draws: pd.DataFrame
    std_draws: pd.DataFrame
    B: int
    n_failed: int
    level: float
    seed: int | None
    seconds: float
    messages: tuple[str, ...] = ()

    def interval(self, ci_type: str = "perc", scale: str = "unstandardized",
                 effect: str | None = None) -> pd.DataFrame:
        """One interval type on one scale, one row per effect (``effect`` filters the
        kind: ``"indirect"``, ``"total"`` ...)."""
        if ci_type not in CI_TYPES:
            raise ValueError(f"ci_type must be one of {CI_TYPES}, not {ci_type!r}")
        t = self.table
        t = t[(t["ci.type"] == ci_type) & (t["scale"] == scale)]
        if effect is not None:
            t = t[t["effect"] == effect]
        return t.reset_index(drop=True)


def summarise_draws(definitions: tuple[EffectDefinition, ...], est: np.ndarray,
                    std_est: np.ndarray | None, coef_draws: np.ndarray,
                    std_draws: np.ndarray | None, jack_coef: np.ndarray | None = None,
                    jack_std: np.ndarray | None = None,
                    level: float = 0.95) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Effects per draw and their percentile, bca.simple and BCa intervals.

    Parameters
    ----------
    definitions : tuple of EffectDefinition
    est, std_est : ndarray, shape (n_edges,)
        Full-sample coefficients (std_est may be None).
    coef_draws, std_draws : ndarray, shape (R, n_edges)
        Successful draws only.
    jack_coef, jack_std : ndarray, shape (N, n_edges), optional
        Leave-one-out coefficients; without them the ``bca`` rows are NaN.
    level : float

    Returns
    -------
    table : DataFrame (columns :data:`BOOT_COLUMNS`)
    effect_draws, std_effect_draws : ndarray, shape (R, n_definitions)
    """
    # effects with the same terms (a total effect without indirect paths is the direct
    # effect, a total indirect effect with one path is that path) are computed once
    first: dict = {}
    expand = np.array([first.setdefault(frozenset(d.terms), len(first)) for d in definitions])
    uniq = [None] * len(first)
    for d, j in zip(definitions, expand):
        uniq[j] = uniq[j] or d
    K = len(uniq)
    eff = evaluate_effects(uniq, coef_draws)
    seff = (evaluate_effects(uniq, std_draws) if std_draws is not None
            else np.full_like(eff, np.nan))
    blocks = []  # (scale, t0, se, {ci_type: (K, 2)})
    for scale, t0c, dr, jk in (("unstandardized", est, eff, jack_coef),
                               ("std.all", std_est, seff, jack_std)):
        t0 = evaluate_effects(uniq, t0c) if t0c is not None else np.full(K, np.nan)
        if dr.shape[0] > 1 and np.isfinite(dr).all():
            ts = np.sort(dr, axis=0)
            se = dr.std(axis=0, ddof=1)
            cis = {"perc": percentile_interval(ts, level, presorted=True),
                   "bca.simple": bias_corrected_interval(ts, t0, level, 0.0, presorted=True)}
            if jk is not None:
                acc = jackknife_acceleration(evaluate_effects(uniq, jk))
                cis["bca"] = bias_corrected_interval(ts, t0, level, acc, presorted=True)
            else:
                cis["bca"] = np.full((K, 2), np.nan)
        else:
            se = np.full(K, np.nan)
            cis = {c: np.full((K, 2), np.nan) for c in CI_TYPES}
        t0, se = t0[expand], se[expand]
        cis = {c: v[expand] for c, v in cis.items()}
        blocks.append((scale, t0, se, cis))
    K = len(definitions)
    eff, seff = eff[:, expand], seff[:, expand]
    reps = 2 * len(CI_TYPES)
    lo = np.concatenate([cis[c][:, 0] for _, _, _, cis in blocks for c in CI_TYPES])
    hi = np.concatenate([cis[c][:, 1] for _, _, _, cis in blocks for c in CI_TYPES])
    path = np.empty(K, dtype=object)
    path[:] = [d.path for d in definitions]
    table = pd.DataFrame({
        "name": np.tile([d.name for d in definitions], reps),
        "effect": np.tile([d.effect for d in definitions], reps),
        "source": np.tile([d.source for d in definitions], reps),
        "target": np.tile([d.target for d in definitions], reps),
        "path": np.tile(path, reps),
        "scale": np.repeat([b[0] for b in blocks], K * len(CI_TYPES)),
        "est": np.concatenate([np.tile(b[1], len(CI_TYPES)) for b in blocks]),
        "se": np.concatenate([np.tile(b[2], len(CI_TYPES)) for b in blocks]),
        "ci.type": np.tile(np.repeat(CI_TYPES, K), 2),
        "ci.lower": lo, "ci.upper": hi,
    })
    return table, eff, seff


def bootstrap_effects(data: pd.DataFrame, model: PathModel, B: int = 5000,
                      seed: int | None = 20261125, level: float = 0.95,
                      to: str = "endogenous", chunk: int = 2500,
                      bca: bool = True) -> BootstrapEffects:
    """Bootstrap intervals for every direct, indirect and total effect (fast route).

    Parameters
    ----------
    data : DataFrame
        One numeric column per model variable.
    model : PathModel
        Recursive, uncorrelated disturbances.
    B : int
        Bootstrap draws.
    seed : int or None
    level : float
    to : {"endogenous", "outcomes"}
        Targets of indirect/total effects (see :func:`effect_definitions`).
    chunk : int
        Draws per batch.
    bca : bool
        Compute the jackknife acceleration for the ``bca`` rows.

    Returns
    -------
    BootstrapEffects

    Notes
    -----
    Draws: :func:`bootstrap_path_draws`. Intervals: ``perc`` is lavaan's
    ``boot.ci.type = "perc"``; ``bca.simple`` is lavaan's bias-corrected interval
    *without* acceleration; ``bca`` is the full BCa interval of ``boot::boot.ci(type =
    "bca")`` with the jackknife acceleration (lavaan does not offer it). SE is the SD
    of the draws, as lavaan's ``se = "bootstrap"``.

    Examples
    --------
    >>> res = bootstrap_effects(composites, parse_structural(syntax), B=5000)  # doctest: +SKIP
    >>> res.interval("bca.simple", effect="indirect")                          # doctest: +SKIP
    """
    t_start = time.perf_counter()
    defs = effect_definitions(model, to=to)
    with blas_one_thread():     # thin products (chunk x N by N x p^2): threads only cost
        fit = fit_path_ols(data, model)
        draws = bootstrap_path_draws(data, model, B=B, seed=seed, chunk=chunk, jackknife=bca)
        est = coefficient_vector(model, fit.coefficients)
        std = coefficient_vector(model, fit.std_all)
        table, eff, seff = summarise_draws(
            defs, est, std, draws.coef.to_numpy(), draws.std.to_numpy(),
            None if draws.jack_coef is None else draws.jack_coef.to_numpy(),
            None if draws.jack_std is None else draws.jack_std.to_numpy(), level)
    names = [d.name for d in defs]
    n_failed = len(draws.failed)
    msgs = ((f"{n_failed} of {B} draws dropped: collinear predictors in the resample",)
            if n_failed else ())
    return BootstrapEffects(
        table=table,
        draws=pd.DataFrame(eff, index=draws.coef.index, columns=names),
        std_draws=pd.DataFrame(seff, index=draws.coef.index, columns=names),
        B=B, n_failed=n_failed, level=level, seed=seed,
        seconds=time.perf_counter() - t_start, messages=msgs,
    )


# --------------------------------------------------------------------------------------
# fallback: refit per draw
# --------------------------------------------------------------------------------------
def _refit_vector(refit: Callable, frame: pd.DataFrame, edges: tuple) -> tuple[np.ndarray, np.ndarray, str]:
    nan = np.full(len(edges), np.nan)
    try:
        out = refit(frame)
    except Exception as exc:  # a refit that fails is a failed draw, as in lavaan
        return nan, nan, f"{type(exc).__name__}: {exc}"
    coef, std = (out if isinstance(out, tuple) else (out, None))
    try:
        c = np.array([float(coef[e]) for e in edges])
        s = np.array([float(std[e]) for e in edges]) if std is not None else nan
    except (KeyError, TypeError, ValueError) as exc:
        return nan, nan, f"refit returned no value for {exc}"
    if not np.isfinite(c).all():
        return nan, nan, "refit returned non-finite coefficients"
    return c, s, ""


def _refit_batch(refit: Callable, data: pd.DataFrame, seeds: list, edges: tuple
                 ) -> list[tuple[np.ndarray, np.ndarray, str]]:
    n = len(data)
    out = []
    with blas_one_thread():  # small matrices: one BLAS thread
        for ss in seeds:
            rows = np.random.default_rng(ss).integers(0, n, size=n)
            out.append(_refit_vector(refit, data.iloc[rows].reset_index(drop=True), edges))
    return out


def _refit_jack_batch(refit: Callable, data: pd.DataFrame, rows: list, edges: tuple
                      ) -> list[tuple[np.ndarray, np.ndarray, str]]:
    with blas_one_thread():
        return [_refit_vector(refit, data.drop(index=data.index[i]).reset_index(drop=True),
                              edges) for i in rows]


@dataclass(frozen=True)
class OLSRefit:
    """``refit`` for :func:`bootstrap_refit` giving :func:`fit_path_ols`'s estimates.

    A picklable callable (process workers import it by name). It checks the general
    route against the batched one and times the per-draw overhead; real use passes a
    wrapper of the SEM engine instead.

    Returns ``(coefficients, std_all)`` dicts keyed by ``(lhs, rhs)``.
    """

    model: PathModel

    def __call__(self, frame: pd.DataFrame) -> tuple[dict, dict]:
        # the estimates of fit_path_ols without its tables (no SEs needed per draw)
        Z = _model_data(frame, self.model)
        Zc = Z - Z.mean(axis=0)
        coef, std, ok = estimates_from_moments((Zc.T @ Zc / len(Zc))[None], self.model)
        if not ok[0]:
            raise np.linalg.LinAlgError("collinear predictors in this sample")
        return (dict(zip(self.model.edges, coef[0].tolist())),
                dict(zip(self.model.edges, std[0].tolist())))


def bootstrap_refit(data: pd.DataFrame, model: PathModel,
                    refit: Callable[[pd.DataFrame], Mapping | tuple[Mapping, Mapping]],
                    B: int = 1000, seed: int | None = 20261125, level: float = 0.95,
                    to: str = "endogenous", n_jobs: int = 2, backend: str = "loky",
                    jackknife: bool = False, batches_per_job: int = 4,
                    scheduler: str | None = None) -> BootstrapEffects:
    """Bootstrap path effects by refitting the model on every draw (general route).

    Parameters
    ----------
    data : DataFrame
        The rows to resample (whatever ``refit`` needs: items or composites).
    model : PathModel
        Its regressions define the effects.
    refit : callable
        ``refit(frame) -> {(lhs, rhs): est}`` or ``-> (est_dict, std_all_dict)``, e.g. a
        wrapper of the SEM engine's ``fit_model``. It must be picklable for process
        backends (``"loky"`` uses cloudpickle, so closures are fine). An exception or a
        non-finite result marks the draw failed; it is dropped and counted.
    B : int
    seed : int or None
        Root of ``numpy.random.SeedSequence(seed).spawn(B)``: draw ``b`` takes its rows
        from ``default_rng(children[b]).integers(0, N, size=N)``, so the draws are the
        same for any ``n_jobs`` and backend.
    level : float
    to : {"endogenous", "outcomes"}
    n_jobs : int
        Local workers (see :func:`adoption.parallel.run_tasks`).
    backend : str
        joblib backend: ``"loky"`` (processes), ``"threading"`` or ``"sequential"``.
    jackknife : bool
        Also refit N leave-one-out samples for the ``bca`` rows (N more refits);
        without it those rows are NaN.
    batches_per_job : int
        Tasks per worker (fewer, larger tasks cut the scheduling overhead).
    scheduler : str, optional
        ``"tcp://host:8786"``: refit on that dask.distributed cluster instead of the
        local cores (default ``$ADOPTION_DASK_SCHEDULER``; see
        :func:`adoption.parallel.run_tasks`). The draws do not change.

    Returns
    -------
    BootstrapEffects
        Same intervals as :func:`bootstrap_effects` (:func:`summarise_draws`).
    """
    from adoption.parallel import run_tasks

    t_start = time.perf_counter()
    defs = effect_definitions(model, to=to)
    edges = model.edges
    e0, s0, msg0 = _refit_vector(refit, data.reset_index(drop=True), edges)
    if msg0:
        raise InputError(f"bootstrap_refit: the model cannot be fitted to the full data "
                         f"({msg0}).")
    children = np.random.SeedSequence(seed).spawn(B)
    n_tasks = max(1, min(B, n_jobs * batches_per_job))
    split = np.array_split(np.arange(B), n_tasks)
    run = partial(run_tasks, scheduler=scheduler, n_jobs=n_jobs, backend=backend)
    parts = run(partial(_refit_batch, refit, data, edges=edges),
                [[children[i] for i in s] for s in split if len(s)])
    res = [r for part in parts for r in part]
    coef = np.array([r[0] for r in res])
    std = np.array([r[1] for r in res])
    ok = np.isfinite(coef).all(axis=1)
    msgs = tuple(dict.fromkeys(r[2] for r in res if r[2]))[:5]
    jc = js = None
    if jackknife:
        n = len(data)
        jparts = run(partial(_refit_jack_batch, refit, data, edges=edges),
                     [list(s) for s in np.array_split(np.arange(n), n_tasks) if len(s)])
        jres = [r for part in jparts for r in part]
        jc = np.array([r[0] for r in jres])
        js = np.array([r[1] for r in jres])
        good = np.isfinite(jc).all(axis=1)
        jc, js = jc[good], js[good]
    has_std = np.isfinite(s0).all()
    table, eff, seff = summarise_draws(
        defs, e0, s0 if has_std else None, coef[ok], std[ok] if has_std else None,
        jc, js if has_std else None, level)
    keep = np.flatnonzero(ok)
    names = [d.name for d in defs]
    return BootstrapEffects(
        table=table,
        draws=pd.DataFrame(eff, index=keep, columns=names),
        std_draws=pd.DataFrame(seff, index=keep, columns=names),
        B=B, n_failed=int((~ok).sum()), level=level, seed=seed,
        seconds=time.perf_counter() - t_start, messages=msgs,
    )
