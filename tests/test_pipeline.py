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


def test_spss_and_stata_out(example_run):
    """responses.sav/.dta: the parquet's rows and values, item wording and scale labels,
    construct scores with their labels, no PII column."""
    import numpy as np
    import pyreadstat

    out, survey = example_run.out_dir, example_run.survey
    kept = pd.read_parquet(out / "responses.parquet")
    scores = example_run.structural.composite_scores
    for name, read in [("responses.sav", pyreadstat.read_sav), ("responses.dta", pyreadstat.read_dta)]:
        df, meta = read(str(out / name))
        assert len(df) == len(kept)
        np.testing.assert_array_equal(df["row"].to_numpy(), kept.index.to_numpy())
        for item in survey.items:
            np.testing.assert_array_equal(df[item].to_numpy(), kept[item].to_numpy())
        for con in survey.constructs:
            np.testing.assert_allclose(df[f"{con}_score"].to_numpy(), scores[con].to_numpy(),
                                       rtol=1e-15)  # stored as float64: exact
            assert ", ".join(survey.constructs[con].items) in meta.column_names_to_labels[f"{con}_score"]
        first = survey.items[0]
        wording = survey.constructs[survey.construct_of(first)].items[first]
        assert meta.column_names_to_labels[first].startswith(wording[:80])
        labels = meta.variable_value_labels[first]
        assert {float(k): t for k, t in labels.items()} == {
            float(k): t for k, t in survey.scale_of(first).labels.items()}
        assert not {c.lower() for c in df.columns} & {p.lower() for p in survey.pii}


def test_tables_workbook_latex_and_model_comparison(example_run):
    """tables.xlsx holds every tables/*.csv as a sheet with the same values; each has a
    booktabs .tex; model_comparison.csv puts every fitted structural model side by side."""
    out = example_run.out_dir
    csvs = sorted((out / "tables").glob("*.csv"))
    book = pd.read_excel(out / "tables.xlsx", sheet_name=None)
    assert len(book) == len(csvs)
    for p in csvs:
        sheet = book[p.stem[:31]] if p.stem[:31] in book else None
        assert sheet is not None, p.stem
        pd.testing.assert_frame_equal(sheet, pd.read_csv(p), check_dtype=False)
        tex = p.with_suffix(".tex").read_text()
        assert "\\toprule" in tex and "\\bottomrule" in tex
    cmp = pd.read_csv(out / "tables" / "model_comparison.csv")
    st = example_run.structural
    models = ["composite", *[f"composite: {a.name}" for a in st.composite.alternatives]]
    if st.latent is not None:
        models += ["latent", *[f"latent: {a.name}" for a in st.latent.alternatives]]
    assert list(cmp.columns) == ["quantity", "kind", *models]
    fit = cmp.set_index("quantity")
    assert fit.loc["cfi", "composite"] == st.composite.model_fit.fit["cfi"]
    est = st.composite.model_fit.estimates
    reg = est[est["op"] == "~"].iloc[0]
    assert fit.loc[f"{reg['lhs']} ~ {reg['rhs']}", "composite"] == reg["std.all"]
