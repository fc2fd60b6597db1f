"""The scaled chi-square difference test of two nested WLSMV/ULSMV fits, as lavaan 0.6-14's
``lavTestLRT`` (method ``"satorra.2000"``, scaled-shifted under ``test = "scaled.shifted"``).

Pure functions of the two fits' :class:`adoption.sem.wlsmv_groups.TestPieces` (the
stacked Jacobian Delta, the weights, Gamma, the bread and the unscaled statistics).

References
----------
Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of
moment structures. In Heijmans, Pollock & Satorra (Eds.), *Innovations in Multivariate
Statistical Analysis* (pp. 233-247). Kluwer.
Asparouhov, T., & Muthen, B. (2010). Simple second order chi-square correction.
Mplus technical appendix.
lavaan 0.6-14 source: ``lav_test_diff.R`` (``lav_test_diff_Satorra2000``,
``lav_test_diff_A``), ``lav_test_LRT.R``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg, stats

from adoption.parallel import blas_one_thread

__all__ = ["constraint_matrix", "satorra_2000", "difference_test_ordinal"]


def constraint_matrix(jac_free: np.ndarray, jac_restricted: np.ndarray) -> np.ndarray:
    """The constraints A (rows) that turn the free model into the restricted one, in
    the free model's parameters: the orthogonal complement of H = Delta_1^+ Delta_0
    (lavaan ``lav_test_diff_A(method = "delta")``).

    Parameters
    ----------
    jac_free, jac_restricted : np.ndarray
        Delta_1 (stats x q1) and Delta_0 (stats x q0) of the two fits, q0 < q1.

    Returns
    -------
    np.ndarray
        (q1 - rank H) x q1, orthonormal rows.
    """
    h = np.linalg.solve(jac_free.T @ jac_free, jac_free.T @ jac_restricted)  # Delta_1^+ Delta_0
    q, r, _ = linalg.qr(h, pivoting=True)
    d = np.abs(np.diag(r))
    rank = int((d > d.max() * max(h.shape) * np.finfo(float).eps).sum()) if d.size else 0
    return q[:, rank:].T


def satorra_2000(free, restricted) -> dict:
    """Scaled-shifted difference test of a restricted fit against a free one.

    Parameters
    ----------
    free, restricted : TestPieces
        Of the less and the more constrained fit (same data and groups).

    Returns
    -------
    dict
        ``chisq.diff`` (the scaled-shifted difference), ``df.diff``, ``pvalue``,
        ``a`` and ``b`` (scale and shift), ``chisq.diff.unscaled``, ``method``
        ("satorra.2000").

    Notes
    -----
    With T = chisq (unscaled) and m = df_0 - df_1: A the constraints
    (:func:`constraint_matrix`), P^-1 the free fit's (Delta' W Delta)^-1,
    X = P^-1 A' (A P^-1 A')^+ A P^-1 and U = W Delta X Delta' W (groups stacked with
    the weights (N_g / N) W_g and Gamma_g N / N_g), a = sqrt(m / tr[(U Gamma)^2]),
    b = m - a tr(U Gamma), the traces being those of X S with S = Delta' W Gamma W Delta; the statistic is a (T_0 - T_1) + b on m degrees of freedom
    (lavaan ``lav_test_diff_Satorra2000(scaled.shifted = TRUE)``, which ``lavTestLRT``
    uses for WLSMV/ULSMV fits). m = 0 gives NaN.
    """
    diff = restricted.chisq - free.chisq
    m = restricted.df - free.df
    out = {"chisq.diff.unscaled": diff, "df.diff": m, "method": "satorra.2000"}
    if m <= 0:
        return {**out, "chisq.diff": float("nan"), "pvalue": float("nan"),
                "a": float("nan"), "b": float("nan")}
    a_mat = constraint_matrix(free.jac, restricted.jac)
    p_inv = free.bread
    apa = a_mat @ p_inv @ a_mat.T
    keep = ~((np.abs(apa.sum(0)) < math.sqrt(np.finfo(float).eps))
             & (np.abs(apa.sum(1)) < math.sqrt(np.finfo(float).eps)))
    a_mat = a_mat[keep]
    pa = p_inv @ a_mat.T
    x = pa @ np.linalg.pinv(a_mat @ pa) @ pa.T
    xs = x @ free.meat  # U Gamma = W Delta X Delta' W Gamma: its traces are those of X S
    tr1 = float(np.trace(xs))
    tr2 = float((xs * xs.T).sum())
    a = math.sqrt(m / tr2)
    b = m - a * tr1
    t = diff * a + b
    return {**out, "chisq.diff": t, "pvalue": float(stats.chi2.sf(t, m)), "a": a, "b": b}


def difference_test_ordinal(restricted, free) -> dict:
    """:func:`satorra_2000` of two fitted
    :class:`~adoption.sem.wlsmv_groups.OrdinalMultiGroupFit` (restricted first, as
    :func:`adoption.groups.difference_test`)."""
    with blas_one_thread():
        return satorra_2000(free.pieces, restricted.pieces)
