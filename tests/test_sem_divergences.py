"""Divergences of issue 15: semopy's fallback solver must not print on the root logger
(its non-convergence is reported by the fit's own fields), and a Heywood case must not
turn standardised expected parameter changes silently into 0."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pytest

from adoption.sem.engine import fit_model
from adoption.sem.matrices import SemModel, semopy_description
from adoption.sem.modindices import modification_indices, standardisation_warnings
from adoption.sem.partable import build_partable


def test_failed_fallback_solver_logs_nothing_on_the_root_logger(caplog):
    # semopy's Solver calls logging.warning("Solver didn't converge ...") on the root
    # logger when SLSQP fails (here from a NaN start), which printed WARNING:root:... in
    # a run; the adapter returns the failure instead, and the fit reports it
    cols = ["x1", "x2", "x3"]
    pt = build_partable("f =~ x1 + x2 + x3", cols)
    desc, _ = semopy_description(pt)
    model = SemModel(desc, np.identity(3) + 0.5, cols)
    handlers = list(logging.getLogger().handlers)
    with caplog.at_level(logging.DEBUG):
        _, ok = model.optimise(np.full(len(model.active), np.nan))
    assert not ok
    assert not [r for r in caplog.records if "converge" in r.getMessage()]
    assert logging.getLogger().handlers == handlers  # no basicConfig handler left behind


@pytest.fixture(scope="module")
def heywood():
    # three items that correlate negatively under one factor: its variance is negative
    rng = np.random.default_rng(3)
    c = np.array([[1, -.3, -.3, .2, .2, .2], [-.3, 1, -.3, .2, .2, .2],
                  [-.3, -.3, 1, .2, .2, .2], [.2, .2, .2, 1, .5, .5],
                  [.2, .2, .2, .5, 1, .5], [.2, .2, .2, .5, .5, 1]])
    d = pd.DataFrame(rng.multivariate_normal(np.zeros(6), c, size=300),
                     columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    fit = fit_model("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3", d)
    assert fit.converged and any("variance of A is negative" in w for w in fit.warnings)
    return fit


def test_heywood_case_gives_nan_standardised_epc_and_says_why(heywood):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from a square root or a division
        mi = modification_indices(heywood)
    on_a = mi[(mi["lhs"] == "A") & (mi["op"] == "=~")]
    assert len(on_a) and on_a["epc"].notna().all()
    # sd(A) does not exist: lavaan gives NA, not the 0 a clipped variance gave
    assert on_a[["sepc.lv", "sepc.all", "sepc.nox"]].isna().all().all()
    other = mi[(mi["lhs"] != "A") & (mi["rhs"] != "A")]
    assert other["sepc.all"].notna().all()
    notes = standardisation_warnings(heywood)
    assert len(notes) == 1 and "variance of A is not positive" in notes[0]
