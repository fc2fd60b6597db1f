"""SPSS (.sav, .zsav, .por) and Stata (.dta) files, read by pyreadstat behind the
crash guard of :mod:`adoption.readers.guard`."""

from __future__ import annotations

import re
from pathlib import Path

from adoption.errors import InputError
from adoption.readers.guard import read_in_child
from adoption.readers.table import RawTable, reason

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
        notes.append(("reader warning", reason(text)))
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
