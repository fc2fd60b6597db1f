"""Information matrices, sandwich standard errors and scaled test statistics.

Pure functions of numpy arrays, for normal-theory ML on a covariance structure
Sigma(theta) without a mean structure (means saturated at the sample means), with
``N`` divisors throughout as in lavaan. ``Delta`` is always the Jacobian
d vech(Sigma) / d theta' (rows: the p* = p(p+1)/2 elements of vech, in
:func:`vech_index` order; columns: free parameters).

References
----------
Satorra, A., & Bentler, P. M. (1994). Corrections to test statistics and standard
errors in covariance structure analysis. In *Latent variables analysis*, 399-419.
Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and
covariance structure analysis with nonnormal missing data. *Sociological Methodology*,
30, 165-200.
lavaan 0.6-14 source: ``lav_model_information.R``, ``lav_mvnorm.R``,
``lav_test_satorra_bentler.R``, ``lav_test_yuan_bentler.R``.
"""

from __future__ import annotations

import functools

import numpy as np


def vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the lower triangle, column by column (lavaan's vech)."""
    rows, cols = _vech_index(p)
    return rows.copy(), cols.copy()


@functools.lru_cache(maxsize=64)
def _vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = [], []
    for j in range(p):
        for i in range(j, p):
            rows.append(i)
            cols.append(j)
    return np.array(rows), np.array(cols)


def vech(m: np.ndarray) -> np.ndarray:
    """Stack the lower triangle of a symmetric matrix column by column."""
    r, c = vech_index(m.shape[0])
    return m[r, c]


def duplication_matrix(p: int) -> np.ndarray:
    """D with vec(A) = D vech(A) for symmetric A (p^2 x p*)."""
    r, c = vech_index(p)
    d = np.zeros((p * p, len(r)))
    for k, (i, j) in enumerate(zip(r, c)):
        d[i * p + j, k] = 1.0
        d[j * p + i, k] = 1.0
    return d


def _vech_weights(p: int) -> np.ndarray:
    r, c = vech_index(p)
    return np.where(r == c, 0.5, 1.0)


def dkd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """D'(A (x) B) D for symmetric A, B, without forming the p^2 x p^2 Kronecker product.

    Entry ((i,j),(k,l)) = f_ij f_kl (A_ik B_jl + A_il B_jk + A_jk B_il + A_jl B_ik) with
    f = 1/2 on the diagonal (i = j) and 1 off it.
    """
    p = a.shape[0]
    r, c = vech_index(p)
    f = _vech_weights(p)
    out = (a[np.ix_(r, r)] * b[np.ix_(c, c)] + a[np.ix_(r, c)] * b[np.ix_(c, r)]
           + a[np.ix_(c, r)] * b[np.ix_(r, c)] + a[np.ix_(c, c)] * b[np.ix_(r, r)])
    return out * np.outer(f, f)


def ml_weight(sigma: np.ndarray) -> np.ndarray:
    """Normal-theory weight W = 1/2 D'(Sigma^-1 (x) Sigma^-1) D (p* x p*).

    This is the expected (Fisher) information of vech(Sigma) for one observation, i.e.
    lavaan's ``lav_mvnorm_information_expected`` (sigma block).
    """
    si = np.linalg.inv(sigma)
    return 0.5 * dkd(si, si)


def ml_weight_times(sigma_inv: np.ndarray, a: np.ndarray) -> np.ndarray:
    """W vech(A) = 1/2 D' vec(Sigma^-1 A Sigma^-1), computed without W."""
    m = sigma_inv @ a @ sigma_inv
    return vech(m) * _vech_weights(a.shape[0])


def ml_weight_times_delta(sigma_inv: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """W Delta column by column, W = 1/2 D'(Sigma^-1 (x) Sigma^-1) D, without forming W
    (k products of p x p matrices instead of a p* x p* matrix)."""
    p = sigma_inv.shape[0]
    r, c = vech_index(p)
    m = np.zeros((delta.shape[1], p, p))
    m[:, r, c] = delta.T
    m[:, c, r] = delta.T
    t = sigma_inv @ m @ sigma_inv
    return (t[:, r, c] * _vech_weights(p)).T


def h1_observed_information(sigma: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Observed information of vech(Sigma) for one observation, evaluated at ``sigma``
    with sample covariance ``s`` (means at the sample means).

    Hessian of 1/2 [log|Sigma| + tr(S Sigma^-1)] w.r.t. vech(Sigma):
    D' [ (Sigma^-1 S Sigma^-1) (x) Sigma^-1 - 1/2 Sigma^-1 (x) Sigma^-1 ] D, symmetrised
    (lavaan ``lav_mvnorm_information_observed_samplestats``).
    """
    si = np.linalg.inv(sigma)
    ssi = si @ s @ si
    return 0.5 * (dkd(ssi, si) + dkd(si, ssi)) - 0.5 * dkd(si, si)


def casewise_h1_scores(x: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Case-wise scores of vech(Sigma), d logl_i / d vech(Sigma) (N x p*), with the data
    centred at the sample means: 1/2 D' vec(Sigma^-1 (d_i d_i' - Sigma) Sigma^-1)."""
    n, p = x.shape
    si = np.linalg.inv(sigma)
    dc = x - x.mean(axis=0)
    z = dc @ si  # rows: Sigma^-1 d_i
    r, c = vech_index(p)
    outer = z[:, r] * z[:, c]  # (Sigma^-1 d d' Sigma^-1)_rc
    m = outer - si[r, c]
    # derivative w.r.t. a vech element counts off-diagonal elements twice, times 1/2
    weight = np.where(r == c, 0.5, 1.0)
    return m * weight


def gamma_adf(x: np.ndarray, x_idx=()) -> np.ndarray:
    """Asymptotic covariance of vech(S) from fourth moments, N divisor (Browne, 1984).

    Gamma = 1/N sum_i (z_i - zbar)(z_i - zbar)', z_i = vech((x_i - xbar)(x_i - xbar)').
    With fixed x (``x_idx`` non-empty), z_i is replaced by z_i - zhat_i where zhat_i is
    the same product of the centred values predicted from x (OLS of each non-x variable
    on the x with an intercept; the x columns are kept), so the x-block carries no
    sampling variability. Same as ``lavaan:::lav_samplestats_Gamma`` (unbiased = FALSE,
    fixed.x = TRUE/FALSE, model.based = FALSE).
    """
    n, p = x.shape
    r, c = vech_index(p)
    dc = x - x.mean(axis=0)
    z = dc[:, r] * dc[:, c]
    hc = fixed_x_fitted(x, x_idx)
    if hc is not None:
        z = z - hc[:, r] * hc[:, c]
    z = z - z.mean(axis=0)
    return z.T @ z / n


def fixed_x_fitted(x: np.ndarray, x_idx=()) -> np.ndarray | None:
    """The part of the centred data predicted from the fixed x, or None without x.

    Parameters
    ----------
    x : ndarray of shape (n, p)
        Complete rows.
    x_idx : sequence of int
        Columns of the fixed (observed exogenous) predictors.

    Returns
    -------
    ndarray of shape (n, p) or None
        yhat - mean(yhat), where yhat keeps the x columns and replaces every other column
        by its OLS prediction from the x with an intercept; None when ``x_idx`` is empty.
        Subtracting its products removes the x-block's sampling variability from Gamma
        (:func:`gamma_adf`, :func:`adoption.sem.grouprobust.gamma_meanstructure`).
    """
    x_idx = list(x_idx)
    if not x_idx:
        return None
    n, p = x.shape
    y_idx = [j for j in range(p) if j not in set(x_idx)]
    design = np.column_stack([np.ones(n), x[:, x_idx]])
    coef, *_ = np.linalg.lstsq(design, x[:, y_idx], rcond=None)
    yhat = x.copy()
    yhat[:, y_idx] = design @ coef
    return yhat - yhat.mean(axis=0)


def sandwich(bread_inv: np.ndarray, meat: np.ndarray, n: int) -> np.ndarray:
    """vcov = A^-1 B A^-1 / N."""
    return bread_inv @ meat @ bread_inv / n


def satorra_bentler_trace(delta: np.ndarray, w: np.ndarray, gamma: np.ndarray) -> float:
    """tr(U Gamma) with U = W - W Delta (Delta' W Delta)^-1 Delta' W.

    Notes
    -----
    The Satorra-Bentler scaling factor is c = tr(U Gamma) / df and
    chisq.scaled = chisq / c (lavaan ``test = "satorra.bentler"``).
    """
    wd = w @ delta
    u = w - wd @ np.linalg.solve(delta.T @ wd, wd.T)
    return float(np.sum(u * gamma.T))


def yuan_bentler_trace(a1: np.ndarray, b1: np.ndarray, b0: np.ndarray,
                       e_inv: np.ndarray) -> float:
    """tr(A1^-1 B1) - tr(E^-1 B0): lavaan's ``yuan.bentler.mplus`` trace of U Gamma.

    Parameters
    ----------
    a1 : h1 information per observation, *unstructured* (evaluated at S): W(S).
    b1 : h1 first-order information 1/N sum s_i s_i' of the case-wise vech(Sigma) scores,
        also evaluated at S.
    b0 : the fitted model's first-order information, Delta' B1(Sigma-hat) Delta, with the
        case-wise scores evaluated at the model-implied Sigma-hat.
    e_inv : inverse of the fitted model's (observed) information per observation.

    Notes
    -----
    The Yuan-Bentler scaling factor is c = trace / df, chisq.scaled = chisq / c
    (``lavaan:::lav_test_yuan_bentler_mplus_trace``).
    """
    keep = np.diag(a1) != 0  # fixed-x elements have zero rows/columns (as lavaan)
    a1_inv = np.zeros_like(a1)
    a1_inv[np.ix_(keep, keep)] = np.linalg.inv(a1[np.ix_(keep, keep)])
    trace_h1 = float(np.sum(a1_inv * b1.T))
    trace_h0 = float(np.sum(e_inv * b0.T))
    return trace_h1 - trace_h0
