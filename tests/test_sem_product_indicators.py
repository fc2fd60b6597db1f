"""Double-mean-centred product indicators against semTools::indProd + lavaan 0.6-14.

Reference: tests/fixtures/latent_interaction/make_dmc_reference.R on oneInt.csv (modsem's
simulated data, n = 2000). Tolerance 1e-4 relative for estimates, SEs and fit measures:
both programs stop their optimisers at relative changes far below that (the engine agrees
with lavaan to ~1e-6 elsewhere; here the largest difference measured is 4e-6 for
estimates, 3e-7 for SEs).
"""

import json
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.sem.latent_interaction import METHOD_DMC
from adoption.sem.product_indicators import (double_mean_centred_products, fit_dmc,
                                             product_indicator_syntax, product_pairs)

FIX = Path(__file__).parent / "fixtures" / "latent_interaction"
REF = json.loads((FIX / "dmc_reference.json").read_text())
MODEL = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + XZ\n"
X = ("X", ["x1", "x2", "x3"])
Z = ("Z", ["z1", "z2", "z3"])


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(FIX / "oneInt.csv")


def test_products_equal_semtools(data):
    ref = REF["all"]
    pairs = product_pairs(X[1], Z[1])
    got = double_mean_centred_products(data, pairs)
    assert list(got.columns) == ref["products"]
    for name, first in ref["product_first_rows"].items():
        assert_allclose(got[name].iloc[:3], first, rtol=1e-12)   # same arithmetic
    assert_allclose(got.mean(), 0, atol=1e-14)


def test_syntax_has_residual_covariances_of_shared_items():
    ref = REF["all"]
    syntax = product_indicator_syntax("XZ", product_pairs(X[1], Z[1]))
    r_lines = [ln for ln in ref["model"].splitlines()[3:] if not ln.startswith("Y ~")]
    assert sorted(syntax.splitlines()) == sorted(r_lines)
    assert syntax.count("~~") == 18
    matched = product_indicator_syntax("XZ", product_pairs(X[1], Z[1], matched=True))
    assert matched == "XZ =~ x1.z1 + x2.z2 + x3.z3\n"


@pytest.mark.parametrize("pairing", ["all", "matched"])
def test_fit_matches_lavaan(data, pairing):
    ref = REF[pairing]
    res = fit_dmc(MODEL, data, outcome="Y", focal=X, moderator=Z,
                  matched=pairing == "matched")
    assert res.method == METHOD_DMC and res.converged
    want = pd.DataFrame(ref["estimates"])
    got = want[["lhs", "op", "rhs"]].merge(res.estimates, on=["lhs", "op", "rhs"])
    assert len(got) == len(want)
    assert_allclose(got["est"], want["est"], rtol=1e-4, atol=1e-8)
    assert_allclose(got["se"], want["se"], rtol=1e-4, atol=1e-8)
    for name, value in ref["fit"].items():
        assert_allclose(res.fit[name], value, rtol=1e-4, atol=1e-8, err_msg=name)
    xz = res.interaction.set_index("rhs").loc["X:Z"]
    ref_xz = want[(want.lhs == "Y") & (want.op == "~") & (want.rhs == "XZ")].iloc[0]
    assert_allclose([xz["est"], xz["se"]], [ref_xz["est"], ref_xz["se"]], rtol=1e-4)


def test_unknown_indicator_is_named(data):
    with pytest.raises(InputError, match="x9"):
        fit_dmc(MODEL, data, outcome="Y", focal=("X", ["x1", "x9"]), moderator=Z)
