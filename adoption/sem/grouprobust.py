"""Robust statistics of a multi-group fit (lavaan's ``lav_test_*`` for ``group =``):
the Satorra-Bentler (MLM) and Yuan-Bentler (MLR) scaled tests with their robust
covariance matrices, and the FIML-corrected statistic behind the robust indices under
FIML (:func:`fiml_corrected`).
"""

from __future__ import annotations

import numpy as np

from adoption.sem import fiml
from adoption.sem import fitdict as fd
from adoption.sem import fitmeasures as fm
from adoption.sem import robust as rb
from adoption.sem.groupoptim import group_moments, observed_information
from adoption.sem.groupsetup import Group, Registry, Setup
from adoption.sem.teststat import baseline_coords

__all__ = ["gamma_meanstructure", "mlm", "mlr", "mlr_fiml", "fiml_corrected"]


def gamma_meanstructure(x: np.ndarray, x_idx=()) -> np.ndarray:
    """Asymptotic covariance of (means, vech S) from the raw data, N divisor.

    Gamma = 1/N sum_i (z_i - zbar)(z_i - zbar)' with z_i = (x_i, vech(d_i d_i')),
    d_i = x_i - xbar. With fixed x (``x_idx``) each non-x variable is replaced by its
    residual from the OLS regression on x (and the x columns carry no variability), as
    :func:`adoption.sem.robust.gamma_adf` does for the covariance part.
    """
    n, p = x.shape
    r, c = rb.vech_index(p)
    dc = x - x.mean(axis=0)
    zm = dc.copy()
    zc = dc[:, r] * dc[:, c]
    hc = rb.fixed_x_fitted(x, x_idx)
    if hc is not None:
        zm = zm - hc
        zc = zc - hc[:, r] * hc[:, c]
    z = np.hstack([zm, zc])
    z = z - z.mean(axis=0)
    return z.T @ z / n


def _moment_weight(sigma: np.ndarray) -> np.ndarray:
    """Expected information of (mu, vech Sigma) per observation: diag(Sigma^-1, W)."""
    p = sigma.shape[0]
    w = rb.ml_weight(sigma)
    out = np.zeros((p + w.shape[0],) * 2)
    out[:p, :p] = np.linalg.inv(sigma)
    out[p:, p:] = w
    return out


def _scaled_measures(pieces: dict, trace: float, trace_b: float, h1=None, h0=None):
    """The scaled test and robust basis from the traces of U Gamma of the model and of
    the baseline: c = trace / df, c_b = trace_b / df_b (:class:`fd.ScaledTest`,
    :class:`fd.RobustBasis` for :func:`adoption.sem.fitdict.fit_measures`)."""
    df, df_b = pieces["df"], pieces["df_b"]
    cc = trace / df if df > 0 else float("nan")
    c_b = trace_b / df_b
    return (fd.ScaledTest(cc, c_b, h1, h0),
            fd.RobustBasis(pieces["chisq"], cc, pieces["chisq_b"], c_b))


def mlm(setup: Setup, reg: Registry, theta, info, pieces: dict):
    """Satorra-Bentler scaled test and robust.sem covariance of a multi-group fit.

    Notes
    -----
    With f_g = N_g / N, W_g the expected information of (mu, vech Sigma) at the fitted
    moments, Delta_g their Jacobian, Gamma_g the ADF covariance of the sample moments
    and E = sum_g f_g Delta_g' W_g Delta_g (per observation):
    tr(U Gamma) = sum_g tr[(W_g - f_g W_g Delta_g E^-1 Delta_g' W_g) Gamma_g],
    c = tr(U Gamma) / df (lavaan ``lav_test_satorra_bentler_trace_original``); the
    baseline's c_b likewise with its own parameters (per group: means and variances of
    the non-x variables). vcov = E^-1 [sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g] E^-1 / N
    (lavaan ``se = "robust.sem"``).
    """
    n = sum(g.n for g in setup.groups)
    p = len(setup.observed)
    e_inv = np.linalg.inv(info / n)
    trace = trace_b = 0.0
    meat = np.zeros_like(info)
    for g, grp in enumerate(setup.groups):
        fg = grp.n / n
        sig, mu, cols, ds, dm = group_moments(setup, reg, g, theta)
        delta = np.vstack([dm, ds])
        w = _moment_weight(sig)
        gamma = gamma_meanstructure(grp.x, grp.x_idx)
        wd = w @ delta
        u = w - fg * wd @ e_inv[np.ix_(cols, cols)] @ wd.T
        trace += float(np.sum(u * gamma.T))
        meat[np.ix_(cols, cols)] += fg * wd.T @ gamma @ wd
        # baseline: free means and variances of the non-x variables
        coords = baseline_coords(p, grp.x_idx, grp.x_idx)
        delta_b = np.zeros((delta.shape[0], len(coords)))
        delta_b[coords, np.arange(len(coords))] = 1.0
        w_b = _moment_weight(fm.baseline_sigma(grp.s, grp.x_idx))
        trace_b += rb.satorra_bentler_trace(delta_b, w_b, gamma)
    vc = e_inv @ meat @ e_inv / n
    return _scaled_measures(pieces, trace, trace_b), vc


def fiml_corrected(setup: Setup, reg: Registry, theta, pieces: dict,
                   version: str = "V6") -> fd.RobustBasis:
    """Statistics behind lavaan's robust CFI/TLI/RMSEA of a multi-group FIML fit:
    Zhang and Savalei's FIML-corrected statistic, lavaan ``lav_fit_fiml_corrected``
    with its block-diagonal group matrices, version "V6" (estimator ML) or "V3"
    (estimator MLR, with a scaled test).

    Notes
    -----
    With f_g = N_g / N, Wm_g, Jm_g and Wc_g the missing-data observed information, the
    first-order information and the complete-data information per case of the
    saturated moments at the EM estimates (fixed-x coordinates left out), Delta_g the
    Jacobian of the group's moments, E = sum_g f_g Delta_g' Wm_g Delta_g and, over all
    groups, Wm = bdiag(f_g Wm_g), Wc = bdiag(f_g Wc_g), Wm^-1 = bdiag(Wm_g^-1 / f_g),
    Gamma = bdiag(Wm_g^-1 Jm_g Wm_g^-1 / f_g), U = Wm - Wm Delta E^-1 Delta' Wm:
    V6: k = tr(Wc Wm^-1 U Wm^-1) = sum_g tr(Wm_g^-1 Wc_g) - tr(E^-1 sum_g f_g
    Delta_g' Wc_g Delta_g); V3: k = tr(U Wm^-1 Wc Wm^-1 U Gamma). c3 = k / df;
    XX3 = sum_g N_g F_ML(EM moments, fitted moments) with the mean term. The baseline
    (free means and variances per group, at its FIML estimates) is block-diagonal over
    the groups, so its k is the sum of the single-group ones
    (:func:`adoption.sem.fiml.fiml_corrected_traces`).
    """
    n = sum(g.n for g in setup.groups)
    p = len(setup.observed)
    e = np.zeros((reg.k, reg.k))
    blocks = []
    k_b = xx3 = xx3_b = 0.0
    for g, grp in enumerate(setup.groups):
        fg = grp.n / n
        sig, mu, cols, ds, dm = group_moments(setup, reg, g, theta)
        h = _group_h1(grp, p)
        keep = h["keep"]
        sub = np.ix_(keep, keep)
        d = np.zeros((len(keep), reg.k))
        d[:, cols] = np.vstack([dm, ds])[keep]
        e += fg * d.T @ h["wm"][sub] @ d
        blocks.append((fg, d, h["wm"][sub], h["jm"][sub], h["wc"][sub]))
        xx3 += fm.chisq_ml(grp.s, sig, grp.n, grp.m, mu)
        xx3_b += h["xx3_b"]
        k_b += fiml.fiml_corrected_traces(h["wm"], h["jm"], h["wc"], [h["delta_b"]], keep,
                                          version)[0]
    k = _fimlc_v6(e, blocks) if version == "V6" else _fimlc_v3(e, blocks)
    df, df_b = pieces["df"], pieces["df_b"]
    return fd.RobustBasis(xx3, k / df if df > 0 else 1.0, xx3_b, k_b / df_b)


def _fimlc_v6(e: np.ndarray, blocks) -> float:
    """k of version V6: sum_g tr(Wm_g^-1 Wc_g) - tr(E^-1 sum_g f_g D_g' Wc_g D_g)."""
    m = sum(fg * d.T @ wc @ d for fg, d, _, _, wc in blocks)
    tr_all = sum(float(np.trace(np.linalg.solve(wm, wc))) for _, _, wm, _, wc in blocks)
    return tr_all - float(np.trace(np.linalg.solve(e, m)))


def _fimlc_v3(e: np.ndarray, blocks) -> float:
    """k of version V3, tr(U Wm^-1 Wc Wm^-1 U Gamma), with the groups' blocks stacked."""
    sizes = [len(wm) for _, _, wm, _, _ in blocks]
    tot = sum(sizes)
    wm_all, mid, gamma = (np.zeros((tot, tot)) for _ in range(3))
    wd = np.zeros((tot, e.shape[0]))
    at = 0
    for (fg, d, wm, jm, wc), m in zip(blocks, sizes):
        sl = slice(at, at + m)
        wmi = np.linalg.inv(wm)
        wm_all[sl, sl] = fg * wm
        mid[sl, sl] = wmi @ wc @ wmi / fg
        gamma[sl, sl] = wmi @ jm @ wmi / fg
        wd[sl] = fg * wm @ d
        at += m
    u = wm_all - wd @ np.linalg.solve(e, wd.T)
    return float(np.sum((u @ mid) * (u @ gamma).T))


def _group_h1(grp: Group, p: int) -> dict:
    """What the FIML statistics need of one group's data alone, computed once per setup
    (cached on the group): the non-x coordinates ``keep``; the saturated moments'
    observed information ``a1`` (total) and casewise scores ``s1``; per case ``wm``,
    ``jm`` (first-order) and ``wc`` (complete-data); the baseline model's coordinates,
    Delta, FIML moments and XX3."""
    if grp.fiml_h1 is not None:
        return grp.fiml_h1
    a1, s1, keep = fiml.h1_informations(grp.pat, grp.m, grp.s, grp.x_idx)
    coords = baseline_coords(p, grp.x_idx, grp.x_idx)
    db = np.zeros((len(a1), len(coords)))
    db[coords, np.arange(len(coords))] = 1.0
    mu_b, s_b = fiml.independence_moments(grp.pat, grp.x_idx)
    grp.fiml_h1 = {"keep": keep, "a1": a1, "s1": s1, "wm": a1 / grp.n,
                   "jm": s1.T @ s1 / grp.n, "wc": fiml.saturated_information(grp.m, grp.s),
                   "coords": coords, "delta_b": db, "mu_b": mu_b, "s_b": s_b,
                   "xx3_b": fm.chisq_ml(grp.s, s_b, grp.n, grp.m, mu_b)}
    return grp.fiml_h1


# --------------------------------------------------------------------------- MLR
def _casewise_scores(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Casewise d logl_i / d (mu, vech Sigma) at (mu, Sigma): (N x (p + p*))."""
    p = sigma.shape[0]
    si = np.linalg.inv(sigma)
    z = (x - mu) @ si
    r, c = rb.vech_index(p)
    cov = (z[:, r] * z[:, c] - si[r, c]) * np.where(r == c, 0.5, 1.0)
    return np.hstack([z, cov])


def _x_coords(p: int, x_idx) -> np.ndarray:
    """Positions of the fixed-x means and (co)variances in (mu, vech Sigma)."""
    xs = set(x_idx)
    r, c = rb.vech_index(p)
    mean = [i in xs for i in range(p)]
    cov = [(a in xs) and (b in xs) for a, b in zip(r, c)]
    return np.array(mean + cov)


def mlr(setup: Setup, reg: Registry, theta, pieces: dict):
    """Yuan-Bentler (Mplus) scaled test and Huber-White covariance of a multi-group fit.

    Notes
    -----
    With E the observed information per observation (total Hessian / N), and per group
    A1_g, B1_g the saturated model's information and casewise-score cross-product at the
    sample moments, B0_g = Delta_g' B1_g(fitted moments) Delta_g:
    tr(U Gamma) = sum_g [tr(A1_g^-1 B1_g) - f_g tr(E^-1 B0_g)], c = tr / df
    (lavaan ``lav_test_yuan_bentler_mplus_trace``); fixed-x elements are left out of
    A1_g. The baseline likewise, group by group. vcov = E^-1 B E^-1 / N with
    B = sum_g f_g B0_g (lavaan ``se = "robust.huber.white"``).
    """
    n = sum(g.n for g in setup.groups)
    p = len(setup.observed)
    e_obs = observed_information(setup, reg, theta) / n
    e_inv = np.linalg.inv(e_obs)
    trace = trace_b = trace_h1 = trace_h0 = 0.0
    ndat = 0
    meat = np.zeros_like(e_obs)
    for g, grp in enumerate(setup.groups):
        fg = grp.n / n
        sig, mu, cols, ds, dm = group_moments(setup, reg, g, theta)
        delta = np.vstack([dm, ds])
        xmask = _x_coords(p, grp.x_idx)
        a1 = _moment_weight(grp.s)
        a1[xmask, :] = 0.0
        a1[:, xmask] = 0.0
        s1 = _casewise_scores(grp.x, grp.m, grp.s)
        b1 = s1.T @ s1 / grp.n
        tr_h1 = rb.yuan_bentler_trace(a1, b1, np.zeros((0, 0)), np.zeros((0, 0)))
        ndat += int(np.sum(np.diag(a1) != 0))
        s0 = _casewise_scores(grp.x, mu, sig) @ delta
        b0 = s0.T @ s0 / grp.n
        tr_h0 = fg * float(np.sum(e_inv[np.ix_(cols, cols)] * b0.T))
        trace += tr_h1 - tr_h0
        trace_h1 += tr_h1
        trace_h0 += tr_h0
        meat[np.ix_(cols, cols)] += fg * b0
        # baseline: free means and variances of the non-x variables
        coords = baseline_coords(p, grp.x_idx, grp.x_idx)
        delta_b = np.zeros((p + p * (p + 1) // 2, len(coords)))
        delta_b[coords, np.arange(len(coords))] = 1.0
        sb = fm.baseline_sigma(grp.s, grp.x_idx)
        h_b = np.zeros((len(delta_b),) * 2)
        h_b[:p, :p] = np.linalg.inv(sb)
        h_b[p:, p:] = rb.h1_observed_information(sb, grp.s)
        e_b = delta_b.T @ h_b @ delta_b
        sc_b = _casewise_scores(grp.x, grp.m, sb) @ delta_b
        trace_b += rb.yuan_bentler_trace(a1, b1, sc_b.T @ sc_b / grp.n, np.linalg.inv(e_b))
    vc = e_inv @ meat @ e_inv / n
    # lavaan's scaling.factor.h1/.h0: the two parts of the trace, per statistic and
    # per free entry of the parameter table (lavaan's nx.free: every group's copy of an
    # equality-constrained parameter counted)
    nx_free = sum(sum(nm is not None for nm in grp.names) + len(reg.a_free[g])
                  for g, grp in enumerate(setup.groups))
    return _scaled_measures(pieces, trace, trace_b, trace_h1 / ndat,
                            trace_h0 / nx_free), vc


def mlr_fiml(setup: Setup, reg: Registry, theta, pieces: dict, hess=None):
    """Yuan-Bentler (Mplus) scaled test and Huber-White covariance of a multi-group
    FIML fit (lavaan ``estimator = "MLR", missing = "ml"`` with ``group =``).

    Notes
    -----
    With H the observed information of the FIML log-likelihood (total, the stacked
    parameters), s_i the casewise scores of case i in its group's moments times the
    group's Jacobian, B0 = sum_i s_i s_i', and per group A1_g, S1_g the observed
    information and casewise scores of the saturated moments at their EM estimates
    (:func:`adoption.sem.fiml.h1_informations`, fixed-x coordinates left out):
    tr(U Gamma) = sum_g tr(A1_g^-1 S1_g' S1_g) - tr(H^-1 B0), c = tr / df
    (lavaan ``lav_test_yuan_bentler_mplus_trace``); the baseline's c_b likewise, group
    by group, with its own observed information and scores at its FIML estimates.
    scaling.factor.h1 = sum_g tr(A1_g^-1 S1_g' S1_g) / (number of non-x moments),
    scaling.factor.h0 = tr(H^-1 B0) / (free entries of every group, intercepts
    included). vcov = H^-1 B0 H^-1 (lavaan ``se = "robust.huber.white"``), as the
    single-group :mod:`adoption.sem.fimlfit`. ``hess``: H when already computed.
    """
    p = len(setup.observed)
    if hess is None:
        hess = observed_information(setup, reg, theta)
    h_inv = np.linalg.inv(hess)
    meat = np.zeros((reg.k, reg.k))
    tr_h1 = trace_b = 0.0
    ndat = 0
    for g, grp in enumerate(setup.groups):
        sig, mu, cols, ds, dm = group_moments(setup, reg, g, theta)
        s_mu, s_sig = fiml.casewise_scores(grp.pat, mu, sig)
        s0 = s_mu @ dm + s_sig @ ds
        meat[np.ix_(cols, cols)] += s0.T @ s0
        h = _group_h1(grp, p)
        keep, a1, s1 = h["keep"], h["a1"], h["s1"]
        tr_g = float(np.sum(np.linalg.solve(a1[np.ix_(keep, keep)], s1[:, keep].T)
                            * s1[:, keep].T))
        tr_h1 += tr_g
        ndat += len(keep)
        coords = h["coords"]
        e_b = fiml.moment_observed_information(grp.pat, h["mu_b"], h["s_b"], coords=coords)
        sb = fiml.moment_scores(grp.pat, h["mu_b"], h["s_b"])[:, coords]
        trace_b += tr_g - float(np.sum(np.linalg.solve(e_b, sb.T) * sb.T))
    tr_h0 = float(np.sum(h_inv * meat.T))
    nx_free = sum(sum(nm is not None for nm in grp.names) + len(reg.a_free[g])
                  for g, grp in enumerate(setup.groups))
    return (_scaled_measures(pieces, tr_h1 - tr_h0, trace_b, tr_h1 / ndat, tr_h0 / nx_free),
            h_inv @ meat @ h_inv)
