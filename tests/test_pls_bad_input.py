"""Bad input to the PLS estimator is said plainly (InputError naming the construct)."""

from __future__ import annotations

import numpy as np
import pytest

from adoption.errors import InputError
from adoption.pls import estimate_pls, pls_model
from tests.plsref import ECSI_ITEMS, ECSI_PATHS, ecsi_model, mobi


def test_constant_construct():
    d = mobi()
    d[["PERV1", "PERV2"]] = 5
    with pytest.raises(InputError, match="every item of construct Value"):
        estimate_pls(d, ecsi_model())


def test_collinear_mode_b_block():
    d = mobi()
    d["IMAG5"] = d["IMAG1"] + d["IMAG2"]
    with pytest.raises(InputError, match="mode-B construct Image are perfectly collinear"):
        estimate_pls(d, ecsi_model({"Image": "B"}))
    estimate_pls(d, ecsi_model())  # mode A is defined for the same data


def test_no_convergence():
    with pytest.raises(InputError, match="did not converge in 3 iterations"):
        estimate_pls(mobi(), ecsi_model(), max_iter=3)


def test_missing_values_and_columns():
    d = mobi()
    d.loc[3, "CUSA1"] = np.nan
    with pytest.raises(InputError, match="missing values in CUSA1"):
        estimate_pls(d, ecsi_model())
    with pytest.raises(InputError, match="no column CUSA1"):
        estimate_pls(mobi().drop(columns="CUSA1"), ecsi_model())


def test_model_errors():
    with pytest.raises(InputError, match="mode 'C'"):
        pls_model(ECSI_ITEMS, ECSI_PATHS, {"Image": "C"})
    with pytest.raises(InputError, match="Trust in the paths has no items"):
        pls_model(ECSI_ITEMS, ECSI_PATHS + [("Trust", "Loyalty")])
    items = dict(ECSI_ITEMS, Value=["PERV1", "CUSA1"])
    with pytest.raises(InputError, match="item CUSA1 is in both"):
        pls_model(items, ECSI_PATHS)
    with pytest.raises(InputError, match="unknown inner weighting scheme"):
        estimate_pls(mobi(), ecsi_model(), scheme="mode")
