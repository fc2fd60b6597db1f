"""The dashboard's Groups page (dashboard/views/groups.py), rendered with AppTest.

Runs: the example run (tests/conftest.py's ``example_run``) as written, and copies of it
with a gender group of 3 respondents (below ``privacy.small_cell`` = 5), with a path
whose equality test across groups has p < .05, and without ``groups``.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from partial_scalar import partial_scalar_results  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "dashboard" / "app.py"
TIMEOUT = 120


def _write(src: Path, dst: Path, change) -> None:
    shutil.copytree(src, dst)
    p = dst / "results.json"
    r = json.loads(p.read_text(encoding="utf-8"))
    r = change(copy.deepcopy(r))
    p.write_text(json.dumps(r), encoding="utf-8")


def _small(r: dict) -> dict:
    g = r["groups"]["gender"]
    s = g["sizes"][2]
    s["n"], s["included"] = 3, False
    g["excluded_groups"] = [{"value": s["value"], "label": s["label"], "n": 3, "analysis": "all",
                             "reason": "fewer than 30 respondents (min_group_size)"}]
    g["paths"] = [p for p in g["paths"] if str(p["group"]) != str(s["value"])]
    g["warnings"] = [f"Gender = {s['label']} (3 respondents) is left out: fewer than "
                     "min_group_size = 30."]
    r["title"] = "small"
    return r


def _differ(r: dict) -> dict:
    r["groups"]["gender"]["path_differences"]["paths"][0]["pvalue"] = 0.012
    r["title"] = "differ"
    return r


def _partial(r: dict) -> dict:
    r["groups"] = {"grp": partial_scalar_results()}
    r["title"] = "partial"
    return r


def _none(r: dict) -> dict:
    r.pop("groups", None)
    r["title"] = "nogroups"
    return r


@pytest.fixture(scope="module")
def root(example_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("dash-groups")
    src = example_run.out_dir
    shutil.copytree(src, root / "example")
    _write(src, root / "small", _small)
    _write(src, root / "differ", _differ)
    _write(src, root / "nogroups", _none)
    _write(src, root / "partial", _partial)
    return root


@pytest.fixture(scope="module")
def results(example_run):
    return json.loads((example_run.out_dir / "results.json").read_text(encoding="utf-8"))


def page(root: Path, monkeypatch, run: str) -> AppTest:
    monkeypatch.setenv("ADOPTION_DASHBOARD_ROOT", str(root))
    if str(REPO / "dashboard") not in sys.path:
        sys.path.insert(0, str(REPO / "dashboard"))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["run"] = run
    at.run()
    at.switch_page("views/groups.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """The page's text as the reader sees it (markdown's backslash escapes removed)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


#: A column that only the table of that kind has.
KINDS = {"sizes": "Status", "invariance": "Supported", "paths": "p (equal)"}


def frame(at: AppTest, kind: str):
    """The shown table of one kind (sizes, invariance, paths), as text."""
    for e in at.dataframe:
        df = getattr(e.value, "data", e.value)
        if KINDS[kind] in df.columns:
            return df
    raise AssertionError(f"no {kind} table on the page")


def num(text: str) -> float:
    t = str(text).replace("−", "-").strip().rstrip("*").strip()
    if t.startswith("-."):
        t = "-0" + t[1:]
    elif t.startswith("."):
        t = "0" + t
    return float(t.replace(",", ""))


def test_page_shows_the_example_runs_numbers(root, monkeypatch, results):
    at = page(root, monkeypatch, "example")
    g = results["groups"]["gender"]
    text = texts(at)
    assert "measurement invariance" in text
    metrics = {m.label: str(m.value) for m in at.metric}
    assert metrics["Highest invariance level"] == g["highest_level"]
    inv = frame(at, "invariance")
    assert len(inv) == len(g["invariance"])
    for (_, row), e in zip(inv.iterrows(), g["invariance"]):
        # shown to two (χ²) and three (indices) decimals: half a unit in the last digit
        np.testing.assert_allclose(num(row["χ²"]), e["fit"]["chisq"], atol=0.005 + 1e-9)
        np.testing.assert_allclose(num(row["CFI"]), e["fit"]["cfi"], atol=0.0005 + 1e-9)
        assert row["Supported"].startswith("Yes" if e["supported"] else "No")
    paths = frame(at, "paths")
    assert len(paths) == len(g["path_differences"]["paths"])
    o = g["path_differences"]["omnibus"]
    assert f"Δχ²({int(o['df.diff'])})" in text
    # one diagram per group, two to a row
    groups = list(dict.fromkeys(p["group.label"] for p in g["paths"]))
    shown = [re.sub(r"\\(.)", r"\1", str(m.value)) for m in at.markdown]   # as the reader sees it
    assert [v for v in shown if v.strip("*") in groups] == [f"**{x}**" for x in groups]
    sizes = frame(at, "sizes")
    assert list(sizes["n"]) == [f"{s['n']:,}" for s in g["sizes"]]


def test_failed_level_and_its_partial_model(root, monkeypatch):
    """Scalar fails on the partial-scalar data: the full scalar model is shown with its
    verdict, then the partial model with the released intercept."""
    at = page(root, monkeypatch, "partial")
    inv = frame(at, "invariance")
    assert list(inv["Model"]) == ["Configural", "Metric (loadings)", "Scalar (+ intercepts)",
                                  "Partial scalar", "Strict (+ residuals)"]
    assert list(inv["Supported"]) == ["Yes", "Yes", "No", "Yes (partial)", "Yes"]
    assert list(inv["Released"]) == ["–", "–", "–", "x3 ~1", "x3 ~1"]
    assert "TLI" in inv.columns and "RMSEA [90% CI]" in inv.columns
    assert "Highest level of invariance supported: partial strict" in texts(at)


def test_other_grouping_column(root, monkeypatch, results):
    at = page(root, monkeypatch, "example")
    at.segmented_control(key="groups-column").set_value("year_level").run()
    assert not at.exception
    inv = frame(at, "invariance")
    assert len(inv) == len(results["groups"]["year_level"]["invariance"])


def test_small_group_shows_fewer_than_5(root, monkeypatch):
    at = page(root, monkeypatch, "small")
    sizes = frame(at, "sizes")
    small = sizes[sizes["Group"] == "Non-binary or prefer not to say"].iloc[0]
    assert small["n"] == "fewer than 5"
    assert small["Status"] == "Left out of all comparisons"
    assert sizes[sizes["Group"] == "Male"].iloc[0]["n"] == "suppressed"   # complementary
    text = texts(at)
    assert "3 respondents" not in text and "(3 " not in text
    assert "Left out of the comparisons: Non-binary or prefer not to say" in text


def test_differing_path_is_highlighted(root, monkeypatch):
    at = page(root, monkeypatch, "differ")
    metrics = {m.label: str(m.value) for m in at.metric}
    assert metrics["Paths that differ (p < .05)"].startswith("1 of")
    assert "Orange, thicker arrows" in texts(at)
    assert "**Path coefficients by Gender**" in texts(at)
    shown = frame(at, "paths")
    assert shown.iloc[0]["p (equal)"] == ".012"


def test_no_groups(root, monkeypatch):
    at = page(root, monkeypatch, "nogroups")
    assert "Group comparisons: not computed in this run" in texts(at)
