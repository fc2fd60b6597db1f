"""The command line: bad input ends in exit code 2 with a short message, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adoption.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "surveys" / "ai_mental_health" / "survey.yaml"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed command as a user would (a fresh process)."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "adoption", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


def assert_clean_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert 1 <= len(lines) <= 3, proc.stderr  # one or two lines (wrapped at most once more)
    text = " ".join(proc.stderr.split())
    for f in fragments:
        assert f in text, text


def test_missing_spec(tmp_path):
    assert_clean_error(run_cli("validate", str(tmp_path / "nope.yaml")), "nope.yaml", "not found")


def test_missing_data_file(tmp_path):
    assert_clean_error(run_cli("validate", str(EXAMPLE), "--data", str(tmp_path / "gone.sav")),
                       "gone.sav")


def test_unknown_format(tmp_path):
    p = tmp_path / "answers.json"
    p.write_text("{}")
    assert_clean_error(run_cli("validate", str(EXAMPLE), "--data", str(p)), "answers.json")


def test_bad_estimator(tmp_path):
    assert_clean_error(run_cli("run", str(EXAMPLE), "--estimator", "GLS", "--out", str(tmp_path / "r")),
                       "--estimator GLS")
    assert not (tmp_path / "r").exists()


def test_yaml_error_names_the_line(tmp_path):
    p = tmp_path / "survey.yaml"
    p.write_text("title: t\nconstructs:\n  A: {items: [a1, a2]\n")
    assert_clean_error(run_cli("validate", str(p)), "survey.yaml, line", "YAML error")


def test_main_returns_2_in_process(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "x.yaml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_power_command(tmp_path):
    proc = run_cli("power", str(EXAMPLE), "--n", "100,200", "--reps", "40", "--out", str(tmp_path / "pw"))
    assert proc.returncode == 0, proc.stderr
    assert "N for 80%" in proc.stdout and "HAB -> WIL" in proc.stdout
    assert (tmp_path / "pw" / "results.json").is_file()


def test_power_bad_sizes(tmp_path):
    assert_clean_error(run_cli("power", str(EXAMPLE), "--n", "100,abc", "--out", str(tmp_path / "pw")),
                       "--n")


# -- usage errors (issue 17): the installed typer vendors click and raises its own classes --
@pytest.mark.parametrize("args, fragment", [
    (("run", "--frobnicate"), "No such option: --frobnicate"),
    (("run", "--bootstrap", "1.5"), "'--bootstrap'"),
    (("frob",), "No such command 'frob'"),
    (("dashboard", "reports", "--port", "abc"), "'--port'"),
    (("validate",), "Missing argument"),
])
def test_usage_errors_end_in_one_line_and_exit_2(tmp_path, args, fragment):
    proc = run_cli(*args, cwd=tmp_path)
    assert_clean_error(proc, fragment, "--help")
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not list(tmp_path.iterdir())          # nothing written


@pytest.mark.parametrize("option, value, cap", [("--bootstrap", "1000000000", "100,000"),
                                                ("--bootstrap-latent", "10001", "10,000")])
def test_bootstrap_above_the_cap_is_refused(tmp_path, option, value, cap):
    proc = run_cli("run", str(EXAMPLE), option, value, "--out", str(tmp_path / "r"))
    assert_clean_error(proc, f"{option} {value}", f"at most {cap}")
    assert not (tmp_path / "r").exists()
    assert cap in " ".join(run_cli("run", "--help").stdout.split())


def test_summary_is_not_cut_at_80_columns_in_a_file(tmp_path):
    """Output to a file (no terminal, no COLUMNS): a wide table at its full width, no '…'."""
    code = """
import numpy as np, pandas as pd
from adoption.summary import hypotheses_table, stdout_console
row = dict(id="H1", path="PERFORMANCE_EXPECTANCY -> BEHAVIOURAL_INTENTION", expected_sign="+",
           est=0.2991, se=0.0401, pvalue=1e-6, supported=True, **{"std.all": 0.289,
           "ci.lower": -0.0004, "ci.upper": 0.377, "latent.std.all": 0.369})
stdout_console().print(hypotheses_table(pd.DataFrame([row])))
"""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    with open(tmp_path / "log.txt", "w") as log:
        proc = subprocess.run([sys.executable, "-c", code], stdout=log, stderr=subprocess.PIPE,
                              text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "log.txt").read_text()
    assert "…" not in text and "PERFORMANCE_EXPECTANCY -> BEHAVIOURAL_INTENTION" in text
    assert "[-0.000, 0.377]" in text              # the sign of a bound that rounds to zero
    assert max(len(line) for line in text.splitlines()) > 80


def test_lavaan_syntax_in_a_construct_name_is_refused(tmp_path):
    import yaml

    raw = yaml.safe_load((REPO / "tests" / "bad_inputs" / "specs" / "mini.yaml").read_text())
    raw["constructs"]["Q =~ PE3\nBI ~~ 0.05*BI\nQQ"] = raw["constructs"].pop("PE")
    raw["structural"] = "BI ~ PE"
    (tmp_path / "survey.yaml").write_text(yaml.safe_dump(raw))
    data = REPO / "tests" / "bad_inputs" / "files" / "ok.csv"
    assert_clean_error(run_cli("run", str(tmp_path / "survey.yaml"), "--data", str(data),
                               "--out", str(tmp_path / "r")),
                       "survey.yaml", "key 'constructs'", "letters (A-Z, a-z), digits, '_' and '.'")
    assert not (tmp_path / "r").exists()
