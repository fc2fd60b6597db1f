"""PLS bootstrap against seminr 2.3.1's 5000-draw bootstrap of the ECSI model (mobi_pls.json).

Both sides are Monte Carlo estimates from different random draws, so they are compared
within a tolerance derived from the bootstrap SD s of each statistic and the draw counts
B1 (ours) and B2 = 5000 (seminr), treating the bootstrap distribution as normal:
  mean:            s * sqrt(1/B1 + 1/B2)
  SD:              s * sqrt(1/(2 B1) + 1/(2 B2))
  2.5/97.5 % quantile: s * sqrt(.025 * .975) / dnorm(1.96) * sqrt(1/B1 + 1/B2)
We allow 5 of those standard errors: about 700 comparisons at P(|Z| > 5) = 5.7e-7 each keep
the chance of a false alarm below 1e-3, while a wrong formula (an SD with the wrong
divisor is 1e-4 off, too small to see, but a wrong statistic or a bias of one SE/10 is not)
would be caught.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from adoption.errors import InputError
from adoption.pls import estimate_pls
from adoption.pls.bootstrap import bootstrap_pls, htmt_inference
from tests.plsref import ecsi_model, mobi, reference, wide

B_OURS, B_SEMINR, Z = 5000, 5000, 5.0


@pytest.fixture(scope="module")
def boot():
    return bootstrap_pls(mobi(), ecsi_model(), B=B_OURS, seed=7, f2=None)


def _compare(mine, ref):
    s = ref["Bootstrap SD"].to_numpy(dtype=float)
    assert_allclose(mine["est"], ref["Original Est."], rtol=1e-6, atol=1e-9)
    se_mean = s * np.sqrt(1 / B_OURS + 1 / B_SEMINR)
    se_sd = s * np.sqrt(1 / (2 * B_OURS) + 1 / (2 * B_SEMINR))
    se_q = s * np.sqrt(0.025 * 0.975) / stats.norm.pdf(1.96) * np.sqrt(1 / B_OURS + 1 / B_SEMINR)
    for col, rcol, se in (("boot.mean", "Bootstrap Mean", se_mean), ("se", "Bootstrap SD", se_sd),
                          ("ci.lower", "2.5% CI", se_q), ("ci.upper", "97.5% CI", se_q)):
        # 1e-12: a single-item loading or weight is 1 in every draw (SD ~1e-16)
        z = np.abs(mine[col].to_numpy() - ref[rcol].to_numpy(dtype=float)) / (se + 1e-12)
        assert np.all(z < Z), (col, mine.index[z >= Z].tolist(), z.max())


@pytest.mark.parametrize("quantity,key", [("path", "paths"), ("loading", "loadings"),
                                          ("weight", "weights"), ("htmt", "htmt"),
                                          ("total", "total_paths")])
def test_against_seminr(boot, quantity, key):
    ref = wide(reference()["bootstrap"][key])
    ref.index = [i.replace("  ->  ", " -> ") for i in ref.index]
    mine = boot.of(quantity).assign(key=lambda t: t.source + " -> " + t.target).set_index("key")
    mine = mine.loc[ref.index]
    assert len(mine) == len(ref) > 0
    _compare(mine, ref)


def test_specific_indirect_against_seminr(boot):
    r = reference()["bootstrap"]["specific_indirect_Image_Expectation_Satisfaction_Loyalty"]
    import pandas as pd
    ref = pd.DataFrame([r])
    mine = boot.of("indirect").set_index("name").loc[["ind_Image_Expectation_Satisfaction_Loyalty"]]
    mine.index = ref.index
    _compare(mine, ref)


def test_t_and_p_and_bca(boot):
    p = boot.of("path")
    assert_allclose(p["t"], p["est"] / p["se"], rtol=1e-12)
    assert_allclose(p["pvalue"], 2 * stats.t.sf(np.abs(p["t"]), df=249), rtol=1e-12)
    bca = boot.of("path", "bca")
    # BCa limits are quantiles of the same draws, shifted: inside the range of the draws
    lo, hi = boot.draws.min(axis=0)[:len(bca)], boot.draws.max(axis=0)[:len(bca)]
    assert np.all((bca["ci.lower"] >= lo) & (bca["ci.upper"] <= hi) & (bca["ci.lower"] < bca["ci.upper"]))
    assert not np.allclose(bca["ci.lower"], p["ci.lower"])


def test_conventions_and_seed():
    a = bootstrap_pls(mobi(), ecsi_model(), B=300, seed=3, f2=None, bca=False)
    b = bootstrap_pls(mobi(), ecsi_model(), B=300, seed=3, f2=None, bca=False,
                      conventions="smartpls", chunk=70)
    # same draws whatever the chunk; the SD divisor B vs B - 1 is the only difference
    assert_allclose(a.draws, b.draws, rtol=1e-10, atol=1e-12)
    assert_allclose(b.table["se"], a.table["se"] * np.sqrt(299 / 300), rtol=1e-12, atol=1e-15)
    with pytest.raises(InputError):
        bootstrap_pls(mobi(), ecsi_model(), B=10, conventions="spss")


def test_f2_bootstrap():
    b = bootstrap_pls(mobi(), ecsi_model(), B=100, seed=3, bca=False)
    f2 = b.of("f2").set_index("name")
    est = estimate_pls(mobi(), ecsi_model()).paths.assign(name=lambda t: t.rhs + " -> " + t.lhs)
    assert_allclose(f2.loc[est.name, "est"], est.f2, rtol=1e-6)
    assert np.all(f2["boot.mean"] > 0)


def test_htmt_inference(boot):
    h = htmt_inference(boot)
    assert len(h) == 21
    assert (h["below_0.90"] == (h["ci.upper"] < 0.9)).all()
    # Image-Quality: HTMT .93, its interval reaches above .90
    row = h[(h.source == "Image") & (h.target == "Quality")].iloc[0]
    assert not row["below_0.90"]


def test_failed_draws_are_counted():
    """A rare dummy as the single item: draws that miss its one '1' have a constant item."""
    d = mobi()
    d["CUSCO"] = 0.0
    d.loc[0, "CUSCO"] = 1.0
    b = bootstrap_pls(d, ecsi_model(), B=400, seed=5, f2=None, bca=False)
    # P(row 0 not drawn) = (1 - 1/250)^250 = 0.367: about 147 of 400 fail
    assert 100 < b.failed < 200
    assert b.draws.shape[0] == 400 - b.failed
    assert f"{b.failed} of 400 draws failed" in b.warnings[0]
    assert np.isfinite(b.table[["est", "se", "ci.lower", "ci.upper"]].to_numpy()).all()


def test_plsc_bootstrap_estimates_equal_plsc():
    """Under consistent=True every draw is a PLSc fit: the full-sample row equals estimate_pls."""
    b = bootstrap_pls(mobi(), ecsi_model(), B=50, seed=2, consistent=True, f2="fixed", bca=False)
    r = estimate_pls(mobi(), ecsi_model(), consistent=True, f2_method="fixed")
    p = b.of("path").set_index("name")
    est = r.paths.assign(name=lambda t: t.rhs + " -> " + t.lhs).set_index("name")
    assert_allclose(p.loc[est.index, "est"], est.est, rtol=1e-10)
    assert_allclose(b.of("f2").set_index("name").loc[est.index, "est"], est.f2, rtol=1e-10)
    lo = b.of("loading").assign(k=lambda t: t.source).set_index("k")
    assert_allclose(lo.loc[r.outer.item, "est"], r.outer.loading.to_numpy(), rtol=1e-10)


def test_collinear_mode_b_draws_fail():
    """IMAG5 equals IMAG4 except in row 0: every draw without row 0 has a singular mode-B
    block and is counted as failed (not turned into huge, finite weights)."""
    d = mobi()
    d["IMAG5"] = d["IMAG4"].astype(float)
    d.loc[0, "IMAG5"] += 3
    b = bootstrap_pls(d, ecsi_model({"Image": "B"}), B=200, seed=1, f2=None, bca=False, chunk=100)
    counts = np.bincount((np.random.default_rng(1).integers(0, 250, size=(200, 250)) == 0).sum(axis=1) > 0,
                         minlength=2)
    assert b.failed == counts[0]  # draws that never picked row 0
    assert np.all(np.abs(b.of("weight")["boot.mean"]) < 5)
