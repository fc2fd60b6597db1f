"""Overview: the key findings in plain language, the sample flow, the fit at a glance."""

import json

import streamlit as st

from adoption.cutoffs import judge
from adoption.format import format_bounded, format_int
from adoption.fitview import shown_fit
from adoption.report import tables as T
from adoption.report.summary_text import plain_summary
from figs import flow_diagram
from ui import VERDICT, image, not_in_run, plain, run_or_stop, table

run = run_or_stop()
r = run.results
sample = r.get("sample") or {}

st.title(plain(run.title))
st.caption(f"Run directory {plain(run.path.name)} · N = {format_int(sample.get('rows_analysed'))} "
           f"analysed of {format_int(sample.get('rows_in'))} received · adoption "
           f"{r.get('adoption_version', '–')}")

st.header("Key findings")
for paragraph in plain_summary(r, run.labels):
    st.markdown(f"- {plain(paragraph)}")

st.header("Sample")
excluded = sum(e.get("count") or 0 for e in sample.get("excluded") or [])
c1, c2, c3 = st.columns(3)
c1.metric("Responses received", format_int(sample.get("rows_in")))
c2.metric("Excluded by the quality checks", format_int(excluded))
c3.metric("Analysed", format_int(sample.get("rows_analysed")))
left, right = st.columns([2, 3])
with left:
    if sample:
        flow = json.dumps(sample, sort_keys=True)
        image(flow_diagram(flow, "png"), "flow", lambda: flow_diagram(flow, "svg"),
              title="Sample flow", width=420)
with right:
    table(T.sample_flow(sample), "Sample flow")

st.header("Fit at a glance")
models = {"Measurement model (CFA)": (r.get("cfa") or {}).get("fit")}
names = {"composite": "Composite path model", "latent": "Latent SEM"}
for key, model in run.structural.items():
    models[names[key]] = model.get("fit")
if not run.structural:
    not_in_run("Structural model")
cols = st.columns(len(models))
for col, (label, fit) in zip(cols, models.items()):
    with col.container(border=True):
        st.markdown(f"**{label}**")
        if not fit:
            st.markdown(":gray[not in this run]")
            continue
        shown = shown_fit(fit)
        for m, name in (("cfi", "CFI"), ("tli", "TLI"), ("rmsea", "RMSEA"), ("srmr", "SRMR")):
            v = shown.get(m)
            robust = " (robust)" if shown.measures[m].endswith(".robust") else ""
            st.markdown(f"{name}{robust} **{format_bounded(v, 3)}** &nbsp; {VERDICT[judge(m, v)]}")
table(T.fit_table("fit-glance", "Fit of the models", models), "Model fit")

warnings = [(stage, w) for stage, ws in (r.get("warnings") or {}).items() for w in ws or []]
if warnings:
    with st.expander(f"Warnings of this run ({len(warnings)})"):
        for stage, w in warnings:
            st.markdown(f"- **{plain(stage)}**: {plain(w)}")
