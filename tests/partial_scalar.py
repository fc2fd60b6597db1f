"""Group comparison of data where a level fails (shared by the stage, report and
dashboard tests).

``tests/fixtures/multigroup/partial_scalar.csv``: three factors of three items in two
groups of 250, every parameter equal except the intercept of x3 (0.6 higher in group 2);
``make_partial_scalar_reference.R`` made it and lavaan's fits of it
(``partial_scalar.json``). The configural model fits, full scalar invariance fails and
releasing the intercept of x3 gives partial scalar invariance.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

from adoption.groups import GroupComparison, run_groups
from adoption.jsonable import to_jsonable
from adoption.spec import parse_spec
from cleaned_input import as_cleaned

FIX = Path(__file__).parent / "fixtures" / "multigroup"
REFERENCE = json.loads((FIX / "partial_scalar.json").read_text())


@lru_cache(maxsize=1)
def partial_scalar_comparison() -> GroupComparison:
    """The stage's comparison of the two groups (column ``grp``)."""
    survey = parse_spec({
        "title": "PS", "scale": {"min": -10, "max": 10},
        "constructs": {"f1": ["x1", "x2", "x3"], "f2": ["x4", "x5", "x6"],
                       "f3": ["x7", "x8", "x9"]},
        "groups": {"grp": {"label": "Group", "labels": {1: "First", 2: "Second"}}},
    }, path=FIX / "ps.yaml")
    cleaned = as_cleaned(pd.read_csv(FIX / "partial_scalar.csv"), survey.items)
    return run_groups(cleaned, survey).comparisons["grp"]


def partial_scalar_results() -> dict:
    """That comparison as results.json holds it (``groups["grp"]``)."""
    return to_jsonable(partial_scalar_comparison().to_dict())
