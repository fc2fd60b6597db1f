"""Moderation hypotheses (``H14: HAB:COM -> WIL (-)``): read, checked, and judged by the
interaction coefficient as the other hypotheses are judged by their path (issue 14).

The composite numbers are those of R's lm (tests/fixtures/moderation/make_moderation.R):
the table must show the interaction row of the moderation results, not a refit."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.spec import parse_hypothesis
from adoption.structural.hypotheses import hypotheses_table
from adoption.structural.moderated import composite_design, fit_moderation
from adoption.structural.stage import fit_structural
# the paperlike survey and its cleaned data, as the moderation stage tests build them
from test_structural_moderation_stage import cleaned, survey  # noqa: F401 (fixture)

FIX = Path(__file__).parent / "fixtures" / "moderation"
REF = json.loads((FIX / "moderation_reference.json").read_text())


def test_parse_moderation_hypothesis():
    assert parse_hypothesis("HAB:COM -> WIL (-)") == ("HAB:COM", "WIL", "-")
    assert parse_hypothesis(" HAB : COM->WIL") == ("HAB:COM", "WIL", None)
    for bad in ("HAB:COM:EMP -> WIL", "HAB: -> WIL", "HAB -> COM:WIL"):
        with pytest.raises(ValueError):
            parse_hypothesis(bad)


@pytest.mark.parametrize("text, words", [
    ("HAB:XYZ -> WIL (-)", "names 'XYZ', which is not a construct"),
    ("HAB:COM -> gender", "names 'gender', which is not a construct"),
    ("HAB:COM:EMP -> WIL", "should read like"),
])
def test_bad_moderation_hypotheses_are_refused(text, words):
    with pytest.raises(InputError, match=words):
        survey(structural="WIL ~ HAB + COM + HAB:COM", hypotheses={"H1": text})


def test_categorical_moderator_may_be_named():
    s = survey(structural="WIL ~ COM + gender + COM:gender",
               hypotheses={"H1": "COM:gender -> WIL"})
    assert parse_hypothesis(s.hypotheses["H1"])[0] == "COM:gender"


def test_composite_and_latent_rows_of_a_moderation_hypothesis(cleaned):
    s = survey(structural="WIL ~ HAB + COM + HAB:COM",
               hypotheses={"H1": "HAB -> WIL (+)", "H14": "HAB:COM -> WIL (-)",
                           "H15": "COM:HAB -> WIL"})
    res = fit_structural(cleaned, s, bootstrap=0, latent=True)
    hyp = res.hypotheses.set_index("id")
    ref = REF["centred"]   # lm(WIL ~ HAB + COM + HAB:COM) with centred products
    k = ref["rhs"].index("HAB_x_COM")
    for hid in ("H14", "H15"):    # either order of the factors names the same term
        row = hyp.loc[hid]
        # closed-form OLS in double precision, as test_structural_moderation (p: 1e-7)
        assert_allclose([row["est"], row["se"], row["ci.lower"], row["ci.upper"]],
                        [ref["est"][k], ref["se"][k], ref["ci.lower"][k], ref["ci.upper"][k]],
                        rtol=1e-9)
        assert_allclose(row["pvalue"], ref["pvalue"][k], rtol=1e-7)
        assert np.isfinite(row["std.all"])
        assert not row["supported"]    # p = .33
        assert "lm" in row["note"]
    assert hyp.loc["H14", "path"] == "HAB:COM -> WIL"
    lat = res.latent.moderation.interactions[0].interaction.set_index("rhs").loc["HAB:COM"]
    assert_allclose(hyp.loc["H14", "latent.pvalue"], lat["pvalue"], rtol=1e-12)
    assert hyp.loc["H14", "latent.supported"] == bool(lat["pvalue"] < .05 and lat["est"] < 0)
    assert hyp.loc["H1", "note"] == ""


def _composite_stub(estimates: pd.DataFrame):
    return SimpleNamespace(form="composite", model_fit=SimpleNamespace(converged=True,
                                                                      estimates=estimates))


def test_supported_by_sign_and_interval_on_a_true_interaction():
    """Simulated data with a true positive interaction (make_moderation.R): '(+)' is
    supported, '(-)' is not, no sign is supported; the interval excludes 0."""
    sim = pd.read_csv(FIX / "simulated.csv")
    mod = fit_moderation(composite_design("Y ~ X + W + X:W", sim, sim), B=0)
    est = mod.equations.assign(**{"std.all": 0.3})
    hyps = SimpleNamespace(hypotheses={"Hp": "X:W -> Y (+)", "Hm": "W:X -> Y (-)",
                                       "H0": "X:W -> Y", "Hz": "X:W -> W"})
    hyp = hypotheses_table(hyps, _composite_stub(est), None, moderation=mod).set_index("id")
    b = REF["simulated_jn"]["est"][3]
    assert_allclose(hyp.loc["Hp", "est"], b, rtol=1e-9)
    assert hyp.loc["Hp", "ci.lower"] > 0 and hyp.loc["Hp", "pvalue"] < .05
    assert [hyp.loc[h, "supported"] for h in ("Hp", "Hm", "H0")] == [True, False, True]
    assert hyp.loc["Hz", "supported"] is None and "not in the fitted model" in hyp.loc["Hz", "note"]


def test_categorical_moderator_with_several_dummies_uses_the_joint_test(cleaned):
    s = survey(structural="WIL ~ COM + HAB + gender + COM:gender",
               hypotheses={"Hs": "COM:gender -> WIL (+)", "Hn": "COM:gender -> WIL"})
    res = fit_structural(cleaned, s, bootstrap=0, latent=False)
    hyp = res.hypotheses.set_index("id")
    f = res.moderation.interactions.iloc[0]
    assert np.isnan(hyp.loc["Hn", "est"])
    assert hyp.loc["Hn", "pvalue"] == f["f.pvalue"]
    assert hyp.loc["Hn", "supported"] == bool(f["f.pvalue"] < .05)
    assert hyp.loc["Hs", "supported"] is None     # a joint test has no sign to judge
    assert "joint F test" in hyp.loc["Hs", "note"]
