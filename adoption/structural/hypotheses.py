"""The hypotheses table: each hypothesised path of the spec, tested in the fitted models.

:func:`hypotheses_table` reads the composite model's estimate of each path (and the
latent model's beside it) from the structural stage's results
(:mod:`adoption.structural.stage`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from adoption.spec import Survey, formula_names, parse_hypothesis
from adoption.vocabulary import STD_ALL_COLUMNS

if TYPE_CHECKING:
    from adoption.structural.stage import ModelResults

__all__ = ["STD_ALL_SHOWN", "hypotheses_table"]

#: The delta-method inference on std.all carried into the hypotheses table.
STD_ALL_SHOWN = tuple(c for c in STD_ALL_COLUMNS if not c.endswith((".z", ".pvalue")))


def hypotheses_table(survey: Survey, composite: ModelResults,
                     latent: ModelResults | None, alpha: float = 0.05) -> pd.DataFrame:
    """Each hypothesis (or, with none in the spec, each structural path) tested.

    Columns: ``id, lhs, rhs, expected_sign, est, se, std.all, pvalue, ci.lower, ci.upper,
    std.all.se, std.all.ci.lower, std.all.ci.upper, supported`` from the composite model
    (the last three: delta-method SE and interval of std.all, NaN where the estimator
    gives none), and ``latent.std.all, latent.pvalue, latent.std.all.se,
    latent.std.all.ci.lower, latent.std.all.ci.upper, latent.supported``. A hypothesis is supported when its path is significant at
    ``alpha`` with the expected sign (any sign where none is given).
    """
    if survey.hypotheses:
        hyps = [(hid, *parse_hypothesis(text)) for hid, text in survey.hypotheses.items()]
    else:
        edges = [(lhs, rhs) for lhs, op, names in formula_names(survey.structural, where="structural")
                 if op == "~" for rhs in names]
        hyps = [(f"P{i}", rhs, lhs, None) for i, (lhs, rhs) in enumerate(edges, 1)]

    def lookup(res: ModelResults | None, x: str, y: str) -> dict | None:
        if res is None or not res.model_fit.converged:
            return None
        e = res.model_fit.estimates
        hit = e[(e["op"] == "~") & (e["lhs"] == y) & (e["rhs"] == x)]
        return None if hit.empty else hit.iloc[0].to_dict()

    def supported(row: dict | None, sign: str | None) -> bool | None:
        if row is None or not np.isfinite(row["pvalue"]):
            return None
        ok_sign = sign is None or (row["est"] > 0) == (sign == "+")
        return bool(row["pvalue"] < alpha and ok_sign)

    rows = []
    for hid, x, y, sign in hyps:
        c, l = lookup(composite, x, y), lookup(latent, x, y)
        rows.append({
            "id": hid, "lhs": y, "rhs": x, "path": f"{x} -> {y}", "expected_sign": sign,
            **{k: (c[k] if c else np.nan) for k in ["est", "se", "std.all", "pvalue",
                                                    "ci.lower", "ci.upper"]},
            **{k: (c.get(k, np.nan) if c else np.nan) for k in STD_ALL_SHOWN},
            "supported": supported(c, sign),
            "latent.std.all": l["std.all"] if l else np.nan,
            "latent.pvalue": l["pvalue"] if l else np.nan,
            **{f"latent.{k}": (l.get(k, np.nan) if l else np.nan) for k in STD_ALL_SHOWN},
            "latent.supported": supported(l, sign),
            "note": "" if c else "path not in the fitted model",
        })
    return pd.DataFrame(rows)
