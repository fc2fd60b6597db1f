"""The structural stage's hook for latent interactions (structural.latent.moderation) and
its report blocks.

Reference: the DMC fit of fixtures/latent_interaction (semTools::indProd + lavaan 0.6-14),
1e-4 relative as in tests/test_sem_product_indicators.py.
"""

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.report.content import Table
from adoption.report.latent_moderation import latent_moderation_blocks
from adoption.structural.stage import latent_moderation

FIX = Path(__file__).parent / "fixtures" / "latent_interaction"
ITEMS = {"X": ["x1", "x2", "x3"], "Z": ["z1", "z2", "z3"], "Y": ["y1", "y2", "y3"]}
ML = SimpleNamespace(ordinal=False, estimator="ML", missing="listwise")


def survey(structural):
    return SimpleNamespace(
        structural=structural, latent_interaction="product_indicators",
        constructs={c: SimpleNamespace(items=tuple(i)) for c, i in ITEMS.items()},
        measurement_syntax=lambda: "\n".join(f"{c} =~ " + " + ".join(i)
                                             for c, i in ITEMS.items()))


@pytest.fixture(scope="module")
def cleaned():
    data = pd.read_csv(FIX / "oneInt.csv")
    return SimpleNamespace(data=data.assign(id=range(len(data))),
                           items=tuple(i for its in ITEMS.values() for i in its))


@pytest.fixture(scope="module")
def fitted(cleaned):
    return latent_moderation(cleaned, survey("Y ~ X + Z + X:Z"), ML)


def test_hook_fits_the_latent_interaction(cleaned, fitted):
    assert latent_moderation(cleaned, survey("Y ~ X + Z"), ML) is None
    ref = pd.DataFrame(json.loads((FIX / "dmc_reference.json").read_text())["all"]
                       ["estimates"]).query("lhs == 'Y' and rhs == 'XZ'").iloc[0]
    xz = fitted.to_dict()["interactions"][0]["interaction"][2]
    assert xz["rhs"] == "X:Z"
    assert_allclose([xz["est"], xz["se"]], [ref["est"], ref["se"]], rtol=1e-4)
    assert "ML" in fitted.notes[-1]


def test_hook_skips_ordinal_estimators(cleaned):
    ordinal = SimpleNamespace(ordinal=True, estimator="WLSMV", missing="listwise")
    skipped = latent_moderation(cleaned, survey("Y ~ X + Z + X:Z"), ordinal)
    assert skipped.interactions == () and "WLSMV" in skipped.notes[0]


def test_report_blocks_show_the_interaction_and_the_method(fitted):
    blocks = latent_moderation_blocks(json.loads(json.dumps(fitted.to_dict())))
    (table,) = [b for b in blocks if isinstance(b, Table)]
    assert [r[0] for r in table.rows] == ["Y ← X", "Y ← Z", "Y ← X:Z"]
    assert "double-mean-centred" in table.note and "all pairs" in table.note
    assert latent_moderation_blocks(None) == []
