"""The ECSI model of seminr's reference values and readers of its tables (shared by the PLS tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from adoption.pls import PLSModel, pls_model

PLS = Path(__file__).parent / "fixtures" / "pls"

ECSI_ITEMS = {
    "Image": [f"IMAG{i}" for i in range(1, 6)], "Expectation": [f"CUEX{i}" for i in range(1, 4)],
    "Quality": [f"PERQ{i}" for i in range(1, 8)], "Value": ["PERV1", "PERV2"],
    "Satisfaction": [f"CUSA{i}" for i in range(1, 4)], "Complaints": "CUSCO",
    "Loyalty": [f"CUSL{i}" for i in range(1, 4)],
}
ECSI_PATHS = [("Image", "Expectation"), ("Image", "Satisfaction"), ("Image", "Loyalty"),
              ("Expectation", "Quality"), ("Expectation", "Value"), ("Expectation", "Satisfaction"),
              ("Quality", "Value"), ("Quality", "Satisfaction"), ("Value", "Satisfaction"),
              ("Satisfaction", "Complaints"), ("Satisfaction", "Loyalty"), ("Complaints", "Loyalty")]


def ecsi_model(modes: dict | None = None) -> PLSModel:
    """The ECSI model as make_pls_reference.R states it."""
    return pls_model(ECSI_ITEMS, ECSI_PATHS, modes)


def mobi() -> pd.DataFrame:
    return pd.read_csv(PLS / "mobi.csv")


def reference(name: str = "mobi_pls") -> dict:
    return json.loads((PLS / f"{name}.json").read_text())


def wide(rows: list[dict]) -> pd.DataFrame:
    """A seminr table saved by jsonlite (rows with a ``_row`` name) as a DataFrame."""
    return pd.DataFrame(rows).set_index("_row")
