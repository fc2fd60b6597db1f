"""MICOM and the permutation MGA test: properties (no reference software output)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adoption.errors import InputError
from adoption.pls.mga import compare_groups
from adoption.pls.model import pls_model


def _data(n, beta, rng):
    x = rng.normal(size=n)
    y = beta * x + np.sqrt(1 - beta ** 2) * rng.normal(size=n)
    items = {f"x{i}": x + 0.6 * rng.normal(size=n) for i in range(1, 4)}
    items |= {f"y{i}": y + 0.6 * rng.normal(size=n) for i in range(1, 4)}
    return pd.DataFrame(items)


MODEL = pls_model({"X": ["x1", "x2", "x3"], "Y": ["y1", "y2", "y3"]}, "Y ~ X")


def test_same_population_gives_large_p_and_invariance():
    rng = np.random.default_rng(3)
    d = _data(400, 0.4, rng)
    res = compare_groups(d, MODEL, pd.Series(np.repeat(["a", "b"], 200)), permutations=300, seed=1)
    assert res.paths["pvalue"].iloc[0] > 0.05
    assert res.micom["compositional_invariance"].all()
    assert (res.micom["mean_pvalue"] > 0.01).all()


def test_planted_difference_gives_small_p():
    rng = np.random.default_rng(4)
    d = pd.concat([_data(200, 0.1, rng), _data(200, 0.7, rng)], ignore_index=True)
    res = compare_groups(d, MODEL, pd.Series(np.repeat(["a", "b"], 200)), permutations=300, seed=1)
    assert res.paths["pvalue"].iloc[0] < 0.01 and res.paths["diff"].iloc[0] < -0.3


def test_planted_mean_shift_is_found_and_seeded():
    rng = np.random.default_rng(5)
    d = _data(400, 0.4, rng)
    d.loc[200:, ["x1", "x2", "x3"]] += 0.8
    g = pd.Series(np.repeat(["a", "b"], 200))
    res = compare_groups(d, MODEL, g, permutations=200, seed=2)
    assert res.micom.set_index("construct").loc["X", "mean_pvalue"] < 0.01
    again = compare_groups(d, MODEL, g, permutations=200, seed=2)
    pd.testing.assert_frame_equal(res.micom, again.micom)


def test_needs_two_groups():
    d = _data(60, 0.4, np.random.default_rng(6))
    with pytest.raises(InputError, match="two"):
        compare_groups(d, MODEL, pd.Series(["a"] * 20 + ["b"] * 20 + ["c"] * 20), permutations=10)
