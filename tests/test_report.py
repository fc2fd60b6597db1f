"""The report: one self-contained HTML file, the Word file and the figures, in APA style.

The measurement part comes from the example run; the structural part is a fixture built
from lavaan's numbers in tests/fixtures/reference/paperlike_survey.json (composite path
model: ML estimates and fit, bootstrap indirect intervals with B = 2000; latent SEM: ML),
in the schema the structural stage writes (results["structural"]["composite"|"latent"],
results["hypotheses"]).

Numbers are compared with the results they were formatted from, with a tolerance of half
a unit in the last shown digit (the report rounds; the results keep every digit).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from adoption.format import (
    format_bounded,
    format_int,
    format_number,
    format_p,
    format_p_value,
    format_percent,
    stars,
)
from adoption.report import build_report, write_report
from adoption.report.summary_text import (
    CAUSAL_WORDS,
    causal_words_in,
    fit_verdict,
    plain_summary,
    ranked_paths,
)

REFERENCE = Path(__file__).resolve().parent / "fixtures" / "reference" / "paperlike_survey.json"
LABELS = {"HAB": "Habit", "PU": "Perceived usefulness", "FC": "Facilitating conditions",
          "EB": "Emotional benefit", "EMP": "Perceived empathy of the AI",
          "PRV": "Privacy assurance", "ACC": "Accessibility", "STG": "Stigma",
          "COM": "Comfort", "TRU": "Trust", "WIL": "Willingness to use AI"}
HYPOTHESES = [("H1", "EMP", "COM", "+"), ("H2", "PRV", "COM", "+"), ("H3", "ACC", "COM", "+"),
              ("H4", "EMP", "TRU", "+"), ("H5", "PRV", "TRU", "+"), ("H6", "COM", "TRU", "+"),
              ("H7", "HAB", "WIL", "+"), ("H8", "COM", "WIL", "+"), ("H9", "EB", "WIL", "+"),
              ("H10", "FC", "WIL", "+"), ("H11", "PU", "WIL", "+"), ("H12", "TRU", "WIL", "+"),
              ("H13", "STG", "WIL", "-")]


# --------------------------------------------------------------------------- fixture
def _model_from_reference(block: dict, *, indirect_boot: list | None = None, B: int | None = None) -> dict:
    """One structural model in the stage's schema, from a lavaan reference block."""
    ml = block["ML"]
    keep = ("lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all")
    est = [{k: r.get(k, "" if k == "label" else None) for k in keep}
           for r in ml["estimates"] if r["op"] in ("=~", "~", "~~")]
    r2 = {r["lhs"]: r["est"] for r in ml["estimates"] if r["op"] == "r2"}
    if not r2:   # lavaan's r2 = 1 - standardised residual variance of each outcome
        outcomes = {r["lhs"] for r in est if r["op"] == "~"}
        r2 = {r["lhs"]: 1 - r["std.all"] for r in est
              if r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] in outcomes}
    boot = {r["lhs"]: r for r in indirect_boot or []}
    indirect = []
    for r in ml["estimates"]:
        if r["op"] != ":=":
            continue
        path = r["lhs"].split("_")[1:]
        row = {"name": r["lhs"], "path": path, "est": r["est"], "se": r["se"], "z": r["z"],
               "pvalue": r["pvalue"], "ci.lower": r["ci.lower"], "ci.upper": r["ci.upper"],
               "ci_method": "delta", "std.all": r["std.all"]}
        if r["lhs"] in boot:
            b = boot[r["lhs"]]
            scale = r["std.all"] / r["est"]     # the standardised interval, as the stage writes it
            row.update({"ci.lower": b["ci.lower"], "ci.upper": b["ci.upper"],
                        "ci_method": "bootstrap percentile", "bca.lower": b["bca.lower"],
                        "bca.upper": b["bca.upper"], "boot.se": b["se"],
                        "std.all.ci.lower": b["ci.lower"] * scale,
                        "std.all.ci.upper": b["ci.upper"] * scale})
        indirect.append(row)
    direct = {(r["rhs"], r["lhs"]): r for r in est if r["op"] == "~"}
    total = []
    for (x, y), d in direct.items():
        ind = [i for i in indirect if i["path"][0] == x and i["path"][-1] == y]
        if ind:
            total.append({"name": f"total_{x}_{y}", "path": [x, y],
                          "est": d["est"] + sum(i["est"] for i in ind), "se": None, "z": None,
                          "pvalue": None, "ci.lower": None, "ci.upper": None, "ci_method": "delta",
                          "std.all": d["std.all"] + sum(i["std.all"] for i in ind)})
    fit = dict(ml["fit"])
    alt_fit = dict(fit, chisq=fit["chisq"] + 6.3, df=fit["df"] + 1, cfi=fit["cfi"] - 0.009,
                   rmsea=fit["rmsea"] + 0.004, aic=fit["aic"] + 4.3, bic=fit["bic"] + 0.1)
    model = {
        "estimator": ml["estimator"], "missing": "listwise", "nobs": ml["nobs"], "converged": True,
        "syntax": block["model"], "fit": fit, "estimates": est, "r2": r2,
        "indirect": indirect, "total": total,
        "modification_indices": [
            {"lhs": "WIL", "op": "~", "rhs": "EMP", "mi": 14.2, "epc": 0.12, "sepc.all": 0.11},
            {"lhs": "COM", "op": "~", "rhs": "HAB", "mi": 3.1, "epc": 0.05, "sepc.all": 0.05},
            {"lhs": "TRU", "op": "~", "rhs": "ACC", "mi": 7.9, "epc": -0.08, "sepc.all": -0.08}],
        "alternatives": [{"name": "no_stigma", "syntax": "...", "fit": alt_fit, "comparison": {
            "chisq.diff": 6.3, "df.diff": 1, "pvalue": float(stats.chi2.sf(6.3, 1)),
            "cfi.diff": -0.009, "rmsea.diff": 0.004, "aic.diff": 4.3, "bic.diff": 0.1,
            "note": "nested: likelihood-ratio test"}}],
        "bootstrap": {"B": B, "seed": 7, "failed": 0} if B else None,
        "warnings": [],
    }
    return model


def structural_fixture() -> tuple[dict, list]:
    ref = json.loads(REFERENCE.read_text())
    cp = ref["composite_path"]
    composite = _model_from_reference(cp, indirect_boot=cp["bootstrap"]["indirect"],
                                      B=cp["bootstrap"]["B"])
    latent = _model_from_reference(ref["latent_sem"])
    hyps = []
    regs = {(r["rhs"], r["lhs"]): r for r in composite["estimates"] if r["op"] == "~"}
    lregs = {(r["rhs"], r["lhs"]): r for r in latent["estimates"] if r["op"] == "~"}
    for hid, x, y, sign in HYPOTHESES:
        r, lr = regs[(x, y)], lregs[(x, y)]
        ok = r["pvalue"] < 0.05 and (r["est"] > 0) == (sign == "+")
        lok = lr["pvalue"] < 0.05 and (lr["est"] > 0) == (sign == "+")
        hyps.append({"id": hid, "lhs": y, "rhs": x, "path": f"{x} -> {y}", "expected_sign": sign,
                     "est": r["est"], "se": r["se"], "std.all": r["std.all"], "pvalue": r["pvalue"],
                     "ci.lower": r["ci.lower"], "ci.upper": r["ci.upper"], "supported": bool(ok),
                     "latent.std.all": lr["std.all"], "latent.pvalue": lr["pvalue"],
                     "latent.supported": bool(lok), "note": ""})
    return {"composite": composite, "latent": latent}, hyps


@pytest.fixture(scope="module")
def results(example_run):
    res = json.loads((example_run.out_dir / "results.json").read_text())
    res["structural"], res["hypotheses"] = structural_fixture()
    res["constructs"] = dict(LABELS)
    return res


@pytest.fixture(scope="module")
def written(results, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    files = write_report(out, results)
    return out, files


@pytest.fixture(scope="module")
def page(written):
    out, _ = written
    return (out / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def dom(page):
    import lxml.html

    return lxml.html.fromstring(page)


# --------------------------------------------------------------------------- helpers
def table(dom, key: str) -> list[list[str]]:
    """The body rows of table ``tbl-<key>`` as lists of cell texts."""
    t = dom.get_element_by_id(f"tbl-{key}")
    return [[td.text_content().strip() for td in tr.findall("td")] for tr in t.find("tbody").findall("tr")]


def heads(dom, key: str) -> list[str]:
    t = dom.get_element_by_id(f"tbl-{key}")
    return [th.text_content().strip() for th in t.find("thead").iter("th")]


def num(text: str) -> float:
    """A shown number back to a float: true minus, no leading zero, marks and stars dropped."""
    t = text.replace("−", "-").strip().rstrip("*†‡").strip()
    if t.startswith("-."):
        t = "-0" + t[1:]
    elif t.startswith("."):
        t = "0" + t
    return float(t.replace(",", ""))


def ci(text: str) -> tuple[float, float]:
    lo, hi = text.strip("[]").split(", ")
    return num(lo), num(hi)


def close(text: str, value: float, digits: int) -> None:
    # the report rounds to `digits` decimals: half a unit in the last digit, plus float slack
    np.testing.assert_allclose(num(text), value, rtol=0, atol=0.5 * 10 ** -digits + 1e-9)


def p_ok(text: str, p: float) -> None:
    if p < 0.001:
        assert text == "< .001"
    else:
        close(text, p, 3)


# --------------------------------------------------------------------------- formatting
@pytest.mark.parametrize("value, digits, text", [
    (0.384, 2, ".38"), (-0.09, 2, "−.09"), (1.0, 2, "1.00"), (-0.0001, 2, "−.00"),
    (0.0001, 2, ".00"), (None, 2, "–"), (float("nan"), 3, "–")])
def test_format_bounded(value, digits, text):
    assert format_bounded(value, digits) == text


def test_format_helpers():
    assert format_number(-0.0312, 3) == "−0.031"
    # a negative value that rounds to zero keeps its sign (issue 17: "[0.000" lost it)
    assert format_number(-0.0004, 3) == "−0.000" and format_number(0.0004, 3) == "0.000"
    assert format_p_value(0.0004) == "< .001" and format_p_value(0.0123) == ".012"
    assert format_p_value(0.0) == "< .001"
    assert format_p(0.05) == "p = .050" and format_p(1e-9) == "p < .001"
    assert format_int(1204) == "1,204" and format_percent(0.4092) == "40.9"
    assert [stars(p) for p in (0.0001, 0.004, 0.03, 0.2, None)] == ["***", "**", "*", "", ""]


def test_pathdiagram_uses_the_shared_formatting():
    from adoption import format as fmt
    from adoption.figures import pathdiagram

    assert pathdiagram.format_bounded is fmt.format_bounded
    assert pathdiagram.format_p is fmt.format_p and pathdiagram.stars is fmt.stars


# --------------------------------------------------------------------------- self-contained
def _without_scripts(page: str) -> str:
    return re.sub(r"<script\b[^>]*>.*?</script>", "<script></script>", page, flags=re.S | re.I)


def test_html_is_one_file_with_no_external_references(page, dom):
    markup = _without_scripts(page)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", markup, re.I)
    assert not re.search(r"@import", markup, re.I)
    assert not re.search(r"""url\(\s*["']?\s*(?:https?:)?//""", markup, re.I)
    for el in dom.iter():
        for attr in ("src", "href", "data", "srcset", "poster", "action"):
            v = (el.get(attr) or "").strip()
            assert not v or v.startswith(("#", "data:")), (el.tag, attr, v)
    assert not dom.xpath("//link") and not dom.xpath("//iframe")
    # plotly.js inlined exactly once, before the first figure; every figure drawn
    scripts = dom.xpath("//script")
    assert all(s.get("src") is None for s in scripts)
    assert page.count("window.PlotlyConfig") == 1
    assert sum(len(s.text or "") > 1_000_000 for s in scripts) == 1
    for key in ("likert", "path-composite", "path-latent"):
        assert dom.get_element_by_id(f"plot-{key}") is not None


def test_every_section_and_table_is_numbered(dom, written):
    out, _ = written
    h2 = [h.text_content() for h in dom.xpath("//h2")]
    assert h2 == ["1. Summary in plain language", "2. Sample", "3. Items", "4. Measurement model",
                  "5. Structural model", "6. Group comparisons", "7. PLS-SEM",
                  "8. Methods and reproducibility"]
    labels = [p.text_content() for p in dom.xpath("//div[contains(concat(' ', @class, ' '), ' apa-table ')]/p[@class='label']")]
    assert labels == [f"Table {i}" for i in range(1, len(labels) + 1)]
    figs = [p.text_content() for p in dom.xpath("//figure/p[@class='label']")]
    # flow, Likert chart, scree plot, two path diagrams, one diagram per group, then the
    # PLS path diagram and the IPMA (the example run estimates PLS-SEM too)
    assert len(figs) == 7 + len(dom.xpath("//section[@id='sec-groups']//figure"))
    assert figs == [f"Figure {i}" for i in range(1, len(figs) + 1)]


# --------------------------------------------------------------------------- numbers
def test_sample_flow_and_demographics(results, dom):
    s = results["sample"]
    rows = table(dom, "flow")
    assert rows[0][:2] == ["Rows received", format_int(s["rows_in"])]
    assert rows[-1][:2] == ["Rows analysed", format_int(s["rows_analysed"])]
    for row, e in zip(rows[1:-1], s["excluded"]):
        assert row[0] == f"Excluded: {e['reason']}" and num(row[1]) == e["count"]
        close(row[2], 100 * e["count"] / s["rows_in"], 1)
    demo = table(dom, "demographics")
    assert len(demo) == len(results["descriptives"]["demographics"])
    for row, d in zip(demo, results["descriptives"]["demographics"]):
        assert row[1] == d["label"]
        if d["count"] >= 5:
            assert num(row[2]) == d["count"]
            close(row[3], 100 * d["share"], 1)


def test_flow_diagram_is_inline_svg(results, dom):
    fig = dom.get_element_by_id("fig-flow-wrap")
    svg = fig.xpath(".//*[local-name()='svg']")
    assert len(svg) == 1
    from adoption.report.flow import flow_lines

    top, side, bottom = flow_lines(results["sample"])
    assert side[0] == f"Excluded  n = {results['sample']['rows_in'] - results['sample']['rows_analysed']}"
    assert len(side) == 1 + len(results["sample"]["excluded"])


def test_item_table(results, dom):
    rows = {r[0]: r for r in table(dom, "items")}
    for it in results["descriptives"]["items"]:
        # a reverse-keyed item is named "STG4 (reversed)"
        r = rows[it["item"] + (" (reversed)" if it["reversed"] else "")]
        assert num(r[2]) == it["n"]
        close(r[3], it["mean"], 2)
        close(r[4], it["sd"], 2)
        close(r[6], it["skew"], 2)


def test_reliability_table(results, dom):
    assert heads(dom, "reliability") == ["Construct", "Items", "α", "95% CI", "ω", "CR", "AVE"]
    rows = {r[0]: r for r in table(dom, "reliability")}
    assert set(rows) == set(results["reliability"])
    for c, rel in results["reliability"].items():
        r = rows[c]
        close(r[2], rel["alpha"], 2)
        lo, hi = ci(r[3])
        close(r[3].strip("[]").split(", ")[0], rel["alpha_ci_lower"], 2)
        assert lo <= num(r[2]) <= hi
        close(r[4], rel["omega"], 2)
        close(r[5], rel["cr"], 2)
        close(r[6], rel["ave"], 2)
        assert not r[2].startswith("0")        # APA: no leading zero


def test_htmt_table_and_cutoff_marks(results, tmp_path):
    import lxml.html

    res = copy.deepcopy(results)
    h = res["validity"]["htmt"]
    h["WIL"]["HAB"] = h["HAB"]["WIL"] = 0.87      # above .85 only
    h["TRU"]["COM"] = h["COM"]["TRU"] = 0.93      # above .90
    write_report(tmp_path, res)
    d = lxml.html.fromstring((tmp_path / "report.html").read_text(encoding="utf-8"))
    names = heads(d, "htmt")[1:]
    rows = table(d, "htmt")
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            cell = rows[i][j + 1]
            if j >= i:
                assert cell == ""
            else:
                close(cell, h[a][b], 2)
    wil_hab = rows[names.index("WIL")][names.index("HAB") + 1]
    tru_com = rows[names.index("TRU")][names.index("COM") + 1]
    assert wil_hab == ".87†" and tru_com == ".93‡"
    assert sum(c.endswith(("†", "‡")) for r in rows for c in r) == 2
    tbl = d.get_element_by_id("tbl-htmt")
    marks = [td.get("class") for td in tbl.iter("td") if td.text_content().endswith(("†", "‡"))]
    assert sorted(marks) == ["m-acceptable", "m-poor"]


def test_cfa_fit_and_loadings(results, dom):
    f = results["cfa"]["fit"]
    row = table(dom, "cfa-fit")[0]
    close(row[1], f["chisq"], 2)
    assert num(row[2]) == f["df"]
    p_ok(row[3], f["pvalue"])
    close(row[4], f["cfi"], 3)
    close(row[5], f["tli"], 3)
    rmsea, lo, hi = re.match(r"(\S+) \[(\S+), (\S+)\]", row[6]).groups()
    close(rmsea, f["rmsea"], 3)
    close(lo, f["rmsea.ci.lower"], 3)
    close(hi, f["rmsea.ci.upper"], 3)
    close(row[7], f["srmr"], 3)
    loads = [r for r in results["cfa"]["estimates"] if r["op"] == "=~"]
    rows = table(dom, "loadings")
    assert [r[1] for r in rows] == [r["rhs"] for r in loads]
    for r, e in zip(rows, loads):
        close(r[5], e["std.all"], 2)
        close(r[2], e["est"], 2)


def test_common_method_table(results, dom):
    rows = table(dom, "common-method")
    close(rows[0][1].rstrip("%"), 100 * results["common_method"]["harman"]["share"], 1)


def test_structural_fit_and_coefficients(results, dom):
    comp = results["structural"]["composite"]
    fit_rows = table(dom, "structural-fit")
    assert [r[0] for r in fit_rows] == ["Composite path model", "Latent-variable structural model"]
    close(fit_rows[0][1], comp["fit"]["chisq"], 2)
    close(fit_rows[0][4], comp["fit"]["cfi"], 3)
    close(fit_rows[1][1], results["structural"]["latent"]["fit"]["chisq"], 2)
    assert heads(dom, "coefficients-composite") == ["Path", "b", "SE", "β", "z", "p", "95% CI of b"]
    regs = [r for r in comp["estimates"] if r["op"] == "~"]
    rows = table(dom, "coefficients-composite")
    assert len(rows) == len(regs) == 13
    for row, r in zip(rows, regs):
        assert row[0] == f"{r['rhs']} → {r['lhs']}"
        close(row[1], r["est"], 3)
        close(row[2], r["se"], 3)
        close(row[3], r["std.all"], 2)
        assert row[3].endswith(stars(r["pvalue"])) and (stars(r["pvalue"]) or row[3][-1].isdigit())
        p_ok(row[5], r["pvalue"])
        lo, hi = ci(row[6])
        close(f"{lo}", r["ci.lower"], 3)
        close(f"{hi}", r["ci.upper"], 3)
    r2 = {r[0]: r[2] for r in table(dom, "r2-composite")}
    for k, v in comp["r2"].items():
        close(r2[k], v, 2)
    # the latent model's r2 also holds the items': only the structural outcomes are shown
    assert len(results["structural"]["latent"]["r2"]) > 3
    assert sorted(r[0] for r in table(dom, "r2-latent")) == ["COM", "TRU", "WIL"]


def test_indirect_effects_with_bootstrap_intervals(results, dom):
    comp = results["structural"]["composite"]
    h = heads(dom, "indirect-composite")
    assert h == ["Path", "b", "SE", "β", "p", "95% CI", "BCa 95% CI", "95% CI of β", "CI method"]
    rows = table(dom, "indirect-composite")
    assert len(rows) == len(comp["indirect"]) == 9
    for row, r in zip(rows, comp["indirect"]):
        assert row[0] == " → ".join(r["path"])
        close(row[1], r["est"], 3)
        lo, hi = ci(row[5])
        close(str(lo), r["ci.lower"], 3)
        close(str(hi), r["ci.upper"], 3)
        blo, bhi = ci(row[6])
        close(str(blo), r["bca.lower"], 3)
        slo, shi = ci(row[7])
        close(str(shi), r["std.all.ci.upper"], 3)
        assert row[8] == "bootstrap percentile"
    tbl = dom.get_element_by_id("tbl-indirect-composite")
    note = tbl.getparent().getparent().xpath(".//p[@class='note']")[0].text_content()
    assert "2,000 resamples" in note and "seed 7" in note
    # intervals that exclude zero are bold; the three through TRU → WIL include zero
    body = tbl.find("tbody").findall("tr")
    bold = ["m-strong" in (tr.findall("td")[5].get("class") or "") for tr in body]
    assert bold == [r["ci.lower"] > 0 or r["ci.upper"] < 0 for r in comp["indirect"]]
    assert bold == [True] * 6 + [False] * 3


def test_hypotheses_table(results, dom):
    rows = {r[0]: r for r in table(dom, "hypotheses")}
    assert list(rows) == [h["id"] for h in results["hypotheses"]]
    for h in results["hypotheses"]:
        r = rows[h["id"]]
        assert r[1] == f"{h['rhs']} → {h['lhs']}"
        close(r[3], h["std.all"], 2)
        assert r[6] == ("Supported" if h["supported"] else "Not supported")
    # STG -> WIL is negative and significant as H13 expects; TRU -> WIL (p = .08) is not
    assert rows["H13"][6] == "Supported" and rows["H13"][2] == "negative"
    assert rows["H12"][6] == "Not supported"
    assert heads(dom, "hypotheses")[7:] == ["β (latent)", "p (latent)", "Result (latent)"]
    for h in results["hypotheses"]:
        r = rows[h["id"]]
        close(r[7], h["latent.std.all"], 2)
        p_ok(r[8], h["latent.pvalue"])
        assert r[9] == ("Supported" if h["latent.supported"] else "Not supported")


def test_alternatives_and_modification_indices(results, dom):
    rows = table(dom, "alternatives-composite")
    assert rows[0][0].endswith("(hypothesised)") and rows[1][0] == "Without stigma"
    assert heads(dom, "alternatives-composite")[6:9] == ["Δχ²", "Δdf", "p (Δχ²)"]
    close(rows[1][6], 6.3, 2)
    assert rows[1][7] == "1"
    p_ok(rows[1][8], stats.chi2.sf(6.3, 1))
    close(rows[1][9], -0.009, 3)
    mi = table(dom, "mi-composite")
    assert [r[0] for r in mi] == ["WIL ~ EMP", "TRU ~ ACC", "COM ~ HAB"]     # largest first


def test_methods_section(results, dom):
    kv = dict(table(dom, "methods"))
    assert kv["Input SHA-256"] == results["input"]["sha256"]
    assert kv["Bootstrap draws (composite path model)"].startswith("2,000 (seed 7")
    assert kv["Estimator (measurement model)"] == results["options"]["estimator"]
    for p in ("adoption", "semopy", "numpy", "scipy", "pandas"):
        assert kv[f"Version of {p}"] and kv[f"Version of {p}"] != "–"
    spec = dict(table(dom, "spec"))
    assert spec["missing_method"] == results["spec"]["missing_method"]


# --------------------------------------------------------------------------- privacy
def test_small_demographic_cells_are_suppressed(results, tmp_path):
    import lxml.html

    res = copy.deepcopy(results)
    res["descriptives"]["demographics"] = [
        {"variable": "gender", "value": "1", "label": "Male", "count": 223, "share": 223 / 545},
        {"variable": "gender", "value": "2", "label": "Female", "count": 319, "share": 319 / 545},
        {"variable": "gender", "value": "3", "label": "Non-binary", "count": 3, "share": 3 / 545},
        {"variable": "school", "value": "1", "label": "Public", "count": 541, "share": 541 / 545},
        {"variable": "school", "value": "2", "label": "Home", "count": 2, "share": 2 / 545},
        {"variable": "school", "value": "3", "label": "Other", "count": 2, "share": 2 / 545}]
    write_report(tmp_path, res)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    rows = table(lxml.html.fromstring(page), "demographics")
    by = {r[1]: r for r in rows}
    # a small category is never named: its text may be a free-text answer, a name (a
    # run pools them before writing; this is the report's guard for older runs)
    assert [r[1] for r in rows] == ["Male", "Female", "other (suppressed)", "Public",
                                    "other (suppressed)", "other (suppressed)"]
    # the only small cell of gender: the next smallest is suppressed too (no subtraction)
    assert by["Male"][2:] == ["suppressed", "–"]
    assert by["Female"][2] == "319"
    # two cells of 2 hold 4 people together, fewer than 5: the next one is hidden too
    assert [r[2] for r in rows[3:]] == ["suppressed", "fewer than 5", "fewer than 5"]
    assert not any(c in ("3", "2", "0.6", "0.4") for r in rows for c in r[2:])
    # the threshold comes from results["privacy"]["small_cell"]
    res["privacy"] = {"small_cell": 250}
    write_report(tmp_path, res)
    rows = table(lxml.html.fromstring((tmp_path / "report.html").read_text(encoding="utf-8")), "demographics")
    assert rows[0][1:3] == ["other (suppressed)", "fewer than 250"] and "Male" not in [r[1] for r in rows]


# --------------------------------------------------------------------------- optional parts
def test_absent_parts_show_not_computed(results, tmp_path):
    import lxml.html

    res = copy.deepcopy(results)
    for k in ("structural", "hypotheses", "common_method", "cfa"):
        res.pop(k)
    res["structural"] = {"composite": None, "latent": None}
    write_report(tmp_path, res)
    d = lxml.html.fromstring((tmp_path / "report.html").read_text(encoding="utf-8"))
    sec = d.get_element_by_id("sec-structural").text_content()
    assert "not computed in this run" in sec
    assert "not computed in this run" in d.get_element_by_id("sec-measurement").text_content()
    assert not (tmp_path / "figures" / "path_composite.svg").exists()
    # a run with nothing but a title still gives a page and a Word file
    out = tmp_path / "bare"
    files = write_report(out, {"title": "Bare"})
    assert files["report.html"].is_file() and files["report.docx"].is_file()
    assert (out / "report.html").read_text(encoding="utf-8").count("not computed in this run") >= 5


def test_latent_model_only(results, tmp_path):
    res = copy.deepcopy(results)
    res["structural"] = {"latent": res["structural"]["latent"]}
    files = write_report(tmp_path, res)
    assert "figures/path_latent.svg" in files and "figures/path_composite.svg" not in files


# --------------------------------------------------------------------------- word, figures
def test_docx_opens_and_holds_the_same_tables(written, results):
    import docx

    out, _ = written
    doc = docx.Document(str(out / "report.docx"))
    report = build_report(results)
    assert len(doc.tables) == len(report.tables())
    for t, spec in zip(doc.tables, report.tables()):
        assert [c.text for c in t.rows[0].cells] == list(spec.columns)
        assert len(t.rows) == 1 + len(spec.rows)
        assert [c.text for c in t.rows[1].cells] == [str(c) for c in spec.rows[0]]
    hyp = next(t for t, s in zip(doc.tables, report.tables()) if s.key == "hypotheses")
    assert [r.cells[0].text for r in hyp.rows[1:]] == [h["id"] for h in results["hypotheses"]]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Table 1" in text and "Figure 1" in text
    # flow, Likert chart (in parts when long), scree plot, two path diagrams and one
    # diagram per group
    assert len(doc.inline_shapes) == sum(len(f.png_parts) or 1 for f in report.figures())


def test_figures_written(written):
    out, files = written
    for name in ("flow", "likert", "path_composite", "path_latent"):
        svg = (out / "figures" / f"{name}.svg").read_bytes()
        png = (out / "figures" / f"{name}.png").read_bytes()
        assert b"<svg" in svg[:2000] and png[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"figures/{name}.svg" in files
    assert not list(out.glob("tables/*.csv"))       # the pipeline's, not the report's


def test_likert_geometry_centres_the_middle_category(results):
    import pandas as pd

    from adoption.figures.likert import prepare_likert

    dist = pd.DataFrame(results["descriptives"]["distribution"])
    chart = prepare_likert(dist, LABELS)
    assert [c[1] for c in chart.categories] == ["Strongly disagree", "Disagree", "Neutral", "Agree",
                                                "Strongly agree"]
    assert sum(item.endswith(" (reversed)") for _, item in chart.rows) == \
        dist.drop_duplicates("item")["reversed"].sum() == 2        # STG4, COM4
    for (construct, item), segs in zip(chart.rows, chart.segments):
        share = dist[dist["item"] == item.removesuffix(" (reversed)")].set_index("value")["share"]
        neutral = segs[2]
        np.testing.assert_allclose(neutral.left + neutral.width / 2, 0, atol=1e-12)
        np.testing.assert_allclose(segs[0].left, -(share[1] + share[2] + share[3] / 2), atol=1e-12)
        np.testing.assert_allclose(segs[-1].left + segs[-1].width, share[4] + share[5] + share[3] / 2,
                                   atol=1e-12)


# --------------------------------------------------------------------------- summary
def test_summary_has_no_causal_words(results, dom):
    text = " ".join(plain_summary(results, LABELS))
    assert causal_words_in(text) == []
    section = dom.get_element_by_id("sec-summary").text_content()
    assert causal_words_in(section) == []
    assert "is associated with" in text
    for word in ("causes", "leads to", "increases"):
        assert word in CAUSAL_WORDS
    assert causal_words_in("Habit leads to willingness") == ["leads to"]
    assert causal_words_in("Trust increases use; stigma causes doubt") == ["causes", "increases"]


def test_summary_ranks_paths_by_beta_among_significant(results):
    est = results["structural"]["composite"]["estimates"]
    ranked = ranked_paths(est)
    sig = [r for r in est if r["op"] == "~" and r["pvalue"] < 0.05]
    assert [(r["lhs"], r["rhs"]) for r in ranked] == \
        [(r["lhs"], r["rhs"]) for r in sorted(sig, key=lambda r: -abs(r["std.all"]))]
    assert (ranked[0]["lhs"], ranked[0]["rhs"]) == ("WIL", "HAB")
    assert ("WIL", "TRU") not in [(r["lhs"], r["rhs"]) for r in ranked]     # p = .08
    # a large but non-significant beta is not ranked; a negative one ranks by its size
    fake = [{**est[0], "std.all": 0.9, "pvalue": 0.2},
            {**est[1], "std.all": -0.5, "pvalue": 0.001}, {**est[2], "std.all": 0.3, "pvalue": 0.01}]
    assert [r["std.all"] for r in ranked_paths(fake)] == [-0.5, 0.3]
    summary = " ".join(plain_summary(results, LABELS))
    strongest = summary[summary.index("The strongest"):]
    assert strongest.index("habit (HAB)") < strongest.index("perceived empathy of the AI (EMP)")
    assert "12 of 13 hypotheses are supported" in summary and "not supported: H12" in summary
    lat = results["hypotheses"]
    n_yes = sum(h["latent.supported"] for h in lat)
    agree = sum(h["latent.supported"] == h["supported"] for h in lat)
    assert f"In the latent-variable model, {n_yes} of 13 are supported, and {agree} of 13" in summary


def test_fit_verdict_with_cutoffs():
    assert fit_verdict({"cfi": 0.97, "tli": 0.96, "rmsea": 0.04, "srmr": 0.03})[0] == "good"
    v, text = fit_verdict({"cfi": 0.93, "tli": 0.96, "rmsea": 0.04, "srmr": 0.03})
    assert v == "acceptable" and "CFI = .930" in text and "CFI and TLI ≥ .95, acceptable ≥ .90; RMSEA ≤ .06" in text
    assert text.endswith("the model fits the data acceptably.")
    assert fit_verdict({"cfi": 0.85, "rmsea": 0.12})[0] == "poor"
    assert fit_verdict({})[0] is None


def test_suppressed_cells_complementary():
    from adoption.privacy import suppressed_cells

    assert suppressed_cells([223, 319, 3]) == ({2}, {0})
    assert suppressed_cells([541, 2, 2]) == ({1, 2}, {0})      # 2 + 2 people: fewer than 5
    assert suppressed_cells([10, 20], threshold=5) == (set(), set())
    assert suppressed_cells([4], threshold=5) == ({0}, set())
    assert suppressed_cells([None, 3, 8]) == ({1}, {2})


def test_rebuild_report_from_a_run_directory(example_run, tmp_path):
    import shutil

    from adoption.errors import InputError
    from adoption.report import rebuild_report

    run = tmp_path / "run"
    shutil.copytree(example_run.out_dir, run)
    files = rebuild_report(run)
    assert (run / "report.html").is_file() and (run / "figures" / "likert.svg").is_file()
    assert set(files) >= {"report.html", "report.docx", "figures/likert.png"}
    with pytest.raises(InputError, match="no results.json"):
        rebuild_report(tmp_path / "nowhere")


def test_model_comparison_table(results, dom, written):
    """Every fitted structural model side by side: fit (lavaan's values) and each path's
    std.all, from the lavaan reference of the fixture; also in the Word file."""
    import docx

    ref = json.loads(REFERENCE.read_text())
    cols = heads(dom, "model-comparison")
    assert cols == ["Quantity", "composite", "composite: no_stigma", "latent", "latent: no_stigma"]
    rows = {r[0]: r[1:] for r in table(dom, "model-comparison")}
    close(rows["cfi"][0], ref["composite_path"]["ML"]["fit"]["cfi"], 3)
    close(rows["cfi"][2], ref["latent_sem"]["ML"]["fit"]["cfi"], 3)
    assert [r[0] for r in table(dom, "model-comparison")][:3] == ["chisq", "df", "pvalue"]
    close(rows["cfi"][1], ref["composite_path"]["ML"]["fit"]["cfi"] - 0.009, 3)
    close(rows["chisq"][0], ref["composite_path"]["ML"]["fit"]["chisq"], 2)
    paths = []
    for form, j in (("composite_path", 0), ("latent_sem", 2)):
        for r in ref[form]["ML"]["estimates"]:
            if r["op"] == "~":
                close(rows[f"{r['rhs']} → {r['lhs']} (β)"][j], r["std.all"], 3)
                paths.append(f"{r['rhs']} → {r['lhs']} (β)")
    assert len(paths) >= 10
    # the alternative's parameter table is not in this fixture: its paths are empty
    assert rows[paths[0]][1] == "–"
    out, _ = written
    doc = docx.Document(str(out / "report.docx"))
    assert any([c.text for c in t.rows[0].cells] == cols for t in doc.tables)
