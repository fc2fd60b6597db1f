"""Overall fit of a PLS model: SRMR, dULS and dG of the saturated and the estimated model.

The model-implied indicator correlations (Dijkstra & Henseler, 2015; Henseler, 2021, ch. 9;
cSEM ``fit()``, ADANCO "Goodness of model fit"):

* within a block: the empirical correlations for a composite; ``l l'`` (with 1 on the
  diagonal) for a common factor (PLSc), ``l`` its consistent loadings, also in the
  estimated model, where the implied variance of an endogenous factor may differ from 1
  (ADANCO does the same);
* between blocks i and j: ``l_i c_ij l_j'`` with ``l`` the loadings (for a composite
  ``S_ii w_i``) and ``c_ij`` the construct correlation: observed in the *saturated*
  model, implied by the path coefficients in the *estimated* model.

SRMR is :func:`adoption.sem.fitmeasures.srmr_bentler` of the correlation matrices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adoption.pls.estimate import PLSResult, corrected_blocks
from adoption.sem.fitmeasures import srmr_bentler

__all__ = ["implied_construct_correlations", "implied_correlations", "d_uls", "d_g", "pls_fit"]


def implied_construct_correlations(C: np.ndarray, beta: np.ndarray, endogenous: np.ndarray) -> np.ndarray:
    """Construct correlations implied by a recursive structural model.

    Parameters
    ----------
    C : ndarray, shape (J, J)
        Construct correlations (their exogenous block is kept).
    beta : ndarray, shape (J, J)
        Path coefficients, ``beta[source, target]``.
    endogenous : ndarray of bool, shape (J,)

    Returns
    -------
    ndarray, shape (J, J)
        ``(I - B)^-1 Psi (I - B)^-T`` with ``B = beta'``, ``Psi`` the exogenous
        correlations and, for endogenous constructs, the disturbance variances ``1 - R2``
        (uncorrelated disturbances).
    """
    J = C.shape[0]
    Bm = beta.T
    r2 = np.einsum("ij,ij->j", beta, C)
    psi = np.zeros((J, J))
    exo = ~endogenous
    psi[np.ix_(exo, exo)] = C[np.ix_(exo, exo)]
    psi[endogenous, endogenous] = 1 - r2[endogenous]
    inv = np.linalg.inv(np.eye(J) - Bm)
    return inv @ psi @ inv.T


def implied_correlations(result: PLSResult, saturated: bool = True) -> pd.DataFrame:
    """Model-implied indicator correlations (item x item) of a PLS fit.

    See the module docstring; ``saturated=False`` gives the estimated model.
    """
    model = result.model
    items = list(model.items)
    S = result.item_cor.loc[items, items].to_numpy()
    names = list(model.constructs)
    C = result.construct_cor.loc[names, names].to_numpy()
    if not saturated:
        beta = result.matrix("est", table="paths").fillna(0.0).to_numpy()
        endo = np.array([c in model.structure.endogenous for c in names])
        C = implied_construct_correlations(C, beta, endo)
    L = result.matrix("loading").loc[items, names].to_numpy()
    sigma = L @ C @ L.T
    common = corrected_blocks(model, result.consistent)
    pos = {i: k for k, i in enumerate(items)}
    for j, b in enumerate(model.blocks):
        idx = np.array([pos[i] for i in b.items])
        if common[j]:
            lam = L[idx, j]
            sigma[np.ix_(idx, idx)] = np.outer(lam, lam)
        else:
            sigma[np.ix_(idx, idx)] = S[np.ix_(idx, idx)]
    np.fill_diagonal(sigma, 1.0)
    return pd.DataFrame(sigma, index=items, columns=items)


def d_uls(S: np.ndarray, sigma: np.ndarray) -> float:
    """Unweighted least-squares discrepancy ``0.5 * sum((S - Sigma)^2)`` (Dijkstra & Henseler, 2015)."""
    return float(0.5 * np.sum((np.asarray(S) - np.asarray(sigma)) ** 2))


def d_g(S: np.ndarray, sigma: np.ndarray, log_base: float = np.e) -> float:
    """Geodesic discrepancy ``0.5 * sum(log(eig(S^-1 Sigma))^2)`` (Dijkstra & Henseler, 2015).

    ``log_base=10`` reproduces ADANCO 2.2.1 (and cSEM), whose dG uses base-10 logarithms
    (checked: 0.860047 for the ECSI composite model, natural logs give 4.5599).
    """
    ev = np.linalg.eigvals(np.linalg.solve(np.asarray(S), np.asarray(sigma))).real
    return float(0.5 * np.sum((np.log(ev) / np.log(log_base)) ** 2))


def pls_fit(result: PLSResult, dg_log_base: float = np.e) -> pd.DataFrame:
    """SRMR, dULS and dG of the saturated and the estimated model.

    ``dg_log_base``: see :func:`d_g` (10 as ADANCO).

    Returns
    -------
    DataFrame
        Index ``srmr, dULS, dG``; columns ``saturated, estimated``. ADANCO 2.2.1's
        "Goodness of model fit" sheets (checked in tests/test_pls_adanco.py).
    """
    S = result.item_cor.loc[list(result.model.items), list(result.model.items)].to_numpy()
    out = {}
    for name, sat in (("saturated", True), ("estimated", False)):
        sig = implied_correlations(result, sat).to_numpy()
        out[name] = {"srmr": srmr_bentler(S, sig), "dULS": d_uls(S, sig), "dG": d_g(S, sig, dg_log_base)}
    return pd.DataFrame(out)
