"""Measurement and structural quality of a PLS model, as Hair et al.'s primer reports it.

Reliability (indicator reliability, Cronbach's alpha, rhoC, rhoA, AVE), discriminant
validity (Fornell-Larcker, cross-loadings, HTMT) and collinearity (outer VIF of the items
of a block, inner VIF of the antecedents of a construct, and Kock's full-collinearity VIF).
The formulas reuse the project's reliability functions
(:mod:`adoption.measurement.reliability`) and Fornell-Larcker table
(:mod:`adoption.measurement.validity`); :func:`htmt_stack` is the arithmetic HTMT of
``htmt_from_corr`` for a stack of correlation matrices (the bootstrap needs it batched),
with seminr's convention for single-item constructs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adoption.measurement.reliability import (
    alpha_from_cov,
    average_variance_extracted,
    composite_reliability,
)
from adoption.measurement.validity import fornell_larcker
from adoption.pls.estimate import PLSResult

__all__ = ["FULL_VIF_CUTOFF", "reliability", "htmt", "htmt_stack", "fornell_larcker_table",
           "cross_loadings", "vif_items", "vif_antecedents", "full_collinearity_vif",
           "vif_from_corr"]

#: Kock's (2015) threshold of the full-collinearity VIF for common-method bias.
FULL_VIF_CUTOFF: float = 3.3


def vif_from_corr(R: np.ndarray) -> np.ndarray:
    """Variance inflation factors ``diag(R^-1)`` of a correlation matrix.

    Notes
    -----
    ``VIF_j = 1 / (1 - R2_j)``, R2_j of variable j regressed on the others; the diagonal of
    the inverse correlation matrix (seminr ``vif``/``car::vif`` for one regression). A
    single variable has VIF 1. Raises ``LinAlgError`` for a singular ``R``.
    """
    R = np.atleast_2d(np.asarray(R, dtype=float))
    return np.diag(np.linalg.inv(R)).copy()


def reliability(result: PLSResult) -> pd.DataFrame:
    """Cronbach's alpha, rhoC, AVE and rhoA of every construct (seminr ``reliability``).

    Returns
    -------
    DataFrame
        Columns ``construct, alpha, rhoC, AVE, rhoA``.

    Notes
    -----
    alpha is standardised (from the item correlations, seminr standardises the data);
    ``rhoC = (sum l)^2 / ((sum l)^2 + sum(1 - l^2))`` and ``AVE = mean(l^2)`` from the
    loadings ``l`` (the consistent ones under PLSc); rhoA from
    :func:`adoption.pls.algorithm.rho_a`. A single-item construct has 1 for each.
    """
    rows = []
    for b in result.model.blocks:
        lam = result.outer.loc[result.outer.construct == b.name, "loading"].to_numpy()
        if len(b.items) == 1:
            rows.append((b.name, 1.0, 1.0, 1.0, 1.0))
            continue
        R = result.item_cor.loc[list(b.items), list(b.items)].to_numpy()
        rows.append((b.name, alpha_from_cov(R), composite_reliability(lam, 1 - lam ** 2),
                     average_variance_extracted(lam, 1.0, np.ones(len(lam))),
                     float(result.rho_a[b.name])))
    return pd.DataFrame(rows, columns=["construct", "alpha", "rhoC", "AVE", "rhoA"])


def htmt(result: PLSResult) -> pd.DataFrame:
    """Heterotrait-monotrait ratios (Henseler et al., 2015), construct x construct.

    The original arithmetic-mean HTMT of absolute item correlations, as seminr's ``HTMT``,
    including seminr's convention for a single-item construct: its monotrait mean is 1
    (:func:`adoption.measurement.validity.htmt_from_corr` leaves such pairs NaN).
    """
    names = list(result.model.constructs)
    items = list(result.model.items)
    pos = {i: k for k, i in enumerate(items)}
    blocks = tuple(np.array([pos[i] for i in b.items]) for b in result.model.blocks)
    S = result.item_cor.loc[items, items].to_numpy()[None]
    return pd.DataFrame(htmt_stack(S, blocks)[0], index=names, columns=names)


def htmt_stack(S: np.ndarray, blocks: tuple[np.ndarray, ...]) -> np.ndarray:
    """HTMT of every pair of constructs for a stack of item correlation matrices.

    Parameters
    ----------
    S : ndarray, shape (B, p, p)
    blocks : tuple of ndarray
        Item indices of each construct.

    Returns
    -------
    ndarray, shape (B, J, J)
        As :func:`adoption.measurement.validity.htmt_from_corr` with ``geometric=False``
        for each matrix (1 on the diagonal), except that a single-item construct has
        monotrait mean 1, as in seminr.
    """
    A = np.abs(S)
    B, J = S.shape[0], len(blocks)
    mono = np.ones((B, J))
    for j, b in enumerate(blocks):
        if b.size > 1:
            iu = np.triu_indices(b.size, 1)
            mono[:, j] = A[:, b[:, None], b[None, :]][:, iu[0], iu[1]].mean(axis=1)
    out = np.ones((B, J, J))
    for i in range(J):
        for j in range(i + 1, J):
            het = A[:, blocks[i][:, None], blocks[j][None, :]].mean(axis=(1, 2))
            with np.errstate(invalid="ignore", divide="ignore"):
                out[:, i, j] = out[:, j, i] = het / np.sqrt(mono[:, i] * mono[:, j])
    return out


def fornell_larcker_table(result: PLSResult) -> pd.DataFrame:
    """Fornell-Larcker criterion: sqrt(AVE) against the construct correlations.

    See :func:`adoption.measurement.validity.fornell_larcker` for the columns. The
    correlations are those of the construct scores, not disattenuated under PLSc (as
    seminr's ``fl_criteria``), while the AVE comes from the consistent loadings.
    """
    ave = reliability(result).set_index("construct")["AVE"]
    return fornell_larcker(ave, result.scores.corr())


def cross_loadings(result: PLSResult) -> pd.DataFrame:
    """Correlations of every item with every construct score (item x construct)."""
    Z = result.item_cor.columns
    S = result.item_cor.to_numpy()
    W = result.matrix("weight").reindex(index=Z).to_numpy()
    return pd.DataFrame(S @ W, index=Z, columns=list(result.model.constructs))


def vif_items(result: PLSResult) -> pd.DataFrame:
    """Outer VIF: each item regressed on the other items of its block.

    Returns
    -------
    DataFrame
        Columns ``construct, item, vif`` (1 for a single-item block).
    """
    rows = []
    for b in result.model.blocks:
        v = vif_from_corr(result.item_cor.loc[list(b.items), list(b.items)].to_numpy())
        rows += [(b.name, i, x) for i, x in zip(b.items, v)]
    return pd.DataFrame(rows, columns=["construct", "item", "vif"])


def vif_antecedents(result: PLSResult) -> pd.DataFrame:
    """Inner VIF: each predictor of a construct regressed on its other predictors.

    Returns
    -------
    DataFrame
        Columns ``lhs, rhs, vif`` (the construct, the antecedent); 1 when the construct
        has a single antecedent (seminr prints NA there). From the correlations of the
        construct scores, not disattenuated under PLSc (as seminr's ``vif_antecedents``).
    """
    cor = result.scores.corr()
    rows = []
    for t in result.model.structure.endogenous:
        p = list(result.model.structure.predictors(t))
        v = vif_from_corr(cor.loc[p, p].to_numpy())
        rows += [(t, s, x) for s, x in zip(p, v)]
    return pd.DataFrame(rows, columns=["lhs", "rhs", "vif"])


def full_collinearity_vif(scores: pd.DataFrame, cutoff: float = FULL_VIF_CUTOFF) -> pd.DataFrame:
    """Kock's (2015) full-collinearity VIF of construct scores (common-method bias).

    Parameters
    ----------
    scores : DataFrame
        One column per construct (PLS construct scores, composites, factor scores).
    cutoff : float
        Flag VIFs above this (Kock: 3.3).

    Returns
    -------
    DataFrame
        Columns ``construct, vif, flagged``: ``vif`` of each construct regressed on all
        the others (``diag(R^-1)`` of the score correlations), ``flagged = vif > cutoff``.

    Notes
    -----
    Kock, N. (2015). Common method bias in PLS-SEM: a full collinearity assessment
    approach. International Journal of e-Collaboration, 11(4), 1-10.
    """
    R = np.corrcoef(scores.to_numpy(dtype=float).T)
    v = vif_from_corr(R)
    return pd.DataFrame({"construct": list(scores.columns), "vif": v, "flagged": v > cutoff})
