"""A run with the items as ordered categories (issue 12): estimator resolution, the
missing-data rule, and the example run under WLSMV, whose numbers must equal a direct
``fit_ordinal`` call (itself checked against lavaan in test_sem_wlsmv.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from adoption import pipeline
from adoption.errors import InputError
from adoption.ordinal import (COMPOSITE_NOTE, item_estimation, resolve_estimator,
                              sensitivity_table)
from adoption.ordinal_groups import ORDINAL_ROUTE_NOTE
from adoption.sem.ordinal_reliability import omega_from_fit, ordinal_alpha
from adoption.sem.polychoric import ordinal_statistics
from adoption.sem.wlsmv import fit_ordinal

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "surveys" / "ai_mental_health" / "survey.yaml"


# --------------------------------------------------------------------------- choices
def test_estimator_from_the_command_line_the_spec_or_ordinal_true():
    assert resolve_estimator(None, None, False) == "ML"
    assert resolve_estimator(None, None, True) == "WLSMV"
    assert resolve_estimator(None, "ULSMV", True) == "ULSMV"
    assert resolve_estimator("wlsmv", "ML", False) == "WLSMV"   # the command line wins
    assert resolve_estimator("MLR", "WLSMV", False) == "MLR"


def test_some_items_ordinal_means_wlsmv_and_not_a_continuous_estimator():
    assert resolve_estimator(None, None, ["HAB1", "HAB2"]) == "WLSMV"
    with pytest.raises(InputError, match=r"ordinal: \[HAB1, HAB2\]' but the estimator is ML"):
        resolve_estimator("ML", None, ["HAB1", "HAB2"])


def test_an_ordinal_list_of_every_item_is_ordinal_true():
    from adoption.ordinal import ordinal_items
    assert ordinal_items(["A1", "A2"], ["A1", "A2"]) is None  # keeps pairwise missing possible
    assert ordinal_items(["A1"], ["A1", "A2"]) == ("A1",)
    assert ordinal_items(True, ["A1"]) is None and ordinal_items([], ["A1"]) is None
    assert item_estimation("WLSMV", "fiml", ordered=("A1",)).ordered == ("A1",)


def test_ordinal_true_with_a_continuous_estimator_is_refused():
    with pytest.raises(InputError, match="ordinal: true"):
        resolve_estimator("ML", None, True)


def test_fiml_under_wlsmv_becomes_pairwise_and_says_so():
    est = item_estimation("WLSMV", "fiml")
    assert est.missing == "pairwise" and est.ordinal
    assert "FIML" in est.notes[0] and "pairwise" in est.notes[0]
    assert item_estimation("WLSMV", "listwise").missing == "listwise"
    assert item_estimation("ULSMV", "pairwise", "theta").parameterization == "theta"


def test_pairwise_under_ml_and_theta_under_ml_are_refused():
    with pytest.raises(InputError, match="pairwise is for the ordinal estimators"):
        item_estimation("ML", "pairwise")
    with pytest.raises(InputError, match="theta"):
        item_estimation("MLR", "listwise", "theta")


def test_sensitivity_table_differences_are_ordinal_minus_continuous():
    hs = pd.read_csv(REPO / "tests" / "fixtures" / "ordinal" / "hs_ordinal.csv")
    syntax = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual"
    from adoption.sem.engine import fit_model
    cont, ordi = fit_model(syntax, hs), fit_ordinal(syntax, hs)
    t = sensitivity_table({"latent": (cont, ordi)})
    path = t[(t["kind"] == "path")].iloc[0]
    assert path["name"] == "visual -> textual"
    e = ordi.estimates
    assert path["ordinal"] == e.loc[e["op"] == "~", "std.all"].iloc[0]
    assert path["difference"] == pytest.approx(path["ordinal"] - path["continuous"])
    fit = t[(t["kind"] == "fit")].set_index("name")
    assert fit.loc["chisq", "ordinal"] == ordi.fit["chisq.scaled"]      # the scaled test
    assert fit.loc["cfi", "ordinal"] == ordi.fit["cfi.robust"]
    assert fit.loc["chisq", "continuous"] == cont.fit["chisq"]


# --------------------------------------------------------------------------- command line
def _spec_copy(tmp_path: Path, **extra) -> Path:
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw.update(extra)
    raw.pop("data")      # given with --data
    p = tmp_path / "survey.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


def test_cli_refuses_an_unknown_ordinal_item_with_exit_2(tmp_path):
    from test_cli import assert_clean_error, run_cli

    spec = _spec_copy(tmp_path, ordinal=["HAB1", "HAB9"])
    proc = run_cli("run", str(spec), "--data", str(EXAMPLE.parent / "example.sav"),
                   "--out", str(tmp_path / "r"), "--no-groups", "--bootstrap", "0")
    assert_clean_error(proc, "key 'ordinal' names 'HAB9'", "not an item of any construct")
    assert not (tmp_path / "r").exists()


# --------------------------------------------------------------------------- the example run
@pytest.fixture(scope="module")
def wlsmv_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("wlsmv") / "run"
    res = pipeline.run(EXAMPLE, out=out, options=pipeline.RunOptions(
        estimator="WLSMV", bootstrap=50, groups=True))
    return res, json.loads((out / "results.json").read_text()), out


def test_cfa_equals_a_direct_fit_ordinal_call(wlsmv_run):
    res, results, _ = wlsmv_run
    items = res.cleaned.data[list(res.cleaned.items)]
    # the example spec asks for FIML: under WLSMV the run uses pairwise (said in warnings)
    direct = fit_ordinal(res.survey.measurement_syntax(), items, missing="pairwise")
    assert results["cfa"]["fit"]["chisq.scaled"] == pytest.approx(direct.fit["chisq.scaled"], rel=1e-10)
    for k in ("cfi.robust", "tli.robust", "rmsea.robust", "srmr", "wrmr", "df"):
        assert results["cfa"]["fit"][k] == pytest.approx(direct.fit[k], rel=1e-10), k
    got = pd.DataFrame(results["cfa"]["estimates"])
    np.testing.assert_allclose(got["est"].to_numpy(float), direct.estimates["est"].to_numpy(float),
                               rtol=1e-10)
    np.testing.assert_allclose(got["se"].to_numpy(float), direct.estimates["se"].to_numpy(float),
                               rtol=1e-10)
    th = pd.read_csv(wlsmv_run[2] / "tables" / "thresholds.csv")
    d = direct.estimates[direct.estimates["op"] == "|"]
    assert len(th) == len(d) == 37 * 4
    np.testing.assert_allclose(th["est"], d["est"].to_numpy(float), rtol=1e-10)


def test_results_say_what_was_fitted_how(wlsmv_run):
    _, r, _ = wlsmv_run
    assert r["options"]["estimator"] == "WLSMV"
    o = r["ordinal"]
    assert o["ordinal"] and o["items_as"] == "ordered categories"
    assert o["missing"] == "pairwise" and o["parameterization"] == "delta"
    assert o["composite"] == COMPOSITE_NOTE
    assert r["structural"]["composite"]["estimator"] == "ML"
    assert COMPOSITE_NOTE in r["structural"]["composite"]["warnings"]
    assert r["structural"]["latent"]["estimator"] == "WLSMV"
    assert r["structural"]["latent"]["missing"] == "pairwise"
    assert any("FIML" in w for w in r["warnings"]["ordinal"])
    # groups were asked for: the ordinal invariance route, said in each comparison
    for comp in r["groups"].values():
        assert ORDINAL_ROUTE_NOTE in comp["warnings"]
        assert [e["level"] for e in comp["invariance"]] == ["configural", "scalar"]
        assert all(e["estimator"] == "WLSMV" for e in comp["invariance"])


def test_group_invariance_equals_a_direct_multigroup_ordinal_fit(wlsmv_run):
    from adoption.sem.wlsmv_groups import fit_ordinal_multigroup
    from adoption.sem.wlsmv_lrt import difference_test_ordinal

    res, r, out = wlsmv_run
    comp = r["groups"]["school_type"]
    keep = [s["value"] for s in comp["sizes"] if s["included"]]
    data = res.cleaned.data[res.cleaned.data["school_type"].isin(keep)]
    items = list(res.cleaned.items)
    data = data[data[items].notna().any(axis=1)]   # pairwise, as the run (spec: FIML)
    fits = [fit_ordinal_multigroup(res.survey.measurement_syntax(), data, "school_type",
                                   group_equal=ge, groups=keep, missing="pairwise")
            for ge in ((), ("thresholds", "loadings"))]
    for e, f in zip(comp["invariance"], fits):
        for k in ("chisq.scaled", "cfi.scaled", "rmsea.scaled", "srmr", "df"):
            assert e["fit"][k] == pytest.approx(f.fit[k], rel=1e-10), k
    d = difference_test_ordinal(fits[1], fits[0])
    assert comp["invariance"][1]["comparison"]["chisq.diff"] == pytest.approx(d["chisq.diff"],
                                                                          rel=1e-10)
    assert "WLSMV, items as ordered categories" in (out / "report.html").read_text()


def test_latent_indirect_effect_equals_fit_ordinal_defined_parameter(wlsmv_run):
    res, r, _ = wlsmv_run
    items = res.cleaned.data[list(res.cleaned.items)]
    syntax = (res.survey.measurement_syntax() + "\nCOM ~ a*EMP + PRV + ACC\n"
              "TRU ~ EMP + PRV + b*COM\nWIL ~ HAB + COM + EB + FC + PU + c*TRU + STG\n"
              "ind := a*b*c")
    e = fit_ordinal(syntax, items, missing="pairwise").estimates
    ind = e[e["op"] == ":="].iloc[0]
    row = next(x for x in r["structural"]["latent"]["indirect"]
               if x["path"] == ["EMP", "COM", "TRU", "WIL"])
    assert row["est"] == pytest.approx(ind["est"], rel=1e-8)
    assert row["se"] == pytest.approx(ind["se"], rel=1e-6)
    hyp = pd.DataFrame(r["hypotheses"]).set_index("id")
    lat = pd.DataFrame(r["structural"]["latent"]["estimates"])
    h6 = lat[(lat["op"] == "~") & (lat["lhs"] == "TRU") & (lat["rhs"] == "COM")].iloc[0]
    assert hyp.loc["H6", "latent.std.all"] == pytest.approx(h6["std.all"], rel=1e-12)


def test_ordinal_reliability_and_sensitivity_tables(wlsmv_run):
    res, r, out = wlsmv_run
    items = res.cleaned.data[list(res.cleaned.items)]
    rel = pd.read_csv(out / "tables" / "reliability.csv").set_index("construct")
    stats = ordinal_statistics(items, missing="pairwise", nacov=False).correlation
    hab = list(res.survey.constructs["HAB"].items)
    assert rel.loc["HAB", "alpha_ordinal"] == pytest.approx(ordinal_alpha(stats.loc[hab, hab].to_numpy()),
                                                            rel=1e-10)
    direct = fit_ordinal(res.survey.measurement_syntax(), items, missing="pairwise")
    assert rel.loc["HAB", "omega_categorical"] == pytest.approx(omega_from_fit(direct)["HAB"], rel=1e-10)
    assert r["reliability"]["HAB"]["alpha_ordinal"] > r["reliability"]["HAB"]["alpha"] - 0.05
    sens = pd.read_csv(out / "tables" / "sensitivity.csv")
    paths = sens[(sens["model"] == "latent") & (sens["kind"] == "path")]
    assert len(paths) == 13 and paths["continuous"].notna().all() and paths["ordinal"].notna().all()
    html = (out / "report.html").read_text()
    assert "tbl-sensitivity" in html and "tbl-thresholds" in html
    assert "Estimator: WLSMV (items as ordered categories)." in html
    assert "Estimator: ML (construct scores)." in html
