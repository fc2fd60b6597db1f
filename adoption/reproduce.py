"""Reproduce a run: rerun it from what its ``results.json`` recorded and compare.

``results.json`` records the spec (``spec.path``, and ``spec.sha256`` where the run wrote
it), the input file (``input.path`` and ``input.sha256``) and the options (``options``:
estimator, bootstrap, seed).
:func:`reproduce` checks that the input file is still the same bytes, reruns the
pipeline with the same spec, input and options into a temporary folder (deleted after),
and compares. What "reproduced" means, file by file:

* ``results.json``: every value, numbers included, key by key (exactly, or within
  ``--rtol``); clock times and durations (:data:`TIMING_KEYS`) and the adoption version
  are not compared.
* every other file the run wrote, as listed in its ``manifest.json``
  (:mod:`adoption.runfiles`): first, the file in the run directory must still have the
  recorded SHA-256 (a file edited, deleted or added after the run is named); then the
  rerun must write the same bytes. The writers make that possible: SVG ids and dates and
  the ZIP dates inside report.docx are fixed, PNG and CSV carry no clock. Two
  exceptions: ``*.parquet``, ``tables.xlsx``, ``responses.sav`` and ``.dta`` count as the
  same when they hold the same tables (columns, types, values, labels), since their bytes
  carry the writer's version or clock; with ``--rtol``
  above 0, CSV files are compared cell by cell (numbers within ``rtol``), and the
  report and figures, which show the results' numbers rounded, are not compared.
* a run directory without ``manifest.json`` (written before it existed): only
  ``results.json`` is compared, and the report says so.

Relative paths in ``results.json`` are as the run was given them, so they are read from
the current folder first (run ``adoption reproduce`` where the run was made), then from
the folder that holds the run directory.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adoption.errors import InputError
from adoption.runfiles import check_files, file_sha256, list_files, read_manifest

#: top-level keys whose values may differ between two runs of the same analysis
VOLATILE_KEYS: frozenset[str] = frozenset({"adoption_version"})
#: key names, at any depth, that hold clock times or durations (never the same twice)
TIMING_KEYS: frozenset[str] = frozenset({"seconds", "elapsed", "elapsed_seconds", "duration",
                                         "wall_time", "timestamp", "started", "finished",
                                         "created", "written_at"})


@dataclass(frozen=True)
class Difference:
    """One value that differs: ``key`` is a path such as ``cfa.fit.cfi`` or
    ``reliability[2].alpha``; a key present on one side only has ``None`` on the other
    and ``missing`` set to 'recorded' or 'rerun'."""

    key: str
    recorded: Any
    rerun: Any
    missing: str | None = None


@dataclass(frozen=True)
class FileDifference:
    """A file of the run that does not reproduce: ``name`` relative to the run directory,
    ``why`` in words ('changed since the run', 'the rerun wrote different bytes', ...)."""

    name: str
    why: str


@dataclass(frozen=True)
class ReproduceReport:
    """What :func:`reproduce` found.

    Attributes
    ----------
    run_dir : the run directory reproduced.
    spec_path, input_path : the files the rerun read.
    input_sha256 : the input's hash, recorded and (necessarily) matched.
    options : estimator, bootstrap, seed used for the rerun.
    values_compared : leaves (numbers, strings, booleans, nulls) compared.
    numbers_compared : of those, numbers.
    differences : every leaf that differs, in document order.
    version_recorded, version_now : adoption versions of the run and of the rerun.
    files_compared : files other than results.json compared (0 without a manifest).
    file_differences : those that differ, and why.
    files_not_compared : files left out (the report and figures when ``rtol`` > 0).
    has_manifest : False for a run written before manifests (only results.json compared).
    """

    run_dir: Path
    spec_path: Path
    input_path: Path
    input_sha256: str
    options: dict
    values_compared: int
    numbers_compared: int
    differences: tuple[Difference, ...]
    version_recorded: str | None = None
    version_now: str | None = None
    files_compared: int = 0
    file_differences: tuple[FileDifference, ...] = ()
    files_not_compared: tuple[str, ...] = ()
    has_manifest: bool = True

    @property
    def ok(self) -> bool:
        """True when every value of the rerun equals the recorded one, and every file too."""
        return not self.differences and not self.file_differences


def compare_results(recorded: Any, rerun: Any, *, rtol: float = 0.0,
                    ignore: frozenset[str] = VOLATILE_KEYS,
                    timing: frozenset[str] = TIMING_KEYS) -> tuple[int, int, list[Difference]]:
    """Walk two JSON documents together and list the leaves that differ.

    Parameters
    ----------
    recorded, rerun : parsed JSON (dicts, lists, str, int, float, bool, None).
    rtol : relative tolerance for numbers; 0 (the default) asks for the same number.
        An integer and a float of equal value are the same number.
    ignore : top-level keys not compared.
    timing : key names not compared at any depth (clock times and durations).

    Returns
    -------
    values_compared, numbers_compared, differences
    """
    diffs: list[Difference] = []
    counts = [0, 0]

    def same_number(a: float, b: float) -> bool:
        if a == b:
            return True
        if rtol and math.isfinite(a) and math.isfinite(b):
            return abs(a - b) <= rtol * max(abs(a), abs(b))
        return False

    def walk(a: Any, b: Any, key: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for k in list(a) + [k for k in b if k not in a]:
                sub = f"{key}.{k}" if key else str(k)
                if (not key and k in ignore) or k in timing:
                    continue
                if k not in b:
                    diffs.append(Difference(sub, a[k], None, missing="rerun"))
                elif k not in a:
                    diffs.append(Difference(sub, None, b[k], missing="recorded"))
                else:
                    walk(a[k], b[k], sub)
            return
        if isinstance(a, list) and isinstance(b, list):
            for i in range(max(len(a), len(b))):
                sub = f"{key}[{i}]"
                if i >= len(b):
                    diffs.append(Difference(sub, a[i], None, missing="rerun"))
                elif i >= len(a):
                    diffs.append(Difference(sub, None, b[i], missing="recorded"))
                else:
                    walk(a[i], b[i], sub)
            return
        counts[0] += 1
        is_num = (lambda x: isinstance(x, (int, float)) and not isinstance(x, bool))
        if is_num(a) and is_num(b):
            counts[1] += 1
            if not same_number(float(a), float(b)):
                diffs.append(Difference(key, a, b))
        elif type(a) is not type(b) or a != b:
            diffs.append(Difference(key, a, b))

    walk(recorded, rerun, "")
    return counts[0], counts[1], diffs


def _find(recorded: str, run_dir: Path, what: str) -> Path:
    p = Path(recorded)
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, run_dir.parent / p]
    for c in candidates:
        if c.exists():
            return c
    raise InputError(f"{run_dir / 'results.json'}: the recorded {what} '{recorded}' is not found "
                     f"(looked in {', '.join(str(c.parent) for c in candidates)}).\n"
                     "Run reproduce from the folder the run was made in, or restore the file.")


def read_recorded(run_dir: str | Path) -> dict:
    """The run's ``results.json``, checked for the keys a rerun needs."""
    d = Path(run_dir)
    f = d / "results.json"
    if not f.is_file():
        raise InputError(f"{d}: no results.json here; give the folder of a finished run.")
    try:
        res = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{f}: cannot read it as JSON ({exc.__class__.__name__}). "
                         "The run directory is damaged: run the analysis again.") from None
    need = {"input": ("path", "sha256"), "spec": ("path",), "options": ("estimator", "bootstrap", "seed")}
    for section, keys in need.items():
        sec = res.get(section) if isinstance(res, dict) else None
        gone = [k for k in keys if not isinstance(sec, dict) or k not in sec]
        if gone:
            raise InputError(f"{f}: '{section}' lacks {', '.join(gone)}, so the run cannot be "
                             "reproduced from it. Was it written by adoption run?")
    return res


def reproduce(run_dir: str | Path, *, rtol: float = 0.0) -> ReproduceReport:
    """Rerun a finished run from its recorded spec, input and options, and compare.

    Parameters
    ----------
    run_dir : str or Path
        A run directory written by ``adoption run`` (holding ``results.json``).
    rtol : float
        Relative tolerance for numbers (default 0: the very same number).

    Returns
    -------
    ReproduceReport
        ``ok`` is True when every value matches; ``differences`` lists the others.

    Raises
    ------
    InputError
        No or unreadable ``results.json``; the recorded spec or input not found; the
        input file's SHA-256 no longer the recorded one (the data changed); the same
        for the spec when its SHA-256 was recorded.

    Examples
    --------
    >>> report = reproduce("reports/example")  # doctest: +SKIP
    >>> report.ok, len(report.differences)  # doctest: +SKIP
    (True, 0)
    """
    from adoption import __version__
    from adoption.pipeline import RunOptions, run, write
    from adoption.rundir import to_jsonable

    d = Path(run_dir)
    recorded = read_recorded(d)
    spec_path = _find(recorded["spec"]["path"], d, "spec")
    input_path = _find(recorded["input"]["path"], d, "input file")
    want = str(recorded["input"]["sha256"]).lower()
    now = file_sha256(input_path)
    if now != want:
        raise InputError(f"{input_path}: the input file has changed since the run (sha256 recorded "
                         f"{want[:12]}..., now {now[:12]}...).\nRestore the original file to "
                         "reproduce the run, or make a new run with the changed data.")
    spec_want = recorded["spec"].get("sha256")
    if spec_want and file_sha256(spec_path) != str(spec_want).lower():
        raise InputError(f"{spec_path}: the spec has changed since the run (its sha256 differs from "
                         "the recorded one).\nRestore the spec to reproduce the run, or make a new run.")
    opts = recorded["options"]
    options = RunOptions(estimator=str(opts["estimator"]), bootstrap=int(opts["bootstrap"]),
                         seed=int(opts["seed"]), groups=bool(opts.get("groups", True)),
                         bootstrap_latent=int(opts.get("bootstrap_latent", 0)),
                         parameterization=str(opts.get("parameterization", "delta")),
                         std_lv=bool(opts.get("std_lv", False)))
    result = run(spec_path, input_path, out=None, options=options)
    # the rerun was given the path as found; it writes and compares the path as recorded
    result.results["input"]["path"] = recorded["input"]["path"]
    result.results["spec"]["path"] = recorded["spec"]["path"]
    rerun = json.loads(json.dumps(to_jsonable(result.results), allow_nan=False))
    n_values, n_numbers, diffs = compare_results(recorded, rerun, rtol=rtol)
    manifest = read_manifest(d)
    file_diffs: list[FileDifference] = []
    skipped: list[str] = []
    if manifest is not None:
        with tempfile.TemporaryDirectory(prefix="adoption-reproduce-") as tmp:
            again = write(result, Path(tmp) / "rerun")
            file_diffs, skipped = compare_files(d, manifest, again, rtol=rtol)
    return ReproduceReport(
        run_dir=d, spec_path=spec_path, input_path=input_path, input_sha256=now,
        options={"estimator": options.estimator, "bootstrap": options.bootstrap, "seed": options.seed,
                 "groups": options.groups, "bootstrap_latent": options.bootstrap_latent,
                 "std_lv": options.std_lv},
        values_compared=n_values, numbers_compared=n_numbers, differences=tuple(diffs),
        version_recorded=recorded.get("adoption_version"), version_now=__version__,
        files_compared=0 if manifest is None else len(set(manifest) - {"results.json"}) - len(skipped),
        file_differences=tuple(file_diffs), files_not_compared=tuple(skipped),
        has_manifest=manifest is not None)


#: files shown to people with rounded numbers: not compared when ``rtol`` > 0
_SHOWN = re.compile(r"report\.(html|docx)|figures/.*")


def compare_files(run_dir: Path, manifest: dict[str, str], rerun_dir: Path, *,
                  rtol: float = 0.0) -> tuple[list[FileDifference], list[str]]:
    """Compare a run directory's files with its manifest and with a rerun's files.

    Parameters
    ----------
    run_dir : the recorded run directory.
    manifest : its ``manifest.json`` files (name -> SHA-256).
    rerun_dir : a run directory written by the rerun.
    rtol : 0 for the same bytes; above 0, CSV files are compared cell by cell (numbers
        within ``rtol``) and the report and figures are not compared.

    Returns
    -------
    differences, names_not_compared
        ``results.json`` is not among them (it is compared value by value).
    """
    check = check_files(run_dir, manifest)
    diffs = [FileDifference(n, "changed since the run wrote it") for n in check.edited]
    diffs += [FileDifference(n, "deleted since the run") for n in check.missing]
    diffs += [FileDifference(n, "added after the run (the run did not write it)") for n in check.extra]
    touched = set(check.edited) | set(check.missing)
    rerun = {n: file_sha256(rerun_dir / n) for n in list_files(rerun_dir)}
    skipped = []
    for name in sorted(set(manifest) | set(rerun)):
        if name == "results.json" or name in touched:
            continue
        if name not in rerun:
            diffs.append(FileDifference(name, "the rerun did not write it"))
        elif name not in manifest:
            diffs.append(FileDifference(name, "only the rerun wrote it"))
        elif rerun[name] == manifest[name]:
            continue
        elif rtol and _SHOWN.fullmatch(name):
            skipped.append(name)
        elif name.endswith(_BY_CONTENT) and _same_table(run_dir / name, rerun_dir / name):
            continue
        elif rtol and name.endswith(".csv") and _same_csv(run_dir / name, rerun_dir / name, rtol):
            continue
        else:
            diffs.append(FileDifference(name, "the rerun wrote different bytes"))
    return diffs, skipped


#: Files whose bytes carry the writer's clock or version (Parquet names pyarrow's version,
#: .xlsx its save time, .sav and .dta their creation time): compared by content.
_BY_CONTENT = (".parquet", ".xlsx", ".sav", ".dta")


def _read_tables(path: Path) -> list:
    """The tables a file holds, with the labels that are part of its content."""
    import pandas as pd

    if path.suffix == ".parquet":
        return [pd.read_parquet(path)]
    if path.suffix == ".xlsx":
        return list(pd.read_excel(path, sheet_name=None).items())
    import pyreadstat

    read = pyreadstat.read_sav if path.suffix == ".sav" else pyreadstat.read_dta
    df, meta = read(str(path))
    return [df, meta.column_labels, meta.variable_value_labels]


def _same_table(a: Path, b: Path) -> bool:
    """Whether two files hold the same tables (columns, types, values) and labels."""
    import pandas as pd

    for x, y in zip(_read_tables(a), _read_tables(b), strict=True):
        if isinstance(x, tuple):
            (nx, x), (ny, y) = x, y
            if nx != ny:
                return False
        if isinstance(x, pd.DataFrame):
            if list(x.dtypes.astype(str)) != list(y.dtypes.astype(str)) or not x.equals(y):
                return False
        elif x != y:
            return False
    return True


def _same_csv(a: Path, b: Path, rtol: float) -> bool:
    import numpy as np
    import pandas as pd

    x, y = pd.read_csv(a), pd.read_csv(b)
    if x.shape != y.shape or list(x.columns) != list(y.columns):
        return False
    for c in x.columns:
        u, v = x[c], y[c]
        if pd.api.types.is_numeric_dtype(u) and pd.api.types.is_numeric_dtype(v):
            if not np.allclose(u.to_numpy(float), v.to_numpy(float), rtol=rtol, atol=0, equal_nan=True):
                return False
        elif not u.astype(str).equals(v.astype(str)):
            return False
    return True


def format_report(report: ReproduceReport, *, max_lines: int = 20) -> str:
    """A few lines for the terminal: what was compared, the verdict, then the first
    differing keys and files."""
    head = (f"{report.run_dir}: input {report.input_path} unchanged (sha256 {report.input_sha256[:12]}...); "
            f"rerun with {report.options}.")
    if not report.has_manifest:
        files = "the other files are not compared (no manifest.json: a run from an older version)"
    else:
        files = f"{report.files_compared} other files compared with manifest.json and the rerun"
        if report.files_not_compared:
            files += f" ({len(report.files_not_compared)} report and figure files not compared with --rtol)"
    if report.ok:
        same = "" if not report.has_manifest else ", all the same"
        return (f"{head}\nreproduced: all {report.values_compared} values ({report.numbers_compared} numbers) "
                f"of results.json match; {files}{same}.")
    lines = [head, f"NOT reproduced: {len(report.differences)} of {report.values_compared} values of "
                   f"results.json differ; {files}: {len(report.file_differences)} differ:"]
    for diff in report.differences[:max_lines]:
        if diff.missing:
            lines.append(f"  {diff.key}: only in the {'recorded run' if diff.missing == 'rerun' else 'rerun'}")
        else:
            lines.append(f"  {diff.key}: recorded {diff.recorded!r}, rerun {diff.rerun!r}")
    for fd in report.file_differences[:max_lines]:
        lines.append(f"  {fd.name}: {fd.why}")
    more = (max(0, len(report.differences) - max_lines) + max(0, len(report.file_differences) - max_lines))
    if more:
        lines.append(f"  ... and {more} more")
    if report.version_recorded != report.version_now:
        lines.append(f"(the run was made with adoption {report.version_recorded}; this is {report.version_now})")
    return "\n".join(lines)
