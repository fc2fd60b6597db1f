"""The report as a Word file (python-docx), with the same tables as the web page.

APA layout: "Table N" in bold, the title in italics on the next line, horizontal rules
only above and below the column heads and under the last row, a note starting with an
italic "Note." under the table. Figures are inserted as PNG (Word has no native SVG
support through python-docx); the SVG files are under ``figures/``.
"""

from __future__ import annotations

import io
from pathlib import Path

from adoption.report.content import Code, Figure, Heading, Paragraph, Report, Table
from adoption.report.html import numbering

FONT = "Times New Roman"
TABLE_FONT_PT = 9


def _border(cell, **edges) -> None:
    """Set the borders of one table cell (edges: top/bottom/left/right = size in 1/8 pt or 0)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    for edge, size in edges.items():
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single" if size else "nil")
        if size:
            el.set(qn("w:sz"), str(size))
            el.set(qn("w:color"), "000000")
        borders.append(el)


def _no_table_borders(table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _cell_text(cell, text: str, *, bold=False, italic=False, align=None, color=None) -> None:
    from docx.shared import Pt, RGBColor

    p = cell.paragraphs[0]
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.space_before = Pt(0)
    if align is not None:
        p.alignment = align
    run = p.add_run(text)
    run.font.size = Pt(TABLE_FONT_PT)
    run.bold = bold
    run.italic = italic
    if color:
        run.font.color.rgb = RGBColor.from_string(color)


def add_table(doc, t: Table, number: int) -> None:
    """One APA table: label, title, body, note."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = doc.add_paragraph()
    p.paragraph_format.keep_with_next = True
    p.add_run(f"Table {number}").bold = True
    p = doc.add_paragraph()
    p.paragraph_format.keep_with_next = True
    p.add_run(t.title).italic = True
    table = doc.add_table(rows=1 + len(t.rows), cols=len(t.columns))
    _no_table_borders(table)
    table.autofit = True
    for j, head in enumerate(t.columns):
        c = table.rows[0].cells[j]
        _cell_text(c, head, align=WD_ALIGN_PARAGRAPH.LEFT if j == 0 else WD_ALIGN_PARAGRAPH.CENTER)
        _border(c, top=12, bottom=6)
    colors = {"poor": "B2182B", "acceptable": "8A6100", "suppressed": "555555"}
    for i, row in enumerate(t.rows, start=1):
        for j, cell in enumerate(row):
            mark = getattr(cell, "mark", None)
            c = table.rows[i].cells[j]
            _cell_text(c, str(cell), bold=mark in ("strong", "poor"), italic=mark == "suppressed",
                       color=colors.get(mark),
                       align=WD_ALIGN_PARAGRAPH.LEFT if t.left(j) else WD_ALIGN_PARAGRAPH.RIGHT)
            if i == len(t.rows):
                _border(c, bottom=12)
    if t.note:
        p = doc.add_paragraph()
        p.paragraph_format.space_before = Pt(3)
        r = p.add_run("Note. ")
        r.italic = True
        r.font.size = Pt(TABLE_FONT_PT)
        p.add_run(t.note).font.size = Pt(TABLE_FONT_PT)
    else:
        doc.add_paragraph()


def add_figure(doc, f: Figure, number: int) -> None:
    from docx.shared import Inches, Pt

    p = doc.add_paragraph()
    p.paragraph_format.keep_with_next = True
    p.add_run(f"Figure {number}").bold = True
    p = doc.add_paragraph()
    p.paragraph_format.keep_with_next = True
    p.add_run(f.title).italic = True
    if f.png:
        doc.add_picture(io.BytesIO(f.png), width=Inches(6.3))
    if f.note:
        p = doc.add_paragraph()
        r = p.add_run("Note. ")
        r.italic = True
        r.font.size = Pt(TABLE_FONT_PT)
        p.add_run(f.note).font.size = Pt(TABLE_FONT_PT)


def _landscape(doc, on: bool) -> None:
    from docx.enum.section import WD_ORIENT, WD_SECTION

    sec = doc.sections[-1]
    want = WD_ORIENT.LANDSCAPE if on else WD_ORIENT.PORTRAIT
    if sec.orientation == want:
        return
    new = doc.add_section(WD_SECTION.NEW_PAGE)
    w, h = new.page_width, new.page_height
    new.orientation = want
    if (on and w < h) or (not on and w > h):
        new.page_width, new.page_height = h, w


def build_docx(report: Report):
    """A ``docx.Document`` holding the report."""
    import docx
    from docx.shared import Pt

    doc = docx.Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(11)
    doc.core_properties.title = report.title
    doc.add_heading(report.title, level=0)
    if report.subtitle:
        doc.add_paragraph(report.subtitle)
    numbers = numbering(report)
    for i, s in enumerate(report.sections, start=1):
        doc.add_heading(f"{i}. {s.title}", level=1)
        for b in s.blocks:
            if isinstance(b, Heading):
                doc.add_heading(b.text, level=2)
            elif isinstance(b, Paragraph):
                p = doc.add_paragraph()
                r = p.add_run(b.text)
                r.italic = b.kind in ("missing", "warning")
            elif isinstance(b, Code):
                if b.caption:
                    doc.add_paragraph().add_run(b.caption).italic = True
                p = doc.add_paragraph()
                r = p.add_run(b.text)
                r.font.name = "Courier New"
                r.font.size = Pt(8)
            elif isinstance(b, Table):
                _landscape(doc, b.wide)
                add_table(doc, b, numbers[b.key])
            elif isinstance(b, Figure):
                add_figure(doc, b, numbers[b.key])
    return doc


def write_docx(report: Report, path: str | Path) -> Path:
    """Write ``report.docx``."""
    p = Path(path)
    build_docx(report).save(str(p))
    return p
