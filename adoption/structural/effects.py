"""Direct, indirect and total effects of a recursive path model, with delta-method SEs.

An effect is a polynomial in the regression coefficients: an indirect effect is the
product of the coefficients along one path, a total effect the sum of those products
over every path from a source to a target (the direct path included). The functions
here take coefficient values and their covariance matrix, so they work with whatever
estimated them (the SEM engine, lavaan, the closed-form OLS of
:func:`adoption.structural.ols.fit_path_ols`).

Pure functions:

* :func:`effect_definitions` - every effect of a :class:`PathModel` as a sum of paths;
* :func:`evaluate_effects` - effect values for one or many (bootstrap) coefficient vectors;
* :func:`effect_gradients` - the Jacobian of the effects with respect to the coefficients;
* :func:`delta_method_se` - ``sqrt(diag(G V G'))``;
* :func:`path_effects` - the table, as lavaan's ``:=`` rows would give it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.sem.defined import delta_method_se, wald_table
from adoption.structural.paths import PathModel, indirect_paths, path_name

__all__ = [
    "EffectDefinition",
    "PathEffects",
    "EFFECT_COLUMNS",
    "effect_definitions",
    "evaluate_effects",
    "effect_gradients",
    "delta_method_se",
    "wald_table",
    "coefficient_vector",
    "edge_vcov",
    "coefficients_from_estimates",
    "path_effects",
]

#: Columns of an effects table (lavaan's ``parameterEstimates`` names for the numbers).
EFFECT_COLUMNS: tuple[str, ...] = (
    "name", "effect", "source", "target", "path", "expression",
    "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all",
)

#: Kinds of effect, in the order tables list them.
EFFECT_KINDS: tuple[str, ...] = ("direct", "indirect", "total_indirect", "total")


@dataclass(frozen=True)
class EffectDefinition:
    """One effect as a sum of products of coefficients.

    Attributes
    ----------
    name : str
        lavaan-style label: ``direct_X_Y``, ``ind_X_M_Y``, ``totind_X_Y``, ``total_X_Y``.
    effect : {"direct", "indirect", "total_indirect", "total"}
    source, target : str
    path : tuple of str
        The variables along the path for a direct or indirect effect; ``(source,
        target)`` for a total or total indirect effect.
    terms : tuple of tuple of int
        Each term is a path, given as indices into ``PathModel.edges``; the effect is
        the sum over terms of the product of those coefficients.
    expression : str
        The same as lavaan's right-hand side of ``:=``: coefficient labels (or
        ``lhs~rhs`` for unlabelled ones) joined by ``*`` within a path and ``+``
        between paths, e.g. ``b_EMP_COM*b_COM_WIL``.
    """

    name: str
    effect: str
    source: str
    target: str
    path: tuple[str, ...]
    terms: tuple[tuple[int, ...], ...]
    expression: str = ""


def _edge_indices(model: PathModel, path: tuple[str, ...]) -> tuple[int, ...]:
    index = {e: i for i, e in enumerate(model.edges)}
    return tuple(index[(path[k + 1], path[k])] for k in range(len(path) - 1))


def effect_definitions(model: PathModel, to: str = "endogenous") -> tuple[EffectDefinition, ...]:
    """Every direct, indirect, total indirect and total effect of a path model.

    Parameters
    ----------
    model : PathModel
    to : {"endogenous", "outcomes"}
        Targets of the indirect, total indirect and total effects (see
        :func:`~adoption.structural.paths.indirect_paths`). Direct effects are every
        regression coefficient whatever ``to`` says.

    Returns
    -------
    tuple of EffectDefinition
        Direct effects in syntax order; indirect effects in the order of
        :func:`indirect_paths`; total indirect and total effects by target (causal
        order) then source (causal order). Total indirect effects are listed only for
        pairs with at least one indirect path; total effects for every pair joined by
        at least one path.
    """
    defs: list[EffectDefinition] = []
    names = [model.label(y, x) or f"{y}~{x}" for y, x in model.edges]

    def expression(terms) -> str:
        return "+".join("*".join(names[e] for e in term) for term in terms)

    for lhs, rhs in model.edges:
        terms = (_edge_indices(model, (rhs, lhs)),)
        defs.append(EffectDefinition(path_name((rhs, lhs), "direct"), "direct", rhs, lhs,
                                     (rhs, lhs), terms, expression(terms)))
    paths = indirect_paths(model, to=to)
    for p in paths:
        terms = (_edge_indices(model, p),)
        defs.append(EffectDefinition(path_name(p), "indirect", p[0], p[-1], p, terms,
                                     expression(terms)))
    pos = {v: i for i, v in enumerate(model.variables)}
    targets = model.endogenous if to == "endogenous" else model.outcomes
    direct = set(model.edges)
    pairs = sorted({(p[0], p[-1]) for p in paths} | {(x, y) for y, x in direct if y in targets},
                   key=lambda st: (pos[st[1]], pos[st[0]]))
    for kind, prefix in (("total_indirect", "totind"), ("total", "total")):
        for s, t in pairs:
            terms = [_edge_indices(model, p) for p in paths if p[0] == s and p[-1] == t]
            if kind == "total_indirect" and not terms:
                continue
            if kind == "total" and (t, s) in direct:
                terms = [_edge_indices(model, (s, t))] + terms
            defs.append(EffectDefinition(path_name((s, t), prefix), kind, s, t, (s, t),
                                         tuple(terms), expression(terms)))
    return tuple(defs)


def evaluate_effects(definitions: tuple[EffectDefinition, ...] | list[EffectDefinition],
                     coef: np.ndarray) -> np.ndarray:
    """Effect values from coefficient values.

    Parameters
    ----------
    definitions : sequence of EffectDefinition
    coef : ndarray, shape (..., n_edges)
        Coefficients aligned with ``PathModel.edges``; leading axes (bootstrap draws)
        are kept.

    Returns
    -------
    ndarray, shape (..., n_definitions)

    Notes
    -----
    ``effect = sum_paths prod_{edges in path} coef[edge]``, the same expression lavaan
    evaluates for ``ind := a*b`` and ``total := c + a*b``.
    """
    coef = np.asarray(coef, dtype=float)
    # each distinct path product once, then effects as sums of products
    products: dict[tuple[int, ...], np.ndarray] = {}
    out = np.zeros(coef.shape[:-1] + (len(definitions),))
    for j, d in enumerate(definitions):
        for term in d.terms:
            if term not in products:
                prod = coef[..., term[0]].copy()
                for e in term[1:]:
                    prod *= coef[..., e]
                products[term] = prod
            out[..., j] += products[term]
    return out


def effect_gradients(definitions: tuple[EffectDefinition, ...] | list[EffectDefinition],
                     coef: np.ndarray) -> np.ndarray:
    """Jacobian of the effects with respect to the coefficients.

    Parameters
    ----------
    definitions : sequence of EffectDefinition
    coef : ndarray, shape (n_edges,)

    Returns
    -------
    ndarray, shape (n_definitions, n_edges)
        ``G[j, e] = sum over the terms of effect j that contain edge e of the product
        of the term's other coefficients`` (a simple path uses each edge at most once).
    """
    coef = np.asarray(coef, dtype=float)
    G = np.zeros((len(definitions), coef.shape[-1]))
    for j, d in enumerate(definitions):
        for term in d.terms:
            for k, e in enumerate(term):
                others = [f for i, f in enumerate(term) if i != k]
                G[j, e] += np.prod(coef[others]) if others else 1.0
    return G


def coefficient_vector(model: PathModel, coefficients: Mapping[tuple[str, str], float],
                       what: str = "coefficients") -> np.ndarray:
    """Coefficient values aligned with ``model.edges``.

    Raises
    ------
    InputError
        Naming the regression coefficients missing from ``coefficients``.
    """
    missing = [f"{y} ~ {x}" for y, x in model.edges if (y, x) not in coefficients]
    if missing:
        raise InputError(f"{what}: no value for {', '.join(missing)}. Pass every "
                         "regression coefficient of the structural model as (lhs, rhs).")
    return np.array([float(coefficients[e]) for e in model.edges])


def _key(s: str) -> str:
    return "".join(str(s).split())


def edge_vcov(vcov: pd.DataFrame | np.ndarray, model: PathModel) -> np.ndarray:
    """The block of a parameter covariance matrix that belongs to the regressions.

    Parameters
    ----------
    vcov : DataFrame or ndarray
        A DataFrame indexed (and columned) by parameter names: ``"lhs ~ rhs"`` (spaces
        optional, as the engine writes them) or lavaan's labels (``b_EMP_COM``, as
        ``lavInspect(fit, "vcov")`` writes labelled parameters). An ndarray must already
        be aligned with ``model.edges``.

    Returns
    -------
    ndarray, shape (n_edges, n_edges)

    Raises
    ------
    InputError
        Naming the coefficients the matrix lacks.
    """
    n = len(model.edges)
    if not isinstance(vcov, pd.DataFrame):
        V = np.asarray(vcov, dtype=float)
        if V.shape != (n, n):
            raise InputError(f"vcov: shape {V.shape}, expected ({n}, {n}) aligned with the "
                             "model's regression coefficients.")
        return V
    keys = {_key(k): i for i, k in enumerate(vcov.index)}
    pos, missing = [], []
    for y, x in model.edges:
        lab = model.label(y, x)
        for k in (f"{y}~{x}", lab):
            if k is not None and _key(k) in keys:
                pos.append(keys[_key(k)])
                break
        else:
            missing.append(f"{y} ~ {x}")
    if missing:
        raise InputError(f"vcov: no row for {', '.join(missing)}. Index it by 'lhs ~ rhs' "
                         "or by the coefficient labels.")
    return vcov.to_numpy(dtype=float)[np.ix_(pos, pos)]


def coefficients_from_estimates(estimates: pd.DataFrame) -> tuple[dict, dict]:
    """Regression estimates and std.all values from a lavaan-style parameter table.

    Parameters
    ----------
    estimates : DataFrame
        With columns ``lhs, op, rhs, est`` and optionally ``std.all``.

    Returns
    -------
    (dict, dict)
        ``{(lhs, rhs): est}`` and ``{(lhs, rhs): std.all}`` for the ``~`` rows (the
        second is empty without a ``std.all`` column).
    """
    reg = estimates[estimates["op"] == "~"]
    est = {(r.lhs, r.rhs): float(r.est) for r in reg[["lhs", "rhs", "est"]].itertuples()}
    std = {}
    if "std.all" in reg:
        std = dict(zip(zip(reg["lhs"], reg["rhs"]), reg["std.all"].astype(float)))
    return est, std


@dataclass(frozen=True)
class PathEffects:
    """Effects of a path model with delta-method inference.

    Attributes
    ----------
    table : DataFrame
        One row per effect, columns :data:`EFFECT_COLUMNS`:
        ``name`` (``direct_X_Y``, ``ind_X_M_Y``, ``totind_X_Y``, ``total_X_Y``),
        ``effect`` (direct / indirect / total_indirect / total), ``source``,
        ``target``, ``path`` (tuple of variables), ``expression`` (as lavaan's
        ``:=`` right-hand side), ``est``, ``se`` (delta method),
        ``z``, ``pvalue``, ``ci.lower``, ``ci.upper`` (normal theory, ``level``),
        ``std.all`` (the same effect computed from std.all coefficients; NaN when
        they were not given).
    level : float
        Confidence level of the intervals.
    """

    table: pd.DataFrame
    level: float = 0.95

    def of(self, effect: str) -> pd.DataFrame:
        """The rows of one kind of effect (``"direct"``, ``"indirect"``, ...)."""
        if effect not in EFFECT_KINDS:
            raise ValueError(f"effect must be one of {EFFECT_KINDS}, not {effect!r}")
        return self.table[self.table["effect"] == effect].reset_index(drop=True)

    def parameter_table(self) -> pd.DataFrame:
        """The effects as lavaan's ``:=`` rows of ``parameterEstimates()``.

        Columns ``lhs`` (the effect's name), ``op`` (``":="``), ``rhs`` (the
        expression, e.g. ``b_EMP_COM*b_COM_WIL``), ``label`` (the name again, as lavaan
        labels defined parameters) and ``est, se, z, pvalue, ci.lower, ci.upper,
        std.all``. Direct effects are left out (they are the ``~`` rows already).
        """
        t = self.table[self.table["effect"] != "direct"]
        out = pd.DataFrame({"lhs": t["name"], "op": ":=", "rhs": t["expression"],
                            "label": t["name"]})
        cols = ["est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all"]
        return pd.concat([out, t[cols]], axis=1).reset_index(drop=True)

    @property
    def indirect(self) -> pd.DataFrame:
        return self.of("indirect")

    @property
    def total(self) -> pd.DataFrame:
        return self.of("total")


def path_effects(model: PathModel, coefficients: Mapping[tuple[str, str], float],
                 vcov: pd.DataFrame | np.ndarray,
                 std_all: Mapping[tuple[str, str], float] | None = None,
                 level: float = 0.95, to: str = "endogenous") -> PathEffects:
    """Direct, indirect, total indirect and total effects with delta-method SEs.

    Parameters
    ----------
    model : PathModel
        From :func:`~adoption.structural.paths.parse_structural`.
    coefficients : mapping (lhs, rhs) -> float
        Regression estimates (unstandardised).
    vcov : DataFrame or ndarray
        Covariance matrix of the estimates (see :func:`edge_vcov`); only its
        regression block is used.
    std_all : mapping (lhs, rhs) -> float, optional
        Completely standardised coefficients (lavaan's ``std.all``).
    level : float
        Confidence level of the normal-theory intervals.
    to : {"endogenous", "outcomes"}
        Targets of the indirect and total effects.

    Returns
    -------
    PathEffects
        See its attributes for the columns.

    Notes
    -----
    ``est = sum_paths prod coef``; ``se = sqrt(g' V g)`` with ``g`` the exact gradient
    (:func:`delta_method_se`); ``z``, ``pvalue`` and the interval as
    :func:`wald_table`. Agrees with lavaan's ``:=`` rows of ``parameterEstimates()``
    (``ind := a*b``, ``total := c + a*b``) when given lavaan's estimates and vcov;
    ``std.all`` agrees with ``standardizedSolution()`` / ``parameterEstimates(
    standardized = TRUE)``, which evaluates the same expression on the standardised
    coefficients.

    References
    ----------
    Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in
    structural equation models. *Sociological Methodology*, 13, 290-312.

    Examples
    --------
    >>> from adoption.structural.paths import parse_structural
    >>> m = parse_structural("M ~ X\\nY ~ M + X")
    >>> eff = path_effects(m, {("M", "X"): 0.5, ("Y", "M"): 0.4, ("Y", "X"): 0.1},
    ...                    np.diag([0.01, 0.01, 0.01]))
    >>> float(eff.indirect.loc[0, "est"])
    0.2
    """
    defs = effect_definitions(model, to=to)
    b = coefficient_vector(model, coefficients)
    V = edge_vcov(vcov, model)
    est = evaluate_effects(defs, b)
    se = delta_method_se(effect_gradients(defs, b), V)
    if std_all:
        std = evaluate_effects(defs, coefficient_vector(model, std_all, "std_all"))
    else:
        std = np.full(len(defs), np.nan)
    table = pd.concat([
        pd.DataFrame({"name": [d.name for d in defs], "effect": [d.effect for d in defs],
                      "source": [d.source for d in defs], "target": [d.target for d in defs],
                      "path": [d.path for d in defs],
                      "expression": [d.expression for d in defs]}),
        wald_table(est, se, level),
    ], axis=1)
    table["std.all"] = std
    return PathEffects(table=table[list(EFFECT_COLUMNS)], level=level)
