"""Format readers for :mod:`adoption.load`: one small function per file format.

Each reader turns the bytes of one export file into a :class:`RawTable`: the header
exactly as written (so duplicates can still be seen), the cells as read, and what the
file says about itself (labels, user-defined missing values, encoding). Readers do not
look at the survey spec; :func:`adoption.load.load_responses` does that.

Every failure a user can cause (wrong extension, truncated file, a .sav renamed .csv)
is raised as :class:`~adoption.errors.InputError` naming the file and what to do.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from adoption import handover
from adoption.errors import InputError

#: file extension -> format name used in :class:`adoption.load.SourceInfo`
EXTENSIONS: dict[str, str] = {
    ".sav": "sav", ".zsav": "zsav", ".por": "por", ".dta": "dta",
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx",
    ".xls": "xls", ".ods": "ods",
}

#: delimiters tried on text files, in order of preference on a tie
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")

#: Limits that keep a hostile or broken file from hanging the loader or eating memory.
#: A survey export is far below each of them (100,000 respondents x 500 columns is
#: 50 million cells and a few hundred MB of text).
MAX_FILE_BYTES = 1 << 30            # any export file: 1 GiB
MAX_LINE_BYTES = 4 << 20            # one line of a text export: 4 MiB
MAX_XLSX_UNCOMPRESSED = 512 << 20   # sum of the uncompressed parts of an .xlsx: 512 MiB
MAX_XLSX_RATIO = 200                # uncompressed/compressed size of one part over 1 MiB
MAX_CELLS = 50_000_000              # rows x columns of an Excel sheet
SPARSE_MIN_CELLS = 1_000_000        # a sheet spanning more cells than this must not be
SPARSE_RATIO = 50                   # ... more than 50 times emptier than it is filled
EXCEL_MAX_ROWS = 1_048_576          # Excel's own limit; a row number past it is forged


@dataclass
class RawTable:
    """One file as read, before the spec is applied.

    Attributes
    ----------
    header : column names in file order, as written (duplicates possible).
    rows : DataFrame with positional columns ``0..k-1`` (renamed later, once the header
        has been checked), one row per data row.
    format : 'sav', 'zsav', 'por', 'dta', 'csv' or 'xlsx'.
    encoding : the text encoding used (CSV) or reported by the file (SPSS, Stata).
    variable_labels : column -> label, where the file has them.
    value_labels : column -> {code: label}, where the file has them.
    missing_ranges : column -> [(lo, hi), ...] SPSS user-defined missing values/ranges.
    missing_user_values : column -> letters of Stata/SAS extended missing values.
    notes : (action, detail) pairs the reader wants logged.
    """

    header: list[str]
    rows: pd.DataFrame
    format: str
    encoding: str | None = None
    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict] = field(default_factory=dict)
    missing_ranges: dict[str, list[tuple]] = field(default_factory=dict)
    missing_user_values: dict[str, list] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)


def _reason(exc: BaseException) -> str:
    """A library's error text fit for a one-line message: its first line, at most 200
    characters (openpyxl and pyreadstat messages can run over several lines)."""
    text = (str(exc).strip().splitlines() or [""])[0]
    return text if len(text) <= 200 else text[:197] + "..."


# -- what the bytes say ------------------------------------------------------------------
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


# -- size guards (before any parser sees the file) ----------------------------------------
def check_size(path: Path, fmt: str) -> None:
    """Refuse a file too big to be an export, or a text export with an absurdly long line.

    The line scan streams the file in 1 MiB chunks, so a 200 MB file of one line is
    refused after reading about 4 MiB, without holding the file in memory.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: the file is {size / 2**20:,.0f} MiB, more than the loader reads "
                         f"({MAX_FILE_BYTES / 2**20:,.0f} MiB). Split the export or drop unused columns.")
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
                if run > MAX_LINE_BYTES:
                    raise InputError(
                        f"{path}: line {line} is longer than {MAX_LINE_BYTES >> 20} MiB; a survey "
                        "export row is never that long. The file is not a CSV export or is "
                        "corrupt: export it again.")


# -- SPSS and Stata via pyreadstat --------------------------------------------------------
#: exit code of a guard child that read the file but could not hand the frame over (a
#: column of an unexpected type, a full disk): this process then reads the file itself,
#: which is safe, since the child survived reading it
HANDOVER_FAILED = 3


def _scratch_root(size: int) -> str | None:
    """Where the child writes the frame: /dev/shm (memory) when it has room for about
    four times the file, else the system's temporary folder."""
    shm = "/dev/shm"
    try:
        if os.path.isdir(shm) and os.access(shm, os.W_OK):
            st = os.statvfs(shm)
            if st.f_bavail * st.f_frsize > 4 * size + (64 << 20):
                return shm
    except OSError:
        pass
    return None


def _child_reads(read, folder: Path) -> None:
    """The guard child: read silently, write the result into ``folder`` and leave
    without running any cleanup (exit 0; :data:`HANDOVER_FAILED` if it cannot be
    written). A crash of the C library kills the child by its signal."""
    code = 0
    try:
        import faulthandler

        faulthandler.disable()  # a crash must not print a dump over the parent's output
        for sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT):
            signal.signal(sig, signal.SIG_DFL)  # die by the signal, whoever handled it
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        try:
            df, info = read()
        except Exception as exc:  # pyreadstat raises ReadstatError/PyreadstatError and more
            info = {"error": _reason(exc)}
        else:
            try:
                handover.write_frame(df, folder)
            except Exception:  # UnsupportedColumn, OSError (a full disk)
                code = HANDOVER_FAILED
        (folder / "meta.json").write_text(json.dumps(info), encoding="utf-8")
    except BaseException:
        code = HANDOVER_FAILED
    os._exit(code)


def read_in_child(read, timeout: float = 60.0, size: int = 0):
    """Run ``read()`` once, in a forked child process, and return its result.

    A corrupt header can crash the C library behind pyreadstat (a segmentation fault
    kills the whole process, with no message) or make it hang, so the file is read in a
    child, which hands the frame back through a private temporary folder
    (:mod:`adoption.handover`: Arrow IPC and JSON, never a pickle). The folder is
    removed on return, on error and on Ctrl-C; the child is killed if it still runs.

    Parameters
    ----------
    read : callable
        Returns ``(frame, info)`` with ``info`` JSON-able; raises on an unreadable file.
    timeout : float
        Seconds after which the child is taken to hang.
    size : int
        The file's size in bytes, to choose the folder (see :func:`_scratch_root`).

    Returns
    -------
    ('ok', (frame, info)), ('error', reason text), ('crashes', None) or ('hangs', None).
    Where ``os.fork`` is missing, or the child could not hand the frame over,
    ``read()`` runs in this process.
    """
    if not hasattr(os, "fork"):
        return _read_here(read)
    folder = Path(tempfile.mkdtemp(prefix="adoption-read-", dir=_scratch_root(size)))
    pid = None
    try:
        pid = os.fork()
        if pid == 0:
            _child_reads(read, folder)
        status = _wait(pid, timeout)
        pid = None  # reaped
        if status is None:
            return "hangs", None
        if os.WIFSIGNALED(status) or os.WEXITSTATUS(status) not in (0, HANDOVER_FAILED):
            return "crashes", None
        if os.WEXITSTATUS(status) == HANDOVER_FAILED:
            return _read_here(read)
        info = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if "error" in info:
            return "error", info["error"]
        return "ok", (handover.read_frame(folder), info)
    finally:
        if pid:  # interrupted (Ctrl-C) or failed while the child runs
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        shutil.rmtree(folder, ignore_errors=True)


def _wait(pid: int, timeout: float) -> int | None:
    """The child's wait status, or None after killing it at ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.005)


def _read_here(read):
    try:
        return "ok", read()
    except Exception as exc:
        return "error", _reason(exc)


def _pairs(labels: dict) -> list[list]:
    """Value labels as ``[code, label]`` pairs: JSON object keys are text, so a numeric
    code (1.0) would come back as '1.0'; a pair keeps it a number."""
    return [[k, v] for k, v in labels.items()]


def readstat_info(meta, warned: list[str]) -> dict:
    """What :func:`read_readstat` needs from pyreadstat's metadata, as JSON-able values:
    variable labels, value labels (as :func:`_pairs`), missing ranges as ``[lo, hi]``,
    Stata/SAS extended missing letters, encoding, announced rows, and the warnings
    the reader gave."""
    return {
        "variable_labels": {c: str(l) for c, l in meta.column_names_to_labels.items() if l},
        "value_labels": {c: _pairs(v) for c, v in (meta.variable_value_labels or {}).items()},
        "missing_ranges": {c: [[r["lo"], r["hi"]] for r in rr]
                           for c, rr in (meta.missing_ranges or {}).items()},
        "missing_user_values": {c: list(v) for c, v in
                                (getattr(meta, "missing_user_values", None) or {}).items()},
        "encoding": getattr(meta, "file_encoding", None),
        "number_rows": meta.number_rows,
        "warnings": warned,
    }


def read_readstat(path: Path, fmt: str) -> RawTable:
    """Read .sav/.zsav/.por/.dta with pyreadstat, keeping labels and user-missing codes.

    The file is read once, in a forked child that guards this process against a crash
    or hang of the C reader (:func:`read_in_child`). ``user_missing=True`` makes
    pyreadstat return user-defined missing codes as the values they are (with the rules
    in ``meta.missing_ranges``) instead of NaN, so that :mod:`adoption.load` can count
    them per column before setting them to missing. (.por files carry no user-missing
    definitions that pyreadstat can read.)
    """
    import warnings

    import pyreadstat

    def read():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if fmt in ("sav", "zsav"):
                df, meta = pyreadstat.read_sav(str(path), user_missing=True)
            elif fmt == "dta":
                df, meta = pyreadstat.read_dta(str(path), user_missing=True)
            else:
                df, meta = pyreadstat.read_por(str(path))
        info = readstat_info(meta, [str(w.message) for w in caught])
        return df, {**info, "header": [str(c) for c in df.columns]}

    size = path.stat().st_size
    # a hang is caught after a minute, plus time to read a big file (2 s per MiB)
    status, value = read_in_child(read, timeout=60.0 + 2.0 * size / 2**20, size=size)
    if status in ("crashes", "hangs"):
        raise InputError(f"{path}: this .{fmt} file {status} the SPSS/Stata reader (it is "
                         "corrupt). Export the file again from the program that made it.")
    if status == "error":
        raise InputError(f"{path}: cannot read this .{fmt} file ({value}). It is probably "
                         "truncated or corrupt: export it again from the program that made it.")
    df, info = value
    notes = []
    for text in info["warnings"]:
        dup = re.search(r"column '(.*)' is duplicated", text)
        if dup:
            # pyreadstat renames the second copy; a CSV with the same header is refused
            raise InputError(f"{path}: column '{dup.group(1)}' appears twice in the file. "
                             "Rename or remove one of them and save the file again.")
        notes.append(("reader warning", _reason(text)))
    if info["number_rows"] not in (None, -1) and info["number_rows"] != len(df):
        raise InputError(f"{path}: the file header announces {info['number_rows']} rows but "
                         f"{len(df)} could be read: the file is truncated. Export it again.")
    header = info["header"]
    df.columns = range(len(header))
    return RawTable(
        header=header, rows=df, format=fmt, encoding=info["encoding"],
        variable_labels=info["variable_labels"],
        value_labels={c: {k: v for k, v in pairs} for c, pairs in info["value_labels"].items()},
        missing_ranges={c: [tuple(r) for r in rr] for c, rr in info["missing_ranges"].items()},
        missing_user_values=info["missing_user_values"],
        notes=notes,
    )


# -- CSV ----------------------------------------------------------------------------------
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
        raise InputError(f"{path}: cannot parse the CSV ({_reason(exc)}). Check quoting and export it again.") from None
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

#: reader notes that say what was detected about the file, shown by ``validate`` and ``run``
DETECTED = ("delimiter detected", "decimal comma detected", "encoding guessed", "mixed encodings",
            "xls read", "ods read")


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


# -- Excel --------------------------------------------------------------------------------
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
        raise InputError(f"{path}: cannot open this Excel file ({exc.__class__.__name__}: {_reason(exc)}). "
                         "It may be truncated or not a real .xlsx: save it again from Excel.") from None
    total = sum(i.file_size for i in infos)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise InputError(f"{path}: the workbook would unpack to {total / 2**20:,.0f} MiB (limit "
                         f"{MAX_XLSX_UNCOMPRESSED >> 20} MiB); it is not a plain survey export. "
                         "Export the responses as CSV instead.")
    for i in infos:
        if i.file_size > (1 << 20) and i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 1):
            raise InputError(f"{path}: part '{i.filename}' would inflate {i.file_size // max(i.compress_size, 1):,} "
                             f"times (from {i.compress_size:,} to {i.file_size:,} bytes), like a zip bomb. "
                             "Export the responses as CSV instead.")


def read_xlsx(path: Path, sheet: str | None = None) -> RawTable:
    """Read one sheet of an .xlsx workbook (the first unless ``sheet`` names another).

    Cells are read as their stored values (``data_only=True``: formulas give their last
    computed result; nothing is ever evaluated). Entirely empty trailing rows and
    columns are ignored. The ZIP directory is checked first (:func:`check_xlsx_zip`), and
    a sheet spanning more than :data:`MAX_CELLS` cells is refused while it is read.
    """
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    check_xlsx_zip(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot open this Excel file ({exc.__class__.__name__}: {_reason(exc)}). "
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
            if len(cells) * width > MAX_CELLS or len(cells) > EXCEL_MAX_ROWS:
                raise InputError(
                    f"{path}: the sheet spans more than {MAX_CELLS:,} cells ({len(cells):,} rows x "
                    f"{width:,} columns so far). Delete stray cells far below or right of the "
                    "data, or export the responses as CSV.")
        check_sparse(path, last, width, filled)
        cells = [list(r) for r in cells[:last]]
        n_formulas = _count_formulas(path, getattr(ws, "_worksheet_path", None))
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: cannot read the sheet ({exc.__class__.__name__}: {_reason(exc)}). "
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
    if span > SPARSE_MIN_CELLS and filled * SPARSE_RATIO < span:
        raise InputError(
            f"{path}: the sheet spans {rows:,} rows x {width:,} columns but only {filled:,} cells "
            "are filled: there are stray cells far below or right of the data. Delete them "
            "(or copy the data to a new sheet), or export the responses as CSV.")


def check_cells(path: Path, rows: int, width: int) -> None:
    """Refuse a sheet of more than :data:`MAX_CELLS` cells or more rows than Excel has."""
    if rows * width > MAX_CELLS or rows > EXCEL_MAX_ROWS:
        raise InputError(
            f"{path}: the sheet spans more than {MAX_CELLS:,} cells ({rows:,} rows x "
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

    try:
        with warnings.catch_warnings():
            # pandas 3 calls its xlrd engine deprecated (calamine reads .xls too, but is
            # one more compiled dependency); xlrd 2 still reads every BIFF8 file
            warnings.simplefilter("ignore")
            book = pd.ExcelFile(path, engine=engine)
    except Exception as exc:  # xlrd/odfpy raise many kinds of error on a broken file
        raise InputError(f"{path}: cannot open this .{fmt} file ({exc.__class__.__name__}: "
                         f"{_reason(exc)}). Save it again, or export the responses as CSV.") from None
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
        raise InputError(f"{path}: cannot read the sheet ({exc.__class__.__name__}: {_reason(exc)}). "
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
