"""Fit measures of a multi-group ordinal (WLSMV/ULSMV) fit, as lavaan 0.6-14.

Pure functions of the stacked statistics, weights, Jacobian and Gamma of
:func:`adoption.sem.wlsmv_groups.fit_ordinal_multigroup`; the indices themselves are the
project's (:mod:`adoption.sem.fitmeasures`), the scaled-shifted statistic and the catML
pieces those of the single-group fit (:mod:`adoption.sem.ordinal_fit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adoption.sem import fitmeasures as fm
from adoption.sem.ordinal_fit import (ORDINAL_FIT_MEASURES, catml_pieces, scaled_fit_measures,
                                      scaled_shifted_traces)

__all__ = ["ORDINAL_GROUP_FIT_MEASURES", "Sandwich", "sandwich", "multigroup_ordinal_fit_measures",
           "multigroup_catml_robust"]

#: The ``fitMeasures()`` names of a multi-group WLSMV/ULSMV fit: the single-group ones.
ORDINAL_GROUP_FIT_MEASURES = ORDINAL_FIT_MEASURES


@dataclass(frozen=True)
class Sandwich:
    """Products of a multi-group fit, computed group by group (Gamma is block diagonal).

    With M = W Delta (weights (N_g / N) W_g), Gamma = blockdiag(Gamma_g N / N_g) and
    D = diag(W): ``meat`` S = M' Gamma M, ``q`` = M' Gamma D Gamma M, ``tr_dg`` =
    tr(D Gamma), ``tr_dg2`` = tr[(D Gamma)^2].
    """

    meat: np.ndarray
    q: np.ndarray
    tr_dg: float
    tr_dg2: float


def sandwich(jac: np.ndarray, blocks) -> Sandwich:
    """:class:`Sandwich` of Delta ``jac`` and ``blocks``: per group (row slice, weights,
    Gamma block)."""
    k = jac.shape[1]
    meat, q = np.zeros((k, k)), np.zeros((k, k))
    tr_dg = tr_dg2 = 0.0
    for rows, w, gamma in blocks:
        cols = np.flatnonzero(np.any(jac[rows] != 0, axis=0))  # the group's parameters
        m = jac[rows][:, cols] * w[:, None]
        g = gamma @ m
        meat[np.ix_(cols, cols)] += m.T @ g
        q[np.ix_(cols, cols)] += g.T @ (w[:, None] * g)
        dg = w[:, None] * gamma
        tr_dg += float(np.trace(dg))
        tr_dg2 += float((dg * dg.T).sum())
    return Sandwich(meat, q, tr_dg, tr_dg2)


def multigroup_ordinal_fit_measures(s, sigma, sts, w_fit, w, bread, pieces: Sandwich,
                                    estimator):
    """lavaan ``fitMeasures()`` of a multi-group WLSMV/ULSMV fit.

    Parameters
    ----------
    s, sigma : stacked sample and implied statistics (each group: thresholds, then
        polychorics).
    sts : the groups' :class:`~adoption.sem.polychoric.OrdinalStatistics`.
    w_fit : the weights of the fitted discrepancy, (N_g - 1) / (N - G) W_g stacked.
    w : the information's weights, (N_g / N) W_g stacked.
    bread : (Delta' W Delta)^-1.
    pieces : :class:`Sandwich` of the fit.
    estimator : "WLSMV" or "ULSMV".

    Returns
    -------
    (dict, list)
        The measures of :data:`ORDINAL_GROUP_FIT_MEASURES`, and each group's SRMR.

    Notes
    -----
    chisq = sum_g (N_g - 1) (s_g - sigma_g)' W_g (s_g - sigma_g); the
    scaled-shifted statistic (:func:`adoption.sem.ordinal_fit.scaled_shifted_traces`) with
    U Gamma = D Gamma - M B M' Gamma of the stacked problem (B the bread):
    tr(U Gamma) = tr(D Gamma) - tr(B S), tr[(U Gamma)^2] = tr[(D Gamma)^2] - 2 tr(B Q)
    + tr(B S B S); baseline: thresholds free, polychorics 0 in every group; RMSEA
    sqrt(G) sqrt(max(chisq / (N df) - 1 / N, 0)) (lavaan's multi-group RMSEA, N - G);
    SRMR sum_g N_g SRMR_g / N with SRMR_g over the correlation residuals and p(p+1)/2
    elements; WRMR sqrt(chisq / k) with k the number of sample statistics of the first
    group (what lavaan 0.6-14 divides by).
    """
    nobs = np.array([st.nobs for st in sts], float)
    n, ng = (nobs - 1).sum(), len(sts)  # lavaan's N - G in the statistic and RMSEA
    npar = bread.shape[0]
    df = len(s) - npar
    resid = s - sigma
    chisq = n * float((resid ** 2 * w_fit).sum())
    bs = bread @ pieces.meat
    tr1 = pieces.tr_dg - float(np.trace(bs))
    tr2 = pieces.tr_dg2 - 2.0 * float((bread * pieces.q.T).sum()) + float((bs * bs.T).sum())
    chisq_s, c, shift = scaled_shifted_traces(chisq, df, tr1, tr2)
    cor = np.concatenate([np.r_[np.zeros(len(st.thresholds), bool),
                                np.ones(len(st.pair_i), bool)] for st in sts])
    chisq_b = n * float((s[cor] ** 2 * w_fit[cor]).sum())
    df_b = int(cor.sum())
    chisq_bs, c_b, _ = scaled_shifted_traces(chisq_b, df_b, *_baseline_traces(sts, w))
    srmr_g, start = [], 0
    for st in sts:
        k, p = len(st.vector), len(st.items)
        r = resid[start + len(st.thresholds):start + k]
        srmr_g.append(float(np.sqrt((r ** 2).sum() / (p * (p + 1) / 2))))
        start += k
    out = scaled_fit_measures(estimator, npar, chisq, df, (chisq_s, c, shift),
                              (chisq_b, df_b, chisq_bs, c_b), n,
                              srmr=fm.weighted_by_n(srmr_g, nobs),
                              wrmr=float(np.sqrt(chisq / len(sts[0].vector))), n_groups=ng)
    return {k: out.get(k, float("nan")) for k in ORDINAL_GROUP_FIT_MEASURES}, srmr_g


def _baseline_traces(sts, w) -> tuple[float, float]:
    """tr(U Gamma) and tr[(U Gamma)^2] of the baseline model (thresholds free,
    polychorics 0): U Gamma = W_c Gamma_cc, group by group."""
    nobs = np.array([st.nobs for st in sts], float)
    tr1 = tr2 = 0.0
    for st, f, wg in zip(sts, nobs / nobs.sum(), _split(w, sts)):
        nth = len(st.thresholds)
        ug = wg[nth:, None] * st.nacov[nth:, nth:] / f
        tr1 += float(np.trace(ug))
        tr2 += float((ug * ug.T).sum())
    return tr1, tr2


def _split(v, sts):
    edges = np.cumsum([0] + [len(st.vector) for st in sts])
    return [v[a:b] for a, b in zip(edges[:-1], edges[1:])]


def multigroup_catml_robust(sts, blocks, wg, df) -> dict:
    """Robust CFI/TLI/RMSEA of a multi-group ordinal fit by lavaan's catML route
    (Savalei, 2021; ``lav_fit_catml_dwls``), for fits without parameters shared across
    groups.

    Parameters
    ----------
    sts : the groups' OrdinalStatistics.
    blocks : per group (Delta of its statistics x its own parameters, implied correlation
        matrix of the latent responses).
    wg : per group the estimator's weights (1/diag(Gamma_g) or 1), not scaled by N_g.
    df : the fit's degrees of freedom.

    Returns
    -------
    dict
        cfi.robust, tli.robust, rmsea.robust; NaN when a polychoric matrix is not
        positive definite or df = 0.

    Notes
    -----
    Without constraints across groups the catML pieces add up
    (:func:`adoption.sem.ordinal_fit.catml_pieces`): X3 = sum_g X3_g (N_g),
    c = sum_g tr(M_g' V_g M_g Gamma_g) / df, X3_0 = sum_g X3_0,g and
    c_0 = sum_g tr(Gamma_g) N / N_g / df_0, then lavaan's robust CFI, TLI and the
    multi-group RMSEA with N - G. lavaan 0.6-14 gives NA when thresholds are held equal
    (its catML refit fails with free scaling factors and latent means); the caller
    leaves these out there.
    """
    nan = {"cfi.robust": float("nan"), "tli.robust": float("nan"),
           "rmsea.robust": float("nan")}
    if df <= 0:
        return nan
    nobs = np.array([st.nobs for st in sts], float)
    fg = nobs / nobs.sum()
    x3 = ks = x3_0 = kbs = 0.0
    for st, (j, implied), w, f in zip(sts, blocks, wg, fg):
        r = st.correlation.to_numpy()
        if np.linalg.eigvalsh(r).min() < np.sqrt(np.finfo(float).eps):
            return nan
        nth = len(st.thresholds)
        bread = np.linalg.inv((j.T * w) @ j)
        a, b, c, d = catml_pieces(r, implied, st.pair_i, st.pair_j, j[nth:], w[nth:], bread,
                                  st.nacov[nth:, nth:], st.nobs)
        x3, ks, x3_0, kbs = x3 + a, ks + b, x3_0 + c, kbs + d / f
    df0 = float(sum(len(st.pair_i) for st in sts))
    n = nobs.sum() - len(sts)
    return {"cfi.robust": fm.cfi_robust(x3, df, ks / df, x3_0, df0, kbs / df0),
            "tli.robust": fm.tli_robust(x3, df, ks / df, x3_0, df0, kbs / df0),
            "rmsea.robust": fm.rmsea(x3, df, n, ks / df, n_groups=len(sts))}
