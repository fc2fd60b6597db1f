"""Batched fitting and delta-method inference for a stack of simulated samples.

Every replicate of a task is fitted at once (:func:`batched_path_inference`, the formulas
of :func:`adoption.structural.ols.fit_path_ols` over a (R, p, p) stack); :func:`run_block`
draws one task's replicates and fits them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from adoption.power.population import PowerDesign, composite_scores
from adoption.structural.effects import EffectDefinition, evaluate_effects
from adoption.structural.ols import estimates_from_moments, path_vcov
from adoption.structural.paths import PathModel

__all__ = ['effect_gradients_batch', 'batched_path_inference', 'run_block']


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
    lavaan's default for ML): :func:`adoption.structural.ols.path_vcov`, which
    :func:`adoption.structural.ols.fit_path_ols` uses too (``tests/test_power.py`` checks
    the two to 1e-10). Effects: ``se = sqrt(g' V g)``
    (:func:`adoption.structural.effects.delta_method_se`), per sample.
    """
    coef, std, ok = estimates_from_moments(S, model)
    V, _, _ = path_vcov(S, coef, ok, model, nobs)
    se = np.sqrt(np.clip(np.diagonal(V, axis1=1, axis2=2), 0.0, None))
    est = evaluate_effects(definitions, coef)
    G = effect_gradients_batch(definitions, np.nan_to_num(coef))
    var = np.einsum("rde,ref,rdf->rd", G, V, G)
    est_se = np.sqrt(np.clip(var, 0.0, None))
    est_se[~ok] = np.nan
    return {"coef": coef, "se": se, "std": std, "est": est, "est_se": est_se,
            "est_std": evaluate_effects(definitions, std), "ok": ok}


def run_block(design: PowerDesign, task: tuple[int, int, list]) -> dict[str, np.ndarray]:
    """One task: ``len(seeds)`` replicates of size ``n`` (``task = (n, first, seeds)``)."""
    n, first, seeds = task
    p = design.weights.shape[1]
    S = np.empty((len(seeds), p, p))
    for r, ss in enumerate(seeds):
        Z = composite_scores(design, design.population.answers(np.random.default_rng(ss), n))
        S[r] = Z.T @ Z / n
    out = batched_path_inference(S, n, design.model, design.definitions)
    out["rep"] = np.arange(first, first + len(seeds))
    return out
