"""The dashboard's Brief page (dashboard/views/brief.py), first in the navigation, and
its downloads (dashboard/downloads.py). Runs: tests/test_dashboard.py's ``runs``
(copies of the shared example run)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")

from test_dashboard import app, plotly_charts, runs, texts  # noqa: E402,F401  (the shared runs)

REPO = Path(__file__).resolve().parent.parent
HEADERS = ["What we found", "How sure we are", "Where to act", "Groups", "Who was asked",
           "What this does not show", "Downloads"]


def test_brief_is_the_first_page_with_its_parts(runs, monkeypatch):
    at = app(runs, monkeypatch, "example", page="brief")       # no page switch: the default
    assert at.title[0].value.startswith("Brief")
    assert [h.value for h in at.header] == HEADERS
    text = texts(at)
    assert "respondents chose" in text and "plausible range" in text
    assert "No path differed clearly between" in text
    assert "responses were analysed" in text and "not what would happen" in text
    assert "p <" not in text and "p =" not in text
    charts = plotly_charts(at)
    assert len(charts) == 1 and "standardised total effect" in str(charts[0]["layout"]["xaxis"])
    assert any(t.get("name") == "where to act" for t in charts[0]["data"])
    labels = [b.label for b in at.get("download_button")]
    for want in ("Brief (PDF)", "Brief (PNG)", "Report (HTML)", "Report (Word)", "PNG", "SVG",
                 "hypotheses.csv", "items.csv"):
        assert want in labels, want
    # no respondent-level file is offered
    assert not [x for x in labels if x.startswith(("responses", "exclusions", "log"))]


def test_brief_without_a_structural_model(runs, monkeypatch):
    at = app(runs, monkeypatch, "bare", page="brief")
    heads = [h.value for h in at.header]
    assert "Where to act" not in heads and "How sure we are" not in heads
    assert "not computed in this run" in texts(at)
    assert not plotly_charts(at)


def test_brief_hides_a_small_group(runs, monkeypatch):
    at = app(runs, monkeypatch, "small", page="brief")
    gender = next(line for line in texts(at).splitlines() if line.startswith("- Gender:"))
    assert "fewer than 5" in gender and "Non-binary" not in gender


def test_table_downloads_are_formula_safe(tmp_path):
    if str(REPO / "dashboard") not in sys.path:
        sys.path.insert(0, str(REPO / "dashboard"))
    from downloads import table_csv

    f = tmp_path / "t.csv"
    pd.DataFrame({"label": ["=HYPERLINK(\"http://x\")", "+1+2", "@SUM(A1)", "-3", "plain"],
                  "est": ["0.5", "-0.25", "1e-3", "2", "3"]}).to_csv(f, index=False)
    rows = table_csv(f).decode("utf-8-sig").splitlines()
    assert rows[1].startswith("\"'=HYPERLINK") and rows[2].startswith("'+1+2")
    assert rows[3].startswith("'@SUM") and rows[4] == "-3,2"            # a number stays a number
    assert rows[1].endswith(",0.5") and rows[2].endswith(",-0.25")      # text of numbers unchanged
