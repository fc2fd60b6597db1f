"""The bad-input corpus: every file in tests/bad_inputs/manifest.yaml through the command line.

A refused input must end in exit code 2 with a one- or two-line message that matches the
manifest's regex (naming the file, column or row and what to do), never a traceback. An
accepted one must load and clean with its change logged and a sample flow that adds up.
Big inputs are generated here in ``tmp_path``, never committed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from adoption import readers
from adoption.readers import limits
from adoption.cli import main
from adoption.errors import InputError

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "bad_inputs"
MANIFEST = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))
MINI = CORPUS / "specs" / "mini.yaml"


def _argv(entry: dict) -> list[str]:
    if entry.get("data") == "spec":
        return ["validate", str(CORPUS / "specs" / entry["file"])]
    spec = CORPUS / "specs" / entry.get("spec", "mini.yaml")
    return ["validate", str(spec), "--data", str(CORPUS / "files" / entry["file"])]


def assert_refused(code: int, err: str, pattern: str) -> None:
    """Exit code 2, no traceback, one or two lines, the message the manifest expects."""
    assert code == 2, err
    assert "Traceback" not in err
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", err), repr(err)  # no raw control characters
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert 1 <= len(lines) <= 2, err
    assert lines[0].startswith("error: "), err
    assert re.search(pattern, " ".join(lines)), f"{pattern!r} not in {err!r}"


def test_corpus_is_big_enough_and_small_on_disk():
    files = [p for p in (CORPUS / "files").iterdir()]
    assert len(MANIFEST) >= 40
    assert {e["file"] for e in MANIFEST if e.get("data") != "spec"} == {p.name for p in files}
    assert sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file()) < 2_000_000


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_corpus_entry(entry, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    code = main(_argv(entry))
    err = capsys.readouterr().err
    if entry["exit"] == 2:
        assert_refused(code, err, entry["message"])
        return
    assert code == 0, err
    from adoption.pipeline import prepare

    argv = _argv(entry)
    _, loaded, cleaned = prepare(argv[1], argv[3] if len(argv) > 2 else None)
    lines = [f"{e.action}: {e.detail}" for e in cleaned.log]
    if "log" in entry:
        assert any(re.search(entry["log"], ln) for ln in lines), lines
    flow = cleaned.flow
    assert flow.rows_in == flow.rows_analysed + sum(c for _, c in flow.excluded)
    if "flow" in entry:
        assert [flow.rows_in, flow.rows_analysed] == entry["flow"]


def test_corpus_through_a_real_process():
    """A few entries as a user runs them: a fresh process, stderr as the terminal gets it."""
    env = {**os.environ, "COLUMNS": "200"}
    for entry in [e for e in MANIFEST if e["exit"] == 2][::8]:
        proc = subprocess.run([sys.executable, "-m", "adoption", *_argv(entry)],
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert 1 <= len(proc.stderr.strip().splitlines()) <= 3  # wrapped at most once more
        assert re.search(entry["message"], " ".join(proc.stderr.split()))


# -- generated at test time: too big to commit ----------------------------------------------
# Peak memory of this process alone: VmHWM (ru_maxrss would include the memory of the
# pytest process that forked it, which Linux carries across fork and exec).
_MEASURE = """
import re, sys
from adoption.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as f:
    print("maxrss_kib", re.search(r"VmHWM:\\s*(\\d+)", f.read()).group(1), file=sys.stderr)
sys.exit(code)
"""


def test_csv_of_one_200mb_line_is_refused_fast_and_small(tmp_path):
    """200 MB without a newline: refused after a few MiB of streaming, without reading
    the file into memory (the guard runs before the bytes are read)."""
    big = tmp_path / "one_line.csv"
    chunk = b"x" * (1 << 20)
    with big.open("wb") as f:
        f.write(b"id,PE1,PE2,PE3,BI1,BI2,BI3,gender,")
        for _ in range(200):
            f.write(chunk)
    proc = subprocess.run([sys.executable, "-c", _MEASURE, "validate", str(MINI), "--data", str(big)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "400"})
    err_lines = [ln for ln in proc.stderr.splitlines() if not ln.startswith("maxrss_kib")]
    assert_refused(proc.returncode, "\n".join(err_lines), r"one_line\.csv: line 1 is longer than 4 MiB")
    maxrss_mib = int(proc.stderr.rsplit("maxrss_kib", 1)[1]) / 1024
    assert maxrss_mib < 400, f"the refusal used {maxrss_mib:.0f} MiB"  # imports take ~200 MiB


def test_long_line_in_the_middle_names_its_line(tmp_path):
    p = tmp_path / "long.csv"
    ok = (CORPUS / "files" / "ok.csv").read_bytes()
    head, rest = ok.split(b"\n", 3)[:3], ok.split(b"\n", 3)[3]
    p.write_bytes(b"\n".join(head) + b"\n" + b"R999," + b"7" * (5 << 20) + b"\n" + rest)
    with pytest.raises(InputError, match=r"line 4 is longer than 4 MiB"):
        readers.check_size(p, "csv")


def test_workbook_over_the_unpacked_size_limit(monkeypatch):
    monkeypatch.setattr(limits, "MAX_XLSX_UNCOMPRESSED", 10_000)
    with pytest.raises(InputError, match=r"would unpack to .* MiB \(limit 0 MiB\)"):
        readers.read_xlsx(CORPUS / "files" / "ok.xlsx")


def _forge_sizes(data: bytes, part: str, size: int) -> bytes:
    """Make a ZIP part lie about its uncompressed size (local and central headers)."""
    b = bytearray(data)
    name = part.encode()
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as z:
        info = z.getinfo(part)
    b[info.header_offset + 22:info.header_offset + 26] = size.to_bytes(4, "little")
    cd = b.find(b"PK\x01\x02")
    while cd >= 0:
        n = int.from_bytes(b[cd + 28:cd + 30], "little")
        if bytes(b[cd + 46:cd + 46 + n]) == name:
            b[cd + 24:cd + 28] = size.to_bytes(4, "little")
            break
        cd = b.find(b"PK\x01\x02", cd + 4)
    return bytes(b)


def test_zip_bomb_that_lies_about_its_size(tmp_path, capsys):
    """A part declaring a small size cannot inflate past it: zipfile stops there and
    fails the CRC; the loader turns that into a message."""
    bomb = (CORPUS / "files" / "zip_bomb.xlsx").read_bytes()
    p = tmp_path / "liar.xlsx"
    p.write_bytes(_forge_sizes(bomb, "xl/worksheets/sheet1.xml", 4000))
    code = main(["validate", str(MINI), "--data", str(p)])
    assert_refused(code, capsys.readouterr().err, r"liar\.xlsx: cannot (open this Excel file|read the sheet)")


def test_codes_that_look_like_exponents_stay_text(tmp_path):
    """An id '1E1' is a code: read as a number it would equal the id '10'."""
    from adoption.pipeline import prepare

    text = (CORPUS / "files" / "ok.csv").read_text().replace("R001,", "1E1,", 1).replace("R002,", "10,", 1)
    p = tmp_path / "ids.csv"
    p.write_text(text)
    _, loaded, cleaned = prepare(MINI, p)
    assert loaded.data.loc[1, "id"] == "1E1" and loaded.data.loc[2, "id"] == "10"
    assert cleaned.flow.rows_analysed == 40  # no false 'duplicate id'


def test_data_outside_the_spec_folder_is_fine_on_the_command_line(capsys):
    """--data is the user's explicit choice: a spec whose own 'data:' escapes its folder
    still validates when the file is given on the command line."""
    spec = CORPUS / "specs" / "data_escape.yaml"
    assert main(["validate", str(spec), "--data", str(CORPUS / "files" / "ok.csv")]) == 0, \
        capsys.readouterr().err


def test_data_symlink_leaving_the_spec_folder_is_refused(tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text((CORPUS / "files" / "ok.csv").read_text())
    folder = tmp_path / "survey"
    folder.mkdir()
    (folder / "link.csv").symlink_to(outside / "secret.csv")
    (folder / "survey.yaml").write_text(MINI.read_text().replace(
        "title: Bad-input corpus", "title: Bad-input corpus\ndata: link.csv"))
    code = main(["validate", str(folder / "survey.yaml")])
    assert_refused(code, capsys.readouterr().err, r"'data: link\.csv' points outside the spec's folder")
