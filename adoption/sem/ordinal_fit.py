"""Test statistics and fit measures of an ordinal (WLSMV/ULSMV) fit, as lavaan 0.6-14.

Pure functions of the sample statistics s, the implied statistics sigma, the weights
w (diagonal of W), the Jacobian Delta, Gamma (NACOV) and N; the fit indices themselves
are the project's (:mod:`adoption.sem.fitmeasures`).
"""

from __future__ import annotations

import math

import numpy as np

from adoption.sem import fitmeasures as fm

__all__ = ["scaled_shifted", "ordinal_fit_measures"]


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
    tr1 = float(np.trace(ugamma))
    tr2 = float((ugamma * ugamma.T).sum())
    a = math.sqrt(df / tr2)
    b = df - a * tr1
    return a * chisq + b, 1.0 / a, b


def ordinal_fit_measures(s, sigma, st, jac, w, bread, n: int, estimator: str) -> dict:
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
    u = np.diag(w) - wj @ bread @ wj.T
    chisq_s, c, shift = scaled_shifted(chisq, df, u @ gamma)
    nth = len(st.thresholds)
    wc = w[nth:]
    chisq_b = nm1 * float((s[nth:] ** 2 * wc).sum())
    df_b = nstat - nth
    chisq_bs, c_b, shift_b = scaled_shifted(chisq_b, df_b, wc[:, None] * gamma[nth:, nth:])
    p = len(st.items)
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
        "rmsea": fm.rmsea(chisq, df, nm1), "rmsea.scaled": fm.rmsea(chisq_s, df, nm1),
        "srmr": math.sqrt(float((resid[nth:] ** 2).sum()) / (p * (p + 1) / 2)),
        "wrmr": math.sqrt(chisq / nstat),
    }
    out["rmsea.ci.lower"], out["rmsea.ci.upper"] = fm.rmsea_ci(chisq, df, nm1)
    out["rmsea.ci.lower.scaled"], out["rmsea.ci.upper.scaled"] = fm.rmsea_ci(chisq_s, df, nm1)
    return out
