"""The example run's moderation (COM:HAB -> WIL, issue 14) as tables in the run directory:
the composite model's interactions, simple slopes, Johnson-Neyman points and conditional
indirect effects with the index of moderated mediation, and the latent interaction, each
equal to results.json (one source, two views)."""

from __future__ import annotations

import json

import pandas as pd
from numpy.testing import assert_allclose


def test_moderation_tables_are_written_and_equal_results_json(example_run):
    out = example_run.out_dir
    res = json.loads((out / "results.json").read_text())["structural"]
    mod = res["composite"]["moderation"]
    inter = pd.read_csv(out / "tables" / "moderation_interactions.csv")
    assert_allclose(inter["est"], [r["est"] for r in mod["interactions"]], rtol=1e-12)
    cond = pd.read_csv(out / "tables" / "moderation_conditional.csv")
    index = cond[cond["effect"] == "index"]
    assert len(index) and index["path"].iloc[0] == " -> ".join(
        next(r for r in mod["conditional"] if r["effect"] == "index")["path"])
    assert_allclose(cond["ci.lower"], [r["ci.lower"] for r in mod["conditional"]], rtol=1e-12)
    slopes = pd.read_csv(out / "tables" / "moderation_slopes.csv")
    assert len(slopes) == len(mod["slopes"])
    assert (out / "tables" / "moderation_johnson_neyman.csv").exists()
    lat = pd.read_csv(out / "tables" / "latent_interactions.csv")
    want = res["latent"]["moderation"]["interactions"][0]["interaction"]
    assert list(lat["rhs"]) == [r["rhs"] for r in want]
    assert_allclose(lat["est"], [r["est"] for r in want], rtol=1e-12)
