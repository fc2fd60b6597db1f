"""psych's default parallel analysis, ``fa.parallel(x, fa = "fa")``: eigenvalues of R with
the one-factor minres communalities on the diagonal, against psych 2.2.9
(``tests/fixtures/efa/make_fa_parallel.R`` wrote ``fa_parallel.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adoption.measurement import measure
from adoption.measurement.efa import minres_eigenvalues, n_retained, parallel_analysis
from tests.paperlike import load_recoded_items

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "efa" / "fa_parallel.json").read_text())


def data(name: str) -> pd.DataFrame:
    d = {"paperlike": load_recoded_items,
         "utaut": lambda: pd.read_csv(FIX / "utaut" / "utaut.csv"),
         "random": lambda: pd.read_csv(FIX / "efa" / "random.csv")}[name]()
    return d[REF[name]["items"]]


@pytest.mark.parametrize("name", ["paperlike", "utaut", "random"])
def test_minres_eigenvalues_equal_psych_fa_values(name):
    """fa.values of fa.parallel (= fa(r, nfactors = 1, fm = "minres")$values).

    Tolerance: psych stops its L-BFGS-B at factr = 1e7 (relative change of the function
    below 2.2e-9), so its values sit off the minres optimum by what the R script
    measured against the same optimisation run to factr = 1 (``max_abs_psych_vs_tight``:
    6e-9, 7e-8 and 7e-5 here; 7e-5 where one uniqueness sits on psych's 0.005 bound).
    Ours is converged tightly: it must equal the tight optimum to 1e-9 and psych within
    its own distance from that optimum plus 1e-9."""
    ref = REF[name]
    r = np.corrcoef(data(name).to_numpy(float), rowvar=False)
    ours = minres_eigenvalues(r)
    np.testing.assert_allclose(ref["fa_values"], ref["fa_values_from_fa"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours, ref["fa_values_tight"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours, ref["fa_values"], rtol=0,
                               atol=ref["max_abs_psych_vs_tight"] + 1e-9)


@pytest.mark.parametrize("name", ["paperlike", "utaut"])
def test_minres_count_equals_psych(name):
    """The suggested number of factors.

    Deterministic part: our observed values against psych's own random 95th percentiles
    give psych's count exactly. Simulated part: our draws are numpy's, not R's; our
    95th percentiles agree with R's within simulation error (5 standard errors of a
    quantile, sd * sqrt(q (1 - q)) / (density * sqrt(B)), bounded here by 3 sd /
    sqrt(B) for the normal-like eigenvalue distributions, B = 100 ours + 500 R's), and the
    counts agree where, as here, no observed value is that close to its threshold."""
    ref = REF[name]
    x = data(name)
    obs = minres_eigenvalues(np.corrcoef(x.to_numpy(float), rowvar=False))
    assert n_retained(obs, np.array(ref["fa_sim_q95"])) == ref["nfact"]
    pa = parallel_analysis(x, n_iter=100, minres=True)
    ours_q = pa.eigenvalues["random_minres"].to_numpy()
    sd = np.array(ref["fa_sim_sd"])
    mc = 5 * 3 * sd * np.sqrt(1 / 100 + 1 / ref["n_iter"])
    np.testing.assert_array_less(np.abs(ours_q - ref["fa_sim_q95"]), mc)
    k = ref["nfact"]
    assert abs(obs[k] - ref["fa_sim_q95"][k]) > mc[k] and obs[k - 1] - ref["fa_sim_q95"][k - 1] > mc[k - 1]
    assert pa.n_factors_minres == ref["nfact"]
    np.testing.assert_allclose(pa.eigenvalues["observed_minres"], obs, rtol=0, atol=0)


def test_minres_variant_sets_the_efa(tmp_path):
    """``efa: parallel: fa`` in the spec: the EFA extracts psych's default count, and
    results.json names the rule and carries the count."""
    x = data("utaut")
    cons = {"PE": ["pe1", "pe2", "pe3"], "EE": ["ee1", "ee2", "ee3"],
            "FC": ["fc1", "fc2", "fc3"], "SI": ["si1", "si2", "si3", "si4"]}
    res = measure(x, cons, parallel="fa")
    assert res.parallel.n_factors_minres == REF["utaut"]["nfact"] == res.efa.n_factors
    out = res.to_dict()["efa"]
    assert out["n_factors_rule"] == "parallel analysis (fa)"
    assert out["n_factors_parallel_minres"] == REF["utaut"]["nfact"]
    assert "n_factors_parallel_minres" not in measure(x, cons).to_dict()["efa"]


def test_report_names_the_minres_count_and_marks_the_extracted_factors(monkeypatch):
    """With ``parallel: fa`` the report's sentence gives psych's default count beside the
    SMC one, and the scree plot's line marks the factors the EFA extracted (it once
    marked the SMC count whatever the spec chose)."""
    import adoption.figures.scree as scree
    from adoption.report.build import efa_blocks

    x = data("utaut")
    cons = {"PE": ["pe1", "pe2", "pe3"], "EE": ["ee1", "ee2", "ee3"],
            "FC": ["fc1", "fc2", "fc3"], "SI": ["si1", "si2", "si3", "si4"]}
    out = measure(x, cons, parallel="fa").to_dict()["efa"]
    draw = scree.scree_image
    marked = []
    monkeypatch.setattr(scree, "scree_image",
                        lambda eig, n, fmt="svg": marked.append(n) or b"<svg/>")
    smc = {**out, "n_factors_parallel": out["n_factors"] + 2}   # an SMC count that differs
    text = repr(efa_blocks({"efa": smc}))
    assert (f"{out['n_factors_parallel_minres']} with psych's default minres communalities"
            in text)
    assert "as set by parallel analysis (fa)" in text
    assert marked == [out["n_factors"], out["n_factors"]]
    # the drawer itself shows the minres series in its legend
    assert b"minres" in draw(out["parallel"]["eigenvalues"], out["n_factors"], "svg")
