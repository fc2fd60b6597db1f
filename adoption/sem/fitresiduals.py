"""Fit measures from the residuals (RMR, SRMR, CRMR) and the GFI family, as lavaan's
``fitMeasures()`` computes them: one pure function each (the rest of the indices are in
:mod:`adoption.sem.fitmeasures`, which also offers these under its own name).

S and Sigma are the sample and model-implied covariance matrices (S with divisor N),
and ``mean``, ``implied_mean`` the sample and implied means when the model has a mean
structure. With observed exogenous predictors (lavaan's ``fixed.x = TRUE``), ``x_idx``
lists their positions in S.

References
----------
lavaan 0.6-14, ``lav_fit_srmr.R``, ``lav_fit_gfi.R``; Bollen, K. A. (1989).
*Structural equations with latent variables*. Wiley.
"""

from __future__ import annotations

import math

import numpy as np

from adoption.sem.robust import vech_index

__all__ = ["rmr", "srmr_bentler", "crmr", "srmr_mplus", "residual_measures",
           "weighted_by_n", "gfi", "n_moments", "agfi", "pgfi"]


def _rms(terms: np.ndarray, count: int) -> float:
    return float(math.sqrt(np.sum(np.asarray(terms) ** 2) / count))


def rmr(s: np.ndarray, sigma: np.ndarray, mean: np.ndarray | None = None,
        implied_mean: np.ndarray | None = None) -> float:
    """Root mean square residual (lavaan ``rmr``; ``lavResiduals(type = "raw")``):
    sqrt(sum_{i<=j} (s_ij - sigma_ij)^2 / (p(p+1)/2)).

    With a mean structure (``mean``, ``implied_mean``: lavaan's ``rmr`` when the model
    has one, e.g. under FIML or with groups) the mean residuals m_i - mu_i join:
    p(p+1)/2 + p terms. Without them this is ``rmr_nomean``.

    Examples
    --------
    >>> import numpy as np
    >>> s, sigma = np.array([[1, .5], [.5, 1]]), np.array([[1, .4], [.4, 1]])
    >>> round(rmr(s, sigma), 6)  # sqrt(0.1^2 / 3)
    0.057735
    """
    terms = (s - sigma)[vech_index(s.shape[0])]
    if mean is not None:
        terms = np.concatenate([terms, np.asarray(mean) - np.asarray(implied_mean)])
    return _rms(terms, terms.size)


def srmr_bentler(s: np.ndarray, sigma: np.ndarray, mean: np.ndarray | None = None,
                 implied_mean: np.ndarray | None = None) -> float:
    """Standardised root mean square residual, lavaan's default (Bentler) version
    (``srmr`` = ``srmr_bentler``; ``lavResiduals(type = "cor.bentler")``):
    sqrt(mean_{i<=j} [(s_ij - sigma_ij) / sqrt(s_ii s_jj)]^2).

    With a mean structure (``mean``, ``implied_mean`` given; lavaan under
    ``missing = "ml"``, where S and the means are the EM estimates) the standardised mean
    residuals (m_i - mu_i) / sqrt(s_ii) join the average: p(p+1)/2 + p terms. Without
    them this is ``srmr_bentler_nomean``. (lavaan leaves residual entries under 1e-5 in
    absolute value unscaled; not copied here: the effect is below 1e-5 per term.)

    Examples
    --------
    >>> import numpy as np
    >>> s, sigma = np.array([[4, 1], [1, 1]]), np.array([[4, .8], [.8, 1]])
    >>> round(srmr_bentler(s, sigma), 6)  # sqrt((0.2 / 2)^2 / 3)
    0.057735
    """
    d = np.sqrt(np.diag(s))
    terms = ((s - sigma) / np.outer(d, d))[vech_index(s.shape[0])]
    if mean is not None:
        terms = np.concatenate([terms, (np.asarray(mean) - np.asarray(implied_mean)) / d])
    return _rms(terms, terms.size)


def crmr(s: np.ndarray, sigma: np.ndarray, mean: np.ndarray | None = None,
         implied_mean: np.ndarray | None = None) -> float:
    """Correlation root mean square residual (Bollen, 1989; lavaan ``crmr``,
    ``lavResiduals(type = "cor.bollen")``): the residuals of the correlations,
    r = cor(S) - cor(Sigma), averaged over the p(p-1)/2 off-diagonal elements:
    sqrt(sum_{i<j} r_ij^2 / (p(p-1)/2)).

    With a mean structure the mean residuals (m_i - mu_i) / sqrt(s_ii) join (lavaan
    scales both means by the sample standard deviation here, unlike
    :func:`srmr_mplus`): sqrt([sum_{i<j} r_ij^2 + sum_i r_i^2] / (p(p+1)/2)). Without
    them this is ``crmr_nomean``.

    Examples
    --------
    >>> import numpy as np
    >>> s, sigma = np.array([[1, .5], [.5, 1]]), np.array([[1, .4], [.4, 1]])
    >>> round(crmr(s, sigma), 6)  # one correlation residual, 0.1
    0.1
    """
    p = s.shape[0]
    ds, dm = np.sqrt(np.diag(s)), np.sqrt(np.diag(sigma))
    r = s / np.outer(ds, ds) - sigma / np.outer(dm, dm)
    terms = r[np.tril_indices(p, -1)]
    if mean is not None:
        terms = np.concatenate([terms, (np.asarray(mean) - np.asarray(implied_mean)) / ds])
    return _rms(terms, terms.size)


def srmr_mplus(s: np.ndarray, sigma: np.ndarray, mean: np.ndarray | None = None,
               implied_mean: np.ndarray | None = None) -> float:
    """SRMR as Mplus defines it (lavaan ``srmr_mplus``, ``lav_fit_srmr_mplus``): the
    correlation residuals off the diagonal, plus the variances as relative residuals:
    sqrt([sum_{i<j} (cor(S) - cor(Sigma))_ij^2 + sum_i ((s_ii - sigma_ii)/s_ii)^2]
    / (p(p+1)/2)).

    With a mean structure, the mean residuals m_i / sqrt(s_ii) - mu_i / sqrt(sigma_ii)
    are added and the count is p(p+1)/2 + p. Without them: ``srmr_mplus_nomean``.

    Examples
    --------
    >>> import numpy as np
    >>> s, sigma = np.array([[1, .5], [.5, 1]]), np.array([[1, .4], [.4, 1]])
    >>> round(srmr_mplus(s, sigma), 6)  # sqrt(0.1^2 / 3): no variance residuals
    0.057735
    """
    p = s.shape[0]
    ds, dm = np.sqrt(np.diag(s)), np.sqrt(np.diag(sigma))
    r = s / np.outer(ds, ds) - sigma / np.outer(dm, dm)
    terms = [r[np.tril_indices(p, -1)], (np.diag(s) - np.diag(sigma)) / np.diag(s)]
    count = p * (p + 1) // 2
    if mean is not None:
        terms.append(np.asarray(mean) / ds - np.asarray(implied_mean) / dm)
        count += p
    return _rms(np.concatenate(terms), count)


def residual_measures(s: np.ndarray, sigma: np.ndarray, mean: np.ndarray | None = None,
                      implied_mean: np.ndarray | None = None) -> dict:
    """lavaan's residual-based fit measures of one group, by name: ``rmr``,
    ``rmr_nomean``, ``srmr_bentler``, ``srmr_bentler_nomean``, ``crmr``,
    ``crmr_nomean``, ``srmr_mplus``, ``srmr_mplus_nomean``.

    Without a mean structure (``mean`` None) each index equals its ``_nomean`` version,
    as in lavaan. Several groups: :func:`weighted_by_n` of each name.

    Examples
    --------
    >>> import numpy as np
    >>> s, sigma = np.array([[1, .5], [.5, 1]]), np.array([[1, .4], [.4, 1]])
    >>> round(residual_measures(s, sigma)["crmr_nomean"], 6)
    0.1
    """
    out = {}
    for name, f in (("rmr", rmr), ("srmr_bentler", srmr_bentler), ("crmr", crmr),
                    ("srmr_mplus", srmr_mplus)):
        out[name] = f(s, sigma, mean, implied_mean)
        out[name + "_nomean"] = f(s, sigma) if mean is not None else out[name]
    return out


def weighted_by_n(values, nobs) -> float:
    """Average of per-group values weighted by the group sizes, sum_g N_g v_g / N (how
    lavaan combines the groups' SRMR, RMR, CRMR and GFI).

    Examples
    --------
    >>> round(weighted_by_n([0.05, 0.08], [100, 300]), 6)
    0.0725
    """
    w = np.asarray(nobs, dtype=float)
    return float(np.sum(w * np.asarray(values, dtype=float)) / w.sum())


def gfi(s: np.ndarray, sigma: np.ndarray, w: np.ndarray | None = None, x_idx=(),
        mean: np.ndarray | None = None, implied_mean: np.ndarray | None = None) -> float:
    """Goodness-of-fit index, lavaan's generalised form GFI = 1 - e'We / s'Ws with
    e = vech(S - Sigma), s = vech(S), W = 1/2 D'(Sigma^-1 (x) Sigma^-1) D; rows and
    columns of W belonging to the fixed-x block are zeroed.

    Under ML without fixed x this equals 1 - tr[(Sigma^-1 S - I)^2] / tr[(Sigma^-1 S)^2].
    Without ``w`` (the p* x p* matrix) the quadratic forms are computed as
    vech(A)' W vech(A) = 1/2 tr(Sigma^-1 A Sigma^-1 A) on the matrices with the fixed-x
    block zeroed (same value, no p* x p* matrix). With a mean structure (``mean``,
    ``implied_mean``; lavaan's multi-group models) the vectors are (m, vech S) and
    (m - mu, vech(S - Sigma)) and W = diag(Sigma^-1, 1/2 D'(Sigma^-1 (x) Sigma^-1) D), the
    fixed-x means weighted 0 (lavaan ``lav_fit_gfi`` with ``WLS.V`` the expected h1
    information at the fitted moments); then ``w`` must be None.

    Examples
    --------
    >>> import numpy as np
    >>> s, sigma = np.array([[1, .5], [.5, 1]]), np.array([[1, .4], [.4, 1]])
    >>> round(gfi(s, sigma), 6)  # 1 - tr[(Sigma^-1 S - I)^2] / tr[(Sigma^-1 S)^2]
    0.982154
    """
    if w is None:
        si = np.linalg.inv(sigma)
        e_m, s_m = s - sigma, s.copy()
        x_idx = list(x_idx)
        if x_idx:
            e_m[np.ix_(x_idx, x_idx)] = 0.0
            s_m[np.ix_(x_idx, x_idx)] = 0.0
        q = lambda a: 0.5 * float(np.sum((si @ a) * (si @ a).T))  # noqa: E731
        num, den = q(e_m), q(s_m)
        if mean is not None:
            e_mu, m = np.asarray(mean) - np.asarray(implied_mean), np.array(mean, dtype=float)
            e_mu[x_idx] = 0.0
            m[x_idx] = 0.0
            num += float(e_mu @ si @ e_mu)
            den += float(m @ si @ m)
        return float(1.0 - num / den)
    r, c = vech_index(s.shape[0])
    e = s[r, c] - sigma[r, c]
    sv = s[r, c]
    w = w.copy()
    x_idx = set(x_idx)
    if x_idx:
        mask = np.array([(i in x_idx) and (j in x_idx) for i, j in zip(r, c)])
        w[mask, :] = 0.0
        w[:, mask] = 0.0
    return float(1.0 - (e @ w @ e) / (sv @ w @ sv))


def n_moments(p: int, meanstructure: bool = False, n_groups: int = 1) -> int:
    """Number of sample statistics lavaan counts for AGFI and PGFI (the length of its
    ``WLS.obs``): G [p(p+1)/2 (+ p with a mean structure)].

    Examples
    --------
    >>> n_moments(9), n_moments(9, meanstructure=True, n_groups=2)
    (45, 108)
    """
    return n_groups * (p * (p + 1) // 2 + (p if meanstructure else 0))


def agfi(gfi_value: float, nel: int, df: float) -> float:
    """Adjusted GFI (lavaan ``lav_fit_agfi``) = 1 - (nel / df)(1 - GFI), nel from
    :func:`n_moments`; 1 when df = 0, NaN when GFI is NaN.

    Examples
    --------
    >>> round(agfi(0.943, 45, 24), 4)  # lavaan's HS CFA: gfi 0.943, agfi 0.893
    0.8931
    """
    if not math.isfinite(gfi_value):
        return float("nan")
    if df <= 0:
        return 1.0
    return float(1.0 - nel / df * (1.0 - gfi_value))


def pgfi(gfi_value: float, nel: int, df: float) -> float:
    """Parsimony GFI (Mulaik et al., 1989; lavaan ``lav_fit_pgfi``) = (df / nel) GFI,
    nel from :func:`n_moments`; NaN when GFI is NaN or nel = 0.

    Examples
    --------
    >>> round(pgfi(0.943, 45, 24), 4)  # lavaan's HS CFA: pgfi 0.503
    0.5029
    """
    if not math.isfinite(gfi_value) or nel == 0:
        return float("nan")
    return float(df / nel * gfi_value)
