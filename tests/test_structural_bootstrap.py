"""Batched bootstrap of path effects against lavaan 0.6-14.

Reference: tests/fixtures/reference/paperlike_survey.json, made by make_reference.R:

    set.seed(20261125)
    path_boot <- sem(labelled, data = comp, se = "bootstrap", bootstrap = 2000)
    parameterEstimates(path_boot, boot.ci.type = "perc", level = 0.95)        # ci.lower/upper
    parameterEstimates(path_boot, boot.ci.type = "bca.simple", level = 0.95)  # bca.lower/upper

and the ML fit ``sem(labelled, data = comp)`` (composite_path$ML).
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from adoption.errors import InputError
from adoption.structural.bootstrap import bootstrap_effects, bootstrap_path_draws
from adoption.structural.intervals import (
    CI_TYPES,
    bias_corrected_interval,
    jackknife_acceleration,
    norm_inter,
    percentile_interval,
)
from adoption.structural.ols import fit_path_ols
from adoption.structural.refit import OLSRefit, bootstrap_refit
from paperlike import load_composite_reference

from adoption.structural.paths import parse_structural



@pytest.fixture(scope="module")
def reference():
    return load_composite_reference()


@pytest.fixture(scope="module")
def model(reference):
    return parse_structural(reference[0]["model"])


@pytest.fixture(scope="module")
def boot(reference, model):
    # 10000 draws: ~0.3 s here, and it halves our share of the Monte-Carlo noise
    return bootstrap_effects(reference[1], model, B=10_000, seed=12345)


# --------------------------------------------------------------- OLS = ML
def test_full_sample_ols_equals_lavaan_ml(reference, model):
    """Recursive model, uncorrelated disturbances, fixed.x: ML = equation-wise OLS."""
    spec, comp = reference
    lav = pd.DataFrame(spec["ML"]["estimates"])
    fit = fit_path_ols(comp, model)
    both = fit.estimates.merge(lav, on=["lhs", "op", "rhs"], suffixes=("", "_lavaan"))
    assert len(both) == 16  # 13 regressions + 3 residual variances
    # lavaan stops its optimiser near 1e-8 and writes 8 significant digits: 1e-6 abs
    assert_allclose(both["est"], both["est_lavaan"], atol=1e-6)
    assert_allclose(both["std.all"], both["std.all_lavaan"], atol=1e-6)
    assert_allclose(both["se"], both["se_lavaan"], atol=1e-6)


def test_full_sample_ols_equals_engine(reference, model):
    engine = pytest.importorskip("adoption.sem.engine")
    spec, comp = reference
    eng = engine.fit_model(spec["model"], comp).estimates
    fit = fit_path_ols(comp, model)
    both = fit.estimates.merge(eng, on=["lhs", "op", "rhs"], suffixes=("", "_engine"))
    assert len(both) == 16
    # both are the exact ML solution (the engine polishes by Fisher scoring): 1e-8
    for col in ("est", "se", "std.all"):
        assert_allclose(both[col], both[f"{col}_engine"], atol=1e-8, err_msg=col)


# --------------------------------------------------------------- batched = per draw
def _lstsq_fit(Z: np.ndarray, model, rows: np.ndarray) -> np.ndarray:
    idx = {v: i for i, v in enumerate(model.variables)}
    out = []
    for reg in model.regressions:
        X = Z[rows][:, [idx[x] for x in reg.rhs]]
        y = Z[rows][:, idx[reg.lhs]]
        X1 = np.column_stack([np.ones(len(rows)), X])
        out.extend(np.linalg.lstsq(X1, y, rcond=None)[0][1:])
    return np.array(out)


def test_batched_draw_equals_lstsq(reference, model):
    _, comp = reference
    B, seed = 50, 7
    draws = bootstrap_path_draws(comp, model, B=B, seed=seed, chunk=16)
    Z = comp[list(model.variables)].to_numpy(float)
    rows = np.random.default_rng(seed).integers(0, len(Z), size=(B, len(Z)))
    for b in (0, 17, 49):
        assert_allclose(draws.coef.loc[b].to_numpy(), _lstsq_fit(Z, model, rows[b]),
                        rtol=1e-10, atol=1e-12)
        # std.all of the draw: as the full fit on the resampled rows
        refit = fit_path_ols(comp.iloc[rows[b]], model)
        assert_allclose(draws.std.loc[b].to_numpy(), list(refit.std_all.values()),
                        rtol=1e-10, atol=1e-12)


def test_draws_do_not_depend_on_chunk(reference, model):
    _, comp = reference
    a = bootstrap_path_draws(comp, model, B=300, seed=3, chunk=300, jackknife=False)
    b = bootstrap_path_draws(comp, model, B=300, seed=3, chunk=77, jackknife=False)
    # same rows in every draw; only BLAS blocking of the batched products differs
    assert_allclose(a.coef.to_numpy(), b.coef.to_numpy(), rtol=1e-12, atol=1e-15)


def test_jackknife_rows_are_leave_one_out(reference, model):
    _, comp = reference
    draws = bootstrap_path_draws(comp, model, B=2, seed=1)
    Z = comp[list(model.variables)].to_numpy(float)
    for i in (0, 311, len(Z) - 1):
        keep = np.delete(np.arange(len(Z)), i)
        assert_allclose(draws.jack_coef.loc[i].to_numpy(), _lstsq_fit(Z, model, keep),
                        rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------- against lavaan
def test_intervals_match_lavaan_bootstrap(reference, boot):
    """Percentile and bca.simple limits of the 9 indirect effects vs lavaan's.

    The draws differ (R's RNG, 2000 draws; ours numpy, 10000), so the limits differ
    by Monte-Carlo noise. A 2.5 % quantile of B draws of an effect with bootstrap SD s
    has SD about sqrt(.025 * .975 / B) / dnorm(1.96) * s = 1.2 s / sqrt(B) ... which for
    the largest s here (0.015) is 0.0004 at B = 2000 and 0.0002 at 10000 for the
    centre of the distribution, about 2-3 times that in the skewed tails of products:
    0.001-0.0015 for the difference. 0.005 is > 3 such SDs; a wrong interval (e.g. a
    normal-theory one, or quantiles without the bias correction) misses by more
    (the bca.simple and perc limits differ by up to 0.0045 here).
    """
    spec, _ = reference
    ref = pd.DataFrame(spec["bootstrap"]["indirect"]).set_index("lhs")
    perc = boot.interval("perc", effect="indirect").set_index("name").loc[ref.index]
    bcs = boot.interval("bca.simple", effect="indirect").set_index("name").loc[ref.index]
    assert_allclose(perc["ci.lower"], ref["ci.lower"], atol=0.005)
    assert_allclose(perc["ci.upper"], ref["ci.upper"], atol=0.005)
    assert_allclose(bcs["ci.lower"], ref["bca.lower"], atol=0.005)
    assert_allclose(bcs["ci.upper"], ref["bca.upper"], atol=0.005)
    # bootstrap SE (SD of the draws): relative MC error of an SD is 1/sqrt(2B) ~ 1.6 %
    # for R's 2000 draws; 8 % leaves room for the heavier tails of products
    assert_allclose(perc["se"], ref["se"], rtol=0.08)
    assert_allclose(perc["est"], ref["est"], rtol=1e-5)


def test_result_shape(boot):
    t = boot.table
    n_eff = t["name"].nunique()
    assert len(t) == n_eff * 2 * len(CI_TYPES)
    assert boot.n_failed == 0 and boot.draws.shape == (10_000, n_eff)
    assert set(t["scale"]) == {"unstandardized", "std.all"}
    assert t[["ci.lower", "ci.upper"]].notna().all().all()
    assert (t["ci.lower"] <= t["ci.upper"]).all()
    # a total effect without indirect paths is the direct effect, draw by draw
    bca = boot.interval("bca").set_index("name")
    assert_array_equal(bca.loc["total_EMP_COM", ["est", "se", "ci.lower", "ci.upper"]],
                       bca.loc["direct_EMP_COM", ["est", "se", "ci.lower", "ci.upper"]])
    assert_array_equal(boot.draws["totind_ACC_TRU"], boot.draws["ind_ACC_COM_TRU"])
    # standardised draws centre on the full-sample std.all
    std = boot.interval("perc", scale="std.all", effect="indirect")
    assert ((std["ci.lower"] < std["est"]) & (std["est"] < std["ci.upper"])).all()


def test_singular_draws_are_dropped_and_counted():
    """A predictor that is non-zero in one row only: every draw missing that row has a
    singular S_xx. Those draws are dropped and counted, nothing raises."""
    rng = np.random.default_rng(0)
    n = 20
    x = rng.normal(size=n)
    rare = np.zeros(n)
    rare[3] = 1.0
    m = x + rng.normal(size=n)
    y = m + rng.normal(size=n)
    data = pd.DataFrame({"X": x, "R": rare, "M": m, "Y": y})
    model = parse_structural("M ~ X + R\nY ~ M + X")
    res = bootstrap_effects(data, model, B=400, seed=1)
    # P(row 3 not drawn) = (19/20)^20 = 0.36
    assert 0.25 * 400 < res.n_failed < 0.47 * 400
    assert res.draws.shape[0] == 400 - res.n_failed
    assert res.messages and "dropped" in res.messages[0]
    assert np.isfinite(res.draws.to_numpy()).all()


def test_correlated_disturbances_need_refit(reference):
    spec, comp = reference
    model = parse_structural(spec["model"] + "\nCOM ~~ TRU")
    with pytest.raises(InputError, match="bootstrap_refit"):
        bootstrap_effects(comp, model, B=10)


# --------------------------------------------------------------- interval formulas
def test_norm_inter_matches_boot_formula():
    t = np.arange(1.0, 20.0)                       # R = 19
    # (R + 1) alpha integer -> order statistic
    assert_allclose(norm_inter(t, [0.05, 0.5])[0], [1.0, 10.0])
    # otherwise interpolation on the normal scale (boot:::norm.inter)
    from scipy.stats import norm
    a = 0.13
    k = int(20 * a)                                # 2
    w = (norm.ppf(a) - norm.ppf(k / 20)) / (norm.ppf((k + 1) / 20) - norm.ppf(k / 20))
    assert norm_inter(t, [a])[0, 0] == pytest.approx(t[k - 1] + w * (t[k] - t[k - 1]))
    # below the first / above the last order statistic -> extremes
    assert_allclose(norm_inter(t, [0.01, 0.999])[0], [1.0, 19.0])


def test_bias_correction_reduces_to_percentile():
    rng = np.random.default_rng(4)
    draws = rng.normal(size=(4000, 3))
    t0 = np.median(draws, axis=0)                  # exactly half the draws below: w = 0
    assert_allclose(bias_corrected_interval(draws, t0), percentile_interval(draws),
                    atol=1e-12)
    # a = 0 is bca.simple; acceleration moves both limits the same way
    shifted = bias_corrected_interval(draws, t0, acceleration=np.full(3, 0.1))
    assert (shifted > percentile_interval(draws)).all()


def test_jackknife_acceleration_of_a_mean_is_zero_for_symmetric_data():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    jack = np.array([(x.sum() - xi) / 4 for xi in x])[:, None]
    assert jackknife_acceleration(jack)[0] == pytest.approx(0.0, abs=1e-15)
    skewed = np.array([0.0, 0.0, 0.0, 0.0, 10.0])
    jack = np.array([(skewed.sum() - xi) / 4 for xi in skewed])[:, None]
    assert jackknife_acceleration(jack)[0] > 0


# --------------------------------------------------------------- fallback
def test_refit_route_is_reproducible_and_agrees(reference, model, boot):
    _, comp = reference
    refit = OLSRefit(model)
    seq = bootstrap_refit(comp, model, refit, B=120, seed=9, n_jobs=1, backend="sequential")
    par = bootstrap_refit(comp, model, refit, B=120, seed=9, n_jobs=2, backend="loky")
    # per-draw seeds from SeedSequence.spawn: identical whatever the workers
    assert_array_equal(seq.draws.to_numpy(), par.draws.to_numpy())
    assert_array_equal(seq.table["ci.lower"].to_numpy(), par.table["ci.lower"].to_numpy())
    assert seq.table["ci.type"].eq("bca").sum() > 0
    assert seq.interval("bca")["ci.lower"].isna().all()      # no jackknife asked
    # same estimator as the batched route: same point estimates, and SEs within
    # the Monte-Carlo error of 120 draws (relative SD of an SD ~ 1/sqrt(240) = 6.5 %)
    fast = boot.interval("perc").set_index("name")
    slow = seq.interval("perc").set_index("name").loc[fast.index]
    assert_allclose(slow["est"], fast["est"], rtol=1e-10)
    assert_allclose(slow["se"], fast["se"], rtol=0.3)


def test_refit_failures_are_counted(reference, model):
    _, comp = reference
    calls = {"n": 0}

    def flaky(frame):
        calls["n"] += 1
        if calls["n"] % 5 == 0:
            raise RuntimeError("did not converge")
        return OLSRefit(model)(frame)

    res = bootstrap_refit(comp, model, flaky, B=40, seed=2, n_jobs=1, backend="sequential")
    assert res.n_failed == 8
    assert res.messages == ("RuntimeError: did not converge",)
    assert res.draws.shape[0] == 32


def test_refit_jackknife_gives_bca(reference, model):
    _, comp = reference
    small = comp.iloc[:80].reset_index(drop=True)
    res = bootstrap_refit(small, model, OLSRefit(model), B=60, seed=5, n_jobs=1,
                          backend="sequential", jackknife=True)
    assert res.interval("bca")["ci.lower"].notna().all()
    # with acceleration the interval differs from bca.simple (a != 0) yet stays close
    bca = res.interval("bca")[["ci.lower", "ci.upper"]].to_numpy()
    simple = res.interval("bca.simple")[["ci.lower", "ci.upper"]].to_numpy()
    assert not np.allclose(bca, simple)
    assert np.abs(bca - simple).max() < 0.1


def test_many_correlated_predictors_are_not_flagged():
    """12 strongly correlated (but not collinear) predictors: det(R) is tiny, yet no
    draw may be dropped (the exact eigenvalue test decides, not the det screen)."""
    rng = np.random.default_rng(11)
    n, k = 300, 12
    common = rng.normal(size=(n, 1))
    X = common + 0.3 * rng.normal(size=(n, k))
    y = X.sum(axis=1) + rng.normal(size=n)
    data = pd.DataFrame(X, columns=[f"X{i}" for i in range(k)]).assign(Y=y)
    model = parse_structural("Y ~ " + " + ".join(f"X{i}" for i in range(k)))
    R = np.corrcoef(X, rowvar=False)
    assert np.linalg.det(R) < 1e-10 * k ** (k - 1)       # the screen alone would flag it
    draws = bootstrap_path_draws(data, model, B=200, seed=1, jackknife=False)
    assert draws.failed == ()
