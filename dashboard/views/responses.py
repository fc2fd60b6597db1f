"""Responses: Likert distributions per construct and item, optionally split by a group.

Only aggregate counts are shown: a group with fewer respondents than the run's small-cell
threshold shows "fewer than k" instead of numbers and gets no bar; a group hidden so that
a small one cannot be worked out (adoption.privacy) shows no counts, and its bar only
where the run kept its (rounded) shares.
"""

import pandas as pd
import streamlit as st

from adoption.format import format_int, format_percent
from adoption.figures.likert import likert_figure, likert_png, likert_svg
from adoption.privacy import SECONDARY, SMALL
from adoption.report import tables as T
from figs import likert_by_group
from ui import dataframe, figure, not_in_run, plain, run_or_stop, table

ALL = "All constructs"
NO_SPLIT = "No split"

run = run_or_stop()
r = run.results
dist = run.distribution

st.title("Responses")
if dist.empty:
    not_in_run("Answer distribution")
    st.stop()

constructs = list(dict.fromkeys(dist["construct"]))
groups = list(run.group_names) if not run.by_group.empty else []
c1, c2 = st.columns(2)
split = c2.selectbox("Split by", [NO_SPLIT, *groups], key="resp-split",
                     format_func=lambda g: run.group_names.get(g, g))
options = constructs if split != NO_SPLIT else [ALL, *constructs]
construct = c1.selectbox("Construct", options, key=f"resp-construct-{split != NO_SPLIT}",
                         format_func=lambda c: c if c == ALL else
                         f"{run.labels.get(c, c)} ({c})" if run.labels.get(c, c) != c else c)
fewer = T.fewer_than(run.small_cell)

if split == NO_SPLIT:
    d = dist if construct == ALL else dist[dist["construct"] == construct]
    name = "likert" if construct == ALL else f"likert_{construct}"
    figure(likert_figure(d, run.labels), name, lambda: likert_png(d, run.labels),
           lambda: likert_svg(d, run.labels), key=name,
           title="Distribution of answers" + ("" if construct == ALL else f": {construct}"),
           note="Bars are centred on the neutral point: disagreement to the left, agreement "
                "to the right; percentages of each item's valid answers (below 7% not printed).")
    answers = list(dict.fromkeys(d.sort_values("value")["label"]))
    wide = d.pivot_table(index=["item", "construct"], columns="label", values="share",
                         sort=False, aggfunc="sum").reindex(columns=answers)
    n = d.groupby(["item", "construct"], sort=False)["count"].sum()
    reversed_items = set(d.loc[d["reversed"].astype(str).str.lower() == "true", "item"]) \
        if "reversed" in d else set()
    shown = pd.DataFrame({"Item": [T.item_name({"item": i, "reversed": i in reversed_items})
                                   for i, _ in wide.index],
                          "Construct": [c for _, c in wide.index],
                          "n": [format_int(n[k]) for k in wide.index],
                          **{f"{a} %": wide[a].map(format_percent).to_list() for a in answers}})
    dataframe(shown, "Answers per item", f"answers_{construct}",
              note="n = valid answers; percentages of the item's valid answers, as given "
                   "(a reversed item's answers before its recode).")
else:
    g = run.by_group
    g = g[(g["group_column"] == split) & (g["construct"] == construct)]
    small = g[g["suppressed"] == SMALL]
    secondary = g[g["suppressed"] == SECONDARY]
    drawn = g["suppressed"].eq("") | (g["suppressed"].eq(SECONDARY) & g["share"].notna())
    shown_groups = g[drawn]
    group_title = run.group_names.get(split, split)
    if not small.empty:
        st.warning(plain(f"{group_title}: " + ", ".join(dict.fromkeys(small["group_label"].astype(str)))
                         + f" — {fewer} respondents; not shown, to protect their privacy."
                         + ("" if secondary.empty else " "
                            + ", ".join(dict.fromkeys(secondary["group_label"].astype(str)))
                            + ": counts not shown either, so that the small group cannot be "
                              "worked out from the totals.")),
                   icon=":material/visibility_off:")
    if shown_groups.empty:
        st.info(plain(f"No group of {group_title.lower()} has at least {run.small_cell} respondents."))
    else:
        d = likert_by_group(shown_groups)
        name = f"likert_{construct}_by_{split}"
        figure(likert_figure(d), name, lambda: likert_png(d), lambda: likert_svg(d), key=name,
               title=f"{run.labels.get(construct, construct)} by {group_title.lower()}",
               note="One bar per group under each item; percentages of the group's valid "
                    f"answers. Groups with {fewer} respondents are not shown.")
    answers = list(dict.fromkeys(run.distribution.sort_values("value")["label"]))
    rows = []
    for (gl, item), part in g.groupby(["group_label", "item"], sort=False):
        why = part["suppressed"].iloc[0]
        hidden = fewer if why == SMALL else "suppressed"
        rev = "reversed" in part and str(part["reversed"].iloc[0]).lower() == "true"
        name = T.item_name({"item": item, "reversed": rev})
        if why == SMALL or part["share"].isna().all():
            rows.append([gl, name, hidden, hidden, *[hidden] * len(answers)])
            continue
        share = dict(zip(part["label"], part["share"]))
        n = ["suppressed"] * 2 if why else [format_int(part["n_group"].iloc[0]), format_int(part["count"].sum())]
        rows.append([gl, name, *n, *[format_percent(share.get(a, 0.0), 0 if why else 1) for a in answers]])
    shown = pd.DataFrame(rows, columns=[group_title, "Item", "Group size", "n",
                                        *[f"{a} %" for a in answers]])
    marks = shown.map(lambda v: "suppressed" if v in (fewer, "suppressed") else None)
    dataframe(shown, f"Answers per item by {group_title.lower()}", f"answers_{construct}_by_{split}",
              marks=marks,
              note=f"n = valid answers in the group; percentages of them. Groups with {fewer} "
                   f"respondents show \"{fewer}\" instead of numbers; where that alone would let "
                   "them be worked out from the totals, the next smallest group's counts show "
                   "\"suppressed\" (its percentages, rounded to whole numbers, stay when it is "
                   f"large). Source: {run.by_group_source}.")

st.header("Who answered")
table(T.demographics((r.get("descriptives") or {}).get("demographics"), run.small_cell), "Demographics")
