"""The report as a Word file (python-docx), with the same tables as the web page.

APA layout: "Table N" in bold, the title in italics on the next line, horizontal rules
only above and below the column heads and under the last row, a note starting with an
italic "Note." under the table. Label and title are one paragraph in Word's "Caption"
style with a ``SEQ Table`` / ``SEQ Figure`` field, so Word can build a list of tables
and figures (References > Insert Table of Figures). Figures are inserted as PNG (Word
has no native SVG support through python-docx), scaled to fit the text area of their
section (page size minus margins, less room for the caption); the SVG files are under
``figures/``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from adoption.report.content import Code, Figure, Heading, Paragraph, Report, Table
from adoption.report.html import numbering

FONT = "Times New Roman"
TABLE_FONT_PT = 9
#: Height kept free above and below a figure for its caption and note (inches).
CAPTION_ALLOWANCE_IN = 1.2


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


def caption_style(doc) -> None:
    """Word's built-in "Caption" style as APA wants it: black, body size, not italic
    (the title's run is italic, the label's bold)."""
    from docx.shared import Pt, RGBColor

    st = doc.styles["Caption"]
    st.font.name = FONT
    st.font.size = Pt(11)
    st.font.bold = False
    st.font.italic = False
    st.font.color.rgb = RGBColor(0, 0, 0)
    st.paragraph_format.space_after = Pt(4)
    st.paragraph_format.keep_with_next = True


def add_caption(doc, kind: str, number: int, title: str) -> None:
    """"Table N" / "Figure N" (bold, number as a ``SEQ`` field), a line break and the
    title in italics: one paragraph in the "Caption" style."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = doc.add_paragraph(style="Caption")
    p.add_run(f"{kind} ").bold = True

    def field_char(kind_: str):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind_)
        p.add_run()._r.append(el)

    field_char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" SEQ {kind} \\* ARABIC "
    p.add_run()._r.append(instr)
    field_char("separate")
    p.add_run(str(number)).bold = True      # the field's shown result
    field_char("end")
    p.add_run().add_break()
    p.add_run(title).italic = True


def text_area(section) -> tuple[int, int]:
    """Width and height (EMU) inside the margins of a docx section."""
    return (section.page_width - section.left_margin - section.right_margin,
            section.page_height - section.top_margin - section.bottom_margin)


def fitted_size(image_size: tuple[float, float], area: tuple[int, int],
                allowance: int) -> tuple[int, int]:
    """Width and height (EMU) of an image scaled to the text area, aspect kept.

    ``image_size`` is the image's natural width and height (any unit); it is shown as
    wide as the text area, or smaller when it would then be taller than the area's
    height less ``allowance`` (room for the caption and note).
    """
    w, h = image_size
    max_w, max_h = area[0], area[1] - allowance
    scale = min(max_w / w, max_h / h)
    return int(w * scale), int(h * scale)


def add_table(doc, t: Table, number: int) -> None:
    """One APA table: label, title, body, note."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    add_caption(doc, "Table", number, t.title)
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
    """One APA figure: caption, the PNG fitted to the section's text area, note. A
    figure given in parts (``png_parts``) continues on the next pages."""
    from docx.image.image import Image
    from docx.shared import Inches, Pt

    add_caption(doc, "Figure", number, f.title)
    parts = f.png_parts or ((f.png,) if f.png else ())
    for i, png in enumerate(parts):
        if i:       # a later part of a split figure starts a page with a short label
            p = doc.add_paragraph()
            p.paragraph_format.page_break_before = True
            p.paragraph_format.keep_with_next = True
            r = p.add_run(f"Figure {number} (continued)")
            r.italic = True
        img = Image.from_blob(png)
        w, h = fitted_size((img.width, img.height), text_area(doc.sections[-1]),
                           Inches(CAPTION_ALLOWANCE_IN))
        doc.add_picture(io.BytesIO(png), width=w, height=h)
        doc.paragraphs[-1].paragraph_format.keep_with_next = bool(f.note) and i == len(parts) - 1
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
    caption_style(doc)
    doc.core_properties.title = report.title
    doc.add_heading(report.title, level=0)
    if report.subtitle:
        doc.add_paragraph(report.subtitle)
    numbers = numbering(report)
    for i, s in enumerate(report.sections, start=1):
        doc.add_heading(f"{i}. {s.title}", level=1)
        for j, b in enumerate(s.blocks):
            if isinstance(b, Heading):
                after = s.blocks[j + 1] if j + 1 < len(s.blocks) else None
                if isinstance(after, Table):        # the heading goes on its table's page
                    _landscape(doc, after.wide)
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
                _landscape(doc, False)          # figures are drawn for portrait pages
                add_figure(doc, b, numbers[b.key])
    return doc


def write_docx(report: Report, path: str | Path) -> Path:
    """Write ``report.docx``, with every ZIP member dated 1980-01-01 (python-docx dates
    them now), so that the same report is the same bytes (``adoption reproduce``)."""
    p = Path(path)
    buf = io.BytesIO()
    build_docx(report).save(buf)
    p.write_bytes(undated_zip(buf.getvalue()))
    return p


def undated_zip(data: bytes) -> bytes:
    """The ZIP archive ``data`` rewritten with the same members, in the same order and
    compression, each dated 1980-01-01 00:00 (the earliest date a ZIP can hold)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
