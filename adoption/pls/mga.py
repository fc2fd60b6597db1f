"""Group comparisons of a PLS model: MICOM (steps 2 and 3) and the permutation MGA test.

Every permutation reassigns the group labels at random and estimates the model in both
pseudo-groups; all permutations are one batched PLS fit of a stack of correlation
matrices (:func:`adoption.pls.algorithm.fit`).

* MICOM step 2, compositional invariance (Henseler, Ringle & Sarstedt, 2016): ``c`` is
  the correlation between the composite scores of the pooled (standardised) data built
  with group 1's weights and with group 2's; invariance holds when ``c`` is not below
  the 5% quantile of its permutation distribution.
* MICOM step 3: differences between the groups in the mean and the log variance of the
  composite scores built with the pooled weights, against their permutation intervals.
* MGA (Chin & Dibbern, 2010): the difference of each path between the groups, with the
  permutation p value ``(1 + #{|d*| >= |d|}) / (1 + P)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.pls import algorithm as alg
from adoption.pls.estimate import check_data, corrected_blocks
from adoption.pls.model import PLSModel
from adoption.pls.predict import subset_moments
from adoption.vocabulary import DEFAULT_SEED

__all__ = ["PLSGroupComparison", "compare_groups"]


@dataclass(frozen=True)
class PLSGroupComparison:
    """Result of :func:`compare_groups`.

    Attributes
    ----------
    micom : DataFrame
        One row per construct: ``construct, c, c_q05, compositional_invariance,
        mean_diff, mean_lower, mean_upper, mean_pvalue, logvar_diff, logvar_lower,
        logvar_upper, logvar_pvalue``.
    paths : DataFrame
        ``lhs, rhs, est_1, est_2, diff, pvalue``.
    permutations, seed, groups : the design; ``groups`` the two labels.
    """

    micom: pd.DataFrame
    paths: pd.DataFrame
    permutations: int
    seed: int | None
    groups: tuple


def _fits(X: np.ndarray, masks: np.ndarray, lay, corrected, scheme):
    mean, cov = subset_moments(X, masks)
    sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    f = alg.fit(cov / (sd[:, :, None] * sd[:, None, :]), lay, corrected, scheme)
    if not f.converged.all():
        raise InputError("PLS group comparison: the model did not converge in a group; "
                         "the groups may be too small.")
    return f


def _statistics(Z, R, g1, f1, f2, fp, lay):
    """c per construct, mean and log-variance differences, path differences."""
    num = np.einsum("kpj,pq,kqj->kj", f1.W, R, f2.W)
    den = np.sqrt(np.einsum("kpj,pq,kqj->kj", f1.W, R, f1.W) * np.einsum("kpj,pq,kqj->kj", f2.W, R, f2.W))
    c = num / den
    S = np.einsum("np,pj->nj", Z, fp.W[0])                   # pooled-weight scores
    G = g1.astype(float)
    k1, k2 = G.sum(1), (1 - G).sum(1)
    m1, m2 = G @ S / k1[:, None], (1 - G) @ S / k2[:, None]
    v1 = (G @ S ** 2 - k1[:, None] * m1 ** 2) / (k1 - 1)[:, None]
    v2 = ((1 - G) @ S ** 2 - k2[:, None] * m2 ** 2) / (k2 - 1)[:, None]
    return c, m1 - m2, np.log(v1) - np.log(v2), f1.beta - f2.beta


def compare_groups(data: pd.DataFrame, model: PLSModel, group: pd.Series, permutations: int = 1000,
                   seed: int | None = DEFAULT_SEED, scheme: str = "path",
                   consistent: bool = False) -> PLSGroupComparison:
    """MICOM steps 2-3 and the permutation test of path differences between two groups.

    Parameters
    ----------
    data : DataFrame
        Item responses (complete).
    model : PLSModel
    group : Series
        Group of each row (two distinct values), aligned with ``data``.
    permutations : int
        Random relabellings (seeded).
    """
    X = check_data(data, model).to_numpy(dtype=float)
    labels = tuple(pd.unique(group.dropna()))
    if len(labels) != 2 or group.isna().any():
        raise InputError("PLS group comparison: the grouping column must have exactly two "
                         f"groups and no missing value (found {len(labels)} groups).")
    g = (group.to_numpy() == labels[0])
    n = len(g)
    rng = np.random.default_rng(seed)
    perm = np.stack([g, *(g[rng.permutation(n)] for _ in range(permutations))])   # row 0: observed
    lay, corr = alg.layout(model), corrected_blocks(model, consistent)
    f1 = _fits(X, perm, lay, corr, scheme)
    f2 = _fits(X, ~perm, lay, corr, scheme)
    fp = _fits(X, np.ones((1, n), dtype=bool), lay, corr, scheme)
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    R = np.corrcoef(Z.T)
    c, dm, dv, db = _statistics(Z, R, perm, f1, f2, fp, lay)
    names = model.constructs
    q = lambda a: np.quantile(a[1:], [0.025, 0.975], axis=0)       # noqa: E731
    pv = lambda a: (1 + (np.abs(a[1:]) >= np.abs(a[0]) - 1e-12).sum(0)) / (1 + permutations)  # noqa: E731
    (ml, mu), (vl, vu) = q(dm), q(dv)
    micom = pd.DataFrame({"construct": names, "c": c[0], "c_q05": np.quantile(c[1:], 0.05, axis=0),
                          "mean_diff": dm[0], "mean_lower": ml, "mean_upper": mu, "mean_pvalue": pv(dm),
                          "logvar_diff": dv[0], "logvar_lower": vl, "logvar_upper": vu,
                          "logvar_pvalue": pv(dv)})
    micom.insert(3, "compositional_invariance", micom.c >= micom.c_q05)
    pos = {c_: j for j, c_ in enumerate(names)}
    rows = [(t, s, f1.beta[0, pos[s], pos[t]], f2.beta[0, pos[s], pos[t]], db[0, pos[s], pos[t]],
             pv(db[:, pos[s], pos[t]])) for t, s in model.edges]
    paths = pd.DataFrame(rows, columns=["lhs", "rhs", "est_1", "est_2", "diff", "pvalue"])
    return PLSGroupComparison(micom, paths, permutations, seed, labels)
