"""PLS and PLSc against ADANCO 2.2.1 (centroid scheme) on cSEM's satisfaction data.

tests/fixtures/pls/adanco_{composite,cf}.json were copied from ADANCO's .xls output in cSEM's
repository by tests/fixtures/pls/adanco_extract.py. The composite model is cSEM's ``<~``
(every block in mode B), the common-factor model ``=~`` (mode A with PLSc). ADANCO stops at
its own tolerance (cSEM's scripts use 1e-6), so weights agree to about 2e-8 and PLSc paths,
which amplify weight differences (EXPE -> VAL is -1.7), to about 4e-7 absolute. So 1e-6
relative throughout, with an absolute floor of 1e-9 for composites and 1e-6 for PLSc paths,
effects and f2 (the PLSc path IMAG -> SAT is -7.9e-4: 2.8e-8 off, 3.5e-5 relative, the
same absolute size as the other PLSc paths' differences).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.pls import estimate_pls, pls_model
from adoption.pls import quality as q
from tests.plsref import PLS

RTOL, ATOL = 1e-6, 1e-9
ITEMS = {"IMAG": [f"imag{i}" for i in range(1, 6)], "EXPE": [f"expe{i}" for i in range(1, 6)],
         "QUAL": [f"qual{i}" for i in range(1, 6)], "VAL": [f"val{i}" for i in range(1, 5)],
         "SAT": [f"sat{i}" for i in range(1, 5)], "LOY": [f"loy{i}" for i in range(1, 5)]}
PATHS = "EXPE ~ IMAG\nQUAL ~ EXPE\nVAL ~ EXPE + QUAL\nSAT ~ IMAG + EXPE + QUAL + VAL\nLOY ~ IMAG + SAT"


@pytest.fixture(scope="module", params=["composite", "cf"])
def fitted(request):
    kind = request.param
    modes = {c: "B" for c in ITEMS} if kind == "composite" else {}
    data = pd.read_csv(PLS / "satisfaction.csv")
    r = estimate_pls(data, pls_model(ITEMS, PATHS, modes), scheme="centroid",
                     consistent=kind == "cf", f2_method="fixed")
    return kind, r, json.loads((PLS / f"adanco_{kind}.json").read_text())


def test_weights_loadings_scores(fitted):
    kind, r, ref = fitted
    assert f"after {r.iterations} iteration" in ref["status"]
    for col, key in (("weight", "weights"), ("loading", "loadings")):
        m = r.matrix(col)
        R = pd.DataFrame(ref[key]).T.astype(float).fillna(0.0).loc[m.index, m.columns]
        assert_allclose(m.to_numpy(), R.to_numpy(), rtol=RTOL, atol=ATOL, err_msg=col)
    assert_allclose(r.scores.iloc[:10][ref["scores_columns"]].to_numpy(),
                    np.array(ref["scores_first10"]), rtol=RTOL, atol=ATOL)


def test_paths_r2_f2_effects(fitted):
    kind, r, ref = fitted
    ATOL = 1e-6 if kind == "cf" else 1e-9  # noqa: N806 (see the module docstring)
    for t, s, est, f2 in r.paths[["lhs", "rhs", "est", "f2"]].itertuples(index=False):
        assert_allclose(est, ref["paths"][s][t], rtol=RTOL, atol=ATOL)
        assert_allclose(f2, ref["f2"][f"{s} -> {t}"], rtol=RTOL, atol=ATOL)
    r2 = r.r2.set_index("construct")
    for c, v in ref["r2"].items():
        assert_allclose(r2.loc[c, ["r2", "adj_r2"]].to_numpy(dtype=float), [v["r2"], v["adj_r2"]], rtol=RTOL)
    tot = r.effects[r.effects.effect == "total"]
    assert len(tot) == 15
    for s, t, v in tot[["source", "target", "est"]].itertuples(index=False):
        assert_allclose(v, ref["total_effects"][s][t], rtol=RTOL, atol=ATOL)
    C = pd.DataFrame(ref["construct_cor"]).T.astype(float)
    lower = ~np.isnan(C.to_numpy())
    assert_allclose(r.construct_cor.loc[C.index, C.columns].to_numpy()[lower], C.to_numpy()[lower],
                    rtol=RTOL, atol=ATOL)


def test_quality(fitted):
    kind, r, ref = fitted
    for it, row in q.vif_items(r).set_index("item").iterrows():  # (the sheet also has a footnote row)
        assert_allclose(row.vif, ref["vif_items"][it][row.construct], rtol=RTOL)
    if kind == "composite":
        return  # ADANCO reports no reliability, AVE or HTMT for mode-B composites
    rel = q.reliability(r).set_index("construct")
    for c, v in ref["reliability"].items():
        for col in ("rhoA", "rhoC", "alpha"):
            assert_allclose(rel.loc[c, col], v[col], rtol=RTOL, err_msg=col)
        assert_allclose(rel.loc[c, "AVE"], ref["ave"][c], rtol=RTOL)
    H = pd.DataFrame(ref["htmt"]).T.astype(float)
    lower = ~np.isnan(H.to_numpy())
    assert_allclose(q.htmt(r).loc[H.index, H.columns].to_numpy()[lower], H.to_numpy()[lower], rtol=RTOL)
    # ADANCO's Fornell-Larcker sheet: AVE on the diagonal, squared (disattenuated) correlations below
    FL = pd.DataFrame(ref["fornell_larcker"]).T.astype(float).loc[list(ITEMS)]  # drop the footnote row
    assert_allclose(np.diag(FL.to_numpy()), rel.loc[FL.index, "AVE"], rtol=RTOL)
    low = np.tril(np.ones(FL.shape, dtype=bool), -1)
    assert_allclose((r.construct_cor.loc[FL.index, FL.columns].to_numpy() ** 2)[low], FL.to_numpy()[low], rtol=RTOL)


def test_fit_measures(fitted):
    """SRMR, dULS, dG (base-10 logs, as ADANCO) of the saturated and estimated models."""
    from adoption.pls.fit import pls_fit
    kind, r, ref = fitted
    fit = pls_fit(r, dg_log_base=10)
    for m in ("saturated", "estimated"):
        for ours, theirs in (("srmr", "SRMR"), ("dULS", "dULS"), ("dG", "dG")):
            assert_allclose(fit.loc[ours, m], ref[f"fit_{m}"][theirs], rtol=RTOL, err_msg=f"{m} {ours}")
