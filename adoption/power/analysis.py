"""The power analysis: replicates at each sample size, run in parallel and summarised
(:func:`power_analysis`), and the parsing of the sample sizes asked for (:func:`parse_ns`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats

from adoption.errors import InputError
from adoption.parallel import backend_name, run_tasks, task_seeds
from adoption.power.inference import run_block
from adoption.power.population import (MC_POPULATION_N, MC_POPULATION_SEED, PowerDesign,
                                       composite_population, power_design)
from adoption.power.results import N80_COLUMNS, POWER_COLUMNS, PowerResults, n_for_power
from adoption.spec import Survey
from adoption.vocabulary import DEFAULT_SEED

__all__ = ['DEFAULT_NS', 'BLOCK', 'power_analysis', 'parse_ns']


#: Sample sizes of ``adoption power`` when none are given.
DEFAULT_NS: tuple[int, ...] = (150, 200, 300, 500)

#: Replicates per task: fits within a task are batched; the block size is fixed so the
#: numbers never depend on the worker count.
BLOCK = 25


def _summarise(design: PowerDesign, popv: dict, ns: list[int], blocks: dict[int, list],
               alpha: float, level: float, target: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    defs = design.definitions
    q = stats.norm.ppf((1 + level) / 2)
    meta = pd.DataFrame({"name": [d.name for d in defs], "effect": [d.effect for d in defs],
                         "source": [d.source for d in defs], "target": [d.target for d in defs],
                         "path": [" -> ".join(d.path) for d in defs],
                         "latent": popv["latent"], "population": popv["effects"],
                         "population.std": popv["effects_std"]})
    rows, reps_long = [], []
    for n in ns:
        parts = blocks[n]
        est = np.concatenate([b["est"] for b in parts])
        se = np.concatenate([b["est_se"] for b in parts])
        std = np.concatenate([b["est_std"] for b in parts])
        ok = np.concatenate([b["ok"] for b in parts])
        rep = np.concatenate([b["rep"] for b in parts])
        with np.errstate(divide="ignore", invalid="ignore"):
            pval = 2 * stats.norm.sf(np.abs(est / se))
        e, s, sd_, pv = est[ok], se[ok], std[ok], pval[ok]
        m = len(e)
        pop = popv["effects"]
        power = (pv < alpha).mean(axis=0) if m else np.full(len(defs), np.nan)
        cover = (np.abs(e - pop) <= q * s).mean(axis=0) if m else np.full(len(defs), np.nan)
        mean_est = e.mean(axis=0)
        sd_est = e.std(axis=0, ddof=1) if m > 1 else np.full(len(defs), np.nan)
        mean_se = s.mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(np.abs(pop) > 1e-12, (mean_est - pop) / pop, np.nan)
            ratio = mean_se / sd_est
        t = meta.copy()
        t.insert(5, "n", n)
        t.insert(6, "reps", len(ok))
        t.insert(7, "n.ok", m)
        t["mean.est"] = mean_est
        t["bias"] = mean_est - pop
        t["rel.bias"] = rel
        t["sd.est"] = sd_est
        t["mean.se"] = mean_se
        t["se.ratio"] = ratio
        t["mean.std"] = sd_.mean(axis=0)
        t["bias.std"] = sd_.mean(axis=0) - popv["effects_std"]
        t["power"] = power
        t["power.mcse"] = np.sqrt(power * (1 - power) / max(m, 1))
        t["coverage"] = cover
        t["coverage.mcse"] = np.sqrt(cover * (1 - cover) / max(m, 1))
        rows.append(t)
        K = len(defs)
        reps_long.append(pd.DataFrame({
            "n": n, "rep": np.repeat(rep, K), "name": np.tile(meta["name"].to_numpy(), len(rep)),
            "est": est.ravel(), "se": se.ravel(), "pvalue": pval.ravel(),
            "std.all": std.ravel()}))
    power_t = pd.concat(rows, ignore_index=True)[list(POWER_COLUMNS)]
    n80 = meta.copy()
    n80["target.power"] = target
    res = [n_for_power(ns, power_t.loc[power_t["name"] == nm, "power"].to_numpy(), target,
                       int(power_t["n.ok"].min()))
           for nm in meta["name"]]
    n80["n80"] = [r[0] for r in res]
    n80["n80.status"] = [r[1] for r in res]
    return power_t, n80[list(N80_COLUMNS)], pd.concat(reps_long, ignore_index=True)


def _run_replicates(design: PowerDesign, ns: list[int], reps: int, seed: int,
                    scheduler: str | None, n_jobs: int, backend: str) -> dict[int, list]:
    """Every replicate, in tasks of :data:`BLOCK`; the task results per sample size."""
    tasks = []
    for n in ns:
        children = task_seeds([seed, n], reps)
        for first in range(0, reps, BLOCK):
            tasks.append((n, first, children[first:first + BLOCK]))
    results = run_tasks(partial(run_block, design), tasks, scheduler=scheduler,
                        n_jobs=n_jobs, backend=backend)
    blocks: dict[int, list] = {n: [] for n in ns}
    for (n, _, _), res in zip(tasks, results):
        blocks[n].append(res)
    return blocks


def _settings(survey: Survey, design: PowerDesign, ns: list[int], reps: int, seed: int,
              alpha: float, level: float, target: float, effects: Sequence[str],
              backend: str) -> dict:
    """The settings recorded with the results (``seconds`` is added by the caller)."""
    settings = {
        "ns": ns, "reps": reps, "seed": seed, "alpha": alpha, "level": level,
        "target_power": target, "effects": list(effects), "syntax": survey.structural,
        "population_paths": {y: dict(x) for y, x in design.population.paths.items()},
        "population_method": "exact: ordinal item covariances from the bivariate normal, "
                             "composite covariance W'CW, path model fitted to it",
        "estimator": "ML (equation-wise OLS, expected information), delta-method effects, "
                     "Wald z tests",
        "block": BLOCK, "backend": backend,
    }
    if design.products:
        settings["population_method"] = (
            f"monte carlo: composite covariance of one sample of {MC_POPULATION_N} clean "
            f"respondents (seed {MC_POPULATION_SEED}), path model fitted to it")
        settings["interactions"] = {p.name: ":".join(p.factors) for p in design.products}
        settings["centre"] = "mean (products of mean-centred composites)"
    return settings


def power_analysis(survey: Survey, ns: Sequence[int] = DEFAULT_NS, reps: int = 1000,
                   seed: int = DEFAULT_SEED, alpha: float = 0.05, *, level: float = 0.95,
                   target: float = 0.8, effects: Sequence[str] = ("direct", "indirect"),
                   scheduler: str | None = None, n_jobs: int = 2,
                   backend: str = "loky") -> PowerResults:
    """Monte Carlo power, bias and coverage of the composite path model for several N.

    Parameters
    ----------
    survey : Survey
        A spec with ``population`` (the data-generating values) and ``structural`` (the
        model whose paths are tested).
    ns : sequence of int
        Sample sizes (complete, clean respondents); sorted, duplicates dropped.
    reps : int
        Replicates per sample size.
    seed : int
        Replicate ``r`` of size ``N`` draws from ``SeedSequence([seed, N]).spawn(reps)[r]``.
    alpha : float
        Two-sided significance level of the Wald tests.
    level : float
        Confidence level of the Wald intervals whose coverage is reported.
    target : float
        Power for :attr:`PowerResults.n80` (0.8).
    effects : kinds of effect to report (``"direct"``, ``"indirect"``,
        ``"total_indirect"``, ``"total"``).
    scheduler : str, optional
        dask scheduler address (``tcp://host:8786``); default ``$ADOPTION_DASK_SCHEDULER``
        or the local cores (:func:`adoption.parallel.run_tasks`).
    n_jobs, backend : local workers and joblib backend.

    Returns
    -------
    PowerResults
        ``power`` (per effect and N), ``n80`` (per effect), ``replicates``, ``settings``.

    Raises
    ------
    InputError
        A spec without population or structural model, correlated disturbances, bad
        ``ns``/``reps``/``alpha``, or an unreachable scheduler.

    Notes
    -----
    Power is the rejection rate of ``H0: effect = 0`` (Wald z with ML / delta-method SE,
    as lavaan's ``parameterEstimates``), at the composite model's population value;
    Monte Carlo SE ``sqrt(p (1 - p) / reps)`` (0.013 at p = .8 and 1000 replicates).
    Bias and coverage are relative to the composite model's population values
    (:func:`composite_population`), not to the latent paths (see the module docstring).
    An interaction term ``X:W`` of ``structural`` is fitted as the product of the
    mean-centred composites (the run's ``centre: mean``), and its row is the direct
    effect ``direct_X_x_W_Y``; its test is the same Wald z (the run's composite
    moderation reports lm's t on N - k - 1 df, the same decision for N in the
    hundreds).
    The approach is Muthén & Muthén (2002).

    References
    ----------
    Muthén, L. K., & Muthén, B. O. (2002). How to use a Monte Carlo study to decide on
    sample size and determine power. *Structural Equation Modeling*, 9(4), 599-620.

    Examples
    --------
    >>> from adoption.spec import load_spec
    >>> res = power_analysis(load_spec("surveys/ai_mental_health"), ns=[150, 300],
    ...                      reps=200, seed=1)                         # doctest: +SKIP
    >>> res.n80[["name", "n80", "n80.status"]]                         # doctest: +SKIP
    """
    ns = _check_ns(ns)
    if int(reps) != reps or reps < 2:
        raise InputError(f"--reps {reps}: give at least 2 replicates (1000 for a power "
                         "estimate within about +-.025).")
    if not 0 < alpha < 1:
        raise InputError(f"alpha {alpha}: must lie between 0 and 1.")
    t0 = time.perf_counter()
    design = power_design(survey, effects)
    p = len(design.model.variables)
    if ns[0] <= p + 1:
        raise InputError(f"--n {ns[0]}: the model has {p} variables; simulate more than "
                         f"{p + 1} respondents per replicate.")
    popv = composite_population(design)
    blocks = _run_replicates(design, ns, int(reps), int(seed), scheduler, n_jobs, backend)
    power_t, n80, reps_t = _summarise(design, popv, ns, blocks, alpha, level, target)
    settings = _settings(survey, design, ns, int(reps), int(seed), alpha, level, target,
                         effects, backend_name(scheduler, n_jobs, backend))
    settings["seconds"] = time.perf_counter() - t0
    return PowerResults(power=power_t, n80=n80, replicates=reps_t, settings=settings)


def _check_ns(ns: Sequence[int]) -> list[int]:
    try:
        out = sorted({int(n) for n in ns})
    except (TypeError, ValueError):
        raise InputError(f"--n {ns}: give whole numbers, e.g. 150,200,300,500.") from None
    if not out or any(int(n) != float(n) for n in ns):
        raise InputError(f"--n {ns}: give whole numbers, e.g. 150,200,300,500.")
    if out[0] < 10:
        raise InputError(f"--n {out[0]}: simulate at least 10 respondents per replicate.")
    return out


def parse_ns(text: str | Sequence[int]) -> list[int]:
    """``"150,200,300,500"`` -> ``[150, 200, 300, 500]`` (sorted, duplicates dropped).

    Raises
    ------
    InputError
        Not a comma-separated list of whole numbers of at least 10.
    """
    if isinstance(text, str):
        parts = [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]
        if not parts or not all(t.isdigit() for t in parts):
            raise InputError(f"--n {text!r}: give sample sizes separated by commas, "
                             "e.g. --n 150,200,300,500.")
        return _check_ns([int(t) for t in parts])
    return _check_ns(text)
