"""Conditional indirect effects and the index of moderated mediation (Hayes, 2015).

In a path model with product terms (:func:`adoption.structural.moderation.expand_interactions`)
the coefficient of an edge ``u -> v`` depends on the moderator when ``v``'s equation also
holds a product ``u:W``: at a moderator value ``w`` it is ``c(v~u) + c(v~u_x_W) d`` with
``d = w - `` the centring constant (the mean for centred products, else 0). An indirect
effect along ``X -> M -> Y`` at ``w`` is the product of those linear forms.

* :class:`FormProduct` - one effect as a product of linear forms of the coefficients;
* :func:`conditional_definitions` - the conditional indirect (and direct) effects of X on
  Y at each probe value, and each path's index of moderated mediation;
* :func:`evaluate_forms` / :func:`forms_gradient` - values and Jacobian (delta method);
* :func:`conditional_table` - estimates with delta-method SEs (as lavaan's ``:=``);
* :func:`bootstrap_conditional` - percentile and BCa intervals from the batched bootstrap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.parallel import blas_one_thread
from adoption.sem.defined import delta_method_se, wald_table
from adoption.structural.bootstrap import bootstrap_path_draws
from adoption.structural.intervals import (
    bias_corrected_interval,
    jackknife_acceleration,
    percentile_interval,
)
from adoption.structural.moderation import Product
from adoption.structural.ols import fit_path_ols
from adoption.structural.paths import PathModel, indirect_paths
from adoption.vocabulary import DEFAULT_SEED

__all__ = [
    "FormProduct",
    "conditional_definitions",
    "evaluate_forms",
    "forms_gradient",
    "conditional_table",
    "bootstrap_conditional",
]


@dataclass(frozen=True)
class FormProduct:
    """An effect that is a product of linear forms of the regression coefficients.

    Attributes
    ----------
    name : str
        ``ind_X_M_Y`` / ``direct_X_Y`` / ``imm_X_M_Y``.
    effect : {"conditional_indirect", "conditional_direct", "index"}
    path : tuple of str
    at : str
        The probe value's label (``"-1 SD"``, ``"mean"``, a category), ``""`` for an index.
    value : float
        The moderator value (NaN for an index or a category).
    forms : ndarray, shape (n_forms, n_edges)
        The effect is ``prod_k forms[k] @ coef`` (coefficients in ``PathModel.edges``
        order).
    """

    name: str
    effect: str
    path: tuple[str, ...]
    at: str
    value: float
    forms: np.ndarray


def _edge_form(model: PathModel, products: tuple[Product, ...], u: str, v: str,
               at: dict[str, float]) -> tuple[np.ndarray, bool]:
    """The conditional coefficient of ``u -> v`` at ``at`` (moderator -> deviation), and
    whether it is moderated by a variable of ``at``."""
    index = {e: i for i, e in enumerate(model.edges)}
    g = np.zeros(len(model.edges))
    g[index[(v, u)]] = 1.0
    moderated = False
    for p in products:
        if p.lhs != v or u not in p.factors:
            continue
        other = p.factors[1] if p.factors[0] == u else p.factors[0]
        if other in at:
            g[index[(v, p.name)]] = at[other]
            moderated = True
    return g, moderated


def _index_forms(model, products, path, moderators) -> np.ndarray | None:
    """Forms of the index of moderated mediation: defined when exactly one edge of the
    path is moderated (the effect is then linear in the moderator)."""
    index = {e: i for i, e in enumerate(model.edges)}
    forms, hit = [], []
    for u, v in zip(path[:-1], path[1:]):
        g, mod = _edge_form(model, products, u, v, {w: 1.0 for w in moderators})
        if mod:
            g = g.copy()
            g[index[(v, u)]] = 0.0
            hit.append(v)
        forms.append(g)
    return np.array(forms) if len(hit) == 1 else None


def conditional_definitions(model: PathModel, products: tuple[Product, ...], x: str, y: str,
                            probes: dict[str, dict[str, float]],
                            values: dict[str, float] | None = None) -> tuple[FormProduct, ...]:
    """Conditional indirect and direct effects of ``x`` on ``y`` and the indices.

    Parameters
    ----------
    model : PathModel
        The expanded model (product variables as predictors).
    products : tuple of Product
    x, y : str
        Focal predictor and outcome.
    probes : dict
        Probe label -> {moderator variable: deviation ``d``}; for a continuous moderator
        ``{"W": w - mean}`` (centred products) or ``{"W": w}``; for a categorical one the
        dummies, ``{"G_b": 1.0, "G_c": 0.0}``.
    values : dict, optional
        Probe label -> the moderator value (shown in tables).

    Returns
    -------
    tuple of FormProduct
        Per probe: each indirect path from ``x`` to ``y`` through mediators (paths through
        product or other exogenous variables are not indirect effects of ``x``), then the
        direct effect when ``y ~ x`` is in the model; then one index per path that is
        linear in the moderator (Hayes, 2015: ``a3 b`` in model 7, ``a b3`` in model 14;
        undefined when two edges are moderated by the same variable, as in model 58);
        with several moderator variables (the dummies of a categorical moderator) one
        index per variable, its ``at`` naming it.
    """
    values = values or {}
    paths = [p for p in indirect_paths(model, to="outcomes")
             if p[0] == x and p[-1] == y]
    direct = (y, x) in model.edges
    moderators = sorted({w for a in probes.values() for w in a})
    defs: list[FormProduct] = []
    for label, at in probes.items():
        for p in paths:
            forms = np.array([_edge_form(model, products, u, v, at)[0]
                              for u, v in zip(p[:-1], p[1:])])
            defs.append(FormProduct("_".join(("ind", *p)), "conditional_indirect", p, label,
                                    values.get(label, np.nan), forms))
        if direct:
            g, _ = _edge_form(model, products, x, y, at)
            defs.append(FormProduct(f"direct_{x}_{y}", "conditional_direct", (x, y), label,
                                    values.get(label, np.nan), g[None]))
    for p in paths:
        for w in moderators:   # one index per moderator variable (per dummy: Hayes, 2015)
            forms = _index_forms(model, products, p, [w])
            if forms is not None:
                at = w if len(moderators) > 1 else ""
                defs.append(FormProduct("_".join(("imm", *p)), "index", p, at, np.nan, forms))
    return tuple(defs)


def evaluate_forms(defs: tuple[FormProduct, ...], coef: np.ndarray) -> np.ndarray:
    """Effect values, shape ``coef.shape[:-1] + (len(defs),)``: ``prod_k coef @ forms[k]``."""
    coef = np.asarray(coef, dtype=float)
    return np.stack([np.prod(coef @ d.forms.T, axis=-1) for d in defs], axis=-1)


def forms_gradient(defs: tuple[FormProduct, ...], coef: np.ndarray) -> np.ndarray:
    """Jacobian (n_defs, n_edges): ``sum_k (prod_{j != k} f_j . c) f_k``."""
    coef = np.asarray(coef, dtype=float)
    rows = []
    for d in defs:
        lin = d.forms @ coef
        g = np.zeros_like(coef)
        for k in range(len(lin)):
            g += np.prod(np.delete(lin, k)) * d.forms[k]
        rows.append(g)
    return np.array(rows)


def _frame(defs: tuple[FormProduct, ...]) -> pd.DataFrame:
    return pd.DataFrame({"name": [d.name for d in defs], "effect": [d.effect for d in defs],
                         "path": [d.path for d in defs], "at": [d.at for d in defs],
                         "value": [d.value for d in defs]})


def conditional_table(defs: tuple[FormProduct, ...], coef: np.ndarray, vcov: np.ndarray,
                      level: float = 0.95) -> pd.DataFrame:
    """The effects with delta-method SEs, z, p and normal intervals.

    Parameters
    ----------
    defs : tuple of FormProduct
    coef : ndarray, shape (n_edges,)
    vcov : ndarray, shape (n_edges, n_edges)
        The coefficients' covariance (``PathFit.vcov`` of the ML fit: the SEs are then
        those of lavaan's ``:=`` rows for the same expressions).

    Returns
    -------
    DataFrame
        ``name, effect, path, at, value, est, se, z, pvalue, ci.lower, ci.upper``.
    """
    est = evaluate_forms(defs, coef)
    se = delta_method_se(forms_gradient(defs, coef), vcov)
    return pd.concat([_frame(defs), wald_table(est, se, level)], axis=1)


def bootstrap_conditional(data: pd.DataFrame, model: PathModel,
                          defs: tuple[FormProduct, ...], B: int = 5000,
                          seed: int | None = DEFAULT_SEED, level: float = 0.95,
                          chunk: int = 2500) -> tuple[pd.DataFrame, dict]:
    """Bootstrap percentile and BCa intervals of conditional effects (batched route).

    Parameters
    ----------
    data : DataFrame
        The model's columns, product columns included: the products are formed once on
        the full sample and resampled with the rows, as PROCESS does.
    model : PathModel
    defs : tuple of FormProduct
    B, seed, level, chunk : as :func:`~adoption.structural.bootstrap.bootstrap_path_draws`.

    Returns
    -------
    table : DataFrame
        ``name, effect, path, at, value, est, boot.se, ci.lower, ci.upper`` (percentile,
        PROCESS's default) and ``bca.lower, bca.upper`` (BCa with jackknife acceleration).
    info : dict
        ``B, seed, failed, seconds``.

    Notes
    -----
    The moderator values and centring constants stay at their full-sample values in
    every draw (PROCESS computes them once). Percentile limits are ``boot``'s
    ``norm.inter`` quantiles (:func:`percentile_interval`).
    """
    t0 = time.perf_counter()
    with blas_one_thread():
        draws = bootstrap_path_draws(data, model, B=B, seed=seed, chunk=chunk)
    Zc = draws.coef.to_numpy()
    fit = fit_path_ols(data, model)
    coef = np.array([fit.coefficients[e] for e in model.edges])
    est = evaluate_forms(defs, coef)
    eff = evaluate_forms(defs, Zc)
    ts = np.sort(eff, axis=0)
    perc = percentile_interval(ts, level, presorted=True)
    acc = jackknife_acceleration(evaluate_forms(defs, draws.jack_coef.to_numpy()))
    bca = bias_corrected_interval(ts, est, level, acc, presorted=True)
    table = _frame(defs).assign(**{"est": est, "boot.se": eff.std(axis=0, ddof=1),
                                   "ci.lower": perc[:, 0], "ci.upper": perc[:, 1],
                                   "bca.lower": bca[:, 0], "bca.upper": bca[:, 1]})
    info = {"B": B, "seed": seed, "failed": len(draws.failed),
            "seconds": time.perf_counter() - t0}
    return table, info
