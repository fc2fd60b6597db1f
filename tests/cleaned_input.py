"""Data taken as already cleaned, for tests that start at a later stage (groups,
structural): one place for the :class:`adoption.clean.CleanedResponses` they build."""

from __future__ import annotations

import pandas as pd

from adoption.clean import CleanedResponses, Flow


def as_cleaned(data: pd.DataFrame, items) -> CleanedResponses:
    """``data`` as the cleaning stage would return it with nothing excluded: a copy with
    rows numbered from 1 (index ``row``), no exclusions, an empty log."""
    data = data.copy()
    data.index = pd.RangeIndex(1, len(data) + 1, name="row")
    return CleanedResponses(data=data, items=tuple(items), exclusions=pd.DataFrame(),
                            flow=Flow(len(data), len(data), ()), log=(),
                            screening_scores=pd.DataFrame())
