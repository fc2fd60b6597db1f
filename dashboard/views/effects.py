"""Effects: indirect and total effects as forest plots with their bootstrap CIs, and tables."""

import pandas as pd
import streamlit as st

from adoption.figures.forest import forest_figure, forest_png, forest_svg, prepare_forest
from adoption.report import tables as T
from ui import figure, not_in_run, run_or_stop, table

FORMS = {"composite": "Composite (construct scores)", "latent": "Latent (SEM)"}
KINDS = {"indirect": "Indirect effects", "total_indirect": "Total indirect effects",
         "total": "Total effects"}

run = run_or_stop()

st.title("Indirect and total effects")
if not run.structural:
    not_in_run("Structural model")
    st.stop()

c1, c2 = st.columns([2, 1])
form = c1.segmented_control("Model", list(run.structural), default=list(run.structural)[0],
                            format_func=FORMS.__getitem__, key="effects-form") \
    or list(run.structural)[0]
standardized = c2.toggle("Standardised (β)", value=False, key="effects-std")
model = run.structural[form]
boot = model.get("bootstrap") or {}
if boot:
    st.caption(f"Bootstrap: {boot.get('B', '–')} resamples ({boot.get('method', '–')}), seed "
               f"{boot.get('seed', '–')}, {boot.get('failed', 0) or 0} failed.")

for kind, title in KINDS.items():
    rows = model.get(kind) or []
    st.header(title)
    if not rows:
        not_in_run(title)
        continue
    if prepare_forest(rows, standardized=standardized).rows:
        figure(forest_figure(rows, standardized=standardized), f"{kind}_{form}",
               lambda rows=rows: forest_png(rows, standardized=standardized),
               lambda rows=rows: forest_svg(rows, standardized=standardized),
               key=f"forest-{kind}-{form}",
               note=prepare_forest(rows, standardized=standardized).note)
    else:
        st.info("No effect has a finite confidence interval on this scale.")
    raw = pd.DataFrame(rows)
    if "path" in raw:
        raw["path"] = raw["path"].map(lambda p: " -> ".join(p) if isinstance(p, list) else p)
    table(T.effects(rows, f"{kind}-{form}", f"{title} in the {FORMS[form].lower()} model", boot),
          title, raw)
