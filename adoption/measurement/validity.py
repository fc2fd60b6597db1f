"""Validity: HTMT, Fornell-Larcker, KMO, Bartlett's sphericity, Harman's single factor.

Pure functions of correlation matrices (labelled DataFrames) or item responses. A
singular correlation matrix, an item without variance, a construct with fewer than two
items: the affected value is NaN and the result's ``warnings`` say why in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "HTMTResult", "htmt", "htmt_from_corr",
    "fornell_larcker",
    "KMOResult", "kmo",
    "BartlettResult", "bartlett_sphericity",
    "HarmanResult", "harman_single_factor",
    "correlation_matrix",
]


def correlation_matrix(items: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Pairwise Pearson correlations, as ``cor(x, use = "pairwise")``, with warnings.

    Returns
    -------
    (pandas.DataFrame, tuple of str)
        The labelled correlation matrix and warnings naming items with no variance (their
        rows and columns are NaN).
    """
    r = items.corr()
    const = [c for c in items.columns if not (items[c].nunique(dropna=True) > 1)]
    warns = ()
    if const:
        warns = (f"Item(s) {', '.join(map(str, const))} have no variance (one answer for "
                 "everyone); their correlations are not defined.",)
    return r, warns


# --------------------------------------------------------------------------- HTMT
@dataclass(frozen=True)
class HTMTResult:
    """Heterotrait-monotrait ratios.

    Attributes
    ----------
    matrix : pandas.DataFrame
        Construct x construct, 1 on the diagonal, symmetric.
    warnings : tuple of str
    """

    matrix: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())


def _mean(x: np.ndarray, geometric: bool) -> float:
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan")
    if geometric:
        if np.any(x < 0):
            return float("nan")
        with np.errstate(divide="ignore"):
            return float(np.exp(np.mean(np.log(x))))
    return float(np.mean(x))


def htmt_from_corr(corr: pd.DataFrame, constructs: dict[str, list[str]],
                   geometric: bool = True, absolute: bool = True) -> HTMTResult:
    """HTMT from an item correlation matrix, as ``semTools::htmt``.

    Parameters
    ----------
    corr : pandas.DataFrame
        Item correlation matrix labelled by item.
    constructs : dict
        Construct -> items.
    geometric : bool
        True for HTMT2 (geometric means; Roemer, Schuberth & Henseler 2021), the default of
        ``semTools::htmt(htmt2 = TRUE)`` in semTools 0.5-6; False for the original
        arithmetic-mean HTMT (Henseler, Ringle & Sarstedt 2015).
    absolute : bool
        Use absolute correlations (``semTools::htmt(absolute = TRUE)``, the default).

    Returns
    -------
    HTMTResult

    Notes
    -----
    :math:`HTMT_{ij} = \\bar r_{ij} / \\sqrt{\\bar r_{ii} \\bar r_{jj}}`, where
    :math:`\\bar r_{ij}` is the (geometric or arithmetic) mean of the correlations between
    items of i and items of j and :math:`\\bar r_{ii}` the mean of the off-diagonal
    correlations among the items of i. A one-item construct has no monotrait correlation:
    its ratios are NaN. A construct whose items barely correlate (mean below 0.1) gets a
    warning, since its ratios then divide by noise. Agrees with ``semTools::htmt(model, data)`` (semTools 0.5-6).

    Examples
    --------
    Two constructs whose items correlate .6 within and .3 across: .3 / sqrt(.6 x .6).

    >>> import pandas as pd
    >>> r = pd.DataFrame([[1, .6, .3, .3], [.6, 1, .3, .3], [.3, .3, 1, .6], [.3, .3, .6, 1]],
    ...                  index=list("abcd"), columns=list("abcd"))
    >>> htmt_from_corr(r, {"F": ["a", "b"], "G": ["c", "d"]}).matrix.round(4)
         F    G
    F  1.0  0.5
    G  0.5  1.0
    """
    warnings: list[str] = []
    r = corr.to_numpy(dtype=float).copy()
    if absolute:
        r = np.abs(r)
    elif geometric and np.nanmin(r) < 0:
        warnings.append("Some item correlations are negative; the geometric-mean HTMT of the "
                        "constructs involved is not defined (recode reverse-keyed items or "
                        "use absolute=True).")
    pos = {name: k for k, name in enumerate(corr.columns)}
    idx = {c: [pos[i] for i in its] for c, its in constructs.items()}
    names = list(constructs)
    mono = {}
    for c in names:
        its = constructs[c]
        if len(its) < 2:
            warnings.append(f"{c} has a single item, so its HTMT ratios are not defined.")
            mono[c] = float("nan")
            continue
        block = r[np.ix_(idx[c], idx[c])]
        mono[c] = _mean(block[np.triu_indices(len(its), 1)], geometric)
        if mono[c] < 0.1:
            warnings.append(f"The items of {c} barely correlate with each other (mean "
                            f"|r| = {mono[c]:.3f}); its HTMT ratios divide by a near-zero "
                            "number and are not meaningful.")
    out = np.eye(len(names))
    for a_i, a in enumerate(names):
        for b in names[a_i + 1:]:
            het = _mean(r[np.ix_(idx[a], idx[b])].ravel(), geometric)
            den = mono[a] * mono[b]
            v = het / np.sqrt(den) if den > 0 else float("nan")
            b_i = names.index(b)
            out[a_i, b_i] = out[b_i, a_i] = v
    if np.isnan(r).any():
        warnings.append("Some item correlations are not defined (an item without variance); "
                        "HTMT ratios involving them are computed from the remaining ones or NaN.")
    return HTMTResult(pd.DataFrame(out, index=names, columns=names),
                      tuple(dict.fromkeys(warnings)))


def htmt(items: pd.DataFrame, constructs: dict[str, list[str]], geometric: bool = True,
         absolute: bool = True) -> HTMTResult:
    """HTMT from item responses with listwise deletion, as ``semTools::htmt(model, data)``.

    See :func:`htmt_from_corr`; rows with any missing item are dropped first
    (``missing = "listwise"``, semTools' default).
    """
    cols = [i for its in constructs.values() for i in its]
    data = items[cols].dropna()
    return htmt_from_corr(data.corr(), constructs, geometric=geometric, absolute=absolute)


# --------------------------------------------------------------------------- Fornell-Larcker
def fornell_larcker(ave: pd.Series, factor_corr: pd.DataFrame) -> pd.DataFrame:
    """Fornell-Larcker table: square root of AVE against the factor correlations.

    Parameters
    ----------
    ave : pandas.Series
        AVE per construct (index: construct names).
    factor_corr : pandas.DataFrame
        Latent correlation matrix (e.g. lavaan ``std.all`` of the ``~~`` rows between
        factors), labelled by construct.

    Returns
    -------
    pandas.DataFrame
        One row per construct: ``construct``, ``sqrt_ave``, ``max_abs_corr`` (largest absolute
        correlation with another construct), ``max_corr_with`` (that construct), ``passes``
        (``sqrt_ave > max_abs_corr``), then one column per construct holding the matrix with
        :math:`\\sqrt{AVE}` on the diagonal and the correlations off it.

    Notes
    -----
    Fornell & Larcker (1981): discriminant validity when each construct's
    :math:`\\sqrt{AVE}` exceeds its correlations with every other construct. ``passes`` is
    False (not NaN) only when both numbers are defined; otherwise it is None.

    Examples
    --------
    >>> import pandas as pd
    >>> corr = pd.DataFrame([[1, .5], [.5, 1]], index=["F", "G"], columns=["F", "G"])
    >>> fornell_larcker(pd.Series({"F": .49, "G": .64}), corr)[["construct", "sqrt_ave", "passes"]]
      construct  sqrt_ave  passes
    0         F       0.7    True
    1         G       0.8    True
    """
    names = list(ave.index)
    fc = factor_corr.reindex(index=names, columns=names).astype(float)
    mat = fc.copy()
    rows = []
    for c in names:
        s = float(np.sqrt(ave[c])) if ave[c] >= 0 else float("nan")
        mat.loc[c, c] = s
        others = fc.loc[c].drop(c).abs()
        if others.notna().any():
            j = others.idxmax()
            m = float(others[j])
        else:
            j, m = None, float("nan")
        ok = None if (np.isnan(s) or np.isnan(m)) else bool(s > m)
        rows.append({"construct": c, "sqrt_ave": s, "max_abs_corr": m, "max_corr_with": j,
                     "passes": ok})
    tidy = pd.DataFrame(rows)
    return pd.concat([tidy.reset_index(drop=True), mat.reset_index(drop=True)], axis=1)


# --------------------------------------------------------------------------- KMO
@dataclass(frozen=True)
class KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy.

    Attributes
    ----------
    overall : float
        Overall MSA (``psych::KMO()$MSA``).
    items : pandas.DataFrame
        Columns ``item``, ``msa`` (``psych::KMO()$MSAi``).
    warnings : tuple of str
    """

    overall: float
    items: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())


def kmo(corr: pd.DataFrame) -> KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy, as ``psych::KMO``.

    Parameters
    ----------
    corr : pandas.DataFrame
        Item correlation matrix (e.g. ``items.corr()``, pairwise as ``psych::KMO`` does).

    Returns
    -------
    KMOResult

    Notes
    -----
    With :math:`Q = R^{-1}` and partial correlations
    :math:`q_{ij} = -Q_{ij}/\\sqrt{Q_{ii}Q_{jj}}`, summing over :math:`i \\ne j`:
    :math:`MSA = \\sum r_{ij}^2 / (\\sum r_{ij}^2 + \\sum q_{ij}^2)` and per item
    :math:`MSA_j = \\sum_i r_{ij}^2 / (\\sum_i r_{ij}^2 + \\sum_i q_{ij}^2)`
    (Kaiser 1970; Kaiser & Rice 1974). Agrees with ``psych::KMO(x)`` (psych 2.2.9). When R
    is singular or not positive definite, psych falls back to a smoothed or the original
    matrix; here the values are NaN with a warning instead. With two items KMO is 0.5 by
    construction (returned, with a warning).
    """
    names = list(corr.columns)
    r = corr.to_numpy(dtype=float)
    nan_items = pd.DataFrame({"item": names, "msa": np.nan})
    if not _positive_definite(r):
        return KMOResult(float("nan"), nan_items,
                         ("The item correlation matrix is singular or not positive definite "
                          "(an item without variance, duplicated or perfectly collinear items, "
                          "or pairwise missing data), so KMO is not defined.",))
    q = np.linalg.inv(r)
    d = 1 / np.sqrt(np.diag(q))
    partial = q * np.outer(d, d)
    np.fill_diagonal(partial, 0.0)
    r0 = r.copy()
    np.fill_diagonal(r0, 0.0)
    r2, q2 = r0**2, partial**2
    overall = float(r2.sum() / (r2.sum() + q2.sum()))
    per = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    warns = ()
    if len(names) == 2:
        warns = ("With 2 items KMO is 0.5 by construction and says nothing about sampling "
                 "adequacy.",)
    elif overall < 0.6:
        warns = (f"Overall KMO is {overall:.2f}, below 0.6: the items share too little "
                 "common variance for a factor analysis to be useful.",)
    return KMOResult(overall, pd.DataFrame({"item": names, "msa": per}), warns)


# --------------------------------------------------------------------------- Bartlett
@dataclass(frozen=True)
class BartlettResult:
    """Bartlett's test that the correlation matrix is an identity matrix.

    Attributes
    ----------
    chisq, df, pvalue : float
    warnings : tuple of str
    """

    chisq: float
    df: float
    pvalue: float
    warnings: tuple[str, ...] = field(default=())


def bartlett_sphericity(corr: pd.DataFrame | np.ndarray, n: int) -> BartlettResult:
    """Bartlett's (1951) test of sphericity, as ``psych::cortest.bartlett(R, n)``.

    Parameters
    ----------
    corr : DataFrame or (p, p) array
        Correlation matrix.
    n : int
        Number of respondents.

    Returns
    -------
    BartlettResult

    Notes
    -----
    :math:`\\chi^2 = -\\ln|R|\\,(n - 1 - (2p+5)/6)`, :math:`df = p(p-1)/2`, upper-tail p.
    Agrees with ``psych::cortest.bartlett``. A singular R (:math:`|R| \\le 0`) gives NaN with
    a warning (the statistic would be infinite).
    """
    r = np.asarray(corr, dtype=float)
    p = r.shape[0]
    df = p * (p - 1) / 2
    if not np.all(np.isfinite(r)):
        return BartlettResult(float("nan"), df, float("nan"),
                              ("The correlation matrix has undefined entries (an item without "
                               "variance), so Bartlett's test is not defined.",))
    sign, logdet = np.linalg.slogdet(r)
    if sign <= 0 or not _positive_definite(r):
        return BartlettResult(float("nan"), df, float("nan"),
                              ("The correlation matrix is singular or not positive definite, "
                               "so Bartlett's test is not defined.",))
    chisq = -logdet * (n - 1 - (2 * p + 5) / 6)
    return BartlettResult(float(chisq), df, float(stats.chi2.sf(chisq, df)))


# --------------------------------------------------------------------------- Harman
@dataclass(frozen=True)
class HarmanResult:
    """Harman's single-factor test for common-method variance.

    Attributes
    ----------
    share : float
        Share of the total variance of all items taken by the first unrotated factor.
    extraction : str
        ``"pca"`` or ``"minres"``.
    exceeds_half : bool or None
        ``share > 0.5``, the usual alarm threshold (Podsakoff et al. 2003).
    warnings : tuple of str
    """

    share: float
    extraction: str
    exceeds_half: bool | None
    warnings: tuple[str, ...] = field(default=())


def harman_single_factor(corr: pd.DataFrame | np.ndarray, extraction: str = "pca") -> HarmanResult:
    """Harman's single-factor test: variance share of the first unrotated factor.

    Parameters
    ----------
    corr : DataFrame or (p, p) array
        Correlation matrix of all substantive items.
    extraction : {"pca", "minres"}
        ``"pca"`` (default): first eigenvalue of R over p, the unrotated principal
        component, as most papers report it from SPSS. ``"minres"``: one-factor minres
        solution (``psych::fa(r, 1)``'s default fm), sum of squared loadings over p.

    Returns
    -------
    HarmanResult

    Notes
    -----
    :math:`share = \\lambda_1(R)/p` for ``"pca"``; :math:`\\sum_j \\ell_j^2 / p` for
    ``"minres"`` (``psych::fa(r, nfactors = 1, rotate = "none")$Vaccounted[2, 1]``).
    The test is a weak diagnostic; report the one-factor CFA comparison too.
    """
    r = np.asarray(corr, dtype=float)
    p = r.shape[0]
    if not np.all(np.isfinite(r)):
        return HarmanResult(float("nan"), extraction, None,
                            ("The correlation matrix has undefined entries; Harman's test is "
                             "not computed.",))
    if extraction == "pca":
        share = float(np.linalg.eigvalsh(r)[-1] / p)
    elif extraction == "minres":
        from adoption.measurement.efa import _factor_analyzer
        fa = _factor_analyzer()(n_factors=1, rotation=None, method="minres", is_corr_matrix=True)
        fa.fit(r)
        share = float(np.sum(fa.loadings_**2) / p)
    else:
        raise ValueError(f"extraction must be 'pca' or 'minres', not {extraction!r}")
    return HarmanResult(share, extraction, bool(share > 0.5))


def _positive_definite(m: np.ndarray, tol: float = 1e-10) -> bool:
    if not np.all(np.isfinite(m)):
        return False
    ev = np.linalg.eigvalsh((m + m.T) / 2)
    return bool(ev[-1] > 0 and ev[0] > tol * ev[-1])
