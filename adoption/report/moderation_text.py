"""A moderation in one plain-language sentence, written from the numbers of a run.

The wording follows :mod:`adoption.report.summary_text`: survey data are cross-sectional,
so the sentence speaks of the *link* between two constructs and how it differs between
respondents, never of one construct changing another (no word of
:data:`~adoption.report.summary_text.CAUSAL_WORDS`). An interaction whose 95% interval
includes zero is reported as no clear difference, not as a weaker link.

Input: one row of ``moderation.interactions`` and the ``slopes`` rows of that path
(results.json, :class:`adoption.structural.moderated.ModerationResults`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adoption.format import format_int, format_number, format_p, is_number
from adoption.report.summary_text import construct_name

__all__ = ["moderation_sentence"]

#: The probe labels of a continuous moderator (:func:`adoption.structural.moderation.
#: probe_values`); any other label is a category.
CONTINUOUS_PROBES = ("-1 SD", "mean", "+1 SD")


def _ci(r: Mapping[str, Any]) -> str:
    return (f"b = {format_number(r['est'], 3)}, 95% CI [{format_number(r['ci.lower'], 3)}, "
            f"{format_number(r['ci.upper'], 3)}]")


def _continuous(r: Mapping[str, Any], slopes: Sequence[Mapping[str, Any]], link: str,
                w: str) -> str:
    if not (r["ci.lower"] > 0 or r["ci.upper"] < 0):
        return (f"{link} does not differ clearly with {w} (interaction {_ci(r)}; the "
                "interval includes zero).")
    by = {s["at"]: s for s in slopes}
    lo, hi = by.get("-1 SD"), by.get("+1 SD")
    if lo is None or hi is None:
        word = "differs"
    elif (lo["est"] > 0) != (hi["est"] > 0):
        return (f"{link} changes direction with {w}: it is "
                f"{'positive' if lo['est'] > 0 else 'negative'} among respondents with lower "
                f"{w} (b = {format_number(lo['est'], 3)} at 1 SD below the mean) and "
                f"{'positive' if hi['est'] > 0 else 'negative'} among those with higher "
                f"{w} (b = {format_number(hi['est'], 3)} at 1 SD above; interaction "
                f"{_ci(r)}).")
    else:
        word = "is stronger" if abs(hi["est"]) > abs(lo["est"]) else "is weaker"
    text = f"{link} {word} among respondents with higher {w} (interaction {_ci(r)}"
    if lo is not None and hi is not None:
        text += (f"; b = {format_number(lo['est'], 3)} at 1 SD below the mean of "
                 f"{r['moderator']}, b = {format_number(hi['est'], 3)} at 1 SD above")
    return text + ")."


def _categorical(r: Mapping[str, Any], slopes: Sequence[Mapping[str, Any]], link: str,
                 w: str) -> str:
    test = (f"F({format_int(r['df1'])}, {format_int(r['df2'])}) = {format_number(r['f'], 2)}, "
            f"{format_p(r['f.pvalue'])}")
    per = "; ".join(f"b = {format_number(s['est'], 3)} among {s['at']}" for s in slopes)
    if not r["f.pvalue"] < 0.05:
        return f"{link} does not differ clearly between the categories of {w} ({test}; {per})."
    return f"{link} differs between the categories of {w} ({test}): {per}."


def moderation_sentence(interaction: Mapping[str, Any], slopes: Sequence[Mapping[str, Any]],
                        labels: Mapping[str, str] | None = None) -> str:
    """One sentence on a moderated path, from its interaction row and simple slopes.

    Parameters
    ----------
    interaction : mapping
        A row of ``moderation.interactions``: ``lhs, focal, moderator, est, ci.lower,
        ci.upper`` (NaN for a categorical moderator with several dummies), ``f, df1,
        df2, f.pvalue``.
    slopes : sequence of mappings
        The ``slopes`` rows of the same path (``at``: "-1 SD", "mean", "+1 SD" or the
        categories).
    labels : mapping, optional
        Construct code -> label ("habit (HAB)" in the text).

    Returns
    -------
    str

    Examples
    --------
    >>> row = {"lhs": "WIL", "focal": "COM", "moderator": "HAB", "est": -0.12,
    ...        "ci.lower": -0.2, "ci.upper": -0.04}
    >>> slopes = [{"at": "-1 SD", "est": 0.4}, {"at": "+1 SD", "est": 0.2}]
    >>> moderation_sentence(row, slopes, {"COM": "Comfort"})[:74]
    'The link between comfort (COM) and WIL is weaker among respondents with hi'
    """
    labels = labels or {}
    link = (f"The link between {construct_name(interaction['focal'], labels)} and "
            f"{construct_name(interaction['lhs'], labels)}")
    w = construct_name(interaction["moderator"], labels)
    slopes = [s for s in slopes if s.get("lhs", interaction["lhs"]) == interaction["lhs"]
              and s.get("focal", interaction["focal"]) == interaction["focal"]
              and s.get("moderator", interaction["moderator"]) == interaction["moderator"]]
    continuous = all(s["at"] in CONTINUOUS_PROBES for s in slopes)
    if continuous and is_number(interaction.get("est")):
        return _continuous(interaction, slopes, link, w)
    return _categorical(interaction, slopes, link, w)   # F test (= t test with one dummy)
