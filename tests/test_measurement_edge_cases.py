"""Edge cases: never crash, never a silently wrong number -- NaN plus a warning."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adoption.measurement.efa import efa, parallel_analysis
from adoption.measurement.normality import mardia
from adoption.measurement.reliability import cronbach_alpha, item_total_statistics
from adoption.measurement.validity import (
    bartlett_sphericity, harman_single_factor, htmt, kmo,
)


def _noise(n=200, p=4, seed=3):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, p)), columns=[f"x{i}" for i in range(p)])


def test_singular_matrix():
    d = _noise()
    d["dup"] = d["x0"]  # perfectly collinear
    r = d.corr()
    k = kmo(r)
    assert np.isnan(k.overall) and k.items["msa"].isna().all() and k.warnings
    b = bartlett_sphericity(r, n=len(d))
    assert np.isnan(b.chisq) and np.isnan(b.pvalue) and b.warnings
    m = mardia(d)
    assert np.isnan(m.b1p) and np.isnan(m.p_kurt) and m.warnings


def test_constant_item():
    d = _noise()
    d["const"] = 3.0
    a = cronbach_alpha(d)
    # raw alpha is defined (as psych::alpha gives it); standardised alpha is not
    assert np.isfinite(a.alpha) and np.isnan(a.alpha_std) and a.warnings
    k = kmo(d.corr())
    assert np.isnan(k.overall) and k.warnings
    assert np.isnan(bartlett_sphericity(d.corr(), len(d)).chisq)
    assert np.isnan(mardia(d).b1p)
    e = efa(d, 1)
    assert e.loadings.empty and e.warnings
    assert harman_single_factor(d.corr()).warnings


def test_uncorrelated_items_low_kmo():
    d = _noise(n=2000)
    k = kmo(d.corr())
    assert k.overall < 0.6 and k.warnings
    a = cronbach_alpha(d)
    assert abs(a.alpha) < 0.2


def test_two_item_construct():
    d = _noise()
    d["x1"] = d["x0"] + 0.5 * d["x1"]
    a = cronbach_alpha(d[["x0", "x1"]])
    assert np.isfinite(a.alpha) and any("2 items" in w for w in a.warnings)
    tab = item_total_statistics(d[["x0", "x1"]])
    assert tab["alpha_if_deleted"].isna().all()
    assert np.isfinite(tab["r_drop"]).all()
    h = htmt(d, {"A": ["x0", "x1"], "B": ["x2", "x3"]})
    assert np.isfinite(h.matrix.loc["A", "B"])
    assert any("barely correlate" in w for w in h.warnings)  # B is noise
    k = kmo(d[["x0", "x1"]].corr())
    assert abs(k.overall - 0.5) < 1e-12 and "2 items" in k.warnings[0]


def test_single_item_construct():
    d = _noise()
    a = cronbach_alpha(d[["x0"]])
    assert np.isnan(a.alpha) and a.warnings
    h = htmt(d, {"A": ["x0"], "B": ["x2", "x3"]})
    assert np.isnan(h.matrix.loc["A", "B"]) and h.warnings


def test_nans_are_handled():
    d = _noise()
    d.iloc[::7, 1] = np.nan
    a = cronbach_alpha(d)
    assert np.isfinite(a.alpha)
    m = mardia(d)
    assert m.n == len(d) - len(range(0, len(d), 7))
    pa = parallel_analysis(d, n_iter=20)
    assert pa.n_factors >= 0


def test_parallel_analysis_is_seeded():
    d = _noise(n=300, p=6)
    d["x1"] += d["x0"]
    d["x2"] += d["x0"]
    a = parallel_analysis(d, seed=5)
    b = parallel_analysis(d, seed=5)
    pd.testing.assert_frame_equal(a.eigenvalues, b.eigenvalues)
    assert a.n_factors == 1 and a.n_components == 1


def test_parallel_analysis_singular():
    d = _noise()
    d["dup"] = d["x0"] * 2
    res = parallel_analysis(d, n_iter=10)
    assert res.n_factors == 0 and res.warnings


def _mardia_by_d(x: np.ndarray) -> tuple[float, float]:
    """b1p and b2p from the n x n matrix D, as psych::mardia computes them."""
    xc = x - x.mean(axis=0)
    d = xc @ np.linalg.solve(xc.T @ xc / (len(x) - 1), xc.T)
    return np.sum(d**3) / len(x) ** 2, np.sum(np.diag(d) ** 2) / len(x)


def test_mardia_blocked_equals_the_n_by_n_formula(monkeypatch):
    from adoption.measurement import normality

    rng = np.random.default_rng(3)
    x = np.round(3 + rng.standard_t(5, size=(700, 6)) @ rng.normal(size=(6, 6)) / 3)
    expected = _mardia_by_d(x)
    # small blocks (97 rows), so the row blocks and their sums are exercised
    monkeypatch.setattr(normality, "_blocks", lambda n, p, cells=97 * 36: (
        slice(a, min(a + 97, n)) for a in range(0, n, 97)))
    m = mardia(x)
    # the same sums in another order: rounding only (1e-10 relative)
    np.testing.assert_allclose([m.b1p, m.b2p], expected, rtol=1e-10)


def test_mardia_at_fifty_thousand_rows_needs_no_n_by_n_matrix():
    import tracemalloc

    rng = np.random.default_rng(4)
    x = rng.normal(size=(50_000, 10))
    tracemalloc.start()
    m = mardia(x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # D would be 50,000^2 doubles (18.6 GiB); the blocked sums need the data's copy
    # (4 MB) and a few 16 MB blocks
    assert peak < 100e6, peak
    # normal data: b2p near p(p+2) = 120, b1p near p(p+1)(p+2)/n (its expectation)
    assert abs(m.b2p - 120) < 1 and 0 < m.b1p < 0.1
