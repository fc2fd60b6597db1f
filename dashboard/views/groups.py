"""Groups: sizes, measurement invariance, path coefficients by group and their tests.

For the grouping column chosen: how many respondents each group has (groups below the
small-cell threshold show "fewer than k"; groups left out of a comparison are listed),
the invariance table (configural, metric, scalar, strict; changes in fit against Chen's
cut-offs; what was released for partial invariance), the paths side by side with each
path's equality test and the omnibus test, and one path diagram per group with the
paths that differ in orange. Everything is read from ``results["groups"]``.
"""

import pandas as pd
import streamlit as st

from adoption.format import format_p, is_number
from adoption.report import tables as T
from figs import group_diagram
from ui import image, not_in_run, plain, run_or_stop, table

run = run_or_stop()
r = run.results
k = run.small_cell

st.title("Group comparisons")
st.caption("Whether the questionnaire measures the same thing in every group (measurement "
           "invariance) and whether the paths of the model differ between groups. Groups "
           f"with fewer than {k} respondents show \"{T.fewer_than(k)}\" instead of numbers.")

groups = r.get("groups") if isinstance(r.get("groups"), dict) else {}
if not groups:
    not_in_run("Group comparisons")
    st.header("Group sizes")
    table(T.demographics((r.get("descriptives") or {}).get("demographics"), k), "Demographics")
    st.stop()

columns = list(groups)
column = st.segmented_control(
    "Grouping variable", columns, default=columns[0], key="groups-column",
    format_func=lambda c: str(groups[c].get("label") or c)) or columns[0]
comp = groups[column]
name = str(comp.get("label") or column)
key = column.replace("_", "-").lower()

omni = (comp.get("path_differences") or {}).get("omnibus") or {}
c1, c2, c3 = st.columns(3)
c1.metric("Highest invariance level", str(comp.get("highest_level") or "none"),
          help="The highest level supported by Chen's (2007) cut-offs, after a configural "
               "model that fits by the usual cut-offs (else none); \"partial\" when "
               "constraints were released.")
differ = [d for d in (comp.get("path_differences") or {}).get("paths") or []
          if is_number(d.get("pvalue")) and d["pvalue"] < 0.05]
c2.metric("Paths that differ (p < .05)", f"{len(differ)} of "
          f"{len((comp.get('path_differences') or {}).get('paths') or [])}")
c3.metric("Omnibus test, all paths equal",
          format_p(omni.get("pvalue")) if is_number(omni.get("pvalue")) else "–")

st.header("Group sizes")
table(T.group_sizes(comp, key, k), f"Group sizes of {name}", key=f"sizes-{key}")
for e in comp.get("excluded_groups") or []:
    what = {"all": "comparisons", "invariance": "invariance tests",
            "paths": "path model"}.get(str(e.get("analysis")), str(e.get("analysis")))
    st.info(plain(T.redact_small_counts(f"Left out of the {what}: {T.group_label(e)} "
                                        f"({e.get('reason', '')}).", comp, k)),
            icon=":material/person_off:")

st.header("Measurement invariance")
inv = comp.get("invariance") or []
table(T.invariance(comp, key), f"Measurement invariance across {name}",
      pd.DataFrame([{"model": e.get("model") or e.get("level"), "level": e.get("level"),
                     **(e.get("fit") or {}),
                     **{f"delta.{a}": b for a, b in (e.get("comparison") or {}).items()
                        if not isinstance(b, dict)},
                     "supported": e.get("supported"), "freed": ", ".join(e.get("freed") or []),
                     "released": ", ".join(e.get("released") or [])}
                    for e in inv]), key=f"inv-{key}")
if inv:
    st.markdown(plain(T.invariance_headline(comp)))
    partial = comp.get("partial") or []
    if partial:
        table(T.partial_invariance(comp, key), "Released constraints", pd.DataFrame(partial),
              key=f"partial-{key}")
    else:
        st.markdown("**Partial invariance:** no constraint was released.")

st.header("Paths by group")
table(T.group_paths_table(comp, key, k), f"Path coefficients by {name}",
      pd.DataFrame(comp.get("paths") or []), key=f"paths-{key}")
text = T.omnibus_text(comp)
if text:
    st.markdown(plain(text))

paths = [p for p in comp.get("paths") or [] if p.get("op") == "~"]
small = T.small_groups(comp, k)
shown = list(dict.fromkeys((str(p.get("group")), T.group_label(p)) for p in paths))
if shown:
    st.subheader("Path diagrams")
    st.caption("Standardised coefficients (β) in each group; dashed: p ≥ .05. "
               + ("Orange, thicker arrows: paths whose equality test across groups has p < .05."
                  if differ else "No path differs across groups at p < .05."))
    per_row = 2
    for i in range(0, len(shown), per_row):
        cols = st.columns(per_row)
        for col, (g, label) in zip(cols, shown[i:i + per_row]):
            with col:
                if g in small:
                    st.info(f"{plain(label)}: {T.fewer_than(k)} respondents; no diagram is shown.")
                    continue
                png = group_diagram(run, column, g, "png")
                if png is None:
                    not_in_run(f"Path diagram of {label}")
                    continue
                image(png, f"groups_{column}_{g}",
                      lambda g=g: group_diagram(run, column, g, "svg"), title=label)

for w in comp.get("warnings") or []:
    if " is left out" in str(w) and comp.get("excluded_groups"):
        continue        # listed under the group sizes, with the reason
    st.warning(plain(T.redact_small_counts(str(w), comp, k)))
