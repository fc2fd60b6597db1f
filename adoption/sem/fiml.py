"""Full-information ML with incomplete data: lavaan's ``missing = "ml"``.

Pure functions of numpy arrays, grouped by missingness pattern. ``x`` is the N x p data
matrix of the model variables with NaN for a missing value (rows that are entirely
missing already removed), ``mu`` and ``sigma`` the mean vector and covariance matrix
being evaluated. Nothing here knows about semopy or about a parameter table: the
engine (:mod:`adoption.sem.engine`) maps these moment-level quantities onto the model
parameters with the Jacobian Delta.

Formulas
--------
For pattern g with n_g rows, observed variables o, pattern mean ybar_g and pattern
covariance S_g (divisor n_g),

    logl_g = -n_g/2 [p_o log 2pi + log|Sigma_oo| + tr(Sigma_oo^-1 S*_g)],
    S*_g = S_g + (ybar_g - mu_o)(ybar_g - mu_o)'.

The casewise (FIML) log-likelihood is sum_g logl_g (lavaan
``lav_mvnorm_missing_loglik_samplestats``); its gradient is

    d logl / d mu = sum_g n_g Sigma_oo^-1 (ybar_g - mu_o)            (embedded in p)
    d logl = 1/2 tr(M dSigma),  M = sum_g n_g Sigma_oo^-1 (S*_g - Sigma_oo) Sigma_oo^-1.

For MLR the casewise scores (:func:`casewise_scores`), the observed information of the
saturated moments (:func:`moment_observed_information`) and Zhang and Savalei's
FIML-corrected trace (:func:`fiml_corrected_traces`) give lavaan's sandwich SEs,
Yuan-Bentler scaled test and robust CFI/TLI/RMSEA; the engine combines them.

References
----------
Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
In *Advanced structural equation modeling*, 243-277.
Savalei, V. (2010). Expected versus observed information in SEM with incomplete normal
and nonnormal data. *Psychological Methods*, 15, 352-367.
Zhang, X., & Savalei, V. (2023). New computations for RMSEA and CFI following FIML and
TS estimation with missing data. *Psychological Methods*, 28, 263-283.
lavaan 0.6-14 source: ``lav_mvnorm_missing.R`` (``lav_mvnorm_missing_h1_estimate_moments``,
``lav_mvnorm_missing_estep``, ``lav_mvnorm_missing_information_expected``),
``lav_data_patterns.R``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from adoption.sem.robust import vech_index

_LOG2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class Patterns:
    """Rows of an incomplete data matrix grouped by missingness pattern.

    Attributes
    ----------
    x : np.ndarray
        N x p data, NaN where missing (no row entirely missing).
    observed, missing : tuple of np.ndarray
        Per pattern, the indices of its observed and of its missing variables.
    rows : tuple of np.ndarray
        Per pattern, the indices of its rows in ``x``.
    freq : np.ndarray
        Rows per pattern.
    groups : tuple
        Incomplete patterns batched by their number m of missing variables, for
        vectorised computation: (mis, freq, rows, row_pattern) with mis the G x m missing
        indices, freq the G pattern sizes, rows the data rows of these patterns and
        row_pattern each row's pattern (0..G-1).
    """

    x: np.ndarray
    observed: tuple
    missing: tuple
    rows: tuple
    freq: np.ndarray
    groups: tuple = ()

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def p(self) -> int:
        return int(self.x.shape[1])


def missing_patterns(x: np.ndarray) -> Patterns:
    """Group the rows of ``x`` (NaN = missing) by which variables they observe."""
    x = np.asarray(x, dtype=float)
    obs = ~np.isnan(x)
    keys, inverse = np.unique(obs, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    observed, missing, rows = [], [], []
    for k in range(keys.shape[0]):
        observed.append(np.flatnonzero(keys[k]))
        missing.append(np.flatnonzero(~keys[k]))
        rows.append(np.flatnonzero(inverse == k))
    freq = np.array([len(r) for r in rows], dtype=float)
    groups = []
    for m in sorted({len(mis) for mis in missing} - {0}):
        which = [g for g in range(len(rows)) if len(missing[g]) == m]
        row_idx = np.concatenate([rows[g] for g in which])
        row_pat = np.concatenate([np.full(len(rows[g]), j) for j, g in enumerate(which)])
        groups.append((np.array([missing[g] for g in which]), freq[which], row_idx, row_pat))
    return Patterns(x=x, observed=tuple(observed), missing=tuple(missing), rows=tuple(rows),
                    freq=freq, groups=tuple(groups))


def casewise_terms(pat: Patterns, mu: np.ndarray, sigma: np.ndarray):
    """Per row i of pattern g: d_i = y_i - mu (0 where missing),
    z_i = Sigma_oo^-1 d_i embedded in p (0 where missing) and log|Sigma_oo|; plus
    Sigma^-1 and sum_g n_g A_g with A_g = Sigma_oo^-1 embedded.

    Uses the partitioned inverse: A_g = Sigma^-1 - U C U' with U = Sigma^-1[:, m],
    C = (Sigma^-1[m, m])^-1, m the missing variables, and
    log|Sigma_oo| = log|Sigma| + log|Sigma^-1[m, m]|, so one p x p inverse serves
    every pattern. Raises LinAlgError when Sigma is not positive definite.
    """
    chol = np.linalg.cholesky(sigma)
    logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
    si = np.linalg.inv(sigma)
    si = (si + si.T) / 2
    d = np.where(np.isnan(pat.x), 0.0, pat.x - mu)
    w = d @ si
    z = w.copy()
    row_ld = np.full(pat.n, logdet)
    a_sum = pat.n * si
    for mis, freq, rows, row_pat in pat.groups:
        s_mm = si[mis[:, :, None], mis[:, None, :]]  # G x m x m
        c = np.linalg.inv(s_mm)
        u = np.swapaxes(si[:, mis], 0, 1)  # G x p x m
        uc = u @ c  # G x p x m
        w_m = np.take_along_axis(w[rows], mis[row_pat], axis=1)  # n x m
        corr = w_m[:, :1] * uc[row_pat, :, 0]
        for a in range(1, mis.shape[1]):
            corr += w_m[:, a:a + 1] * uc[row_pat, :, a]
        z[rows] -= corr
        row_ld[rows] += np.linalg.slogdet(s_mm)[1][row_pat]
        a_sum -= _weighted_outer_sum(freq, uc, u)
    return d, z, row_ld, si, a_sum


def _weighted_outer_sum(freq: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum_g freq_g a_g b_g' for stacks a, b of g x p x m matrices, as one product."""
    g, p, m = a.shape
    return (a * freq[:, None, None]).transpose(1, 0, 2).reshape(p, g * m) @ \
        b.transpose(1, 0, 2).reshape(p, g * m).T


def loglik(pat: Patterns, mu: np.ndarray, sigma: np.ndarray) -> float:
    """Casewise normal log-likelihood sum_g logl_g (see the module notes); -inf when
    Sigma is not positive definite."""
    try:
        d, z, ld, _, _ = casewise_terms(pat, mu, sigma)
    except np.linalg.LinAlgError:
        return -math.inf
    n_obs = np.sum(~np.isnan(pat.x))
    return float(-0.5 * (n_obs * _LOG2PI + np.sum(ld) + np.einsum("ij,ij->", d, z)))


def gradient(pat: Patterns, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of :func:`loglik`: (d logl / d mu, M) with d logl = 1/2 tr(M dSigma)
    for a symmetric change dSigma (module notes). The gradient with respect to vech(Sigma)
    is vech(M) with the diagonal halved.

    Notes
    -----
    M = sum_i z_i z_i' - sum_g n_g A_g and d logl / d mu = sum_i z_i, with z_i and A_g
    as in the module notes (casewise form of n_g A_g (S*_g - Sigma_oo) A_g).
    """
    _, z, _, _, a_sum = casewise_terms(pat, mu, sigma)
    return z.sum(axis=0), z.T @ z - a_sum


def casewise_scores(pat: Patterns, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Casewise scores d logl_i / d mu (N x p) and d logl_i / d vech(Sigma) (N x p*),
    row order of ``pat.x``: z_i and 1/2 vech(z_i z_i' - A_g) with the off-diagonal
    counted twice (lavaan ``lav_mvnorm_missing_scores_mu_vech_sigma``)."""
    _, z, _, si, _ = casewise_terms(pat, mu, sigma)
    r, c = vech_index(pat.p)
    weight = np.where(r == c, 0.5, 1.0)
    s_sig = z[:, r] * z[:, c]
    for mis, idx in zip(pat.missing, pat.rows):
        a = si.copy()
        if len(mis):
            u = si[:, mis]
            a -= u @ np.linalg.solve(si[np.ix_(mis, mis)], u.T)
        s_sig[idx] -= a[r, c]
    return z, s_sig * weight


def expected_information(pat: Patterns, sigma: np.ndarray, dsigma: np.ndarray):
    """Expected (Fisher) information of the FIML log-likelihood, totals over rows (MAR).

    Parameters
    ----------
    sigma : np.ndarray
        p x p.
    dsigma : np.ndarray
        k x p x p, the derivatives dSigma/dtheta_k.

    Returns
    -------
    info_theta : np.ndarray
        k x k, sum_g n_g/2 tr(A_g D_k A_g D_l) (``lav_mvnorm_missing_information_expected``
        premultiplied by Delta' and postmultiplied by Delta).
    info_mu : np.ndarray
        p x p, sum_g n_g A_g (the mean block; mean and covariance blocks are orthogonal).

    Notes
    -----
    With A_g = Sigma^-1 - U C U' (see :func:`loglik`), tr(A D_k A D_l) =
    tr(Si D_k Si D_l) - 2 tr(C P_k' Si P_l) + tr(C Q_k C Q_l), P_k = D_k U, Q_k = U'P_k:
    the complete-data term once, then a rank-m correction per pattern.
    """
    si = np.linalg.inv(sigma)
    k, p, _ = dsigma.shape
    t = (si @ dsigma).reshape(k, p * p)  # Si D_k, flattened
    tt = (si @ dsigma).transpose(0, 2, 1).reshape(k, p * p)
    info = pat.n / 2 * (t @ tt.T)
    info_mu = pat.n * si
    d2 = dsigma.reshape(k * p, p)
    for mis, freq, _, _ in pat.groups:  # all patterns with m missing at once
        g, m = mis.shape
        u = np.swapaxes(si[:, mis], 0, 1)  # g x p x m
        c = np.linalg.inv(si[mis[:, :, None], mis[:, None, :]])  # g x m x m
        info_mu -= _weighted_outer_sum(freq, u @ c, u)
        if k == 0:
            continue
        pk = (d2 @ u.transpose(1, 0, 2).reshape(p, g * m)).reshape(k, p, g, m)
        sip = np.einsum("ij,kjgm->kigm", si, pk, optimize=True)
        pc = np.einsum("kigm,gmn,g->kign", pk, c, freq, optimize=True)
        x_kl = pc.reshape(k, -1) @ sip.reshape(k, -1).T
        qc = np.einsum("gia,kigb,gbc->kgac", u, pk, c, optimize=True)  # Q_k C
        y_kl = np.einsum("g,kgab->kgab", freq, qc).reshape(k, -1) @ \
            qc.transpose(0, 1, 3, 2).reshape(k, -1).T
        info -= (2 * x_kl - y_kl) / 2
    return (info + info.T) / 2, info_mu


def em_moments(pat: Patterns, max_iter: int = 500, tol: float = 1e-5):
    """Saturated (unrestricted) mean and covariance by EM, exactly as lavaan's
    ``lav_mvnorm_missing_h1_estimate_moments`` (same start, update, ridge and stopping
    rule, so the same numbers).

    Returns
    -------
    mu : np.ndarray
    sigma : np.ndarray
        Divisor N.
    iterations : int
    converged : bool
        False when ``max_iter`` was reached.

    Notes
    -----
    Start: available-case means and variances (divisor: the observed count), zero
    covariances. E-step: every missing block is replaced by its conditional expectation
    given the observed block; T1 = sum E[y], T2 = sum E[yy']. M-step: mu = T1/N,
    Sigma = T2/N - mu mu'; if an eigenvalue of Sigma is below 1e-6, max(diag) 1e-8 is
    added to the diagonal. Stops when the largest absolute change of (mu, vech Sigma) is
    below ``tol`` (lavaan's default 1e-5).
    """
    x = pat.x
    n, p = x.shape
    mu0 = np.nanmean(x, axis=0)
    var0 = np.nanmean((x - mu0) ** 2, axis=0)
    var0[~np.isfinite(var0) | (var0 == 0)] = 1.0
    sigma0 = np.diag(var0)
    mu, sigma = mu0, sigma0
    r, c = vech_index(p)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for o, mis, idx, f in zip(pat.observed, pat.missing, pat.rows, pat.freq):
            if len(mis) == 0:
                y = x[idx]
                t1 += y.sum(axis=0)
                t2 += y.T @ y
                continue
            y = np.empty((len(idx), p))
            y[:, o] = x[np.ix_(idx, o)]
            coef = np.linalg.solve(sigma0[np.ix_(o, o)], sigma0[np.ix_(o, mis)])
            y[:, mis] = mu0[mis] + (y[:, o] - mu0[o]) @ coef
            cond = sigma0[np.ix_(mis, mis)] - sigma0[np.ix_(mis, o)] @ coef
            t1 += y.sum(axis=0)
            t2 += y.T @ y
            t2[np.ix_(mis, mis)] += f * cond
        mu = t1 / n
        sigma = t2 / n - np.outer(mu, mu)
        sigma = (sigma + sigma.T) / 2
        if np.min(np.linalg.eigvalsh(sigma)) < 1e-6:
            sigma[np.diag_indices(p)] += np.max(np.diag(sigma)) * 1e-8
        delta = max(np.max(np.abs(mu - mu0)), np.max(np.abs(sigma[r, c] - sigma0[r, c])))
        if delta < tol:
            converged = True
            break
        mu0, sigma0 = mu, sigma
    return mu, sigma, it, converged


def independence_moments(pat: Patterns, x_idx=()) -> tuple[np.ndarray, np.ndarray]:
    """ML mean and covariance of lavaan's baseline (independence) model under FIML.

    Variables are independent, so the likelihood factors into univariate ones: each
    variable's available-case mean and variance (divisor: its observed count). The
    observed exogenous predictors ``x_idx`` keep a saturated block, as in lavaan's
    baseline: their complete-data sample moments under fixed x (x is then complete),
    their EM estimates when x is random and incomplete (fixed_x=False).
    """
    x = pat.x
    mu = np.nanmean(x, axis=0)
    sigma = np.diag(np.nanmean((x - mu) ** 2, axis=0))
    x_idx = list(x_idx)
    if x_idx:
        xx = x[:, x_idx]
        xx = xx[~np.isnan(xx).all(axis=1)]
        mu_x, s_x, _, _ = em_moments(missing_patterns(xx), max_iter=10000, tol=1e-12)
        mu[x_idx] = mu_x
        sigma[np.ix_(x_idx, x_idx)] = s_x
    return mu, sigma


def gfi_quadratic_forms(pat: Patterns, e_mu: np.ndarray, e_sigma: np.ndarray,
                        sigma: np.ndarray) -> float:
    """e'We / N for the stacked vector e = (e_mu, vech(e_sigma)) with W the expected
    information of (mu, vech Sigma) under missing data, lavaan's
    ``lav_mvnorm_missing_information_expected``:
    W = sum_g n_g [Sigma_oo^-1 (+) 1/2 D'(Sigma_oo^-1 (x) Sigma_oo^-1) D] (embedded).

    Computed without W: vech(E)' 1/2 D'(A (x) A)D vech(E) = 1/2 tr(A E A E).
    """
    total = 0.0
    for o, f in zip(pat.observed, pat.freq):
        si = np.linalg.inv(sigma[np.ix_(o, o)])
        em = e_mu[o]
        es = e_sigma[np.ix_(o, o)]
        a = si @ es
        total += f * (em @ si @ em + 0.5 * np.sum(a * a.T))
    return float(total / pat.n)


def pairwise_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's "sample statistics" under ``missing = "ml"`` (``WLS.obs``, used by GFI):
    available-case means and pairwise-complete covariances, R's
    ``cov(x, use = "pairwise")`` (each pair centred at its own means, divisor
    n_ij - 1) rescaled by (N - 1)/N."""
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    obs = (~np.isnan(x)).astype(float)
    x0 = np.where(np.isnan(x), 0.0, x)
    n_ij = obs.T @ obs
    sums = x0.T @ obs  # [i, j]: sum of x_i over rows observing both i and j
    cross = x0.T @ x0
    cov = (cross - sums * sums.T / n_ij) / (n_ij - 1) * (n - 1) / n
    return np.nanmean(x, axis=0), cov


def gfi(pat: Patterns, m_obs: np.ndarray, s_obs: np.ndarray, mu: np.ndarray,
        sigma: np.ndarray, x_idx=()) -> float:
    """GFI under ``missing = "ml"`` as lavaan computes it (``lav_fit_gfi``):
    1 - e'We / o'Wo with o = (m_obs, vech s_obs) lavaan's sample statistics
    (:func:`pairwise_moments`), e = o - (mu, vech sigma) and W the expected information
    of (mu, vech Sigma) at the fitted moments (:func:`gfi_quadratic_forms`); the fixed-x
    means and (co)variances get weight zero.
    """
    e_mu, e_sig = m_obs - mu, s_obs - sigma
    o_mu, o_sig = m_obs.copy(), s_obs.copy()
    x_idx = list(x_idx)
    if x_idx:
        for a in (e_mu, o_mu):
            a[x_idx] = 0.0
        for a in (e_sig, o_sig):
            a[np.ix_(x_idx, x_idx)] = 0.0
    return 1.0 - gfi_quadratic_forms(pat, e_mu, e_sig, sigma) / \
        gfi_quadratic_forms(pat, o_mu, o_sig, sigma)


def moment_gradient(pat: Patterns, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """d logl / d (mu, vech Sigma): the stacked vector of length p + p* (lavaan's order:
    means first, then vech by columns)."""
    r, c = vech_index(pat.p)
    g_mu, big_m = gradient(pat, mu, sigma)
    return np.concatenate([g_mu, big_m[r, c] * np.where(r == c, 0.5, 1.0)])


def moment_observed_information(pat: Patterns, mu: np.ndarray, sigma: np.ndarray,
                                coords=None) -> np.ndarray:
    """Observed information (minus the Hessian of :func:`loglik`, total over rows) of
    (mu, vech Sigma); only the rows and columns ``coords`` when given (lavaan
    ``lav_mvnorm_missing_information_observed_samplestats`` times N).

    Notes
    -----
    Per pattern g with A = Sigma_oo^-1 (embedded in p x p, zero elsewhere), residuals
    d_i = y_i - mu_o, z_i = A d_i, e_g = sum_i z_i, and symmetric directions E, F of
    Sigma:

        mu, mu:        sum_g n_g A
        mu, Sigma[E]:  sum_g A E e_g
        Sigma[E, F]:   sum_g [tr(F A E Z_g) - n_g/2 tr(F A E A)],  Z_g = sum_i z_i z_i'

    The vech coordinate (a, b) is the direction e_a e_b' + e_b e_a' (halved on the
    diagonal). The sums of Kronecker products sum_g X_g (x) Y_g are one matrix product
    over the patterns (a p^2 x p^2 array), so the cost does not grow with p^2 gradient
    evaluations.
    """
    p = pat.p
    r, c = vech_index(p)
    d_all = np.where(np.isnan(pat.x), 0.0, pat.x - mu)
    n_pat = len(pat.rows)
    xs = np.zeros((2 * n_pat, p, p))
    ys = np.zeros((2 * n_pat, p, p))
    a_sum = np.zeros((p, p))
    cross = np.zeros((p, p, p))  # cross[i, a, b] = sum_g A_g[i, a] e_g[b]
    for g, (o, rows) in enumerate(zip(pat.observed, pat.rows)):
        a = np.zeros((p, p))
        a[np.ix_(o, o)] = np.linalg.inv(sigma[np.ix_(o, o)])
        z = d_all[rows] @ a
        xs[g], ys[g] = z.T @ z, a
        xs[n_pat + g], ys[n_pat + g] = -0.5 * len(rows) * a, a
        a_sum += len(rows) * a
        cross += a[:, :, None] * z.sum(axis=0)[None, None, :]
    # t4[i, k, j, l] = sum_g X_g[i, k] Y_g[j, l]
    t4 = (xs.reshape(2 * n_pat, p * p).T @ ys.reshape(2 * n_pat, p * p)).reshape((p,) * 4)
    half = np.where(r == c, 0.5, 1.0)
    ra, rb_, ca, cb = r[:, None], c[:, None], r[None, :], c[None, :]
    sig_sig = (t4[rb_, ca, cb, ra] + t4[ra, ca, cb, rb_] + t4[rb_, cb, ca, ra]
               + t4[ra, cb, ca, rb_]) * half[:, None] * half[None, :]
    mu_sig = (cross[:, r, c] + cross[:, c, r]) * half[None, :]
    out = np.block([[a_sum, mu_sig], [mu_sig.T, sig_sig]])
    out = (out + out.T) / 2
    if coords is not None:
        out = out[np.ix_(coords, coords)]
    return out


def moment_scores(pat: Patterns, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Casewise scores of (mu, vech Sigma), N x (p + p*) (:func:`casewise_scores`
    stacked)."""
    s_mu, s_sig = casewise_scores(pat, mu, sigma)
    return np.hstack([s_mu, s_sig])


def fixed_x_coords(p: int, x_idx) -> np.ndarray:
    """Positions in (mu, vech Sigma) of the fixed-x means and (co)variances."""
    r, c = vech_index(p)
    xs = set(x_idx)
    mean_part = [i for i in range(p) if i in xs]
    cov_part = [p + k for k, (a, b) in enumerate(zip(r, c)) if a in xs and b in xs]
    return np.array(mean_part + cov_part, dtype=int)


def h1_informations(pat: Patterns, mu_h1: np.ndarray, s_h1: np.ndarray, x_idx=()):
    """Observed information A1 (total) and casewise scores S1 of the saturated moments
    (mu, vech Sigma) at their EM estimates (lavaan ``h1.information = "unstructured"``),
    with the fixed-x rows and columns zeroed as lavaan does.

    Returns
    -------
    a1 : np.ndarray
        (p + p*) x (p + p*).
    s1 : np.ndarray
        N x (p + p*); B1 = s1's1 / N.
    keep : np.ndarray
        The coordinates that are not fixed x.
    """
    s1 = moment_scores(pat, mu_h1, s_h1)
    keep = np.setdiff1d(np.arange(s1.shape[1]), fixed_x_coords(pat.p, x_idx))
    a1 = np.zeros((s1.shape[1],) * 2)
    a1[np.ix_(keep, keep)] = moment_observed_information(pat, mu_h1, s_h1, coords=keep)
    s1[:, np.setdiff1d(np.arange(s1.shape[1]), keep)] = 0.0
    return a1, s1, keep


def saturated_information(mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Complete-data information of (mu, vech Sigma) per observation at the saturated
    estimates: blockdiag(S^-1, 1/2 D'(S^-1 (x) S^-1) D) (observed = expected there)."""
    from adoption.sem.robust import ml_weight

    p = len(mean)
    w = ml_weight(cov)
    out = np.zeros((p + w.shape[0],) * 2)
    out[:p, :p] = np.linalg.inv(cov)
    out[p:, p:] = w
    return out


def fiml_corrected_traces(wm: np.ndarray, jm: np.ndarray | None, wc: np.ndarray, deltas,
                          keep: np.ndarray, version: str = "V3") -> list[float]:
    """k of Zhang and Savalei's FIML-corrected statistic for each model in ``deltas``
    (lavaan ``lav_fit_fiml_corrected``: the fitted model and the baseline): version "V3"
    (lavaan's choice with a scaled test, MLR) tr(U Wm^-1 Wc Wm^-1 U Gamma) with
    Gamma = Wm^-1 Jm Wm^-1; version "V6" (lavaan's choice without one, ML)
    tr(Wc Wm^-1 U Wm^-1); both with U = Wm - Wm Delta (Delta' Wm Delta)^-1 Delta' Wm.

    ``wm``, ``jm``: observed and first-order information of the saturated moments under
    missing data (per case; ``jm`` unused by V6); ``wc``: complete-data information at
    the EM moments; ``deltas``: d(mu, vech Sigma)/d(parameters)' of each model;
    ``keep``: the non-fixed-x coordinates (the rest is zero and left out of the
    inverse). V6 uses Wm^-1 U Wm^-1 = Wm^-1 - Delta (Delta' Wm Delta)^-1 Delta', so
    k = tr(Wm^-1 Wc) - tr((Delta' Wm Delta)^-1 Delta' Wc Delta).
    """
    sub = np.ix_(keep, keep)
    wm, wc = wm[sub], wc[sub]
    out = []
    if version == "V6":
        tr_all = float(np.trace(np.linalg.solve(wm, wc)))
        for delta in deltas:
            delta = delta[keep]
            out.append(tr_all - float(np.trace(np.linalg.solve(delta.T @ wm @ delta,
                                                               delta.T @ wc @ delta))))
        return out
    wmi = np.linalg.inv(wm)
    gamma = wmi @ jm[sub] @ wmi
    mid = wmi @ wc @ wmi
    for delta in deltas:
        delta = delta[keep]
        wd = wm @ delta
        u = wm - wd @ np.linalg.solve(delta.T @ wd, wd.T)
        out.append(float(np.sum((u @ mid) * (u @ gamma).T)))
    return out
