"""adoption.sem.fiml's formulas against brute force: the casewise log-likelihood pattern
by pattern, its gradient and scores against central differences, the expected
information against the per-pattern sum, EM against a direct maximisation check.

Tolerances: closed forms 1e-10 relative; central differences (h = 1e-6) 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from adoption.sem import fiml
from adoption.sem.robust import dkd, vech_index


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(11)
    p, n = 5, 120
    a = rng.normal(size=(p, p))
    cov = a @ a.T / p + np.eye(p)
    x = rng.multivariate_normal(np.arange(p, dtype=float), cov, size=n)
    x[rng.random((n, p)) < 0.15] = np.nan
    x = x[~np.isnan(x).all(axis=1)]
    mu = np.nanmean(x, axis=0) + 0.1
    sigma = cov * 1.1
    return fiml.missing_patterns(x), mu, sigma


def _brute_loglik(x, mu, sigma):
    total = 0.0
    for row in x:
        o = ~np.isnan(row)
        s = sigma[np.ix_(o, o)]
        d = row[o] - mu[o]
        total += -0.5 * (o.sum() * math.log(2 * math.pi) + np.linalg.slogdet(s)[1]
                         + d @ np.linalg.solve(s, d))
    return total


def test_loglik_equals_row_by_row(case):
    pat, mu, sigma = case
    assert_allclose(fiml.loglik(pat, mu, sigma), _brute_loglik(pat.x, mu, sigma), rtol=1e-12)


def test_gradient_equals_central_differences(case):
    pat, mu, sigma = case
    g = fiml.moment_gradient(pat, mu, sigma)
    r, c = vech_index(pat.p)
    h = 1e-6
    num = []
    for j in range(pat.p):
        e = np.zeros(pat.p)
        e[j] = h
        num.append((fiml.loglik(pat, mu + e, sigma) - fiml.loglik(pat, mu - e, sigma)) / (2 * h))
    for a, b in zip(r, c):
        e = np.zeros((pat.p, pat.p))
        e[a, b] = e[b, a] = h
        num.append((fiml.loglik(pat, mu, sigma + e) - fiml.loglik(pat, mu, sigma - e)) / (2 * h))
    assert_allclose(g, num, rtol=1e-6, atol=1e-6)


def test_casewise_scores_sum_to_gradient(case):
    pat, mu, sigma = case
    assert_allclose(fiml.moment_scores(pat, mu, sigma).sum(axis=0),
                    fiml.moment_gradient(pat, mu, sigma), rtol=1e-10, atol=1e-10)


def test_expected_information_equals_pattern_sum(case):
    pat, _, sigma = case
    p = pat.p
    rng = np.random.default_rng(3)
    d = rng.normal(size=(4, p, p))
    d = d + d.transpose(0, 2, 1)
    info, info_mu = fiml.expected_information(pat, sigma, d)
    want, want_mu = np.zeros((4, 4)), np.zeros((p, p))
    for o, f in zip(pat.observed, pat.freq):
        a = np.zeros((p, p))
        a[np.ix_(o, o)] = np.linalg.inv(sigma[np.ix_(o, o)])
        want_mu += f * a
        for k in range(4):
            for m in range(4):
                want[k, m] += f / 2 * np.trace(a @ d[k] @ a @ d[m])
    assert_allclose(info, want, rtol=1e-10)
    assert_allclose(info_mu, want_mu, rtol=1e-10, atol=1e-12)


def test_gfi_quadratic_forms_equal_explicit_weight(case):
    pat, mu, sigma = case
    p = pat.p
    rng = np.random.default_rng(5)
    e_mu = rng.normal(size=p)
    e_sig = rng.normal(size=(p, p))
    e_sig = e_sig + e_sig.T
    r, c = vech_index(p)
    w11, w22 = np.zeros((p, p)), np.zeros((len(r), len(r)))
    for o, f in zip(pat.observed, pat.freq):
        a = np.zeros((p, p))
        a[np.ix_(o, o)] = np.linalg.inv(sigma[np.ix_(o, o)])
        w11 += f * a
        w22 += f * 0.5 * dkd(a, a)
    v = e_sig[r, c]
    want = (e_mu @ w11 @ e_mu + v @ w22 @ v) / pat.n
    assert_allclose(fiml.gfi_quadratic_forms(pat, e_mu, e_sig, sigma), want, rtol=1e-10)


def test_em_reaches_the_saturated_maximum(case):
    pat, _, _ = case
    mu, sigma, _, ok = fiml.em_moments(pat, max_iter=5000, tol=1e-12)
    assert ok
    assert_allclose(fiml.moment_gradient(pat, mu, sigma), 0.0, atol=1e-7)


def test_complete_data_em_is_sample_moments():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 3))
    mu, sigma, it, ok = fiml.em_moments(fiml.missing_patterns(x))
    assert ok
    assert_allclose(mu, x.mean(axis=0), rtol=1e-12)
    assert_allclose(sigma, np.cov(x, rowvar=False, bias=True), rtol=1e-12)


def test_pairwise_moments_as_r():
    # R: cov(x, use = "pairwise") * (N - 1) / N; pandas' pairwise cov has divisor n_ij - 1
    import pandas as pd

    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 3))
    x[rng.random((40, 3)) < 0.2] = np.nan
    mean, cov = fiml.pairwise_moments(x)
    assert_allclose(mean, np.nanmean(x, axis=0), rtol=1e-12)
    assert_allclose(cov, pd.DataFrame(x).cov().to_numpy() * 39 / 40, rtol=1e-12)


def test_moment_observed_information_equals_central_differences(case):
    # the analytic observed information of (mu, vech Sigma) against minus the central
    # differences (h = 1e-6) of the analytic gradient, away from the optimum
    pat, mu, sigma = case
    p = pat.p
    r, c = vech_index(p)
    info = fiml.moment_observed_information(pat, mu, sigma)
    num = np.zeros_like(info)
    for j in range(p + len(r)):
        mp, mm, sp, sm = mu.copy(), mu.copy(), sigma.copy(), sigma.copy()
        h = 1e-6
        if j < p:
            mp[j] += h
            mm[j] -= h
        else:
            a, b = r[j - p], c[j - p]
            for s, sign in ((sp, 1.0), (sm, -1.0)):
                s[a, b] += sign * h
                if a != b:
                    s[b, a] += sign * h
        num[:, j] = -(fiml.moment_gradient(pat, mp, sp) - fiml.moment_gradient(pat, mm, sm)) \
            / (2 * h)
    assert_allclose(info, num, rtol=1e-6, atol=1e-6 * np.abs(info).max())
    sub = [0, 3, p + 2, p + 7]
    assert_allclose(fiml.moment_observed_information(pat, mu, sigma, coords=sub),
                    info[np.ix_(sub, sub)], rtol=1e-12)
