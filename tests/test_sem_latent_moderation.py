"""Latent interactions found in structural syntax and fitted (adoption.sem.latent_moderation).

The DMC fit is compared with the same lavaan reference as tests/test_sem_product_indicators.py
(semTools::indProd + lavaan 0.6-14, fixtures/latent_interaction/make_dmc_reference.R),
tolerance 1e-4 relative as there. The LMS branch is checked for what it passes to
fit_lms (its numbers are tested against Mplus in tests/test_sem_lms.py).
"""

import json
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.sem import latent_moderation as lm

FIX = Path(__file__).parent / "fixtures" / "latent_interaction"
ITEMS = {"X": ["x1", "x2", "x3"], "Z": ["z1", "z2", "z3"], "Y": ["y1", "y2", "y3"]}
MEASUREMENT = "\n".join(f"{c} =~ " + " + ".join(i) for c, i in ITEMS.items())


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(FIX / "oneInt.csv")


def test_dmc_through_the_structural_syntax_matches_lavaan(data):
    ref = json.loads((FIX / "dmc_reference.json").read_text())["all"]
    res = lm.fit_latent_moderation("Y ~ X + Z + X:Z", MEASUREMENT, ITEMS, data)
    (one,) = res.interactions
    want = pd.DataFrame(ref["estimates"]).query("lhs == 'Y' and op == '~'").set_index("rhs")
    got = one.interaction.set_index("rhs")
    assert_allclose(got.loc[["X", "Z", "X:Z"], "est"], want.loc[["X", "Z", "XZ"], "est"],
                    rtol=1e-4)
    assert_allclose(got.loc[["X", "Z", "X:Z"], "se"], want.loc[["X", "Z", "XZ"], "se"],
                    rtol=1e-4)
    out = json.loads(json.dumps(res.to_dict()))
    assert out["method"] == "dmc" and out["interactions"][0]["term"] == "X:Z"
    assert "double-mean-centr" in out["interactions"][0]["assumptions"]


def test_lms_branch_passes_the_outcome_equation(monkeypatch, data):
    seen = {}
    monkeypatch.setattr(lm, "fit_lms", lambda d, **kw: seen.update(kw) or "fitted")
    items = ITEMS | {"W": ["x3"]}
    res = lm.fit_latent_moderation("Y ~ X + Z + W + X:Z", MEASUREMENT, items, data,
                                   method="lms", nodes=96)
    assert res.interactions == ("fitted",)
    assert seen == {"outcome": ("Y", ITEMS["Y"]), "focal": ("X", ITEMS["X"]),
                    "moderator": ("Z", ITEMS["Z"]), "others": (("W", ["x3"]),), "nodes": 96}


def test_terms_with_an_observed_variable_are_left_to_the_composite_model(data):
    res = lm.fit_latent_moderation("Y ~ X + age + X:age", MEASUREMENT, ITEMS, data)
    assert res.interactions == () and "X:age -> Y" in res.notes[0]
    assert lm.fit_latent_moderation("Y ~ X + Z", MEASUREMENT, ITEMS, data) is None
    with pytest.raises(InputError, match="method"):
        lm.fit_latent_moderation("Y ~ X + Z + X:Z", MEASUREMENT, ITEMS, data, method="pls")


def test_observed_controls_are_left_out_of_the_dmc_model(monkeypatch, data):
    seen = {}
    monkeypatch.setattr(lm, "fit_dmc", lambda model, d, **kw: seen.update(model=model) or "ok")
    res = lm.fit_latent_moderation("Y ~ X + Z + X:Z + age", MEASUREMENT, ITEMS, data)
    assert seen["model"].endswith("Y ~ X + Z + XZ")
    assert res.interactions == ("ok",) and "age" in res.notes[0]
