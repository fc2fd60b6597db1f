"""Multi-group MLR with full-information ML (issue 18): lavaan's ``cfa(..., group =
"school", missing = "ml", estimator = "MLR")`` on Holzinger-Swineford with holes.

Reference: tests/fixtures/multigroup/holzinger_swineford_fiml_mlr_groups.json, made by
make_multigroup_mlr_fiml.R (lavaan 0.6-14) from holzinger_swineford_school_missing.csv.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.sem.multigroup import fit_multigroup

FIX = Path(__file__).parent / "fixtures" / "multigroup"
REF = json.loads((FIX / "holzinger_swineford_fiml_mlr_groups.json").read_text())
LEVELS = {"configural": (), "metric": ("loadings",), "scalar": ("loadings", "intercepts")}
ORDER = ["Pasteur", "Grant-White"]


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(FIX / "holzinger_swineford_school_missing.csv")


@pytest.mark.parametrize("level", list(LEVELS))
def test_mlr_fiml_matches_lavaan(data, level):
    ref = REF[level]
    fit = fit_multigroup(REF["model"], data, "school", group_equal=LEVELS[level],
                         groups=ORDER, missing="fiml", estimator="MLR")
    assert fit.converged and fit.nobs == tuple(ref["nobs"])
    # closed forms of the converged estimates (chisq, traces, indices): both fits stop
    # near 1e-7 relative in the estimates, so 1e-5 relative; SRMR uses lavaan's EM
    # moments (its tolerance 1e-5, as tests/test_multigroup.py)
    for k, v in ref["fit"].items():
        assert_allclose(fit.fit[k], v, rtol=1e-5, atol=1e-6, err_msg=k)
    e = pd.DataFrame(ref["estimates"])
    e["group"] = e["group"].map(dict(enumerate(ORDER, 1)))
    m = e.merge(fit.estimates, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert len(m) == len(e) == len(fit.estimates)
    # estimates and the Huber-White SEs: 1e-4 relative (SEs from a finite-difference
    # Hessian here and lavaan's analytic one)
    for c in ("est", "se", "std.all"):
        assert_allclose(m[c], m[c + "_r"], rtol=1e-4, atol=1e-6, err_msg=c)


def test_mlm_with_fiml_is_refused(data):
    with pytest.raises(InputError, match="MLM"):
        fit_multigroup(REF["model"], data, "school", missing="fiml", estimator="MLM")
