"""Bad moderation input on the command line: exit 2, one or two lines, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from test_cli import EXAMPLE, assert_clean_error, run_cli


def bad_spec(tmp_path: Path, **over) -> Path:
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec.update(over)
    p = tmp_path / "survey.yaml"
    # the spec may only name data in its folder: copy the export beside it
    (tmp_path / "example.sav").write_bytes((EXAMPLE.parent / "example.sav").read_bytes())
    spec["data"] = "example.sav"
    p.write_text(yaml.safe_dump(spec, sort_keys=False))
    return p


@pytest.mark.parametrize("over, words", [
    ({"structural": "WIL ~ HAB + COM + HAB:XYZ"}, "'XYZ', which is not a construct"),
    ({"structural": "WIL ~ HAB + HAB:COM"}, "needs COM"),
    ({"structural": "", "process": {"model": 2, "x": "EMP", "y": "WIL", "w": "HAB"}},
     "model 2 is not available"),
    ({"centre": "median"}, "centre"),
])
def test_bad_moderation_exits_2(tmp_path, over, words):
    spec = bad_spec(tmp_path, **over)
    proc = run_cli("run", str(spec), "--out", str(tmp_path / "r"))
    assert_clean_error(proc, words)
    assert not (tmp_path / "r").exists()
