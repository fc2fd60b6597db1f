"""The example survey's model as PLS composites against seminr 2.3.1 (paperlike_pls.json).

make_pls_reference.R recodes STG4 and COM4 as 6 - x (tests/paperlike.py does the same) and
fits 11 mode-A composites with seminr's defaults. Deterministic: 1e-6 relative (see
tests/test_pls_estimate.py); the bootstrap within 5 Monte Carlo SEs (see
tests/test_pls_bootstrap.py for the derivation).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from adoption.pls import bootstrap_pls, estimate_pls, pls_model
from adoption.pls import quality as q
from tests.paperlike import load_recoded_items
from tests.plsref import reference, wide

SIZES = {"HAB": 4, "PU": 3, "FC": 3, "EB": 3, "EMP": 3, "PRV": 3, "ACC": 3, "STG": 4, "COM": 4, "TRU": 3, "WIL": 4}
PATHS = "COM ~ EMP + PRV + ACC\nTRU ~ EMP + PRV + COM\nWIL ~ HAB + COM + EB + FC + PU + TRU + STG"


@pytest.fixture(scope="module")
def setup():
    model = pls_model({k: [f"{k}{i}" for i in range(1, n + 1)] for k, n in SIZES.items()}, PATHS)
    data = load_recoded_items()
    return data, model, estimate_pls(data, model), reference("paperlike_pls")


def test_estimates(setup):
    _, _, r, ref = setup
    ref = ref["pls_modeA"]
    for col, key in (("weight", "weights"), ("loading", "loadings")):
        m = r.matrix(col)
        assert_allclose(m.to_numpy(), wide(ref[key]).loc[m.index, m.columns].to_numpy(dtype=float),
                        rtol=1e-6, atol=1e-9)
    P, F = wide(ref["paths"]), wide(ref["fsquare"])
    for t, s, est, f2 in r.paths[["lhs", "rhs", "est", "f2"]].itertuples(index=False):
        assert_allclose([est, f2], [P.loc[s, t], F.loc[s, t]], rtol=1e-6, atol=1e-9)
    rel = q.reliability(r).set_index("construct")
    R = wide(ref["reliability"])
    assert_allclose(rel.to_numpy(), R.loc[rel.index, rel.columns].to_numpy(dtype=float), rtol=1e-6)
    assert r.iterations == ref["iterations"]


def test_bootstrap_paths(setup):
    data, model, _, ref = setup
    b = bootstrap_pls(data, model, B=2000, seed=11, f2=None, bca=False)
    R = wide(ref["bootstrap"]["paths"])
    R.index = [i.replace("  ->  ", " -> ") for i in R.index]
    mine = b.of("path").set_index("name").loc[R.index]
    s = R["Bootstrap SD"].to_numpy(dtype=float)
    k = np.sqrt(1 / 2000 + 1 / 5000)
    assert np.all(np.abs(mine["boot.mean"] - R["Bootstrap Mean"]) < 5 * s * k)
    assert np.all(np.abs(mine["se"] - s) < 5 * s * k / np.sqrt(2))
    q_se = s * np.sqrt(0.025 * 0.975) / stats.norm.pdf(1.96) * k
    assert np.all(np.abs(mine["ci.lower"] - R["2.5% CI"]) < 5 * q_se)
    assert np.all(np.abs(mine["ci.upper"] - R["97.5% CI"]) < 5 * q_se)
