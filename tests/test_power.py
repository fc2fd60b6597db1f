"""Monte Carlo power analysis (adoption.power).

Most tests use a small spec (4 constructs, 3 items each) whose composite model is
correctly specified among the composites: ``Z`` is independent of everything (exogenous
correlation 0 and a 0.0 path), so ``Y ~ Z`` is a true null among composites too, and the
other equations are saturated. Tolerances are Monte Carlo tolerances, given per test.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from adoption.errors import InputError
from adoption.power import (
    BLOCK,
    N80_COLUMNS,
    POWER_COLUMNS,
    batched_path_inference,
    composite_population,
    n_for_power,
    n80_label,
    ordinal_item_covariance,
    parse_ns,
    power_analysis,
    power_design,
    power_summary,
    run_power,
    write_power,
)
from adoption.spec import load_spec, parse_spec
from adoption.structural.ols import fit_path_ols
from adoption.structural.effects import path_effects
from adoption.vocabulary import DEFAULT_SEED

SPEC = {
    "title": "power test",
    "constructs": {
        "X": {"items": ["X1", "X2", "X3"]},
        "M": {"items": ["M1", "M2", "M3"], "reverse": ["M3"]},
        "Y": {"items": ["Y1", "Y2", "Y3"]},
        "Z": {"items": ["Z1", "Z2", "Z3"]},
    },
    "structural": "M ~ X\nY ~ M + X + Z\n",
    "population": {
        "paths": "M ~ 0.40*X\nY ~ 0.35*M + 0.10*X + 0.0*Z\n",
        "exogenous_correlation": 0.0,
        "loadings": {"default": 0.75, "X1": 0.8, "Y3": 0.65},
        "thresholds": [-1.5, -0.6, 0.3, 1.2],
    },
}


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    return parse_spec(SPEC, path=tmp_path_factory.mktemp("spec") / "survey.yaml")


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as c:
        yield c.scheduler_address


@pytest.fixture(scope="module")
def big(survey):
    """2000 replicates at N = 200 (about 2 s): for the null-path size and coverage."""
    return power_analysis(survey, ns=[200], reps=2000, seed=DEFAULT_SEED, n_jobs=2)


# ------------------------------------------------------------------ building blocks
def test_batched_fit_equals_fit_path_ols_and_path_effects(survey):
    """The batched fit uses fit_path_ols's formulas; closed forms: 1e-10 relative."""
    design = power_design(survey)
    pop = design.population
    rng = np.random.default_rng(5)
    frames, S = [], []
    for n in (60, 60, 60):
        X = pop.answers(rng, n)
        Z = X @ design.weights
        frames.append(pd.DataFrame(Z, columns=list(design.model.variables)))
        Zc = Z - Z.mean(axis=0)
        S.append(Zc.T @ Zc / n)
    out = batched_path_inference(np.array(S), 60, design.model, design.definitions)
    for r, frame in enumerate(frames):
        fit = fit_path_ols(frame, design.model)
        reg = fit.estimates[fit.estimates["op"] == "~"]
        assert_allclose(out["coef"][r], reg["est"], rtol=1e-10)
        assert_allclose(out["se"][r], reg["se"], rtol=1e-10)
        assert_allclose(out["std"][r], reg["std.all"], rtol=1e-10)
        eff = path_effects(design.model, fit.coefficients, fit.vcov, std_all=fit.std_all).table
        eff = eff.set_index("name").loc[[d.name for d in design.definitions]]
        assert_allclose(out["est"][r], eff["est"], rtol=1e-10)
        assert_allclose(out["est_se"][r], eff["se"], rtol=1e-10)
        assert_allclose(out["est_std"][r], eff["std.all"], rtol=1e-10)


def test_ordinal_covariance_equals_bivariate_normal_cdf():
    """Against scipy's bivariate normal CDF (Genz's BVN algorithm, accurate to about
    1e-15 in two dimensions). The 64-point quadrature of a smooth integrand on
    [0, rho] with |rho| <= .64 agrees to rounding: 1e-12 absolute."""
    tau = np.array([-1.5, -0.6, 0.3, 1.2])
    lam = np.array([0.8, 0.7, 0.6])
    R = np.array([[1.0, 1.0, 0.4], [1.0, 1.0, 0.4], [0.4, 0.4, 1.0]])
    sign = np.array([1.0, -1.0, 1.0])
    C = ordinal_item_covariance(lam, R, sign, tau)

    def cov(i, j):
        rho = sign[i] * sign[j] * lam[i] * lam[j] * R[i, j]
        mvn = stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]], abseps=1e-10, releps=1e-10)
        up = stats.norm.sf(tau)
        return sum(mvn.cdf([-a, -b]) - up[ia] * up[ib]
                   for ia, a in enumerate(tau) for ib, b in enumerate(tau))

    for i, j in [(0, 1), (0, 2), (1, 2)]:
        assert_allclose(C[i, j], cov(i, j), atol=1e-12)
    # an item's variance: the variance of its category distribution
    p = np.diff(np.r_[0, stats.norm.cdf(tau), 1])
    k = np.arange(5)
    assert_allclose(C[0, 0], p @ k ** 2 - (p @ k) ** 2, rtol=1e-12)


def test_population_values_match_a_very_large_sample(survey):
    """The exact composite-model values against one sample of 400 000: tolerance 4 of
    that sample's own standard errors (a false alarm about 1 in 15 000 per value)."""
    design = power_design(survey)
    popv = composite_population(design)
    X = design.population.answers(np.random.default_rng(99), 400_000)
    frame = pd.DataFrame(X @ design.weights, columns=list(design.model.variables))
    fit = fit_path_ols(frame, design.model)
    reg = fit.estimates[fit.estimates["op"] == "~"]
    assert (np.abs(popv["coef"] - reg["est"].to_numpy()) < 4 * reg["se"].to_numpy()).all()
    # composites attenuate: the composite path is smaller than the latent one
    i = design.model.edges.index(("M", "X"))
    assert popv["coef"][i] < 0.40 and popv["std"][i] < 0.40
    # the null path is exactly 0 among composites (Z independent of everything)
    assert popv["coef"][design.model.edges.index(("Y", "Z"))] == pytest.approx(0, abs=1e-14)
    assert_allclose(popv["latent"][: len(design.model.edges)], [0.40, 0.35, 0.10, 0.0])


def test_reverse_keyed_items_are_recoded(survey):
    design = power_design(survey)
    items = list(design.population.items)
    assert design.weights[items.index("M3"), 1] == pytest.approx(-1 / 3)
    assert design.weights[items.index("M1"), 1] == pytest.approx(1 / 3)


# ------------------------------------------------------------------ the analysis
def test_result_shape(survey):
    res = power_analysis(survey, ns=[80, 120], reps=30, seed=1, n_jobs=1)
    assert list(res.power.columns) == list(POWER_COLUMNS)
    assert list(res.n80.columns) == list(N80_COLUMNS)
    names = ["direct_X_M", "direct_M_Y", "direct_X_Y", "direct_Z_Y", "ind_X_M_Y"]
    assert list(res.n80["name"]) == names
    assert len(res.power) == 2 * len(names)
    assert (res.power["reps"] == 30).all() and (res.power["n.ok"] == 30).all()
    assert len(res.replicates) == 2 * 30 * len(names)
    assert res.settings["ns"] == [80, 120] and res.settings["backend"] == "sequential"
    wide = power_summary(res)
    assert list(wide["name"]) == names
    assert {"power@80", "power@120", "n80", "n80.label"} <= set(wide.columns)
    row = res.power[(res.power["name"] == "direct_X_M") & (res.power["n"] == 120)]
    assert wide.loc[0, "power@120"] == row["power"].item()


def test_deterministic_for_a_seed(survey):
    a = power_analysis(survey, ns=[60, 90], reps=40, seed=7, n_jobs=1)
    b = power_analysis(survey, ns=[60, 90], reps=40, seed=7, n_jobs=1)
    c = power_analysis(survey, ns=[60, 90], reps=40, seed=8, n_jobs=1)
    pd.testing.assert_frame_equal(a.replicates, b.replicates, check_exact=True)
    pd.testing.assert_frame_equal(a.power, b.power, check_exact=True)
    assert not np.array_equal(a.replicates["est"], c.replicates["est"])


def test_replicates_do_not_depend_on_other_ns_or_more_reps(survey):
    """Replicate r of size N draws from SeedSequence([seed, N]).spawn(reps)[r]."""
    a = power_analysis(survey, ns=[90], reps=BLOCK + 5, seed=3, n_jobs=1).replicates
    b = power_analysis(survey, ns=[60, 90], reps=2 * BLOCK, seed=3, n_jobs=1).replicates
    b = b[(b["n"] == 90) & (b["rep"] < BLOCK + 5)].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_serial_equals_local_processes_and_dask_cluster(survey, cluster):
    kw = dict(ns=[60, 100], reps=2 * BLOCK + 3, seed=11)
    serial = power_analysis(survey, n_jobs=1, **kw)
    loky = power_analysis(survey, n_jobs=2, **kw)
    dask = power_analysis(survey, scheduler=cluster, **kw)
    assert dask.settings["backend"] == f"dask {cluster}"
    for other in (loky, dask):
        pd.testing.assert_frame_equal(serial.replicates, other.replicates, check_exact=True)
        pd.testing.assert_frame_equal(serial.power, other.power, check_exact=True)
        pd.testing.assert_frame_equal(serial.n80, other.n80, check_exact=True)


def test_power_increases_with_n(survey):
    res = power_analysis(survey, ns=[50, 100, 200, 400], reps=400, seed=5, n_jobs=2)
    for name, g in res.power[res.power["name"] != "direct_Z_Y"].groupby("name"):
        p = g.sort_values("n")["power"].to_numpy()
        mcse = np.sqrt(0.25 / 400)                    # the largest possible MC SE, 0.025
        # never falls by more than 3 MC SEs of a difference (sqrt 2 * 3 * 0.025 = 0.11),
        assert (np.diff(p) > -3 * math.sqrt(2) * mcse).all(), name
        # and rises overall unless it is already at 1
        assert p[-1] > p[0] or p[0] == 1.0, name
    small = res.power[res.power["name"] == "direct_X_Y"].sort_values("n")["power"].to_numpy()
    assert (np.diff(small) > 0).all()                # 0.1 latent path: far from 0 and 1


def test_null_path_rejects_at_alpha(big):
    """Y ~ 0*Z, Z independent: the composite value is exactly 0, so the rejection rate
    estimates the test's size. 2000 replicates: binomial SD sqrt(.05 .95 / 2000) =
    0.0049; ML's z test (divisor N, normal reference) is slightly liberal at N = 200
    (about 0.052 with 4 predictors). Tolerance 3 SD around .05: [0.035, 0.065]."""
    row = big.power.set_index("name").loc["direct_Z_Y"]
    assert row["population"] == pytest.approx(0, abs=1e-14)
    assert abs(row["power"] - 0.05) < 3 * math.sqrt(0.05 * 0.95 / 2000)
    assert abs(row["bias"]) < 4 * row["sd.est"] / math.sqrt(2000)


def test_direct_path_coverage_is_near_95(big):
    """Wald intervals of the direct paths at N = 200 (composite model correctly
    specified): coverage .95 up to Monte Carlo error, binomial SD sqrt(.95 .05 / 2000)
    = 0.0049, and ML's divisor-N small-sample undercoverage (~0.003 at N = 200, k <= 3).
    Tolerance: 3.5 SD + 0.005 = 0.022 around .95."""
    d = big.power[big.power["effect"] == "direct"]
    tol = 3.5 * math.sqrt(0.95 * 0.05 / 2000) + 0.005
    assert (np.abs(d["coverage"] - 0.95) < tol).all(), d[["name", "coverage"]]
    # SEs match the spread of the estimates within 10 % (SD of an SD ratio from 2000
    # replicates is about 1.6 %)
    assert (np.abs(d["se.ratio"] - 1) < 0.06).all()
    # bias within 4 Monte Carlo SEs of the mean
    assert (np.abs(d["bias"]) < 4 * d["sd.est"] / math.sqrt(2000)).all()


def test_indirect_effect_power_and_coverage_are_reported(big):
    row = big.power.set_index("name").loc["ind_X_M_Y"]
    assert 0 < row["population"] < 0.40 * 0.35        # attenuated product
    assert row["power"] > 0.5
    # the delta-method interval of a product is known to be a little off (Sobel), but
    # with a strong first path it is close to nominal: within .03 here
    assert abs(row["coverage"] - 0.95) < 0.03


def test_example_spec_runs(tmp_path):
    res = power_analysis(load_spec("surveys/ai_mental_health"), ns=[150, 300], reps=20,
                         seed=1, n_jobs=1)
    assert set(res.power["effect"]) == {"direct", "indirect"}
    files = write_power(res, tmp_path / "power")
    for kind in ("json", "csv", "n80", "html", "svg", "png"):
        assert files[kind].exists() and files[kind].stat().st_size > 0
    content = json.loads(files["json"].read_text())
    assert content["settings"]["reps"] == 20
    assert len(content["power"]) == len(res.power)
    assert files["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in files["svg"].read_bytes()[:400]


# ------------------------------------------------------------------ n for 80 %
def test_n_for_power_recovers_the_normal_approximation():
    """Power exactly Phi(d sqrt(N) - 1.96): probit-by-sqrt(N) interpolation is exact."""
    d = 0.2
    ns = [100, 150, 200, 300]
    pw = stats.norm.cdf(d * np.sqrt(ns) - stats.norm.ppf(0.975))
    n, status = n_for_power(ns, pw, 0.8)
    exact = ((stats.norm.ppf(0.8) + stats.norm.ppf(0.975)) / d) ** 2
    assert status == "interpolated"
    assert_allclose(n, exact, rtol=1e-12)
    assert n80_label(n, status, ns) == str(math.ceil(exact))


def test_n_for_power_edges():
    assert n_for_power([100, 200], [0.85, 0.9]) == (100.0, "reached at the smallest N")
    n, status = n_for_power([100, 200], [0.3, 0.5])
    assert math.isnan(n) and status == "not reached"
    assert n80_label(n, status, [100, 200]) == "> 200"
    assert n80_label(100.0, "reached at the smallest N", [100, 200]) == "<= 100"


# ------------------------------------------------------------------ input at the edge
def test_parse_ns():
    assert parse_ns("300, 150,200,150") == [150, 200, 300]
    assert parse_ns([500, 150]) == [150, 500]
    for bad in ("", "150,abc", "150;-3", "5"):
        with pytest.raises(InputError, match="--n"):
            parse_ns(bad)


def test_bad_inputs(survey, tmp_path):
    with pytest.raises(InputError, match="--reps"):
        power_analysis(survey, ns=[100], reps=1)
    with pytest.raises(InputError, match="at least 10"):
        power_analysis(survey, ns=[5], reps=5)
    no_pop = parse_spec({k: v for k, v in SPEC.items() if k != "population"},
                        path=tmp_path / "s.yaml")
    with pytest.raises(InputError, match="population"):
        power_analysis(no_pop, ns=[100], reps=5)
    corr = parse_spec({**SPEC, "structural": SPEC["structural"] + "M ~~ Y\n"},
                      path=tmp_path / "s.yaml")
    with pytest.raises(InputError, match="correlated disturbances"):
        power_analysis(corr, ns=[100], reps=5)


def test_run_power_for_the_cli(tmp_path):
    import yaml

    spec = tmp_path / "study.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    res, files = run_power(spec, "100,200", reps=10, seed=2, out_dir=tmp_path / "out",
                           n_jobs=1)
    assert res.settings["ns"] == [100, 200]
    assert files["csv"].parent == tmp_path / "out"
    with pytest.raises(InputError, match="tcp://127.0.0.1:9"):
        import adoption.parallel as par
        old, par.CONNECT_TIMEOUT = par.CONNECT_TIMEOUT, 1
        try:
            run_power(spec, "100", reps=10, scheduler="tcp://127.0.0.1:9",
                      out_dir=tmp_path / "x")
        finally:
            par.CONNECT_TIMEOUT = old


# ------------------------------------------------------------------ atomic writer
def test_write_power_is_atomic(tmp_path, monkeypatch):
    """An interruption while the files are written leaves the previous output whole (or
    none), never a half-written folder, and no temporary folder behind."""
    import adoption.power.files as files_mod

    res = power_analysis(load_spec("surveys/ai_mental_health"), ns=[150, 300], reps=4,
                         seed=1, n_jobs=1)
    out = tmp_path / "power"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(files_mod, "power_png", interrupted)   # the last file written
    with pytest.raises(KeyboardInterrupt):
        write_power(res, out)
    assert list(tmp_path.iterdir()) == []                       # nothing half-written
    monkeypatch.undo()
    first = write_power(res, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {p.name for p in first.values()} <= set(before)
    monkeypatch.setattr(files_mod, "power_png", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_power(res, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["power"]
    monkeypatch.undo()
    (out / "mine.txt").write_text("a user's file")
    with pytest.raises(InputError):                             # not a folder it wrote
        write_power(res, out)
