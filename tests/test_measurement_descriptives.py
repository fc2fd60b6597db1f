"""Item descriptives and univariate normality.

Definitions are checked against closed forms (scipy.stats with bias=True is type 1;
psych::describe's type 3 is type 1 times ((n-1)/n)^(3/2) for skew and
(g2 + 3)(1 - 1/n)^2 - 3 for kurtosis). rtol 1e-12: same arithmetic, different order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose
from scipy import stats

from adoption.measurement.items import item_descriptives, kurtosis, skewness
from adoption.measurement.normality import univariate_normality


def test_skew_kurtosis_types():
    x = np.array([1, 2, 2, 3, 3, 3, 4, 5, 5, 1, 2, 4.0])
    n = x.size
    g1 = stats.skew(x, bias=True)
    g2 = stats.kurtosis(x, bias=True)
    assert_allclose(skewness(x, 1), g1, rtol=1e-12)
    assert_allclose(skewness(x, 2), stats.skew(x, bias=False), rtol=1e-12)
    assert_allclose(skewness(x, 3), g1 * ((n - 1) / n) ** 1.5, rtol=1e-12)
    assert_allclose(kurtosis(x, 1), g2, rtol=1e-12)
    assert_allclose(kurtosis(x, 2), stats.kurtosis(x, bias=False), rtol=1e-12)
    assert_allclose(kurtosis(x, 3), (g2 + 3) * (1 - 1 / n) ** 2 - 3, rtol=1e-12)


def test_skew_undefined_is_nan():
    assert np.isnan(skewness([3, 3, 3, 3]))
    assert np.isnan(kurtosis([1, 2, np.nan]))


def test_item_descriptives_shares():
    df = pd.DataFrame({"a": [1, 1, 2, 5, np.nan], "b": [3, 3, 3, 3, 3]})
    tab = item_descriptives(df, options=[1, 2, 3, 4, 5]).set_index("item")
    assert tab.loc["a", "n"] == 4 and tab.loc["a", "n_missing"] == 1
    assert_allclose(tab.loc["a", ["share_1", "share_2", "share_3", "share_4", "share_5"]].astype(float),
                    [0.5, 0.25, 0, 0, 0.25])
    assert tab.loc["a", "floor"] == 0.5 and tab.loc["a", "ceiling"] == 0.25
    assert tab.loc["b", "share_3"] == 1.0
    assert np.isnan(tab.loc["b", "skew"])  # no variance: NaN, not a crash
    assert_allclose(tab.loc["a", "sd"], np.std([1, 1, 2, 5], ddof=1))


def test_univariate_normality_flags():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"norm": rng.normal(size=500), "exp": rng.exponential(size=500) ** 3})
    tab = univariate_normality(df).set_index("item")
    assert not tab.loc["norm", "flag_skew"]
    assert tab.loc["exp", "flag_skew"]


def test_continuous_data_has_no_shares():
    rng = np.random.default_rng(2)
    tab = item_descriptives(pd.DataFrame({"a": rng.normal(size=50)}))
    assert not any(c.startswith("share_") and c != "share_other" for c in tab.columns)
    assert np.isnan(tab.loc[0, "floor"]) and np.isnan(tab.loc[0, "share_other"])
