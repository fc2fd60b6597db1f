"""Which fit a run shows (issue 17): under MLR/MLM the scaled test and the robust indices
in the terminal summary, report.html, report.docx and tables/fit_measures.csv, never the
normal-theory values next to "Estimator MLR"; the alternatives' difference test never
negative.

A small survey with skewed, heavy-tailed answers (so that the scaled and robust values
differ from the ML ones in the digits shown) is run once with MLR.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from adoption.format import format_bounded, format_number
from adoption.fitview import fit_measures_frame, is_robust, shown_fit

SPEC = """title: Robust display
id: id
data: data.csv
scale: {min: 1, max: 7}
constructs:
  A: {items: {A1: a, A2: b, A3: c}}
  B: {items: {B1: a, B2: b, B3: c}}
  C: {items: {C1: a, C2: b, C3: c}}
structural: |
  B ~ A
  C ~ B
missing: {method: listwise}
"""


def skewed_survey(folder, n: int = 300, seed: int = 3):
    """Three constructs, A -> B -> C, with a direct A -> C the model leaves out; errors
    (exponential squared) skewed and heavy-tailed so robust and ML values differ."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    b = 0.5 * a + 0.87 * rng.standard_normal(n)
    c = 0.4 * a + 0.3 * b + 0.8 * rng.standard_normal(n)
    cols = {"id": np.arange(1, n + 1)}
    for name, f in (("A", a), ("B", b), ("C", c)):
        for i in range(1, 4):
            e = rng.exponential(1.0, n) ** 2 - 2.0
            x = 0.8 * f + 0.6 * e + (0.5 * a if (name, i) == ("C", 3) else 0)
            cols[f"{name}{i}"] = np.clip(np.round(4 + x), 1, 7).astype(int)
    pd.DataFrame(cols).to_csv(folder / "data.csv", index=False)
    (folder / "survey.yaml").write_text(SPEC)
    return folder / "survey.yaml"


@pytest.fixture(scope="module")
def mlr_run(tmp_path_factory):
    from adoption.pipeline import RunOptions, run

    d = tmp_path_factory.mktemp("robust")
    spec = skewed_survey(d)
    return run(spec, None, d / "run", RunOptions(estimator="MLR", bootstrap=0, groups=False))


def latent_fit(result) -> dict:
    return result.results["structural"]["latent"]["fit"]


def test_the_data_make_robust_and_ml_values_differ_where_shown(mlr_run):
    f = latent_fit(mlr_run)
    assert format_number(f["chisq"]) != format_number(f["chisq.scaled"])
    for m in ("cfi", "tli", "rmsea"):
        assert format_bounded(f[m], 3) != format_bounded(f[f"{m}.robust"], 3), m


def test_shown_fit_picks_by_estimator():
    ml = {"chisq": 10.0, "df": 5.0, "cfi": 0.9, "rmsea": 0.05}
    assert not is_robust(ml) and shown_fit(ml).get("cfi") == 0.9
    rob = {**ml, "chisq.scaled": 8.0, "df.scaled": 5.0, "pvalue.scaled": 0.16,
           "chisq.scaling.factor": 1.25, "cfi.robust": 0.93, "rmsea.robust": float("nan")}
    s = shown_fit(rob)
    assert s.robust and s.get("chisq") == 8.0 and s.get("cfi") == 0.93
    assert s.measures["cfi"] == "cfi.robust" and s.scaling_factor == 1.25
    assert np.isnan(s.get("rmsea"))            # missing robust value: not replaced by the ML one
    assert s.plain["chisq"] == 10.0 and s.plain["cfi"] == 0.9


def test_terminal_summary_shows_robust_values(mlr_run):
    from adoption.summary import print_run

    buf = io.StringIO()
    print_run(Console(file=buf, width=200), mlr_run)
    text = buf.getvalue()
    f = latent_fit(mlr_run)
    row = next(line for line in text.splitlines() if "latent SEM" in line)
    cells = [c.strip() for c in row.split("│")[1:-1]]   # model, chisq, df, p, CFI, TLI, RMSEA, SRMR
    assert cells[1] == f"{f['chisq.scaled']:.2f}"
    for m, cell in (("cfi", cells[4]), ("tli", cells[5]), ("rmsea", cells[6])):
        assert cell.startswith(f"{f[m + '.robust']:.3f}".lstrip("0")), m
    assert "chisq (scaled)" in text and "CFI (robust)" in text
    assert "Normal-theory (ML) values" in text and f"{f['chisq']:.2f}" in text


def report_row(html: str, label: str) -> list[str]:
    import lxml.html

    t = lxml.html.fromstring(html).get_element_by_id("tbl-structural-fit")
    heads = [th.text_content().strip() for th in t.find("thead").iter("th")]
    for tr in t.find("tbody").findall("tr"):
        cells = [td.text_content().strip() for td in tr.findall("td")]
        if cells[0] == label:
            return heads, cells
    raise AssertionError(label)


def test_report_html_and_docx_show_robust_values(mlr_run):
    import docx

    f = latent_fit(mlr_run)
    html = (mlr_run.out_dir / "report.html").read_text(encoding="utf-8")
    heads, cells = report_row(html, "Latent-variable structural model")
    assert heads[1] == "χ² (scaled)" and heads[4] == "CFI (robust)"
    assert cells[1] == format_number(f["chisq.scaled"])
    assert cells[4].startswith(format_bounded(f["cfi.robust"], 3))
    assert cells[5].startswith(format_bounded(f["tli.robust"], 3))
    assert cells[6].startswith(format_bounded(f["rmsea.robust"], 3))
    assert f"{format_bounded(f['rmsea.ci.lower.robust'], 3)}, " in cells[6]
    assert "Normal-theory (ML) values" in html and format_number(f["chisq"]) in html
    doc = docx.Document(str(mlr_run.out_dir / "report.docx"))
    t = next(t for t in doc.tables if t.rows[0].cells[1].text == "χ² (scaled)"
             and any(r.cells[0].text.startswith("Latent") for r in t.rows))
    row = next(r for r in t.rows if r.cells[0].text.startswith("Latent"))
    assert row.cells[1].text == format_number(f["chisq.scaled"])


def test_fit_measures_csv(mlr_run):
    tab = pd.read_csv(mlr_run.out_dir / "tables" / "fit_measures.csv")
    assert list(tab.columns) == ["model", "measure", "value", "shown"]
    results = json.loads((mlr_run.out_dir / "results.json").read_text())
    lat = tab[tab["model"] == "latent"].set_index("measure")
    for m, v in results["structural"]["latent"]["fit"].items():
        if v is not None:
            np.testing.assert_allclose(lat.loc[m, "value"], v, rtol=1e-12)
    assert lat.loc["chisq.scaled", "shown"] and lat.loc["cfi.robust", "shown"]
    assert not lat.loc["chisq", "shown"] and not lat.loc["cfi", "shown"]
    assert {"cfa", "composite", "latent"} <= set(tab["model"])
    # under ML the plain values are the shown ones
    ml = fit_measures_frame({"m": {"chisq": 1.0, "cfi": 0.99}}).set_index("measure")
    assert ml.loc["chisq", "shown"] and ml.loc["cfi", "shown"]


def test_key_findings_judge_the_robust_indices(mlr_run):
    from adoption.report.summary_text import fit_verdict

    f = latent_fit(mlr_run)
    _, text = fit_verdict(f)
    assert f"CFI (robust) = {format_bounded(f['cfi.robust'], 3)}" in text


# -- the alternatives' difference test ---------------------------------------------------
def comparison(restricted: str, d: float = 1.94, ddf: float = 1.0):
    """A comparison in which the alternative is the larger model (``restricted="base"``):
    its chi-square is lower by ``d`` and it has ``ddf`` fewer degrees of freedom."""
    from scipy import stats

    from adoption.sem.compare import ModelComparison

    sign = -1 if restricted == "base" else 1
    return ModelComparison(
        anova=pd.DataFrame(), method="standard", restricted=restricted, chisq_diff=d,
        df_diff=ddf, pvalue=float(stats.chi2.sf(d, ddf)), scaling_factor=float("nan"),
        rmsea_diff=0.04, differences={"chisq": sign * d, "df": sign * ddf, "cfi": 0.002,
                                      "aic": -2 * sign},
        valid_test=True, notes=())


@pytest.mark.parametrize("restricted", ["base", "alt"])
def test_comparison_keeps_the_test_not_the_raw_difference(restricted):
    from adoption.structural.stage import comparison_dict

    c = comparison_dict(comparison(restricted))
    assert c["chisq.diff"] == 1.94 and c["df.diff"] == 1.0         # never -1.94 on df -1
    np.testing.assert_allclose(c["pvalue"], 0.1636, atol=1e-4)    # pchisq(1.94, 1, lower = FALSE)
    assert c["cfi.diff"] == 0.002 and c["restricted"] == restricted


def test_alternatives_table_never_shows_a_negative_statistic_with_a_p():
    from adoption.report.tables import alternatives
    from adoption.structural.stage import comparison_dict

    base = {"chisq": 30.0, "df": 10.0, "cfi": 0.95, "rmsea": 0.05, "bic": 100.0}
    larger = {"name": "extra_path", "fit": {**base, "chisq": 28.06, "df": 9.0},
              "comparison": comparison_dict(comparison("base"))}
    odd = {"name": "odd", "fit": base,
           "comparison": {"chisq.diff": -1.2, "df.diff": 1.0, "pvalue": 1.0, "restricted": "alt"}}
    t = alternatives("Main", base, [larger, odd], "composite")
    row = {r[0]: r for r in t.rows}                  # model names shown humanised (issue 17)
    assert str(row["Extra path"][6]) == "1.94†" and str(row["Extra path"][7]) == "1"
    assert str(row["Extra path"][8]) == ".164"
    assert "alternative is the larger model" in t.note
    assert str(row["Odd"][6]) == "−1.20" and str(row["Odd"][8]) == "–"


def test_common_method_comparison_is_robust_under_mlr(mlr_run):
    """The one-factor against the measurement model: the scaled difference test and the
    robust indices, as lavTestLRT and fitMeasures under MLR."""
    from adoption.sem.compare import satorra_bentler_2001
    from adoption.report.tables import common_method

    r = mlr_run.results
    m, one = r["cfa"]["fit"], r["common_method"]["one_factor_fit"]
    comp = {row["measure"]: row["difference"] for row in r["common_method"]["comparison"]}
    d, ddf, _, p = satorra_bentler_2001(one["chisq"], one["df"], one["chisq.scaling.factor"],
                                        m["chisq"], m["df"], m["chisq.scaling.factor"])
    np.testing.assert_allclose([comp["chisq.diff"], comp["pvalue.diff"]], [d, p], rtol=1e-12)
    np.testing.assert_allclose(comp["cfi.robust"], one["cfi.robust"] - m["cfi.robust"], rtol=1e-12)
    rows = {str(row[0]): row for row in common_method(r["common_method"]).rows}
    assert "χ² difference (Satorra-Bentler scaled), one factor − measurement model" in rows
    cfi = rows["CFI (robust): measurement model vs one factor"]
    assert str(cfi[1]) == (f"{format_bounded(m['cfi.robust'], 3)} vs "
                           f"{format_bounded(one['cfi.robust'], 3)}")


# -- hypotheses without an expected sign -------------------------------------------------
HYP = [{"id": "H1", "lhs": "B", "rhs": "A", "path": "A -> B", "expected_sign": "+", "est": 0.3,
        "se": 0.1, "std.all": 0.3, "pvalue": 0.003, "ci.lower": 0.1, "ci.upper": 0.5,
        "supported": True, "latent.std.all": np.nan, "latent.pvalue": np.nan,
        "latent.supported": None},
       {"id": "P2", "lhs": "C", "rhs": "B", "path": "B -> C", "expected_sign": None, "est": -0.2,
        "se": 0.05, "std.all": -0.2, "pvalue": 0.0001, "ci.lower": -0.3, "ci.upper": -0.0004,
        "supported": True, "latent.std.all": np.nan, "latent.pvalue": np.nan,
        "latent.supported": None}]


def test_a_path_without_expected_sign_is_significant_not_supported():
    from adoption.report.summary_text import plain_summary
    from adoption.report.tables import hypotheses
    from adoption.summary import hypotheses_table

    rows = {r[0]: r for r in hypotheses(HYP).rows}
    assert str(rows["H1"][6]) == "Supported" and str(rows["P2"][6]) == "Significant"
    assert str(rows["P2"][5]) == "[−0.300, −0.000]"        # the sign of a bound near zero
    buf = io.StringIO()
    Console(file=buf, width=200).print(hypotheses_table(pd.DataFrame(HYP)))
    line = next(ln for ln in buf.getvalue().splitlines() if "P2" in ln)
    assert "significant" in line and "supported" not in line and "-0.000]" in line
    text = " ".join(plain_summary({"hypotheses": [HYP[1]]}))
    assert "1 of 1 paths are significant" in text and "supported" not in text


def test_dashboard_overview_shows_robust_values(mlr_run, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from pathlib import Path

    monkeypatch.setenv("ADOPTION_DASHBOARD_ROOT", str(mlr_run.out_dir))
    at = AppTest.from_file(str(Path(__file__).parent.parent / "dashboard" / "app.py"),
                           default_timeout=60)
    at.run()
    at.switch_page("views/overview.py").run()          # the Brief is the first page
    assert not at.exception, [e.value for e in at.exception]
    f = latent_fit(mlr_run)
    text = "\n".join(str(e.value) for e in at.markdown)
    assert f"CFI (robust) **{format_bounded(f['cfi.robust'], 3)}**" in text
    assert f"RMSEA (robust) **{format_bounded(f['rmsea.robust'], 3)}**" in text
    glance = next(t.value for t in at.dataframe if "χ² (scaled)" in t.value.columns)
    row = glance[glance.iloc[:, 0].astype(str).str.startswith("Latent")].iloc[0]
    assert row["χ² (scaled)"] == format_number(f["chisq.scaled"])


def test_no_mediator_prints_a_line_not_an_empty_table():
    """A model without a mediator has no indirect effects: the terminal says so in one line
    (before, it printed an empty 'Indirect effects' table)."""
    import pandas as pd
    from rich.table import Table

    from adoption.summary import indirect_block

    direct_only = pd.DataFrame({"effect": ["direct", "total"], "path": [("X", "Y")] * 2})
    out = indirect_block(direct_only, "Indirect effects (composite model)")
    assert out == "Indirect effects (composite model): none (no path runs through a mediator)"
    one = pd.DataFrame({"effect": ["indirect"], "path": [("X", "M", "Y")], "est": [0.1],
                        "se": [0.02], "pvalue": [0.001], "ci.lower": [0.05], "ci.upper": [0.15],
                        "std.all": [0.08], "ci_method": ["percentile"]})
    table = indirect_block(one, "Indirect effects (composite model)")
    assert isinstance(table, Table) and table.row_count == 1
