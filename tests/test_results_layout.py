"""The run directory's layout (adoption.results_layout): one catalogue of the tables,
no table laid out twice, and every table the documentation and the dashboard name is
written by a run (issue 15: the pipeline's inline map named distribution_by_group twice)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from adoption.pipeline import RunOptions, run
from adoption.results_layout import DISTRIBUTION_BY_GROUP, TABLES, catalogued, unique_tables

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests" / "bad_inputs"


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory):
    """The mini survey (40 rows, a structural model, no groups), bootstrap off."""
    out = tmp_path_factory.mktemp("layout") / "run"
    return run(MINI / "specs" / "mini.yaml", MINI / "files" / "ok.csv", out,
               RunOptions(bootstrap=0, groups=False))


def test_a_table_laid_out_twice_is_an_error():
    t = pd.DataFrame({"a": [1]})
    with pytest.raises(ValueError, match="twice"):
        unique_tables([(DISTRIBUTION_BY_GROUP, t), ("tables/items.csv", t), (DISTRIBUTION_BY_GROUP, t)])
    with pytest.raises(ValueError, match="not in"):
        unique_tables([("tables/unknown.csv", t)])


def test_every_written_table_is_catalogued_and_every_catalogued_one_written(mini_run):
    out = mini_run.out_dir
    written = {p.relative_to(out).as_posix() for p in (out / "tables").glob("*.csv")}
    assert all(catalogued(p) for p in written), sorted(p for p in written if not catalogued(p))
    expected = {p for p, when in TABLES.items()
                if when in ("always", "structural model", "latent SEM")}
    assert expected <= written, sorted(expected - written)


def test_every_table_the_documentation_names_is_catalogued():
    named = set()
    for doc in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        named |= set(re.findall(r"tables/[A-Za-z0-9_*{}]+\.csv", doc.read_text(encoding="utf-8")))
    named.discard("tables/*.csv")
    assert named and all(catalogued(p) or p in TABLES for p in named), named
    dashboard = (REPO / "dashboard" / "rundata.py").read_text(encoding="utf-8")
    assert "DISTRIBUTION_BY_GROUP" in dashboard
