"""A run whose spec marks only some items as ordinal (``ordinal: [items]``, issue 12):
the CFA equals a direct ``fit_ordinal(..., ordered=items)`` call (itself checked against
lavaan in test_sem_wlsmv_mixed.py), the results say which items were ordinal, and the
ordinal reliability figures are given for all-ordinal constructs only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from adoption import pipeline
from adoption.ordinal import ordinal_reliability_table, unordered_constructs
from adoption.sem.ordinal_reliability import omega_from_fit
from adoption.sem.wlsmv import fit_ordinal

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "surveys" / "ai_mental_health" / "survey.yaml"
ORDERED = ["HAB1", "HAB2", "HAB3", "HAB4", "PU1"]  # HAB all ordinal, PU mixed, the rest continuous


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mixed")
    raw = yaml.safe_load(EXAMPLE.read_text())
    raw.update(ordinal=ORDERED, sensitivity=False)
    raw.pop("data")  # given as data=
    # a measurement-only study of four constructs keeps the run short
    raw["constructs"] = {k: raw["constructs"][k] for k in ("HAB", "PU", "FC", "EB")}
    for key in ("structural", "hypotheses", "alternatives", "groups"):
        raw.pop(key, None)
    spec = tmp / "survey.yaml"
    spec.write_text(yaml.safe_dump(raw, sort_keys=False))
    out = tmp / "run"
    res = pipeline.run(spec, data=EXAMPLE.parent / "example.sav", out=out,
                       options=pipeline.RunOptions(bootstrap=0, groups=False))
    return res, json.loads((out / "results.json").read_text()), out


def test_results_say_which_items_were_ordinal(mixed_run):
    res, r, out = mixed_run
    o = r["ordinal"]
    assert r["options"]["estimator"] == "WLSMV" and o["ordinal"]
    assert o["ordinal_items"] == ORDERED
    assert o["continuous_items"] == [i for i in res.cleaned.items if i not in ORDERED]
    assert o["items_as"] == "mixed: ordered categories and continuous"
    # the example spec asks for FIML: under WLSMV pairwise, also with continuous items
    assert o["missing"] == "pairwise" and any("FIML" in w for w in o["warnings"])
    html = (out / "report.html").read_text()
    assert "(some items as ordered categories, the others continuous)." in html
    assert "ordered categories: HAB1, HAB2, HAB3, HAB4, PU1; continuous: PU2" in html


def test_cfa_equals_a_direct_mixed_fit(mixed_run):
    res, r, out = mixed_run
    items = res.cleaned.data[list(res.cleaned.items)]
    direct = fit_ordinal(res.survey.measurement_syntax(), items, ordered=ORDERED,
                         missing="pairwise")
    assert direct.converged
    got = pd.DataFrame(r["cfa"]["estimates"])
    assert list(got["op"]).count("~1") == len(items.columns) - len(ORDERED)
    np.testing.assert_allclose(got["est"].to_numpy(float), direct.estimates["est"].to_numpy(float),
                               rtol=1e-10)
    np.testing.assert_allclose(got["se"].to_numpy(float), direct.estimates["se"].to_numpy(float),
                               rtol=1e-10)
    th = pd.read_csv(out / "tables" / "thresholds.csv")
    assert sorted(set(th["item"])) == sorted(ORDERED)


def test_ordinal_reliability_only_for_all_ordinal_constructs(mixed_run):
    res, r, _ = mixed_run
    rel = r["reliability"]
    assert np.isfinite(rel["HAB"]["alpha_ordinal"]) and np.isfinite(rel["HAB"]["omega_categorical"])
    for c in ("PU", "FC"):
        assert rel[c]["alpha_ordinal"] is None and rel[c]["omega_categorical"] is None
    note = next(w for w in r["ordinal"]["warnings"] if "ordinal alpha" in w.lower())
    assert "PU (mixed ordinal and continuous items) and FC, EB (continuous items)" in note


def test_reliability_table_skips_constructs_with_continuous_items():
    hs = pd.read_csv(REPO / "tests" / "fixtures" / "ordinal_mixed" / "hs_mixed.csv")
    constructs = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                  "speed": ["x7", "x8", "x9"]}
    ordered = ("x1", "x2", "x3", "x4")
    syntax = "\n".join(f"{f} =~ {' + '.join(v)}" for f, v in constructs.items())
    fit = fit_ordinal(syntax, hs, ordered=ordered)
    assert unordered_constructs(constructs, ordered) == {"textual": "mixed", "speed": "continuous"}
    t = ordinal_reliability_table(fit, constructs, ordered).set_index("construct")
    assert t.loc[["textual", "speed"]].isna().all().all()
    assert t.loc["visual", "omega_categorical"] == pytest.approx(omega_from_fit(fit)["visual"])
