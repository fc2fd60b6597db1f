"""The structural stage against lavaan's figures on the paperlike survey.

Reference: tests/fixtures/reference/paperlike_survey.json -> composite_path, made by
make_reference.R (lavaan 0.6-14): `sem(labelled, data = comp)` with `comp` the row means of
each construct's items (STG4, COM4 recoded 6 - x), and 2000 bootstrap draws for the
indirect effects.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adoption.spec import parse_spec
from adoption.structural.stage import composite_scores, fit_structural, nested_alternative
from cleaned_input import as_cleaned
from paperlike import PARAMS, load_recoded_items

FIX = Path(__file__).parent / "fixtures" / "reference"
REF = json.loads((FIX / "paperlike_survey.json").read_text())
STRUCTURAL = "\n".join(f"{lhs} ~ {' + '.join(rhs)}" for lhs, rhs in PARAMS["paths"].items())


def paperlike_survey(**over):
    raw = {"title": "paperlike",
           "constructs": {c: {"items": its, "reverse": [i for i in its if i in PARAMS["reversed_items"]]}
                          for c, its in PARAMS["items"].items()},
           "structural": STRUCTURAL,
           "hypotheses": {"H1": "HAB -> WIL (+)", "H2": "STG -> WIL (-)", "H3": "TRU -> WIL (+)"},
           "alternatives": {"no_stigma": STRUCTURAL.replace(" + STG", ""),
                            "direct_empathy": STRUCTURAL.replace("WIL ~ ", "WIL ~ EMP + ")}}
    raw.update(over)
    return parse_spec(raw, path=FIX / "paperlike.yaml")


@pytest.fixture(scope="module")
def paperlike():
    survey = paperlike_survey()
    data = load_recoded_items()  # STG4, COM4 as 6 - x: what the cleaning stage does
    cleaned = as_cleaned(data, survey.items)
    return survey, cleaned, fit_structural(cleaned, survey, bootstrap=5000, seed=11)


def test_composite_estimates_equal_lavaan(paperlike):
    _, _, res = paperlike
    ref = pd.DataFrame(REF["composite_path"]["ML"]["estimates"])
    ref = ref[ref["op"] == "~"].set_index(["lhs", "rhs"])
    est = res.composite.model_fit.estimates
    est = est[est["op"] == "~"].set_index(["lhs", "rhs"]).loc[ref.index]
    # closed-form ML (OLS) on the same data: agreement is limited by lavaan's optimiser
    # tolerance and the 8 digits of the JSON
    for col in ["est", "se", "std.all"]:
        np.testing.assert_allclose(est[col], ref[col], rtol=1e-5)
    np.testing.assert_allclose(res.composite.model_fit.fit["chisq"],
                               REF["composite_path"]["ML"]["fit"]["chisq"], rtol=1e-5)
    assert res.composite.model_fit.fit["df"] == 14


def test_indirect_effects_equal_lavaan_defined_parameters(paperlike):
    _, _, res = paperlike
    ref = pd.DataFrame(REF["composite_path"]["ML"]["estimates"])
    ref = ref[ref["op"] == ":="].set_index("lhs")
    eff = res.composite.effects.set_index("name").loc[ref.index]
    # delta method on the same estimates and vcov: 1e-5 covers lavaan's optimiser stop
    np.testing.assert_allclose(eff["est"], ref["est"], rtol=1e-5)
    np.testing.assert_allclose(eff["se"], ref["se"], rtol=1e-4)
    np.testing.assert_allclose(eff["std.all"], ref["std.all"], rtol=1e-5)


def test_bootstrap_intervals_near_lavaan(paperlike):
    _, _, res = paperlike
    boot = pd.DataFrame(REF["composite_path"]["bootstrap"]["indirect"]).set_index("lhs")
    eff = res.composite.effects.set_index("name").loc[boot.index]
    assert (eff["ci_method"] == "bootstrap percentile").all()
    # lavaan drew 2000 resamples with R's generator, we draw 5000 with numpy's: the
    # Monte-Carlo error of a 2.5% quantile of 2000 draws is about 0.002 here, so 0.005
    np.testing.assert_allclose(eff["ci.lower"], boot["ci.lower"], atol=0.005)
    np.testing.assert_allclose(eff["ci.upper"], boot["ci.upper"], atol=0.005)
    assert res.composite.bootstrap["B"] == 5000 and res.composite.bootstrap["failed"] == 0


def test_hypotheses(paperlike):
    _, _, res = paperlike
    h = res.hypotheses.set_index("id")
    est = res.composite.model_fit.estimates
    reg = est[est["op"] == "~"].set_index(["lhs", "rhs"])
    for hid, (x, y, sign) in {"H1": ("HAB", "WIL", "+"), "H2": ("STG", "WIL", "-"),
                              "H3": ("TRU", "WIL", "+")}.items():
        row = reg.loc[(y, x)]
        assert h.loc[hid, "std.all"] == row["std.all"]
        expected = bool(row["pvalue"] < .05 and (row["est"] > 0) == (sign == "+"))
        assert h.loc[hid, "supported"] == expected
    assert h.loc["H1", "supported"]  # HAB's path is the strongest (beta ~ .38)


def test_alternatives_are_nested_and_compared(paperlike):
    _, _, res = paperlike
    alts = {a.name: a for a in res.composite.alternatives}
    # no_stigma keeps STG with its path fixed at 0: one df more, same variables
    assert "WIL ~ 0*STG" in alts["no_stigma"].syntax
    assert alts["no_stigma"].fit["df"] == 15
    assert alts["direct_empathy"].fit["df"] == 13
    for a in alts.values():
        assert a.comparison, a.name


def test_latent_model_r2(paperlike):
    _, _, res = paperlike
    ref = pd.DataFrame(REF["latent_sem"]["ML"]["estimates"])
    r2 = ref[ref["op"] == "r2"].set_index("lhs")["est"]
    for k, v in res.latent.r2.items():
        # iterative fit of 115 parameters: lavaan stops at ~1e-5 relative
        np.testing.assert_allclose(v, r2[k], rtol=1e-4)
    assert set(res.latent.r2) == {"COM", "TRU", "WIL"}


def test_nested_alternative_keeps_left_out_paths_at_zero():
    main = "COM ~ EMP + PRV\nWIL ~ HAB + COM + STG"
    alt = "COM ~ EMP + PRV\nWIL ~ HAB + COM"
    assert nested_alternative(main, alt).splitlines()[-1] == "WIL ~ 0*STG"
    assert nested_alternative(main, main) == main


def test_composite_scores_prorate_at_least_half():
    survey = paperlike_survey()
    data = pd.read_csv(FIX / "paperlike.csv").head(3).astype(float)
    data.loc[0, "HAB1"] = np.nan                   # 3 of 4 answered: mean of 3
    data.loc[1, ["PU1", "PU2"]] = np.nan           # 1 of 3 answered: missing
    data.loc[2, ["HAB1", "HAB2"]] = np.nan         # 2 of 4 answered: mean of 2
    scores, log = composite_scores(data, survey)
    assert scores.loc[0, "HAB"] == data.loc[0, ["HAB2", "HAB3", "HAB4"]].mean()
    assert np.isnan(scores.loc[1, "PU"])
    assert scores.loc[2, "HAB"] == data.loc[2, ["HAB3", "HAB4"]].mean()
    actions = {(e.column, e.action): e.count for e in log}
    assert actions == {("HAB", "composite from answered items"): 2, ("PU", "composite missing"): 1}
