"""Spreadsheets: Excel .xlsx (openpyxl), Excel 97-2003 .xls (xlrd) and LibreOffice .ods
(odfpy), with guards against zip bombs and sheets spanning far more cells than filled."""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

import pandas as pd

from adoption.errors import InputError
from adoption.readers import limits
from adoption.readers.table import RawTable, reason

def check_xlsx_zip(path: Path) -> None:
    """Refuse an .xlsx whose parts would inflate beyond reason (a "zip bomb").

    Reads only the ZIP central directory (the sizes each part declares), before
    openpyxl decompresses anything. A part that lies about its size cannot get past
    this either: Python's zipfile stops at the declared size and fails the CRC check.
    """
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except Exception as exc:  # BadZipFile, NotImplementedError (zip version), EOFError...
        raise InputError(f"{path}: cannot open this Excel file ({exc.__class__.__name__}: {reason(exc)}). "
                         "It may be truncated or not a real .xlsx: save it again from Excel.") from None
    total = sum(i.file_size for i in infos)
    if total > limits.MAX_XLSX_UNCOMPRESSED:
        raise InputError(f"{path}: the workbook would unpack to {total / 2**20:,.0f} MiB (limit "
                         f"{limits.MAX_XLSX_UNCOMPRESSED >> 20} MiB); it is not a plain survey export. "
                         "Export the responses as CSV instead.")
    for i in infos:
        if i.file_size > (1 << 20) and i.file_size > limits.MAX_XLSX_RATIO * max(i.compress_size, 1):
            # the part's name comes from the file: shown as one short line (a crafted name
            # can hold line breaks and thousands of characters)
            name = repr(i.filename[:60] + ("..." if len(i.filename) > 60 else ""))
            raise InputError(f"{path}: part {name} would inflate {i.file_size // max(i.compress_size, 1):,} "
                             f"times (from {i.compress_size:,} to {i.file_size:,} bytes), like a zip bomb. "
                             "Export the responses as CSV instead.")


def read_xlsx(path: Path, sheet: str | None = None) -> RawTable:
    """Read one sheet of an .xlsx workbook (the first unless ``sheet`` names another).

    Cells are read as their stored values (``data_only=True``: formulas give their last
    computed result; nothing is ever evaluated). Entirely empty trailing rows and
    columns are ignored. The ZIP directory is checked first (:func:`check_xlsx_zip`), and
    a sheet spanning more than :data:`limits.MAX_CELLS` cells is refused while it is read.
    """
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    check_xlsx_zip(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot open this Excel file ({exc.__class__.__name__}: {reason(exc)}). "
                         "It may be truncated or not a real .xlsx: save it again from Excel.") from None
    except Exception as exc:  # a malformed part: openpyxl raises many kinds of error
        raise InputError(f"{path}: cannot open this Excel file ({exc.__class__.__name__}). "
                         "Save it again from Excel, or export it as CSV.") from None
    try:
        if sheet is None:
            if not wb.worksheets:
                raise InputError(f"{path}: the workbook has no worksheet. Save the responses in a sheet.")
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise InputError(f"{path}: no sheet named '{sheet}' (sheets: {', '.join(wb.sheetnames)}).")
        if hasattr(ws, "reset_dimensions"):
            # ignore the declared <dimension>: openpyxl would pad every row to it
            ws.reset_dimensions()
        cells, width, filled, last = [], 0, 0, 0
        for r in ws.iter_rows(values_only=True):
            width = max(width, len(r))
            cells.append(r)
            n = sum(v is not None for v in r)
            if n:
                filled, last = filled + n, len(cells)
            if len(cells) * width > limits.MAX_CELLS or len(cells) > limits.EXCEL_MAX_ROWS:
                raise InputError(
                    f"{path}: the sheet spans more than {limits.MAX_CELLS:,} cells ({len(cells):,} rows x "
                    f"{width:,} columns so far). Delete stray cells far below or right of the "
                    "data, or export the responses as CSV.")
        check_sparse(path, last, width, filled)
        cells = [list(r) for r in cells[:last]]
        n_formulas = _count_formulas(path, getattr(ws, "_worksheet_path", None))
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: cannot read the sheet ({exc.__class__.__name__}: {reason(exc)}). "
                         "Save the workbook again from Excel, or export it as CSV.") from None
    finally:
        wb.close()
    notes = [("formula cells read as stored values",
              f"{n_formulas} cell(s) of the sheet hold formulas; each was read as the result Excel "
              "stored with it (empty where none was stored) and never evaluated")] if n_formulas else []
    return table_from_cells(path, cells, "xlsx", notes)


def check_sparse(path: Path, rows: int, width: int, filled: int) -> None:
    """Refuse a sheet spanning far more cells than it fills (stray cells far away)."""
    span = rows * width
    if span > limits.SPARSE_MIN_CELLS and filled * limits.SPARSE_RATIO < span:
        raise InputError(
            f"{path}: the sheet spans {rows:,} rows x {width:,} columns but only {filled:,} cells "
            "are filled: there are stray cells far below or right of the data. Delete them "
            "(or copy the data to a new sheet), or export the responses as CSV.")


def check_cells(path: Path, rows: int, width: int) -> None:
    """Refuse a sheet of more than :data:`limits.MAX_CELLS` cells or more rows than Excel has."""
    if rows * width > limits.MAX_CELLS or rows > limits.EXCEL_MAX_ROWS:
        raise InputError(
            f"{path}: the sheet spans more than {limits.MAX_CELLS:,} cells ({rows:,} rows x "
            f"{width:,} columns). Delete stray cells far below or right of the "
            "data, or export the responses as CSV.")


def _empty(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


def table_from_cells(path: Path, cells: list[list], fmt: str,
                     notes: list[tuple[str, str]]) -> RawTable:
    """A sheet's rows of cells (header first) as a :class:`RawTable`: trailing empty rows
    and columns dropped, blank cells (empty, spaces, NaN) as None."""
    while cells and all(_empty(v) for v in cells[-1]):
        cells.pop()
    if not cells:
        raise InputError(f"{path}: the first sheet is empty (no header, no rows). "
                         "Put the header in row 1 and one respondent per row.")
    width = max(len(r) for r in cells)
    cells = [list(r) + [None] * (width - len(r)) for r in cells]
    while width > 0 and all(_empty(r[width - 1]) for r in cells):
        width -= 1
    cells = [r[:width] for r in cells]
    header = ["" if _empty(v) else str(v) for v in cells[0]]
    body = [[None if _empty(v) else v for v in r] for r in cells[1:]]
    rows = pd.DataFrame(body, columns=range(width), dtype=object)
    return RawTable(header=header, rows=rows, format=fmt, notes=notes)


def read_old_sheet(path: Path, fmt: str, sheet: str | None = None) -> RawTable:
    """Read one sheet of an Excel 97-2003 ``.xls`` (xlrd) or a LibreOffice ``.ods``
    (odfpy), through pandas, with the guards of :func:`read_xlsx`.

    An .ods is a ZIP archive: its directory is checked first (:func:`check_xlsx_zip`).
    For an .xls the sheet's declared size is checked before its cells are converted;
    the cells of an .ods are counted once parsed (odfpy builds the whole document). The
    sparse-sheet guard applies to both. Numbers are kept as numbers, text as text.
    """
    engine = {"xls": "xlrd", "ods": "odf"}[fmt]
    if fmt == "ods":
        check_xlsx_zip(path)
    import warnings

    printed = io.StringIO()
    try:
        # odfpy prints a part it cannot parse (the whole content.xml) and goes on with
        # what it parsed before the error: caught here, and refused below
        with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
            # pandas 3 calls its xlrd engine deprecated (calamine reads .xls too, but is
            # one more compiled dependency); xlrd 2 still reads every BIFF8 file
            warnings.simplefilter("ignore")
            book = pd.ExcelFile(path, engine=engine)
    except Exception as exc:  # xlrd/odfpy raise many kinds of error on a broken file
        raise InputError(f"{path}: cannot open this .{fmt} file ({exc.__class__.__name__}: "
                         f"{reason(exc)}). Save it again, or export the responses as CSV.") from None
    if "SAX FAILED TO PARSE" in printed.getvalue():
        book.close()
        raise InputError(f"{path}: this .ods file is not well-formed XML ({_xml_error(path)}); "
                         "its rows after that point cannot be read. Save it again from "
                         "LibreOffice, or export the responses as CSV.")
    try:
        names = book.sheet_names
        if not names:
            raise InputError(f"{path}: the workbook has no worksheet. Save the responses in a sheet.")
        if sheet is not None and sheet not in names:
            raise InputError(f"{path}: no sheet named '{sheet}' (sheets: {', '.join(map(str, names))}).")
        name = names[0] if sheet is None else sheet
        if fmt == "xls":
            ws = book.book.sheet_by_name(name)
            check_cells(path, ws.nrows, ws.ncols)
        frame = pd.read_excel(book, sheet_name=name, header=None, dtype=object,
                              keep_default_na=False, na_values=[])
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: cannot read the sheet ({exc.__class__.__name__}: {reason(exc)}). "
                         "Save the workbook again, or export it as CSV.") from None
    finally:
        book.close()
    check_cells(path, *frame.shape)
    cells = frame.to_numpy(dtype=object).tolist()
    filled = sum(not _empty(v) for r in cells for v in r)
    last = max((i + 1 for i, r in enumerate(cells) if any(not _empty(v) for v in r)), default=0)
    check_sparse(path, last, frame.shape[1], filled)
    what = "Excel 97-2003 .xls (xlrd)" if fmt == "xls" else "LibreOffice .ods (odfpy)"
    return table_from_cells(path, cells, fmt, [(f"{fmt} read", f"sheet '{name}' of a {what} workbook")])


def _count_formulas(path: Path, part: str | None) -> int:
    """Formula cells (``<f>`` elements) in one sheet part, counted by streaming the XML."""
    if not part:
        return 0
    n, tail = 0, b""
    with zipfile.ZipFile(path) as z, z.open(part.lstrip("/")) as f:
        while chunk := f.read(1 << 20):
            buf = tail + chunk
            n += buf.count(b"<f>") + buf.count(b"<f ")
            tail = buf[-2:]  # too short to hold a whole match: nothing is counted twice
    return n


def _xml_error(path: Path) -> str:
    """Where the content part of an .ods stops being well-formed XML, as expat says it
    (e.g. 'content.xml: reference to invalid character number: line 2, column 62875');
    control characters such as a form feed in a text answer are not allowed in XML 1.0."""
    import xml.sax

    try:
        with zipfile.ZipFile(path) as z, z.open("content.xml") as f:
            xml.sax.parse(f, xml.sax.ContentHandler())
    except xml.sax.SAXParseException as exc:
        return f"content.xml: {exc.getMessage()}: line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
    except Exception as exc:  # a part missing or unreadable
        return f"content.xml: {reason(exc)}"
    return "content.xml"
