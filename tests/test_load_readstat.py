"""SPSS and Stata files are read once, in a forked child that guards against a crash of
the C reader, and handed back as Arrow IPC and JSON (never a pickle) through a private
temporary folder that is removed afterwards, also on error and Ctrl-C."""

from __future__ import annotations

import datetime as dt
import os
import signal
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from adoption.readers import handover
from adoption.errors import InputError
from adoption.load import load_responses
from tests.test_load import LIKERT5, frame, make_survey


def _counting_read_sav(monkeypatch, tmp_path, also=None):
    """Make pyreadstat.read_sav append a line to a file at each call (in any process)."""
    calls = tmp_path / "calls.txt"
    real = pyreadstat.read_sav

    def counted(*a, **k):
        with open(calls, "a") as f:
            f.write(f"{os.getpid()}\n")
        if also is not None:
            also()
        return real(*a, **k)

    monkeypatch.setattr(pyreadstat, "read_sav", counted)
    return calls


@pytest.fixture
def scratch(monkeypatch):
    """The temporary folders the loader makes, recorded as they are made."""
    made: list[Path] = []
    real = tempfile.mkdtemp

    def recording(*a, **k):
        made.append(Path(real(*a, **k)))
        return str(made[-1])

    monkeypatch.setattr(tempfile, "mkdtemp", recording)
    return made


def labelled_sav(tmp_path) -> tuple[Path, pd.DataFrame]:
    p = tmp_path / "r.sav"
    df = frame(6)
    df["note"] = ["a", "", "b,c", "ünï", "d", "e"]
    pyreadstat.write_sav(df, str(p), column_labels={"PE1": "AI tools help me work faster."},
                         variable_value_labels={c: LIKERT5 for c in ["PE1", "PE2", "EE1", "EE2"]},
                         missing_ranges={"age": [{"lo": 90, "hi": 99}]})
    return p, df


def test_sav_read_once_behind_the_crash_guard(tmp_path, monkeypatch, scratch):
    """The .sav is read once, in the forked child, and the frame and its labels come back
    from it (it was read twice: once in the child, once here)."""
    p, df = labelled_sav(tmp_path)
    calls = _counting_read_sav(monkeypatch, tmp_path)
    out = load_responses(p, make_survey())
    pids = calls.read_text().split()
    assert len(pids) == 1
    assert pids[0] != str(os.getpid())  # read in the child
    np.testing.assert_array_equal(out.data["EE2"].to_numpy(), df["EE2"].to_numpy())
    assert out.data["note"].tolist() == ["a", "", "b,c", "ünï", "d", "e"]
    assert out.variable_labels["PE1"] == "AI tools help me work faster."
    # value-label codes stay numbers through the JSON (a key 5.0 would come back '5.0')
    assert out.value_labels["PE2"][5.0] == "Strongly agree"
    assert len(scratch) == 1 and not scratch[0].exists()


def test_readstat_result_equals_a_direct_read(tmp_path, monkeypatch):
    """What comes back through the child equals what pyreadstat gives in this process:
    the frame (dtypes, NaN, strings) and the metadata (labels, missing ranges)."""
    from adoption.readers import read_readstat

    p, _ = labelled_sav(tmp_path)
    via_child = read_readstat(p, "sav")
    monkeypatch.delattr(os, "fork")  # where fork is missing, the file is read here
    here = read_readstat(p, "sav")
    pd.testing.assert_frame_equal(via_child.rows, here.rows, check_exact=True)
    assert via_child.header == here.header
    assert via_child.value_labels == here.value_labels
    assert via_child.missing_ranges == here.missing_ranges == {"age": [(90.0, 99.0)]}
    assert via_child.variable_labels == here.variable_labels


def test_scratch_folder_removed_after_a_reader_error(tmp_path, scratch):
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(frame(50), str(p))
    p.write_bytes(p.read_bytes()[:-200])  # truncated
    with pytest.raises(InputError, match=r"r\.sav"):
        load_responses(p, make_survey())
    assert scratch and not any(d.exists() for d in scratch)


def test_scratch_folder_removed_and_child_ended_on_ctrl_c(tmp_path, monkeypatch, scratch):
    """Ctrl-C while the child reads: the child is killed and reaped, the folder removed,
    and the interrupt goes on to the caller."""
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(frame(3), str(p))

    def interrupt_parent():
        time.sleep(0.5)  # the parent waits for the child by then
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(30)  # still reading when the parent is interrupted

    calls = _counting_read_sav(monkeypatch, tmp_path, also=interrupt_parent)
    t = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        load_responses(p, make_survey())
    assert time.monotonic() - t < 10
    child = int(calls.read_text().split()[0])
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)  # already reaped
    assert scratch and not any(d.exists() for d in scratch)


def test_handover_failure_falls_back_to_reading_here(tmp_path, monkeypatch, scratch):
    """A frame the child cannot hand over (a full disk, an unexpected column type) is
    read in this process instead: the child has shown that reading does not crash."""
    p, df = labelled_sav(tmp_path)
    calls = _counting_read_sav(monkeypatch, tmp_path)

    def refuse(*a, **k):
        raise handover.UnsupportedColumn("test")

    monkeypatch.setattr(handover, "write_frame", refuse)
    out = load_responses(p, make_survey())
    pids = calls.read_text().split()
    assert len(pids) == 2 and pids[1] == str(os.getpid())
    np.testing.assert_array_equal(out.data["PE1"].to_numpy(), df["PE1"].to_numpy())
    assert not any(d.exists() for d in scratch)


def test_handover_round_trips_every_column_kind(tmp_path):
    """Object columns keep each value's Python type (dates with NaN for missing ones,
    numbers with Stata's extended missing letters, times); typed columns their dtype."""
    df = pd.DataFrame({
        0: [1.5, np.nan, -2.0, 4.0],
        1: pd.Series(["a", np.nan, "", "é"], dtype="str"),
        2: pd.Series([dt.date(2020, 1, 2), np.nan, dt.date(1583, 1, 1), None], dtype=object),
        3: pd.Series([1.0, "a", np.nan, "b"], dtype=object),
        4: pd.Series([dt.time(10, 10, 10, 5), np.nan, None, dt.time(0, 0)], dtype=object),
        5: pd.to_datetime(["2020-01-01 10:00", None, "1880-05-06 00:00", "2024-02-29 23:59"]).as_unit("us"),
        6: np.array([1, 2, 3, 4], dtype=np.int64),
        7: pd.Series([dt.datetime(2020, 1, 1, 1, 2, 3), 7, True, "x"], dtype=object),
    })
    handover.write_frame(df, tmp_path)
    back = handover.read_frame(tmp_path)
    pd.testing.assert_frame_equal(back, df, check_exact=True)
    for j in (2, 3, 4, 7):
        assert [type(v) for v in back[j]] == [type(v) for v in df[j]]
    with pytest.raises(handover.UnsupportedColumn):
        handover.write_frame(pd.DataFrame({0: pd.Series([b"x"], dtype=object)}), tmp_path)


def test_stata_extended_missing_through_the_child(tmp_path):
    """A .dta with extended missing values (.a, .b): the object column of numbers and
    letters comes back from the child, and the letters become missing."""
    p = tmp_path / "r.dta"
    df = frame(5)
    df["PE1"] = pd.Series([1.0, "a", 3.0, np.nan, "b"], dtype=object)
    pyreadstat.write_dta(df, str(p), missing_user_values={"PE1": ["a", "b"]})
    out = load_responses(p, make_survey())
    assert out.data["PE1"].isna().tolist() == [False, True, False, True, True]
    entry = next(e for e in out.log if e.action == "user-missing code to missing" and e.column == "PE1")
    assert entry.count == 2 and ".a, .b" in entry.detail


def test_sav_reader_crash_still_caught(tmp_path, monkeypatch, scratch):
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(frame(3), str(p))
    _counting_read_sav(monkeypatch, tmp_path, also=lambda: os.kill(os.getpid(), signal.SIGSEGV))
    with pytest.raises(InputError, match="crashes the SPSS/Stata reader"):
        load_responses(p, make_survey())
    assert not any(d.exists() for d in scratch)
