"""The small-cell rule: what a run may show of counts of people by category.

One threshold ``k`` (the spec's ``small_cell``, default :data:`SMALL_CELL`) and two rules:

* a count of people below ``k`` is not shown, and when it is the only such count of a
  variable the next smallest is hidden too, so that it cannot be recovered from the total
  by subtraction (:func:`suppressed_cells`);
* a category held by fewer than ``k`` respondents is never named: its text (a free-text
  answer may be a name) is replaced by :data:`OTHER`, pooled with the other small
  categories of its column (:func:`pool_small_categories`).

The report, the docx and the dashboard's demographics tables use these. (The dashboard's
per-group answer table still applies its own variant, ``suppress_small_groups``.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from adoption.figures.format import is_number

#: Default smallest count of people shown; smaller counts are suppressed.
SMALL_CELL = 5

#: What a category of fewer than ``k`` respondents is shown as, instead of its text.
OTHER = "other (suppressed)"


def suppressed_cells(counts: Sequence[Any], threshold: int = SMALL_CELL) -> tuple[set[int], set[int]]:
    """Which counts of one variable (or one group split) to hide.

    Returns ``(primary, secondary)``: positions of counts below ``threshold``, and, when
    exactly one count is that small, the position of the next smallest count, so that
    the small one cannot be recovered from the total by subtraction (complementary
    suppression). Use for every table that shows counts of people by category.

    >>> suppressed_cells([223, 319, 3])
    ({2}, {0})
    >>> suppressed_cells([541, 2, 2])
    ({1, 2}, set())
    """
    primary = {i for i, c in enumerate(counts) if is_number(c) and c < threshold}
    secondary: set[int] = set()
    if len(primary) == 1:
        others = [i for i, c in enumerate(counts) if i not in primary and is_number(c)]
        if others:
            secondary.add(min(others, key=lambda i: counts[i]))
    return primary, secondary


def pool_small_categories(values: pd.Series, threshold: int = SMALL_CELL) -> tuple[pd.Series, int]:
    """The values with every category of fewer than ``threshold`` rows replaced by :data:`OTHER`.

    Parameters
    ----------
    values : Series
        One categorical column, one row per respondent; missing values stay missing.
    threshold : int
        The small-cell threshold ``k``.

    Returns
    -------
    pooled : Series
        ``values`` with the small categories' values replaced (object dtype where
        anything was replaced, else ``values`` itself).
    n_pooled : int
        How many categories were pooled.

    Examples
    --------
    >>> s, n = pool_small_categories(pd.Series(["a"] * 5 + ["Ann Lee", "Bo Ek"]))
    >>> s.tolist()[-3:], n
    (['a', 'other (suppressed)', 'other (suppressed)'], 2)
    """
    counts = values.value_counts(dropna=True)
    small = counts.index[counts < threshold]
    if len(small) == 0:
        return values, 0
    hit = values.isin(small)
    return values.astype(object).where(~hit, OTHER), len(small)
