"""Brief: the findings for a decision maker, in plain words, with where to act.

Everything is written by :func:`adoption.brief.build_brief` from the run's results; this
page only lays it out: what we found, how sure we are, where to act (the
importance-performance map), the groups, who was asked, what it does not show, and the
downloads a stakeholder expects (report, figures, tables, this brief as PDF or PNG).
"""

import datetime as dt

import streamlit as st

import downloads as D
from adoption.brief import CERTAINTY_NOTE, build_brief
from adoption.figures.ipma import ipma_figure, ipma_png, ipma_svg
from adoption.report.brief_page import IMPORTANCE, brief_page
from ui import figure, plain, run_or_stop, slug

run = run_or_stop()
stamp = dt.datetime.fromtimestamp(run.mtime, dt.timezone.utc)
when = f"{stamp.day} {stamp:%B %Y}"
brief = build_brief(run.results, run.labels, when)


def bullets(sentences) -> None:
    st.markdown("\n".join(f"- {plain(s)}" for s in sentences))


st.title(plain(f"Brief: {run.title}"))
st.caption("Written from this run's results for readers who did not run the analysis.")

st.header("What we found")
bullets(brief.findings)

if brief.certainty:
    st.header("How sure we are")
    st.caption(plain(CERTAINTY_NOTE))
    bullets(brief.certainty)

if not brief.ipma.empty:
    st.header("Where to act")
    bullets(brief.act)
    target = brief.outcome or ""
    figure(ipma_figure(brief.ipma, target, IMPORTANCE), "brief_ipma",
           lambda: ipma_png(brief.ipma, target, importance=IMPORTANCE),
           lambda: ipma_svg(brief.ipma, target, importance=IMPORTANCE),
           title=f"Importance and performance of the factors for {brief.outcome_label}",
           note="Importance: how closely a factor goes together with the outcome "
                "(standardised total effect). Performance: the mean of its questions on a "
                "0-100 scale; the axis spans only the factors' range, so small differences look "
                "large. Orange: above-average importance, below-average performance.",
           key="brief-ipma")

if brief.groups:
    st.header("Groups")
    bullets(brief.groups)

st.header("Who was asked")
bullets(brief.sample)

st.header("What this does not show")
bullets(brief.limits)

st.header("Downloads")
with st.container(horizontal=True, gap="small"):
    st.download_button("Brief (PDF)", lambda: brief_page(brief, "pdf"), "brief.pdf",
                       "application/pdf", key="dl-brief-pdf", on_click="ignore",
                       icon=":material/download:")
    st.download_button("Brief (PNG)", lambda: brief_page(brief, "png"), "brief.png",
                       "image/png", key="dl-brief-png", on_click="ignore", icon=":material/download:")
    for offer in D.reports(run.path):
        kind = "HTML" if offer.name.endswith(".html") else "Word"
        st.download_button(f"Report ({kind})", (run.path / offer.name).read_bytes(), offer.name,
                           offer.mime, key=f"dl-{slug(offer.name)}", on_click="ignore",
                           icon=":material/download:")
figs = D.figures(run.path)
if figs:
    with st.expander(f"Figures ({len(figs)})"):
        for stem, offers in figs.items():
            with st.container(horizontal=True, gap="small"):
                st.markdown(plain(stem))
                for o in offers:
                    st.download_button(o.name.rsplit(".", 1)[1].upper(),
                                       lambda o=o: (run.path / o.name).read_bytes(),
                                       o.name.split("/")[-1], o.mime, key=f"dl-{slug(o.name)}",
                                       on_click="ignore")
tabs = D.tables(run.path)
if tabs:
    with st.expander(f"Tables ({len(tabs)}, CSV)"):
        for o in tabs:
            st.download_button(o.name.split("/")[-1], lambda o=o: D.table_csv(run.path / o.name),
                               o.name.split("/")[-1], o.mime, key=f"dl-{slug(o.name)}",
                               on_click="ignore")
