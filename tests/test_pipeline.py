"""The example run end to end: every row accounted for, every section written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from adoption.simulate import simulate


def test_example_flow_matches_what_the_simulator_injected(example_run):
    res = json.loads((example_run.out_dir / "results.json").read_text())
    sample = res["sample"]
    assert sample["rows_in"] == sample["rows_analysed"] + sum(e["count"] for e in sample["excluded"])
    # the committed example.sav is simulate(spec, n=600, seed=20260101) (its README)
    sim = simulate(example_run.survey, n=600, seed=20260101)
    assert {e["reason"]: e["count"] for e in sample["excluded"]} == sim.truth.expected_flow()
    assert sample["rows_in"] == len(sim.data)
    assert res["input"]["format"] == "sav" and len(res["input"]["sha256"]) == 64


def test_run_directory_files(example_run):
    out = example_run.out_dir
    for name in ["results.json", "responses.parquet", "exclusions.csv", "log.csv",
                 "tables/items.csv", "tables/reliability.csv"]:
        assert (out / name).is_file(), name
    kept = pd.read_parquet(out / "responses.parquet")
    excluded = pd.read_csv(out / "exclusions.csv")
    res = json.loads((out / "results.json").read_text())
    assert len(kept) == res["sample"]["rows_analysed"]
    assert len(excluded) == res["sample"]["rows_in"] - res["sample"]["rows_analysed"]
    assert set(kept.index).isdisjoint(set(excluded["row"]))
    # no PII column reaches any output
    for col in ["name", "email", "student_no"]:
        assert col not in kept.columns
    # the invariance sequence of each grouping column, one row per fitted model
    for col, g in res["groups"].items():
        inv = pd.read_csv(out / "tables" / f"invariance_{col}.csv")
        assert list(inv["model"]) == [e["model"] for e in g["invariance"]]
        assert {"tli", "rmsea.ci.lower", "rmsea.ci.upper", "chisq.diff", "supported"} <= set(inv)
        np.testing.assert_allclose(inv["chisq"], [e["fit"]["chisq"] for e in g["invariance"]],
                                   rtol=1e-12)


def test_measurement_section(example_run):
    res = json.loads((example_run.out_dir / "results.json").read_text())
    assert set(res["reliability"]) == set(example_run.survey.constructs)
    for c, r in res["reliability"].items():
        assert {"alpha", "alpha_ci_lower", "alpha_ci_upper", "omega", "cr", "ave", "n_items"} <= set(r)
        assert 0.5 < r["alpha"] < 1
    assert {"htmt", "fornell_larcker", "kmo", "bartlett", "mardia"} <= set(res["validity"])
    fit = res["cfa"]["fit"]
    from adoption.vocabulary import FIT_MEASURES
    assert set(FIT_MEASURES) <= set(fit)
    assert fit["df"] == 574  # 37 items, 11 factors: 703 moments - 129 parameters
    row = res["cfa"]["estimates"][0]
    assert {"lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all"} <= set(row)


def test_terminal_summary_of_the_example_run(example_run):
    """The summary `adoption run` prints: every section, from the run's own values."""
    import io

    from rich.console import Console

    from adoption.summary import print_run

    buf = io.StringIO()
    print_run(Console(file=buf, width=160), example_run)
    text = buf.getvalue()
    for heading in ["Sample flow", "Reliability", "Confirmatory factor analysis",
                    "Structural model", "Hypotheses", "Indirect effects", "Group comparisons"]:
        assert heading in text, heading
    assert "analysed" in text and str(example_run.cleaned.flow.rows_analysed) in text
