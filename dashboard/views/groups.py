"""Groups: what group comparisons will show, and the size of each group meanwhile."""

import streamlit as st

from adoption.report import tables as T
from ui import run_or_stop, table

run = run_or_stop()
r = run.results

st.title("Group comparisons")
multigroup = r.get("multigroup") or r.get("groups")
if not multigroup:
    st.info(
        "Group comparisons are not in this run yet. Once the multi-group analysis is part "
        "of the pipeline, this page will show, for each group variable (e.g. gender, year "
        "level, school type): measurement invariance (configural, metric, scalar fit and "
        "their differences), the path coefficients of each group side by side with the "
        "test of their difference, and construct means by group. Groups with fewer than "
        f"{run.small_cell} respondents will be shown as \"fewer than {run.small_cell}\".",
        icon=":material/groups:")
else:
    st.warning("This run has group results, but this version of the dashboard cannot show "
               "them yet.")

st.header("Group sizes")
table(T.demographics((r.get("descriptives") or {}).get("demographics"), run.small_cell),
      "Demographics")
