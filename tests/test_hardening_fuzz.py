"""Bounded fuzzing of the loader: arbitrary bytes as an export end in a result or an
InputError, never another exception, a crash or a hang.

Two fuzzers, each seeded from the bad-input corpus and bounded in time:

* atheris (coverage-guided, libFuzzer) runs ``tests/fuzz/fuzz_loader.py`` in a
  subprocess for ``FUZZ_SECONDS`` with a fixed seed; skipped when atheris is not
  installed;
* hypothesis mutates corpus files byte by byte (derandomized, a fixed number of
  examples), so that CI without atheris still fuzzes.

Set ``ADOPTION_FUZZ_SECONDS`` to fuzz longer by hand.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adoption.clean import clean
from adoption.errors import InputError
from adoption.load import load_responses
from adoption.spec import load_spec

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "bad_inputs" / "files"
HARNESS = HERE / "fuzz" / "fuzz_loader.py"
FUZZ_SECONDS = int(os.environ.get("ADOPTION_FUZZ_SECONDS", "20"))
SPEC = load_spec(HERE / "bad_inputs" / "specs" / "mini.yaml")
SEEDS = sorted(p for p in CORPUS.iterdir() if p.suffix in (".csv", ".xlsx", ".sav", ".zsav", ".dta", ".por"))


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
def test_atheris_fuzz_of_the_loader(tmp_path):
    seeds = tmp_path / "seeds"
    subprocess.run([sys.executable, str(HARNESS), "--make-seeds", str(CORPUS), str(seeds)], check=True)
    proc = subprocess.run(
        [sys.executable, str(HARNESS), str(seeds), f"-max_total_time={FUZZ_SECONDS}", "-seed=1",
         "-timeout=20", "-rss_limit_mb=1500", f"-artifact_prefix={tmp_path}/"],
        capture_output=True, text=True, timeout=FUZZ_SECONDS + 240, cwd=tmp_path)
    crashes = sorted(p.name for p in tmp_path.glob("crash-*")) + sorted(p.name for p in tmp_path.glob("oom-*"))
    tail = "\n".join(proc.stderr.splitlines()[-40:])
    assert proc.returncode == 0 and not crashes, f"fuzzer found {crashes}:\n{tail}"
    assert "Done" in proc.stderr and "runs in" in proc.stderr, tail


def _mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    b = bytearray(data)
    for kind, pos, val in edits:
        if not b:
            break
        i = pos % len(b)
        if kind == 0:
            b[i] = val
        elif kind == 1:
            del b[i:i + 1 + val % 64]
        elif kind == 2:
            b[i:i] = bytes([val]) * (1 + val % 16)
        else:
            b = b[:i]
    return bytes(b)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS),
       st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.integers(0, 255)),
                min_size=1, max_size=8))
def test_hypothesis_fuzz_of_the_loader(seed, edits):
    data = _mutate(seed.read_bytes(), edits)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{seed.suffix}"
        path.write_bytes(data)
        try:
            cleaned = clean(load_responses(path, SPEC), SPEC)
        except InputError as exc:
            lines = str(exc).strip().splitlines()
            assert 1 <= len(lines) <= 2 and str(path) in lines[0], str(exc)
            return
    flow = cleaned.flow
    assert flow.rows_in == flow.rows_analysed + sum(c for _, c in flow.excluded)


_SPEC_TEXT = (HERE / "bad_inputs" / "specs" / "mini.yaml").read_text(encoding="utf-8")


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1 << 20), st.text(max_size=6)),
                min_size=1, max_size=6))
def test_hypothesis_fuzz_of_the_spec(edits):
    """Edited specs (text inserted, cut, replaced, keys added) load or raise InputError."""
    from adoption.spec import load_spec as load

    t = _SPEC_TEXT
    for kind, pos, txt in edits:
        i = pos % (len(t) + 1)
        if kind == 0:
            t = t[:i] + txt + t[i:]
        elif kind == 1:
            t = t[:i] + t[i + len(txt) + 1:]
        elif kind == 2:
            t = t[:i]
        elif kind == 3:
            t = t.replace(t[i:i + 3], txt, 1) if t[i:i + 3] else t
        else:
            t = t[:i] + "\n" + txt + ": " + txt + "\n" + t[i:]
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "survey.yaml"
        p.write_bytes(t.encode("utf-8", "surrogatepass"))
        try:
            load(p)
        except InputError as exc:
            assert 1 <= len(str(exc).strip().splitlines()) <= 2, str(exc)
