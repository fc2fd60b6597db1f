"""Bootstrap intervals for path effects, as batched linear algebra.

For a recursive path model of observed variables with uncorrelated disturbances the ML
estimates are equation-by-equation OLS (:mod:`adoption.structural.ols`). A bootstrap
draw only changes the weights of the rows, so all draws can be estimated at once:

1. ``W`` (B x N): how often each row is drawn in each draw (``bincount`` of the index
   matrix from ``numpy.random.default_rng(seed).integers(0, N, size=(B, N))``);
2. the moments of every draw: ``W @ Z`` and ``W @ [z_i z_j]_{i<=j}`` (one BLAS matrix
   product on the centred data), giving a (B, p, p) stack of covariance matrices;
3. for each equation ``np.linalg.solve`` on the (B, k, k) stack of ``S_xx``;
4. the model-implied covariance of every draw (batched ``inv(I - B)``) for std.all;
5. every effect of every draw (:func:`~adoption.structural.effects.evaluate_effects`).

The jackknife needed for the BCa acceleration uses the same code on leave-one-out
moments (total minus one row), so it costs one more batch of N "draws".

Models outside that class go through :func:`adoption.structural.refit.bootstrap_refit`,
which summarises its draws with :func:`summarise_draws` from here. The interval formulas
are in :mod:`adoption.structural.intervals`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.parallel import blas_one_thread
from adoption.structural.effects import (
    EffectDefinition,
    coefficient_vector,
    effect_definitions,
    evaluate_effects,
)
from adoption.structural.intervals import (
    CI_TYPES,
    bias_corrected_interval,
    jackknife_acceleration,
    percentile_interval,
)
from adoption.structural.ols import (
    check_fast_class,
    estimates_from_moments,
    fit_path_ols,
    model_data,
    path_moments,
)
from adoption.structural.paths import PathModel
from adoption.vocabulary import DEFAULT_SEED

__all__ = [
    "BOOT_COLUMNS",
    "BootstrapDraws",
    "BootstrapEffects",
    "bootstrap_path_draws",
    "bootstrap_effects",
    "summarise_draws",
]

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


def _batched_draws(D: np.ndarray, model: PathModel, p: int, ref_var: np.ndarray, B: int,
                   seed: int | None, chunk: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimates of B draws from the design ``D = [z, z_j z_k]`` (N rows), ``chunk``
    draws at a time (see :func:`bootstrap_path_draws`)."""
    N = D.shape[0]
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
    return np.concatenate(coefs), np.concatenate(stds), np.concatenate(oks)


def bootstrap_path_draws(data: pd.DataFrame, model: PathModel, B: int = 5000,
                         seed: int | None = DEFAULT_SEED, chunk: int = 2500,
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
    check_fast_class(model)
    Z = model_data(data, model)
    N, p = Z.shape
    Zc = Z - Z.mean(axis=0)
    iu, ju = np.triu_indices(p)
    # one design matrix: [z, z_j z_k]; a draw's sums are W @ D
    D = np.concatenate([Zc, Zc[:, iu] * Zc[:, ju]], axis=1)
    ref_var = (Zc ** 2).mean(axis=0)
    coef, std, ok = _batched_draws(D, model, p, ref_var, B, seed, chunk)
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
                      seed: int | None = DEFAULT_SEED, level: float = 0.95,
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
