"""The run directory: everything a run wrote, written atomically.

Layout::

    results.json     machine-readable results (input, sample flow, descriptives, models)
    responses.parquet  the cleaned, analysed responses (no PII)
    responses.sav/.dta the same with construct scores and labels (adoption.spssout)
    exclusions.csv   one line per excluded input row with its reasons
    log.csv          every value changed, column dropped and row excluded
    tables/*.csv     tables for people (written by later stages)
    tables.xlsx, tables/*.tex  the same tables as one workbook and as LaTeX (adoption.tablesout)
    report.html, report.docx, figures/*.svg|png   the report
    manifest.json    the run's marker: SHA-256 of every file above (adoption.runfiles)

:func:`write_run` writes into a temporary sibling folder (``.NAME.tmp-PID-XXXXXXXX``, marked
inside with the writer's pid) and renames it into place at the end, so a failed or
interrupted run leaves the previous run directory, or none, never a half-written one;
temporary folders left by killed runs are removed by the next run of the same output.

A run replaces its directory whole, so it is written only where that cannot destroy a
user's files (:func:`check_target`): a new path, an empty folder, or a previous run
directory holding only the files that run wrote. Anything else is refused with exit 2.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from adoption.errors import InputError
from adoption.jsonable import to_jsonable  # noqa: F401  (re-exported)
from adoption.runfiles import TMP_MARKER, run_dir_problem, write_manifest
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
              extra: Callable[[Path], None] | None = None,
              protect: Iterable[str | Path] = ()) -> Path:
    """Write a run directory atomically, with its ``manifest.json``.

    Parameters
    ----------
    out_dir : path of the run directory. It may exist only as an empty folder or as a
        previous run directory, which is then replaced whole (see :func:`check_target`).
        Missing parent folders are created.
    results : written as ``results.json``.
    frames : name -> DataFrame written as ``name`` (a relative path ending in .csv),
        with formula-looking text escaped; those under ``tables/`` also go to
        ``tables.xlsx`` (a sheet each) and ``tables/<name>.tex``.
    parquet : name -> DataFrame written as Parquet.
    extra : called with the temporary folder to write further files (report, figures).
    protect : files the run reads (spec, data): ``out_dir`` may not be or hold them.

    Returns
    -------
    Path of the finished run directory.

    Raises
    ------
    InputError
        ``out_dir`` is not a place a run may be written (see :func:`check_target`), or
        its parent folder cannot be created.
    """
    out = prepare_target(out_dir, protect)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    except OSError as exc:
        raise InputError(f"{out.parent}: cannot create the output folder ({exc.strerror}). "
                         "Choose another --out.") from None
    try:
        _mark(tmp)
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
        write_manifest(tmp)
        _replace_dir(tmp, out)
    except BaseException:
        _discard(tmp)
        raise
    return out


# -- where a run may be written --------------------------------------------------------------
def check_target(out_dir: str | Path, protect: Iterable[str | Path] = ()) -> Path:
    """The resolved run directory path, if a run may be written there; else InputError.

    A run replaces its directory whole, so ``out_dir`` must be a path that does not
    exist yet, an empty folder, or a previous run directory whose every file the run
    wrote, unchanged (:func:`adoption.runfiles.run_dir_problem`). Refused: a file; the
    current folder or a folder holding it; a folder holding a file in ``protect`` (the
    spec and the data) or that file itself; any other folder; a name longer than the
    file system allows (the temporary folder's name is up to 22 bytes longer); a parent path
    that runs through a file. Missing parent folders are fine (write_run creates them).
    Root gets the same answers: nothing here depends on permissions.
    """
    given = str(out_dir)
    out = Path(out_dir).resolve()
    where = f"--out {given}"
    for f in protect:
        f = Path(f).resolve()
        if f == out:
            raise InputError(f"{where}: that is {f.name}, which the run reads; a run directory "
                             "would replace it. Give a new folder name for --out.")
        if f.is_relative_to(out):
            raise InputError(f"{where}: that folder holds {f.name}, which the run reads; a run "
                             f"directory replaces its folder whole. Give a new folder, e.g. --out {Path(given) / 'run'}.")
    try:
        cwd = Path.cwd().resolve()
    except OSError:  # the current folder was deleted: nothing there to protect
        cwd = None
    if cwd is not None and cwd.is_relative_to(out):
        raise InputError(f"{where}: that is the current folder (or holds it); a run directory "
                         "replaces its folder whole. Give a new folder name for --out.")
    _check_name_length(out, where)
    if not out.exists():
        if os.path.lexists(out):
            raise InputError(f"{where}: a broken symbolic link is in the way. Remove it or choose another --out.")
        for parent in out.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise InputError(f"{where}: {parent} is a file, not a folder. Choose another --out.")
                break
        return out
    if not out.is_dir():
        raise InputError(f"{where}: a file of that name exists; a run directory would replace it. "
                         "Choose another --out (or move the file).")
    if not any(out.iterdir()):
        return out
    problem = run_dir_problem(out)
    if problem is not None:
        raise InputError(f"{where}: the folder exists but {problem}; a run replaces only a "
                         "previous run directory. Choose a new folder for --out (or move this one).")
    return out


def _check_name_length(out: Path, where: str) -> None:
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("/"))
    try:
        limit = os.pathconf(existing if existing.is_dir() else existing.parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    need = len(os.fsencode(out.name)) + 22  # '.' NAME '.tmp-' PID (7 digits at most) '-' 8 characters
    if need > limit:
        raise InputError(f"{where}: the folder name is {len(os.fsencode(out.name))} bytes long; this file "
                         f"system allows {limit - 22} for a run directory. Choose a shorter name.")


def prepare_target(out_dir: str | Path, protect: Iterable[str | Path] = ()) -> Path:
    """:func:`check_target`, then remove this output's stale temporary folders
    (:func:`clean_stale`); returns the resolved run directory path."""
    out = check_target(out_dir, protect)
    clean_stale(out)
    return out


# -- temporary folders: marked while written, removed when stale ---------------------------------
#: a temporary folder whose writer is on another host counts as stale after this long
STALE_AFTER_SECONDS = 24 * 3600


def _mark(folder: Path) -> None:
    """Write the writing marker whole or not at all (a kill between creating and filling
    it would leave an empty marker that names no process)."""
    part = folder / (TMP_MARKER + ".part")
    part.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                "started": time.time()}), encoding="utf-8")
    os.replace(part, folder / TMP_MARKER)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def is_stale(folder: Path) -> bool:
    """True for a temporary folder a run left behind: it holds the writing marker of a
    process that no longer runs on this host (or, from another host, is over
    :data:`STALE_AFTER_SECONDS` old); it is empty and its name (``.NAME.tmp-PID-XXXXXXXX``)
    names a process that no longer runs (killed before it wrote its marker); or it is a
    previous run directory swapped out for deletion (killed before it was deleted).
    Anything else is never stale."""
    marker = folder / TMP_MARKER
    pid_in_name = re.search(r"\.tmp-(\d+)-[a-z0-9_]{8}$", folder.name)
    # killed before it wrote its marker (or while writing it)
    only_marker_part = {p.name for p in folder.iterdir()} <= {TMP_MARKER + ".part"}
    if pid_in_name and only_marker_part:
        return not _alive(int(pid_in_name.group(1)))
    if marker.is_file() and not marker.is_symlink():
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
            pid, host, started = int(info["pid"]), str(info["host"]), float(info["started"])
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if host == socket.gethostname() and not _alive(pid):
            return True
        return time.time() - started > STALE_AFTER_SECONDS
    return run_dir_problem(folder) is None


def clean_stale(out: Path) -> list[Path]:
    """Remove the stale temporary folders of the run directory ``out`` (named
    ``.NAME.tmp-PID-XXXXXXXX`` or ``.NAME.old-PID`` beside it, see :func:`is_stale`);
    returns those removed. Nothing else in the parent folder is touched."""
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(tmp-(\d+-)?[a-z0-9_]{{8}}|old-\d+)")
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return []
    removed = []
    for p in entries:
        if pattern.fullmatch(p.name) and p.is_dir() and not p.is_symlink() and is_stale(p):
            _discard(p)
            removed.append(p)
    return removed


def _discard(folder: Path) -> None:
    """Delete a temporary folder, its writing marker last, so that a delete cut short
    still leaves a folder that :func:`is_stale` recognises."""
    try:
        _mark(folder)
    except OSError:
        pass
    for p in list(folder.iterdir()) if folder.is_dir() else []:
        if p.name == TMP_MARKER:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)


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
    name (a leftover '.name.tmp-*' folder is removed by the next run, see
    :func:`clean_stale`). Elsewhere the old directory is
    renamed away first, which leaves a short window without ``target``.
    """
    if target.exists() and _exchange(new, target):
        (target / TMP_MARKER).unlink(missing_ok=True)
        _discard(new)  # ``new`` now holds the previous run
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
    (target / TMP_MARKER).unlink(missing_ok=True)
    if old is not None:
        _discard(old)
