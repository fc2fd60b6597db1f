"""The run's tables as one workbook and as LaTeX (adoption.tablesout via write_run)."""

from __future__ import annotations

import re

import numpy as np
import openpyxl
import pandas as pd

from adoption.rundir import write_run
from adoption.tablesout import latex_escape, latex_table, sheet_names


def test_sheet_names_short_unique_and_legal():
    names = sheet_names(["tables/composite_modification_indices.csv",
                         "tables/composite_modification_indices_extra.csv",
                         "tables/a[1]:b?.csv", "tables/HTMT.csv", "tables/htmt.csv"])
    vals = list(names.values())
    assert all(len(n) <= 31 for n in vals)
    assert len({n.lower() for n in vals}) == len(vals)
    assert names["tables/a[1]:b?.csv"] == "a_1__b_"
    assert names["tables/htmt.csv"] == "htmt~2"


def test_workbook_sheets_equal_the_csvs(tmp_path):
    t1 = pd.DataFrame({"lhs": ["BI", "BI"], "op": ["~", "~"], "rhs": ["PE", "=cmd()"],
                       "est": [0.123456789, -1.5], "pvalue": [0.0004, 0.5], "n": [10, 12]})
    t2 = pd.DataFrame({"construct": ["PE", "EE"], "alpha": [0.81, np.nan]})
    out = write_run(tmp_path / "run", results={},
                    frames={"tables/estimates.csv": t1, "tables/reliability.csv": t2,
                            "log.csv": pd.DataFrame({"x": [1]})})
    book = pd.read_excel(out / "tables.xlsx", sheet_name=None)
    assert set(book) == {"estimates", "reliability"}  # log.csv is not a table
    for name, sheet in book.items():
        csv = pd.read_csv(out / "tables" / f"{name}.csv")
        pd.testing.assert_frame_equal(sheet, csv, check_dtype=False)  # unrounded, escaped alike
    wb = openpyxl.load_workbook(out / "tables.xlsx")
    ws = wb["estimates"]
    heads = [c.value for c in ws[1]]
    fmt = {h: ws.cell(2, j + 1).number_format for j, h in enumerate(heads)}
    assert fmt["est"] == "0.000" and fmt["pvalue"] == ".000" and fmt["n"] == "0"
    assert ws.cell(3, 3).data_type == "s"  # the formula-looking text stays text


def test_latex_is_wellformed_booktabs(tmp_path):
    df = pd.DataFrame({"model_name": ["a_b", "50% & more", "x#y {z}"],
                       "est": [0.5, -1.25, np.nan], "pvalue": [0.04, 0.0001, 1.0]})
    out = write_run(tmp_path / "run", results={}, frames={"tables/fit_and_more.csv": df})
    tex = (out / "tables" / "fit_and_more.tex").read_text()
    assert tex == latex_table(pd.read_csv(out / "tables" / "fit_and_more.csv"), "fit and more")
    body = tex[tex.index("\\toprule"):tex.index("\\bottomrule")]
    assert tex.count("\\toprule") == tex.count("\\midrule") == tex.count("\\bottomrule") == 1
    assert "\\begin{tabular}{lrr}" in tex
    assert "model\\_name" in body and "a\\_b" in body and "50\\% \\& more" in body
    assert "x\\#y \\{z\\}" in body
    # every row has as many cells as the header, once escaped '&' are set aside
    rows = [ln for ln in body.splitlines() if ln.endswith("\\\\")]
    assert len(rows) == 4
    assert all(len(re.split(r"(?<!\\)&", r)) == 3 for r in rows)
    # no unescaped special character outside commands
    assert not re.search(r"(?<!\\)[%#_]", body)
    assert "$-$1.250" in body and "< .001" in body and " .040 " in body
    # braces balance
    assert tex.count("{") - tex.count("\\{") == tex.count("}") - tex.count("\\}")


def test_latex_escape_backslash_and_tilde():
    assert latex_escape("a\\b~c^d") == "a\\textbackslash{}b\\textasciitilde{}c\\textasciicircum{}d"
