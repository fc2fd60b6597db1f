"""A recode by the file's value labels is said everywhere (issue 17): an SPSS file whose
labels run the other way from the spec's scale (1 = Strongly agree) is recoded c -> 6 - c,
and `adoption validate`, the run's terminal warnings, results.json and the report's methods
section name the columns and the rule, not only log.csv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "tests" / "bad_inputs" / "specs" / "mini.yaml"
REVERSED = {1.0: "Strongly agree", 2.0: "Agree", 3.0: "Neutral", 4.0: "Disagree",
            5.0: "Strongly disagree"}
FLIPPED = ["PE1", "PE2", "BI1"]


@pytest.fixture(scope="module")
def sav(tmp_path_factory):
    """ok.csv as an SPSS file in which PE1, PE2 and BI1 are stored the other way round
    (1 = Strongly agree), with value labels saying so."""
    import pyreadstat

    df = pd.read_csv(REPO / "tests" / "bad_inputs" / "files" / "ok.csv")
    for c in FLIPPED:
        df[c] = 6 - df[c]
    path = tmp_path_factory.mktemp("sav") / "reversed.sav"
    pyreadstat.write_sav(df, str(path), variable_value_labels={c: REVERSED for c in FLIPPED})
    return path


def test_the_loader_recodes_and_says_which_rule(sav):
    from adoption.load import load_responses, recode_warnings
    from adoption.spec import load_spec

    survey = load_spec(SPEC)
    loaded = load_responses(sav, survey)
    ok = pd.read_csv(REPO / "tests" / "bad_inputs" / "files" / "ok.csv")
    assert loaded.data["PE1"].tolist() == ok["PE1"].astype(float).tolist()   # recoded back
    assert loaded.recodes == {c: "c -> 6 - c" for c in FLIPPED}
    (w,) = recode_warnings(loaded.recodes)
    assert w.startswith("3 column(s) recoded c -> 6 - c because the file's value labels run "
                        "the other way") and w.endswith("PE1, PE2, BI1")


def test_validate_says_it(sav):
    proc = subprocess.run([sys.executable, "-m", "adoption", "validate", str(SPEC), "--data", str(sav)],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"},
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert "warning: 3 column(s) recoded c -> 6 - c" in out and "PE1, PE2, BI1" in out


def test_run_says_it_in_warnings_results_and_report(sav, tmp_path):
    import io

    import lxml.html
    from rich.console import Console

    from adoption.pipeline import RunOptions, run
    from adoption.summary import print_run

    res = run(SPEC, sav, tmp_path / "run", RunOptions(bootstrap=0, groups=False))
    buf = io.StringIO()
    print_run(Console(file=buf, width=200), res)
    assert "recoded c -> 6 - c" in buf.getvalue() and "PE1, PE2, BI1" in buf.getvalue()
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["input"]["recoded_by_labels"] == [{"rule": "c -> 6 - c", "columns": FLIPPED}]
    assert any("PE1, PE2, BI1" in w for w in results["warnings"]["loading"])
    dom = lxml.html.fromstring((tmp_path / "run" / "report.html").read_text(encoding="utf-8"))
    methods = dom.get_element_by_id("tbl-methods").text_content()
    assert "Recoded by value labels (c -> 6 - c)" in methods and "PE1, PE2, BI1" in methods
