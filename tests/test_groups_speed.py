"""What keeps the group comparisons fast, held in place without changing a number:

* the grouping columns are compared on the local workers, with the same results as in
  one process;
* a multi-group FIML sequence fits no group on its own for starting values: the
  configural model (nothing shared across groups) is the start of the later levels, and
  those still equal lavaan.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from numpy.testing import assert_allclose
from pandas.testing import assert_frame_equal

from adoption.groups import run_groups
from adoption.sem import groupoptim
from adoption.sem.multigroup import fit_multigroup, prepare_groups
from adoption.spec import parse_spec
from cleaned_input import as_cleaned

FIX = Path(__file__).parent / "fixtures"
FIML_REF = json.loads((FIX / "multigroup" / "holzinger_swineford_fiml_groups.json").read_text())
HS_ORDER = ["Pasteur", "Grant-White"]  # lavaan's order: first appearance


def test_fiml_levels_start_from_the_configural_fit_not_from_single_group_fits(monkeypatch):
    def single_group_fit(*args, **kwargs):
        raise AssertionError("a group was fitted on its own for starting values")

    monkeypatch.setattr(groupoptim, "fit_model", single_group_fit)
    data = pd.read_csv(FIX / "multigroup" / "holzinger_swineford_school_missing.csv")
    setup = prepare_groups(FIML_REF["model"], data, "school", HS_ORDER, "fiml")
    fits = {}
    for level, equal in (("configural", ()), ("metric", ("loadings",)),
                         ("scalar", ("loadings", "intercepts"))):
        fits[level] = fit_multigroup(FIML_REF["model"], data, "school", group_equal=equal,
                                     groups=HS_ORDER, missing="fiml", se=False, _setup=setup)
        if level == "configural":
            assert setup.starts is not None  # kept for the next levels
    for level, fit in fits.items():
        assert fit.converged
        # lavaan cfa(..., group = "school", missing = "ml"), the tolerances of
        # tests/test_multigroup.py (SRMR printed by lavaan's EM to 6 digits)
        for k in ("npar", "df", "chisq", "cfi", "tli", "rmsea", "srmr", "logl"):
            assert_allclose(fit.fit[k], FIML_REF[level]["fit"][k],
                            rtol=1e-5 if k == "srmr" else 1e-6, atol=1e-6, err_msg=k)


def _cleaned(data: pd.DataFrame, survey):
    return as_cleaned(data, survey.items)


def _same(a, b, where=""):
    """Equal to the last bit: frames, dicts, lists, numbers (NaN equal to NaN)."""
    if isinstance(a, pd.DataFrame):
        assert_frame_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b or (a != a and b != b), (where, a, b)


def test_columns_compared_on_workers_as_in_one_process():
    survey = parse_spec({
        "title": "HS", "scale": {"min": 0, "max": 10},
        "constructs": {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                       "speed": ["x7", "x8", "x9"]},
        "groups": ["school", "half"],
    }, path=FIX / "multigroup" / "hs.yaml")
    data = pd.read_csv(FIX / "multigroup" / "holzinger_swineford_school.csv")
    data["half"] = data["id"] % 2
    cleaned = _cleaned(data, survey)
    one = run_groups(cleaned, survey, n_jobs=1)
    two = run_groups(cleaned, survey, n_jobs=2)
    assert list(two.comparisons) == ["school", "half"]  # the spec's order
    _same(one.to_dict(), two.to_dict())
