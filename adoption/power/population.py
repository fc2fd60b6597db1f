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
from adoption.structural.moderation import Product, expand_interactions
from adoption.structural.ols import estimates_from_moments
from adoption.structural.paths import PathModel, parse_structural

__all__ = ['PowerDesign', 'power_design', 'composite_scores', 'ordinal_item_covariance',
           'composite_population', 'MC_POPULATION_N', 'MC_POPULATION_SEED']


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
        ``min + max - x`` only adds a constant, which no covariance sees); a zero
        column for a product variable.
    definitions : the effects reported.
    products : the interaction terms of ``structural`` (``HAB:COM`` as the product
        variable ``HAB_x_COM`` of the model, :func:`composite_scores`).
    """

    population: PopulationModel
    model: PathModel
    weights: np.ndarray
    definitions: tuple[EffectDefinition, ...]
    products: tuple[Product, ...] = ()

    def product_term(self, name: str) -> str | None:
        """The lavaan term (``"HAB:COM"``) of a product variable; None for other names."""
        return next((":".join(p.factors) for p in self.products if p.name == name), None)


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
    syntax, products = expand_interactions(survey.structural)
    model = parse_structural(syntax)
    if model.residual_covariances:
        pairs = ", ".join(f"{a} ~~ {b}" for a, b in model.residual_covariances)
        raise InputError(f"structural: correlated disturbances ({pairs}); the power analysis "
                         "fits the composite path model by OLS, which needs them "
                         "uncorrelated. Remove the '~~' lines to plan the sample size.")
    names = {p.name for p in products}
    unknown = [v for v in model.variables if v not in survey.constructs and v not in names]
    if unknown:
        raise InputError(f"structural: {', '.join(unknown)} is not a construct; the power "
                         "analysis scores constructs as composites.")
    items = list(pop.items)
    W = np.zeros((len(items), len(model.variables)))
    for k, v in enumerate(model.variables):
        if v in names:
            continue
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
    return PowerDesign(population=pop, model=model, weights=W, definitions=defs,
                       products=products)


def composite_scores(design: PowerDesign, X: np.ndarray) -> np.ndarray:
    """Centred composite scores of answers ``X`` (n, items), in ``model.variables`` order.

    Each construct is the mean of its items (:attr:`PowerDesign.weights`); a product
    variable is the product of its mean-centred factors (the composite model's default,
    ``centre: mean``, :func:`adoption.structural.moderation.add_products`). Every column
    is centred, so ``Z' Z / n`` is the covariance (divisor n).
    """
    W = design.weights
    cols = np.flatnonzero(np.abs(W).sum(axis=1) > 0)
    Z = X[:, cols] @ W[cols]
    Z -= Z.mean(axis=0)
    pos = {v: k for k, v in enumerate(design.model.variables)}
    for p in design.products:
        Z[:, pos[p.name]] = Z[:, pos[p.factors[0]]] * Z[:, pos[p.factors[1]]]
    if design.products:
        Z -= Z.mean(axis=0)
    return Z


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


#: Respondents of the one large sample that gives the composite model's population values
#: when the model has interaction terms (:func:`composite_population`).
MC_POPULATION_N = 400_000

#: Its seed (fixed: the population values never depend on the analysis' seed).
MC_POPULATION_SEED = 14


def _monte_carlo_cov(design: PowerDesign) -> np.ndarray:
    """Composite covariance (products included) of one sample of
    :data:`MC_POPULATION_N` clean respondents, drawn in chunks to bound memory."""
    rng = np.random.default_rng(MC_POPULATION_SEED)
    p = len(design.model.variables)
    chunk, total, S = 50_000, 0, np.zeros((p, p))
    while total < MC_POPULATION_N:   # each chunk centred on its own mean (pooled within)
        Z = composite_scores(design, design.population.answers(rng, chunk))
        S += Z.T @ Z
        total += chunk
    return S / total


def _latent_value(pop: PopulationModel, design: PowerDesign, y: str, x: str) -> float:
    """The spec's population coefficient of edge ``y ~ x`` (0 if absent); a product
    variable is looked up by its term in either order (``HAB:COM`` or ``COM:HAB``)."""
    paths = pop.paths.get(y, {})
    term = design.product_term(x)
    if term is None:
        return paths.get(x, 0.0)
    a, b = term.split(":")
    return paths.get(f"{a}:{b}", paths.get(f"{b}:{a}", 0.0))


def composite_population(design: PowerDesign) -> dict[str, np.ndarray]:
    """The composite path model's population values (the estimator's probability limit).

    Returns
    -------
    dict
        ``cov`` (p x p composite covariance, ``model.variables`` order), ``coef`` and
        ``std`` (per edge of ``design.model``), ``effects`` and ``effects_std`` (per
        definition), ``latent`` (the spec's standardised latent value of each effect:
        the same path products with ``population.paths`` coefficients, 0 for a path
        the population lacks; an interaction's value is its coefficient on the product
        of standardised latent scores), ``method`` (``"exact"`` or ``"monte carlo"``).

    Notes
    -----
    Without interaction terms: ``Sigma_c = W' C W`` with ``C`` from
    :func:`ordinal_item_covariance` and ``W`` the composite weights; the path model
    fitted to ``Sigma_c`` by :func:`~adoption.structural.ols.estimates_from_moments`
    gives the coefficients and std.all values that the replicate estimates converge to
    as N grows. With interaction terms the items are no longer cut from a multivariate
    normal (the outcome carries a product) and a product's covariances need fourth
    moments of the items, so ``Sigma_c`` is the covariance of one sample of
    :data:`MC_POPULATION_N` respondents (fixed seed :data:`MC_POPULATION_SEED`): its
    Monte Carlo error is about ``sd.est(N) * sqrt(N / 400000)``, under a tenth of the
    replicates' SD for every N up to 4000.
    """
    pop = design.population
    if design.products:
        Sc = _monte_carlo_cov(design)
    else:
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
    lat = np.array([_latent_value(pop, design, y, x) for y, x in design.model.edges])
    return {"cov": Sc, "coef": coef[0], "std": std[0],
            "effects": evaluate_effects(design.definitions, coef[0]),
            "effects_std": evaluate_effects(design.definitions, std[0]),
            "latent": evaluate_effects(design.definitions, lat),
            "method": "monte carlo" if design.products else "exact"}
