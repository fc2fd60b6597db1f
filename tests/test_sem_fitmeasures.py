"""Pure fit-index and information functions: closed forms checked against lavaan's
published Holzinger-Swineford values and against naive (Kronecker) formulas.

Tolerances: closed forms of the rounded reference chisq (6 decimals) reproduce the
6-decimal lavaan values to 1e-6 absolute; matrix identities hold to rounding (1e-12).
"""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from adoption.sem import fitmeasures as fm
from adoption.sem import robust as rb

# lavaan: cfa(HS model, HolzingerSwineford1939) -> chisq 85.305522 on 24 df, N 301,
# baseline 918.851589 on 36 df (tests/fixtures/reference/holzinger_swineford_cfa.json)
CHISQ, DF, N, CHISQ_B, DF_B = 85.305522, 24, 301, 918.851589, 36


def test_incremental_indices_match_lavaan():
    assert_allclose(fm.cfi(CHISQ, DF, CHISQ_B, DF_B), 0.930560, atol=1e-6)
    assert_allclose(fm.tli(CHISQ, DF, CHISQ_B, DF_B), 0.895839, atol=1e-6)
    assert_allclose(fm.nfi(CHISQ, DF, CHISQ_B, DF_B), 0.907161, atol=1e-6)


def test_cfi_is_clipped_and_tli_is_not():
    # chisq below df (paperlike CFA): CFI 1, TLI above 1 as in lavaan
    assert fm.cfi(547.754046, 574, 7899.603719, 666) == 1.0
    assert_allclose(fm.tli(547.754046, 574, 7899.603719, 666), 1.00421, atol=1e-5)


def test_rmsea_uses_n_not_n_minus_1():
    assert_allclose(fm.rmsea(CHISQ, DF, N), 0.092121, atol=1e-6)
    lo, hi = fm.rmsea_ci(CHISQ, DF, N)
    assert_allclose([lo, hi], [0.071418, 0.113678], atol=1e-6)
    assert_allclose(fm.rmsea_pvalue(CHISQ, DF, N), 0.000661, atol=1e-6)
    assert fm.rmsea(10.0, 20, 100) == 0.0


def test_robust_rmsea_and_cfi_match_lavaan_mlm():
    c, t = 1.054824, 80.871783  # SB scaling factor and chisq.scaled (lavaan, MLM)
    assert_allclose(fm.rmsea(t, DF, N), 0.088728, atol=2e-6)
    assert_allclose(fm.rmsea(CHISQ, DF, N, c=c), 0.091128, atol=2e-6)


def test_information_criteria():
    logl, npar = -3737.744927, 21
    assert_allclose(fm.aic(logl, npar), 7517.489853, atol=1e-5)
    assert_allclose(fm.bic(logl, npar, N), 7595.339169, atol=1e-5)


def test_gfi_equals_trace_form_without_fixed_x():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(50, 4))
    s = np.cov(a, rowvar=False, bias=True)
    sigma = np.diag(np.diag(s)) + 0.1
    m = np.linalg.solve(sigma, s)
    expected = 1 - np.trace((m - np.eye(4)) @ (m - np.eye(4))) / np.trace(m @ m)
    assert_allclose(fm.gfi(s, sigma, rb.ml_weight(sigma)), expected, rtol=1e-12)


def test_weight_matches_kronecker_definition():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(5, 5))
    sigma = a @ a.T + 5 * np.eye(5)
    d = rb.duplication_matrix(5)
    si = np.linalg.inv(sigma)
    assert_allclose(rb.ml_weight(sigma), 0.5 * d.T @ np.kron(si, si) @ d, rtol=1e-12)


def test_gamma_is_covariance_of_cross_products():
    rng = np.random.default_rng(5)
    x = rng.standard_t(5, size=(200, 3))
    r, c = rb.vech_index(3)
    dc = x - x.mean(axis=0)
    z = dc[:, r] * dc[:, c]
    assert_allclose(rb.gamma_adf(x), np.cov(z, rowvar=False, bias=True), rtol=1e-12)


def test_loglik_subtracts_fixed_x_block():
    rng = np.random.default_rng(6)
    s = np.cov(rng.normal(size=(100, 3)), rowvar=False, bias=True)
    full = fm.unrestricted_loglik(s, 100)
    cond = fm.unrestricted_loglik(s, 100, x_idx=[2])
    assert_allclose(full - cond, fm.loglik_x(s, 100, [2]), rtol=1e-12)
    assert_allclose(fm.chisq_ml(s, s, 100), 0.0, atol=1e-10)
