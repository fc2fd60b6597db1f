"""What a run directory holds, and how to recognise one.

Every run directory written by :func:`adoption.rundir.write_run` holds ``manifest.json``:
the run's marker and the SHA-256 of every file the run wrote::

    {"format": "adoption-run-manifest/1", "files": {"results.json": "<sha256>", ...}}

The manifest is what makes it safe to replace a folder given as ``--out`` (only a folder
whose every file the run wrote, unchanged, is replaced) and what ``adoption reproduce``
checks the run's files against.

Run directories written before the manifest existed are recognised by their layout
(:func:`is_legacy_run`): a ``results.json`` written by ``adoption run`` (with its
``adoption_version``, ``input``, ``spec`` and ``options``), ``log.csv`` and
``exclusions.csv``, and no file outside the layout those versions wrote.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "adoption-run-manifest/1"
#: marker inside a run's temporary folder while it is written (pid, host, start time);
#: removed once the folder is in place
TMP_MARKER = ".adoption-writing"
#: files an operating system drops into folders it shows; tolerated in a run directory
OS_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: every file a run wrote before ``manifest.json`` existed (relative POSIX paths)
LEGACY_LAYOUT = re.compile(r"(results\.json|responses\.parquet|exclusions\.csv|log\.csv"
                           r"|report\.html|report\.docx|tables/[^/]+\.csv|figures/[^/]+\.(svg|png))")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def list_files(folder: str | Path) -> list[str]:
    """Relative POSIX paths of the files under ``folder`` (symbolic links count as files,
    never followed), without the manifest, the writing marker and OS litter; sorted."""
    base = Path(folder)
    out = []
    for p in base.rglob("*"):
        if p.is_dir() and not p.is_symlink():
            continue
        if p.name in OS_LITTER or (p.name in (MANIFEST, TMP_MARKER) and p.parent == base):
            continue
        out.append(p.relative_to(base).as_posix())
    return sorted(out)


def write_manifest(folder: str | Path) -> dict[str, str]:
    """Write ``manifest.json`` listing the SHA-256 of every file in ``folder``; returns it."""
    base = Path(folder)
    files = {name: file_sha256(base / name) for name in list_files(base)}
    (base / MANIFEST).write_text(json.dumps({"format": MANIFEST_FORMAT, "files": files}, indent=1),
                                 encoding="utf-8")
    return files


def read_manifest(folder: str | Path) -> dict[str, str] | None:
    """The files and hashes that ``folder/manifest.json`` records, or None when there is
    no manifest written by a run (absent, unreadable, or another program's file)."""
    try:
        doc = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        return None
    files = doc.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        return None
    return files


def record_files(folder: str | Path, names: list[str]) -> None:
    """Update the manifest's hashes of ``names`` after the run's own code rewrote them
    (``rebuild_report``); other entries are left as recorded. No manifest: nothing done."""
    base = Path(folder)
    files = read_manifest(base)
    if files is None:
        return
    files.update({n: file_sha256(base / n) for n in names})
    (base / MANIFEST).write_text(json.dumps({"format": MANIFEST_FORMAT, "files": dict(sorted(files.items()))},
                                            indent=1), encoding="utf-8")


@dataclass(frozen=True)
class FileCheck:
    """A run directory's files against its manifest: names ``edited`` (hash differs),
    ``missing`` (recorded, now absent) and ``extra`` (present, never recorded)."""

    edited: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.edited or self.missing or self.extra)


def check_files(folder: str | Path, recorded: dict[str, str]) -> FileCheck:
    """Compare the files under ``folder`` with the manifest ``recorded``."""
    base = Path(folder)
    present = set(list_files(base))
    edited = [n for n in sorted(present & set(recorded))
              if (base / n).is_symlink() or file_sha256(base / n) != recorded[n]]
    return FileCheck(edited=tuple(edited), missing=tuple(sorted(set(recorded) - present)),
                     extra=tuple(sorted(present - set(recorded))))


def is_legacy_run(folder: str | Path) -> bool:
    """True for a run directory written before manifests: ``results.json`` from
    ``adoption run``, ``log.csv``, ``exclusions.csv``, and nothing outside that layout."""
    base = Path(folder)
    try:
        res = json.loads((base / "results.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(res, dict) or not {"adoption_version", "input", "spec", "options"} <= set(res):
        return False
    if not ((base / "log.csv").is_file() and (base / "exclusions.csv").is_file()):
        return False
    return all(LEGACY_LAYOUT.fullmatch(n) and not (base / n).is_symlink() for n in list_files(base))


def run_dir_problem(folder: str | Path) -> str | None:
    """Why ``folder`` may not be replaced by a new run, or None when it may: it is a run
    directory (manifest, results.json) whose files are the run's own, unchanged, or a
    run directory from before manifests (:func:`is_legacy_run`)."""
    base = Path(folder)
    recorded = read_manifest(base)
    if recorded is None:
        return None if is_legacy_run(base) else "is not a run directory"
    if not (base / "results.json").is_file():
        return "is not a run directory (no results.json)"
    check = check_files(base, recorded)
    if check.extra:
        return f"holds files the run did not write ({_names(check.extra)})"
    if check.edited:
        return f"holds files changed since the run wrote them ({_names(check.edited)})"
    return None


def _names(names: tuple[str, ...], most: int = 3) -> str:
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more
