"""The spec sets the EFA's number of factors or the parallel-analysis count that sets it
(issue 18), and the results and report say which was used."""

from __future__ import annotations

from pathlib import Path

import pytest

from adoption.errors import InputError
from adoption.measurement import measure
from adoption.report.build import efa_blocks
from adoption.spec import parse_spec
from tests.paperlike import load_recoded_items

CONSTRUCTS = {"HAB": ["HAB1", "HAB2", "HAB3", "HAB4"], "PU": ["PU1", "PU2", "PU3"],
              "TRU": ["TRU1", "TRU2", "TRU3"], "STG": ["STG1", "STG2", "STG3", "STG4"]}


@pytest.fixture(scope="module")
def items():
    return load_recoded_items()


def test_spec_number_of_factors_is_used_and_named(items):
    res = measure(items, CONSTRUCTS, n_factors=2)
    assert res.efa.n_factors == 2 and res.parallel.n_factors != 2
    out = res.to_dict()["efa"]
    assert out["n_factors"] == 2 and out["n_factors_rule"] == "spec"
    text = repr(efa_blocks({"efa": {**out, "n_factors_parallel": 3}}))
    assert "The EFA extracted 2 factors, as set by the spec." in text


@pytest.mark.parametrize("variant", ["smc", "pca"])
def test_parallel_variant_sets_the_count(items, variant):
    res = measure(items, CONSTRUCTS, parallel=variant)
    want = res.parallel.n_components if variant == "pca" else res.parallel.n_factors
    assert res.efa.n_factors == max(want, 1)
    assert res.to_dict()["efa"]["n_factors_rule"] == f"parallel analysis ({variant})"


def test_spec_efa_key():
    raw = {"title": "t", "constructs": CONSTRUCTS}
    s = parse_spec({**raw, "efa": {"n_factors": 4, "parallel": "pca"}}, path=Path("s.yaml"))
    assert (s.efa.n_factors, s.efa.parallel) == (4, "pca")
    with pytest.raises(InputError, match="efa.parallel"):
        parse_spec({**raw, "efa": {"parallel": "minres"}}, path=Path("s.yaml"))
    with pytest.raises(InputError, match="efa.n_factors"):
        parse_spec({**raw, "efa": {"n_factors": 0}}, path=Path("s.yaml"))
