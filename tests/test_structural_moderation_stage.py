"""Moderation through the spec and the structural stage (composite model), on the
paperlike survey: a PROCESS template and a written interaction with controls give the
R reference numbers (tests/fixtures/moderation) and land in results.json's
``structural.composite.moderation``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.jsonable import to_jsonable
from adoption.spec import parse_spec
from adoption.structural.stage import fit_structural
from cleaned_input import as_cleaned
from paperlike import PARAMS, REF as PAPERLIKE, load_recoded_items

REF = json.loads((Path(__file__).parent / "fixtures" / "moderation"
                  / "moderation_reference.json").read_text())


def survey(**over):
    raw = {"title": "paperlike",
           "constructs": {c: {"items": its, "reverse": [i for i in its
                                                        if i in PARAMS["reversed_items"]]}
                          for c, its in PARAMS["items"].items()},
           "groups": {"gender": {"labels": {1: "female", 2: "male", 3: "diverse"}}}}
    raw.update(over)
    return parse_spec(raw, path=PAPERLIKE / "paperlike.yaml")


@pytest.fixture(scope="module")
def cleaned():
    data = load_recoded_items()
    return as_cleaned(data, [c for c in data.columns
                             if c not in ("respondent", "gender", "year_level")])


def test_process_template_through_the_stage(cleaned):
    s = survey(process={"model": 7, "x": "EMP", "m": ["COM"], "y": "WIL", "w": "HAB"})
    assert s.structural == "COM ~ EMP + HAB + EMP:HAB\nWIL ~ EMP + COM"
    res = fit_structural(cleaned, s, bootstrap=1000, seed=5, latent=False)
    mod = res.moderation
    c = mod.conditional
    ind = c[c["effect"].isin(["conditional_indirect", "index"])]
    assert_allclose(ind["est"], REF["model7"]["est"], rtol=1e-6)
    est = res.composite.model_fit.estimates
    assert "EMP_x_HAB" in set(est["rhs"])
    out = json.loads(json.dumps(to_jsonable(res.to_dict())))
    assert out["composite"]["moderation"]["centre"] == "mean"
    assert out["composite"]["moderation"]["interactions"][0]["moderator"] == "HAB"


def test_written_interaction_with_controls(cleaned):
    s = survey(structural="COM ~ EMP\nWIL ~ COM + HAB + gender + COM:gender",
               controls=["year_level"],
               groups={"gender": {"labels": {1: "female", 2: "male", 3: "diverse"}},
                       "year_level": {"labels": {1: "y1", 2: "y2", 3: "y3", 4: "y4"}}})
    res = fit_structural(cleaned, s, bootstrap=0, latent=False)
    assert_allclose(res.moderation.slopes["est"], REF["categorical"]["slopes"]["est"],
                    rtol=1e-9)


@pytest.mark.parametrize("over, words", [
    ({"structural": "WIL ~ HAB + COM + HAB:XYZ"}, "'XYZ', which is not a construct"),
    ({"process": {"model": 3, "x": "EMP", "y": "WIL", "w": "HAB"}}, "model 3 is not"),
    ({"structural": "WIL ~ HAB + HAB:COM"}, "needs COM"),
    ({"structural": "WIL ~ HAB", "process": {"model": 1, "x": "COM", "y": "WIL", "w": "HAB"}},
     "both 'structural' and 'process'"),
])
def test_bad_moderation_specs(over, words):
    with pytest.raises(InputError, match=words):
        survey(**over)


def test_controls_effects_and_report_tables(cleaned):
    from adoption.report.moderation import moderation_tables

    s = survey(structural="COM ~ EMP + HAB + EMP:HAB\nWIL ~ COM + EMP", controls=["gender"],
               alternatives={"no_direct": "COM ~ EMP + HAB + EMP:HAB\nWIL ~ COM"})
    res = fit_structural(cleaned, s, bootstrap=500, seed=2, latent=False)
    eff = res.composite.effects
    assert not eff["source"].str.startswith(("gender_", "EMP_x_")).any()
    eq = res.moderation.equations
    assert set(eq.loc[eq["role"] == "control", "rhs"]) == {"gender_male", "gender_diverse"}
    assert res.composite.alternatives[0].comparison   # fitted on the same design
    d = json.loads(json.dumps(to_jsonable(res.to_dict())))["composite"]["moderation"]
    tables = moderation_tables(d)
    assert [t.key for t in tables] == ["moderation-composite", "slopes-composite",
                                       "conditional-composite"]
    assert "mean-centred" in tables[0].note and "OLS" in tables[0].note
    assert any("index" in r[1] for r in tables[2].rows)


def test_interaction_in_both_models_reaches_the_report(cleaned):
    """A written interaction between constructs is moderation in the composite model and a
    latent interaction (product indicators) in the latent SEM: the two result shapes differ,
    and each model's report section must show its own (the composite tables were once
    built from the latent dict and the report crashed with a KeyError)."""
    from adoption.report.build import model_blocks

    s = survey(structural="COM ~ EMP + HAB + EMP:HAB\nWIL ~ COM + EMP")
    res = fit_structural(cleaned, s, bootstrap=0, latent=True)
    d = json.loads(json.dumps(to_jsonable(res.to_dict())))
    assert d["composite"]["moderation"]["interactions"][0]["moderator"] == "HAB"
    lat = d["latent"]["moderation"]["interactions"][0]["interaction"]
    assert [r["rhs"] for r in lat][-1] == "EMP:HAB"
    comp_keys = [getattr(b, "key", None) for b in model_blocks("composite", d["composite"], {})]
    lat_keys = [getattr(b, "key", None) for b in model_blocks("latent", d["latent"], {})]
    assert "moderation-composite" in comp_keys
    assert "moderation-latent" not in lat_keys
    assert any(k and "latent" in k and "interact" in k for k in lat_keys if k), lat_keys


def test_observed_moderator_leaves_the_latent_model_to_the_constructs(cleaned):
    """An observed moderator (a groups column) written in the structural model: the
    composite model dummy-codes it; the latent SEM, fitted to the items, leaves it out and
    says so. Before, the run stopped with 'names variable(s) not in the data: gender'
    whenever the latent model was on (the default)."""
    s = survey(structural="COM ~ EMP\nWIL ~ COM + HAB + gender + COM:gender")
    res = fit_structural(cleaned, s, bootstrap=0, latent=True)
    lat = res.latent.model_fit.estimates
    assert not lat["rhs"].str.contains("gender").any()
    assert {"COM", "HAB"} <= set(lat.loc[(lat["lhs"] == "WIL") & (lat["op"] == "~"), "rhs"])
    assert any("leaves out the observed predictor(s) gender" in w
               for w in res.composite.warnings)


def test_construct_model_is_what_item_and_score_models_fit():
    """One place decides what the latent SEM, PLS-SEM and the multi-group path model fit:
    the structural model itself, or its construct-only main effects (the group path model
    once failed with 'not in the data: age' on a spec naming age as a moderator)."""
    from adoption.structural.moderated import construct_model

    plain = "M ~ X\nY ~ M + X"
    assert construct_model(plain, ["M", "X", "Y"]) == (plain, False, [])
    syntax, inter, observed = construct_model("M ~ X\nY ~ M + X + age + X:age",
                                              ["M", "X", "Y"])
    assert (syntax, inter, observed) == ("M ~ X\nY ~ M + X", True, ["age"])
