"""The decision brief: a run's findings in plain words for a non-researcher.

Built from ``results.json`` alone (never written by hand per run) with the wording rules
of the report's summary (:mod:`adoption.report.summary_text`): associations, never
causes (:data:`~adoption.report.summary_text.CAUSAL_WORDS`), no p values, and how sure
we are told in words tied to the 95% confidence intervals:

* *clear*: the interval excludes zero and its end nearer zero is at least
  :data:`TRIVIAL` away from it ("fairly sure there is a link");
* *possibly tiny*: the interval excludes zero but reaches within :data:`TRIVIAL` of it;
* *unclear*: the interval includes zero ("not sure there is a link at all").

Sizes are the standardised total effects on the final outcome (|beta| below .10 very
small, below .30 small, below .50 moderate, else large; Cohen's conventions for r).

"Where to act" is the importance-performance map of :mod:`adoption.ipma` (the PLS
stage uses the same functions): importance is each driver's standardised total effect
on the outcome, performance the mean of its items rescaled 0-100 with the bounds of the
response scale (the scale points of the run's answer distribution).

Group comparisons name only groups that the small-cell rule lets a run name
(:func:`adoption.privacy.suppress_group_sizes`, :func:`adoption.privacy.hidden_cells`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from adoption.format import format_bounded, format_int, format_number, format_percent, is_number
from adoption.figures.groupdiagram import differing_paths
from adoption.ipma import ipma_table, rescale_items
from adoption.privacy import OTHER, SMALL, SMALL_CELL, hidden_cells, suppress_group_sizes
from adoption.report.summary_text import ASSOCIATION_NOTE, construct_name, fit_verdict, primary_model

__all__ = ["TRIVIAL", "SIZE_WORDS", "CERTAINTY_NOTE", "short_name", "Brief", "final_outcome", "size_word", "certainty",
           "certainty_sentence", "driver_effects", "agreement", "item_performance",
           "where_to_act", "finding_sentences", "sample_sentences", "group_sentences",
           "limit_sentences", "build_brief"]

#: A standardised link closer to zero than this is called "tiny" (Cohen's small r is .10).
TRIVIAL = 0.10
#: Upper bounds of |beta| and their words (Cohen, 1988, conventions for r).
SIZE_WORDS = ((0.10, "very small"), (0.30, "small"), (0.50, "moderate"), (float("inf"), "large"))
#: How the brief's sizes and ranges are to be read (shown above the certainty sentences).
CERTAINTY_NOTE = ("Sizes are standardised: 0 is no link, 1 (or −1) a perfect one. Each plausible "
                  "range is the 95% confidence interval: the sizes the data are compatible with.")
#: How many drivers the findings name as linked (the brief keeps to three or four findings).
TOP_DRIVERS = 2


@dataclass(frozen=True)
class Brief:
    """The brief's parts, each a tuple of plain sentences (no markup).

    ``ipma`` is :func:`adoption.ipma.ipma_table` of the outcome (empty without a
    structural model) and ``drivers`` the table of :func:`driver_effects`.
    """

    title: str
    outcome: str | None
    outcome_label: str
    findings: tuple[str, ...]
    certainty: tuple[str, ...]
    sample: tuple[str, ...]
    groups: tuple[str, ...]
    limits: tuple[str, ...]
    act: tuple[str, ...]
    ipma: pd.DataFrame
    drivers: pd.DataFrame


def final_outcome(estimates: Sequence[Mapping[str, Any]]) -> str | None:
    """The model's final outcome: the last regression ``lhs`` that predicts nothing."""
    regs = [r for r in estimates if r.get("op") == "~"]
    predictors = {r.get("rhs") for r in regs}
    finals = [r["lhs"] for r in regs if r.get("lhs") not in predictors]
    return finals[-1] if finals else None


def size_word(beta: float) -> str:
    """'very small', 'small', 'moderate' or 'large' for a standardised coefficient."""
    return next(word for bound, word in SIZE_WORDS if abs(beta) < bound)


def certainty(lower: float, upper: float) -> str:
    """'clear', 'possibly tiny' or 'unclear' for a 95% CI (see the module's notes)."""
    if not (is_number(lower) and is_number(upper)) or lower <= 0 <= upper:
        return "unclear"
    return "clear" if min(abs(lower), abs(upper)) >= TRIVIAL else "possibly tiny"


def certainty_sentence(name: str, beta: float, lower: float, upper: float) -> str:
    """How sure we are of one link, in words with its 95% range."""
    rng = f"{format_bounded(lower)} to {format_bounded(upper)}"
    word = certainty(lower, upper)
    if word == "unclear":
        return (f"{name}: not sure there is a link at all; the plausible range ({rng}) "
                "includes no link.")
    way = "positive" if beta > 0 else "negative"
    if word == "possibly tiny":
        return f"{name}: the link is {way}, but it may be tiny (plausible range {rng})."
    return (f"{name}: a {size_word(beta)} {way} link ({format_bounded(beta)}); fairly sure it "
            f"is at least small (plausible range {rng}).")


def driver_effects(model: Mapping[str, Any], outcome: str) -> pd.DataFrame:
    """Each driver's standardised total effect on ``outcome`` with its 95% CI.

    Returns ``source, std, lower, upper, certainty`` sorted by |std| (largest first), from
    the model's ``total`` rows (``path`` ending at the outcome); a predictor without a
    total row falls back to its regression row of ``estimates``.
    """
    rows: dict[str, dict[str, Any]] = {}
    for r in model.get("estimates") or []:
        if r.get("op") == "~" and r.get("lhs") == outcome and is_number(r.get("std.all")):
            rows[r["rhs"]] = {"source": r["rhs"], "std": float(r["std.all"]),
                              "lower": r.get("std.all.ci.lower"), "upper": r.get("std.all.ci.upper")}
    for r in model.get("total") or []:
        path = list(r.get("path") or [])
        if len(path) >= 2 and path[-1] == outcome and is_number(r.get("std.all")):
            rows[path[0]] = {"source": path[0], "std": float(r["std.all"]),
                             "lower": r.get("std.all.ci.lower"), "upper": r.get("std.all.ci.upper")}
    t = pd.DataFrame(list(rows.values()), columns=["source", "std", "lower", "upper"])
    t["lower"] = pd.to_numeric(t["lower"], errors="coerce")
    t["upper"] = pd.to_numeric(t["upper"], errors="coerce")
    t["certainty"] = [certainty(lo, hi) for lo, hi in zip(t["lower"], t["upper"])]
    return t.sort_values("std", key=abs, ascending=False, kind="stable").reset_index(drop=True)


def agreement(distribution: Sequence[Mapping[str, Any]], items: Sequence[str]) -> tuple[dict[str, float], list[str]]:
    """Share of answers above the middle of the scale for each of ``items``.

    Reverse-keyed items are left out (their answers as given disagree with the
    construct). Returns ``(item -> share, labels of the points above the middle)``.
    """
    d = pd.DataFrame(list(distribution))
    if d.empty:
        return {}, []
    d = d[d["item"].isin(list(items)) & ~d["reversed"].astype(bool)]
    shares, labels = {}, []
    for item, g in d.groupby("item", sort=False):
        mid = (g["value"].min() + g["value"].max()) / 2
        top = g[g["value"] > mid]
        shares[item] = float(top["share"].sum())
        labels = labels or [str(x) for x in top["label"]]
    return shares, labels


def item_performance(items: Sequence[Mapping[str, Any]], distribution: Sequence[Mapping[str, Any]],
                     constructs: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Each construct's performance: the mean of its item means rescaled 0-100.

    Item means are on the analysed scale (reverse-keyed items recoded); the bounds are
    the lowest and highest scale point of the item in ``distribution`` (every point is
    listed, a zero count too). Rescaling is linear, so the rescaled mean is the mean of
    the rescaled answers (:func:`adoption.ipma.rescale_items`).
    """
    d = pd.DataFrame(list(distribution))
    means = {r["item"]: r["mean"] for r in items if is_number(r.get("mean"))}
    if d.empty or not means:
        return {}
    bounds = d.groupby("item")["value"].agg(["min", "max"])
    known = [i for i in means if i in bounds.index]
    row = pd.DataFrame([{i: float(means[i]) for i in known}])
    rescaled = rescale_items(row, bounds.loc[known, "min"].to_dict(), bounds.loc[known, "max"].to_dict()).iloc[0]
    return {c: float(rescaled[[i for i in its if i in rescaled.index]].mean())
            for c, its in constructs.items() if any(i in rescaled.index for i in its)}


def where_to_act(drivers: pd.DataFrame, performance: Mapping[str, float],
                 labels: Mapping[str, str]) -> pd.DataFrame:
    """The importance-performance map (:func:`adoption.ipma.ipma_table`) of the drivers
    with a performance: importance = standardised total effect."""
    known = drivers[drivers["source"].isin(list(performance))]
    if known.empty:
        return pd.DataFrame(columns=["construct", "label", "importance", "performance", "priority"])
    imp = dict(zip(known["source"], known["std"]))
    return ipma_table(imp, {c: performance[c] for c in imp}, labels)


def short_name(code: str, labels: Mapping[str, str]) -> str:
    """A construct named again after its first mention: its label in lower case, no code."""
    long = labels.get(code) or code
    return long[0].lower() + long[1:] if len(long) > 1 and long[1].islower() else long


def _join(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def finding_sentences(drivers: pd.DataFrame, outcome: str, labels: Mapping[str, str],
                      shares: Mapping[str, float], agree_labels: Sequence[str]) -> list[str]:
    """Three or four findings: how many agree with the outcome's items, the two
    clearest drivers, and the drivers without a clear link."""
    out = []
    what, again = construct_name(outcome, labels), short_name(outcome, labels)
    if shares:
        vals = list(shares.values())
        said = " or ".join(f"'{x}'" for x in agree_labels) or "an answer above the middle of the scale"
        text = (f"About {format_percent(sum(vals) / len(vals), 0)}% of respondents chose {said} on "
                f"the {len(vals)} questions about {what}")
        if len(vals) > 1:
            text += f" (from {format_percent(min(vals), 0)}% to {format_percent(max(vals), 0)}% by question)"
        out.append(text + ".")
    linked = drivers[drivers["certainty"] != "unclear"].head(TOP_DRIVERS)
    for i, r in enumerate(linked.itertuples()):
        name = construct_name(r.source, labels)
        more = "more" if r.std > 0 else "less"
        if i == 0:
            out.append(f"Respondents higher on {name} report {more} {again}: of all the factors, "
                       f"{short_name(r.source, labels)} goes together most strongly with it "
                       f"(a {size_word(r.std)} link).")
        else:
            out.append(f"{_cap(name)} comes next (a {size_word(r.std)} link; higher "
                       f"{short_name(r.source, labels)} goes with {more} {again}).")
    unclear = drivers[drivers["certainty"] == "unclear"]
    if len(unclear):
        names = [construct_name(s, labels) for s in unclear["source"]]
        out.append(f"{_cap(_join(names))} showed no clear link with {again} here.")
    return out


def _sizes_text(rows: Sequence[Mapping[str, Any]], k: int) -> str:
    primary, secondary = hidden_cells(rows, "count", k)
    parts = []
    for i, r in enumerate(rows):
        label = OTHER if i in primary else str(r.get("label") or r.get("value"))
        n = (f"fewer than {k}" if i in primary else "suppressed" if i in secondary
             else format_int(r.get("count")))
        parts.append(f"{label} {n}")
    return ", ".join(parts)


def sample_sentences(results: Mapping[str, Any], when: str | None, k: int) -> list[str]:
    """Who was asked: N analysed of received, why some were set aside, when, which groups."""
    s = results.get("sample") or {}
    out = []
    if s:
        excluded = [e for e in s.get("excluded") or [] if is_number(e.get("count")) and e["count"] > 0]
        text = (f"{format_int(s.get('rows_analysed'))} responses were analysed, of "
                f"{format_int(s.get('rows_in'))} received")
        if excluded:
            text += (f"; {format_int(sum(e['count'] for e in excluded))} were set aside by the "
                     f"quality checks ({_join([str(e.get('reason')) for e in excluded])})")
        out.append(text + ".")
    out.append(f"Analysed on {when}; the run does not record when the survey was in the field."
               if when else "The run does not record when the survey was in the field.")
    demo = (results.get("descriptives") or {}).get("demographics") or []
    by: dict[str, list[Mapping[str, Any]]] = {}
    for r in demo:
        by.setdefault(str(r.get("variable")), []).append(r)
    for var, rows in by.items():
        name = str(((results.get("groups") or {}).get(var) or {}).get("label") or var.replace("_", " "))
        out.append(f"{_cap(name)}: {_sizes_text(rows, k)}.")
    return out


def _compared_groups(comp: Mapping[str, Any]) -> tuple[list[str], int]:
    """Names of the groups in the path comparison that may be named, and how many may not."""
    out_of_paths = {str(e.get("value")) for e in comp.get("excluded_groups") or []
                    if e.get("analysis") in ("all", "paths")}
    names, hidden = [], 0
    for s in comp.get("sizes") or []:
        if not s.get("included", True) or str(s.get("value")) in out_of_paths:
            continue
        if s.get("suppressed") == SMALL:
            hidden += 1
        else:
            names.append(str(s.get("label") or s.get("value")))
    return names, hidden


def group_sentences(groups: Mapping[str, Any], labels: Mapping[str, str], k: int) -> list[str]:
    """Each grouping column's path comparison in words, small groups not named."""
    out = []
    for column, raw in (groups or {}).items():
        if not isinstance(raw, Mapping):
            continue
        comp = suppress_group_sizes(raw, k)
        diff = comp.get("path_differences") or {}
        tests = diff.get("paths") or []
        what = str(comp.get("label") or column).lower()
        if not tests:
            out.append(f"The paths were not compared by {what} in this run.")
            continue
        names, hidden = _compared_groups(comp)
        among = _join(names + ([f"{hidden} small group(s) not named"] if hidden else [])) or "the groups"
        differ = differing_paths(tests)
        if not differ:
            out.append(f"No path differed clearly between {among} ({what}).")
            continue
        links = [f"{construct_name(rhs, labels)} and {construct_name(lhs, labels)}" for lhs, rhs in sorted(differ)]
        text = (f"By {what}, the link between {'; between '.join(links)} differed between {among} "
                f"({len(differ)} of {len(tests)} paths)")
        omni = diff.get("omnibus") or {}
        if is_number(omni.get("pvalue")) and omni["pvalue"] >= 0.05:
            text += (f"; taken together, the {len(tests)} paths did not differ more than chance "
                     "alone would make them, so this may be a chance finding")
        out.append(text + ".")
    return out


def limit_sentences(model: Mapping[str, Any] | None) -> list[str]:
    """What the brief does not show."""
    out = [ASSOCIATION_NOTE,
           "Only the people who answered are described; whether they stand for everyone "
           "depends on how they were invited.",
           "The sizes compare factors within this survey; they do not say how much the "
           "outcome would change if a factor were improved."]
    verdict = fit_verdict((model or {}).get("fit"))[0]
    if verdict == "poor":
        out.append("The model does not fit the data well by the usual standards, so these "
                   "findings should be read with extra care.")
    return out


def _act_sentences(ipma: pd.DataFrame, what: str) -> list[str]:
    if ipma.empty:
        return []
    corner = ipma[ipma["priority"]]
    if corner.empty:
        return [f"No factor is both more closely linked with {what} than the average factor "
                "and rated below the average."]
    names = [f"{short_name(c, dict(zip(ipma['construct'], ipma['label'])))} ({c}, rated "
             f"{format_number(p, 0)} of 100)" for c, p in zip(corner["construct"], corner["performance"])]
    return [f"{_cap(_join(names))} {'is' if len(names) == 1 else 'are'} more closely "
            f"linked with {what} than the average factor but rated below the average. If these "
            "links reflect what a change would do (which this survey cannot show), improving "
            f"{'it' if len(names) == 1 else 'them'} promises the most."]


def build_brief(results: Mapping[str, Any], labels: Mapping[str, str] | None = None,
                when: str | None = None) -> Brief:
    """The brief of a run.

    Parameters
    ----------
    results : the run's ``results.json`` as a dict.
    labels : long construct names by code.
    when : when the run was analysed, as it should be shown (the caller knows the file's date).
    """
    labels = dict(labels or {})
    k = int((results.get("privacy") or {}).get("small_cell") or SMALL_CELL)
    pm = primary_model(results.get("structural"))
    model = pm[1] if pm else {}
    outcome = final_outcome(model.get("estimates") or [])
    drivers = (driver_effects(model, outcome) if outcome else
               pd.DataFrame(columns=["source", "std", "lower", "upper", "certainty"]))
    desc = {k: v for k, v in (results.get("descriptives") or {}).items() if isinstance(v, list)}
    constructs = {c: list(v.get("items") or []) for c, v in (results.get("constructs") or {}).items()
                  if isinstance(v, Mapping)}
    if constructs:   # drivers are constructs: not a product term (COM_x_HAB), dummy or control
        drivers = drivers[drivers["source"].isin(list(constructs))].reset_index(drop=True)
    findings, act, certain = [], [], []
    what = short_name(outcome, labels) if outcome else ""
    ipma = where_to_act(drivers, item_performance(desc.get("items") or [], desc.get("distribution") or [],
                                                  constructs), labels)
    if outcome:
        shares, agree = agreement(desc.get("distribution") or [], constructs.get(outcome, []))
        findings = finding_sentences(drivers, outcome, labels, shares, agree)
        certain = [certainty_sentence(_cap(construct_name(r.source, labels)), r.std, r.lower, r.upper)
                   for r in drivers.itertuples()]
        act = _act_sentences(ipma, what)
    else:
        findings = ["The model of what goes together with the outcome was not computed in this run."]
    return Brief(title=str(results.get("title") or ""), outcome=outcome, outcome_label=what,
                 findings=tuple(findings), certainty=tuple(certain),
                 sample=tuple(sample_sentences(results, when, k)),
                 groups=tuple(group_sentences(results.get("groups") or {}, labels, k)),
                 limits=tuple(limit_sentences(model if pm else None)), act=tuple(act),
                 ipma=ipma, drivers=drivers)
