"""PLS-SEM estimation: outer weights and loadings, construct scores, paths, R-squared,
f-squared, total and indirect effects; consistent PLS (PLSc) on request.

:func:`estimate_pls` standardises the indicators (mean 0, SD with ``n - 1``, as R's
``scale`` in seminr), runs the algorithm of :mod:`adoption.pls.algorithm` on their
correlation matrix and returns a frozen :class:`PLSResult` of tidy tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.pls import algorithm as alg
from adoption.pls.model import PLSModel
from adoption.structural.effects import effect_definitions, evaluate_effects

__all__ = ["PLSResult", "estimate_pls", "standardize", "check_data", "f_squared", "f_squared_fixed",
           "F2_METHODS", "corrected_blocks"]


@dataclass(frozen=True)
class PLSResult:
    """A fitted PLS path model.

    Attributes
    ----------
    model : PLSModel
    outer : DataFrame
        One row per item: ``construct, item, mode, weight, loading`` (for PLSc the
        loadings of corrected constructs are the consistent loadings ``c w``).
    paths : DataFrame
        One row per inner path: ``lhs, op ("~"), rhs, est, f2``.
    r2 : DataFrame
        One row per endogenous construct: ``construct, r2, adj_r2``.
    effects : DataFrame
        ``name, effect, source, target, path, est`` for every direct, indirect, total
        indirect and total effect (:func:`~adoption.structural.effects.effect_definitions`).
    construct_cor : DataFrame
        Construct correlations (disattenuated for PLSc).
    item_cor : DataFrame
        Item correlation matrix.
    scores : DataFrame
        Standardised construct scores (n x constructs).
    rho_a : Series
        rhoA of each construct (Dijkstra & Henseler, 2015).
    n : int
    scheme : str
    consistent : bool
    iterations : int
    converged : bool
    warnings : tuple of str
    """

    model: PLSModel
    outer: pd.DataFrame
    paths: pd.DataFrame
    r2: pd.DataFrame
    effects: pd.DataFrame
    construct_cor: pd.DataFrame
    item_cor: pd.DataFrame
    scores: pd.DataFrame
    rho_a: pd.Series
    n: int
    scheme: str
    consistent: bool
    iterations: int
    converged: bool
    warnings: tuple[str, ...] = ()

    def matrix(self, column: str, table: str = "outer") -> pd.DataFrame:
        """A wide item x construct (``outer``) or source x target (``paths``) table."""
        if table == "outer":
            return self.outer.pivot(index="item", columns="construct", values=column).reindex(
                index=list(self.model.items), columns=list(self.model.constructs)).fillna(0.0)
        return self.paths.pivot(index="rhs", columns="lhs", values=column).reindex(
            index=list(self.model.constructs), columns=list(self.model.constructs))


def check_data(data: pd.DataFrame, model: PLSModel) -> pd.DataFrame:
    """The model's item columns as floats; :class:`InputError` when unusable.

    Raises
    ------
    InputError
        A missing column, a non-numeric or missing value, a construct whose items are
        all constant, a mode-B block whose items are perfectly collinear.
    """
    absent = [i for i in model.items if i not in data.columns]
    if absent:
        raise InputError(f"PLS: the data have no column {', '.join(absent)}; "
                         "check the item names of the model.")
    X = data[list(model.items)]
    try:
        X = X.astype(float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"PLS: non-numeric values in the item columns ({exc}).") from None
    if X.isna().any().any():
        bad = X.columns[X.isna().any()].tolist()
        raise InputError(f"PLS: missing values in {', '.join(bad)}; PLS needs complete "
                         "data (drop or impute those rows first).")
    sd = X.std(ddof=1)
    for b in model.blocks:
        const = [i for i in b.items if not sd[i] > 0]
        if len(const) == len(b.items):
            raise InputError(f"PLS: every item of construct {b.name} ({', '.join(const)}) is "
                             "constant; the construct has no variance. Remove it.")
        if const:
            raise InputError(f"PLS: item {', '.join(const)} of construct {b.name} is constant; "
                             "remove it from the block.")
        if b.mode == "B" and len(b.items) > 1:
            R = np.corrcoef(X[list(b.items)].to_numpy().T)
            if np.linalg.matrix_rank(R, tol=1e-10) < len(b.items):
                raise InputError(f"PLS: the items of mode-B construct {b.name} are perfectly "
                                 "collinear (one is a linear combination of others); remove "
                                 "the redundant item or use mode A.")
    return X


def standardize(X: pd.DataFrame) -> pd.DataFrame:
    """Centre and scale columns by their SD with ``n - 1`` (R's ``scale``)."""
    return (X - X.mean()) / X.std(ddof=1)


def _outer_table(model: PLSModel, W: np.ndarray, L: np.ndarray) -> pd.DataFrame:
    rows = []
    for j, b in enumerate(model.blocks):
        for i in b.items:
            k = model.items.index(i)
            rows.append((b.name, i, b.mode, W[k, j], L[k, j]))
    return pd.DataFrame(rows, columns=["construct", "item", "mode", "weight", "loading"])


def f_squared(S: np.ndarray, lay: alg.Layout, corrected: np.ndarray, r2: np.ndarray,
              scheme: str = "path", max_iter: int = 300, tol: float = 1e-7,
              init: np.ndarray | None = None) -> np.ndarray:
    """Cohen's f-squared of every inner path, shape (B, J, J) (NaN where no path).

    Parameters
    ----------
    S : ndarray, shape (B, p, p)
        Item correlation matrices.
    lay : Layout
    corrected : ndarray of bool, shape (J,)
        PLSc blocks.
    r2 : ndarray, shape (B, J)
        R-squared of the full model.
    init : ndarray, shape (B, p, J), optional
        Warm start of the refits (the full model's weights: the bootstrap uses it, the
        point estimate starts from unit weights as seminr does).

    Notes
    -----
    ``f2 = (R2_incl - R2_excl) / (1 - R2_incl)`` (Hair et al., 2022, ch. 6), where, as in
    seminr's ``fSquared``, ``R2_excl`` comes from re-estimating the whole PLS model
    without the path (weights included), not from dropping the predictor from one
    regression.
    """
    B, J = r2.shape
    out = np.full((B, J, J), np.nan)
    for j, p in enumerate(lay.predictors):
        for i in p:
            reduced = alg.fit(S, alg.without_path(lay, int(i), j), corrected, scheme, max_iter, tol, init)
            r2x = np.nan_to_num(reduced.r2[:, j])  # no predictor left: R2 = 0
            out[:, i, j] = (r2[:, j] - r2x) / (1 - r2[:, j])
    return out


def f_squared_fixed(C: np.ndarray, lay: alg.Layout) -> np.ndarray:
    """Cohen's f-squared with the construct scores held fixed (ADANCO's definition).

    Parameters
    ----------
    C : ndarray, shape (B, J, J)
        Construct correlations (disattenuated for PLSc).
    lay : Layout

    Returns
    -------
    ndarray, shape (B, J, J)
        ``(R2_incl - R2_excl) / (1 - R2_incl)`` with ``R2_excl`` from the same equation
        without the predictor, on the same correlations (ADANCO 2.2.1's "Cohen's f2";
        seminr refits the whole model instead, :func:`f_squared`).
    """
    B, J, _ = C.shape
    out = np.full((B, J, J), np.nan)
    _, r2 = alg.path_coefficients(C, lay)
    for j, p in enumerate(lay.predictors):
        for i in p:
            _, r2x = alg.path_coefficients(C, alg.without_path(lay, int(i), j))
            out[:, i, j] = (r2[:, j] - np.nan_to_num(r2x[:, j])) / (1 - r2[:, j])
    return out


#: f-squared definitions: "refit" (seminr: re-estimate the model without the path),
#: "fixed" (ADANCO: drop the predictor from its equation, scores held fixed).
F2_METHODS: tuple[str, ...] = ("refit", "fixed")


def estimate_pls(data: pd.DataFrame, model: PLSModel, scheme: str = "path",
                 consistent: bool = False, max_iter: int = 300, tol: float = 1e-7,
                 f2_method: str = "refit") -> PLSResult:
    """Estimate a PLS path model (seminr's ``estimate_pls``).

    Parameters
    ----------
    data : DataFrame
        Item responses (complete, numeric); other columns are ignored.
    model : PLSModel
    scheme : {"path", "factor", "centroid"}
        Inner weighting scheme (seminr ``inner_weights = path_weighting``).
    consistent : bool
        PLSc: treat mode-A blocks with two or more items as common factors and
        disattenuate their correlations with rhoA (seminr ``reflective()``).
    max_iter, tol
        Iteration cap and stopping rule of :func:`adoption.pls.algorithm.outer_weights`.
    f2_method : {"refit", "fixed"}
        f-squared as seminr (:func:`f_squared`) or as ADANCO (:func:`f_squared_fixed`).

    Returns
    -------
    PLSResult

    Raises
    ------
    InputError
        Unusable data (:func:`check_data`), an unknown scheme, no convergence.
    """
    if f2_method not in F2_METHODS:
        raise InputError(f"PLS: unknown f2_method {f2_method!r}; use one of {', '.join(F2_METHODS)}.")
    if scheme not in alg.SCHEMES:
        raise InputError(f"PLS: unknown inner weighting scheme {scheme!r}; use one of "
                         f"{', '.join(alg.SCHEMES)}.")
    X = check_data(data, model)
    Z = standardize(X)
    S = np.corrcoef(Z.to_numpy().T)[None]
    lay = alg.layout(model)
    corrected = corrected_blocks(model, consistent)
    f = alg.fit(S, lay, corrected, scheme, max_iter, tol)
    if not f.converged[0]:
        raise InputError(f"PLS: the algorithm did not converge in {max_iter} iterations "
                         f"(weights still changing by {tol} or more); check the model "
                         "(tiny blocks, near-collinear items) or raise max_iter.")
    f2 = (f_squared(S, lay, corrected, f.r2, scheme, max_iter, tol) if f2_method == "refit"
          else f_squared_fixed(f.C, lay))
    return _result(model, Z, f.W[0], f.L[0], f.C[0], f.beta[0], f.r2[0], f2[0], f.rho[0], S[0],
                   scheme, consistent, int(f.iterations[0]))


def corrected_blocks(model: PLSModel, consistent: bool) -> np.ndarray:
    """Blocks PLSc treats as common factors: mode A with two or more items (bool, (J,))."""
    return np.array([consistent and b.mode == "A" and len(b.items) > 1 for b in model.blocks])


def _result(model, Z, W, L, C, beta, r2, f2, rho, S, scheme, consistent, its) -> PLSResult:
    names = list(model.constructs)
    pos = {c: j for j, c in enumerate(names)}
    n = len(Z)
    paths = pd.DataFrame([(t, "~", s, beta[pos[s], pos[t]], f2[pos[s], pos[t]])
                          for t, s in model.edges], columns=["lhs", "op", "rhs", "est", "f2"])
    k = {t: len(model.structure.predictors(t)) for t in model.structure.endogenous}
    r2t = pd.DataFrame([(t, r2[pos[t]], 1 - (1 - r2[pos[t]]) * (n - 1) / (n - k[t] - 1))
                        for t in model.structure.endogenous], columns=["construct", "r2", "adj_r2"])
    defs = effect_definitions(model.structure)
    coef = np.array([beta[pos[s], pos[t]] for t, s in model.edges])
    eff = evaluate_effects(defs, coef)
    effects = pd.DataFrame({"name": [d.name for d in defs], "effect": [d.effect for d in defs],
                            "source": [d.source for d in defs], "target": [d.target for d in defs],
                            "path": [" -> ".join(d.path) for d in defs], "est": eff})
    scores = pd.DataFrame(Z.to_numpy() @ W, index=Z.index, columns=names)
    items = list(model.items)
    return PLSResult(model, _outer_table(model, W, L), paths, r2t, effects,
                     pd.DataFrame(C, index=names, columns=names),
                     pd.DataFrame(S, index=items, columns=items), scores,
                     pd.Series(rho, index=names, name="rhoA"), n, scheme, consistent, its, True)
