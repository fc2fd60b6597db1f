"""Bootstrap of path effects by refitting the model on every draw (general route).

The fallback for models outside the closed-form class of
:mod:`adoption.structural.bootstrap` (correlated disturbances, latent variables,
constraints, non-recursive): :func:`bootstrap_refit` calls a ``refit(data)`` function
once per draw, in parallel (:func:`adoption.parallel.run_tasks`: local cores or a dask
cluster), with per-draw seeds from ``SeedSequence(seed).spawn(B)`` so the result does
not depend on the worker count or the backend. The draws are summarised by
:func:`adoption.structural.bootstrap.summarise_draws`, as on the batched route.

* :func:`bootstrap_refit` - the route;
* :class:`OLSRefit` - a picklable ``refit`` giving the closed-form estimates (checks and
  timings of the route).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.parallel import blas_one_thread, run_tasks
from adoption.structural.bootstrap import BootstrapEffects, summarise_draws
from adoption.structural.effects import effect_definitions
from adoption.structural.ols import estimates_from_moments, model_data
from adoption.structural.paths import PathModel
from adoption.vocabulary import DEFAULT_SEED

__all__ = ["OLSRefit", "bootstrap_refit"]


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


def _refit_draws(run: Callable, refit: Callable, data: pd.DataFrame, edges: tuple, B: int,
                 seed: int | None, n_tasks: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Coefficients and std.all of the B draws (NaN rows where a refit failed) and the
    first few distinct failure messages."""
    children = np.random.SeedSequence(seed).spawn(B)
    split = np.array_split(np.arange(B), n_tasks)
    parts = run(partial(_refit_batch, refit, data, edges=edges),
                [[children[i] for i in s] for s in split if len(s)])
    res = [r for part in parts for r in part]
    coef = np.array([r[0] for r in res])
    std = np.array([r[1] for r in res])
    msgs = tuple(dict.fromkeys(r[2] for r in res if r[2]))[:5]
    return coef, std, msgs


def _refit_jackknife(run: Callable, refit: Callable, data: pd.DataFrame, edges: tuple,
                     n_tasks: int) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out coefficients and std.all of the refits that succeeded."""
    n = len(data)
    jparts = run(partial(_refit_jack_batch, refit, data, edges=edges),
                 [list(s) for s in np.array_split(np.arange(n), n_tasks) if len(s)])
    jres = [r for part in jparts for r in part]
    jc = np.array([r[0] for r in jres])
    js = np.array([r[1] for r in jres])
    good = np.isfinite(jc).all(axis=1)
    return jc[good], js[good]


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
        Z = model_data(frame, self.model)
        Zc = Z - Z.mean(axis=0)
        coef, std, ok = estimates_from_moments((Zc.T @ Zc / len(Zc))[None], self.model)
        if not ok[0]:
            raise np.linalg.LinAlgError("collinear predictors in this sample")
        return (dict(zip(self.model.edges, coef[0].tolist())),
                dict(zip(self.model.edges, std[0].tolist())))


def bootstrap_refit(data: pd.DataFrame, model: PathModel,
                    refit: Callable[[pd.DataFrame], Mapping | tuple[Mapping, Mapping]],
                    B: int = 1000, seed: int | None = DEFAULT_SEED, level: float = 0.95,
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
    t_start = time.perf_counter()
    defs = effect_definitions(model, to=to)
    edges = model.edges
    e0, s0, msg0 = _refit_vector(refit, data.reset_index(drop=True), edges)
    if msg0:
        raise InputError(f"bootstrap_refit: the model cannot be fitted to the full data "
                         f"({msg0}).")
    n_tasks = max(1, min(B, n_jobs * batches_per_job))
    run = partial(run_tasks, scheduler=scheduler, n_jobs=n_jobs, backend=backend)
    coef, std, msgs = _refit_draws(run, refit, data, edges, B, seed, n_tasks)
    ok = np.isfinite(coef).all(axis=1)
    jc = js = None
    if jackknife:
        jc, js = _refit_jackknife(run, refit, data, edges, n_tasks)
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
