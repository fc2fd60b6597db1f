"""std.lv as a user option (issue 19): the spec's ``std_lv`` and ``adoption run --std-lv``.

The measurement stage's CFA under std_lv is compared with lavaan 0.6-14
(``cfa(HS.model, HolzingerSwineford1939, std.lv = TRUE)``, case ``hs3_std_lv`` of
``tests/fixtures/engine/single_group_cases.json``, made by
``tests/fixtures/engine/make_engine_reference.R``) and with a direct
``fit_model(..., std_lv=True)``. A run of a small simulated survey with std_lv must give
the same std.all, fit and reliability as the default run (only the latent variables'
scale changes), latent variances fixed at 1, and record the option in results.json.

Tolerances: against lavaan as ``tests/test_sem_engine_lavaan_cases.py`` (est, se, std.all
rtol 1e-4, atol 1e-6: nlminb's stopping rule; fit rtol 1e-5). Default vs std.lv run of
the same data: the two parameterisations have the same optimum, reached by different
iterations that stop within about 1e-8 relative, so rtol 1e-6 (atol 1e-8).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from adoption import cli, pipeline
from adoption.measurement.stage import measure
from adoption.sem.engine import fit_model

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "engine" / "single_group_cases.json").read_text())["hs3_std_lv"]
HS3 = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
EST_RTOL, EST_ATOL = 1e-4, 1e-6
SAME_RTOL, SAME_ATOL = 1e-6, 1e-8

SPEC = """title: std.lv option
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
alternatives:
  direct: |
    B ~ A
    C ~ B + A
missing: {method: listwise}
groups: [grp]
"""


def _latent_variances(est: pd.DataFrame, latents) -> pd.DataFrame:
    return est[(est["op"] == "~~") & (est["lhs"] == est["rhs"]) & est["lhs"].isin(latents)]


def _merge(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    m = a.merge(b, on=["lhs", "op", "rhs"], suffixes=("", "_b"))
    assert len(m) == len(a) == len(b)
    return m


# ------------------------------------------------------------------ measurement stage
@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(FIX / "multigroup" / "holzinger_swineford_school.csv")


@pytest.fixture(scope="module")
def hs_measured(hs):
    return (measure(hs, HS3, std_lv=True, n_factors=3),
            measure(hs, HS3, n_factors=3))


def test_measurement_cfa_under_std_lv_is_lavaans(hs, hs_measured):
    std, _ = hs_measured
    est = std.cfa_estimates
    ref = pd.DataFrame(REF["estimates"])
    m = ref.merge(est[est["op"] != ":="], on=["lhs", "op", "rhs"], suffixes=("_r", ""))
    assert len(m) == len(ref)
    for c in ("est", "se", "std.all"):
        assert_allclose(m[c], m[c + "_r"], rtol=EST_RTOL, atol=EST_ATOL, err_msg=c)
    for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
        assert_allclose(std.cfa_fit[k], REF["fit"][k], rtol=1e-5, atol=1e-6, err_msg=k)
    # and the same as fitting the engine directly
    direct = fit_model(REF["model"], hs[[i for v in HS3.values() for i in v]], std_lv=True)
    d = _merge(est[est["op"] != ":="], direct.estimates[direct.estimates["op"] != ":="])
    for c in ("est", "se", "std.all"):
        assert_allclose(d[c], d[c + "_b"], rtol=1e-10, atol=1e-12, err_msg=c)


def test_measurement_std_lv_changes_only_the_latent_scale(hs_measured):
    std, default = hs_measured
    lv = _latent_variances(std.cfa_estimates, list(HS3))
    assert len(lv) == 3 and (lv["est"] == 1.0).all()
    m = _merge(std.cfa_estimates, default.cfa_estimates)
    assert_allclose(m["std.all"], m["std.all_b"], rtol=SAME_RTOL, atol=SAME_ATOL)
    for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
        assert_allclose(std.cfa_fit[k], default.cfa_fit[k], rtol=SAME_RTOL, err_msg=k)
    rel = std.reliability.merge(default.reliability, on="construct", suffixes=("", "_b"))
    for c in ("omega", "cr", "ave"):
        assert_allclose(rel[c], rel[c + "_b"], rtol=SAME_RTOL, err_msg=c)
    # the first loadings are free (not 1) under std.lv
    first = m[(m["op"] == "=~") & m["rhs"].isin(["x1", "x4", "x7"])]
    assert (first["est_b"] == 1.0).all() and not np.isclose(first["est"], 1.0).any()


# ------------------------------------------------------------------ a whole run
def _survey(folder: Path, n: int = 300, seed: int = 5) -> Path:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    b = 0.5 * a + 0.87 * rng.standard_normal(n)
    c = 0.4 * b + 0.9 * rng.standard_normal(n)
    cols = {"id": np.arange(1, n + 1), "grp": rng.choice(["x", "y"], n)}
    for name, f in (("A", a), ("B", b), ("C", c)):
        for i in range(1, 4):
            x = (0.6 + 0.1 * i) * f + 0.7 * rng.standard_normal(n)
            cols[f"{name}{i}"] = np.clip(np.round(4 + 1.2 * x), 1, 7).astype(int)
    pd.DataFrame(cols).to_csv(folder / "data.csv", index=False)
    (folder / "survey.yaml").write_text(SPEC)
    return folder / "survey.yaml"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("stdlv")
    spec = _survey(d)
    res = CliRunner().invoke(cli.app, ["run", str(spec), "--std-lv", "--bootstrap", "0",
                                       "--out", str(d / "std")])
    assert res.exit_code == 0, res.output
    default = pipeline.run(spec, None, None, pipeline.RunOptions(bootstrap=0))
    return d, json.loads((d / "std" / "results.json").read_text()), default.results


def test_spec_key_std_lv_is_the_flag(runs):
    """``std_lv: true`` in the spec, without the flag, gives the flag's run."""
    d, std, _ = runs
    keyed = d / "keyed.yaml"
    keyed.write_text(SPEC + "std_lv: true\n")
    res = pipeline.run(keyed, None, None, pipeline.RunOptions(bootstrap=0, groups=False)).results
    assert res["options"]["std_lv"] is True
    for part in ("cfa", "latent"):
        a = res["cfa"] if part == "cfa" else res["structural"]["latent"]
        b = std["cfa"] if part == "cfa" else std["structural"]["latent"]
        m = _merge(pd.DataFrame(a["estimates"]), pd.DataFrame(b["estimates"]))
        assert_allclose(m["est"], m["est_b"], rtol=1e-12, atol=1e-14, err_msg=part)
    # the flag --no-std-lv wins over the spec's key
    off = pipeline.run(keyed, None, None, pipeline.RunOptions(bootstrap=0, groups=False,
                                                              std_lv=False)).results
    assert off["options"]["std_lv"] is False
    lv = _latent_variances(pd.DataFrame(off["cfa"]["estimates"]), ["A", "B", "C"])
    assert not np.isclose(lv["est"], 1.0).any()


def test_cli_flag_is_recorded(runs):
    _, std, default = runs
    assert std["options"]["std_lv"] is True
    assert default["options"]["std_lv"] is False


def test_run_std_lv_gives_the_same_std_all_and_fit(runs):
    _, std, default = runs
    latents = ["A", "B", "C"]
    for part in ("cfa", "latent"):
        s = std["cfa"] if part == "cfa" else std["structural"]["latent"]
        t = default["cfa"] if part == "cfa" else default["structural"]["latent"]
        se, te = pd.DataFrame(s["estimates"]), pd.DataFrame(t["estimates"])
        m = _merge(se[se["op"] != ":="], te[te["op"] != ":="])
        assert_allclose(m["std.all"], m["std.all_b"], rtol=SAME_RTOL, atol=SAME_ATOL, err_msg=part)
        for k in ("chisq", "df", "cfi", "rmsea", "srmr"):
            assert_allclose(s["fit"][k], t["fit"][k], rtol=SAME_RTOL, err_msg=f"{part} {k}")
        # A's variance, and the residual variances of the regressed B and C, are 1
        lv = _latent_variances(se, latents)
        assert len(lv) == 3 and (lv["est"] == 1.0).all(), part
        assert not np.allclose(m.loc[m["op"] == "=~", "est"], m.loc[m["op"] == "=~", "est_b"])
    for c in ("A", "B", "C"):
        for k in ("omega", "cr", "ave"):
            assert_allclose(std["reliability"][c][k], default["reliability"][c][k],
                            rtol=SAME_RTOL, err_msg=f"{c} {k}")


def test_latent_alternatives_compare_the_same(runs):
    """The latent alternatives are fitted under std.lv too: the same difference test."""
    _, std, default = runs
    a, b = std["structural"]["latent"]["alternatives"], default["structural"]["latent"]["alternatives"]
    assert len(a) == len(b) == 1
    assert (_latent_variances(pd.DataFrame(a[0]["estimates"]), list("ABC"))["est"] == 1.0).all()
    assert not np.isclose(_latent_variances(b[0]["estimates"], list("ABC"))["est"], 1.0).any()
    ca, cb = a[0]["comparison"], b[0]["comparison"]
    for k in ("chisq.diff", "df.diff", "pvalue"):
        assert_allclose(ca[k], cb[k], rtol=SAME_RTOL, atol=SAME_ATOL, err_msg=k)


def test_wlsmv_item_models_take_std_lv(runs):
    """Under WLSMV the item models go through ``fit_ordinal(std_lv=...)``."""
    from adoption.ordinal import item_estimation

    d, _, _ = runs
    items = pd.read_csv(d / "data.csv")[[f"{c}{i}" for c in "ABC" for i in (1, 2, 3)]]
    syntax = "A =~ A1 + A2 + A3\nB =~ B1 + B2 + B3\nC =~ C1 + C2 + C3"
    fits = [item_estimation("WLSMV", "listwise", std_lv=v).fit(syntax, items) for v in (True, False)]
    m = _merge(fits[0].estimates, fits[1].estimates)
    assert (_latent_variances(fits[0].estimates, list("ABC"))["est"] == 1.0).all()
    assert_allclose(m["std.all"], m["std.all_b"], rtol=1e-5, atol=1e-7)
    assert_allclose(fits[0].fit["chisq"], fits[1].fit["chisq"], rtol=1e-6)


def test_groups_say_std_lv_is_not_used(runs):
    _, std, default = runs
    assert any("std.lv is not supported for multi-group" in w
               for w in std["groups"]["grp"]["warnings"])
    assert not any("std.lv" in w for w in default["groups"]["grp"]["warnings"])


def test_reproduce_uses_the_recorded_std_lv(runs):
    d, _, _ = runs
    res = CliRunner().invoke(cli.app, ["reproduce", str(d / "std")])
    assert res.exit_code == 0, res.output


# ------------------------------------------------------------------ parsing
@pytest.mark.parametrize("args, expected", [([], None), (["--std-lv"], True),
                                            (["--no-std-lv"], False)])
def test_flag_parses(tmp_path, monkeypatch, args, expected):
    """--std-lv / --no-std-lv reach the run's options; without either, None (the spec's
    ``std_lv`` then decides)."""
    seen = {}

    def fake_run(spec, data, out, options, **kw):
        seen["options"] = options
        raise SystemExit(0)

    monkeypatch.setattr(pipeline, "run", fake_run)
    res = CliRunner().invoke(cli.app, ["run", str(_survey(tmp_path, n=40)), *args,
                                       "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert seen["options"].std_lv is expected


def test_report_methods_name_the_scale(runs):
    from adoption.report.build import methods_section

    d, std, default = runs
    assert "variances fixed at 1, all loadings free" in (d / "std" / "report.html").read_text()
    assert "std.lv" in repr(methods_section(std))
    assert "std.lv" not in repr(methods_section(default))
