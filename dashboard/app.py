"""The dashboard of a run directory: ``streamlit run dashboard/app.py``.

Started by ``adoption dashboard [RUN_DIR or reports/]`` (see
:mod:`adoption.dashboard_launch`), which passes the root folder in
``$ADOPTION_DASHBOARD_ROOT`` and the run to open first in ``$ADOPTION_DASHBOARD_RUN``.
The sidebar lists every run under the root (title, date, N); the choice is kept in the
URL (``?run=NAME``) and checked against the root before anything is read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import streamlit as st  # noqa: E402

import auth  # noqa: E402
import rundata  # noqa: E402
from ui import plain  # noqa: E402

# No page_icon and no page icons: a ":material/...:" icon (the current page's icon becomes
# the favicon) makes the browser fetch it from fonts.gstatic.com; Streamlit's own favicon
# is served locally. Nothing on a page may
# make the browser reach outside (tests/test_dashboard_e2e.py records its requests).
st.set_page_config(page_title="adoption · dashboard", layout="wide")
account = auth.gate()  # sign-in first (with --users): nothing of a run is read before it

root = rundata.root_dir()
runs = auth.allowed_runs(rundata.list_runs(str(root)), account)
requested = st.query_params.get("run")
chosen = rundata.select_run(runs, requested, os.environ.get(rundata.ENV_RUN))

with st.sidebar:
    st.markdown("### Run")
    if not runs:
        st.warning(f"No run directory under `{root}`.")
        st.session_state["run_path"] = None
    else:
        names = [r.name for r in runs]
        captions = {r.name: r.caption for r in runs}
        name = st.selectbox("Run directory", names, index=names.index(chosen.name),
                            format_func=captions.__getitem__, key="run-select",
                            help=f"Every run under {root}, newest first.")
        if requested is not None and requested != name and requested not in names:
            st.error("The run in the address is not a run under the dashboard's folder; "
                     "showing the newest run instead.")
        try:
            st.session_state["run_path"] = str(rundata.resolve_run(root, name))
        except rundata.RunNotFound as exc:
            st.session_state["run_path"] = None
            st.error(plain(exc))
        if name != requested:
            st.query_params["run"] = name
        st.caption(f"Folder: `{root}`")
    skipped = rundata.skipped_runs(str(root))
    if skipped:
        st.warning(f"Skipped {len(skipped)} run(s) that cannot be shown (below); run the "
                   "analysis again to rewrite them.")
        st.text("\n".join(f"{name}: {why}" for name, why in skipped))  # plain text: names are not markdown

page = st.navigation([
    st.Page(HERE / "views" / "brief.py", title="Brief", default=True),
    st.Page(HERE / "views" / "overview.py", title="Overview"),
    st.Page(HERE / "views" / "measurement.py", title="Measurement"),
    st.Page(HERE / "views" / "model.py", title="Model"),
    st.Page(HERE / "views" / "effects.py", title="Effects"),
    st.Page(HERE / "views" / "responses.py", title="Responses"),
    st.Page(HERE / "views" / "groups.py", title="Groups"),
    st.Page(HERE / "views" / "pls.py", title="PLS-SEM"),
])
try:
    page.run()
except Exception as exc:  # a results.json damaged below its sections: a note, not a traceback
    st.error(f"This run cannot be shown: its results.json does not have the expected shape "
             f"({exc.__class__.__name__}). Choose another run in the sidebar, or run the "
             "analysis again to rewrite it.")
