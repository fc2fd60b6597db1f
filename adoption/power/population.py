"""The design of a power analysis and the exact population values of the composite model.

:func:`power_design` checks the spec and gathers what every replicate needs
(:class:`PowerDesign`); :func:`composite_population` computes the values the estimates
converge to, from the ordinal items' population covariance
(:func:`ordinal_item_covariance`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from adoption.errors import InputError
from adoption.simulate.population import PopulationModel, population_model
from adoption.spec import Survey
from adoption.structural.effects import EffectDefinition, effect_definitions, evaluate_effects
from adoption.structural.ols import estimates_from_moments
from adoption.structural.paths import PathModel, parse_structural

__all__ = ['PowerDesign', 'power_design', 'ordinal_item_covariance', 'composite_population']


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

    population: PopulationModel
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
    pop = population_model(survey)
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
