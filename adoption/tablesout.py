"""Every table of a run for reviewers: one Excel workbook and LaTeX (booktabs) files.

    tables/*.csv -> tables.xlsx (a sheet per table), tables/*.tex

Written by :func:`adoption.rundir.write_run` beside the CSVs, from the same frames.

Number formats in the workbook (the values stay unrounded; only their display is set):
three decimals (``0.000``) for real numbers, none for whole-number columns, and APA's
no-leading-zero ``.000`` for p values (a column named ``pvalue``, ``p`` or ending in
``.pvalue``/``_p``), which cannot exceed 1. Other bounded values (loadings, CFI, alpha)
keep their leading zero in the workbook: a column does not say whether its values are
bounded by 1, and a wrongly dropped zero on 1.2 would read as .2. The LaTeX tables give
numbers with three decimals (p values without the leading zero), text escaped.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

#: Excel's limit on a sheet name, and the characters it forbids in one
MAX_SHEET_NAME = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def unique_name(base: str, taken: set[str], max_len: int, sep: str) -> str:
    """``base`` cut to ``max_len`` characters, or with ``sep`` and a number when it is in
    ``taken`` (compared case-insensitively); the name returned is added to ``taken``.

    >>> taken = set(); unique_name("htmt", taken, 31, "~"), unique_name("HTMT", taken, 31, "~")
    ('htmt', 'HTMT~2')
    """
    base = base[:max_len]
    name, k = base, 1
    while name.lower() in taken:
        k += 1
        name = f"{base[:max_len - len(str(k)) - len(sep)]}{sep}{k}"
    taken.add(name.lower())
    return name


def sheet_names(tables: list[str]) -> dict[str, str]:
    """A unique Excel sheet name for each table path (``tables/htmt.csv`` -> ``htmt``):
    forbidden characters replaced, at most 31 characters, a ``~2`` suffix on a clash
    (case-insensitive, as Excel compares them)."""
    out, taken = {}, set()
    for t in tables:
        base = _SHEET_FORBIDDEN.sub("_", Path(t).stem).strip("'") or "table"
        out[t] = unique_name(base, taken, MAX_SHEET_NAME, "~")
    return out


def is_p_column(name: str) -> bool:
    n = str(name).lower()
    return n in ("p", "pvalue", "p.value", "p_value") or n.endswith((".pvalue", "_p", ".p"))


def number_format(name: str, values: pd.Series) -> str | None:
    """The Excel number format of one column (see the module's docstring), or None for
    text."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    if is_p_column(name):
        return ".000"
    finite = values[np.isfinite(values.astype("float64"))]
    if pd.api.types.is_integer_dtype(values) or (len(finite) and (finite == finite.round()).all()):
        return "0"
    return "0.000"


def flat(df: pd.DataFrame) -> pd.DataFrame:
    """Columns as one row of text heads (a MultiIndex joined with ' ')."""
    if isinstance(df.columns, pd.MultiIndex):
        df = df.copy()
        df.columns = [" ".join(str(x) for x in t if str(x)) for t in df.columns]
    return df


def write_workbook(path: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    """All ``tables`` (path -> frame, already formula-escaped) as one workbook."""
    names = sheet_names(list(tables))
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for t, df in tables.items():
            df = flat(df)
            df.to_excel(xw, sheet_name=names[t], index=False)
            ws = xw.sheets[names[t]]
            for j, c in enumerate(df.columns, start=1):
                fmt = number_format(c, df[c])
                if fmt is None:
                    continue
                for row in ws.iter_rows(min_row=2, max_row=len(df) + 1, min_col=j, max_col=j):
                    row[0].number_format = fmt
            ws.freeze_panes = "A2"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX_SPECIAL))


def latex_escape(text: str) -> str:
    """Text safe in a LaTeX table: the ten special characters escaped, line breaks as
    spaces."""
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group()], " ".join(str(text).split()))


def latex_cell(v, p_value: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v)}"
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            return latex_escape(str(v))
        if float(v).is_integer() and not p_value:
            return f"{int(v)}"
        text = f"{v:.3f}"
        if p_value:
            text = "< .001" if v < 0.001 else text.replace("0.", ".", 1)
        return text.replace("-", "$-$")
    return latex_escape(v)


def latex_table(df: pd.DataFrame, caption: str) -> str:
    """A ``table`` with a booktabs ``tabular`` (``\\toprule``, ``\\midrule``,
    ``\\bottomrule``): numeric columns right-aligned, text left, text escaped. Needs
    ``\\usepackage{booktabs}``."""
    df = flat(df)
    align = "".join("r" if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
                    else "l" for c in df.columns)
    p_cols = [is_p_column(c) for c in df.columns]
    lines = ["\\begin{table}[htbp]", "\\centering", f"\\caption{{{latex_escape(caption)}}}",
             f"\\begin{{tabular}}{{{align}}}", "\\toprule",
             " & ".join(latex_escape(c) for c in df.columns) + " \\\\", "\\midrule"]
    for row in df.itertuples(index=False):
        lines.append(" & ".join(latex_cell(v, p) for v, p in zip(row, p_cols)) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
    return "\n".join(lines)


def write_tables(folder: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    """``tables.xlsx`` and one ``.tex`` beside each ``tables/*.csv`` of ``tables``."""
    if not tables:
        return
    write_workbook(folder / "tables.xlsx", tables)
    for t, df in tables.items():
        p = folder / Path(t).with_suffix(".tex")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(latex_table(df, Path(t).stem.replace("_", " ")), encoding="utf-8")
