"""LMS through the spec (issue 14): ``latent_interaction: lms`` makes the run's latent
model estimate its interaction by LMS (adoption/sem/lms.py) instead of product indicators;
the results name the method and its assumptions. A small case (3 constructs of 3 items,
N = 600) keeps the fit to a few seconds; LMS itself is checked against Mplus in
tests/test_sem_lms.py."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.clean import CleanedResponses, Flow
from adoption.errors import InputError
from adoption.jsonable import to_jsonable
from adoption.ordinal import item_estimation
from adoption.sem.latent_interaction import ASSUMPTIONS, METHOD_DMC, METHOD_LMS
from adoption.spec import parse_spec
from adoption.structural.stage import latent_moderation
from paperlike import PARAMS, REF as PAPERLIKE, load_recoded_items

CONSTRUCTS = ("EMP", "PRV", "TRU")


def survey(**over):
    raw = {"title": "lms", "constructs": {c: PARAMS["items"][c] for c in CONSTRUCTS},
           "structural": "TRU ~ EMP + PRV + EMP:PRV"}
    raw.update(over)
    return parse_spec(raw, path=PAPERLIKE / "paperlike.yaml")


@pytest.fixture(scope="module")
def cleaned():
    data = load_recoded_items()
    items = [i for c in CONSTRUCTS for i in PARAMS["items"][c]]
    return CleanedResponses(data=data, items=tuple(items), exclusions=pd.DataFrame(),
                            flow=Flow(len(data), len(data), ()), log=(),
                            screening_scores=pd.DataFrame())


def test_spec_key_default_and_bad_value():
    assert survey().latent_interaction == "product_indicators"
    assert survey(latent_interaction="lms").latent_interaction == "lms"
    with pytest.raises(InputError, match="latent_interaction"):
        survey(latent_interaction="mplus")


def test_lms_through_the_stage(cleaned):
    s = survey(latent_interaction="lms")
    res = latent_moderation(cleaned, s, item_estimation("ML", "listwise"))
    assert res.method == "lms"
    (li,) = res.interactions
    assert li.method == METHOD_LMS and li.assumptions == ASSUMPTIONS[METHOD_LMS]
    assert "normally distributed" in li.assumptions
    assert {"logl", "aic", "bic"} <= set(li.fit)
    # fitted on the constructs' own items (the free loadings of its table: the first
    # loading is fixed at 1), all rows
    est = li.estimates
    loadings = est[est["op"] == "=~"]
    for c in CONSTRUCTS:
        assert list(loadings.loc[loadings["lhs"] == c, "rhs"]) == PARAMS["items"][c][1:]
    assert li.nobs == len(cleaned.data)
    row = li.interaction.set_index("rhs").loc["EMP:PRV"]
    hit = est[(est["op"] == "~") & (est["lhs"] == "TRU")]
    assert_allclose(row["est"], hit["est"].iloc[-1], rtol=1e-15)
    d = json.loads(json.dumps(to_jsonable(res.to_dict())))
    assert d["method"] == "lms"
    assert d["interactions"][0]["method"] == METHOD_LMS
    assert d["interactions"][0]["assumptions"] == ASSUMPTIONS[METHOD_LMS]
    assert [r["rhs"] for r in d["interactions"][0]["interaction"]] == ["EMP", "PRV", "EMP:PRV"]


def test_default_stays_product_indicators(cleaned):
    res = latent_moderation(cleaned, survey(), item_estimation("ML", "listwise"))
    assert res.method == "dmc" and res.interactions[0].method == METHOD_DMC
