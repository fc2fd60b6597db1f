"""A whole-scale alpha beside the subscales (issue 18): ``scales:`` in the spec pools the
items of several constructs; the reliability table gets a row with their alpha.

Reference: tests/fixtures/scales/whole_scale_alpha.json, ``psych::alpha`` (psych 2.2.9) on
the paperlike data, made by make_scales.R.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adoption.errors import InputError
from adoption.measurement import measure
from adoption.spec import parse_spec
from tests.paperlike import load_recoded_items

FIX = Path(__file__).parent / "fixtures" / "scales"
REF = json.loads((FIX / "whole_scale_alpha.json").read_text())
CONSTRUCTS = {"HAB": ["HAB1", "HAB2", "HAB3", "HAB4"], "PU": ["PU1", "PU2", "PU3"],
              "TRU": ["TRU1", "TRU2", "TRU3"], "STG": ["STG1", "STG2", "STG3", "STG4"]}


def test_whole_scale_alpha_equals_psych():
    res = measure(load_recoded_items(), CONSTRUCTS, scales={"total": ["HAB", "PU", "TRU", "STG"]})
    rel = res.reliability.set_index("construct")
    assert list(rel.index) == ["HAB", "PU", "TRU", "STG", "total"]
    assert rel.loc["total", "n_items"] == len(REF["items"]) == 14
    # closed form on complete data: agreement to floating point (JSON has 15 digits)
    np.testing.assert_allclose(rel.loc["total", "alpha"], REF["raw_alpha"], rtol=1e-10)
    np.testing.assert_allclose(rel.loc["total", "alpha_std"], REF["std.alpha"], rtol=1e-10)
    assert np.isnan(rel.loc["total", "ave"])
    assert "total" in res.to_dict()["reliability"]
    assert "total" not in set(res.fornell_larcker.iloc[:, 0])


def test_spec_scales_must_name_constructs():
    raw = {"title": "t", "constructs": CONSTRUCTS}
    assert parse_spec({**raw, "scales": {"total": ["HAB", "PU"]}}, path=Path("s.yaml")).scales
    with pytest.raises(InputError, match="'XX' is not a construct"):
        parse_spec({**raw, "scales": {"total": ["HAB", "XX"]}}, path=Path("s.yaml"))
