"""Model: the interactive path diagram, the fit, hypotheses, coefficients and R-squared."""

import pandas as pd
import streamlit as st

from adoption.report import ordinal_tables as OT
from adoption.report import tables as T
from figs import path_diagram, path_diagram_png, path_diagram_svg
from ui import figure, not_in_run, plain, run_or_stop, table

FORMS = {"composite": "Composite (construct scores)", "latent": "Latent (SEM)"}
NAMES = {"composite": "composite path model", "latent": "latent-variable structural model"}

run = run_or_stop()
r = run.results

st.title("Structural model")
if not run.structural:
    not_in_run("Structural model")
    st.stop()

c1, c2, c3 = st.columns([2, 1, 1])
form = c1.segmented_control("Model", list(run.structural), default=list(run.structural)[0],
                            format_func=FORMS.__getitem__, key="model-form") \
    or list(run.structural)[0]
standardized = c2.toggle("Standardised (β)", value=True, key="model-std",
                         help="Off: unstandardised coefficients (b).")
hide = c3.toggle("Hide non-significant paths", value=False, key="model-hide",
                 help="Leave out arrows with p ≥ .05.")
model = run.structural[form]
facts = [f"estimator {model.get('estimator', '–')}", f"missing data: {model.get('missing', '–')}",
         f"N = {model.get('nobs', '–')}"]
if model.get("converged") is False:
    st.error("This model did not converge; its numbers should not be read.")
st.caption("Fitted with " + plain(", ".join(facts)) + ". Hover an arrow for b, β, SE, z, p and the 95% CI.")

fig = path_diagram(run, form, standardized, hide)
if fig is None:
    not_in_run("Path diagram")
else:
    figure(fig, f"path_{form}", lambda: path_diagram_png(run, form, standardized, hide),
           lambda: path_diagram_svg(run, form, standardized, hide),
           title=f"Path diagram of the {NAMES[form]}", key=f"path-{form}")

st.header("Fit")
table(T.structural_fit({FORMS[k]: m for k, m in run.structural.items()}), "Fit of the structural models")
alt = T.alternatives(FORMS[form], model.get("fit"), model.get("alternatives"), form)
if alt is not None:
    table(alt, "Alternative models")

st.header("Hypotheses")
hyp = r.get("hypotheses")
table(T.hypotheses(hyp), "Hypothesis tests", pd.DataFrame(hyp or []))

st.header("Coefficients")
est = pd.DataFrame(model.get("estimates") or [])
regs = est[est["op"] == "~"] if "op" in est else est
table(T.coefficients(model, form, NAMES[form]), "Path coefficients", regs, key=f"coef-{form}")
r2 = model.get("r2") or {}
table(T.r_squared(model, form, NAMES[form], run.labels), "R²",
      pd.DataFrame({"variable": list(r2), "r2": list(r2.values())}), key=f"r2-{form}")

sens = OT.sensitivity(r.get("ordinal"))
if sens is not None:
    st.header("Sensitivity: continuous vs ordered answers")
    table(sens, "Sensitivity", pd.DataFrame((r.get("ordinal") or {}).get("sensitivity") or []),
          key="sensitivity")

mi = T.modification_indices(model.get("modification_indices"), form)
if mi is not None:
    with st.expander("Modification indices"):
        table(mi, "Modification indices", pd.DataFrame(model.get("modification_indices") or []))
for w in model.get("warnings") or []:
    st.warning(plain(w))
