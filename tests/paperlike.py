"""The paperlike reference data set as lavaan saw it: one module for every test that uses it
(as statsmodels keeps one results module per data set).

``tests/fixtures/reference/make_reference.R`` (and ``make_pls_reference.R``) read
``paperlike.csv``, recode the reverse-keyed items STG4 and COM4 as ``6 - x`` (the 1-5
scale's ``min + max - x``, what the cleaning stage does) and score each construct as the
row mean of its items. This module does the same, once:

* :data:`PARAMS` - ``paperlike.params.json`` (population paths, ``reversed_items``,
  ``items`` per construct);
* :func:`recode_reversed` - the ``6 - x`` recoding of a frame of answers;
* :func:`load_recoded_items` - ``paperlike.csv`` recoded;
* :func:`composite_scores` / :func:`load_composites` - construct means;
* :func:`load_composite_reference` - the composite path model's reference and data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

REF = Path(__file__).parent / "fixtures" / "reference"
#: paperlike.params.json: ``paths``, ``reversed_items``, ``items`` (construct -> items).
PARAMS: dict = json.loads((REF / "paperlike.params.json").read_text())
#: The 1-5 scale's ``min + max``: a reverse-keyed answer x is recoded ``6 - x``.
SCALE_SUM = 6


def recode_reversed(d: pd.DataFrame) -> pd.DataFrame:
    """``d`` with the reverse-keyed items (those of :data:`PARAMS` present) as ``6 - x``."""
    d = d.copy()
    for r in PARAMS["reversed_items"]:
        if r in d:
            d[r] = SCALE_SUM - d[r]
    return d


def load_recoded_items() -> pd.DataFrame:
    """paperlike.csv with the reverse-keyed items recoded as 6 - x, as the R script does."""
    return recode_reversed(pd.read_csv(REF / "paperlike.csv"))


def composite_scores(d: pd.DataFrame) -> pd.DataFrame:
    """Each construct's row mean of its items (constructs in :data:`PARAMS` order)."""
    return pd.DataFrame({c: d[items].mean(axis=1) for c, items in PARAMS["items"].items()})


def load_composites() -> pd.DataFrame:
    """The composites of the recoded paperlike.csv, as make_reference.R scores them."""
    return composite_scores(load_recoded_items())


def load_composite_reference() -> tuple[dict, pd.DataFrame]:
    """(composite_path section of paperlike_survey.json, composites as R made them)."""
    ref = json.loads((REF / "paperlike_survey.json").read_text())
    return ref["composite_path"], load_composites()
