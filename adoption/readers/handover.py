"""A data frame handed from one process to another as files, without pickle.

The SPSS/Stata reader runs in a forked child (a corrupt file can crash the C library
behind pyreadstat), and the child hands the frame it read back to the parent: the
columns as an Arrow IPC file, what cannot be said in Arrow (each column's pandas dtype,
the Python types in an object column) as JSON. Nothing is executed on reading either
file, unlike a pickle.

:func:`write_frame` and :func:`read_frame` round-trip exactly what pyreadstat returns:
float, integer, boolean, datetime and string columns by their dtype, and object columns
that mix Python types (dates with NaN for missing ones, numbers with Stata's extended
missing letters) value by value with their types. A column holding any other type
raises :class:`UnsupportedColumn` on writing; the caller then reads in its own process.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: the Python types an object column may hold, with their Arrow type and tag
_OBJECT_TYPES: dict[type, tuple[str, pa.DataType]] = {
    float: ("float", pa.float64()),
    int: ("int", pa.int64()),
    bool: ("bool", pa.bool_()),
    str: ("str", pa.string()),
    dt.datetime: ("datetime", pa.timestamp("us")),
    dt.date: ("date", pa.date32()),
    dt.time: ("time", pa.time64("us")),
}
_NONE_TAG = 0


class UnsupportedColumn(ValueError):
    """A column whose values cannot be written exactly (an unexpected type)."""


def _native(s: pd.Series) -> bool:
    """Numbers, booleans, datetimes and strings: written by their dtype."""
    if isinstance(s.dtype, pd.StringDtype):
        return True
    return isinstance(s.dtype, np.dtype) and s.dtype.kind in "biufmM"


def _object_parts(j: int, s: pd.Series) -> tuple[dict, dict[str, pa.Array]]:
    """An object column as a tag per value (0 = None, k = the k-th type listed) and one
    nullable Arrow column per type present, holding the values of that type."""
    values = s.to_numpy(dtype=object)
    kinds = []
    for v in values:
        if v is not None and type(v) not in _OBJECT_TYPES:
            raise UnsupportedColumn(f"column {s.name!r}: a value of type {type(v).__name__}")
    present = [t for t in _OBJECT_TYPES if any(type(v) is t for v in values)]
    tags = np.zeros(len(values), dtype=np.int8)
    arrays = {}
    for k, t in enumerate(present, start=1):
        mask = np.fromiter((type(v) is t for v in values), dtype=bool, count=len(values))
        tags[mask] = k
        name, arrow_type = _OBJECT_TYPES[t]
        kinds.append(name)
        arrays[f"{j}.{name}"] = pa.array([v if m else None for v, m in zip(values, mask)],
                                         type=arrow_type, from_pandas=False)
    arrays[f"{j}.tag"] = pa.array(tags)
    return {"kind": "object", "types": kinds}, arrays


def write_frame(df: pd.DataFrame, folder: Path) -> None:
    """Write ``df`` as ``frame.arrow`` (Arrow IPC) and ``frame.json`` into ``folder``.

    Column names and the index are not kept: columns are written by position (the
    caller keeps the names) and the index is 0..n-1 again on reading.

    Raises
    ------
    UnsupportedColumn
        An object column holds a type other than float, int, bool, str, date, time and
        datetime, or a column has another extension dtype (categorical...).
    """
    columns, arrays = [], {}
    for j in range(df.shape[1]):
        s = df.iloc[:, j]
        if _native(s):
            columns.append({"kind": "native", "dtype": str(s.dtype)})
            # numbers keep NaN as a value (from_pandas=False): nothing is converted
            arrays[str(j)] = pa.array(s.array if isinstance(s.dtype, pd.StringDtype) else s.to_numpy(),
                                      from_pandas=isinstance(s.dtype, pd.StringDtype))
        elif s.dtype == object:
            desc, parts = _object_parts(j, s)
            columns.append(desc)
            arrays.update(parts)
        else:
            raise UnsupportedColumn(f"column {df.columns[j]!r}: dtype {s.dtype}")
    table = pa.table(arrays) if arrays else pa.table({"_": pa.array([], pa.int8())})
    with pa.OSFile(str(folder / "frame.arrow"), "wb") as sink, \
            pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    (folder / "frame.json").write_text(json.dumps({"rows": len(df), "columns": columns}),
                                       encoding="utf-8")


def _object_column(table: pa.Table, j: int, types: list[str], n: int) -> np.ndarray:
    tags = table.column(f"{j}.tag").to_numpy()
    out = np.full(n, None, dtype=object)
    for k, name in enumerate(types, start=1):
        mask = tags == k
        values = np.array(table.column(f"{j}.{name}").to_pylist(), dtype=object)
        out[mask] = values[mask]
    return out


def read_frame(folder: Path) -> pd.DataFrame:
    """The frame written by :func:`write_frame` into ``folder``, columns 0..k-1.

    Reads only data (Arrow buffers and JSON); every column gets back its pandas dtype,
    and every value of an object column its Python type. The frame holds its own
    memory (copied out of the memory-mapped file), so the file can be removed.
    """
    desc = json.loads((folder / "frame.json").read_text(encoding="utf-8"))
    n = desc["rows"]
    with pa.memory_map(str(folder / "frame.arrow")) as source:
        table = pa.ipc.open_file(source).read_all()
        cols = {}
        for j, c in enumerate(desc["columns"]):
            if c["kind"] == "native":
                col = table.column(str(j))
                if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                    # a string column would share the file's mapped memory: copy it out
                    col = pc.take(col, pa.array(np.arange(n)))
                cols[j] = col.to_pandas().astype(pd.api.types.pandas_dtype(c["dtype"]))
            else:
                cols[j] = pd.Series(_object_column(table, j, c["types"], n), dtype=object)
        del table
    return pd.DataFrame(cols, index=pd.RangeIndex(n), columns=range(len(desc["columns"])))
