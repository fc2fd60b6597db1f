"""Two-stage moderation against seminr 2.3.1 (mobi_pls.json ``moderation_two_stage``)."""

from __future__ import annotations

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.pls.moderation import interaction_name, two_stage_moderation
from tests.plsref import ecsi_model, mobi, reference, wide


def test_two_stage_matches_seminr():
    mod = two_stage_moderation(mobi(), ecsi_model(), "Image", "Expectation", "Satisfaction")
    res = mod.estimate
    ref = wide(reference()["moderation_two_stage"]["paths"])
    name = interaction_name("Image", "Expectation")
    ours = res.matrix("est", "paths")
    # seminr prints the interaction's path per unit of the unstandardised score product
    ours.loc[name, "Satisfaction"] = mod.effect_seminr
    ours = ours.rename(index={name: "Image*Expectation"})
    checked = 0
    for src in ref.index.drop(["R^2", "AdjR^2"]):
        for tgt, v in ref.loc[src].items():
            if pd.notna(v):
                # both run the same iterative algorithm to seminr's stop rule: 1e-6
                assert_allclose(ours.loc[src, tgt], v, atol=1e-6, err_msg=f"{src} -> {tgt}")
                checked += 1
    assert checked == 13
    r2 = res.r2.set_index("construct")
    assert_allclose(r2["r2"], ref.loc["R^2", r2.index].astype(float), atol=1e-6)
    assert_allclose(r2["adj_r2"], ref.loc["AdjR^2", r2.index].astype(float), atol=1e-6)


def test_unknown_construct_is_refused():
    with pytest.raises(InputError, match="Nope"):
        two_stage_moderation(mobi(), ecsi_model(), "Image", "Nope", "Satisfaction")
