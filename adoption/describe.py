"""Stage 3: cleaned responses -> a description of the sample.

Response distributions per item (counts and shares of each scale point, of the answers
as given: a reverse-keyed item's recode is undone, so that each count stands under the
answer respondents chose) and the demographic make-up of the analysed sample. Item statistics (mean, SD, skewness,
kurtosis, floor and ceiling) come from :mod:`adoption.measurement.items`, shared with the
measurement section.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from adoption.clean import CleanedResponses
from adoption.load import category_key
from adoption.measurement.items import item_descriptives
from adoption.privacy import OTHER, pool_small_categories
from adoption.spec import Survey


@dataclass(frozen=True)
class Description:
    """What the analysed sample looks like.

    Attributes
    ----------
    items : one row per item (see :func:`adoption.measurement.items.item_descriptives`),
        with its ``construct``.
    distribution : long table ``item, construct, reversed, value, label, count, share`` of
        the answers as given (before a reverse-keyed item's recode; ``reversed`` marks
        such items); the share among the item's answers (missing excluded).
    demographics : long table ``variable, value, label, count, share``, missing counted
        as its own value (label 'missing'); categories of fewer than ``small_cell``
        respondents pooled as 'other (suppressed)'.
    distribution_by_group : :func:`response_distribution` within each group of each
        group column, with ``group_column, group_value, group_label, n_group`` in front.
        Counts only, of every group: the run writes it with the small-cell rule applied
        (:func:`adoption.privacy.suppress_group_distribution`).
    """

    items: pd.DataFrame
    distribution: pd.DataFrame
    demographics: pd.DataFrame
    distribution_by_group: pd.DataFrame

    def to_dict(self) -> dict:
        return {"items": self.items, "distribution": self.distribution,
                "demographics": self.demographics}


def answers_as_given(data: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """The cleaned responses with the reverse-keyed items' recode undone
    (:meth:`Scale.reverse <adoption.spec.Scale.reverse>` again): the answers respondents
    chose, for describing them. A copy; other columns unchanged."""
    out = data.copy()
    for item in survey.items:
        if survey.is_reversed(item) and item in out:
            out[item] = survey.scale_of(item).reverse(out[item])
    return out


def response_distribution(data: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """Counts and shares of each scale point per item (a zero count is listed too).

    ``data`` holds the answers to count as they are (pass :func:`answers_as_given` of
    the cleaned responses to count the answers respondents chose); ``reversed`` marks
    the reverse-keyed items."""
    rows = []
    for item in survey.items:
        sc = survey.scale_of(item).as_analysed()     # the loader made the answers ascending
        x = data[item].dropna()
        n = len(x)
        counts = x.value_counts()
        for v in sc.points:
            c = int(counts.get(float(v), 0))
            rows.append({"item": item, "construct": survey.construct_of(item),
                         "reversed": survey.is_reversed(item), "value": v,
                         "label": sc.labels.get(v, str(v)), "count": c,
                         "share": c / n if n else float("nan")})
    return pd.DataFrame(rows)


def _keys(values: pd.Series) -> pd.Series:
    """Each value as :func:`~adoption.load.category_key` shows it (missing stays NA)."""
    return values.map(category_key, na_action="ignore").astype("string")


def demographics(data: pd.DataFrame, survey: Survey,
                 labels: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    """Counts of each value of the demographic and group columns present in the data.

    ``labels`` are the cleaned responses' ``category_labels`` (column -> {value: label}).
    Categories of fewer than ``survey.small_cell`` respondents are pooled into one row
    "other (suppressed)" (:func:`adoption.privacy.pool_small_categories`): their text,
    which may be a free-text answer, is never written.
    """
    labels = labels or {}
    cols = list(dict.fromkeys([*survey.demographics, *survey.group_columns]))
    rows = []
    n = len(data)
    for col in cols:
        if col not in data:
            continue
        keys, _ = pool_small_categories(_keys(data[col]), survey.small_cell)
        counts = keys.fillna("missing").value_counts(sort=False)
        last = {OTHER: 1, "missing": 2}
        for key, c in sorted(counts.items(), key=lambda kv: (last.get(kv[0], 0), str(kv[0]))):
            rows.append({"variable": col, "value": key,
                         "label": key if key in last else labels.get(col, {}).get(key, key),
                         "count": int(c), "share": c / n if n else float("nan")})
    return pd.DataFrame(rows, columns=["variable", "value", "label", "count", "share"])


def distribution_by_group(data: pd.DataFrame, survey: Survey,
                          labels: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    """:func:`response_distribution` per group of each spec group column present."""
    parts = []
    for g in survey.groups:
        if g.column not in data:
            continue
        group_labels = (labels or {}).get(g.column, {})
        keys = _keys(data[g.column])
        for value, rows in data.groupby(keys, sort=True, dropna=True):
            d = response_distribution(rows, survey)
            d.insert(0, "n_group", len(rows))
            d.insert(0, "group_label", group_labels.get(str(value), str(value)))
            d.insert(0, "group_value", str(value))
            d.insert(0, "group_column", g.column)
            parts.append(d)
    cols = ["group_column", "group_value", "group_label", "n_group", "item", "construct",
            "reversed", "value", "label", "count", "share"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def describe(cleaned: CleanedResponses, survey: Survey) -> Description:
    """Describe the analysed sample: item statistics (on the analysed scale, reverse-keyed
    items recoded, as the models use them), the distributions of the answers as given,
    demographics."""
    data = cleaned.data
    items = item_descriptives(data[list(cleaned.items)])
    items.insert(1, "construct", [survey.construct_of(i) for i in items["item"]])
    items.insert(2, "reversed", [survey.is_reversed(i) for i in items["item"]])
    given = answers_as_given(data, survey)
    return Description(items=items, distribution=response_distribution(given, survey),
                       demographics=demographics(data, survey, cleaned.category_labels),
                       distribution_by_group=distribution_by_group(given, survey,
                                                                   cleaned.category_labels))
