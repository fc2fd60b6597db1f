"""The dashboard (dashboard/): every page rendered with Streamlit's AppTest, the privacy
rules (no respondent rows; groups below the small-cell threshold show "fewer than k"),
the path guard of the run selector, and the launch command.

The run is the example survey (tests/conftest.py's ``example_run``). While the pipeline
does not yet write ``results["structural"]`` and ``results["hypotheses"]``, a second run
gets a synthetic structural section shaped as the schema says (numbers near the example's
population values), so the Model and Effects pages are tested on the shape they will read.
"""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "dashboard" / "app.py"
PAGES = ["brief", "overview", "measurement", "model", "effects", "responses", "groups", "pls"]
TIMEOUT = 60


# --------------------------------------------------------------------------- fixtures
_PATHS = [("COM", "EMP", .35), ("COM", "PRV", .25), ("COM", "ACC", .20),
          ("TRU", "EMP", .25), ("TRU", "PRV", .30), ("TRU", "COM", .25),
          ("WIL", "HAB", .38), ("WIL", "COM", .24), ("WIL", "EB", .17), ("WIL", "FC", .13),
          ("WIL", "PU", .10), ("WIL", "TRU", .03), ("WIL", "STG", -.09)]


def _p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def synthetic_structural(results: dict) -> dict:
    """``results`` with ``structural``, ``hypotheses``, ``constructs`` and ``privacy`` added."""
    out = copy.deepcopy(results)
    n = (out.get("sample") or {}).get("rows_analysed") or 500
    if not out.get("constructs"):
        out["constructs"] = {c: {"label": c, "items": [r["item"] for r in rel.get("items", [])]}
                             for c, rel in (out.get("reliability") or {}).items()}
    out.setdefault("privacy", {"small_cell": 5})

    def form(scale: float, latent: bool) -> dict:
        est = []
        for lhs, rhs, beta in _PATHS:
            beta *= scale
            se = 0.045
            b = 0.9 * beta
            est.append({"lhs": lhs, "op": "~", "rhs": rhs, "label": "", "est": b, "se": se,
                        "z": b / se, "pvalue": _p(b / se), "ci.lower": b - 1.96 * se,
                        "ci.upper": b + 1.96 * se, "std.all": beta})
        if latent:
            for c, info in out["constructs"].items():
                for it in info["items"]:
                    est.append({"lhs": c, "op": "=~", "rhs": it, "label": "", "est": 1.0,
                                "se": 0.06, "z": 12.0, "pvalue": 1e-30, "ci.lower": 0.9,
                                "ci.upper": 1.1, "std.all": 0.75})
        coef = {(r["lhs"], r["rhs"]): r for r in est if r["op"] == "~"}

        def effect(path):
            b = s = 1.0
            for x, y in zip(path, path[1:]):
                b *= coef[(y, x)]["est"]
                s *= coef[(y, x)]["std.all"]
            se = abs(b) * 0.35 + 0.004
            return {"name": "_".join(path), "path": list(path), "est": b, "se": se, "z": b / se,
                    "pvalue": _p(b / se), "ci.lower": b - 1.96 * se, "ci.upper": b + 1.96 * se,
                    "ci_method": "percentile bootstrap", "std.all": s, "bca.lower": b - 1.9 * se,
                    "bca.upper": b + 2.0 * se, "boot.se": se, "std.all.ci.lower": s - 1.96 * se,
                    "std.all.ci.upper": s + 1.96 * se}

        indirect = [effect(p) for p in (("EMP", "COM", "WIL"), ("PRV", "COM", "WIL"),
                                        ("ACC", "COM", "WIL"), ("EMP", "TRU", "WIL"),
                                        ("PRV", "TRU", "WIL"), ("COM", "TRU", "WIL"),
                                        ("EMP", "COM", "TRU", "WIL"))]
        return {
            "estimator": "ML", "missing": "fiml", "nobs": n, "converged": True,
            "syntax": "COM ~ EMP + PRV + ACC\nTRU ~ EMP + PRV + COM\n"
                      "WIL ~ HAB + COM + EB + FC + PU + TRU + STG",
            "fit": {"npar": 40, "chisq": 25.3, "df": 17, "pvalue": 0.088, "cfi": 0.985,
                    "tli": 0.93, "rmsea": 0.071, "rmsea.ci.lower": 0.0, "rmsea.ci.upper": 0.09,
                    "srmr": 0.041, "aic": 12345.6, "bic": 12500.1},
            "estimates": est, "r2": {"COM": 0.21, "TRU": 0.28, "WIL": 0.39},
            "direct": [effect((r["rhs"], r["lhs"])) for r in est if r["op"] == "~"],
            "indirect": indirect, "total_indirect": indirect[:1],
            "total": [dict(effect(("EMP", "COM")), name="EMP_COM_total"),
                      dict(effect(("COM", "WIL")), name="COM_WIL_total")],
            "modification_indices": [{"lhs": "WIL", "op": "~", "rhs": "EMP", "mi": 7.2,
                                      "epc": 0.1, "sepc.all": 0.09}],
            "alternatives": [{"name": "no_stigma", "syntax": "...",
                              "fit": {"chisq": 29.1, "df": 18, "cfi": 0.98},
                              "comparison": {"chisq.diff": 3.8, "df.diff": 1, "pvalue": 0.051}}],
            "bootstrap": {"B": 200, "seed": 1, "failed": 0, "method": "percentile",
                          "seconds": 1.2},
            "warnings": [],
        }

    out["structural"] = {"composite": form(1.0, False), "latent": form(1.1, True)}
    comp = {(r["lhs"], r["rhs"]): r for r in out["structural"]["composite"]["estimates"]}
    lat = {(r["lhs"], r["rhs"]): r for r in out["structural"]["latent"]["estimates"]}
    out["hypotheses"] = []
    for i, (lhs, rhs, beta) in enumerate(_PATHS, 1):
        c, la = comp[(lhs, rhs)], lat[(lhs, rhs)]
        sign = "-" if beta < 0 else "+"
        out["hypotheses"].append({
            "id": f"H{i}", "lhs": lhs, "rhs": rhs, "path": f"{rhs} -> {lhs}",
            "expected_sign": sign, "est": c["est"], "se": c["se"], "std.all": c["std.all"],
            "pvalue": c["pvalue"], "ci.lower": c["ci.lower"], "ci.upper": c["ci.upper"],
            "supported": bool(c["pvalue"] < .05 and (c["est"] > 0) == (sign == "+")),
            "latent.std.all": la["std.all"], "latent.pvalue": la["pvalue"],
            "latent.supported": bool(la["pvalue"] < .05), "note": ""})
    return out


def _copy_run(src: Path, dst: Path, title: str, change=None) -> Path:
    shutil.copytree(src, dst)
    p = dst / "results.json"
    r = json.loads(p.read_text(encoding="utf-8"))
    r["title"] = title
    if change is not None:
        r = change(r)
    p.write_text(json.dumps(r), encoding="utf-8")
    return dst


@pytest.fixture(scope="session")
def runs(example_run, tmp_path_factory):
    """A root with four runs: 'example' (the run as the pipeline wrote it),
    'structural' (with a structural section: the pipeline's own if it wrote one),
    'bare' (no structural section) and 'small' (a group of 3 respondents, in a per-group
    table as a run wrote it before the small-cell marks: the dashboard applies the rule);
    and a run 'outside' next to the root that must never be opened."""
    base = tmp_path_factory.mktemp("dashboard")
    root = base / "reports"
    root.mkdir()
    src = Path(example_run.out_dir)
    _copy_run(src, root / "example", "Example as written")
    has = "structural" in example_run.results and example_run.results.get("structural")
    _copy_run(src, root / "structural", "Example with a structural model",
              None if has else synthetic_structural)
    def three_left(r):
        for d in r["descriptives"]["demographics"]:
            if d["variable"] == "gender" and str(d["value"]) in ("3", "3.0"):
                moved, d["count"] = d["count"] - 3, 3
        gender = [d for d in r["descriptives"]["demographics"] if d["variable"] == "gender"]
        for d in gender:
            if str(d["value"]) in ("2", "2.0"):
                d["count"] += moved
        total = sum(d["count"] for d in gender)
        for d in gender:
            d["share"] = d["count"] / total
        return r
    small = _copy_run(src, root / "small", "Example with a small group", three_left)
    table = small / "tables" / "distribution_by_group.csv"
    by = pd.read_csv(table, dtype={"group_value": str}).drop(columns="suppressed", errors="ignore")
    gender = by["group_column"] == "gender"
    moved = by.loc[gender & (by["group_value"] == "3"), "n_group"].iloc[0] - 3
    by.loc[gender & (by["group_value"] == "3"), "n_group"] = 3      # 3 respondents left
    by.loc[gender & (by["group_value"] == "2"), "n_group"] += moved
    by.to_csv(table, index=False)
    def bare(r):
        for k in ("structural", "hypotheses"):
            r.pop(k, None)
        return r
    _copy_run(src, root / "bare", "Example without a structural model", bare)
    _copy_run(src, base / "outside", "SECRET outside run")
    return root


def app(root: Path, monkeypatch, run: str | None = None, page: str = "overview") -> AppTest:
    monkeypatch.setenv("ADOPTION_DASHBOARD_ROOT", str(root))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if run is not None:
        at.query_params["run"] = run
    at.run()
    if page != "brief":                 # the Brief is the first page
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """The page's text as the reader sees it (markdown's backslash escapes removed)."""
    parts = []
    for kind in ("title", "header", "markdown", "caption", "info", "warning", "error"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


def plotly_charts(at: AppTest) -> list[dict]:
    """The plotly figures on the page, as JSON."""
    out = []
    for e in at.get("plotly_chart"):
        out.append(json.loads(e.proto.spec))
    return out


def tables(at: AppTest) -> list[pd.DataFrame]:
    return [e.value for e in at.dataframe]


# --------------------------------------------------------------------------- pages
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_every_run(runs, monkeypatch, page):
    for run in ("example", "structural", "bare", "small"):
        at = app(runs, monkeypatch, run, page)
        assert at.title, f"{page} on {run} has no title"


def test_overview(runs, example_run, monkeypatch):
    at = app(runs, monkeypatch, "structural")
    text = texts(at)
    assert "Example with a structural model" in text
    assert "Key findings" in text and "analysed after the quality checks" in text
    flow = example_run.cleaned.flow   # the example's flow (README: 601 in, 55 out, 546)
    shown = [str(flow.rows_in), str(flow.rows_in - flow.rows_analysed), str(flow.rows_analysed)]
    assert [m.value for m in at.metric][:3] == shown or len(at.metric) == 3
    # the fit at a glance: every index judged, with the colour of its verdict
    assert ":green[● good]" in text
    assert "Fit at a glance" in text
    flow = tables(at)[0]
    assert flow.iloc[0, 0] == "Rows received" and flow.iloc[-1, 0] == "Rows analysed"
    assert any(e.label.startswith("CSV") for e in at.get("download_button"))


def test_pages_say_what_is_not_in_the_run(runs, monkeypatch):
    at = app(runs, monkeypatch, "bare")
    assert "Structural model: not computed in this run." in texts(at)
    for page in ("model", "effects"):
        at = app(runs, monkeypatch, "bare", page)
        assert "not computed in this run" in texts(at)
        assert not plotly_charts(at)


def test_measurement(runs, monkeypatch):
    at = app(runs, monkeypatch, "structural", "measurement")
    heads = [list(t.columns) for t in tables(at)]
    assert ["Construct", "Items", "α", "95% CI", "ω", "CR", "AVE"] in heads
    assert any(h[:2] == ["Construct", "Item"] and "λ" in h for h in heads)      # loadings
    assert any(h[-1] == "Passes" for h in heads)                              # Fornell-Larcker
    charts = plotly_charts(at)
    assert [c["data"][0]["type"] for c in charts] == ["heatmap"]             # HTMT heat map
    labels = [e.label for e in at.get("download_button")]
    assert "PNG" in labels and "SVG" in labels and "CSV (unrounded)" in labels


def _results(root: Path, run: str) -> dict:
    return json.loads((root / run / "results.json").read_text(encoding="utf-8"))


def test_model_page_toggles(runs, monkeypatch):
    from adoption.format import format_bounded, format_number, stars

    model = _results(runs, "structural")["structural"]["composite"]
    regs = [e for e in model["estimates"] if e["op"] == "~"]
    significant = [e for e in regs if e["pvalue"] < .05]
    hab = next(e for e in regs if (e["lhs"], e["rhs"]) == ("WIL", "HAB"))
    beta_label = format_bounded(hab["std.all"]) + stars(hab["pvalue"])
    b_label = format_number(hab["est"]) + stars(hab["pvalue"])

    at = app(runs, monkeypatch, "structural", "model")
    fig = plotly_charts(at)[0]
    hover = [t for tr in fig["data"] if tr.get("name") == "paths" for t in tr["hovertext"]]
    assert len(hover) == len(regs)
    assert all("b = " in h and "β = " in h and "SE = " in h and "95% CI" in h for h in hover)
    heads = [list(t.columns) for t in tables(at)]
    # the composite model's table carries the bootstrap CI of beta too (issue 17), and the
    # delta-method SE of beta beside beta (issue 18: standardizedSolution()'s se)
    assert ["Path", "b", "SE", "β", "SE of β", "z", "p", "95% CI of b", "95% CI of β"] in heads
    assert any("R²" in h for h in heads)
    assert any(h[0] == "Hypothesis" for h in heads)
    labels = [a["text"] for a in fig["layout"]["annotations"]]
    assert beta_label in labels                                # beta of HAB -> WIL

    at.toggle(key="model-hide").set_value(True).run()
    fig = plotly_charts(at)[0]
    shown = [t for tr in fig["data"] if tr.get("name") == "paths" for t in tr["hovertext"]]
    assert len(shown) == len(significant) < len(regs)

    at.toggle(key="model-std").set_value(False).run()
    labels = [a["text"] for a in plotly_charts(at)[0]["layout"]["annotations"]]
    assert b_label in labels and "Unstandardised" in " ".join(labels)   # b instead of beta

    at.button_group(key="model-form").set_value("latent").run()
    assert not at.exception
    assert "latent-variable" in texts(at)


def test_effects_forest_plots(runs, monkeypatch):
    model = _results(runs, "structural")["structural"]["composite"]
    indirect = [e for e in model["indirect"] if e.get("ci.lower") is not None]
    at = app(runs, monkeypatch, "structural", "effects")
    # the forest plots (a run with an interaction term adds its moderation figures after them)
    charts = [c for c in plotly_charts(at) if c["data"] and "error_x" in c["data"][0]]
    kinds = [k for k in ("indirect", "total_indirect", "total") if model.get(k)]
    assert len(charts) == len(kinds)
    rows = [y for tr in charts[0]["data"] for y in tr["y"]]
    assert "EMP → COM → WIL" in rows and len(rows) == len(indirect)
    err = charts[0]["data"][0]["error_x"]
    assert err["type"] == "data" and not err["symmetric"]
    heads = [list(t.columns) for t in tables(at)]
    # the effects tables, then (a run with an interaction term) the moderation tables
    from adoption.report.moderation import moderation_tables

    assert len(heads) == len(kinds) + len(moderation_tables(model.get("moderation")))
    assert all(h[:6] == ["Path", "b", "SE", "β", "p", "95% CI"] for h in heads[:len(kinds)])
    at.toggle(key="effects-std").set_value(True).run()
    assert "Standardised effect" in json.dumps(plotly_charts(at)[0]["layout"]["xaxis"])


def test_responses_likert(runs, monkeypatch):
    at = app(runs, monkeypatch, "structural", "responses")
    chart = plotly_charts(at)[0]
    assert {tr["type"] for tr in chart["data"]} == {"bar"}
    wide = tables(at)[0]
    assert list(wide.columns[:3]) == ["Item", "Construct", "n"] and len(wide) == 37
    at.selectbox(key="resp-split").set_value("gender").run()
    assert not at.exception
    by = tables(at)[0]
    assert set(by["Gender"]) == {"Male", "Female", "Non-binary or prefer not to say"}
    assert not by.isin(["fewer than 5"]).any().any()           # every group has >= 5 here


def test_reversed_items_shown_as_answered(runs, monkeypatch):
    """STG4 and COM4 are reverse-keyed: the answers table names them "(reversed)"."""
    at = app(runs, monkeypatch, "structural", "responses")
    items = list(tables(at)[0]["Item"])
    assert "STG4 (reversed)" in items and "COM4 (reversed)" in items and "STG1" in items


def test_per_group_answers_are_the_runs_table(runs, monkeypatch, tmp_path):
    """The per-group answers are read from tables/distribution_by_group.csv, never
    recounted from respondent rows: a run without the table has none, and
    responses.parquet is not opened (issue 15)."""
    import shutil
    import sys
    sys.path.insert(0, str(REPO / "dashboard"))
    from rundata import load_run

    def no_parquet(*a, **kw):
        raise AssertionError("responses.parquet read")
    monkeypatch.setattr(pd, "read_parquet", no_parquet)
    shutil.copytree(runs / "example", tmp_path / "nocsv")
    (tmp_path / "nocsv" / "tables" / "distribution_by_group.csv").unlink()
    loaded = {k: load_run(str(p), (p / "results.json").stat().st_mtime)
              for k, p in (("csv", runs / "example"), ("none", tmp_path / "nocsv"))}
    assert loaded["none"].by_group.empty and loaded["none"].by_group_source == ""
    csv = pd.read_csv(runs / "example" / "tables" / "distribution_by_group.csv")
    got = loaded["csv"].by_group
    assert len(got) == len(csv) and (got["suppressed"] == "").all()
    assert got["count"].astype(int).tolist() == csv["count"].tolist()


def test_groups_page_says_what_it_will_show(runs, monkeypatch):
    at = app(runs, monkeypatch, "structural", "groups")
    assert "measurement invariance" in texts(at)


# --------------------------------------------------------------------------- privacy
def test_small_group_shows_fewer_than_5_and_no_numbers(runs, monkeypatch):
    at = app(runs, monkeypatch, "small", "responses")
    at.selectbox(key="resp-split").set_value("gender").run()
    assert not at.exception
    assert "fewer than 5 respondents; not shown" in texts(at)
    by = tables(at)[0]
    small = by[by["Gender"] == "Non-binary or prefer not to say"]
    assert len(small) > 0
    assert (small.iloc[:, 2:] == "fewer than 5").all().all()
    assert len(small) == 4                                  # one row per HAB item
    # secondary suppression: the next smallest group (Male, 223) loses its counts, so the
    # small group cannot be recovered as "everyone minus the other groups"; it stays on
    # the page with its percentages rounded (issue 15: all 223 men had vanished)
    male = by[by["Gender"] == "Male"]
    assert (male[["Group size", "n"]] == "suppressed").all().all()
    shares = male.iloc[:, 4:]
    assert shares.map(lambda v: v.isdigit()).all().all()
    assert (by[by["Gender"] == "Female"]["n"] != "suppressed").all()
    # the chart has bars for the groups shown, none for the small one
    bars = {str(y).rstrip("\u200b") for tr in plotly_charts(at)[0]["data"] for y in tr["y"][1]}
    assert bars == {"Female", "Male"}
    # the demographics table suppresses the small cell as well
    demo = tables(at)[-1]
    assert "fewer than 5" in demo["n"].tolist() and "3" not in demo["n"].tolist()


def test_small_cell_threshold_is_read_from_the_results(runs, monkeypatch, tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    def strict(r):
        r["privacy"] = {"small_cell": 40}               # group 3 of gender has 32
        return r
    _copy_run(runs / "example", root / "strict", "strict", strict)
    # as a run made with small_cell 40 before the tables carried their marks
    table = root / "strict" / "tables" / "distribution_by_group.csv"
    pd.read_csv(table).drop(columns="suppressed").to_csv(table, index=False)
    at = app(root, monkeypatch, "strict", "responses")
    at.selectbox(key="resp-split").set_value("gender").run()
    by = tables(at)[0]
    small = by[by["Gender"] == "Non-binary or prefer not to say"]
    assert (small["n"] == "fewer than 40").all()
    demo = tables(at)[-1]
    assert "fewer than 40" in demo["n"].tolist()


EVIL = "![t](http://evil.example/t.png)"


@pytest.mark.parametrize("page", PAGES)
def test_spec_text_is_shown_as_plain_text(runs, monkeypatch, tmp_path, page):
    """A construct label, the title and a group label holding markdown (an image from
    another host) are shown as the characters they are, never rendered."""
    root = tmp_path / "r"
    root.mkdir()

    def evil(r):
        r["title"] = f"Survey {EVIL}"
        for c in r["constructs"].values():
            c["label"] = f"{c['label']} {EVIL}"
        for comp in (r.get("groups") or {}).values():
            comp["label"] = f"Gender {EVIL}"
            for row in comp.get("sizes") or []:
                row["label"] = f"{row['label']} {EVIL}"
        for w in r["warnings"].values():
            w.append(f"a warning naming {EVIL}")
        return r
    _copy_run(runs / "structural", root / "evil", "evil", evil)
    at = app(root, monkeypatch, "evil", page)
    shown = [str(e.value) for kind in ("title", "header", "subheader", "markdown", "caption",
                                        "info", "warning", "error", "success")
             for e in getattr(at, kind)]
    if page == "overview":
        assert any("evil" in v for v in shown)       # the title and the key findings
    for v in shown:
        # escaped, the image syntax is gone: "\!\[t\]\(http..." has no "![" nor "]("
        assert "![" not in v and "](" not in v, v


def test_page_icon_is_served_locally(runs, monkeypatch):
    """A ":material/...:" page icon makes Streamlit's front end fetch the favicon from
    fonts.gstatic.com on every page; the dashboard sets none (Streamlit's own is local)."""
    import streamlit

    calls = []
    real = streamlit.set_page_config
    monkeypatch.setattr(streamlit, "set_page_config", lambda *a, **kw: (calls.append(kw), real(*a, **kw))[1])
    app(runs, monkeypatch, "example")
    assert calls
    icons = [kw.get("page_icon") for kw in calls]
    assert all(i is None or not str(i).startswith(":material") for i in icons), icons
    # the current page's icon becomes the favicon too: no page has a material icon
    source = (Path(__file__).resolve().parents[1] / "dashboard" / "app.py").read_text()
    assert not re.search(r"icon=\":material/", source)


def test_dashboard_uses_the_runs_small_cell_rule(tmp_path):
    """Group sizes [2, 2, 100, 200] with k = 5: the dashboard hides what adoption.privacy
    hides (it hid {0, 1, 2} while the report hid {0, 1}; issue 15)."""
    import sys
    sys.path.insert(0, str(REPO / "dashboard"))
    from rundata import read_by_group

    from adoption.privacy import suppressed_cells

    sizes = {"a": 2, "b": 2, "c": 100, "d": 200}
    (tmp_path / "tables").mkdir()
    pd.DataFrame({"group_column": "g", "group_value": list(sizes), "group_label": list(sizes),
                  "n_group": list(sizes.values()), "item": "i", "construct": "c", "reversed": False,
                  "value": 1, "label": "x", "count": list(sizes.values()), "share": 1.0}
                 ).to_csv(tmp_path / "tables" / "distribution_by_group.csv", index=False)
    got, _ = read_by_group(tmp_path, 5)
    primary, secondary = suppressed_cells(list(sizes.values()), 5)
    marks = dict(zip(got["group_value"], got["suppressed"]))
    assert {g for g, m in marks.items() if m == "small"} == {list(sizes)[i] for i in primary}
    assert {g for g, m in marks.items() if m == "secondary"} == {list(sizes)[i] for i in secondary}
    assert got.loc[got["suppressed"] != "", "count"].isna().all()


@pytest.mark.parametrize("page", PAGES)
def test_no_respondent_level_rows_on_any_page(runs, monkeypatch, example_run, page):
    n = example_run.results["sample"]["rows_analysed"]
    at = app(runs, monkeypatch, "small", page)
    if page == "responses":
        at.selectbox(key="resp-split").set_value("gender").run()
    for df in tables(at):
        assert "respondent" not in [str(c).lower() for c in df.columns]
        assert len(df) < n
    for chart in plotly_charts(at):
        for tr in chart["data"]:
            assert len(tr.get("x") or []) < n


# --------------------------------------------------------------------------- the run selector
def test_selector_lists_runs_newest_first_and_opens_the_newest(runs, example_run, monkeypatch):
    at = app(runs, monkeypatch)
    box = at.sidebar.selectbox(key="run-select")
    # options are shown as "title · date · N · name"
    assert {o.rsplit(" · ", 1)[-1] for o in box.options} == {"example", "structural", "bare", "small"}
    assert "outside" not in " ".join(box.options) and "SECRET" not in " ".join(box.options)
    assert at.title[0].value.startswith("Example")
    # each entry shows the title, the date and N
    import sys
    sys.path.insert(0, str(REPO / "dashboard"))
    from rundata import list_runs
    infos = list_runs(str(runs))
    assert [i.mtime for i in infos] == sorted((i.mtime for i in infos), reverse=True)
    n = example_run.cleaned.flow.rows_analysed
    assert all(f"N = {n}" in i.caption and "UTC" in i.caption for i in infos)


@pytest.mark.parametrize("bad", ["../outside", "..", "/etc", "../../", "small/../../outside",
                                 "%2e%2e/outside", "example\x00"])
def test_url_cannot_open_a_folder_outside_the_root(runs, monkeypatch, bad):
    at = app(runs, monkeypatch, bad)
    assert "SECRET" not in texts(at)
    assert at.title[0].value.startswith("Example")


def test_resolve_run_guards_the_root(runs, tmp_path):
    import sys
    sys.path.insert(0, str(REPO / "dashboard"))
    from rundata import RunNotFound, resolve_run

    assert resolve_run(runs, "example") == (runs / "example").resolve()
    for bad in ("../outside", str(runs.parent / "outside"), "/etc", "nonexistent", "..",
                "example/../../outside"):
        with pytest.raises(RunNotFound):
            resolve_run(runs, bad)
    link = runs / "link"
    link.symlink_to(runs.parent / "outside")                  # a link that leaves the root
    try:
        with pytest.raises(RunNotFound):
            resolve_run(runs, "link")
        from rundata import list_runs
        list_runs.clear()
        assert "link" not in [i.name for i in list_runs(str(runs))]
    finally:
        link.unlink()
        list_runs.clear()


def test_a_run_directory_as_root_is_listed(runs, monkeypatch):
    at = app(runs / "structural", monkeypatch)
    options = at.sidebar.selectbox(key="run-select").options
    assert len(options) == 1 and options[0].endswith(" · .")
    assert at.title[0].value == "Example with a structural model"


def test_empty_root_says_how_to_make_a_run(tmp_path, monkeypatch):
    at = app(tmp_path, monkeypatch)
    assert "adoption run" in texts(at)


# --------------------------------------------------------------------------- launch
def test_launch_command_binds_loopback_and_passes_the_root(runs):
    from adoption.dashboard_launch import APP as LAUNCH_APP, ENV_ROOT, streamlit_command

    cmd, env = streamlit_command(runs)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert "--server.port" not in cmd
    assert Path(cmd[cmd.index("run") + 1]) == LAUNCH_APP == APP
    assert env[ENV_ROOT] == str(runs.resolve())
    cmd, _ = streamlit_command(runs, "127.0.0.2", 8999)   # off loopback needs --users (test_dashboard_auth)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.2"
    assert cmd[cmd.index("--server.port") + 1] == "8999"


def test_launch_refuses_a_missing_folder(tmp_path):
    from adoption.dashboard_launch import launch
    from adoption.errors import InputError

    with pytest.raises(InputError, match="not a folder"):
        launch(tmp_path / "nope")
    with pytest.raises(InputError, match="--port"):
        launch(tmp_path, port=70000)


def test_nothing_in_the_package_imports_streamlit():
    for p in (REPO / "adoption").rglob("*.py"):
        text = p.read_text(encoding="utf-8")
        assert "import streamlit" not in text and "from streamlit" not in text, p


# --------------------------------------------------------------------------- downloads
def test_static_images_for_every_figure(runs):
    """The PNG and SVG buttons' callables: matplotlib renderers, no browser."""
    import sys
    sys.path.insert(0, str(REPO / "dashboard"))
    from figs import likert_by_group, path_diagram_png, path_diagram_svg
    from rundata import load_run

    from adoption.figures.forest import forest_png, forest_svg
    from adoption.figures.heatmap import htmt_png, htmt_svg
    from adoption.figures.likert import likert_png, likert_svg

    p = runs / "structural"
    run = load_run(str(p), (p / "results.json").stat().st_mtime)
    pngs = [path_diagram_png(run, "composite", True, False), path_diagram_png(run, "latent", False, True),
            forest_png(run.structural["composite"]["indirect"]),
            forest_png(run.structural["composite"]["indirect"], standardized=True),
            htmt_png(run.results["validity"]["htmt"]), likert_png(run.distribution),
            likert_png(likert_by_group(run.by_group[(run.by_group["group_column"] == "gender")
                                                    & (run.by_group["construct"] == "HAB")]))]
    svgs = [path_diagram_svg(run, "composite", True, False),
            forest_svg(run.structural["composite"]["total"]),
            htmt_svg(run.results["validity"]["htmt"]), likert_svg(run.distribution)]
    assert all(b[:8] == b"\x89PNG\r\n\x1a\n" and len(b) > 5000 for b in pngs)
    assert all(b"<svg" in b[:2000] for b in svgs)


def test_csv_download_is_escaped_and_readable():
    import sys
    sys.path.insert(0, str(REPO / "dashboard"))
    from ui import csv_bytes

    data = csv_bytes(pd.DataFrame({"Path": ["=HYPERLINK(1)", "EMP → COM"], "b": ["−0.1", "0.2"]}))
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and "EMP → COM" in text and "−0.1" in text


def test_pls_page(runs, monkeypatch):
    """The PLS page shows the PLS section of the example run, and says so when a run has none."""
    at = app(runs, monkeypatch, "example", "pls")
    text = texts(at)
    for part in ("Measurement model", "Predictive power (PLSpredict)", "CB-SEM and PLS-SEM compared"):
        assert part in text, part
    assert len(plotly_charts(at)) == 2            # PLS path diagram and IPMA
