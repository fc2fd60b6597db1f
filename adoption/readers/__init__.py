"""Format readers for :mod:`adoption.load`: export file -> :class:`RawTable`.

Each reader turns one export file into a :class:`RawTable`: the header exactly as
written (so duplicates can still be seen), the cells as read, and what the file says
about itself (labels, user-defined missing values, encoding). Readers do not look at the
survey spec; :func:`adoption.load.load_responses` does that.

Modules, in the order a file meets them::

    files.py      extension, first bytes (a .sav renamed .csv), size guards
    limits.py     the size limits, in one place
    readstat.py   SPSS .sav/.zsav/.por and Stata .dta (pyreadstat) ...
    guard.py      ... read once in a forked child that guards against a crash or hang
    handover.py   ... which hands the frame back as Arrow IPC and JSON (no pickle)
    text.py       CSV/TSV: encoding, delimiter, decimal commas
    sheets.py     .xlsx (openpyxl), .xls (xlrd), .ods (odfpy), zip-bomb and sparse guards
    table.py      RawTable, what every reader returns

Every failure a user can cause (wrong extension, truncated file, a .sav renamed .csv)
is raised as :class:`~adoption.errors.InputError` naming the file and what to do.
"""

from adoption.readers.files import EXTENSIONS, check_magic, check_size, sniff_kind
from adoption.readers.readstat import read_readstat
from adoption.readers.sheets import read_old_sheet, read_xlsx
from adoption.readers.table import DETECTED, RawTable
from adoption.readers.text import DELIMITERS, decimal_comma_columns, decode_text, read_csv, sniff_delimiter

__all__ = [
    "DELIMITERS", "DETECTED", "EXTENSIONS", "RawTable", "check_magic", "check_size",
    "decimal_comma_columns", "decode_text", "read_csv", "read_old_sheet", "read_readstat",
    "read_xlsx", "sniff_delimiter", "sniff_kind",
]
