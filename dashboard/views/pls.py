"""PLS-SEM: the report's PLS section (measurement, structural, PLSpredict, IPMA, CB-SEM vs
PLS-SEM) from the run's ``results["pls"]``."""

import streamlit as st

from adoption.report.content import Figure, Heading, Paragraph, Table
from adoption.report.pls import pls_sections
from ui import figure, not_in_run, run_or_stop, table

run = run_or_stop()

st.title("PLS-SEM")
sections = pls_sections(run.results, run.labels)
if not sections:
    not_in_run("PLS-SEM (run with --method pls or 'methods: [cbsem, pls]' in the spec)")
    st.stop()

for block in sections[0].blocks:
    if isinstance(block, Heading):
        st.header(block.text)
    elif isinstance(block, Paragraph):
        st.write(block.text)
    elif isinstance(block, Table):
        table(block, block.title)
    elif isinstance(block, Figure) and block.plotly is not None:
        figure(block.plotly, block.name, lambda b=block: b.png, lambda b=block: b.svg,
               title=block.title, note=block.note, key=block.key)
