"""LeanRefit: warm-started bootstrap refits equal cold full fits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.sem.engine import LeanRefit, fit_model

FIX = Path(__file__).parent / "fixtures"
SEM = ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
       "textual ~ visual\nspeed ~ visual + textual")


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(FIX / "data" / "holzinger_swineford.csv")


def _draws(data, k, seed=3):
    rng = np.random.default_rng(seed)
    return [data.iloc[rng.integers(0, len(data), len(data))].reset_index(drop=True)
            for _ in range(k)]


def _cold(frame, missing):
    mf = fit_model(SEM, frame, missing=missing)
    reg = mf.estimates[mf.estimates["op"] == "~"]
    keys = list(zip(reg["lhs"], reg["rhs"]))
    return dict(zip(keys, reg["est"])), dict(zip(keys, reg["std.all"]))


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
@pytest.mark.parametrize("with_data", [True, False])
def test_lean_refit_equals_cold_fit(hs, missing, with_data):
    data = hs.copy()
    if missing == "fiml":  # a few holes, so FIML differs from listwise
        rng = np.random.default_rng(1)
        cols = [f"x{i}" for i in range(1, 10)]
        mask = rng.random((len(data), 9)) < 0.05
        data[cols] = data[cols].mask(mask)
    full = fit_model(SEM, data, missing=missing)
    refit = LeanRefit.from_fit(SEM, full, data if with_data else None)
    for frame in _draws(data, 3):
        coef, std = refit(frame)
        c0, s0 = _cold(frame, missing)
        # both iterate to a step below 1e-10 (1e-9 FIML) from different starts: the
        # estimates agree to rounding, far inside the 1e-6 the bootstrap needs
        assert coef.keys() == c0.keys()
        assert_allclose([coef[k] for k in c0], [c0[k] for k in c0], atol=1e-6, rtol=0)
        assert_allclose([std[k] for k in s0], [s0[k] for k in s0], atol=1e-6, rtol=0)


def test_lean_refit_of_full_data_is_the_fit(hs):
    full = fit_model(SEM, hs)
    coef, _ = LeanRefit.from_fit(SEM, full, hs)(hs)
    c0, _ = _cold(hs, "listwise")
    assert_allclose([coef[k] for k in c0], [c0[k] for k in c0], atol=1e-9, rtol=0)


def test_fixed_x_model_refits_cold(hs):
    syntax = "visual =~ x1 + x2 + x3\nvisual ~ x4 + x5"
    full = fit_model(syntax, hs)
    refit = LeanRefit.from_fit(syntax, full, hs)
    frame = _draws(hs, 1)[0]
    coef, _ = refit(frame)
    mf = fit_model(syntax, frame)
    reg = mf.estimates[mf.estimates["op"] == "~"]
    assert_allclose([coef[(a, b)] for a, b in zip(reg["lhs"], reg["rhs"])], reg["est"],
                    atol=1e-12)


def test_lean_refit_needs_a_converged_fit(hs):
    from adoption.errors import InputError

    bad = fit_model("f1 =~ x1 + x2\nf2 =~ x4 + x5 + x6\nf1 ~~ 0*f2", hs)
    with pytest.raises(InputError):
        LeanRefit.from_fit("f1 =~ x1 + x2\nf2 =~ x4 + x5 + x6\nf1 ~~ 0*f2", bad)
