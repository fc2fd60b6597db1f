"""Reliability of ordinal items: ordinal alpha and categorical omega.

* :func:`ordinal_alpha` -- standardized alpha of the polychoric matrix (Zumbo, Gadermann
  & Zeisser, 2007).
* :func:`categorical_omega` -- Green & Yang's (2009) omega for ordered categories, as
  ``semTools::compRelSEM`` computes it on a WLSMV CFA (delta parameterization).
* :func:`omega_from_fit` -- categorical omega of every factor of a
  :func:`adoption.sem.wlsmv.fit_ordinal` result.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from adoption.sem.polychoric import bvn_cdf

__all__ = ["ordinal_alpha", "categorical_omega", "omega_from_fit"]


def ordinal_alpha(correlation: np.ndarray) -> float:
    """Ordinal alpha: p / (p - 1) (1 - p / sum(R)) of a polychoric matrix R.

    Parameters
    ----------
    correlation : np.ndarray
        p x p polychoric correlation matrix of one scale's items.

    Returns
    -------
    float
    """
    r = np.asarray(correlation, float)
    p = r.shape[0]
    return float(p / (p - 1) * (1.0 - p / r.sum()))


def _phi2_sum(t1, t2, rho) -> float:
    """sum over threshold pairs of Phi2(t1_c, t2_c'; rho)."""
    if rho >= 1.0 - 1e-12:
        return float(special.ndtr(np.minimum.outer(t1, t2)).sum())
    return float(bvn_cdf(t1[:, None], t2[None, :], np.full((len(t1), len(t2)), rho)).sum())


def categorical_omega(loadings, factor_variance: float, thresholds, denominator) -> float:
    """Green & Yang's (2009) categorical omega of one factor, as semTools' ``omegaCat``.

    Parameters
    ----------
    loadings : array (p,)
        Loadings on the latent-response (delta) scale.
    factor_variance : float
    thresholds : list of arrays
        Each item's thresholds.
    denominator : np.ndarray
        p x p correlation matrix of the latent responses for the total variance
        (semTools' default ``obs.var = TRUE``: the polychoric matrix).

    Returns
    -------
    float

    Notes
    -----
    omega = sum_jj' sum_cc' [Phi2(t_jc, t_j'c'; T_jj') - Phi(t_jc) Phi(t_j'c')] /
    sum_jj' sum_cc' [Phi2(t_jc, t_j'c'; R_jj') - Phi(t_jc) Phi(t_j'c')], with
    T = lambda lambda' psi the true-score part.
    """
    lam = np.asarray(loadings, float)
    true = np.outer(lam, lam) * factor_variance
    num = den = 0.0
    for j, t1 in enumerate(thresholds):
        for jp, t2 in enumerate(thresholds):
            t1, t2 = np.asarray(t1, float), np.asarray(t2, float)
            marg = special.ndtr(t1).sum() * special.ndtr(t2).sum()
            num += _phi2_sum(t1, t2, true[j, jp]) - marg
            den += _phi2_sum(t1, t2, denominator[j, jp]) - marg
    return float(num / den)


def omega_from_fit(fit) -> dict[str, float]:
    """Categorical omega of every factor of a WLSMV/ULSMV fit (delta parameterization),
    over the items loading on it; the denominator is the polychoric matrix.

    Parameters
    ----------
    fit : adoption.sem.engine.ModelFit
        From :func:`adoption.sem.wlsmv.fit_ordinal`.

    Returns
    -------
    dict
        factor -> omega, for the factors whose items are all ordinal.
    """
    est = fit.estimates
    obs = list(fit.observed)
    out = {}
    for f in dict.fromkeys(est.loc[est["op"] == "=~", "lhs"]):
        rows = est[(est["op"] == "=~") & (est["lhs"] == f)]
        items = list(rows["rhs"])
        var = est[(est["op"] == "~~") & (est["lhs"] == f) & (est["rhs"] == f)]["est"].iloc[0]
        ths = [est[(est["op"] == "|") & (est["lhs"] == v)]["est"].to_numpy() for v in items]
        if any(len(t) == 0 for t in ths):  # a continuous item: omega for ordered items only
            continue
        idx = [obs.index(v) for v in items]
        out[f] = categorical_omega(rows["est"].to_numpy(), float(var), ths,
                                   fit.sample_cov[np.ix_(idx, idx)])
    return out
