"""Measurement: reliability and validity tables, loadings, the HTMT heat map."""

import pandas as pd
import streamlit as st

from adoption.figures.heatmap import NOTE as HTMT_NOTE, htmt_figure, htmt_png, htmt_svg
from adoption.report import ordinal_tables as OT
from adoption.report import tables as T
from ui import figure, not_in_run, run_or_stop, table

run = run_or_stop()
r = run.results
validity = r.get("validity") or {}
cfa = r.get("cfa") or {}

st.title("Measurement model")

st.header("Reliability")
rel = r.get("reliability") or {}
raw_rel = pd.DataFrame([{"construct": k, **{c: v for c, v in x.items() if not isinstance(v, (dict, list))}}
                        for k, x in rel.items()])
table(T.reliability(rel), "Reliability", raw_rel)
ordinal_rel = OT.ordinal_reliability(rel)
if ordinal_rel is not None:
    table(ordinal_rel, "Ordinal reliability", key="reliability-ordinal")

st.header("Discriminant validity")
htmt = validity.get("htmt")
if htmt:
    figure(htmt_figure(htmt, run.labels), "htmt", lambda: htmt_png(htmt), lambda: htmt_svg(htmt),
           title="Heterotrait-monotrait ratios (HTMT)", note=HTMT_NOTE)
    table(T.htmt(htmt), "HTMT", pd.DataFrame(htmt).rename_axis("construct").reset_index())
else:
    not_in_run("HTMT")
fl = validity.get("fornell_larcker")
table(T.fornell_larcker(fl), "Fornell-Larcker criterion", pd.DataFrame(fl or []))

st.header("Confirmatory factor analysis")
table(T.cfa_fit(cfa, r.get("common_method")), "CFA fit")
est = [e for e in cfa.get("estimates") or [] if e.get("op") == "=~"]
table(T.loadings(est), "CFA loadings", pd.DataFrame(est))

st.header("Sampling adequacy, normality and common-method variance")
table(T.sampling_adequacy(validity), "KMO, Bartlett and Mardia tests")
table(T.common_method(r.get("common_method")), "Common-method checks")
