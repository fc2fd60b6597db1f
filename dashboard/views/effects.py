"""Effects: indirect and total effects as forest plots with their bootstrap CIs, and tables;
for a composite model with interaction terms, each moderation in a sentence, its
interaction plot and its Johnson-Neyman plot, and the tables of the interactions, simple
slopes and conditional (indirect) effects with the index of moderated mediation."""

import pandas as pd
import streamlit as st

from adoption.figures.forest import forest_figure, forest_png, forest_svg, prepare_forest
from adoption.figures.moderation import (interaction_figure, interaction_image, jn_figure,
                                         jn_image, moderated_paths, prepare_interaction,
                                         prepare_jn)
from adoption.report import tables as T
from adoption.report.moderation import moderation_tables
from adoption.report.moderation_text import moderation_sentence
from ui import figure, not_in_run, plain, run_or_stop, table

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

mod = model.get("moderation") if form == "composite" else None
if isinstance(mod, dict) and moderated_paths(mod):
    st.header("Moderation")
    st.caption("Composite scores; products of " + ("mean-centred" if mod.get("centre") == "mean"
                                                   else "raw") + " scores, OLS per equation.")
    inter = {(r["lhs"], r["focal"], r["moderator"]): r for r in mod.get("interactions") or []}
    for path in moderated_paths(mod):
        lhs, focal, w = path
        st.subheader(f"{focal} × {w} → {lhs}")
        if path in inter:
            slopes = [s for s in mod.get("slopes") or []
                      if (s["lhs"], s["focal"], s["moderator"]) == path]
            st.markdown(plain(moderation_sentence(inter[path], slopes, run.labels)))
        chart = prepare_interaction(mod, path, run.labels)
        stem = f"{lhs}_{focal}_{w}"
        figure(interaction_figure(chart), f"interaction_{stem}",
               lambda c=chart: interaction_image(c, "png", dpi=150),
               lambda c=chart: interaction_image(c, "svg"), key=f"interaction-{stem}",
               title="Interaction plot", note=chart.note)
        jn = prepare_jn(mod, path, run.labels)
        if jn is not None:
            figure(jn_figure(jn), f"jn_{stem}", lambda c=jn: jn_image(c, "png", dpi=150),
                   lambda c=jn: jn_image(c, "svg"), key=f"jn-{stem}",
                   title="Johnson–Neyman plot", note=jn.note)
    raw = {"moderation": mod.get("interactions"), "slopes": mod.get("slopes"),
           "conditional": mod.get("conditional")}
    for t in moderation_tables(mod, "composite"):   # keys: moderation-, slopes-, conditional-
        table(t, t.title, pd.DataFrame(raw.get(t.key.split("-")[0]) or []))
