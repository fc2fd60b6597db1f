"""A measurement-only study (issue 18): a spec without a structural model runs load,
clean, measurement, report and dashboard data, and skips the structural stage with a line
saying so (before, ``validate`` said OK and ``run`` then stopped)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from adoption.pipeline import RunOptions, run

FIX = Path(__file__).parent / "fixtures" / "reference"


def test_a_spec_without_structural_model_runs(tmp_path):
    spec = {"title": "measurement only", "id": "respondent", "scale": {"min": 1, "max": 5},
            "constructs": {"HAB": ["HAB1", "HAB2", "HAB3", "HAB4"], "PU": ["PU1", "PU2", "PU3"],
                           "TRU": ["TRU1", "TRU2", "TRU3"]}}
    (tmp_path / "survey.yaml").write_text(yaml.safe_dump(spec))
    steps: list[str] = []
    res = run(tmp_path / "survey.yaml", data=FIX / "paperlike.csv", out=tmp_path / "run",
              options=RunOptions(bootstrap=0, groups=False), step=steps.append)
    assert res.structural is None
    assert any("none in the spec" in s and "skipped" in s for s in steps)
    out = json.loads((res.out_dir / "results.json").read_text())
    assert out["structural"] is None and set(out["reliability"]) == {"HAB", "PU", "TRU"}
    assert out["cfa"]["fit"]["df"] == 32   # 10 items: 55 moments - 23 parameters
    assert any("measurement-only" in w for w in out["warnings"]["structural"])
    assert (res.out_dir / "tables" / "reliability.csv").is_file()
    assert not (res.out_dir / "tables" / "hypotheses.csv").exists()
    assert any(p.suffix == ".html" for p in res.out_dir.rglob("*"))
