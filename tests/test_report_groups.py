"""The report's "Group comparisons" section: invariance tables, path coefficients by
group with their equality tests, the omnibus test and one diagram per group.

The numbers come from the example run (tests/conftest.py's ``example_run``, whose
results.json has ``groups`` for gender, year level and school type). Privacy and
highlighting are checked on copies of those results: a group of 3 respondents (below
``privacy.small_cell`` = 5) and a path whose equality test has p < .05.

Shown numbers are compared with the results with a tolerance of half a unit in the last
shown digit (the report rounds; results.json keeps every digit).
"""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest

from adoption.figures.groupdiagram import DIFFERS, differing_paths, group_path_svg, group_paths
from adoption.report import build_report, write_report
from adoption.report import tables as T
from partial_scalar import REFERENCE as PARTIAL_SCALAR
from partial_scalar import partial_scalar_results


@pytest.fixture(scope="module")
def results(example_run):
    return json.loads((example_run.out_dir / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dom(example_run):
    import lxml.html

    return lxml.html.fromstring((example_run.out_dir / "report.html").read_text(encoding="utf-8"))


def rows(dom, key: str) -> list[list[str]]:
    t = dom.get_element_by_id(f"tbl-{key}")
    return [[td.text_content().strip() for td in tr.findall("td")]
            for tr in t.find("tbody").findall("tr")]


def cells(dom, key: str) -> list[list]:
    t = dom.get_element_by_id(f"tbl-{key}")
    return [tr.findall("td") for tr in t.find("tbody").findall("tr")]


def num(text: str) -> float:
    t = text.replace("−", "-").strip().rstrip("*").strip()
    if t.startswith("-."):
        t = "-0" + t[1:]
    elif t.startswith("."):
        t = "0" + t
    return float(t.replace(",", ""))


def close(text: str, value: float, digits: int) -> None:
    # rounded to `digits` decimals where shown: half a unit in the last digit
    np.testing.assert_allclose(num(text), value, rtol=0, atol=0.5 * 10 ** -digits + 1e-9)


def render(res: dict, tmp_path):
    import lxml.html

    files = write_report(tmp_path, res)
    return lxml.html.fromstring((tmp_path / "report.html").read_text(encoding="utf-8")), files


def with_small_group(results: dict) -> dict:
    """Gender's third group shrunk to 3 respondents and left out (min_group_size), as the
    group stage would write it."""
    res = copy.deepcopy(results)
    g = res["groups"]["gender"]
    small = g["sizes"][2]
    small["n"], small["included"] = 3, False
    g["excluded_groups"] = [{"value": small["value"], "label": small["label"], "n": 3,
                             "analysis": "all",
                             "reason": "fewer than 30 respondents (min_group_size)"}]
    g["warnings"] = [f"Gender = {small['label']} (3 respondents) is left out: fewer than "
                     "min_group_size = 30."] + list(g["warnings"])
    return res


# --------------------------------------------------------------------------- example run
def test_section_is_in_the_report_with_one_heading_per_column(results, dom):
    h2 = [h.text_content() for h in dom.xpath("//h2")]
    assert "6. Group comparisons" in h2
    sec = dom.get_element_by_id("sec-groups")
    h3 = [h.text_content() for h in sec.xpath(".//h3")]
    assert h3 == [f"By {g['label']}" for g in results["groups"].values()]


def test_invariance_table_matches_the_run(results, dom):
    for col, g in results["groups"].items():
        if not g["invariance"]:
            continue
        key = col.replace("_", "-")
        body = rows(dom, f"invariance-{key}")
        assert len(body) == len(g["invariance"])
        for r, e in zip(body, g["invariance"]):
            assert r[0].lower().startswith(e["level"])
            close(r[1], e["fit"]["chisq"], 2)
            assert num(r[2]) == e["fit"]["df"]
            close(r[3], e["fit"]["cfi"], 3)
            close(r[4], e["fit"]["tli"], 3)
            rmsea, lo, hi = re.match(r"(\S+) \[(\S+), (\S+)\]", r[5]).groups()
            close(rmsea, e["fit"]["rmsea"], 3)
            close(lo, e["fit"]["rmsea.ci.lower"], 3)
            close(hi, e["fit"]["rmsea.ci.upper"], 3)
            close(r[6], e["fit"]["srmr"], 3)
            c = e["comparison"]
            if c:
                chi, ddf = re.match(r"(\S+) \((\S+)\)", r[7]).groups()
                close(chi, c["chisq.diff"], 2)
                assert num(ddf) == c["df.diff"]
                close(r[9], c["cfi.diff"], 3)
                close(r[10], c["rmsea.diff"], 3)
                close(r[11], c["srmr.diff"], 3)
            assert r[12].startswith({True: "Yes", False: "No", None: "not tested"}[e["supported"]])
            if any(x["freed"] for x in g["invariance"]):
                assert r[13] == (", ".join(e["freed"]) or "–")
            else:
                assert len(r) == 13            # no Released column without partial invariance
        note = dom.get_element_by_id(f"tbl-invariance-{key}-wrap").text_content()
        assert "Chen (2007)" in note and "ΔCFI ≥ −.010" in note
        if not g["partial"]:
            assert "No equality constraint was released" in note
        text = dom.get_element_by_id("sec-groups").text_content()
        if g["highest_level"]:
            assert f"Highest level of invariance supported: {g['highest_level']}." in text


def test_path_table_and_omnibus_match_the_run(results, dom):
    g = results["groups"]["gender"]
    body = rows(dom, "group-paths-gender")
    diffs = g["path_differences"]["paths"]
    assert len(body) == len(diffs)
    groups = list(dict.fromkeys(p["group"] for p in g["paths"]))
    for r, d in zip(body, diffs):
        assert r[0] == f"{d['rhs']} → {d['lhs']}"
        for j, grp in enumerate(groups):
            p = next(p for p in g["paths"] if p["group"] == grp and p["lhs"] == d["lhs"]
                     and p["rhs"] == d["rhs"])
            close(r[1 + j], p["std.all"], 2)
        close(r[-2].split(" ")[0], d["chisq.diff"], 2)
        close(r[-1], d["pvalue"], 3)
    o = g["path_differences"]["omnibus"]
    text = dom.get_element_by_id("sec-groups").text_content()
    m = re.search(r"across Gender: Δχ²\((\d+)\) = (\S+), p = (\S+?);", text)
    assert m
    assert int(m.group(1)) == o["df.diff"]
    close(m.group(2), o["chisq.diff"], 2)
    close(m.group(3), o["pvalue"], 3)


def test_one_diagram_per_group_side_by_side_and_in_figures(results, example_run, dom):
    out = example_run.out_dir
    for col, g in results["groups"].items():
        for grp in dict.fromkeys(p["group"] for p in g["paths"]):
            stem = f"groups_{col}_{grp}"
            fig = dom.get_element_by_id(f"fig-groups-{stem}-wrap")
            assert "side" in fig.get("class")
            assert fig.find(".//svg") is not None or "<svg" in fig.text_content() or \
                len(fig.xpath(".//*[local-name()='svg']")) == 1
            svg = (out / "figures" / f"{stem}.svg").read_bytes()
            png = (out / "figures" / f"{stem}.png").read_bytes()
            assert b"<svg" in svg[:2000] and png[:8] == b"\x89PNG\r\n\x1a\n"


def test_group_sizes_table(results, dom):
    for col, g in results["groups"].items():
        body = rows(dom, f"group-sizes-{col.replace('_', '-')}")
        for r, s in zip(body, g["sizes"]):
            assert r[0] == s["label"]
            assert num(r[1]) == s["n"]          # every example group has >= 5 respondents
    # the example's third gender group is left out of the invariance tests (too few rows
    # for 37 items); its row says so
    g = results["groups"]["gender"]
    left = {str(e["value"]) for e in g["excluded_groups"]}
    body = rows(dom, "group-sizes-gender")
    for r, s in zip(body, g["sizes"]):
        assert r[2].startswith("Left out") == (str(s["value"]) in left)


def test_word_file_holds_the_group_tables(results, example_run):
    import docx

    doc = docx.Document(str(example_run.out_dir / "report.docx"))
    keys = [t.key for t in build_report(results).tables()]
    assert len(doc.tables) == len(keys)
    assert "invariance-gender" in keys and "group-paths-gender" in keys


# --------------------------------------------------------------------------- privacy
def test_small_group_shows_fewer_than_5_and_is_listed_as_left_out(results, tmp_path):
    res = with_small_group(results)
    d, _ = render(res, tmp_path)
    body = rows(d, "group-sizes-gender")
    small = body[2]
    assert small[1] == "fewer than 5"
    assert small[2] == "Left out of all comparisons"
    # complementary suppression: the next smallest group (Male, 223) is hidden too
    assert body[0][1] == "suppressed"
    assert num(body[1][1]) == res["groups"]["gender"]["sizes"][1]["n"]
    sec = d.get_element_by_id("sec-groups").text_content()
    assert "(3 respondents)" not in sec and "3 respondents" not in sec
    assert "Left out of the comparisons: Non-binary or prefer not to say" in sec


def test_small_group_in_the_path_model_shows_no_numbers(results, tmp_path):
    """With min_group_size below the privacy threshold a group of 3 could be compared:
    its coefficients and its diagram are still not shown."""
    res = copy.deepcopy(results)
    g = res["groups"]["gender"]
    g["sizes"][2]["n"] = 3
    g["excluded_groups"] = []
    d, files = render(res, tmp_path)
    third = str(g["sizes"][2]["value"])
    for r in rows(d, "group-paths-gender"):
        assert r[3] == "fewer than 5"
    assert "β Non-binary or prefer not to say" in d.get_element_by_id("tbl-group-paths-gender").text_content()
    assert f"figures/groups_gender_{third}.svg" not in files
    assert "figures/groups_gender_1.svg" in files
    assert "fewer than 5 respondents; no diagram is shown" in d.get_element_by_id("sec-groups").text_content()


def test_redact_small_counts():
    comp = {"excluded_groups": [{"value": 3, "label": "X", "n": 3, "analysis": "paths",
                                 "reason": "3 complete rows on the composite scores"}]}
    assert T.redact_small_counts("G = X (3 respondents) is left out", comp) == \
        "G = X (fewer than 5 respondents) is left out"
    assert T.redact_small_counts("G = X is left out: only 3 complete rows", comp) == \
        "G = X is left out: fewer than 5 complete rows"
    big = {"excluded_groups": [{"value": 3, "label": "X", "n": 32}]}
    assert T.redact_small_counts("G = X (32 respondents)", big) == "G = X (32 respondents)"


# --------------------------------------------------------------------------- highlighting
def test_differing_path_is_highlighted(results, tmp_path):
    res = copy.deepcopy(results)
    g = res["groups"]["gender"]
    first = g["path_differences"]["paths"][0]
    first["pvalue"] = 0.012
    d, files = render(res, tmp_path)
    trs = cells(d, "group-paths-gender")
    assert "m-strong" in (trs[0][0].get("class") or "")
    assert "m-poor" in (trs[0][-1].get("class") or "")
    assert all("m-strong" not in (tr[0].get("class") or "") for tr in trs[1:])
    assert trs[0][-1].text_content() == ".012"
    svg = (tmp_path / "figures" / "groups_gender_1.svg").read_text(encoding="utf-8")
    assert DIFFERS in svg
    # the unchanged example has no path that differs: nothing orange
    assert all(d_["pvalue"] >= .05 for d_ in results["groups"]["gender"]["path_differences"]["paths"])
    plain = group_path_svg(group_paths(results["groups"]["gender"]["paths"], 1), set())
    assert DIFFERS.encode() not in plain


def test_differing_paths_reads_the_equality_tests():
    diffs = [{"lhs": "Y", "op": "~", "rhs": "X", "pvalue": 0.01},
             {"lhs": "Y", "op": "~", "rhs": "Z", "pvalue": 0.2},
             {"lhs": "W", "op": "~", "rhs": "Y", "pvalue": None}]
    assert differing_paths(diffs) == {("Y", "X")}


def test_no_groups_shows_not_computed(results, tmp_path):
    res = copy.deepcopy(results)
    res.pop("groups")
    d, _ = render(res, tmp_path)
    assert "not computed in this run" in d.get_element_by_id("sec-groups").text_content()


def test_failed_level_and_its_partial_model_both_shown(results, tmp_path):
    """Scalar fails on the partial-scalar data: the table keeps the full scalar model
    with its failed comparison, then the partial model with what was freed."""
    res = copy.deepcopy(results)
    res["groups"] = {"grp": partial_scalar_results()}
    g = res["groups"]["grp"]
    d, files = render(res, tmp_path)
    body = rows(d, "invariance-grp")
    assert [r[0] for r in body] == ["Configural", "Metric (loadings)", "Scalar (+ intercepts)",
                                    "Partial scalar", "Strict (+ residuals)"]
    full, part = body[2], body[3]
    lrt = PARTIAL_SCALAR["lrt_scalar"]
    close(full[1], PARTIAL_SCALAR["fits"]["scalar"]["chisq"], 2)
    close(re.match(r"(\S+) \(", full[7]).group(1), lrt["Chisq diff"][1], 2)
    assert full[12] == "No" and full[13] == "–"
    close(part[1], PARTIAL_SCALAR["fits"]["partial_scalar"]["chisq"], 2)
    assert part[12] == "Yes (partial)" and part[13] == "x3 ~1"
    assert body[4][13] == "x3 ~1"
    assert rows(d, "partial-grp")[0][:2] == ["Scalar", "x3 ~1"]
    text = d.get_element_by_id("sec-groups").text_content()
    assert "Highest level of invariance supported: partial strict. Partial invariance: released x3 ~1 (scalar)." in text
    import docx

    doc = docx.Document(str(tmp_path / "report.docx"))
    words = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    assert ["Scalar (+ intercepts)", *full[1:]] in words
    assert ["Partial scalar", *part[1:]] in words
    assert g["invariance"][2]["supported"] is False and g["invariance"][3]["partial"]


def test_poor_configural_fit_is_the_headline(results, tmp_path):
    res = copy.deepcopy(results)
    g = res["groups"]["year_level"]
    g["invariance"][0]["fit"].update(cfi=0.917, rmsea=0.091)
    g["invariance"][0]["configural"] = {"poor": ["rmsea"], "supported": False,
                                        "judgement": {"cfi": "acceptable", "rmsea": "poor",
                                                      "srmr": "good"}}
    g["invariance"][0]["supported"] = False
    for e in g["invariance"][1:]:
        e["supported"] = None
    g["highest_level"] = None
    d, _ = render(res, tmp_path)
    body = rows(d, "invariance-year-level")
    assert body[0][12] == "No (poor fit)"
    assert [r[12] for r in body[1:]] == ["not tested"] * 3
    text = d.get_element_by_id("sec-groups").text_content()
    assert ("No level of invariance is supported: the configural model fits poorly "
            "(RMSEA = .091; RMSEA ≤ .06 (acceptable ≤ .08))") in text
    assert "Highest level" not in T.invariance_headline(g)


def test_significant_chisq_difference_beside_a_passed_level_is_noted(results, tmp_path):
    res = copy.deepcopy(results)
    metric = res["groups"]["gender"]["invariance"][1]
    metric["comparison"].update({"chisq.rejects": True, "chisq.diff": 41.2, "pvalue": 0.0004})
    d, _ = render(res, tmp_path)
    note = d.get_element_by_id("tbl-invariance-gender-wrap").text_content()
    assert "Metric (loadings) passes Chen's rule although its χ² difference against " \
           "configural is significant" in note
    assert "= 41.20, p < .001" in note


