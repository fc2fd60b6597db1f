"""The result of a latent interaction model, whichever method estimated it.

:class:`LatentInteraction` is what :func:`adoption.sem.product_indicators.fit_dmc` (double
mean-centred product indicators, Lin et al. 2010) and :func:`adoption.sem.lms.fit_lms`
(latent moderated structural equations, Klein & Moosbrugger 2000) return: the structural
rows ``Y ~ X``, ``Y ~ Z``, ``Y ~ X:Z`` in lavaan's ``parameterEstimates()`` columns, the
full parameter table, the log-likelihood, the method's name and the assumptions it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from adoption.jsonable import to_jsonable
from adoption.vocabulary import OP_REGRESSION

#: Column names of the interaction rows (lavaan's ``parameterEstimates()`` without std.all).
INTERACTION_COLUMNS = ("lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper")

METHOD_DMC = "product indicators, double-mean-centred"
METHOD_LMS = "LMS"

ASSUMPTIONS = {
    METHOD_DMC: ("Product indicators are products of the mean-centred first-order "
                 "indicators, centred again (double-mean-centring, Lin et al. 2010); the "
                 "model is fitted by normal-theory ML although products of normal "
                 "variables are not normal, so the estimates are consistent but the "
                 "standard errors and chi-square are approximate."),
    METHOD_LMS: ("The exogenous latent variables (the focal predictor and the moderator) "
                 "and all residuals are normally distributed; the non-normality of the "
                 "outcome's indicators comes only from the latent product (Klein & "
                 "Moosbrugger 2000). Standard errors from the observed information."),
}


@dataclass(frozen=True)
class LatentInteraction:
    """A fitted latent interaction ``outcome ~ focal + moderator + focal:moderator``.

    Attributes
    ----------
    method : str
        :data:`METHOD_DMC` or :data:`METHOD_LMS`.
    assumptions : str
        The method's assumptions in plain language (:data:`ASSUMPTIONS`).
    outcome, focal, moderator : str
        Latent variable names; the product term is written ``focal:moderator``.
    interaction : pd.DataFrame
        The three structural rows, columns :data:`INTERACTION_COLUMNS` (Wald z, normal
        p-value and 95% interval).
    estimates : pd.DataFrame
        Every parameter (lhs, op, rhs, est, se, z, pvalue, ci.lower, ci.upper).
    fit : dict
        lavaan ``fitMeasures()`` names -> float: every measure the engine gives for DMC;
        ``npar``, ``logl``, ``aic``, ``bic`` for LMS. DMC's ``logl`` is that of the normal
        model of the product indicators, not comparable with LMS's.
    nobs : int
    converged : bool
    warnings : tuple of str
    details : tuple of (str, str)
        Method settings (pairing, quadrature nodes, ...), as name/value pairs.
    """

    method: str
    assumptions: str
    outcome: str
    focal: str
    moderator: str
    interaction: pd.DataFrame
    estimates: pd.DataFrame
    fit: dict
    nobs: int
    converged: bool
    warnings: tuple = ()
    details: tuple = ()


def wald_columns(est: np.ndarray, se: np.ndarray) -> dict:
    """Wald z, two-sided normal p-value and 95% interval of estimates.

    Parameters
    ----------
    est, se : np.ndarray
        Estimates and standard errors, same shape.

    Returns
    -------
    dict
        ``z``, ``pvalue``, ``ci.lower``, ``ci.upper`` arrays.

    Notes
    -----
    z = est / se, p = 2 (1 - Phi(|z|)), CI = est -/+ z_{.975} se, as lavaan's
    ``parameterEstimates()``.
    """
    est = np.asarray(est, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    q = stats.norm.ppf(0.975)
    return {"z": z, "pvalue": 2 * stats.norm.sf(np.abs(z)),
            "ci.lower": est - q * se, "ci.upper": est + q * se}


def interaction_rows(estimates: pd.DataFrame, outcome: str, focal: str, moderator: str,
                     product: str) -> pd.DataFrame:
    """The rows ``outcome ~ focal``, ``~ moderator``, ``~ focal:moderator`` of a table.

    ``product`` is the name the product term has in ``estimates``; it is written
    ``focal:moderator`` in the result, lavaan's notation for an interaction.
    """
    reg = estimates[(estimates["lhs"] == outcome) & (estimates["op"] == OP_REGRESSION)]
    rows = []
    for rhs, shown in ((focal, focal), (moderator, moderator),
                       (product, f"{focal}:{moderator}")):
        row = reg[reg["rhs"] == rhs].iloc[0]
        rows.append({c: row[c] for c in INTERACTION_COLUMNS} | {"rhs": shown})
    return pd.DataFrame(rows, columns=list(INTERACTION_COLUMNS))


def interaction_dict(res: LatentInteraction) -> dict:
    """A :class:`LatentInteraction` as plain JSON values (for ``results.json``)."""
    return to_jsonable({
        "method": res.method, "assumptions": res.assumptions, "outcome": res.outcome,
        "focal": res.focal, "moderator": res.moderator,
        "term": f"{res.focal}:{res.moderator}", "interaction": res.interaction,
        "estimates": res.estimates, "fit": res.fit, "nobs": res.nobs,
        "converged": res.converged, "warnings": list(res.warnings),
        "details": dict(res.details)})
