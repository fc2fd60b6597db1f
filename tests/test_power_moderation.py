"""Power for an interaction term: ``structural`` holds ``Y ~ X + W + X:W`` and the
population a true interaction (``Y ~ ... + -0.25*X:W``); the replicates fit the
product of the mean-centred composites and report its row."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from adoption.power import power_analysis
from adoption.spec import parse_spec

G = -0.25
SPEC = {
    "title": "power for an interaction",
    "constructs": {
        "X": {"items": ["X1", "X2", "X3"]},
        "W": {"items": ["W1", "W2", "W3"], "reverse": ["W3"]},
        "Y": {"items": ["Y1", "Y2", "Y3"]},
    },
    "structural": "Y ~ X + W + X:W\n",
    "population": {
        "paths": f"Y ~ 0.30*X + 0.20*W + {G}*X:W\n",
        "exogenous_correlation": 0.2,
        "loadings": {"default": 0.8},
        "thresholds": [-1.5, -0.6, 0.3, 1.2],
    },
}
NS, REPS = [60, 1000], 25


@pytest.fixture(scope="module")
def res(tmp_path_factory):
    survey = parse_spec(SPEC, path=tmp_path_factory.mktemp("spec") / "survey.yaml")
    return power_analysis(survey, ns=NS, reps=REPS, seed=3, n_jobs=1)


def test_interaction_row_is_reported(res):
    rows = res.power[res.power["name"] == "direct_X_x_W_Y"].sort_values("n")
    assert list(rows["n"]) == NS
    assert (rows["latent"] == G).all()
    # the composites' product coefficient is attenuated by measurement error but keeps
    # the sign (its value comes from one sample of 400,000 respondents)
    pop = rows["population"].iloc[0]
    assert G < pop < 0
    assert res.settings["interactions"] == {"X_x_W": "X:W"}
    assert res.settings["population_method"].startswith("monte carlo")
    # the replicates' mean at N = 1000 agrees with that population value within 4 of
    # its Monte Carlo SEs (the population value's own MC error is sqrt(1000 / 4e5) =
    # 0.05 of a replicate SD, negligible beside sd / sqrt(25) = 0.2 SD)
    big = rows.iloc[-1]
    assert abs(big["mean.est"] - pop) < 4 * big["sd.est"] / math.sqrt(REPS)
    assert res.n80.set_index("name").loc["direct_X_x_W_Y", "n80.status"]


def test_interaction_power_grows_with_n(res):
    """Power is the share of REPS = 25 replicates that reject. With the z of the mean
    estimate at each N (``|mean.est| / mean.se``), the normal approximation gives the
    true power; the test asserts power(1000) > power(60), whose failure needs the
    binomial counts to cross. That is checked safe from the replicates themselves:
    the z at N = 1000 must exceed 4 (true power > .97, so P(<= 20 of 25 reject) < 1e-3)
    and the z at N = 60 be below 2 (true power < .52, so P(>= 21 of 25) < 1e-3)."""
    rows = res.power[res.power["name"] == "direct_X_x_W_Y"].sort_values("n")
    z = (rows["mean.est"].abs() / rows["mean.se"]).to_numpy()
    assert z[0] < 2 and z[1] > 4
    # the binomial bounds quoted above
    assert stats.binom.cdf(20, REPS, stats.norm.sf(1.96 - 4)) < 1e-3
    assert stats.binom.sf(20, REPS, stats.norm.sf(1.96 - 2)) < 1e-3
    p = rows["power"].to_numpy()
    assert p[1] > p[0]
    assert np.isfinite(rows["coverage"]).all()
