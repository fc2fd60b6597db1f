"""Test statistics and fit measures of an ordinal (WLSMV/ULSMV) fit, as lavaan 0.6-14.

Pure functions of the sample statistics s, the implied statistics sigma, the weights
w (diagonal of W), the Jacobian Delta, Gamma (NACOV) and N; the fit indices themselves
are the project's (:mod:`adoption.sem.fitmeasures`).
"""

from __future__ import annotations

import math

import numpy as np

from adoption.sem import fitmeasures as fm

__all__ = ["ORDINAL_FIT_MEASURES", "scaled_shifted", "scaled_shifted_traces", "catml_robust",
           "catml_pieces", "srmr_bentler",
           "scaled_fit_measures", "ordinal_fit_measures"]

#: The ``fitMeasures()`` names an ordinal fit reports (lavaan's, for WLSMV/ULSMV).
ORDINAL_FIT_MEASURES: tuple[str, ...] = (
    "npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
    "chisq.scaling.factor", "chisq.shift.parameters", "baseline.chisq", "baseline.df",
    "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
    "baseline.chisq.scaling.factor", "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust",
    "tli.robust", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.scaled",
    "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.robust", "srmr", "wrmr",
)


def scaled_shifted(chisq: float, df: float, ugamma: np.ndarray) -> tuple[float, float, float]:
    """Mean- and variance-adjusted statistic (Asparouhov & Muthen, 2010; lavaan
    ``test = "scaled.shifted"``).

    Parameters
    ----------
    chisq, df : float
        The unscaled statistic and its degrees of freedom.
    ugamma : np.ndarray
        U Gamma, with U = W - W Delta (Delta' W Delta)^-1 Delta' W.

    Returns
    -------
    (chisq.scaled, chisq.scaling.factor, chisq.shift.parameters)

    Notes
    -----
    a = sqrt(df / tr(UG UG)), b = df - a tr(UG); T = a chisq + b; lavaan reports the
    scaling factor 1/a and the shift b.
    """
    return scaled_shifted_traces(chisq, df, float(np.trace(ugamma)),
                                 float((ugamma * ugamma.T).sum()))


def scaled_shifted_traces(chisq: float, df: float, tr1: float,
                          tr2: float) -> tuple[float, float, float]:
    """:func:`scaled_shifted` from tr(U Gamma) and tr[(U Gamma)^2] (computed blockwise
    by a multi-group fit)."""
    a = math.sqrt(df / tr2)
    b = df - a * tr1
    return a * chisq + b, 1.0 / a, b


def catml_robust(r: np.ndarray, sigma: np.ndarray, pair_i, pair_j, jac_cor: np.ndarray,
                 w_cor: np.ndarray, bread: np.ndarray, gamma_cor: np.ndarray, n: int,
                 df: float) -> dict:
    """Robust CFI/TLI/RMSEA of a categorical fit by lavaan's "catML" route (Savalei, 2021;
    lavaan ``lav_fit_catml_dwls``).

    Parameters
    ----------
    r, sigma : np.ndarray
        Polychoric and model-implied correlation matrices (p x p).
    pair_i, pair_j : np.ndarray
        Indices of the correlations in the statistics vector.
    jac_cor : np.ndarray
        Rows of Delta for the correlations (all free parameters as columns).
    w_cor : np.ndarray
        The estimator's weights of the correlations.
    bread : np.ndarray
        (Delta' W Delta)^-1 of the fit.
    gamma_cor : np.ndarray
        Gamma of the correlations.
    n : int
    df : float

    Returns
    -------
    dict
        cfi.robust, tli.robust, rmsea.robust (NaN when the polychoric matrix is not
        positive definite, as lavaan).

    Notes
    -----
    The ML discrepancy of the correlation structure at the estimates gives
    X3 = N [log|Sigma| - log|R| + tr(R Sigma^-1) - p], and of the independence model
    X3_0 = -N log|R|. With V the expected ML information of the correlations at Sigma
    (V_(ij),(kl) = s^ik s^jl + s^il s^jk, s = Sigma^-1) and
    M = I - Delta_c (Delta' W Delta)^-1 Delta_c' W_c: c = tr(M' V M Gamma_c) / df,
    c_0 = tr(Gamma_c) / df_0; then lavaan's robust CFI, TLI and RMSEA (N - 1) of
    (X3, c, X3_0, c_0).
    """
    nan = {"cfi.robust": float("nan"), "tli.robust": float("nan"), "rmsea.robust": float("nan")}
    if np.linalg.eigvalsh(r).min() < math.sqrt(np.finfo(float).eps) or df <= 0:
        return nan
    x3, ks, x3_0, kbs = catml_pieces(r, sigma, pair_i, pair_j, jac_cor, w_cor, bread,
                                     gamma_cor, n)
    c = ks / df
    df0 = len(w_cor)
    c0 = kbs / df0
    return {"cfi.robust": fm.cfi_robust(x3, df, c, x3_0, df0, c0),
            "tli.robust": fm.tli_robust(x3, df, c, x3_0, df0, c0),
            "rmsea.robust": fm.rmsea(x3, df, n - 1, c)}


def catml_pieces(r, sigma, pair_i, pair_j, jac_cor, w_cor, bread, gamma_cor,
                 n) -> tuple[float, float, float, float]:
    """The pieces of :func:`catml_robust` for one group: (X3, tr(M' V M Gamma_c), X3_0,
    tr(Gamma_c)); a multi-group fit without constraints across groups sums them."""
    p = r.shape[0]
    si = np.linalg.inv(sigma)
    x3 = n * (np.linalg.slogdet(sigma)[1] - np.linalg.slogdet(r)[1] + np.trace(r @ si) - p)
    x3_0 = -n * np.linalg.slogdet(r)[1]
    i, j = pair_i, pair_j
    v = si[np.ix_(i, i)] * si[np.ix_(j, j)] + si[np.ix_(i, j)] * si[np.ix_(j, i)]
    # M = I - Delta_c B Delta_c' W_c: M Gamma M' by low-rank updates, tr(V M Gamma M')
    db = jac_cor @ bread
    mg = gamma_cor - db @ (jac_cor.T @ (w_cor[:, None] * gamma_cor))
    mgm = mg - ((mg * w_cor[None, :]) @ jac_cor) @ db.T
    return x3, float((v * mgm.T).sum()), x3_0, float(np.trace(gamma_cor))


def srmr_bentler(resid: np.ndarray, st) -> float:
    """SRMR of an ordinal (or mixed) fit, as lavaan's ``srmr`` under WLSMV (Bentler's,
    without the mean part).

    Parameters
    ----------
    resid : np.ndarray
        Sample minus implied statistics in the order of ``st.vector``.
    st : OrdinalStatistics

    Returns
    -------
    float

    Notes
    -----
    sqrt(sum_(i<=j) [(s_ij - sigma_ij) / sqrt(s_ii s_jj)]^2 / (p (p + 1) / 2)): residual
    covariances standardised by the sample SDs (1 for the latent responses of ordinal
    items, whose diagonal residuals are 0), as ``lav_residuals(type = "cor.bentler")``.
    """
    p = len(st.items)
    sd = st.sd
    nnum = len(st.numeric)
    start = st.n_univariate - nnum
    var_res = resid[start:start + nnum] / sd[st.is_numeric] ** 2
    cov_res = resid[st.n_univariate:] / (sd[st.pair_i] * sd[st.pair_j])
    return math.sqrt(float((var_res ** 2).sum() + (cov_res ** 2).sum()) / (p * (p + 1) / 2))


def scaled_fit_measures(estimator: str, npar: int, chisq: float, df: float,
                        scaled: tuple[float, float, float],
                        baseline: tuple[float, float, float, float], n: float,
                        srmr: float, wrmr: float, n_groups: int = 1) -> dict:
    """The plain and scaled-shifted ``fitMeasures()`` of a WLSMV/ULSMV fit, from its
    statistics (one builder for the single- and the multi-group fit).

    Parameters
    ----------
    estimator : str
        "WLSMV" or "ULSMV" (the plain p-value is NaN under ULSMV, as lavaan).
    npar : int
        Free parameters.
    chisq, df : float
        The unscaled statistic and its degrees of freedom.
    scaled : tuple of float
        (chisq.scaled, chisq.scaling.factor, chisq.shift.parameters), as
        :func:`scaled_shifted` returns them.
    baseline : tuple of float
        (baseline.chisq, baseline.df, baseline.chisq.scaled,
        baseline.chisq.scaling.factor).
    n : float
        The N of the RMSEA (lavaan's N - G under these estimators).
    srmr, wrmr : float
        Already computed (their element counts differ between single and multi-group).
    n_groups : int
        G of the multi-group RMSEA.

    Returns
    -------
    dict
        npar, chisq, df, pvalue, chisq.scaled, df.scaled, pvalue.scaled,
        chisq.scaling.factor, chisq.shift.parameters, baseline.chisq, baseline.df,
        baseline.chisq.scaled, baseline.df.scaled, baseline.pvalue.scaled,
        baseline.chisq.scaling.factor, cfi, tli, cfi.scaled, tli.scaled, rmsea,
        rmsea.scaled, srmr, wrmr, rmsea.ci.lower, rmsea.ci.upper, rmsea.ci.lower.scaled,
        rmsea.ci.upper.scaled.

    Notes
    -----
    The indices are :mod:`adoption.sem.fitmeasures`'s; the scaled ones take the scaled
    statistics in place of the plain ones (lavaan's ``cfi.scaled``, ``rmsea.scaled``).

    Examples
    --------
    >>> out = scaled_fit_measures("WLSMV", 10, 12.0, 8, (11.0, 1.1, 0.2),
    ...                           (500.0, 15, 450.0, 1.2), 299, srmr=0.03, wrmr=0.5)
    >>> round(out["cfi"], 3), out["df.scaled"]
    (0.992, 8.0)
    """
    chisq_s, c, shift = scaled
    chisq_b, df_b, chisq_bs, c_b = baseline
    out = {
        "npar": float(npar), "chisq": chisq, "df": float(df),
        "pvalue": fm.pvalue_chisq(chisq, df) if estimator == "WLSMV" else float("nan"),
        "chisq.scaled": chisq_s, "df.scaled": float(df),
        "pvalue.scaled": fm.pvalue_chisq(chisq_s, df),
        "chisq.scaling.factor": c, "chisq.shift.parameters": shift,
        "baseline.chisq": chisq_b, "baseline.df": float(df_b),
        "baseline.chisq.scaled": chisq_bs, "baseline.df.scaled": float(df_b),
        "baseline.pvalue.scaled": fm.pvalue_chisq(chisq_bs, df_b),
        "baseline.chisq.scaling.factor": c_b,
        "cfi": fm.cfi(chisq, df, chisq_b, df_b), "tli": fm.tli(chisq, df, chisq_b, df_b),
        "cfi.scaled": fm.cfi(chisq_s, df, chisq_bs, df_b),
        "tli.scaled": fm.tli(chisq_s, df, chisq_bs, df_b),
        "rmsea": fm.rmsea(chisq, df, n, n_groups=n_groups),
        "rmsea.scaled": fm.rmsea(chisq_s, df, n, n_groups=n_groups),
        "srmr": srmr, "wrmr": wrmr,
    }
    out["rmsea.ci.lower"], out["rmsea.ci.upper"] = fm.rmsea_ci(chisq, df, n, n_groups=n_groups)
    out["rmsea.ci.lower.scaled"], out["rmsea.ci.upper.scaled"] = fm.rmsea_ci(
        chisq_s, df, n, n_groups=n_groups)
    return out


def ordinal_fit_measures(s, sigma, st, jac, w, bread, n: int, estimator: str,
                         implied_cor: np.ndarray | None = None) -> dict:
    """lavaan ``fitMeasures()`` of a WLSMV/ULSMV fit.

    Parameters
    ----------
    s, sigma : np.ndarray
        Sample and implied statistics (thresholds, then polychorics).
    st : OrdinalStatistics
        Sample statistics (for Gamma and the threshold count).
    jac : np.ndarray
        Delta, d sigma / d x'.
    w : np.ndarray
        Diagonal of the estimator's weight matrix (1/diag(Gamma) for DWLS, 1 for ULS).
    bread : np.ndarray
        (Delta' W Delta)^-1.
    n : int
        Rows used.
    estimator : str
    implied_cor : np.ndarray, optional
        Model-implied correlation matrix of the latent responses; gives the robust
        measures (:func:`catml_robust`).

    Returns
    -------
    dict
        npar, chisq, df, pvalue, chisq.scaled, df.scaled, pvalue.scaled,
        chisq.scaling.factor, chisq.shift.parameters, baseline statistics, cfi, tli (plain
        and scaled), rmsea with CI (plain and scaled), srmr, wrmr.

    Notes
    -----
    chisq = (N - 1) (s - sigma)' W (s - sigma); baseline: thresholds free, polychorics zero.
    RMSEA and its CI use N - 1 under these estimators, as lavaan. SRMR is the root mean
    square of the correlation residuals over p(p+1)/2 elements; WRMR = sqrt(chisq / k)
    with k the number of sample statistics (lavaan ``lav_fit_wrmr``).
    """
    gamma = st.nacov
    npar = jac.shape[1]
    nstat = len(s)
    df = nstat - npar
    resid = s - sigma
    nm1 = n - 1  # lavaan uses N - 1 in the statistic, the RMSEA and the SEs here
    chisq = nm1 * float((resid ** 2 * w).sum())
    wj = jac * w[:, None]
    ugamma = w[:, None] * gamma - wj @ (bread @ (wj.T @ gamma))  # U Gamma, U = W - W D B D' W
    chisq_s, c, shift = scaled_shifted(chisq, df, ugamma)
    nth = st.n_univariate  # thresholds, means and variances: free in the baseline model
    wc = w[nth:]
    chisq_b = nm1 * float((s[nth:] ** 2 * wc).sum())
    df_b = nstat - nth
    chisq_bs, c_b, shift_b = scaled_shifted(chisq_b, df_b, wc[:, None] * gamma[nth:, nth:])
    out = scaled_fit_measures(estimator, npar, chisq, df, (chisq_s, c, shift),
                              (chisq_b, df_b, chisq_bs, c_b), nm1,
                              srmr=srmr_bentler(resid, st), wrmr=math.sqrt(chisq / nstat))
    out.update(dict.fromkeys(("cfi.robust", "tli.robust", "rmsea.robust"), float("nan")))
    if implied_cor is not None:
        out.update(catml_robust(st.correlation.to_numpy(), implied_cor, st.pair_i, st.pair_j,
                                jac[nth:], wc, bread, gamma[nth:, nth:], n, df))
    return out
