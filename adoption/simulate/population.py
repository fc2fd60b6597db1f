"""The simulator's population model: Survey ``population`` section -> :class:`PopulationModel`.

Constructs never on the left of a path are exogenous: standard normal, pairwise
correlated at ``population.exogenous_correlation``. Each endogenous construct is the
weighted sum of its predictors (standardised paths) plus a residual whose variance is
``1 - b' S b`` (``S`` the model-implied covariance of the predictors), so every latent
variable has variance 1 and the paths are the standardised coefficients. A path may be
an interaction, ``WIL ~ -0.12*HAB:COM``: the product of the two standardised latent
scores, centred at its mean, enters the outcome's equation and its variance counts in
``1 - psi`` (:func:`implied_covariance` gives the formulas). An item is
``y = l * eta + sqrt(1 - l^2) * e``, cut into the scale's categories at
``population.thresholds``; a reverse-keyed item is flipped (``-y``) before cutting, so
the export holds it as the respondent answered it.

Used by the simulator (:mod:`adoption.simulate.draw`) and the power analysis
(:mod:`adoption.power`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adoption.errors import InputError
from adoption.sem.syntax import parse_model
from adoption.spec import Survey
from adoption.vocabulary import OP_REGRESSION

__all__ = ["parse_paths", "term_factors", "implied_covariance", "PopulationModel", "population_model"]


def parse_paths(syntax: str, *, default: float = 0.2, where: str = "population.paths") -> dict[str, dict[str, float]]:
    """Regressions with numeric multipliers, ``"Y ~ 0.3*X1 + -0.1*X2"`` -> ``{Y: {X1: .3, X2: -.1}}``.

    Read by the one lavaan parser (:func:`adoption.sem.syntax.parse_model`); a term
    without a fixed value gets ``default``. Lines other than regressions (``=~``, ``~~``,
    ``:=``, ``~ 1``) are skipped. As in lavaan, a negative value is written ``+ -0.1*X``
    (``a - 0.1*X`` is refused, naming the line). An interaction term ``-0.12*HAB:COM``
    is kept under its lavaan name ``"HAB:COM"`` (see :func:`implied_covariance` for the
    scale it enters on).
    """
    out: dict[str, dict[str, float]] = {}
    for f in parse_model(syntax, where=where).of(OP_REGRESSION):
        if f.interaction and len(term_factors(f.rhs)) != 2:
            raise InputError(f"{where}, line {f.line}: interaction '{f.rhs}' has "
                             f"{len(term_factors(f.rhs))} factors; write two-way terms X:W only.")
        value = f.in_group("fixed")
        out.setdefault(f.lhs, {})[f.rhs] = default if value is None else float(value)
    return out


def term_factors(term: str) -> tuple[str, ...]:
    """The variables of a path term: ``"HAB:COM"`` -> ``("HAB", "COM")``, ``"HAB"`` -> ``("HAB",)``."""
    return tuple(term.split(":"))


def _causal_order(constructs: list[str], paths: dict[str, dict[str, float]]) -> list[str]:
    """Exogenous constructs first, then each endogenous one after all its predictors."""
    order = [c for c in constructs if c not in paths]
    pending = [c for c in constructs if c in paths]
    while pending:
        ready = [c for c in pending
                 if all(v in order for t in paths[c] for v in term_factors(t))]
        if not ready:
            raise InputError("population.paths: the structural model is not recursive "
                             f"(a loop among {', '.join(pending)}); the simulator needs one.")
        order += ready
        pending = [c for c in pending if c not in ready]
    return order


def _check_normal_factors(paths: dict[str, dict[str, float]], order: list[str]) -> None:
    """Refuse a product whose factor is not normal (has a product upstream): the
    covariances below rely on normal factors (Isserlis' theorem)."""
    nonnormal: set[str] = set()
    for c in order:
        terms = paths.get(c, {})
        for t in terms:
            bad = [v for v in term_factors(t) if len(term_factors(t)) == 2 and v in nonnormal]
            if bad:
                raise InputError(f"population.paths: in '{c} ~ {t}', {', '.join(bad)} has an "
                                 "interaction upstream; the simulator needs the factors of a "
                                 "product to be normal (linear in normal variables).")
        if any(len(term_factors(t)) == 2 or t in nonnormal for t in terms):
            nonnormal.add(c)


def _product_cov(G: np.ndarray, idx: dict[str, int], p: tuple[str, str],
                 q: tuple[str, str]) -> float:
    """``Cov(x w, u v) = s_xu s_wv + s_xv s_wu`` for zero-mean jointly normal
    ``(x, w, u, v)`` with covariance ``G`` (Isserlis, 1918)."""
    x, w = (idx[v] for v in p)
    u, v = (idx[v] for v in q)
    return float(G[x, u] * G[w, v] + G[x, v] * G[w, u])


def implied_covariance(constructs: list[str], paths: dict[str, dict[str, float]],
                       exo_corr: float) -> tuple[np.ndarray, list[str], dict[str, float]]:
    """Model-implied latent covariance of a recursive standardised path model.

    Parameters
    ----------
    constructs : the construct names.
    paths : endogenous construct -> {term: coefficient}; a term is a construct or a
        two-way product ``"X:W"``.
    exo_corr : correlation of every pair of exogenous constructs.

    Returns
    -------
    S : ndarray, shape (k, k)
        Covariance (a correlation matrix) in the order of ``order``.
    order : list of str
        Exogenous constructs first, then endogenous ones in causal order.
    psi : dict
        Residual variance of each endogenous construct, ``1 - Var(explained)``, which
        gives every latent variable variance 1.

    Notes
    -----
    Every construct is written as ``eta = A g + H P``: ``g`` the normal sources
    (exogenous constructs, residuals; covariance ``Sg``), ``P`` the products. A product
    enters as ``x w - rho_xw`` of the *standardised* latent scores (variance 1, so the
    coefficient ``g`` is the change in the slope of ``x`` per SD of ``w``: the slope of
    ``x`` at ``w`` is ``b_x + g w``), centred at its population mean so every latent
    keeps mean 0. Its factors must be normal (no product upstream), so by Isserlis'
    theorem ``Cov(x w, z) = 0`` for every normal ``z``, ``Var(x w) = 1 + rho_xw^2`` and
    ``Cov(x w, u v) = rho_xu rho_wv + rho_xv rho_wu``. Hence ``Var(explained) =
    a' Sg a + h' Sigma_P h`` exactly, and ``psi = 1 - Var(explained)`` keeps the
    outcome's variance at 1. The outcome is then not normal (it carries the product).
    """
    order = _causal_order(constructs, paths)
    _check_normal_factors(paths, order)
    k, idx = len(order), {c: i for i, c in enumerate(order)}
    ne = sum(c not in paths for c in order)
    prods = list(dict.fromkeys(term_factors(t) for c in order[ne:] for t in paths[c]
                               if ":" in t))
    pidx = {p: i for i, p in enumerate(prods)}
    Sg = np.zeros((k, k))
    Sg[:ne, :ne] = exo_corr
    np.fill_diagonal(Sg[:ne, :ne], 1.0)
    A, H = np.eye(k), np.zeros((k, len(prods)))
    A[ne:, ne:] = 0.0
    SP = np.zeros((len(prods), len(prods)))
    psi = {}
    for c in order[ne:]:
        j = idx[c]
        a, h = np.zeros(k), np.zeros(len(prods))
        for t, b in paths[c].items():
            if ":" in t:
                h[pidx[term_factors(t)]] += b
            else:
                a += b * A[idx[t]]
                h += b * H[idx[t]]
        G = A @ Sg @ A.T                      # the normal parts (exact for every factor)
        done = [p for p in prods if all(idx[v] < j for v in p)]
        for p in done:
            for q in done:
                SP[pidx[p], pidx[q]] = _product_cov(G, idx, p, q)
        explained = float(a @ Sg @ a + h @ SP @ h)
        if explained >= 1:
            raise InputError(f"population.paths: the paths into {c} explain {explained:.2f} of "
                             "its variance (must be < 1). Use smaller standardised coefficients.")
        psi[c] = 1 - explained
        A[j], H[j] = a, h
        A[j, j] = 1.0
        Sg[j, j] = psi[c]
    return A @ Sg @ A.T + H @ SP @ H.T, order, psi


def _draw_latent(rng, n, S, order, paths, psi) -> dict[str, np.ndarray]:
    exo = [c for c in order if c not in paths]
    ne = len(exo)
    idx = {c: i for i, c in enumerate(order)}
    z = rng.multivariate_normal(np.zeros(ne), S[:ne, :ne], size=n, method="cholesky")
    eta = {c: z[:, i] for i, c in enumerate(exo)}
    for c in order[ne:]:
        terms = paths[c].items()
        total = sum(b * eta[t] for t, b in terms if ":" not in t)
        for t, b in terms:
            if ":" in t:   # product of standardised scores, centred at its mean
                x, w = term_factors(t)
                total = total + b * (eta[x] * eta[w] - S[idx[x], idx[w]])
        eta[c] = total + rng.normal(0, np.sqrt(psi[c]), n)
    return eta


@dataclass(frozen=True)
class PopulationModel:
    """The population model, checked: latent covariance, loadings, cut points."""

    items: tuple[str, ...]
    construct_of: tuple[str, ...]
    paths: dict[str, dict[str, float]]
    S: np.ndarray
    order: list[str]
    psi: dict[str, float]
    loadings: np.ndarray
    sign: np.ndarray          # -1 for items written the other way (reverse-keyed, descending scale)
    thresholds: np.ndarray
    mins: np.ndarray
    maxs: np.ndarray

    def latent(self, rng: np.random.Generator, m: int) -> dict[str, np.ndarray]:
        """``m`` respondents' latent scores (construct -> array; mean 0, variance 1)."""
        return _draw_latent(rng, m, self.S, self.order, self.paths, self.psi)

    def answers(self, rng: np.random.Generator, m: int) -> np.ndarray:
        """``m`` respondents' answers (codes, items in questionnaire order)."""
        eta = self.latent(rng, m)
        X = np.empty((m, len(self.items)))
        for j, c in enumerate(self.construct_of):
            lam = self.loadings[j]
            y = lam * eta[c] + np.sqrt(1 - lam ** 2) * rng.standard_normal(m)
            X[:, j] = np.digitize(self.sign[j] * y, self.thresholds) + self.mins[j]
        return X


def population_model(survey: Survey) -> PopulationModel:
    """Read and check the spec's population section (raises InputError naming the key)."""
    pop = survey.population
    items = survey.items
    paths = parse_paths(pop.paths) if pop.paths.strip() else parse_paths(survey.structural,
                                                                         where="structural")
    if not paths:
        raise InputError("population.paths is empty and the spec has no structural model.")
    for lhs, preds in paths.items():
        for c in [lhs, *(v for t in preds for v in term_factors(t))]:
            if c not in survey.constructs:
                raise InputError(f"population.paths names '{c}', which is not a construct.")
    S, order, psi = implied_covariance(list(survey.constructs), paths, pop.exogenous_correlation)
    thr = np.asarray(pop.thresholds, float)
    loadings = []
    for it in items:
        sc = survey.scale_of(it)
        if len(thr) != sc.max - sc.min:
            raise InputError(f"population.thresholds has {len(thr)} cut points; item {it}'s "
                             f"scale {sc.min}..{sc.max} needs {sc.max - sc.min}.")
        lam = pop.loadings.get(it, pop.loadings.get("default", 0.75))
        if not 0 < lam < 1:
            raise InputError(f"population.loadings.{it} = {lam}: must lie between 0 and 1.")
        loadings.append(lam)
    reverse = {r for c in survey.constructs.values() for r in c.reverse}
    return PopulationModel(
        items=tuple(items), construct_of=tuple(survey.construct_of(it) for it in items),
        paths=paths, S=S, order=order, psi=psi, loadings=np.array(loadings, float),
        # a reverse-keyed item, or a scale the file codes descending (1 = Strongly
        # agree), is written the other way round; an item that is both, as is
        sign=np.array([(-1.0 if it in reverse else 1.0)
                       * (-1.0 if survey.scale_of(it).descending else 1.0) for it in items]),
        thresholds=thr,
        mins=np.array([survey.scale_of(it).min for it in items], float),
        maxs=np.array([survey.scale_of(it).max for it in items], float))
