"""Monte Carlo power of the composite path model: Survey (with ``population``) -> :class:`PowerResults`.

Not a pipeline stage: a planning tool. For each sample size N and each replicate,

1. draw N clean respondents from the spec's population model, exactly as the simulator
   draws its clean rows (:meth:`adoption.simulate._Model.answers`: latent variables
   from the standardised paths, items cut at ``population.thresholds``), no
   contamination;
2. score the composites as the structural stage does on cleaned data (mean of each
   construct's items, reverse-keyed items recoded as ``min + max - x``);
3. fit the spec's ``structural`` model to the composites by ML, which for a recursive
   model with uncorrelated disturbances and ``fixed.x`` is equation-by-equation OLS
   (:func:`adoption.structural.ols.estimates_from_moments`; SEs from the expected
   information, as :func:`~adoption.structural.ols.fit_path_ols`);
4. compute every direct and indirect effect with its delta-method SE
   (:mod:`adoption.structural.effects`), a Wald test and the Wald interval.

Replicates run in blocks through :func:`adoption.parallel.run_tasks` (local cores or a
dask cluster). Replicate ``r`` of size N draws from ``SeedSequence([seed, N]).spawn(reps)[r]``,
so results do not depend on the backend, the worker count, the other sample sizes asked
for, or (for the first replicates) on ``reps``. Within a block the fits are batched
(one stack of covariance matrices); blocks have a fixed size, so batching never depends
on the number of workers either.

What the estimates are compared with
------------------------------------
Composites carry measurement error, so a composite-model coefficient does not estimate
the latent standardised path of ``population.paths``: it is attenuated (and an omitted
or zero latent path can be non-zero among composites). The population value of each
composite-model quantity is therefore computed *exactly* from the population model
(:func:`composite_population`): the covariance matrix of the ordinal items follows from
the bivariate normal (Plackett's identity, Gauss-Legendre quadrature), the composites'
covariance is ``W' C W``, and the path model fitted to it gives the values the estimator
converges to (its probability limit). Bias, relative bias and coverage refer to those;
the spec's latent value is reported beside them (``latent``) for orientation.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from adoption.errors import InputError
from adoption.parallel import backend_name, run_tasks, task_seeds
from adoption.simulate import _Model, _population_model
from adoption.spec import Survey
from adoption.structural.ols import estimates_from_moments, implied_cov
from adoption.structural.effects import EffectDefinition, effect_definitions, evaluate_effects
from adoption.structural.paths import PathModel, parse_structural

__all__ = [
    "PowerResults", "PowerDesign", "POWER_COLUMNS", "N80_COLUMNS", "DEFAULT_NS",
    "power_analysis", "power_design", "composite_population", "ordinal_item_covariance",
    "batched_path_inference", "effect_gradients_batch", "n_for_power", "power_summary",
    "write_power",
    "power_figure", "power_svg", "power_png", "parse_ns", "run_power", "n80_label",
]

#: Sample sizes of ``adoption power`` when none are given.
DEFAULT_NS: tuple[int, ...] = (150, 200, 300, 500)

#: Replicates per task: fits within a task are batched; the block size is fixed so the
#: numbers never depend on the worker count.
BLOCK = 25

#: Columns of :attr:`PowerResults.power`.
POWER_COLUMNS: tuple[str, ...] = (
    "name", "effect", "source", "target", "path", "n", "reps", "n.ok",
    "latent", "population", "population.std",
    "mean.est", "bias", "rel.bias", "sd.est", "mean.se", "se.ratio", "mean.std", "bias.std",
    "power", "power.mcse", "coverage", "coverage.mcse",
)

#: Columns of :attr:`PowerResults.n80`.
N80_COLUMNS: tuple[str, ...] = (
    "name", "effect", "source", "target", "path", "latent", "population", "population.std",
    "target.power", "n80", "n80.status",
)


# -------------------------------------------------------------------------------------
# results
# -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PowerResults:
    """Monte Carlo power of the composite path model.

    Attributes
    ----------
    power : DataFrame
        One row per effect and sample size, columns :data:`POWER_COLUMNS`:
        ``name`` (``direct_X_Y``, ``ind_X_M_Y``), ``effect`` (direct / indirect),
        ``source``, ``target``, ``path`` (``"X -> M -> Y"``), ``n``, ``reps``
        (replicates run), ``n.ok`` (replicates fitted; a replicate with collinear
        composites is dropped), ``latent`` (the spec's standardised latent value of the
        same path product), ``population`` (the composite model's population value,
        unstandardised, see :func:`composite_population`), ``population.std`` (its
        std.all), ``mean.est``, ``bias`` (``mean.est - population``), ``rel.bias``
        (``bias / population``; NaN when the population value is 0), ``sd.est`` (SD of
        the estimates over replicates), ``mean.se`` (mean delta-method / ML SE),
        ``se.ratio`` (``mean.se / sd.est``), ``mean.std`` (mean std.all estimate),
        ``bias.std`` (``mean.std - population.std``), ``power`` (share of replicates
        with a two-sided Wald p < alpha), ``power.mcse`` (its Monte Carlo SE,
        ``sqrt(p (1 - p) / n.ok)``), ``coverage`` (share of Wald intervals at
        ``level`` that contain ``population``) and ``coverage.mcse``.
    n80 : DataFrame
        One row per effect, columns :data:`N80_COLUMNS`: ``n80`` is the smallest N with
        power at ``target.power`` (see :func:`n_for_power`), ``n80.status`` one of
        ``"interpolated"``, ``"reached at the smallest N"`` (then ``n80`` is that N, an
        upper bound) or ``"not reached"`` (``n80`` NaN: more than the largest N).
    replicates : DataFrame
        Every replicate: ``n, rep, name, est, se, pvalue, std.all`` (long format).
    settings : dict
        ``ns, reps, seed, alpha, level, target_power, effects, syntax, population_paths,
        population_method, block, backend, seconds``.
    """

    power: pd.DataFrame
    n80: pd.DataFrame
    replicates: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-ready content of ``power.json`` (no replicates)."""
        return {"settings": self.settings,
                "power": self.power.to_dict(orient="records"),
                "n80": self.n80.to_dict(orient="records")}


# -------------------------------------------------------------------------------------
# the design: everything a replicate needs (picklable, sent with each task)
# -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PowerDesign:
    """The population model, the analysis model and the scoring, checked.

    Attributes
    ----------
    population : the simulator's population model (clean answers).
    model : the spec's structural model (the analysis model).
    weights : ndarray, shape (n_items, p)
        Composite of variable ``k`` = ``answers @ weights[:, k]`` plus a constant:
        ``1/m`` for its ``m`` items, ``-1/m`` for reverse-keyed ones (the recoding
        ``min + max - x`` only adds a constant, which no covariance sees).
    definitions : the effects reported.
    """

    population: _Model
    model: PathModel
    weights: np.ndarray
    definitions: tuple[EffectDefinition, ...]


def power_design(survey: Survey, effects: Sequence[str] = ("direct", "indirect"),
                 to: str = "endogenous") -> PowerDesign:
    """Check the spec and gather what the replicates need.

    Raises
    ------
    InputError
        No population section, no structural model, correlated disturbances in it (the
        OLS route needs them uncorrelated), or any problem the simulator reports.
    """
    if survey.population is None:
        raise InputError("the spec has no 'population' section; add one (paths, loadings, "
                         "thresholds) to run a power analysis.")
    if not survey.structural.strip():
        raise InputError("the spec has no 'structural' model; power is computed for its "
                         "paths, so add one (e.g. 'Y ~ X + M').")
    pop = _population_model(survey)
    model = parse_structural(survey.structural)
    if model.residual_covariances:
        pairs = ", ".join(f"{a} ~~ {b}" for a, b in model.residual_covariances)
        raise InputError(f"structural: correlated disturbances ({pairs}); the power analysis "
                         "fits the composite path model by OLS, which needs them "
                         "uncorrelated. Remove the '~~' lines to plan the sample size.")
    unknown = [v for v in model.variables if v not in survey.constructs]
    if unknown:
        raise InputError(f"structural: {', '.join(unknown)} is not a construct; the power "
                         "analysis scores constructs as composites.")
    items = list(pop.items)
    W = np.zeros((len(items), len(model.variables)))
    for k, v in enumerate(model.variables):
        con = survey.constructs[v]
        m = len(con.items)
        for it in con.items:
            W[items.index(it), k] = (-1.0 if it in con.reverse else 1.0) / m
    kinds = tuple(effects)
    bad = [k for k in kinds if k not in ("direct", "indirect", "total_indirect", "total")]
    if bad:
        raise ValueError(f"effects must be among direct, indirect, total_indirect, total; "
                         f"not {bad}")
    defs = tuple(d for d in effect_definitions(model, to=to) if d.effect in kinds)
    return PowerDesign(population=pop, model=model, weights=W, definitions=defs)


# -------------------------------------------------------------------------------------
# population values of the composite model (exact)
# -------------------------------------------------------------------------------------
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(64)


def _bvn_excess(a: np.ndarray, b: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``P(u > a, v > b) - P(u > a) P(v > b)`` for standard bivariate normal (u, v)
    with correlation ``rho`` (broadcast), by Plackett's identity
    ``d Phi2(a, b; r) / dr = phi2(a, b; r)``: the integral of the bivariate normal
    density over ``r`` from 0 to ``rho`` (64-point Gauss-Legendre; |rho| < 1)."""
    a, b, rho = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float),
                                    np.asarray(rho, float))
    t = rho[..., None] * (_GL_NODES + 1) / 2                 # nodes on [0, rho]
    one = 1 - t ** 2
    q = (a[..., None] ** 2 - 2 * t * a[..., None] * b[..., None] + b[..., None] ** 2)
    dens = np.exp(-q / (2 * one)) / (2 * np.pi * np.sqrt(one))
    return rho / 2 * (dens @ _GL_WEIGHTS)


def ordinal_item_covariance(loadings: np.ndarray, latent_corr: np.ndarray,
                            sign: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Population covariance matrix of Likert items cut from normal responses.

    Parameters
    ----------
    loadings : ndarray, shape (k,)
        Standardised loading of each item on its construct.
    latent_corr : ndarray, shape (k, k)
        Correlation of the constructs the items measure (item i with item j:
        ``latent_corr[i, j]``, i.e. the construct correlation matrix indexed by item).
    sign : ndarray, shape (k,)
        -1 for a reverse-keyed item as answered (``-y`` is cut), else 1.
    thresholds : ndarray, shape (K,)
        Cut points: the answer is ``min + #{a : tau_a <= sign * y}``.

    Returns
    -------
    ndarray, shape (k, k)
        ``Cov(x_i, x_j)`` of the answers as given (before reverse-keying).

    Notes
    -----
    With ``u_i = sign_i y_i`` (standard normal, ``corr(u_i, u_j) = rho_ij = sign_i
    sign_j l_i l_j R_ij``) and ``x_i = min + sum_a 1{u_i >= tau_a}``:
    ``Cov(x_i, x_j) = sum_{a,b} [Phi2(-tau_a, -tau_b; rho_ij) - Phi(-tau_a)
    Phi(-tau_b)]`` for ``i != j`` and ``Var(x_i) = sum_{a,b} [Phi(-max(tau_a, tau_b))
    - Phi(-tau_a) Phi(-tau_b)]``. The bivariate terms are :func:`_bvn_excess`; the
    same quantities as ``mvtnorm::pmvnorm`` differences (Genz, 1992), to about 1e-12.

    References
    ----------
    Plackett, R. L. (1954). A reduction formula for normal multivariate integrals.
    *Biometrika*, 41, 351-360.
    """
    lam = np.asarray(loadings, float)
    s = np.asarray(sign, float)
    tau = np.asarray(thresholds, float)
    rho = np.outer(s * lam, s * lam) * np.asarray(latent_corr, float)
    k = len(lam)
    iu, ju = np.triu_indices(k, 1)
    ta, tb = np.meshgrid(tau, tau, indexing="ij")
    exc = _bvn_excess(ta[None], tb[None], rho[iu, ju][:, None, None]).sum(axis=(1, 2))
    C = np.zeros((k, k))
    C[iu, ju] = exc
    C[ju, iu] = exc
    up = stats.norm.sf(tau)
    var = float((stats.norm.sf(np.maximum(ta, tb)) - np.outer(up, up)).sum())
    np.fill_diagonal(C, var)
    return C


def composite_population(design: PowerDesign) -> dict[str, np.ndarray]:
    """The composite path model's population values (the estimator's probability limit).

    Returns
    -------
    dict
        ``cov`` (p x p composite covariance, ``model.variables`` order), ``coef`` and
        ``std`` (per edge of ``design.model``), ``effects`` and ``effects_std`` (per
        definition), ``latent`` (the spec's standardised latent value of each effect:
        the same path products with ``population.paths`` coefficients, 0 for a path
        the population lacks).

    Notes
    -----
    ``Sigma_c = W' C W`` with ``C`` from :func:`ordinal_item_covariance` and ``W`` the
    composite weights; the path model fitted to ``Sigma_c`` by
    :func:`~adoption.structural.ols.estimates_from_moments` gives the coefficients
    and std.all values that the replicate estimates converge to as N grows.
    """
    pop = design.population
    idx = {c: i for i, c in enumerate(pop.order)}
    ci = np.array([idx[c] for c in pop.construct_of])
    R = pop.S[np.ix_(ci, ci)]
    C = ordinal_item_covariance(pop.loadings, R, pop.sign, pop.thresholds)
    W = design.weights
    Sc = W.T @ C @ W
    coef, std, ok = estimates_from_moments(Sc[None], design.model)
    if not ok[0]:
        raise InputError("structural: the population composites of some equation are "
                         "collinear; the model cannot be fitted to them.")
    lat = np.array([pop.paths.get(y, {}).get(x, 0.0) for y, x in design.model.edges])
    return {"cov": Sc, "coef": coef[0], "std": std[0],
            "effects": evaluate_effects(design.definitions, coef[0]),
            "effects_std": evaluate_effects(design.definitions, std[0]),
            "latent": evaluate_effects(design.definitions, lat)}


# -------------------------------------------------------------------------------------
# batched fitting and delta-method inference
# -------------------------------------------------------------------------------------
def effect_gradients_batch(definitions: Sequence[EffectDefinition], coef: np.ndarray) -> np.ndarray:
    """:func:`adoption.structural.effects.effect_gradients` for a stack of coefficient
    vectors.

    Parameters
    ----------
    coef : ndarray, shape (R, n_edges)

    Returns
    -------
    ndarray, shape (R, n_definitions, n_edges)
        ``G[r, j, e]`` = sum over the terms of effect ``j`` containing edge ``e`` of the
        product of the term's other coefficients in replicate ``r``.
    """
    coef = np.asarray(coef, float)
    G = np.zeros((coef.shape[0], len(definitions), coef.shape[1]))
    for j, d in enumerate(definitions):
        for term in d.terms:
            for k, e in enumerate(term):
                g = np.ones(coef.shape[0])
                for f in term[:k] + term[k + 1:]:
                    g = g * coef[:, f]
                G[:, j, e] += g
    return G


def batched_path_inference(S: np.ndarray, nobs: int, model: PathModel,
                           definitions: Sequence[EffectDefinition]) -> dict[str, np.ndarray]:
    """ML estimates, SEs and delta-method effects for a stack of samples.

    Parameters
    ----------
    S : ndarray, shape (R, p, p)
        Covariance matrices (divisor N) of ``model.variables``, one per sample.
    nobs : int
        N of every sample.
    model : PathModel
        Recursive, uncorrelated disturbances.
    definitions : sequence of EffectDefinition

    Returns
    -------
    dict of ndarray
        ``coef, se, std`` (R, n_edges); ``est, est_se, est_std`` (R, n_definitions):
        effect values, delta-method SEs and std.all values; ``ok`` (R,) False where a
        sample's predictors are collinear (its rows are NaN).

    Notes
    -----
    Per equation ``b = S_xx^{-1} s_xy``, ``psi = s_yy - s_yx b`` and ``Var(b) = psi / N
    Sigma_xx^{-1}`` with ``Sigma`` the model-implied covariance (expected information,
    lavaan's default for ML); coefficients of different equations are uncorrelated.
    Identical formulas to :func:`adoption.structural.ols.fit_path_ols`, which
    ``tests/test_power.py`` checks to 1e-10. Effects: ``se = sqrt(g' V g)``
    (:func:`adoption.structural.effects.delta_method_se`), per sample.
    """
    Rn, p, _ = S.shape
    coef, std, ok = estimates_from_moments(S, model)
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
    if ok.any():
        good = np.flatnonzero(ok)
        Sigma = implied_cov(S[good], Bm[good], {k: v[good] for k, v in psi.items()}, model)
        V[good] = 0.0
        for col, xi, yi in spans:
            k = len(xi)
            inv = np.linalg.inv(Sigma[:, xi][:, :, xi])
            V[good, col:col + k, col:col + k] = (psi[yi][good] / nobs)[:, None, None] * inv
    se = np.sqrt(np.clip(np.diagonal(V, axis1=1, axis2=2), 0.0, None))
    est = evaluate_effects(definitions, coef)
    G = effect_gradients_batch(definitions, np.nan_to_num(coef))
    var = np.einsum("rde,ref,rdf->rd", G, V, G)
    est_se = np.sqrt(np.clip(var, 0.0, None))
    est_se[~ok] = np.nan
    return {"coef": coef, "se": se, "std": std, "est": est, "est_se": est_se,
            "est_std": evaluate_effects(definitions, std), "ok": ok}


def _run_block(design: PowerDesign, task: tuple[int, int, list]) -> dict[str, np.ndarray]:
    """One task: ``len(seeds)`` replicates of size ``n`` (``task = (n, first, seeds)``)."""
    n, first, seeds = task
    W = design.weights
    cols = np.flatnonzero(np.abs(W).sum(axis=1) > 0)
    Wm = W[cols]
    S = np.empty((len(seeds), W.shape[1], W.shape[1]))
    for r, ss in enumerate(seeds):
        X = design.population.answers(np.random.default_rng(ss), n)
        Z = X[:, cols] @ Wm
        Z -= Z.mean(axis=0)
        S[r] = Z.T @ Z / n
    out = batched_path_inference(S, n, design.model, design.definitions)
    out["rep"] = np.arange(first, first + len(seeds))
    return out


# -------------------------------------------------------------------------------------
# summaries
# -------------------------------------------------------------------------------------
def n_for_power(ns: Sequence[int], power: Sequence[float], target: float = 0.8,
                reps: int | None = None) -> tuple[float, str]:
    """Smallest N whose power reaches ``target``, interpolated between the Ns run.

    Parameters
    ----------
    ns : increasing sample sizes.
    power : the power at each.
    target : float
    reps : replicates behind each power (to keep the probit finite: powers are clipped
        to ``[1/(2 reps), 1 - 1/(2 reps)]``).

    Returns
    -------
    (n, status)
        ``status`` is ``"interpolated"`` (between the last N below ``target`` and the
        first N at or above it), ``"reached at the smallest N"`` (``n`` = that N: an
        upper bound) or ``"not reached"`` (``n`` NaN).

    Notes
    -----
    For a Wald test, power is about ``Phi(delta sqrt(N) - z_{1-alpha/2})``, so
    ``Phi^{-1}(power)`` is close to linear in ``sqrt(N)``; the interpolation is linear on
    those scales (the same as G*Power's normal approximation locally). The first
    crossing is taken, so Monte Carlo wiggles above the target are not smoothed over.
    """
    ns = np.asarray(ns, float)
    pw = np.asarray(power, float)
    hit = np.flatnonzero(pw >= target)
    if not hit.size:
        return math.nan, "not reached"
    k = int(hit[0])
    if k == 0:
        return float(ns[0]), "reached at the smallest N"
    eps = 0.5 / reps if reps else 1e-6
    z = stats.norm.ppf(np.clip(pw[k - 1:k + 1], eps, 1 - eps))
    zt = stats.norm.ppf(target)
    x = np.sqrt(ns[k - 1:k + 1])
    if z[1] <= z[0]:
        return float(ns[k]), "interpolated"
    xs = x[0] + (zt - z[0]) * (x[1] - x[0]) / (z[1] - z[0])
    return float(np.clip(xs ** 2, ns[k - 1], ns[k])), "interpolated"


def n80_label(n80: float, status: str, ns: Sequence[int]) -> str:
    """Display text for one row of :attr:`PowerResults.n80` (``"263"``, ``"<= 150"``,
    ``"> 500"``); rounding up to a whole respondent happens here, not in the table."""
    if status == "not reached":
        return f"> {max(ns)}"
    if status == "reached at the smallest N":
        return f"<= {min(ns)}"
    return f"{math.ceil(n80 - 1e-9)}"


def power_summary(results: PowerResults) -> pd.DataFrame:
    """One row per effect for a terminal or report table (numbers unrounded).

    Returns
    -------
    DataFrame
        ``name, effect, path, latent, population, population.std``, one column
        ``power@N`` per sample size, ``n80`` and ``n80.label`` (:func:`n80_label`).
    """
    t = results.power
    wide = t.pivot(index="name", columns="n", values="power")
    wide.columns = [f"power@{n}" for n in wide.columns]
    ns = results.settings.get("ns") or sorted(t["n"].unique())
    out = results.n80[["name", "effect", "path", "latent", "population", "population.std"]]
    out = out.merge(wide, left_on="name", right_index=True, how="left")
    out["n80"] = results.n80["n80"].to_numpy()
    out["n80.label"] = [n80_label(n, st, ns) for n, st in
                        zip(results.n80["n80"], results.n80["n80.status"])]
    return out.reset_index(drop=True)


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


# -------------------------------------------------------------------------------------
# entry point
# -------------------------------------------------------------------------------------
def power_analysis(survey: Survey, ns: Sequence[int] = DEFAULT_NS, reps: int = 1000,
                   seed: int = 20261125, alpha: float = 0.05, *, level: float = 0.95,
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
    tasks = []
    for n in ns:
        children = task_seeds([int(seed), n], int(reps))
        for first in range(0, int(reps), BLOCK):
            tasks.append((n, first, children[first:first + BLOCK]))
    results = run_tasks(partial(_run_block, design), tasks, scheduler=scheduler,
                        n_jobs=n_jobs, backend=backend)
    blocks: dict[int, list] = {n: [] for n in ns}
    for (n, _, _), res in zip(tasks, results):
        blocks[n].append(res)
    power_t, n80, reps_t = _summarise(design, popv, ns, blocks, alpha, level, target)
    settings = {
        "ns": ns, "reps": int(reps), "seed": int(seed), "alpha": alpha, "level": level,
        "target_power": target, "effects": list(effects), "syntax": survey.structural,
        "population_paths": {y: dict(x) for y, x in design.population.paths.items()},
        "population_method": "exact: ordinal item covariances from the bivariate normal, "
                             "composite covariance W'CW, path model fitted to it",
        "estimator": "ML (equation-wise OLS, expected information), delta-method effects, "
                     "Wald z tests",
        "block": BLOCK, "backend": backend_name(scheduler, n_jobs, backend),
        "seconds": time.perf_counter() - t0,
    }
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


# -------------------------------------------------------------------------------------
# figures and files (computing and showing are separate: these only read the results)
# -------------------------------------------------------------------------------------
_KIND_TITLES = {"direct": "Direct paths", "indirect": "Indirect effects",
                "total_indirect": "Total indirect effects", "total": "Total effects"}


def _curves(results: PowerResults) -> list[tuple[str, list[tuple[str, pd.DataFrame]]]]:
    t = results.power
    kinds = [k for k in _KIND_TITLES if k in set(t["effect"])]
    return [(k, [(nm, g.sort_values("n")) for nm, g in t[t["effect"] == k].groupby("name", sort=False)])
            for k in kinds]


def _label(g: pd.DataFrame) -> str:
    return g["path"].iloc[0]


def power_figure(results: PowerResults):
    """Power curves (plotly): one panel per kind of effect, one line per effect, the
    target power and alpha as reference lines; hover shows power, its Monte Carlo SE
    and the population value."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    panels = _curves(results)
    s = results.settings
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True,
                        subplot_titles=[_KIND_TITLES[k] for k, _ in panels])
    for c, (kind, lines) in enumerate(panels, 1):
        for nm, g in lines:
            fig.add_trace(go.Scatter(
                x=g["n"], y=g["power"], mode="lines+markers", name=_label(g),
                legendgroup=kind, legendgrouptitle_text=_KIND_TITLES[kind],
                customdata=np.c_[g["power.mcse"], g["population"], g["population.std"]],
                hovertemplate=(f"{_label(g)}<br>N = %{{x}}<br>power = %{{y:.3f}} "
                               "(MC SE %{customdata[0]:.3f})<br>population value "
                               "%{customdata[1]:.3f} (std %{customdata[2]:.3f})<extra></extra>")),
                row=1, col=c)
        fig.add_hline(y=s.get("target_power", 0.8), line_dash="dash", line_color="#555555",
                      row=1, col=c)
        fig.add_hline(y=s.get("alpha", 0.05), line_dash="dot", line_color="#999999", row=1, col=c)
        fig.update_xaxes(title_text="N (complete respondents)", row=1, col=c)
    fig.update_yaxes(title_text="Power", range=[0, 1.02], row=1, col=1)
    fig.update_layout(template="simple_white", height=520, width=560 * len(panels) + 260,
                      title=f"Monte Carlo power ({s.get('reps')} replicates per N, "
                            f"alpha = {s.get('alpha')})")
    return fig


def _draw_static(results: PowerResults, fmt: str, dpi: float) -> bytes:
    import io

    import matplotlib
    from matplotlib.figure import Figure

    panels = _curves(results)
    s = results.settings
    fig = Figure(figsize=(5.2 * len(panels) + 2.6, 4.6))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    cmap = matplotlib.colormaps["tab20"]
    styles = ["-", "--", "-.", ":"]
    for ax, (kind, lines) in zip(axes, panels):
        for i, (nm, g) in enumerate(lines):
            ax.plot(g["n"], g["power"], marker="o", markersize=3, linewidth=1.2,
                    linestyle=styles[(i // 20) % 4], color=cmap(i % 20), label=_label(g))
        ax.axhline(s.get("target_power", 0.8), color="#555555", linestyle="--", linewidth=0.8)
        ax.axhline(s.get("alpha", 0.05), color="#999999", linestyle=":", linewidth=0.8)
        ax.text(0.0, s.get("target_power", 0.8) + 0.01, f"target {s.get('target_power', 0.8)}",
                transform=ax.get_yaxis_transform(), fontsize=7, color="#555555")
        ax.text(0.0, s.get("alpha", 0.05) + 0.01, f"alpha {s.get('alpha', 0.05)}",
                transform=ax.get_yaxis_transform(), fontsize=7, color="#999999")
        ax.set_ylim(0, 1.02)
        ax.set_title(_KIND_TITLES[kind], fontsize=10)
        ax.set_xlabel("N (complete respondents)", fontsize=9)
        ax.tick_params(labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[0].set_ylabel("Power", fontsize=9)
    fig.suptitle(f"Monte Carlo power ({s.get('reps')} replicates per N, alpha = "
                 f"{s.get('alpha')})", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, facecolor="white", bbox_inches="tight")
    return buf.getvalue()


def power_svg(results: PowerResults) -> bytes:
    """The power curves as SVG bytes (matplotlib, no browser)."""
    return _draw_static(results, "svg", 72)


def power_png(results: PowerResults, dpi: float = 200) -> bytes:
    """The power curves as PNG bytes (matplotlib Agg)."""
    return _draw_static(results, "png", dpi)


def write_power(results: PowerResults, out_dir: str | Path) -> dict[str, Path]:
    """Write ``power.json`` (settings, power and n80 tables), ``power.csv`` (the power
    table), ``n80.csv``, ``power.html`` (plotly, self-contained), ``power.svg`` and
    ``power.png`` (matplotlib) into ``out_dir`` (created if needed).

    Returns
    -------
    dict
        File kind -> path written.
    """
    from adoption.rundir import safe_csv_frame, to_jsonable

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / f for k, f in (("json", "power.json"), ("csv", "power.csv"),
                                     ("n80", "n80.csv"), ("html", "power.html"),
                                     ("svg", "power.svg"), ("png", "power.png"))}
    paths["json"].write_text(json.dumps(to_jsonable(results.to_dict()), indent=2,
                                        allow_nan=False), encoding="utf-8")
    safe_csv_frame(results.power).to_csv(paths["csv"], index=False)
    safe_csv_frame(results.n80).to_csv(paths["n80"], index=False)
    power_figure(results).write_html(paths["html"], include_plotlyjs=True, full_html=True)
    paths["svg"].write_bytes(power_svg(results))
    paths["png"].write_bytes(power_png(results))
    return paths


def run_power(spec: str | Path, ns: str | Sequence[int] = DEFAULT_NS, reps: int = 1000,
              seed: int = 20261125, out_dir: str | Path | None = None,
              scheduler: str | None = None, n_jobs: int = 2) -> tuple[PowerResults, dict[str, Path]]:
    """What ``adoption power SPEC --n ... --reps ... [--seed] [--out] [--scheduler]`` does.

    Parameters
    ----------
    spec : path of the survey YAML (or its folder).
    ns : ``"150,200,300,500"`` or a list of ints.
    reps, seed, scheduler, n_jobs : see :func:`power_analysis`.
    out_dir : folder for the files; default ``reports/<spec name>_power``.

    Returns
    -------
    (PowerResults, dict of written paths)

    Raises
    ------
    InputError
        Any bad input (spec, --n, --reps, unreachable scheduler).
    """
    from adoption.spec import load_spec

    spec = Path(spec)
    survey = load_spec(spec)
    res = power_analysis(survey, parse_ns(ns), reps=reps, seed=seed, scheduler=scheduler,
                         n_jobs=n_jobs)
    if out_dir is None:
        name = spec.name if spec.is_dir() else (spec.parent.name if spec.name == "survey.yaml"
                                                else spec.stem)
        out_dir = Path("reports") / f"{name}_power"
    return res, write_power(res, out_dir)
