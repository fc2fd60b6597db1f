"""Shared fixtures: one run of the bundled example, reused by every test that reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SPEC = REPO / "surveys" / "ai_mental_health" / "survey.yaml"

#: Scripts that made fixtures (some need packages the tests do not): not collected, not
#: imported for their docstrings (``--doctest-modules`` in pyproject.toml).
collect_ignore_glob = ["fixtures/*/*.py"]


@pytest.fixture(scope="session")
def example_run(tmp_path_factory):
    """The example survey run end to end into a temporary run directory.

    The bootstrap is kept small (200 draws): tests of the bootstrap itself live in
    tests/test_structural_bootstrap.py. PLS-SEM runs too (200 draws; its bootstrap is
    tested in tests/test_pls_bootstrap.py).
    """
    from adoption.pipeline import RunOptions, run

    out = tmp_path_factory.mktemp("runs") / "example"
    return run(EXAMPLE_SPEC, out=out, options=RunOptions(bootstrap=200, seed=1,
                                                      methods=("cbsem", "pls"), pls_bootstrap=200))
