"""What a file is: its extension, what its first bytes say, and whether it is too big.

These checks run before any parser sees the file.
"""

from __future__ import annotations

from pathlib import Path

from adoption.errors import InputError
from adoption.readers import limits

#: file extension -> format name used in :class:`adoption.load.SourceInfo`
EXTENSIONS: dict[str, str] = {
    ".sav": "sav", ".zsav": "zsav", ".por": "por", ".dta": "dta",
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx",
    ".xls": "xls", ".ods": "ods",
}


def sniff_kind(head: bytes) -> str | None:
    """The file kind its first bytes reveal, or None for plain text / unknown.

    SPSS system files start with ``$FL2`` (``$FL3`` when ZLIB-compressed, .zsav); xlsx
    is a ZIP archive (``PK\\x03\\x04``); old Excel .xls is an OLE2 container; Stata 13+
    starts with ``<stata_dta>`` and Stata 8-12 with a version byte 0x71..0x73 followed by
    a byte order byte 0x01/0x02.
    """
    if head.startswith(b"$FL2"):
        return "sav"
    if head.startswith(b"$FL3"):
        return "zsav"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"<stata_dta>"):
        return "dta"
    if len(head) >= 2 and head[0] in (0x71, 0x72, 0x73) and head[1] in (1, 2):
        return "dta"
    if b"SPSS PORT FILE" in head[:512]:  # the ASCII splash line of a portable file
        return "por"
    return None


_KIND_NAMES = {"sav": "an SPSS .sav file", "zsav": "a compressed SPSS .zsav file",
               "xlsx": "an Excel .xlsx file (ZIP)", "xls": "an old Excel .xls file",
               "dta": "a Stata .dta file", "por": "an SPSS portable .por file"}


def check_magic(path: Path, fmt: str, head: bytes) -> None:
    """Refuse a file whose content does not match its extension, saying what it is."""
    kind = sniff_kind(head)
    if fmt == "csv":
        if kind is not None:
            hint = f"Rename it to .{kind}, or export it as CSV again."
            raise InputError(f"{path}: this file is named .csv but is {_KIND_NAMES[kind]} "
                             f"(its first bytes are {head[:4]!r}). {hint}")
        return
    expected = {"sav": {"sav", "zsav"}, "zsav": {"zsav", "sav"}, "por": {"por"},
                "dta": {"dta"}, "xlsx": {"xlsx"}, "xls": {"xls"},
                "ods": {"xlsx"}}[fmt]  # an .ods is a ZIP archive too
    if kind in expected:
        return
    if fmt == "por" and kind is None:
        return  # portable files are text; let pyreadstat judge them
    what = _KIND_NAMES.get(kind, "not a file of that type (it looks like text or is corrupt)")
    if kind is not None:
        todo = f"Rename it to .{kind} and run again."
    elif _looks_like_text(head):
        todo = "If it is a CSV export, rename it to .csv; otherwise export it again."
    else:
        todo = "Export the file again; it may be truncated or corrupt."
    raise InputError(f"{path}: this file is named .{fmt} but is {what} "
                     f"(first bytes {head[:8]!r}). {todo}")


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    printable = sum(32 <= b < 127 or b in (9, 10, 13) or b >= 128 for b in head)
    return printable / len(head) > 0.95


def check_size(path: Path, fmt: str) -> None:
    """Refuse a file too big to be an export, or a text export with an absurdly long line.

    The line scan streams the file in 1 MiB chunks, so a 200 MB file of one line is
    refused after reading about 4 MiB, without holding the file in memory.
    """
    size = path.stat().st_size
    if size > limits.MAX_FILE_BYTES:
        raise InputError(f"{path}: the file is {size / 2**20:,.0f} MiB, more than the loader reads "
                         f"({limits.MAX_FILE_BYTES / 2**20:,.0f} MiB). Split the export or drop unused columns.")
    if fmt != "csv":
        return
    run, line = 0, 1  # length of the current line so far, its 1-based number
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            parts = chunk.split(b"\n")
            for k, part in enumerate(parts):
                if k:
                    line += 1
                    run = 0
                run += len(part)
                if run > limits.MAX_LINE_BYTES:
                    raise InputError(
                        f"{path}: line {line} is longer than {limits.MAX_LINE_BYTES >> 20} MiB; a survey "
                        "export row is never that long. The file is not a CSV export or is "
                        "corrupt: export it again.")
