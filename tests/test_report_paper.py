"""The report as a researcher prints and pastes it: report.docx fits its pages and
numbers its captions as Word does, and the tables a paper starts with are there.

The report is built from the example run with the structural fixture of
tests/test_report.py (lavaan's numbers for the paperlike survey).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report import LABELS, structural_fixture  # noqa: E402

from adoption.report import build_report, write_report  # noqa: E402

W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def results(example_run):
    res = json.loads((example_run.out_dir / "results.json").read_text())
    res["structural"], res["hypotheses"] = structural_fixture()
    res["constructs"] = dict(LABELS)
    return res


@pytest.fixture(scope="module")
def written(results, tmp_path_factory):
    out = tmp_path_factory.mktemp("paper")
    write_report(out, results)
    return out


@pytest.fixture(scope="module")
def document(written):
    import docx

    return docx.Document(str(written / "report.docx"))


def shapes_by_section(doc):
    """(inline shape element, its section) for every picture, in document order."""
    sections = list(doc.sections)
    k, out = 0, []
    for el in doc.element.body.iterchildren():
        for ext in el.iter("{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}extent"):
            out.append((int(ext.get("cx")), int(ext.get("cy")), sections[k]))
        if el.find(f"{W_NS}pPr/{W_NS}sectPr") is not None:
            k += 1
    return out


# --------------------------------------------------------------------------- docx
def test_docx_figures_fit_the_text_area(document, results):
    shapes = shapes_by_section(document)
    assert len(shapes) == sum(len(f.png_parts) or 1 for f in build_report(results).figures())
    for cx, cy, sec in shapes:
        width = sec.page_width - sec.left_margin - sec.right_margin
        height = sec.page_height - sec.top_margin - sec.bottom_margin
        assert cx <= width, (cx / 914400, width / 914400)
        assert cy <= height, (cy / 914400, height / 914400)


def test_long_likert_chart_is_split_by_construct(document, results):
    """37 items do not fit one page at full width: the chart continues on the next page,
    cut between constructs, each part as wide as the text area."""
    likert = next(f for f in build_report(results).figures() if f.key == "likert")
    assert len(likert.png_parts) == 2
    text = [p.text for p in document.paragraphs]
    assert sum(t.endswith("(continued)") for t in text) == 1
    sec = document.sections[0]
    width = sec.page_width - sec.left_margin - sec.right_margin
    sizes = [(cx, cy) for cx, cy, _ in shapes_by_section(document)]
    assert sum(cx == width for cx, _ in sizes) >= 4      # flow, both Likert parts, scree, ...


def test_docx_captions_use_the_caption_style(document, results):
    report = build_report(results)
    captions = [p for p in document.paragraphs if p.style.name == "Caption"]
    assert len(captions) == len(report.tables()) + len(report.figures())
    labels = [p.text.split("\n")[0] for p in captions]
    assert [x for x in labels if x.startswith("Table")] == \
        [f"Table {i}" for i in range(1, len(report.tables()) + 1)]
    assert [x for x in labels if x.startswith("Figure")] == \
        [f"Figure {i}" for i in range(1, len(report.figures()) + 1)]
    # numbered by SEQ fields, from which Word builds its lists of tables and figures
    instr = [t.text for p in captions for t in p._p.iter(f"{W_NS}instrText")]
    assert instr.count(" SEQ Table \\* ARABIC ") == len(report.tables())
    assert instr.count(" SEQ Figure \\* ARABIC ") == len(report.figures())
    # no caption is left in the Normal style
    normal = [p.text for p in document.paragraphs
              if p.style.name == "Normal" and not p.text.endswith("(continued)")]
    assert not any(t.startswith(("Table ", "Figure ")) and t.split()[1].isdigit() for t in normal)


def test_figure_notes_make_sense_on_paper(document, written):
    text = "\n".join(p.text for p in document.paragraphs).lower()
    html = (written / "report.html").read_text(encoding="utf-8").lower()
    assert "hover" not in text
    assert "hover an arrow" not in html


# --------------------------------------------------------------------------- what a paper needs
def html_table(page: str, key: str) -> tuple[list[str], list[list[str]]]:
    import lxml.html

    t = lxml.html.fromstring(page).get_element_by_id(f"tbl-{key}")
    heads = [th.text_content().strip() for th in t.find("thead").iter("th")]
    rows = [[td.text_content().strip() for td in tr.findall("td")] for tr in t.find("tbody").findall("tr")]
    return heads, rows


def shown(text: str) -> float:
    t = text.replace("−", "-").strip("()*").strip()
    return float(("0" + t) if t.startswith(".") else t.replace("-.", "-0."))


@pytest.fixture(scope="module")
def run_page(example_run, tmp_path_factory):
    """The example run's own report (bootstrapped composite model), as written by the run."""
    return (example_run.out_dir / "report.html").read_text(encoding="utf-8")


def test_construct_table_means_sds_correlations_and_alpha(example_run, run_page):
    import numpy as np
    import pandas as pd

    scores = example_run.structural.composite_scores
    rel = example_run.measurement.reliability.set_index("construct")["alpha"]
    csv = pd.read_csv(example_run.out_dir / "tables" / "constructs.csv")
    names = list(scores.columns)
    assert csv["construct"].tolist() == names
    x = scores.to_numpy(float)
    for i, a in enumerate(names):
        xi = x[:, i][~np.isnan(x[:, i])]
        np.testing.assert_allclose(csv.loc[i, ["mean", "sd"]].to_numpy(float),
                                   [xi.mean(), xi.std(ddof=1)], rtol=1e-12)
        assert csv.loc[i, "alpha"] == pytest.approx(rel[a], rel=1e-12)
        for j, b in enumerate(names):
            ok = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            r = np.corrcoef(x[ok, i], x[ok, j])[0, 1]
            assert csv.loc[i, b] == pytest.approx(r, abs=1e-12)      # pairwise complete
    heads, rows = html_table(run_page, "constructs")
    assert heads[:3] == ["Construct", "M", "SD"] and heads[3:] == [str(k) for k in range(1, len(names) + 1)]
    for i, row in enumerate(rows):
        assert row[0].startswith(f"{i + 1}. ") and row[0].endswith(f"({names[i]})")
        assert abs(shown(row[1]) - csv.loc[i, "mean"]) <= 0.005 + 1e-9
        assert row[3 + i].startswith("(") and abs(shown(row[3 + i]) - rel[names[i]]) <= 0.005 + 1e-9
        if i:
            assert abs(shown(row[3]) - csv.loc[i, names[0]]) <= 0.005 + 1e-9
        assert all(c == "" for c in row[4 + i:])


def test_efa_loadings_table_and_scree_plot(example_run, run_page):
    efa = example_run.results["efa"]
    heads, rows = html_table(run_page, "efa")
    factors = [v["factor"] for v in efa["variance"]]
    assert heads == ["Item", "Construct", *factors, "h²"]
    items = [r for r in rows if r[1]]
    assert len(items) == len(efa["loadings"])
    for row, ld in zip(items, efa["loadings"]):
        assert row[0].split()[0] == ld["item"]
        k = 2 + factors.index(ld["primary_factor"])
        assert abs(shown(row[k]) - ld["primary_loading"]) <= 0.005 + 1e-9
        for f in factors:       # loadings below .30 are left blank
            cell = row[2 + factors.index(f)]
            assert (cell == "") == (abs(ld[f]) < 0.30)
    svg = (example_run.out_dir / "figures" / "scree.svg").read_text(encoding="utf-8")
    assert "<text" in svg and "Eigenvalue" in svg
    assert 'id="fig-scree-wrap"' in run_page


def test_beta_intervals_beside_b(example_run, run_page):
    comp = json.loads((example_run.out_dir / "results.json").read_text())["structural"]["composite"]
    direct = {tuple(r["path"]): r for r in comp["direct"]}
    heads, rows = html_table(run_page, "coefficients-composite")
    assert heads[-2:] == ["95% CI of b", "95% CI of β"] and heads[4] == "SE of β"
    regs = [r for r in comp["estimates"] if r["op"] == "~"]
    # product terms (the example's COM:HAB) have no row among the direct effects: their
    # inference is in the moderation tables (lm t tests), see tests/test_structural_moderation_stage.py
    products = {t for i in (comp.get("moderation") or {}).get("interactions", []) for t in i["terms"]}
    assert len(rows) == len(regs)
    for row, r in zip(rows, regs):
        if r["rhs"] in products:
            assert (r["rhs"], r["lhs"]) not in direct
            continue
        d = direct[(r["rhs"], r["lhs"])]
        lo, hi = (shown(x) for x in row[-1].strip("[]").split(", "))
        assert abs(lo - d["std.all.ci.lower"]) <= 0.005 + 1e-9
        assert abs(hi - d["std.all.ci.upper"]) <= 0.005 + 1e-9
        assert lo <= r["std.all"] <= hi
        assert abs(float(row[4]) - r["std.all.se"]) <= 0.0005 + 1e-9   # delta-method SE of β
    heads, rows = html_table(run_page, "hypotheses")
    assert heads[3:8] == ["β", "SE of β", "p", "95% CI of b", "95% CI of β"]
    assert "bootstrap percentile interval of the standardised coefficient" in run_page
    # the latent model is not bootstrapped: its interval of beta is the delta-method one
    # (issue 18), from the estimates' std.all.ci.lower / .upper
    lat = json.loads((example_run.out_dir / "results.json").read_text())["structural"]["latent"]
    heads, rows = html_table(run_page, "coefficients-latent")
    assert heads[-1] == "95% CI of β" and heads[4] == "SE of β"
    for row, r in zip(rows, [r for r in lat["estimates"] if r["op"] == "~"]):
        lo, hi = (shown(x) for x in row[-1].strip("[]").split(", "))
        assert abs(lo - r["std.all.ci.lower"]) <= 0.005 + 1e-9
        assert abs(hi - r["std.all.ci.upper"]) <= 0.005 + 1e-9
    assert "95% CI of β: delta method" in run_page


def test_model_names_are_readable(run_page):
    from adoption.report.tables import model_name

    assert model_name({"name": "no_stigma"}) == "Without stigma"
    assert model_name({"name": "direct_empathy"}) == "Direct empathy"
    assert model_name({"name": "STG_only"}) == "STG only"
    assert model_name({"name": "no_stigma", "label": "Stigma left out"}) == "Stigma left out"
    _, rows = html_table(run_page, "alternatives-composite")
    assert [r[0] for r in rows[1:]] == ["Without stigma", "Direct empathy"]
    assert "no_stigma" not in run_page.split('id="tbl-alternatives-composite"')[1].split("</table>")[0]


def test_mardia_p_near_one_and_its_complete_rows(results):
    from adoption.format import format_p, format_p_value

    assert format_p_value(0.99957) == "> .999" and format_p(0.9996) == "p > .999"
    assert format_p_value(0.9994) == ".999"
    res = copy.deepcopy(results)
    res["validity"]["mardia"].update(p_skew=0.99957, n=266)
    res["sample"]["rows_analysed"] = 545
    t = next(t for t in build_report(res).tables() if t.key == "adequacy")
    skew = next(r for r in t.rows if str(r[0]).startswith("Mardia's multivariate skewness"))
    assert skew[3] == "> .999"
    assert "266 rows with an answer to every item (of 545 analysed)" in t.note


def test_hypotheses_csv_writes_signs_as_words(example_run):
    import pandas as pd

    text = (example_run.out_dir / "tables" / "hypotheses.csv").read_text(encoding="utf-8")
    h = pd.read_csv(example_run.out_dir / "tables" / "hypotheses.csv")
    assert set(h["expected_sign"]) <= {"positive", "negative", "any"}
    assert "'+" not in text and "'-" not in text
