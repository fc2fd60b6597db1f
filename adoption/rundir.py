"""The run directory: everything a run wrote, written atomically.

Layout::

    results.json     machine-readable results (input, sample flow, descriptives, models)
    responses.parquet  the cleaned, analysed responses (no PII)
    responses.sav/.dta the same with construct scores and labels (adoption.spssout)
    exclusions.csv   one line per excluded input row with its reasons
    log.csv          every value changed, column dropped and row excluded
    tables/*.csv     tables for people (written by later stages)
    tables.xlsx, tables/*.tex  the same tables as one workbook and as LaTeX (adoption.tablesout)

:func:`write_run` writes into a temporary sibling folder and renames it into place at
the end, so a failed or interrupted run leaves the previous run directory, or none,
never a half-written one.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from adoption.errors import InputError
from adoption.jsonable import to_jsonable  # noqa: F401  (re-exported)
from adoption.tablesout import write_tables

#: A cell starting with one of these is always a formula (or a control character that
#: some spreadsheets strip before reading a formula): guarded.
_ALWAYS_GUARD = ("=", "\t", "\r")
#: A cell starting with one of these is a formula only when more follows that a
#: spreadsheet can evaluate (``+1+1``, ``-A1``, ``@SUM(1)``, ``+cmd|' /C calc'!A0``).
_SIGN_START = ("+", "-", "@")
#: Letters (function and cell names) and operators that make the rest of a ``+ - @``
#: cell a formula; without any of them ("+", "-", "-9: 1") the cell stays text.
_FORMULA_CHARS = re.compile(r"""[A-Za-z(){}\[\]|!"'&*/^=+\-<>%,;$]""")


def needs_guard(text: str) -> bool:
    """Whether a spreadsheet opening the CSV could evaluate ``text`` as a formula.

    Excel and LibreOffice Calc evaluate a cell starting with ``=``; a cell starting
    with ``+``, ``-`` or ``@`` is read as a formula when the rest is an expression
    (``-2+3``, ``+A1``, ``@SUM(1)``, DDE such as ``+cmd|' /C calc'!A0``). A lone sign,
    a plain number and a sign followed only by digits, spaces, ``:`` or ``.`` ("-9: 1")
    cannot call a function, reference a cell or run a command, and are left as text.
    Cells starting with a tab or carriage return are guarded (OWASP, CSV injection).

    >>> [needs_guard(x) for x in ("=1+1", "-2+3", "@SUM(1)", "+", "-9: 1", "-2.5")]
    [True, True, True, False, False, False]
    """
    if text.startswith(_ALWAYS_GUARD):
        return True
    if not text.startswith(_SIGN_START):
        return False
    try:
        float(text)
        return False
    except ValueError:
        pass
    return bool(_FORMULA_CHARS.search(text[1:]))


def _escape_cell(v: Any) -> Any:
    if isinstance(v, str) and needs_guard(v):
        return "'" + v
    return v


def safe_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot run as spreadsheet formulas.

    A text cell that a spreadsheet would evaluate (:func:`needs_guard`: starting with
    ``=``, or with ``+ - @`` followed by an expression) gets a leading apostrophe, as
    OWASP's CSV-injection advice says; numbers, lone signs and other text are left alone. Column
    names are escaped too (a header can come from the input file), and categorical
    columns are escaped through their categories.
    """
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object)
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(_escape_cell)
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = pd.MultiIndex.from_tuples(
            [tuple(_escape_cell(x) for x in t) for t in out.columns])
    else:
        out.columns = [_escape_cell(c) for c in out.columns]
    return out


def write_run(out_dir: str | Path, *, results: Mapping[str, Any],
              frames: Mapping[str, pd.DataFrame] | None = None,
              parquet: Mapping[str, pd.DataFrame] | None = None,
              extra: Callable[[Path], None] | None = None) -> Path:
    """Write a run directory atomically.

    Parameters
    ----------
    out_dir : path of the run directory; replaced whole if it exists.
    results : written as ``results.json``.
    frames : name -> DataFrame written as ``name`` (a relative path ending in .csv),
        with formula-looking text escaped; those under ``tables/`` also go to
        ``tables.xlsx`` (a sheet each) and ``tables/<name>.tex``.
    parquet : name -> DataFrame written as Parquet.
    extra : called with the temporary folder to write further files (report, figures).

    Returns
    -------
    Path of the finished run directory.
    """
    out = Path(out_dir).resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out.parent}: cannot create the output folder ({exc.strerror}). "
                         "Choose another --out.") from None
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        (tmp / "results.json").write_text(
            json.dumps(to_jsonable(results), indent=2, allow_nan=False), encoding="utf-8")
        tables = {}
        for name, df in (frames or {}).items():
            p = tmp / name
            p.parent.mkdir(parents=True, exist_ok=True)
            safe = safe_csv_frame(df)
            safe.to_csv(p, index=False)
            if name.startswith("tables/"):
                tables[name] = safe
        write_tables(tmp, tables)
        for name, df in (parquet or {}).items():
            df.to_parquet(tmp / name)
        if extra is not None:
            extra(tmp)
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where the system cannot (not Linux, old kernel or libc, a file system
    without support), so that the caller falls back to two renames.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an existing ``target`` is swapped out, then removed.

    Where the system can, the two folders are exchanged in one atomic step, so that a
    process killed at any moment leaves the old run directory or the new one under
    ``target``, never neither; the old one is then deleted from its hidden temporary
    name (a leftover '.name.tmp-*' folder is harmless). Elsewhere the old directory is
    renamed away first, which leaves a short window without ``target``.
    """
    if target.exists() and _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the previous run
        return
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
