"""The latent SEM's bootstrap option of the structural stage."""

from __future__ import annotations

import numpy as np
import pytest

from adoption.pipeline import EXAMPLE_SPEC, prepare
from adoption.structural.stage import fit_structural


@pytest.fixture(scope="module")
def prepared():
    survey, _, cleaned = prepare(EXAMPLE_SPEC)
    return survey, cleaned


def test_latent_bootstrap_gives_percentile_intervals(prepared):
    survey, cleaned = prepared
    res = fit_structural(cleaned, survey, bootstrap=0, bootstrap_latent=12, seed=7, n_jobs=1)
    lat = res.latent
    assert lat.bootstrap["B"] == 12 and lat.bootstrap["failed"] == 0
    assert "warm-started" in lat.bootstrap["method"]
    eff = lat.effects
    assert (eff["ci_method"] == "bootstrap percentile").all()
    ind = eff[eff["effect"] == "indirect"]
    assert len(ind) > 0 and np.isfinite(ind[["ci.lower", "ci.upper", "boot.se"]]).all().all()
    assert (ind["ci.lower"] <= ind["ci.upper"]).all()
    assert not any("delta method" in w for w in lat.warnings)
    # composite untouched: no bootstrap asked for
    assert res.composite.bootstrap is None


def test_latent_bootstrap_off_by_default(prepared):
    survey, cleaned = prepared
    res = fit_structural(cleaned, survey, bootstrap=0, n_jobs=1)
    assert res.latent.bootstrap is None
    assert (res.latent.effects["ci_method"] == "delta").all()
