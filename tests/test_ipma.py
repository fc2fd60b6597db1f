"""IPMA formulas (Ringle & Sarstedt, 2016) against direct computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from adoption.ipma import construct_performance, ipma_table, rescale_items, unstandardised_total_effects


def test_rescale_uses_the_scale_bounds():
    x = pd.DataFrame({"a": [1, 3, 5], "b": [0, 5, 10]})
    r = rescale_items(x, {"a": 1, "b": 0}, {"a": 5, "b": 10})
    assert_allclose(r.to_numpy(), [[0, 0], [50, 50], [100, 100]])


def test_performance_is_the_mean_of_unstandardised_weighted_scores():
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.integers(0, 101, size=(50, 2)), columns=["a", "b"]).astype(float)
    w = pd.DataFrame({"construct": ["C", "C"], "item": ["a", "b"], "weight": [0.6, 0.5]})
    s = construct_performance(x, w)
    v = np.array([0.6 / x.a.std(), 0.5 / x.b.std()])
    assert_allclose(s["C"], x.to_numpy() @ (v / v.sum()), rtol=1e-12)
    # normalised weights keep a score inside 0-100
    assert s["C"].between(0, 100).all()

def test_unstandardised_total_effect_equals_the_regression_on_rescaled_scores():
    """One path X -> Y: the unstandardised coefficient is the OLS slope on raw scores."""
    rng = np.random.default_rng(2)
    xs = rng.normal(50, 10, 400)
    ys = 20 + 0.4 * xs + rng.normal(0, 8, 400)
    beta = np.corrcoef(xs, ys)[0, 1]
    b = unstandardised_total_effects({"X": beta}, {"X": xs.std(ddof=1), "Y": ys.std(ddof=1)}, "Y")
    assert_allclose(b["X"], np.polyfit(xs, ys, 1)[0], rtol=1e-10)


def test_priority_is_high_importance_low_performance():
    t = ipma_table({"A": 0.5, "B": 0.1, "C": 0.4}, {"A": 40, "B": 80, "C": 70})
    assert list(t.construct) == ["A", "C", "B"]
    assert dict(zip(t.construct, t.priority)) == {"A": True, "B": False, "C": False}
