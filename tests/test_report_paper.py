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
    assert len(shapes) == len(build_report(results).figures())
    for cx, cy, sec in shapes:
        width = sec.page_width - sec.left_margin - sec.right_margin
        height = sec.page_height - sec.top_margin - sec.bottom_margin
        assert cx <= width, (cx / 914400, width / 914400)
        assert cy <= height, (cy / 914400, height / 914400)


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
    normal = [p.text for p in document.paragraphs if p.style.name == "Normal"]
    assert not any(t.startswith(("Table ", "Figure ")) and t.split()[1].isdigit() for t in normal)


def test_figure_notes_make_sense_on_paper(document, written):
    text = "\n".join(p.text for p in document.paragraphs).lower()
    html = (written / "report.html").read_text(encoding="utf-8").lower()
    assert "hover" not in text
    assert "hover an arrow" not in html
