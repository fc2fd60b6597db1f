"""The group-comparison stage (adoption.groups.run_groups).

The multi-group fits themselves are checked against lavaan in test_multigroup.py; here
the stage's decisions and bookkeeping, and its path tests against lavaan's lavTestLRT on
the paperlike composites by gender (tests/fixtures/multigroup/paperlike_path_groups.json,
made by make_multigroup_reference.R). Tolerances as in test_multigroup.py: chi-square
differences 1e-6 relative, estimates 5e-4 (lavaan's optimiser tolerance).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.groups import configural_decision, invariance_decision, run_groups, strip_labels
from adoption.spec import parse_spec
from cleaned_input import as_cleaned
from paperlike import PARAMS, load_recoded_items
from partial_scalar import REFERENCE as PARTIAL_SCALAR_REFERENCE
from partial_scalar import partial_scalar_comparison

FIX = Path(__file__).parent / "fixtures"
PATH_REF = json.loads((FIX / "multigroup" / "paperlike_path_groups.json").read_text())
HS_GROUPS = json.loads((FIX / "multigroup" / "holzinger_swineford_groups.json").read_text())
HS_INV = json.loads((FIX / "reference" / "holzinger_swineford_invariance.json").read_text())
PS = PARTIAL_SCALAR_REFERENCE


def _cleaned(data: pd.DataFrame, survey):
    return as_cleaned(data, survey.items)


@pytest.fixture(scope="module")
def paperlike():
    survey = parse_spec({
        "title": "paperlike",
        "constructs": {c: {"items": its,
                           "reverse": [i for i in its if i in PARAMS["reversed_items"]]}
                       for c, its in PARAMS["items"].items()},
        "structural": PATH_REF["model"],
        "groups": {"gender": {"label": "Gender", "labels": {1: "Male", 2: "Female", 3: "Other"}}},
    }, path=FIX / "reference" / "paperlike.yaml")
    data = load_recoded_items()
    cleaned = _cleaned(data, survey)
    return survey, cleaned, run_groups(cleaned, survey)


@pytest.fixture(scope="module")
def holzinger():
    survey = parse_spec({
        "title": "HS",
        "scale": {"min": 0, "max": 10},
        "constructs": {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                       "speed": ["x7", "x8", "x9"]},
        "groups": ["school"],
    }, path=FIX / "multigroup" / "hs.yaml")
    data = pd.read_csv(FIX / "multigroup" / "holzinger_swineford_school.csv")
    return run_groups(_cleaned(data, survey), survey).comparisons["school"]


def test_paths_per_group_match_lavaan(paperlike):
    _, _, res = paperlike
    c = res.comparisons["gender"]
    ref = pd.DataFrame(PATH_REF["ML"]["free"]["estimates"])
    ref = ref[ref["op"] == "~"]
    m = ref.merge(c.paths, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert len(m) == len(ref) == len(c.paths) == 39
    for col in ("est", "se", "std.all", "pvalue"):
        assert_allclose(m[col], m[col + "_r"], rtol=5e-4, atol=1e-7, err_msg=col)
    assert set(c.paths["group.label"]) == {"Male", "Female", "Other"}


def test_path_differences_match_lavTestLRT(paperlike):
    _, _, res = paperlike
    c = res.comparisons["gender"]
    one = PATH_REF["ML"]["lrt_one_path"]
    row = c.path_differences.set_index(["lhs", "rhs"]).loc[("WIL", "HAB")]
    assert_allclose(row["chisq.diff"], one["Chisq diff"][1], rtol=1e-6)
    assert row["df.diff"] == one["Df diff"][1]
    assert_allclose(row["pvalue"], one["Pr(>Chisq)"][1], rtol=1e-5)
    omni = PATH_REF["ML"]["lrt_regressions"]
    assert_allclose(c.omnibus["chisq.diff"], omni["Chisq diff"][1], rtol=1e-6)
    assert c.omnibus["df.diff"] == omni["Df diff"][1]
    assert len(c.path_differences) == 13


def test_small_group_left_out_of_the_cfa_and_reported(paperlike):
    _, _, res = paperlike
    c = res.comparisons["gender"]
    assert list(c.sizes["n"]) == [289, 276, 35] and all(c.sizes["included"])
    # 35 rows for 36 items: too few for the CFA, enough for the path model
    assert [(e["value"], e["analysis"]) for e in c.excluded_groups] == [(3, "invariance")]
    assert all(e["nobs"] == [289, 276] for e in c.invariance)
    d = res.to_dict()["gender"]
    assert set(d) >= {"sizes", "excluded_groups", "invariance", "highest_level", "partial",
                      "paths", "path_differences"}


def test_min_group_size_excludes_a_group_everywhere(paperlike):
    survey, cleaned, _ = paperlike
    survey = survey.model_copy(update={"min_group_size": 40, "structural": ""})
    c = run_groups(cleaned, survey).comparisons["gender"]
    assert [(e["value"], e["analysis"]) for e in c.excluded_groups] == [(3, "all")]
    assert list(c.sizes["included"]) == [True, True, False]
    assert c.paths.empty


@pytest.fixture(scope="module")
def partial_scalar():
    return partial_scalar_comparison()


def test_failed_level_is_kept_beside_its_partial_model(partial_scalar):
    c = partial_scalar
    ref = PS["fits"]
    assert [e["model"] for e in c.invariance] == [
        "configural", "metric", "scalar", "partial scalar", "strict"]
    full, part, strict = c.invariance[2], c.invariance[3], c.invariance[4]
    # the full scalar model, its failed comparison and its verdict
    assert full["level"] == "scalar" and not full["partial"] and full["freed"] == []
    assert_allclose(full["fit"]["chisq"], ref["scalar"]["chisq"], rtol=1e-6)
    assert_allclose(full["comparison"]["chisq.diff"], PS["lrt_scalar"]["Chisq diff"][1],
                    rtol=1e-6)
    assert full["comparison"]["vs"] == "metric" and full["supported"] is False
    assert not full["comparison"]["cfi.ok"]          # CFI drops by .095
    # then the partial model: what was freed, its own comparison with metric
    assert part["level"] == "scalar" and part["partial"] and part["supported"]
    assert part["released"] == part["freed"] == [PS["partial_scalar_freed"]]
    assert_allclose(part["fit"]["chisq"], ref["partial_scalar"]["chisq"], rtol=1e-6)
    assert_allclose(part["comparison"]["chisq.diff"],
                    PS["lrt_partial_scalar"]["Chisq diff"][1], rtol=1e-6)
    # strict keeps the released intercept and is compared with the partial model
    assert strict["freed"] == ["x3 ~1"] and strict["released"] == []
    assert strict["comparison"]["vs"] == "partial scalar"
    assert_allclose(strict["fit"]["chisq"], ref["partial_strict"]["chisq"], rtol=1e-6)
    assert c.highest_level == "partial strict"
    table = c.invariance_table()
    assert list(table["model"]) == [e["model"] for e in c.invariance]
    assert_allclose(table["tli"], [ref[k]["tli"] for k in (
        "configural", "metric", "scalar", "partial_scalar", "partial_strict")], rtol=1e-5)
    assert_allclose(table["rmsea.ci.upper"], [ref[k]["rmsea.ci.upper"] for k in (
        "configural", "metric", "scalar", "partial_scalar", "partial_strict")], rtol=1e-5)


def test_poor_configural_fit_means_no_level_holds(holzinger):
    c = holzinger
    levels = [e["model"] for e in c.invariance]
    assert levels == ["configural", "metric", "scalar", "strict"]
    for e in c.invariance:
        assert_allclose(e["fit"]["chisq"], HS_INV["fits"][e["level"]]["fit"]["chisq"], rtol=1e-6)
    # Holzinger-Swineford by school: configural RMSEA .097 (> .08) is poor
    conf = c.invariance[0]
    assert conf["supported"] is False and conf["configural"]["poor"] == ["rmsea"]
    assert all(e["supported"] is None for e in c.invariance[1:])
    assert c.highest_level is None and c.partial == ()
    assert any("configural model fits poorly (RMSEA 0.097" in w for w in c.warnings)
    metric = c.invariance[1]
    assert_allclose(metric["comparison"]["chisq.diff"],
                    HS_GROUPS["ML"]["lrt_metric"]["Chisq diff"][1], rtol=1e-6)


def test_configural_decision_uses_the_cutoffs():
    # the two examples: both fail on RMSEA; the second on CFI too
    assert configural_decision({"cfi": .917, "rmsea": .091, "srmr": .05})["poor"] == ["rmsea"]
    assert configural_decision({"cfi": .850, "rmsea": .131, "srmr": .05})["poor"] == [
        "cfi", "rmsea"]
    assert configural_decision({"cfi": .93, "rmsea": .07, "srmr": .06})["supported"]


def test_invariance_decision_cutoffs():
    base = {"cfi": 0.95, "rmsea": 0.05, "srmr": 0.04}
    assert not invariance_decision(base, {"cfi": 0.935, "rmsea": 0.05, "srmr": 0.04},
                                   "metric")["supported"]
    assert invariance_decision(base, {"cfi": 0.95, "rmsea": 0.05, "srmr": 0.065},
                               "metric")["supported"]
    assert not invariance_decision(base, {"cfi": 0.95, "rmsea": 0.05, "srmr": 0.055},
                                   "scalar")["supported"]


def test_strip_labels():
    assert strip_labels("y ~ b1*x + 0*z + c.2 * w\nab := b1*b2") == "y ~ x + 0*z + w"
    # one statement with a ':=' after ';' used to drop the whole line; a constraint
    # between the stripped labels used to be left behind
    assert strip_labels("m ~ a*x; ab := a*b\ny ~ b*m\na == b") == "m ~ x\ny ~ m"


def test_scaled_tests_under_mlm(paperlike):
    survey, cleaned, _ = paperlike
    c = run_groups(cleaned, survey, estimator="MLM").comparisons["gender"]
    omni = PATH_REF["MLM"]["lrt_regressions"]
    assert c.omnibus["method"] == "satorra.bentler.2001"
    assert_allclose(c.omnibus["chisq.diff"], omni["Chisq diff"][1], rtol=1e-5)
    row = c.path_differences.set_index(["lhs", "rhs"]).loc[("WIL", "HAB")]
    # the scaled difference divides by (df0 c0 - df1 c1) / (df0 - df1), which cancels
    # the ~1e-6 relative error of lavaan's scaling factors: 1e-5 absolute
    assert_allclose(row["chisq.diff"], PATH_REF["MLM"]["lrt_one_path"]["Chisq diff"][1],
                    rtol=1e-5, atol=1e-5)
    ref = pd.DataFrame(PATH_REF["MLM"]["free"]["estimates"])
    ref = ref[ref["op"] == "~"]
    m = ref.merge(c.paths, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert_allclose(m["se"], m["se_r"], rtol=5e-4)
    assert c.invariance[1]["comparison"]["indices"] == "robust"


def test_fiml_when_the_spec_says_so():
    fiml_ref = json.loads((FIX / "multigroup" / "holzinger_swineford_fiml_groups.json").read_text())
    survey = parse_spec({
        "title": "HS", "scale": {"min": 0, "max": 10},
        "constructs": {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                       "speed": ["x7", "x8", "x9"]},
        "groups": ["school"], "missing": {"method": "fiml"},
    }, path=FIX / "multigroup" / "hs.yaml")
    data = pd.read_csv(FIX / "multigroup" / "holzinger_swineford_school_missing.csv")
    mlr_ref = json.loads((FIX / "multigroup" / "holzinger_swineford_fiml_mlr_groups.json")
                         .read_text())
    c = run_groups(_cleaned(data, survey), survey, estimator="MLR").comparisons["school"]
    # MLR with FIML is fitted as such (it used to fall back to ML with a warning)
    assert not any("FIML is fitted by" in w for w in c.warnings)
    for e in c.invariance[:2]:
        assert e["nobs"] == [145, 156]  # sorted: Grant-White first
        assert_allclose(e["fit"]["chisq"], fiml_ref[e["level"]]["fit"]["chisq"], rtol=1e-6)
        # lavaan estimator = "MLR", missing = "ml" (closed forms of the fit: 1e-5)
        for k in ("chisq.scaled", "chisq.scaling.factor", "cfi.robust", "rmsea.robust"):
            assert_allclose(e["fit"][k], mlr_ref[e["level"]]["fit"][k], rtol=1e-5, err_msg=k)
    assert c.invariance[1]["comparison"]["method"] == "satorra.bentler.2001"
    # the configural model fits poorly here too: nothing holds, nothing is released
    assert c.invariance[0]["supported"] is False and c.partial == ()


def test_no_groups_in_the_spec(paperlike):
    survey, cleaned, _ = paperlike
    res = run_groups(cleaned, survey.model_copy(update={"groups": ()}))
    assert res.comparisons == {} and res.to_dict() == {}


def test_unknown_group_column_is_reported(paperlike):
    survey, cleaned, _ = paperlike
    survey = parse_spec({"title": "t", "constructs": {"HAB": PARAMS["items"]["HAB"]},
                         "groups": ["region"]}, path=FIX / "reference" / "paperlike.yaml")
    c = run_groups(cleaned, survey).comparisons["region"]
    assert c.invariance == () and "not in the cleaned data" in c.warnings[0]
