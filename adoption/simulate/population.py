"""The simulator's population model: Survey ``population`` section -> :class:`PopulationModel`.

Constructs never on the left of a path are exogenous: standard normal, pairwise
correlated at ``population.exogenous_correlation``. Each endogenous construct is the
weighted sum of its predictors (standardised paths) plus a residual whose variance is
``1 - b' S b`` (``S`` the model-implied covariance of the predictors), so every latent
variable has variance 1 and the paths are the standardised coefficients. An item is
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

__all__ = ["parse_paths", "implied_covariance", "PopulationModel", "population_model"]


def parse_paths(syntax: str, *, default: float = 0.2, where: str = "population.paths") -> dict[str, dict[str, float]]:
    """Regressions with numeric multipliers, ``"Y ~ 0.3*X1 + -0.1*X2"`` -> ``{Y: {X1: .3, X2: -.1}}``.

    Read by the one lavaan parser (:func:`adoption.sem.syntax.parse_model`); a term
    without a fixed value gets ``default``. Lines other than regressions (``=~``, ``~~``,
    ``:=``, ``~ 1``) are skipped. As in lavaan, a negative value is written ``+ -0.1*X``
    (``a - 0.1*X`` is refused, naming the line).
    """
    out: dict[str, dict[str, float]] = {}
    for f in parse_model(syntax, where=where).of(OP_REGRESSION):
        if f.interaction:
            raise InputError(f"{where}, line {f.line}: the interaction term '{f.rhs}' is not "
                             "supported by the simulator.")
        value = f.in_group("fixed")
        out.setdefault(f.lhs, {})[f.rhs] = default if value is None else float(value)
    return out


def implied_covariance(constructs: list[str], paths: dict[str, dict[str, float]],
                       exo_corr: float) -> tuple[np.ndarray, list[str], dict[str, float]]:
    """Model-implied latent covariance of a recursive standardised path model.

    Returns the covariance matrix (in the order of the returned construct list:
    exogenous first, then endogenous in causal order) and the residual variances
    ``psi_j = 1 - b_j' S_jj b_j`` that give every latent variable variance 1.
    """
    exo = [c for c in constructs if c not in paths]
    order = list(exo)
    pending = [c for c in constructs if c in paths]
    while pending:
        ready = [c for c in pending if all(p in order for p in paths[c])]
        if not ready:
            raise InputError("population.paths: the structural model is not recursive "
                             f"(a loop among {', '.join(pending)}); the simulator needs one.")
        order += ready
        pending = [c for c in pending if c not in ready]
    k = len(order)
    idx = {c: i for i, c in enumerate(order)}
    S = np.eye(k)
    ne = len(exo)
    S[:ne, :ne] = exo_corr
    np.fill_diagonal(S, 1.0)
    psi = {}
    for c in order[ne:]:
        j = idx[c]
        pi = [idx[p] for p in paths[c]]
        b = np.array(list(paths[c].values()))
        explained = float(b @ S[np.ix_(pi, pi)] @ b)
        if explained >= 1:
            raise InputError(f"population.paths: the paths into {c} explain {explained:.2f} of "
                             "its variance (must be < 1). Use smaller standardised coefficients.")
        cov = b @ S[pi, :j]
        S[j, :j] = cov
        S[:j, j] = cov
        psi[c] = 1 - explained
    return S, order, psi


def _draw_latent(rng, n, S, order, paths, psi) -> dict[str, np.ndarray]:
    exo = [c for c in order if c not in paths]
    ne = len(exo)
    z = rng.multivariate_normal(np.zeros(ne), S[:ne, :ne], size=n, method="cholesky")
    eta = {c: z[:, i] for i, c in enumerate(exo)}
    for c in order[ne:]:
        eta[c] = sum(b * eta[p] for p, b in paths[c].items()) + rng.normal(0, np.sqrt(psi[c]), n)
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

    def answers(self, rng: np.random.Generator, m: int) -> np.ndarray:
        """``m`` respondents' answers (codes, items in questionnaire order)."""
        eta = _draw_latent(rng, m, self.S, self.order, self.paths, self.psi)
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
        for c in [lhs, *preds]:
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
