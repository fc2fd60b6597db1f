"""The small-cell rule: what a run may show of counts of people by category.

One threshold ``k`` (the spec's ``small_cell``, default :data:`SMALL_CELL`) and one rule,
applied when the run directory is written (so every file meant for sharing carries it:
``results.json``, ``tables/demographics.csv``, ``tables/distribution_by_group.csv``) and
again wherever counts are shown (report, dashboard, terminal summary), for older runs:

* a count of people below ``k`` is not shown ("fewer than k"), and further counts are
  hidden ("suppressed") until the hidden counts cannot be recovered from the total by
  subtraction (:func:`suppressed_cells`);
* a category held by fewer than ``k`` respondents is never named: its text (a free-text
  answer may be a name) is replaced by :data:`OTHER`, pooled with the other small
  categories of its column (:func:`pool_small_categories`);
* the per-group answer table loses the counts of the hidden groups; a group hidden only
  so that a small one cannot be recovered keeps its shares, rounded, when it is large
  enough that a rounded share cannot be read back as a count
  (:func:`suppress_group_distribution`).

Tables mark hidden cells in a column ``suppressed``: :data:`SMALL`, :data:`SECONDARY` or
empty (shown).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from adoption.format import is_number

#: Default smallest count of people shown; smaller counts are suppressed.
SMALL_CELL = 5

#: What a category of fewer than ``k`` respondents is shown as, instead of its text.
OTHER = "other (suppressed)"


#: ``suppressed`` marks: a count below ``k``, and a count hidden so that it cannot be recovered.
SMALL, SECONDARY = "small", "secondary"

#: The step to which a secondary group's shares are rounded in the per-group answer table.
SHARE_STEP = 0.01
#: A secondary group keeps its (rounded) shares only if each step of :data:`SHARE_STEP`
#: spans at least this many counts of its size: then no rounded share names one count.
SHARE_SPAN = 2


def suppressed_cells(counts: Sequence[Any], threshold: int = SMALL_CELL) -> tuple[set[int], set[int]]:
    """Which counts of one variable (or one group split) to hide.

    Returns ``(primary, secondary)``: the positions of the counts below ``threshold``,
    and of the next smallest counts hidden too (complementary suppression). Counts are
    added smallest first until the hidden counts

    * are two or more (a single hidden count is the total minus the shown ones),
    * hold at least ``threshold`` people together (so what is recovered of them
      together, e.g. their answers from the overall table, is about ``threshold`` or
      more people), and
    * leave every small count at two values or more for a reader who knows the total,
      the shown counts and the labels (a "fewer than k" count lies in ``1 .. k-1``, a
      "suppressed" one is ``k`` or more).

    When every count of the variable is hidden and this still fails (counts such as
    ``[1, 5]``), the total of the variable tells the small count: do not show it.
    Use for every table that shows counts of people by category; the counts are of
    categories that exist (1 or more); a missing count is neither hidden nor used.

    >>> suppressed_cells([223, 319, 3])
    ({2}, {0})
    >>> suppressed_cells([2, 2, 100, 200])
    ({0, 1}, {2})
    >>> suppressed_cells([541, 3, 4])
    ({1, 2}, set())
    """
    primary = {i for i, c in enumerate(counts) if is_number(c) and c < threshold}
    secondary: set[int] = set()
    if not primary:
        return primary, secondary
    rest = sorted((i for i, c in enumerate(counts) if is_number(c) and i not in primary),
                  key=lambda i: (counts[i], i))
    for i in rest:
        if _protected(counts, primary, secondary, threshold):
            break
        secondary.add(i)
    return primary, secondary


def _protected(counts: Sequence[Any], primary: set[int], secondary: set[int], k: int) -> bool:
    """Whether hiding ``primary | secondary`` keeps each small count unknown (see
    :func:`suppressed_cells`): from the hidden total and the labels' bounds, the range of
    each small count ``[max(lo, S - sum hi of others), min(hi, S - sum lo of others)]``
    must hold two values or more."""
    hidden = primary | secondary
    total = sum(counts[i] for i in hidden)
    if len(hidden) < 2 or total < k:
        return False
    lo = {i: (min(1, counts[i]) if i in primary else k) for i in hidden}
    hi = {i: (k - 1 if i in primary else math.inf) for i in hidden}
    sum_lo, sum_hi = sum(lo.values()), sum(hi.values())
    return all(max(lo[i], total - (sum_hi - hi[i])) < min(hi[i], total - (sum_lo - lo[i]))
               for i in primary)


def hidden_cells(rows: Sequence[Mapping[str, Any]], count: str, threshold: int = SMALL_CELL
                 ) -> tuple[set[int], set[int]]:
    """:func:`suppressed_cells` of ``row[count]``, or the rows' own ``suppressed`` marks
    when a run wrote them (a hidden count is then missing and cannot be recomputed)."""
    if any(r.get("suppressed") for r in rows):
        return ({i for i, r in enumerate(rows) if r.get("suppressed") == SMALL},
                {i for i, r in enumerate(rows) if r.get("suppressed") == SECONDARY})
    return suppressed_cells([r.get(count) for r in rows], threshold)


def marks(counts: Sequence[Any], threshold: int = SMALL_CELL) -> list[str]:
    """The ``suppressed`` mark of each count: :data:`SMALL`, :data:`SECONDARY` or ""."""
    primary, secondary = suppressed_cells(counts, threshold)
    return [SMALL if i in primary else SECONDARY if i in secondary else ""
            for i in range(len(counts))]


def suppress_counts(table: pd.DataFrame, by: str, count: str = "count",
                    hide: Sequence[str] = ("count", "share"),
                    threshold: int = SMALL_CELL) -> pd.DataFrame:
    """``table`` with the hidden counts of each ``by`` group of rows removed.

    Parameters
    ----------
    table : DataFrame
        One row per category; ``count`` holds its count of people.
    by : str
        The column naming the variable: the rule is applied to each variable's counts.
    count : str
        The column of counts.
    hide : sequence of str
        The columns set to missing in a hidden row (the count and what reveals it).
    threshold : int
        The small-cell threshold ``k``.

    Returns
    -------
    DataFrame
        A copy with ``hide`` missing in hidden rows (whole numbers as ``Int64``) and a column ``suppressed``
        (:func:`marks`).

    Examples
    --------
    >>> t = pd.DataFrame({"variable": ["g"] * 3, "count": [20, 17, 3]})
    >>> suppress_counts(t, "variable", hide=("count",))["suppressed"].tolist()
    ['', 'secondary', 'small']
    """
    out = table.copy()
    mark = pd.Series("", index=out.index, dtype=object)
    for _, rows in out.groupby(by, sort=False):
        mark[rows.index] = marks(pd.to_numeric(rows[count], errors="coerce").tolist(), threshold)
    for c in hide:
        out[c] = _where(out[c], mark == "")
    out["suppressed"] = mark
    return out


def _where(values: pd.Series, keep: pd.Series) -> pd.Series:
    """``values`` where ``keep``, else missing; whole numbers stay whole (``Int64``)."""
    x = pd.to_numeric(values, errors="coerce")
    if x.notna().all() and (x == x.round()).all():
        return x.round().astype("Int64").where(keep, pd.NA)
    return x.astype(float).where(keep)


def suppress_group_distribution(by_group: pd.DataFrame, threshold: int = SMALL_CELL) -> pd.DataFrame:
    """The per-group answer table (``group_column, group_value, n_group, ..., count,
    share``) with the hidden groups' counts removed.

    Per group column, the groups' sizes go through :func:`suppressed_cells`. A small
    group loses ``n_group``, ``count`` and ``share``. A secondary group (hidden so that a
    small one cannot be recovered from the overall answer table by subtraction) loses
    ``n_group`` and ``count``; it keeps its shares rounded to :data:`SHARE_STEP` when it is
    large enough that each step spans :data:`SHARE_SPAN` counts or more (a rounded share
    then leaves its count, and so the small group's, open), else it loses them too.
    ``suppressed`` marks each row.

    Examples
    --------
    >>> t = pd.DataFrame({"group_column": "g", "group_value": ["a", "b", "c"],
    ...                   "n_group": [319, 223, 3], "count": [100, 50, 1],
    ...                   "share": [100 / 319, 50 / 223, 1 / 3]})
    >>> s = suppress_group_distribution(t)
    >>> s["suppressed"].tolist(), s["share"].round(4).tolist()[1:]
    (['', 'secondary', 'small'], [0.22, nan])
    """
    out = by_group.copy()
    n = pd.to_numeric(out["n_group"], errors="coerce")
    mark = pd.Series("", index=out.index, dtype=object)
    for _, rows in out.groupby("group_column", sort=False):
        sizes = n[rows.index].groupby(out.loc[rows.index, "group_value"], sort=False).first()
        by_value = dict(zip(sizes.index, marks(sizes.tolist(), threshold)))
        mark[rows.index] = out.loc[rows.index, "group_value"].map(by_value)
    share = pd.to_numeric(out["share"], errors="coerce").astype(float)
    keep_share = (mark == "") | ((mark == SECONDARY) & (n * SHARE_STEP >= SHARE_SPAN))
    coarse = (share / SHARE_STEP).round() * SHARE_STEP
    out["share"] = share.where(mark == "", coarse).where(keep_share)
    for c in ("n_group", "count"):
        out[c] = _where(out[c], mark == "")
    out["suppressed"] = mark
    return out


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


def redact_counts(text: str, hidden: Sequence[tuple[str, Any, str]], threshold: int = SMALL_CELL) -> str:
    """A pipeline message with the hidden counts of groups replaced.

    ``hidden`` are ``(label, n, mark)`` of the groups whose count is hidden (mark
    :data:`SMALL`: written "fewer than k"; :data:`SECONDARY`: "suppressed"). The group
    stage's warnings name the count of a group left out ("(3 respondents)", "only 3
    complete rows"); a message naming the group loses its count.

    >>> redact_counts("Gender = Other (3 respondents) is left out.", [("Other", 3, SMALL)])
    'Gender = Other (fewer than 5 respondents) is left out.'
    """
    for label, n, mark in hidden:
        if not is_number(n) or str(label) not in text:
            continue
        n, word = int(n), (f"fewer than {threshold}" if mark == SMALL else "suppressed")
        text = re.sub(rf"\({n} respondents\)", f"({word} respondents)", text)
        text = re.sub(rf"\bonly {n} ", f"{word} ", text)
        text = re.sub(rf"^{n} (complete|usable) rows", rf"{word} \1 rows", text)
    return text


def suppress_group_sizes(comparison: Mapping[str, Any], threshold: int = SMALL_CELL) -> dict[str, Any]:
    """One grouping column's comparison (``results.json``'s ``groups[column]``) with the
    hidden group sizes removed.

    The sizes of the groups and the count without a value (``n_missing``) go through
    :func:`suppressed_cells` together (they add up to the rows analysed). A hidden size
    becomes None with its mark in ``suppressed`` (``n_missing_suppressed`` for the count
    without a value); a group left out of an analysis loses its ``n`` when its size is
    hidden or the ``n`` (its complete rows) is below ``threshold``, and the warnings lose
    those counts (:func:`redact_counts`). When a size is hidden, the multi-group fits lose
    their per-group ``nobs``. (A fit's AIC and BIC still tell the N of the groups
    compared together.)
    """
    out = dict(comparison)
    sizes = comparison.get("sizes")
    sizes = sizes.to_dict(orient="records") if isinstance(sizes, pd.DataFrame) else list(sizes or [])
    n_missing = comparison.get("n_missing")
    counts = [s.get("n") for s in sizes]
    with_missing = is_number(n_missing) and n_missing > 0
    mark = marks([*counts, n_missing] if with_missing else counts, threshold)
    out["sizes"] = [{**s, "n": None if m else s.get("n"), "suppressed": m}
                    for s, m in zip(sizes, mark)]
    if with_missing:
        out["n_missing"] = None if mark[-1] else n_missing
        out["n_missing_suppressed"] = mark[-1]
    hidden = {str(s.get("value")): m for s, m in zip(sizes, mark) if m}
    named = [(s.get("label", s.get("value")), s.get("n"), m) for s, m in zip(sizes, mark) if m]
    excluded = []
    for e in comparison.get("excluded_groups") or []:
        # n of a group left out of one analysis may be its complete rows: a count too
        m = hidden.get(str(e.get("value"))) or (SMALL if is_number(e.get("n")) and e["n"] < threshold else "")
        if m:
            named.append((e.get("label", e.get("value")), e.get("n"), m))
        excluded.append({**e, "n": None if m else e.get("n")})
    out["excluded_groups"] = excluded
    if hidden:
        # the multi-group fits' per-group N are counts of the hidden groups too
        out["invariance"] = [{**e, "nobs": None} for e in comparison.get("invariance") or []]
        diff = dict(comparison.get("path_differences") or {})
        if isinstance(diff.get("omnibus"), Mapping):
            diff["omnibus"] = {**diff["omnibus"], "nobs": None}
        out["path_differences"] = diff
    out["warnings"] = [redact_counts(str(w), named, threshold) for w in comparison.get("warnings") or []]
    return out
