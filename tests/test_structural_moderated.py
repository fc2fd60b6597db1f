"""The composite model's moderation results end to end, against the R references of
tests/fixtures/moderation (tolerances as in test_structural_moderation.py and
test_structural_conditional.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.structural.moderated import (composite_design, fit_moderation,
                                           has_moderation, main_effects_syntax,
                                           moderation_caption, moderation_lines)
from tests.paperlike import REF as PAPERLIKE, load_composites

REF = json.loads((Path(__file__).parent / "fixtures" / "moderation"
                  / "moderation_reference.json").read_text())


@pytest.fixture(scope="module")
def data():
    return load_composites(), pd.read_csv(PAPERLIKE / "paperlike.csv")


def test_two_way_moderation_results(data):
    scores, raw = data
    design = composite_design("WIL ~ HAB + COM + COM:HAB", scores, raw)
    res = fit_moderation(design, B=0)
    inter = res.interactions.iloc[0]
    assert (inter["focal"], inter["moderator"]) == ("COM", "HAB")
    ref = REF["centred"]
    assert_allclose(inter[["est", "se", "pvalue"]].astype(float),
                    [ref["est"][2], ref["se"][2], ref["pvalue"][2]], rtol=1e-7)
    assert_allclose(inter["f"], REF["r2_change"]["f"], rtol=1e-7)
    assert_allclose(res.slopes["est"], REF["slopes"]["est"], rtol=1e-9)
    assert_allclose(res.slopes["value"], REF["slopes"]["w"], rtol=1e-9)
    assert_allclose(res.johnson_neyman["value"], REF["jn"]["w"], rtol=1e-8)
    assert not res.johnson_neyman["in_range"].any()   # both points outside 1..5
    assert "mean-centred" in moderation_caption(res.centre, res.estimator)
    assert moderation_lines(res)[0].startswith("moderation COM -> WIL by HAB: b = -0.041")


def test_model7_conditional_indirect_effects(data):
    scores, raw = data
    design = composite_design("COM ~ EMP + HAB + EMP:HAB\nWIL ~ COM + EMP", scores, raw)
    res = fit_moderation(design, B=2000, seed=3)
    c = res.conditional
    ind = c[c["effect"].isin(["conditional_indirect", "index"])]
    assert_allclose(ind["est"], REF["model7"]["est"], rtol=1e-6)
    assert_allclose(ind["se"], REF["model7"]["se"], rtol=1e-6)
    assert (ind["ci.lower"] < ind["est"]).all() and (ind["est"] < ind["ci.upper"]).all()
    assert res.bootstrap["B"] == 2000
    line = moderation_lines(res)[-1]
    assert line.startswith("index of moderated mediation EMP -> COM -> WIL by HAB: -0.007")


def test_categorical_moderator_and_controls(data):
    scores, raw = data
    design = composite_design("COM ~ EMP\nWIL ~ COM + HAB + gender + COM:gender", scores,
                              raw, controls=["year_level"],
                              categorical={"gender": {1: "female", 2: "male", 3: "diverse"},
                                           "year_level": {1: "y1", 2: "y2", 3: "y3", 4: "y4"}})
    res = fit_moderation(design, B=0)
    ref = REF["categorical"]
    assert list(res.slopes["at"]) == ["female", "male", "diverse"]
    assert_allclose(res.slopes["est"], ref["slopes"]["est"], rtol=1e-9)
    assert_allclose(res.interactions["f"], ref["r2_change"]["f"], rtol=1e-7)
    eq = res.equations
    assert set(eq.loc[eq["role"] == "control", "rhs"]) == {
        "year_level_y2", "year_level_y3", "year_level_y4"}
    wil = eq[eq["lhs"] == "WIL"]
    assert_allclose(wil["est"], ref["wil"]["est"], rtol=1e-9)


def test_main_effects_syntax_and_detection():
    assert main_effects_syntax("WIL ~ HAB + COM + HAB:COM") == "WIL ~ HAB + COM"
    assert has_moderation("WIL ~ HAB + COM + HAB:COM")
    assert not has_moderation("WIL ~ HAB + COM")
    assert has_moderation("WIL ~ HAB", ["age"])


def test_unknown_variable_and_single_category(data):
    scores, raw = data
    with pytest.raises(InputError, match="'AGE' is neither a construct nor a column"):
        composite_design("WIL ~ HAB + COM", scores, raw, controls=["AGE"])
    one = raw.assign(gender=1)
    with pytest.raises(InputError, match="gender: only one category"):
        composite_design("WIL ~ COM + gender + COM:gender", scores, one,
                         categorical={"gender": {}})
    with pytest.raises(InputError, match="'HAB' in the interaction 'COM:HAB' has one value"):
        composite_design("WIL ~ COM + HAB + COM:HAB", scores.assign(HAB=3.0), raw)


def test_johnson_neyman_region_inside_the_data():
    """Simulated data with a true interaction (make_moderation.R writes simulated.csv):
    both points inside the observed range, as PROCESS prints them; uniroot in R at 1e-12."""
    sim = pd.read_csv(Path(__file__).parent / "fixtures" / "moderation" / "simulated.csv")
    res = fit_moderation(composite_design("Y ~ X + W + X:W", sim, sim), B=0)
    ref = REF["simulated_jn"]
    assert_allclose(res.johnson_neyman["value"], ref["w"], rtol=1e-8)
    assert res.johnson_neyman["in_range"].all()
    eq = res.equations
    assert_allclose(eq["est"], ref["est"][1:], rtol=1e-9)
    # the slope is significant below the first point and above the second, not between
    probes = res.slopes.set_index("at")
    assert probes.loc["mean", "pvalue"] > 0.05
