"""The run directory is written whole or not at all; CSV cells cannot run as formulas."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from adoption.rundir import safe_csv_frame, to_jsonable, write_run


def test_write_run_is_atomic(tmp_path):
    out = tmp_path / "run"
    write_run(out, results={"a": 1}, frames={"tables/t.csv": pd.DataFrame({"x": [1]})})
    assert json.loads((out / "results.json").read_text()) == {"a": 1}

    def boom(folder):
        (folder / "half.txt").write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_run(out, results={"a": 2}, extra=boom)
    # the previous run is intact, and no temporary folder is left behind
    assert json.loads((out / "results.json").read_text()) == {"a": 1}
    assert not (out / "half.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_json_has_no_nan():
    v = to_jsonable({"x": np.float64("nan"), "y": np.int64(3), "z": pd.DataFrame({"a": [1.5]})})
    assert v == {"x": None, "y": 3, "z": [{"a": 1.5}]}


def test_csv_injection_is_escaped():
    df = pd.DataFrame({"t": ['=HYPERLINK("http://x")', "+1", "-2.5", "@SUM(A1)", "ok"], "n": [1, 2, 3, 4, 5]})
    out = safe_csv_frame(df)
    assert out["t"].tolist() == ["'=HYPERLINK(\"http://x\")", "+1", "-2.5", "'@SUM(A1)", "ok"]
    assert out["n"].tolist() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("cell", ["=1+1", "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "=~", "+A1",
                                  "-negative", "\t=1", "=HYPERLINK(\"http://x\")"])
def test_cells_a_spreadsheet_evaluates_are_guarded(cell):
    assert safe_csv_frame(pd.DataFrame({"t": [cell]}))["t"].iloc[0] == "'" + cell


@pytest.mark.parametrize("cell", ["+", "-", "@", "-9: 1", "-9", "+1.5", "- 3", "positive", "A=1"])
def test_cells_a_spreadsheet_reads_as_text_show_no_mark(cell):
    assert safe_csv_frame(pd.DataFrame({"t": [cell]}))["t"].iloc[0] == cell
