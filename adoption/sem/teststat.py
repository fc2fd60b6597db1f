"""Test statistics of a single-group fit (lavaan's ``lav_test_*`` stage): the
log-likelihoods and chi-square statistics of the model and its baseline, the scaled
tests (Satorra-Bentler, Yuan-Bentler) and the FIML-corrected statistic behind the robust
indices, with complete data and under FIML; and the fit-measure dictionary they feed
(:func:`adoption.sem.fitdict.fit_measures`, the one builder).
"""

from __future__ import annotations

import numpy as np

from adoption.sem import fiml
from adoption.sem import fitdict as fd
from adoption.sem import fitmeasures as fm
from adoption.sem import robust as rb

__all__ = ["nan_robust", "complete_test_statistics", "complete_fit_measures", "robust_fit",
           "baseline_coords", "fiml_test_statistics", "fiml_fit_measures",
           "fiml_scaled_test", "fiml_corrected"]


def nan_robust(estimator: str):
    """Scaled test and robust basis of a fit whose robust statistics failed (NaN)."""
    nan = float("nan")
    h = nan if estimator == "MLR" else None
    return fd.ScaledTest(nan, nan, h, h), fd.RobustBasis(nan, nan, nan, nan)


# --------------------------------------------------------------------------- complete data
def complete_test_statistics(s, sigma, n, x_idx, x_base=None) -> dict:
    """Log-likelihoods and chi-square statistics of the model and the baseline with
    complete data. ``x_idx``: fixed-x columns; ``x_base``: the observed exogenous
    predictors, whose block stays saturated in the baseline model whether x is fixed or
    not (lavaan ``lav_partable_independence`` keeps the x covariances with
    ``fixed.x = FALSE`` too); default ``x_idx``."""
    p = s.shape[0]
    x_base = x_idx if x_base is None else x_base
    logl = fm.loglik(s, sigma, n, x_idx)
    logl_h1 = fm.unrestricted_loglik(s, n, x_idx)
    return {"logl": logl, "logl_h1": logl_h1, "chisq": max(2 * (logl_h1 - logl), 0.0),
            "chisq_b": fm.chisq_ml(s, fm.baseline_sigma(s, x_base), n),
            "df_b": fm.baseline_df(p, len(x_base))}


def complete_fit_measures(s, sigma, n, npar, df, x_idx, w, tests: dict, scaled=None,
                          robust=None) -> dict:
    """lavaan's fitMeasures() with complete data (:func:`adoption.sem.fitdict.fit_measures`;
    no mean structure, as lavaan's single-group default)."""
    p = s.shape[0]
    return fd.fit_measures(
        npar=npar, n=n, chisq=tests["chisq"], df=df, chisq_b=tests["chisq_b"],
        df_b=tests["df_b"], logl=tests["logl"], logl_h1=tests["logl_h1"],
        residuals=fm.residual_measures(s, sigma), gfi=fm.gfi(s, sigma, w, x_idx),
        nel=fm.n_moments(p), scaled=scaled, robust=robust)


def _x_mask(p, x_idx):
    r, c = rb.vech_index(p)
    xs = set(x_idx)
    return np.array([(i in xs) and (j in xs) for i, j in zip(r, c)])


def _baseline_delta(p, x_idx, x_random=()):
    """Delta of the baseline model: variances of the non-x variables, plus the x block
    (``x_random``) when x is random (saturated there, free)."""
    r, c = rb.vech_index(p)
    xs, xr = set(x_idx), set(x_random)
    cols = [k for k, (i, j) in enumerate(zip(r, c))
            if (i == j and i not in xs and i not in xr) or (i in xr and j in xr)]
    d = np.zeros((len(r), len(cols)))
    for m, k in enumerate(cols):
        d[k, m] = 1.0
    return d


def robust_fit(estimator, x, s, sigma, n, df, x_idx, delta, w, tests, a_obs,
               x_base=None, nx_free=None):
    """Scaled test (Satorra-Bentler under MLM, Yuan-Bentler under MLR) of the model and
    the baseline with complete data: (:class:`ScaledTest`, :class:`RobustBasis`).
    ``nx_free``: :func:`adoption.sem.matrices.nx_free`."""
    p = s.shape[0]
    x_base = x_idx if x_base is None else x_base
    sb = fm.baseline_sigma(s, x_base)
    delta_b = _baseline_delta(p, x_idx, [] if x_idx else x_base)
    w_b = rb.ml_weight(sb)
    df_b = tests["df_b"]
    h1 = h0 = None
    if estimator == "MLM":
        gamma = rb.gamma_adf(x, x_idx)
        tr = rb.satorra_bentler_trace(delta, w, gamma)
        tr_b = rb.satorra_bentler_trace(delta_b, w_b, gamma)
    else:
        a1 = rb.ml_weight(s)
        if x_idx:  # fixed x: the x-block of the h1 information is zero (not inverted)
            a1[_x_mask(p, x_idx)] = 0.0
            a1[:, _x_mask(p, x_idx)] = 0.0
        s_h1 = rb.casewise_h1_scores(x, s)
        b1 = s_h1.T @ s_h1 / n
        s_h0 = rb.casewise_h1_scores(x, sigma) @ delta
        e_inv = np.linalg.inv(a_obs)
        tr = rb.yuan_bentler_trace(a1, b1, s_h0.T @ s_h0 / n, e_inv)
        s_b = rb.casewise_h1_scores(x, sb) @ delta_b
        e_b = delta_b.T @ rb.h1_observed_information(sb, s) @ delta_b
        tr_b = rb.yuan_bentler_trace(a1, b1, s_b.T @ s_b / n, np.linalg.inv(e_b))
        # lavaan's scaling.factor.h1/.h0: the two parts of the trace, per statistic
        # and per parameter
        tr_h1 = rb.yuan_bentler_trace(a1, b1, np.zeros((0, 0)), np.zeros((0, 0)))
        h1 = tr_h1 / int(np.sum(np.diag(a1) != 0))
        h0 = (tr_h1 - tr) / nx_free
    c = tr / df if df > 0 else float("nan")
    c_b = tr_b / df_b
    return (fd.ScaledTest(c, c_b, h1, h0),
            fd.RobustBasis(tests["chisq"], c, tests["chisq_b"], c_b))


# --------------------------------------------------------------------------- FIML
def baseline_coords(p, x_idx, x_base) -> list:
    """Parameters of the baseline model as coordinates of (mu, vech Sigma): means and
    variances of the non-x variables, plus the x block when x is random (saturated).
    ``x_idx``: fixed-x columns; ``x_base``: the observed exogenous predictors."""
    r, c = rb.vech_index(p)
    xb = set(x_base)
    coords = [j for j in range(p) if j not in xb]
    coords += [p + kk for kk, (a, b) in enumerate(zip(r, c)) if a == b and a not in xb]
    if x_base and not x_idx:  # random x: its block is saturated (free) in the baseline
        coords += list(x_base)
        coords += [p + kk for kk, (a, b) in enumerate(zip(r, c)) if a in xb and b in xb]
    return sorted(coords)


def fiml_test_statistics(pat, mu_h1, s_h1, mu, sigma, x_idx, x_base) -> dict:
    """Log-likelihoods and chi-square statistics of the model and the baseline under
    missing = "ml". ``x_idx``: fixed-x columns; ``x_base``: the observed exogenous
    predictors, whose block stays saturated in the baseline model whether x is fixed or
    not (as lavaan)."""
    n, p = pat.n, pat.p
    ll_x = fm.loglik_x(s_h1, n, x_idx)
    logl = fiml.loglik(pat, mu, sigma) - ll_x
    logl_h1 = fiml.loglik(pat, mu_h1, s_h1) - ll_x
    mu_b, s_b = fiml.independence_moments(pat, x_base)
    chisq_b = max(2 * (logl_h1 - (fiml.loglik(pat, mu_b, s_b) - ll_x)), 0.0)
    return {"logl": logl, "logl_h1": logl_h1, "chisq": max(2 * (logl_h1 - logl), 0.0),
            "chisq_b": chisq_b, "df_b": fm.baseline_df(p, len(x_base)),
            "mu_b": mu_b, "s_b": s_b}


def fiml_fit_measures(pat, mu_h1, s_h1, mu, sigma, npar, df, x_idx, tests: dict,
                      scaled=None, robust=None) -> dict:
    """lavaan's fitMeasures() under missing = "ml" (see fit_model Notes), with the mean
    structure lavaan has there: residual indices of the EM moments with their means;
    GFI from lavaan's pairwise sample statistics (:func:`adoption.sem.fiml.gfi`)."""
    m_obs, s_obs = fiml.pairwise_moments(pat.x)
    return fd.fit_measures(
        npar=npar, n=pat.n, chisq=tests["chisq"], df=df, chisq_b=tests["chisq_b"],
        df_b=tests["df_b"], logl=tests["logl"], logl_h1=tests["logl_h1"],
        residuals=fm.residual_measures(s_h1, sigma, mu_h1, mu),
        gfi=fiml.gfi(pat, m_obs, s_obs, mu, sigma, x_idx),
        nel=fm.n_moments(pat.p, meanstructure=True), scaled=scaled, robust=robust)


def fiml_scaled_test(pat, h1, x_idx, x_base, info_inv, s0, tests, df,
                     nx_free) -> fd.ScaledTest:
    """MLR with FIML: lavaan's ``yuan.bentler.mplus`` scaled test under missing = "ml".

    c = [tr(A1^-1 B1) - tr(E^-1 B0)] / df with A1, B1 the observed and first-order
    information of the saturated moments at their EM estimates, E the fitted model's
    observed information and B0 its casewise-score cross-product; the baseline model's
    c_b likewise with its own E and B0 (means and variances, plus the x block when x is
    random). scaling.factor.h1 = tr(A1^-1 B1) / (number of non-x moments),
    scaling.factor.h0 = tr(E^-1 B0) / nx_free (free entries plus the intercepts).
    ``h1``: :func:`adoption.sem.fiml.h1_informations`.
    """
    a1, s1, keep = h1
    tr_h1 = float(np.sum(np.linalg.solve(a1[np.ix_(keep, keep)], s1[:, keep].T) * s1[:, keep].T))
    tr_h0 = float(np.sum(info_inv * (s0.T @ s0).T))
    coords = baseline_coords(pat.p, x_idx, x_base)
    mu_b, s_b = tests["mu_b"], tests["s_b"]
    e_b = fiml.moment_observed_information(pat, mu_b, s_b, coords=coords)
    sb = fiml.moment_scores(pat, mu_b, s_b)[:, coords]
    tr_b = tr_h1 - float(np.sum(np.linalg.solve(e_b, sb.T) * sb.T))
    cc = (tr_h1 - tr_h0) / df if df > 0 else float("nan")
    return fd.ScaledTest(cc, tr_b / tests["df_b"], tr_h1 / len(keep), tr_h0 / nx_free)


def fiml_corrected(pat, h1, mu_h1, s_h1, mu, sigma, delta_full, x_idx, x_base, tests, n,
                   df, version: str) -> fd.RobustBasis:
    """Statistics behind lavaan's robust CFI/TLI/RMSEA under missing = "ml" (0.6-13+):
    the FIML-corrected statistic of Zhang and Savalei (``lav_fit_fiml_corrected``),
    version "V3" with a scaled test (MLR), "V6" without (ML). XX3 is the complete-data
    ML statistic of the FIML estimates against the EM moments, its scaling factor
    c3 = k / df from :func:`adoption.sem.fiml.fiml_corrected_traces` (likewise for the
    baseline). As in lavaan 0.6-14, the complete-data information Wc has the
    exogenous-x block zeroed even with fixed_x=False (lavaan refits with ``lavaan()``'s
    default fixed.x = TRUE).
    """
    p = pat.p
    a1, s1, keep = h1
    wm, jm = a1 / n, (s1.T @ s1 / n if version == "V3" else None)
    wc = fiml.saturated_information(mu_h1, s_h1)
    x_coords = fiml.fixed_x_coords(p, x_base)
    wc[x_coords, :] = 0.0
    wc[:, x_coords] = 0.0
    coords = baseline_coords(p, x_idx, x_base)
    delta_b = np.zeros((len(wm), len(coords)))
    delta_b[coords, np.arange(len(coords))] = 1.0
    df_b = tests["df_b"]
    k3, k3_b = fiml.fiml_corrected_traces(wm, jm, wc, (delta_full, delta_b), keep, version)
    c3 = k3 / df if df > 0 else 1.0
    c3_b = k3_b / df_b
    return fd.RobustBasis(fm.chisq_ml(s_h1, sigma, n, mu_h1, mu), c3,
                          fm.chisq_ml(s_h1, tests["s_b"], n, mu_h1, tests["mu_b"]),
                          c3_b)
