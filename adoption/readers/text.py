"""CSV and other delimited text exports: encoding, delimiter and decimal-comma detection."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from adoption.errors import InputError
from adoption.readers.table import RawTable, reason

#: delimiters tried on text files, in order of preference on a tie
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")


def decode_text(path: Path, data: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    """Decode a text export: BOM first (UTF-32, UTF-8, UTF-16), UTF-16 without a BOM,
    then UTF-8, then cp1252/latin-1, and line by line for a file that mixes them.

    Returns (text, encoding name, notes to log). cp1252 is tried before latin-1 because
    Excel on Windows writes it (curly quotes, the euro sign); latin-1 accepts any byte,
    so it is the last resort. A file that is UTF-8 in some lines and not in others
    (two exports pasted together) is decoded line by line, each line as UTF-8 if it can
    be, and the other lines are logged. A file with NUL bytes that is not UTF-16 is
    refused as binary.
    """
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return _decode(path, data, "utf-32"), "utf-32", []
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode(path, data, "utf-8-sig"), "utf-8-sig", []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode(path, data, "utf-16"), "utf-16", []
    head = data[:4096]
    if b"\x00" in head:
        half = max(len(head) // 2, 1)
        odd, even = head[1::2].count(0) / half, head[0::2].count(0) / half
        enc = "utf-16-le" if odd > 0.3 and even < 0.05 else "utf-16-be" if even > 0.3 and odd < 0.05 else None
        if enc is None or len(data) % 2:
            raise InputError(f"{path}: this file contains binary data (NUL bytes) and is not a CSV "
                             "text file. Export the responses as CSV (UTF-8) again.")
        return (_decode(path, data, enc), enc,
                [("encoding guessed", f"{enc.upper()} without a byte-order mark")])
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(data):
        return _decode_by_line(data)
    for enc in ("cp1252", "latin-1"):
        try:
            return data.decode(enc), enc, []
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any byte")  # pragma: no cover


#: a well-formed multi-byte UTF-8 sequence (two to four bytes)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _decode_by_line(data: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    """Each line as UTF-8 where it is valid, else cp1252 (else latin-1)."""
    out, other = [], []
    for i, line in enumerate(data.split(b"\n"), start=1):
        try:
            out.append(line.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            pass
        try:
            out.append(line.decode("cp1252"))
        except UnicodeDecodeError:
            out.append(line.decode("latin-1"))
        other.append(i)
    shown = ", ".join(map(str, other[:10])) + (f" and {len(other) - 10} more" if len(other) > 10 else "")
    return "\n".join(out), "utf-8+cp1252", [
        ("mixed encodings", f"the file is UTF-8 except line(s) {shown} of the file, read as cp1252 "
                            "(Windows); check accented text there")]


def _decode(path: Path, data: bytes, enc: str) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: the file looks like {enc} text but byte {exc.start} is not "
                         f"valid {enc}. Save it again as UTF-8 CSV.") from None


def sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the first lines most consistently.

    For each candidate, parse up to 50 records with :mod:`csv` (so quoted fields and
    embedded newlines are honoured) and score it by the number of columns it gives when
    every record has the header's width; ties go to the order , ; tab |.
    """
    sample = text[:65536]
    best, best_score = ",", (-2.0, -1)
    for d in DELIMITERS:
        recs = []
        try:
            for i, rec in enumerate(csv.reader(io.StringIO(sample), delimiter=d)):
                if rec:
                    recs.append(rec)
                if i >= 50:
                    break
        except csv.Error:
            continue
        if not recs:
            continue
        width = len(recs[0])
        # the last sampled record may be cut by the sample window
        body = recs[1:-1] if len(sample) < len(text) else recs[1:]
        consistent = sum(len(r) == width for r in body)
        share = consistent / len(body) if body else 1.0
        score = (share, width) if width > 1 else (-1.0, 0)
        if score > best_score:
            best, best_score = d, score
    return best


def read_csv(path: Path, data: bytes) -> RawTable:
    """Read a CSV/TSV text export: every cell as text, blank cells as missing."""
    text, enc, notes = decode_text(path, data)
    delim = sniff_delimiter(text)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False))
    except csv.Error as exc:
        raise InputError(f"{path}: cannot parse the CSV ({reason(exc)}). Check quoting and export it again.") from None
    if text.count('"') % 2 and records and any("\n" in f for f in records[-1]):
        raise InputError(f"{path}: a quoted field is never closed (it runs from data row "
                         f"{len(records) - 1} to the end of the file). The file may be truncated, "
                         "or a text answer contains a stray '\"': export it again.")
    # A truly empty line is not a data row; a line of delimiters (",,,,") is one.
    blank = sum(1 for r in records if not r)
    records = [r for r in records if r]
    if not records:
        raise InputError(f"{path}: the file is empty (no header, no rows). Export the responses again.")
    header, body = records[0], records[1:]
    width = len(header)
    fixed = []
    for i, r in enumerate(body, start=1):
        if len(r) > width:
            extra = r[width:]
            if any(c.strip() for c in extra):
                raise InputError(
                    f"{path}: data row {i} has {len(r)} fields but the header has {width} "
                    f"(delimiter '{_show(delim)}'). Check for an unquoted '{_show(delim)}' "
                    "in a text answer, or export the file again with quoting.")
            r = r[:width]
        elif len(r) < width:
            r = r + [""] * (width - len(r))
        fixed.append([c if c.strip() else None for c in r])
    if blank:
        notes.append(("blank lines skipped", f"{blank} empty line(s) in the file were not data rows"))
    rows = pd.DataFrame(fixed, columns=range(width), dtype=object)
    if delim != ",":
        notes.append(("delimiter detected", f"'{_show(delim)}'"))
        comma_cols = decimal_comma_columns(rows)
        if comma_cols:
            for k in comma_cols:
                rows[k] = rows[k].map(lambda v: v if v is None else v.replace(",", "."))
            names = ", ".join(header[k] for k in comma_cols[:10])
            more = f" and {len(comma_cols) - 10} more" if len(comma_cols) > 10 else ""
            notes.append(("decimal comma detected",
                          f"{len(comma_cols)} column(s) of numbers written with a decimal comma "
                          f"('4,0'), read as decimal points: {names}{more}"))
    return RawTable(header=header, rows=rows, format="csv", encoding=enc, notes=notes)


#: a number written with a decimal comma, as Excel writes it in most of Europe ("4,0")
_DECIMAL_COMMA = re.compile(r"\s*[+-]?\d+,\d+\s*")
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")



def decimal_comma_columns(rows: pd.DataFrame) -> list:
    """The columns of a text export (not comma-delimited) that hold numbers with decimal
    commas: every filled cell is an integer or ``digits,digits`` and at least one has the
    comma. A column with any other text ("1,2,3" of a multiple choice, a word) is left
    alone, so that only numbers change.
    """
    out = []
    for k in rows.columns:
        vals = rows[k].dropna().astype(str)
        if vals.empty or not vals.str.contains(",", regex=False).any():
            continue
        comma = vals.str.fullmatch(_DECIMAL_COMMA)
        if comma.any() and (comma | vals.str.fullmatch(_INTEGER)).all():
            out.append(k)
    return out


def _show(d: str) -> str:
    return "\\t" if d == "\t" else d
