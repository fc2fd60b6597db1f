"""Reliability: Cronbach's alpha, item statistics, and CFA-based omega, CR and AVE.

Pure functions. The alpha family works on item responses (as ``psych::alpha``); omega,
composite reliability and AVE take CFA estimates (loadings, residual variances, factor
variance) and, where semTools uses them, the observed covariance matrix of the indicators.

Problems never raise and never return a silently wrong number: the result carries NaN and
a plain-language sentence in its ``warnings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "AlphaResult",
    "cronbach_alpha",
    "alpha_from_cov",
    "standardized_alpha",
    "item_total_statistics",
    "omega_comprelsem",
    "composite_reliability",
    "average_variance_extracted",
    "cfa_reliability",
]


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha of one scale.

    Attributes
    ----------
    alpha : float
        Raw alpha (``psych::alpha()$total$raw_alpha``).
    ci_lower, ci_upper : float
        Feldt 95% confidence interval (as ``pingouin.cronbach_alpha``).
    alpha_std : float
        Standardised alpha (``psych::alpha()$total$std.alpha``).
    n_items : int
    n : int
        Respondents with at least one answer to the scale (pairwise deletion).
    warnings : tuple of str
        Why a value is NaN or should be read with care; empty when all is well.
    """

    alpha: float
    ci_lower: float
    ci_upper: float
    alpha_std: float
    n_items: int
    n: int
    warnings: tuple[str, ...] = field(default=())


def alpha_from_cov(cov: np.ndarray) -> float:
    """Cronbach's alpha from an item covariance matrix.

    Parameters
    ----------
    cov : (k, k) array
        Item covariance (or correlation) matrix.

    Returns
    -------
    float
        :math:`\\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\operatorname{tr} C}{\\mathbf 1' C \\mathbf 1}\\right)`;
        NaN when k < 2 or the total variance is not positive.

    Notes
    -----
    Agrees with ``psych::alpha(x)$total$raw_alpha`` (which uses the pairwise covariance
    matrix); given a correlation matrix it is the standardised alpha.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[1, .5, .5], [.5, 1, .5], [.5, .5, 1]])
    >>> round(alpha_from_cov(c), 6)  # 3/2 (1 - 3/6)
    0.75
    """
    c = np.asarray(cov, dtype=float)
    k = c.shape[0]
    total = c.sum()
    if k < 2 or not np.isfinite(total) or total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - np.trace(c) / total))


def standardized_alpha(corr: np.ndarray) -> float:
    """Standardised alpha from a correlation matrix.

    Notes
    -----
    :math:`\\alpha_{std} = k\\bar r / (1 + (k-1)\\bar r)`, :math:`\\bar r` the mean
    off-diagonal correlation; equals :func:`alpha_from_cov` of the correlation matrix.
    Agrees with ``psych::alpha(x)$total$std.alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([[1, .5, .5], [.5, 1, .5], [.5, .5, 1]])
    >>> round(standardized_alpha(r), 6)  # 3 (.5) / (1 + 2 (.5))
    0.75
    """
    return alpha_from_cov(corr)


def cronbach_alpha(items: pd.DataFrame, confidence: float = 0.95) -> AlphaResult:
    """Cronbach's alpha with its Feldt confidence interval and standardised alpha.

    Parameters
    ----------
    items : pandas.DataFrame
        One column per item of the scale; NaN for missing answers (pairwise deletion, as
        ``psych::alpha`` and ``pingouin.cronbach_alpha``).
    confidence : float
        Level of the interval.

    Returns
    -------
    AlphaResult

    Notes
    -----
    Alpha as :func:`alpha_from_cov` of the pairwise covariance matrix
    (``psych::alpha(x)$total$raw_alpha``). Interval (Feldt 1965, as
    ``pingouin.cronbach_alpha``): with :math:`df_1 = n - 1`, :math:`df_2 = (n-1)(k-1)`,
    :math:`[1 - (1-\\alpha) F_{1-a/2}(df_1, df_2),\\; 1 - (1-\\alpha) F_{a/2}(df_1, df_2)]`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 4], "c": [1, 3, 3, 4, 5]})
    >>> round(cronbach_alpha(df).alpha, 4)
    0.9451
    """
    warnings: list[str] = []
    k = items.shape[1]
    n = int(items.notna().any(axis=1).sum())
    nan = float("nan")
    if k < 2:
        return AlphaResult(nan, nan, nan, nan, k, n,
                           ("Alpha needs at least 2 items; this scale has %d." % k,))
    if n < 3:
        return AlphaResult(nan, nan, nan, nan, k, n,
                           ("Alpha needs at least 3 respondents; there are %d." % n,))
    cov = items.cov().to_numpy()
    if np.isnan(cov).any():
        warnings.append("Some item pairs have no respondent in common or an item has no "
                        "variance, so alpha is not defined.")
        return AlphaResult(nan, nan, nan, nan, k, n, tuple(warnings))
    sd = np.sqrt(np.diag(cov))
    if np.any(sd == 0):
        warnings.append("An item has zero variance (everyone gave the same answer); "
                        "standardised alpha is not defined.")
        a_std = nan
    else:
        a_std = standardized_alpha(cov / np.outer(sd, sd))
    a = alpha_from_cov(cov)
    if np.isnan(a):
        warnings.append("The items' total variance is zero, so alpha is not defined.")
        return AlphaResult(nan, nan, nan, a_std, k, n, tuple(warnings))
    if a < 0:
        warnings.append("Alpha is negative: the items correlate negatively on average "
                        "(is a reverse-keyed item not recoded?).")
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - confidence) / 2
    lo = 1 - (1 - a) * stats.f.isf(tail, df1, df2)
    hi = 1 - (1 - a) * stats.f.ppf(tail, df1, df2)
    if k == 2:
        warnings.append("The scale has only 2 items: alpha rests on a single covariance "
                        "(standardised alpha equals the Spearman-Brown coefficient) and "
                        "alpha-if-deleted is not defined.")
    return AlphaResult(a, float(lo), float(hi), a_std, k, n, tuple(warnings))


def item_total_statistics(items: pd.DataFrame) -> pd.DataFrame:
    """Corrected item-total correlation and alpha if item deleted, as ``psych::alpha``.

    Parameters
    ----------
    items : pandas.DataFrame
        One column per item; pairwise deletion for missing answers.

    Returns
    -------
    pandas.DataFrame
        One row per item, columns ``item``, ``r_drop`` (correlation of the item with the sum
        of the other items, ``psych::alpha()$item.stats$r.drop``), ``alpha_if_deleted``
        (raw alpha of the other items, ``psych::alpha()$alpha.drop$raw_alpha``). NaN where
        undefined (a 2-item scale has no alpha-if-deleted; an item with no variance has no
        correlation).

    Notes
    -----
    From the pairwise covariance matrix :math:`C`:
    :math:`r_{drop,i} = \\sum_{j\\ne i} C_{ij} / \\sqrt{C_{ii} \\sum_{j,l \\ne i} C_{jl}}`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 4], "c": [1, 3, 3, 4, 5]})
    >>> item_total_statistics(df).round(4)
      item  r_drop  alpha_if_deleted
    0    a  0.9701            0.8529
    1    b  0.8092            0.9783
    2    c  0.8990            0.9091
    """
    cov = items.cov().to_numpy()
    cols = list(items.columns)
    rows = []
    for i, col in enumerate(cols):
        rest = [j for j in range(len(cols)) if j != i]
        c_rest = cov[np.ix_(rest, rest)]
        denom = cov[i, i] * c_rest.sum()
        r = cov[i, rest].sum() / np.sqrt(denom) if denom > 0 else np.nan
        a = alpha_from_cov(c_rest) if len(rest) >= 2 else np.nan
        rows.append({"item": col, "r_drop": float(r), "alpha_if_deleted": a})
    return pd.DataFrame(rows, columns=["item", "r_drop", "alpha_if_deleted"])


def omega_comprelsem(loadings: np.ndarray, factor_variance: float, observed_cov: np.ndarray) -> float:
    """Omega of a congeneric factor as ``semTools::compRelSEM`` computes it by default.

    Parameters
    ----------
    loadings : (k,) array
        Unstandardised loadings :math:`\\lambda` of the factor's indicators.
    factor_variance : float
        Estimated factor variance :math:`\\psi` (1 when the factor is standardised).
    observed_cov : (k, k) array
        Sample covariance matrix of the indicators with denominator N, as lavaan's
        ``lavInspect(fit, "sampstat")$cov`` (listwise complete cases under ML).

    Returns
    -------
    float
        :math:`\\omega = (\\sum \\lambda_i)^2 \\psi \\,/\\, \\mathbf 1' S \\mathbf 1`.

    Notes
    -----
    semTools 0.5-6 ``compRelSEM(fit)`` defaults to ``obs.var = TRUE``: the denominator is
    the *observed* total-score variance (sum of the sample covariance matrix), not the
    model-implied one (Bentler 1972/2009; McDonald 1999, eq. 6.20b with the observed
    denominator). Checked against ``compRelSEM`` on the project's reference data to 1e-8.
    Use :func:`composite_reliability` for the model-implied version.

    Examples
    --------
    One factor with standardised loadings .8, .7, .6 and a covariance matrix it
    reproduces exactly: omega = 2.1^2 / (2.1^2 + 1.51).

    >>> import numpy as np
    >>> lam = np.array([.8, .7, .6])
    >>> s = np.outer(lam, lam) + np.diag(1 - lam**2)
    >>> round(omega_comprelsem(lam, 1.0, s), 4)
    0.7449
    """
    lam = np.asarray(loadings, dtype=float)
    total = float(np.asarray(observed_cov, dtype=float).sum())
    if total <= 0 or not np.isfinite(total):
        return float("nan")
    return float(lam.sum() ** 2 * factor_variance / total)


def composite_reliability(loadings: np.ndarray, residual_variances: np.ndarray,
                          factor_variance: float = 1.0) -> float:
    """Composite reliability (CR, Raykov's rho / model-implied omega).

    Parameters
    ----------
    loadings : (k,) array
        Loadings :math:`\\lambda`. Completely standardised loadings (lavaan ``std.all``) with
        ``factor_variance = 1`` and residual variances :math:`1-\\lambda^2` give the usual
        Fornell-Larcker CR.
    residual_variances : (k,) array
        Residual (unique) variances :math:`\\theta_i`.
    factor_variance : float
        :math:`\\psi`.

    Returns
    -------
    float
        :math:`CR = (\\sum\\lambda_i)^2\\psi / ((\\sum\\lambda_i)^2\\psi + \\sum\\theta_i)`.

    Notes
    -----
    From unstandardised estimates it agrees with ``semTools::compRelSEM(fit, obs.var =
    FALSE)`` for a CFA without residual covariances (Raykov 1997); from ``std.all``
    estimates it is the CR of Fornell & Larcker (1981) reported in most applied papers. It
    does not depend on how the factor is scaled, but it does depend on the item scales:
    standardising rescales each item differently, so the two versions differ slightly.

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.array([.8, .7, .6])
    >>> round(composite_reliability(lam, 1 - lam**2), 4)  # 2.1^2 / (2.1^2 + 1.51)
    0.7449
    """
    lam = np.asarray(loadings, dtype=float)
    num = lam.sum() ** 2 * factor_variance
    den = num + float(np.sum(residual_variances))
    if den <= 0 or not np.isfinite(den):
        return float("nan")
    return float(num / den)


def average_variance_extracted(loadings: np.ndarray, factor_variance: float,
                               observed_variances: np.ndarray) -> float:
    """Average variance extracted (AVE) as ``semTools::AVE`` computes it by default.

    Parameters
    ----------
    loadings : (k,) array
        Unstandardised loadings :math:`\\lambda`.
    factor_variance : float
        :math:`\\psi`.
    observed_variances : (k,) array
        Sample variances of the indicators, denominator N (diagonal of lavaan's
        ``sampstat`` covariance).

    Returns
    -------
    float
        :math:`AVE = \\sum \\lambda_i^2 \\psi / \\sum s_{ii}`.

    Notes
    -----
    semTools 0.5-6 ``AVE(fit)`` defaults to ``obs.var = TRUE`` (observed variances in the
    denominator). With the model-implied variances :math:`\\lambda_i^2\\psi + \\theta_i`
    instead, and standardised loadings, it is the Fornell-Larcker mean of squared
    standardised loadings; for ML CFA the two differ by about 1e-6 because ML reproduces
    the observed variances almost exactly.

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.array([.8, .7, .6])
    >>> round(average_variance_extracted(lam, 1.0, np.ones(3)), 4)  # (.64 + .49 + .36) / 3
    0.4967
    """
    lam = np.asarray(loadings, dtype=float)
    den = float(np.sum(observed_variances))
    if den <= 0 or not np.isfinite(den):
        return float("nan")
    return float(np.sum(lam**2) * factor_variance / den)


def factor_variance(estimates: pd.DataFrame, factor: str) -> float:
    """The model-implied variance of a factor: its own ``~~`` estimate, plus, for a factor
    measured by second-order factors (``H =~ factor``), :math:`\\sum_H \\lambda_{H}^2
    \\operatorname{Var}(H)` (its own estimate is then the disturbance variance).

    Assumes the second-order factors of one factor are uncorrelated with each other or
    single, as a spec's ``higher_order`` writes them. ``semTools::compRelSEM`` and
    ``semTools::AVE`` use this total variance (``lavInspect(fit, "cov.lv")``).

    Examples
    --------
    >>> import pandas as pd
    >>> est = pd.DataFrame({"lhs": ["F", "G", "G"], "op": ["~~", "~~", "=~"],
    ...                     "rhs": ["F", "G", "F"], "est": [0.64, 2.0, 0.5]})
    >>> round(factor_variance(est, "F"), 6)  # G =~ F: 0.64 + 0.5^2 Var(G)
    1.14
    """
    est = estimates
    own = est[(est["op"] == "~~") & (est["lhs"] == factor) & (est["rhs"] == factor)]["est"]
    total = float(own.iloc[0]) if len(own) else float("nan")
    for _, r in est[(est["op"] == "=~") & (est["rhs"] == factor)].iterrows():
        total += float(r["est"]) ** 2 * factor_variance(est, r["lhs"])
    return total


def cfa_reliability(estimates: pd.DataFrame, constructs: dict[str, list[str]],
                    observed_cov: pd.DataFrame) -> pd.DataFrame:
    """Omega, CR and AVE of every construct from a lavaan-style parameter table.

    Parameters
    ----------
    estimates : pandas.DataFrame
        ``parameterEstimates()``-style table with at least ``lhs, op, rhs, est``: loadings
        (``=~``), residual variances and factor variances (``~~``).
    constructs : dict
        Construct name -> its items.
    observed_cov : pandas.DataFrame
        Sample covariance (denominator N) of the items the CFA was fitted on, labelled by item.

    Returns
    -------
    pandas.DataFrame
        One row per construct: ``construct``, ``n_items``, ``omega`` (:func:`omega_comprelsem`
        on unstandardised estimates, = ``semTools::compRelSEM``), ``cr``
        (:func:`composite_reliability` on the ``std.all`` loadings and residual variances,
        the Fornell-Larcker CR; on unstandardised estimates if ``std.all`` is absent),
        ``ave`` (:func:`average_variance_extracted`, = ``semTools::AVE``), ``warning``
        (empty string or why a value is NaN).

    Notes
    -----
    Assumes each item loads on one factor; the factor variance is
    :func:`factor_variance` (the total variance of a first-order factor under a
    second-order one). Agrees with ``semTools::compRelSEM(fit)`` and
    ``semTools::AVE(fit)`` (semTools 0.5-6).

    Examples
    --------
    The factor's loadings 1, .875, .75 with variance .64 are the standardised
    loadings .8, .7, .6:

    >>> import numpy as np, pandas as pd
    >>> est = pd.DataFrame({"lhs": ["F", "F", "F", "F", "a", "b", "c"],
    ...                     "op": ["=~", "=~", "=~", "~~", "~~", "~~", "~~"],
    ...                     "rhs": ["a", "b", "c", "F", "a", "b", "c"],
    ...                     "est": [1.0, .875, .75, .64, .36, .51, .64]})
    >>> lam = np.array([.8, .7, .6])
    >>> s = pd.DataFrame(np.outer(lam, lam) + np.diag(1 - lam**2), index=list("abc"),
    ...                  columns=list("abc"))
    >>> cfa_reliability(est, {"F": ["a", "b", "c"]}, s)[["omega", "cr", "ave"]].round(4)
        omega      cr     ave
    0  0.7449  0.7449  0.4967
    """
    est = estimates
    rows = []
    for c, its in constructs.items():
        load = est[(est["lhs"] == c) & (est["op"] == "=~")].set_index("rhs")["est"]
        var = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])].set_index("lhs")["est"]
        missing = [i for i in its if i not in load.index or i not in var.index
                   or i not in observed_cov.index]
        warn = ""
        if c not in var.index or missing:
            warn = (f"The CFA estimates lack {', '.join(missing) or 'the factor variance'} "
                    f"for {c}; omega, CR and AVE are not computed.")
            rows.append({"construct": c, "n_items": len(its), "omega": np.nan,
                         "cr": np.nan, "ave": np.nan, "warning": warn})
            continue
        lam = load.loc[its].to_numpy(float)
        th = var.loc[its].to_numpy(float)
        psi = factor_variance(est, c)
        s = observed_cov.loc[its, its].to_numpy(float)
        if np.any(th < 0) or psi < 0:
            warn = (f"The CFA of {c} has a negative variance (Heywood case); omega, CR and "
                    "AVE are not interpretable.")
        elif len(its) == 2:
            warn = (f"{c} has {len(its)} items: its one-factor model is not identified on its "
                    "own, so omega, CR and AVE rest on the other factors and are fragile.")
        if "std.all" in est.columns:
            std_l = est[(est["lhs"] == c) & (est["op"] == "=~")].set_index("rhs")["std.all"]
            std_t = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])].set_index("lhs")["std.all"]
            cr = composite_reliability(std_l.loc[its].to_numpy(float),
                                       std_t.loc[its].to_numpy(float), 1.0)
        else:
            cr = composite_reliability(lam, th, psi)
        rows.append({"construct": c, "n_items": len(its),
                     "omega": omega_comprelsem(lam, psi, s),
                     "cr": cr,
                     "ave": average_variance_extracted(lam, psi, np.diag(s)),
                     "warning": warn})
    return pd.DataFrame(rows, columns=["construct", "n_items", "omega", "cr", "ave", "warning"])
