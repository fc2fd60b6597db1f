"""The paperlike survey's composite path model as lavaan saw it (shared by tests).

``make_reference.R`` recodes STG4 and COM4 as 6 - x and scores each construct as the row
mean of its items; this does the same on ``tests/fixtures/reference/paperlike.csv``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

REF = Path(__file__).parent / "fixtures" / "reference"


def load_recoded_items() -> pd.DataFrame:
    """paperlike.csv with the reverse-keyed items recoded as 6 - x, as the R script does."""
    params = json.loads((REF / "paperlike.params.json").read_text())
    d = pd.read_csv(REF / "paperlike.csv")
    for r in params["reversed_items"]:
        d[r] = 6 - d[r]
    return d


def load_composite_reference() -> tuple[dict, pd.DataFrame]:
    """(composite_path section of paperlike_survey.json, composites as R made them)."""
    ref = json.loads((REF / "paperlike_survey.json").read_text())
    params = json.loads((REF / "paperlike.params.json").read_text())
    d = load_recoded_items()
    comp = pd.DataFrame({c: d[it].mean(axis=1) for c, it in params["items"].items()})
    return ref["composite_path"], comp
