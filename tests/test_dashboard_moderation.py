"""The Effects page's moderation section (issue 14): for a composite model with an
interaction term, the sentence, the interaction plot and the Johnson-Neyman plot, read from
results.json only. The run directory is a minimal one whose ``structural.composite.
moderation`` is a real fit (simulated data with a true interaction, make_moderation.R)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from adoption.jsonable import to_jsonable  # noqa: E402
from adoption.report.moderation_text import moderation_sentence  # noqa: E402
from adoption.structural.moderated import composite_design, fit_moderation  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures" / "moderation"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    sim = pd.read_csv(FIX / "simulated.csv")
    mod = json.loads(json.dumps(to_jsonable(
        fit_moderation(composite_design("Y ~ X + W + X:W", sim, sim), B=0).to_dict())))
    results = {"title": "Moderation run", "sample": {"rows_analysed": len(sim)},
               "constructs": {"X": {"label": "Comfort"}, "Y": {"label": "Willingness"},
                              "W": {"label": "AI habit"}},
               "structural": {"composite": {"estimator": "ML", "nobs": len(sim),
                                            "estimates": [], "indirect": [], "total": [],
                                            "moderation": mod}}}
    base = tmp_path_factory.mktemp("dash_mod")
    (base / "reports" / "mod").mkdir(parents=True)
    (base / "reports" / "mod" / "results.json").write_text(json.dumps(results))
    return base / "reports", mod


def test_effects_page_shows_the_moderation(root, monkeypatch):
    path, mod = root
    monkeypatch.setenv("ADOPTION_DASHBOARD_ROOT", str(path))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.query_params["run"] = "mod"
    at.run()
    at.switch_page("views/effects.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Moderation" in [h.value for h in at.header]
    text = re.sub(r"\\(.)", r"\1", "\n".join(str(m.value) for m in at.markdown))
    labels = {"X": "Comfort", "Y": "Willingness", "W": "AI habit"}
    assert moderation_sentence(mod["interactions"][0], mod["slopes"], labels) in text
    charts = [json.loads(e.proto.spec) for e in at.get("plotly_chart")]
    assert len(charts) == 2
    inter, jn = charts
    assert [t["name"] for t in inter["data"]][0].startswith("W -1 SD")
    predicted = [r["predicted"] for r in mod["lines"] if r["at"] == "-1 SD"]
    assert inter["data"][0]["y"] == pytest.approx(predicted, rel=1e-12)
    assert [t["name"] for t in jn["data"]] == ["95% CI", "slope"]
    assert len(jn["data"][1]["x"]) == len(mod["curves"])
    labels = [e.label for e in at.get("download_button")]
    assert labels.count("PNG") == 2 and labels.count("SVG") == 2


def test_effects_page_shows_the_moderation_tables(root, monkeypatch):
    """The interaction, simple-slope and conditional-effect tables the report has, on the
    dashboard too (each with its CSV download)."""
    path, mod = root
    monkeypatch.setenv("ADOPTION_DASHBOARD_ROOT", str(path))
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.query_params["run"] = "mod"
    at.run()
    at.switch_page("views/effects.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [e.value for e in at.dataframe]
    shown = [getattr(f, "data", f) for f in shown]   # a Styler carries its frame as .data
    assert len(shown) >= 2
    assert any(len(f) == len(mod["slopes"]) for f in shown)
    text = "\n".join(str(m.value) for m in at.markdown)
    assert "Simple slopes" in text or "simple slopes" in text.lower()
