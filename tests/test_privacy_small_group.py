"""A run with a planted group of 3 respondents: no file written for sharing carries
their count, nor lets it be recovered by subtraction from what is shown (issue 15).

The bad-input corpus's mini survey (40 rows) with a grouping column ``gender``: 20 Male,
17 Female and 3 Other (planted). One run through the command line, shared by the tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from adoption.cli import main
from adoption.privacy import SECONDARY, SMALL
from adoption.results_layout import DISTRIBUTION_BY_GROUP

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
K = 5


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    d = tmp_path_factory.mktemp("smallgroup")
    spec = (CORPUS / "specs" / "mini.yaml").read_text(encoding="utf-8")
    spec = spec.replace("demographics: [gender]", "demographics: [gender]\ngroups:\n  gender:\n"
                        "    label: Gender\n    labels: {1: Male, 2: Female, 3: Other}\n"
                        "min_group_size: 10")
    (d / "survey.yaml").write_text(spec, encoding="utf-8")
    df = pd.read_csv(CORPUS / "files" / "ok.csv", dtype=str)
    df.loc[df.index[df["gender"] == "2"][:3], "gender"] = "3"
    df.to_csv(d / "responses.csv", index=False)
    out = d / "run"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["run", str(d / "survey.yaml"), "--data", str(d / "responses.csv"),
                     "--bootstrap", "0", "--out", str(out)])
    assert code == 0
    return out, buf.getvalue(), df


def test_demographics_table_hides_the_group_and_its_complement(planted):
    out, _, df = planted
    demo = pd.read_csv(out / "tables" / "demographics.csv", dtype={"suppressed": str},
                       keep_default_na=False, na_values=[""])
    g = demo[demo["variable"] == "gender"]
    assert set(g["suppressed"].fillna("")) == {"", SMALL, SECONDARY}
    assert g.loc[g["suppressed"].notna(), ["count", "share"]].isna().all().all()
    # what a reader recovers by subtraction is the hidden groups together: 20, not 3
    hidden = len(df) - g["count"].sum()
    assert hidden == 20
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rows = [r for r in results["descriptives"]["demographics"] if r["variable"] == "gender"]
    assert [r["count"] for r in rows if r["suppressed"]] == [None, None]


def test_per_group_answer_table_has_no_count_of_the_small_group(planted):
    out, _, df = planted
    by = pd.read_csv(out / DISTRIBUTION_BY_GROUP, dtype={"group_value": str, "suppressed": str},
                     keep_default_na=False, na_values=[""])
    small = by[by["group_value"] == "3"]
    assert (small["suppressed"] == SMALL).all()
    assert small[["n_group", "count", "share"]].isna().all().all()
    female = by[by["group_value"] == "2"]     # 17: too few for rounded shares to hide counts
    assert (female["suppressed"] == SECONDARY).all()
    assert female[["n_group", "count", "share"]].isna().all().all()
    # overall minus the shown group is the answers of the hidden groups together (20)
    dist = pd.read_csv(out / "tables" / "distribution.csv")
    shown = by[by["suppressed"].isna()].groupby(["item", "value"])["count"].sum()
    rest = dist.set_index(["item", "value"])["count"] - shown
    assert (rest.groupby(level="item").sum() == 20).all()
    # the workbook's sheets are the same tables
    xlsx = pd.read_excel(out / "tables.xlsx", sheet_name=None)
    sheet = next(v for k, v in xlsx.items() if k.startswith("distribution_by_group"))
    assert sheet.loc[sheet["group_value"].astype(str) == "3", "count"].isna().all()


def test_results_json_and_summary_carry_no_small_count(planted):
    out, summary, _ = planted
    comp = json.loads((out / "results.json").read_text(encoding="utf-8"))["groups"]["gender"]
    sizes = {s["label"]: s for s in comp["sizes"]}
    assert sizes["Male"]["n"] == 20
    assert (sizes["Other"]["n"], sizes["Other"]["suppressed"]) == (None, SMALL)
    assert (sizes["Female"]["n"], sizes["Female"]["suppressed"]) == (None, SECONDARY)
    assert [e["n"] for e in comp["excluded_groups"]] == [None]
    assert all(e["nobs"] is None for e in comp["invariance"])
    assert comp["path_differences"]["omnibus"]["nobs"] is None
    assert not any("(3 respondents)" in w for w in comp["warnings"])
    assert any("(fewer than 5 respondents)" in w for w in comp["warnings"])
    assert "Other fewer than 5" in summary and "Female suppressed" in summary
    assert "Other 3" not in summary and "Female 17" not in summary
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "(3 respondents)" not in report
