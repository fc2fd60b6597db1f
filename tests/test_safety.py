"""Never destroy a user's files, never exit 0 on failure (issue 20, part A).

* ``--out`` replaces only a previous run directory: the inputs' folder, the current
  folder, a file, a parent of the inputs, or any other non-empty folder is refused
  with exit 2 and left as it was. We run as root here (root ignores permissions), so
  nothing below relies on permissions; one test makes the folder read-only to show it.
* exit codes reach the shell: 1 for "not reproduced", 130 for Ctrl-C;
* reproduce compares every file the run wrote (manifest.json and the rerun);
* a FIFO or a link to /dev/urandom as input is refused at once;
* stale temporary folders of the same output are removed, nothing else;
* tracebacks that became messages: a singular model, an unreadable input, an --out name
  too long, an --out through a file, a negative seed, a damaged run in the dashboard.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adoption import rundir
from adoption.cli import main
from adoption.runfiles import MANIFEST, TMP_MARKER, file_sha256, read_manifest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "bad_inputs"
ENV = {**os.environ, "COLUMNS": "400"}
FAST = ["--bootstrap", "20", "--seed", "7", "--no-groups"]


def adoption(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "adoption", *args], capture_output=True, text=True,
                          cwd=cwd, env=ENV, timeout=timeout)


def survey_folder(base: Path) -> Path:
    """A folder 's' with the corpus's small spec and a clean export (and nothing else)."""
    s = base / "s"
    s.mkdir()
    shutil.copy(CORPUS / "specs" / "mini.yaml", s / "survey.yaml")
    shutil.copy(CORPUS / "files" / "ok.csv", s / "data.csv")
    return s


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its hash (to see that nothing changed)."""
    return {p.relative_to(folder).as_posix(): file_sha256(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(code: int, err: str, pattern: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(pattern, lines[0]), (pattern, err)


@pytest.fixture()
def work(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    return tmp_path


def run_main(capsys, *args: str) -> tuple[int, str]:
    code = main(["run", *args, *FAST])
    return code, capsys.readouterr().err


# -- 1. --out never replaces what is not a previous run ---------------------------------------
def test_out_is_the_inputs_folder(work, capsys):
    s = survey_folder(work)
    before = snapshot(work)
    code, err = run_main(capsys, str(s / "survey.yaml"), "--data", str(s / "data.csv"), "--out", str(s))
    refused(code, err, r"--out .*/s: that folder holds (survey\.yaml|data\.csv), which the run reads")
    assert snapshot(work) == before


def test_out_is_the_current_folder(work, capsys, monkeypatch):
    s = survey_folder(work)
    monkeypatch.chdir(s)  # the inputs are here
    code, err = run_main(capsys, "survey.yaml", "--data", "data.csv", "--out", ".")
    refused(code, err, r"--out \.: that folder holds")
    elsewhere = work / "mine"
    elsewhere.mkdir()
    (elsewhere / "thesis.tex").write_text("years of work")
    monkeypatch.chdir(elsewhere)  # inputs elsewhere: still the current folder
    code, err = run_main(capsys, str(s / "survey.yaml"), "--data", str(s / "data.csv"), "--out", ".")
    refused(code, err, r"--out \.: that is the current folder")
    code, err = run_main(capsys, str(s / "survey.yaml"), "--data", str(s / "data.csv"), "--out", "..")
    refused(code, err, r"--out \.\.: that folder holds")  # the parent holds the inputs too
    assert (elsewhere / "thesis.tex").read_text() == "years of work"


@pytest.mark.parametrize("target", ["existing.txt", "s/data.csv", "s/survey.yaml"])
def test_out_is_a_file(work, capsys, target):
    s = survey_folder(work)
    (work / "existing.txt").write_text("keep me")
    before = snapshot(work)
    code, err = run_main(capsys, str(s / "survey.yaml"), "--data", str(s / "data.csv"),
                         "--out", str(work / target))
    refused(code, err, r"a file of that name exists|which the run reads")
    assert snapshot(work) == before


def test_out_is_a_parent_of_the_inputs(work, capsys):
    s = survey_folder(work)
    before = snapshot(work)
    code, err = run_main(capsys, str(s / "survey.yaml"), "--data", str(s / "data.csv"), "--out", str(work))
    refused(code, err, r"that folder holds (survey\.yaml|data\.csv)")
    assert snapshot(work) == before


def test_out_is_another_folder_even_read_only(work, capsys):
    """A non-empty folder that is not a run, made read-only: as root the permission would
    not stop a delete; the refusal does not depend on it."""
    s = survey_folder(work)
    other = work / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    (other / "results.json").write_text("{}")  # a results.json alone does not make a run
    other.chmod(0o555)
    try:
        before = snapshot(work)
        code, err = run_main(capsys, str(s / "survey.yaml"), "--data", str(s / "data.csv"),
                             "--out", str(other))
        refused(code, err, r"the folder exists but is not a run directory")
        assert snapshot(work) == before
    finally:
        other.chmod(0o755)


def test_previous_run_is_replaced_and_only_it(work, capsys):
    """A run directory is replaced by the next run; with a file the run did not write,
    or a file changed since, it is refused; an empty folder and a path with missing
    parents are fine (parents are created)."""
    s = survey_folder(work)
    args = [str(s / "survey.yaml"), "--data", str(s / "data.csv")]
    out = work / "new" / "deeper" / "run"  # parents do not exist: created
    assert run_main(capsys, *args, "--out", str(out))[0] == 0
    files = read_manifest(out)
    assert files is not None and "results.json" in files and "report.html" in files
    assert set(files) == {p.relative_to(out).as_posix() for p in out.rglob("*")
                          if p.is_file() and p.name != MANIFEST}
    assert run_main(capsys, *args, "--out", str(out))[0] == 0  # a previous run: replaced

    (out / "notes.txt").write_text("my notes")
    code, err = run_main(capsys, *args, "--out", str(out))
    refused(code, err, r"holds files the run did not write \(notes\.txt\)")
    assert (out / "notes.txt").read_text() == "my notes"
    (out / "notes.txt").unlink()

    with (out / "tables" / "items.csv").open("a") as f:
        f.write("my edit\n")
    code, err = run_main(capsys, *args, "--out", str(out))
    refused(code, err, r"holds files changed since the run wrote them \(tables/items\.csv\)")
    assert (out / "tables" / "items.csv").read_text().endswith("my edit\n")

    empty = work / "empty"
    empty.mkdir()
    assert run_main(capsys, *args, "--out", str(empty))[0] == 0
    assert (empty / MANIFEST).is_file()
    hidden = [p.name for p in work.rglob(".*")]
    assert hidden == [], hidden  # no temporary folder left by any of these runs


def as_previous_version(out: Path) -> None:
    """Make a run directory as the version before manifests left it: no manifest.json and
    none of the files that came with it (tables.xlsx, tables/*.tex, responses.sav/.dta)."""
    (out / MANIFEST).unlink()
    for p in [out / "tables.xlsx", out / "responses.sav", out / "responses.dta",
              *(out / "tables").glob("*.tex")]:
        p.unlink(missing_ok=True)


def test_run_directory_of_the_previous_version(work, capsys):
    """A run written before manifest.json is recognised by its layout and replaced;
    with a file outside that layout it is refused."""
    s = survey_folder(work)
    args = [str(s / "survey.yaml"), "--data", str(s / "data.csv")]
    out = work / "run"
    assert run_main(capsys, *args, "--out", str(out))[0] == 0
    as_previous_version(out)
    assert run_main(capsys, *args, "--out", str(out))[0] == 0
    as_previous_version(out)
    (out / "draft.docx").write_text("mine")
    code, err = run_main(capsys, *args, "--out", str(out))
    refused(code, err, r"is not a run directory")
    assert (out / "draft.docx").read_text() == "mine"


def test_out_name_too_long_and_out_through_a_file(work, capsys):
    s = survey_folder(work)
    args = [str(s / "survey.yaml"), "--data", str(s / "data.csv")]
    code, err = run_main(capsys, *args, "--out", str(work / ("x" * 250)))
    refused(code, err, r"the folder name is 250 bytes long; this file system allows 233")
    (work / "afile").write_text("x")
    code, err = run_main(capsys, *args, "--out", str(work / "afile" / "run"))
    refused(code, err, r"afile is a file, not a folder")
    assert sorted(p.name for p in work.iterdir()) == ["afile", "s"]


# -- 5. stale temporary folders ---------------------------------------------------------------
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _temp(parent: Path, name: str, pid: int | None, started: float | None = None,
          host: str | None = None) -> Path:
    d = parent / name
    (d / "tables").mkdir(parents=True)
    (d / "results.json").write_text("{}")
    if pid is not None:
        (d / TMP_MARKER).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                                "started": started or time.time()}))
    return d


def test_stale_temporary_folders_of_this_output_are_removed(tmp_path):
    import pandas as pd

    dead = _dead_pid()
    stale = _temp(tmp_path, ".run.tmp-abcd1234", dead)                       # writer died
    old = _temp(tmp_path, ".run.tmp-old12345", 999999, time.time() - 3 * 86400, host="elsewhere")
    live = _temp(tmp_path, ".run.tmp-live1234", os.getpid())                 # a run in progress
    recent = _temp(tmp_path, ".run.tmp-remote12", 999999, host="elsewhere")  # another host, recent
    unmarked = _temp(tmp_path, ".run.tmp-user1234", None)                    # not ours
    other = _temp(tmp_path, ".runs.tmp-abcd1234", dead)                      # another output
    nested = _temp(tmp_path, ".run.tmp-x.tmp-abcd1234", dead)                # output 'run.tmp-x'
    empty_dead = tmp_path / f".run.tmp-{dead}-abcd1234"                     # killed before its marker
    empty_dead.mkdir()
    empty_live = tmp_path / f".run.tmp-{os.getpid()}-abcd1234"
    empty_live.mkdir()
    rundir.write_run(tmp_path / "prev", results={"n": 1}, frames={"a.csv": pd.DataFrame({"x": [1]})})
    swapped = tmp_path / ".run.old-4242"                                     # a previous run swapped out
    (tmp_path / "prev").rename(swapped)

    rundir.write_run(tmp_path / "run", results={"n": 1})
    gone = {stale, old, swapped, empty_dead}
    for d in (stale, old, live, recent, unmarked, other, nested, swapped, empty_dead, empty_live):
        assert d.exists() == (d not in gone), d
    assert (tmp_path / "run" / "results.json").is_file()
    assert not (tmp_path / "run" / TMP_MARKER).exists()


def test_a_run_killed_while_writing_is_cleaned_by_the_next(work, capsys):
    """SIGKILL as soon as the hidden temporary folder appears; the next run removes it."""
    s = survey_folder(work)
    proc = subprocess.Popen([sys.executable, "-m", "adoption", "run", "survey.yaml", "--data", "data.csv",
                             "--out", "run", *FAST], cwd=s, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while proc.poll() is None and not any(s.glob(".run.tmp-*")):
        assert time.monotonic() < deadline
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    left = list(s.glob(".run.tmp-*"))
    assert left, "the process finished before it could be killed"
    assert adoption("run", "survey.yaml", "--data", "data.csv", "--out", "run", *FAST, cwd=s).returncode == 0
    assert list(s.glob(".run*")) == []


# -- 2. and 3. exit codes through a real process; reproduce compares every file --------------------
@pytest.fixture(scope="module")
def made(tmp_path_factory):
    s = survey_folder(tmp_path_factory.mktemp("made"))
    proc = adoption("run", "survey.yaml", "--data", "data.csv", "--out", "run", *FAST, cwd=s)
    assert proc.returncode == 0, proc.stderr
    return s


@pytest.fixture()
def finished(made, tmp_path):
    return Path(shutil.copytree(made, tmp_path / "s"))


def test_reproduce_exits_1_when_a_table_or_the_report_was_edited(finished):
    """(reproduce of an unedited run: tests/test_hardening_runs.py::test_reproduce_a_run)"""
    for edit in ("tables/items.csv", "report.html"):
        with (finished / "run" / edit).open("a") as f:
            f.write("\n<!-- edited -->\n")
    proc = adoption("reproduce", "run", cwd=finished)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(r"NOT reproduced: 0 of \d+ values of results.json differ; \d+ other files "
                     r"compared with manifest.json and the rerun: 2 differ", proc.stderr), proc.stderr
    for edit in ("tables/items.csv", "report.html"):
        assert f"{edit}: changed since the run wrote it" in proc.stderr


def test_reproduce_compares_each_file_with_the_rerun(finished, monkeypatch):
    """An edit made and recorded in the manifest (the file no longer what the analysis
    writes) is found by comparing with the rerun's bytes; a run without a manifest says
    that only results.json is compared."""
    from adoption.reproduce import format_report, reproduce
    from adoption.runfiles import write_manifest

    monkeypatch.chdir(finished)
    (finished / "run" / "tables" / "htmt.csv").write_text("construct\nforged\n")
    write_manifest(finished / "run")
    report = reproduce("run")
    assert not report.ok and [(d.name, d.why) for d in report.file_differences] == [
        ("tables/htmt.csv", "the rerun wrote different bytes")]
    assert report.files_compared >= 25
    (finished / "run" / MANIFEST).unlink()
    report = reproduce("run")
    assert report.ok and not report.has_manifest
    assert "the other files are not compared (no manifest.json: a run from an older version)" \
        in format_report(report)


def _interrupt(cwd: Path, when: str) -> subprocess.CompletedProcess:
    """SIGINT to `adoption run` while the libraries load, while it computes (a long
    bootstrap), or as soon as its temporary folder appears (while it writes)."""
    boot = "20" if when == "writing" else "100000"  # the most --bootstrap allows
    proc = subprocess.Popen([sys.executable, "-m", "adoption", "run", "survey.yaml", "--data", "data.csv",
                             "--out", "run", "--bootstrap", boot, "--seed", "8", "--no-groups"],
                            cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if when == "writing":
        deadline = time.monotonic() + 120
        while proc.poll() is None and not any(cwd.glob(".run.tmp-*")):
            assert time.monotonic() < deadline
            time.sleep(0.001)
    else:
        time.sleep(2.5 if when == "computing" else 0.5)  # 0.5 s: while the libraries load
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("when", ["starting", "computing", "writing"])
def test_ctrl_c_exits_130_with_one_line_and_leaves_no_half_run(finished, when):
    before = snapshot(finished / "run")
    proc = _interrupt(finished, when)
    if when != "starting" and proc.returncode == 0:
        pytest.skip("the run finished before the interrupt arrived")
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and "Warning" not in ln
             and not ln.startswith("  val = ")]  # a numpy RuntimeWarning of the fit may precede it
    assert lines == ["interrupted: stopped before the end; a run directory is written whole or not "
                     "at all."], proc.stderr
    now = snapshot(finished / "run")
    assert now == before or set(now) == set(before)  # the previous run, or a complete new one
    assert list(finished.glob(".run*")) == []


# -- 4. inputs that are not regular files ------------------------------------------------------
def test_fifo_and_urandom_link_are_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    link = tmp_path / "random.csv"
    link.symlink_to("/dev/urandom")
    for p, what in ((fifo, r"pipe\.csv: is not a regular file"),
                    (link, r"random\.csv: is not a regular file .*via a link to /dev/urandom")):
        proc = adoption("validate", str(CORPUS / "specs" / "mini.yaml"), "--data", str(p), timeout=60)
        refused(proc.returncode, proc.stderr, what)
    spec = tmp_path / "survey.yaml"
    os.mkfifo(spec)
    proc = adoption("validate", str(spec), "--data", str(CORPUS / "files" / "ok.csv"), timeout=60)
    refused(proc.returncode, proc.stderr, r"survey\.yaml: is not a regular file")


# -- 6. tracebacks that became messages ---------------------------------------------------------
def test_input_read_error_is_a_message(work, capsys, monkeypatch):
    def eio(self, *a, **k):
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(self))

    monkeypatch.setattr(Path, "read_bytes", eio)
    code = main(["validate", str(CORPUS / "specs" / "mini.yaml"), "--data", str(CORPUS / "files" / "ok.csv")])
    refused(code, capsys.readouterr().err, r"ok\.csv: cannot read the file \(Input/output error\)")
    monkeypatch.undo()
    code = main(["validate", str(CORPUS / "specs" / "mini.yaml"), "--data", str(CORPUS / "files")])
    refused(code, capsys.readouterr().err, r"files: is a folder, not an export file")


def test_singular_model_is_refused_with_its_line(work, capsys):
    spec = work / "survey.yaml"
    spec.write_text((CORPUS / "specs" / "mini.yaml").read_text().replace(
        "structural: |\n  BI ~ PE\n", "structural: |\n  BI ~ PE\n  BI ~~ PE\n"))
    for argv in (["validate", str(spec)], ["run", str(spec), "--out", str(work / "r")]):
        code = main([*argv, "--data", str(CORPUS / "files" / "ok.csv")])
        refused(code, capsys.readouterr().err,
                r"structural: model syntax, line 2: 'BI ~~ PE' adds a covariance to the path 'BI ~ PE'")
    assert not (work / "r").exists()


@pytest.mark.parametrize("command", ["run", "simulate", "power"])
def test_negative_seed_is_refused(work, capsys, command):
    spec = REPO / "surveys" / "ai_mental_health" / "survey.yaml"
    code = main([command, str(spec), "--seed", "-1", "--out", str(work / "x")])
    refused(code, capsys.readouterr().err, r"--seed -1: give a whole number from 0 up")
    assert not (work / "x").exists()


# -- 6. the dashboard skips a damaged run --------------------------------------------------------
def test_dashboard_skips_a_run_with_a_wrong_type(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from adoption.pipeline import RunOptions, run

    root = tmp_path / "reports"
    run(CORPUS / "specs" / "mini.yaml", CORPUS / "files" / "ok.csv", root / "good",
        RunOptions(bootstrap=20, seed=7, groups=False))
    for name, change in (("broken", lambda r: r.update(sample="545 rows")),
                         ("deep", lambda r: r["descriptives"].update(distribution="oops"))):
        shutil.copytree(root / "good", root / name)
        res = json.loads((root / name / "results.json").read_text())
        change(res)
        (root / name / "results.json").write_text(json.dumps(res))
    os.utime(root / "good" / "results.json")  # the newest: opened first
    monkeypatch.setenv("ADOPTION_DASHBOARD_ROOT", str(root))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    names = {o.rsplit(" · ", 1)[-1] for o in at.sidebar.selectbox(key="run-select").options}
    assert names == {"good", "deep"}
    assert "Skipped 1 run(s) that cannot be shown" in " ".join(str(w.value) for w in at.warning)
    assert "broken: 'sample' is a str, not a dict" in " ".join(str(t.value) for t in at.text)
    assert at.title[0].value.replace("\\", "") == "Brief: Bad-input corpus"  # markdown escaped by the page
    at.sidebar.selectbox(key="run-select").select(
        next(o for o in at.sidebar.selectbox(key="run-select").options if o.endswith(" · deep"))).run()
    for page in ("responses", "overview"):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]


def test_rebuilt_report_keeps_the_run_replaceable(finished):
    """rebuild_report rewrites the report inside a run: the manifest follows, so the
    folder is still a run directory (replaceable, reproducible)."""
    from adoption.report import rebuild_report
    from adoption.runfiles import check_files, run_dir_problem

    run = finished / "run"
    (run / "report.html").write_text("old layout")
    rebuild_report(run)
    assert check_files(run, read_manifest(run)).ok
    assert run_dir_problem(run) is None


def test_what_reproduce_counts_as_the_same_file(tmp_path):
    """Bytes for every file; a .parquet file holding the same table counts as the same;
    with rtol, CSV cells within rtol match and the report is left out (said)."""
    import pandas as pd

    from adoption.reproduce import compare_files
    from adoption.runfiles import write_manifest

    rec, new = tmp_path / "rec", tmp_path / "new"
    for d, v, html, codec in ((rec, 0.1, "a", "snappy"), (new, 0.1 + 1e-13, "b", "gzip")):
        (d / "tables").mkdir(parents=True)
        pd.DataFrame({"x": [v], "t": ["k"]}).to_csv(d / "tables" / "a.csv", index=False)
        pd.DataFrame({"x": [1.5, 2.5]}).to_parquet(d / "responses.parquet", compression=codec)
        (d / "report.html").write_text(html)
        (d / "results.json").write_text("{}")
    assert file_sha256(rec / "responses.parquet") != file_sha256(new / "responses.parquet")
    manifest = write_manifest(rec)
    diffs, skipped = compare_files(rec, manifest, new)
    assert [(d.name, d.why) for d in diffs] == [("report.html", "the rerun wrote different bytes"),
                                                ("tables/a.csv", "the rerun wrote different bytes")]
    diffs, skipped = compare_files(rec, manifest, new, rtol=1e-9)
    assert diffs == [] and skipped == ["report.html"]
    diffs, _ = compare_files(rec, manifest, new, rtol=1e-16)
    assert [d.name for d in diffs] == ["tables/a.csv"]


def test_rmsea_interval_of_a_failed_fit_is_missing():
    """The singular fit's chi-square was NaN and brentq raised a traceback."""
    import math

    from adoption.sem.fitmeasures import rmsea_ci

    assert all(math.isnan(x) for x in rmsea_ci(float("nan"), 3, 200))


def test_report_bytes_do_not_depend_on_the_plotly_default(finished, monkeypatch):
    """Importing streamlit (the dashboard, in the same process) changes plotly's default
    template; report.html then differed from the recorded one and reproduce failed."""
    import plotly.io as pio

    from adoption.report import rebuild_report

    run = finished / "run"
    before = file_sha256(run / "report.html")
    monkeypatch.setattr(pio.templates, "default", "plotly_dark")
    rebuild_report(run)
    assert file_sha256(run / "report.html") == before
