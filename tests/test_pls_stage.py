"""The PLS-SEM stage in a run: spec options, tables, results, and the CB-SEM full VIF."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from numpy.testing import assert_allclose

from adoption.cli import main
from adoption.errors import InputError
from adoption.pls import estimate_pls, pls_model
from adoption.pls.stage import fit_pls, mean_replace
from adoption.spec import parse_spec
from adoption.structural.moderated import main_effects_syntax
from tests.conftest import EXAMPLE_SPEC

TABLES = ["paths", "r2", "effects", "outer", "reliability", "htmt", "fornell_larcker",
          "cross_loadings", "vif_items", "vif_antecedents", "full_vif", "fit", "hypotheses", "predict"]


def _spec(**changes):
    raw = yaml.safe_load(EXAMPLE_SPEC.read_text(encoding="utf-8"))
    for key, value in changes.items():
        node = raw
        *head, last = key.split(".")
        for h in head:
            node = node[h]
        node[last] = value
    return parse_spec(raw, path=EXAMPLE_SPEC)


def test_spec_defaults_and_options():
    s = _spec()
    assert s.methods == ("cbsem",) and not s.pls.consistent and s.pls.bootstrap == 10_000
    s = _spec(methods=["cbsem", "pls"], pls={"consistent": True, "conventions": "smartpls",
                                             "bootstrap": 500, "scheme": "factor"},
              **{"constructs.HAB.mode": "B"})
    assert s.pls.conventions == "smartpls" and s.constructs["HAB"].mode == "B"


@pytest.mark.parametrize("key,value,fragment", [
    ("pls", {"conventions": "stata"}, "pls.conventions"),
    ("pls", {"bootstrap": -1}, "pls.bootstrap"),
    ("methods", ["ols"], "methods"),
    ("constructs.HAB.mode", "C", "constructs.HAB.mode"),
])
def test_bad_pls_spec_names_the_key(key, value, fragment):
    with pytest.raises(InputError, match=fragment.replace(".", r"\.")):
        _spec(**{key: value})


def test_bad_method_on_the_command_line_exits_2(capsys):
    assert main(["run", str(EXAMPLE_SPEC), "--method", "ols", "--out", "/nonexistent/x"]) == 2
    assert "--method ols" in capsys.readouterr().err


def test_mode_b_and_options_reach_the_estimate(example_run):
    s = _spec(**{"constructs.HAB.mode": "B"}, pls={"scheme": "factor", "bootstrap": 0})
    res = fit_pls(example_run.cleaned, s)
    assert res.bootstrap is None and res.options["modes"]["HAB"] == "B"
    model = pls_model({c: list(s.constructs[c].items) for c in res.estimate.model.constructs},
                      main_effects_syntax(s.structural), modes={"HAB": "B"})
    data, _ = mean_replace(example_run.cleaned.data[list(model.items)])
    direct = estimate_pls(data, model, scheme="factor")
    assert_allclose(res.tables["outer"]["weight"], direct.outer["weight"], rtol=0, atol=1e-12)
    assert res.tables["paths"]["pvalue"].isna().all()      # no bootstrap, no p-values


def test_interaction_terms_are_left_to_the_composite_moderation(example_run):
    """The example's structural model holds COM:HAB (which PLS refused, crashing the
    run): PLS fits the main effects, says so, and equals the model without the term."""
    s = _spec(pls={"bootstrap": 0})
    assert "COM:HAB" in s.structural
    res = fit_pls(example_run.cleaned, s)
    assert any("main effects only" in w for w in res.warnings)
    plain = _spec(structural=s.structural.replace(" + COM:HAB", ""), pls={"bootstrap": 0})
    same = fit_pls(example_run.cleaned, plain)
    assert not any("main effects only" in w for w in same.warnings)
    pd.testing.assert_frame_equal(res.tables["paths"], same.tables["paths"])


def test_run_writes_pls_results_and_tables(example_run):
    out = example_run.out_dir
    results = json.loads((out / "results.json").read_text())
    assert results["options"]["methods"] == ["cbsem", "pls"]
    pls = results["pls"]
    assert pls["bootstrap"]["B"] == 200 and pls["options"]["conventions"] == "seminr"
    assert pls["predict_verdict"]["rmse"] in {"high", "medium", "low", "none"}
    for name in TABLES:
        assert (out / "tables" / f"pls_{name}.csv").exists(), name
    paths = pd.read_csv(out / "tables" / "pls_paths.csv")
    survey = example_run.survey
    main = main_effects_syntax(survey.structural)   # PLS leaves COM:HAB to the moderation
    n_paths = sum(len(r.split("+")) for r in
                  (line.split("~")[1] for line in main.strip().splitlines()))
    assert len(paths) == len(pls["paths"]) == n_paths
    assert ((paths["ci.lower"] <= paths["est"]) & (paths["est"] <= paths["ci.upper"])).all()
    # MICOM and MGA for the spec's two-group column (school_type); not for 3- or 4-group ones
    assert (out / "tables" / "pls_micom_school_type.csv").exists()
    assert len(pd.read_csv(out / "tables" / "pls_mga_school_type.csv")) == n_paths
    assert not (out / "tables" / "pls_mga_gender.csv").exists()
    hyp = pd.read_csv(out / "tables" / "pls_hypotheses.csv")
    assert list(hyp["id"]) == list(survey.hypotheses)
    outer = pd.read_csv(out / "tables" / "pls_outer.csv")
    assert len(outer) == len(survey.items) and outer["se.weight"].gt(0).all()
    # every missing answer replaced for PLS is in the log, item by item
    log = pd.read_csv(out / "log.csv")
    replaced = log[log["action"] == "missing answer replaced by the item mean"]
    missing = example_run.cleaned.data[survey.items].isna().sum()
    assert dict(zip(replaced["column"], replaced["count"])) == {k: v for k, v in missing.items() if v}


def test_cbsem_full_collinearity_vif_is_one_over_one_minus_r2(example_run):
    """Kock's VIF of each composite against an OLS regression on all the others."""
    scores = example_run.structural.composite_scores.dropna()
    table = pd.read_csv(example_run.out_dir / "tables" / "full_collinearity_vif.csv")
    for _, row in table.iterrows():
        y = scores[row["construct"]].to_numpy()
        X = np.column_stack([np.ones(len(y)), scores.drop(columns=row["construct"]).to_numpy()])
        resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
        r2 = 1 - resid.var() / y.var()
        assert_allclose(row["vif"], 1 / (1 - r2), rtol=1e-10)   # two exact formulas
    results = json.loads((example_run.out_dir / "results.json").read_text())
    assert len(results["structural"]["full_collinearity_vif"]) == len(table)


def test_report_has_the_pls_section(example_run):
    from adoption.report.pls import pls_sections

    out = example_run.out_dir
    html = (out / "report.html").read_text(encoding="utf-8")
    for text in ("PLS-SEM", "conventions (bootstrap SD with divisor B - 1)", "Measurement model",
                 "Predictive power (PLSpredict)", "Importance-performance map",
                 "CB-SEM and PLS-SEM compared"):
        assert text in html, text
    assert html.index("Predictive power (PLSpredict)") < html.index("CB-SEM and PLS-SEM compared")
    for name in ("pls_ipma", "path_pls"):
        assert (out / "figures" / f"{name}.svg").stat().st_size > 1000
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
    ipma = pd.read_csv(out / "tables" / "pls_ipma.csv")
    assert set(ipma["target"]) == {"WIL"} and ipma["performance"].between(0, 100).all()
    assert pls_sections({}, {}) == ()          # a CB-SEM-only run has no PLS section
