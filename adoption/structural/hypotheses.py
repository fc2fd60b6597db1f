"""The hypotheses table: each hypothesised path of the spec, tested in the fitted models.

:func:`hypotheses_table` reads the composite model's estimate of each path (and the
latent model's beside it) from the structural stage's results
(:mod:`adoption.structural.stage`). A moderation hypothesis (``HAB:COM -> WIL (-)``) is
read from the moderation results: the composite model's interaction row (``lm``, as the
moderation table shows it) and the latent interaction (product indicators or LMS).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from adoption.spec import Survey, formula_names, parse_hypothesis
from adoption.vocabulary import STD_ALL_COLUMNS

if TYPE_CHECKING:
    from adoption.structural.moderated import ModerationResults
    from adoption.structural.stage import ModelResults

__all__ = ["STD_ALL_SHOWN", "hypotheses_table"]

#: The delta-method inference on std.all carried into the hypotheses table.
STD_ALL_SHOWN = tuple(c for c in STD_ALL_COLUMNS if not c.endswith((".z", ".pvalue")))


def hypotheses_table(survey: Survey, composite: ModelResults,
                     latent: ModelResults | None, alpha: float = 0.05,
                     moderation: ModerationResults | None = None) -> pd.DataFrame:
    """Each hypothesis (or, with none in the spec, each structural path) tested.

    Columns: ``id, lhs, rhs, expected_sign, est, se, std.all, pvalue, ci.lower, ci.upper,
    std.all.se, std.all.ci.lower, std.all.ci.upper, supported`` from the composite model
    (the last three: delta-method SE and interval of std.all, NaN where the estimator
    gives none), and ``latent.std.all, latent.pvalue, latent.std.all.se,
    latent.std.all.ci.lower, latent.std.all.ci.upper, latent.supported``. A hypothesis is supported when its path is significant at
    ``alpha`` with the expected sign (any sign where none is given).

    A moderation hypothesis ``X:W -> Y`` (either order of the factors) is judged the same
    way on the interaction coefficient: in the composite model the row of
    ``moderation.interactions`` (t test of ``lm``, as the moderation table; ``std.all``
    from the path fit's product term); in the latent model the latent interaction's
    ``Y ~ X:W`` row (Wald z; no ``std.all``). A categorical moderator with more than one
    dummy has no single coefficient: its joint F test decides when no sign is expected.
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
        if ":" in x:
            return _latent_interaction(res, x, y) if res.form == "latent" \
                else _composite_interaction(res, moderation, x, y)
        e = res.model_fit.estimates
        hit = e[(e["op"] == "~") & (e["lhs"] == y) & (e["rhs"] == x)]
        return None if hit.empty else hit.iloc[0].to_dict()

    def supported(row: dict | None, sign: str | None) -> bool | None:
        if row is None or not np.isfinite(row["pvalue"]):
            return None
        if sign is not None and not np.isfinite(row["est"]):   # a joint test has no sign
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
            "note": _note(x, c),
        })
    return pd.DataFrame(rows)


def _note(x: str, row: dict | None) -> str:
    if row is None:
        return "interaction not in the fitted model" if ":" in x else "path not in the fitted model"
    if ":" not in x:
        return ""
    return ("interaction: t test of the composite equation (lm)" if np.isfinite(row["est"])
            else "interaction with a categorical moderator: joint F test of its products")


def _composite_interaction(res: ModelResults, moderation: ModerationResults | None,
                           term: str, y: str) -> dict | None:
    """The interaction row of ``term`` (``X:W``) in the composite model's moderation
    results, in the hypotheses table's keys; None when the model has no such term."""
    if moderation is None or moderation.interactions.empty:
        return None
    factors = set(term.split(":"))
    it = moderation.interactions
    same = np.array([{f, m} == factors for f, m in zip(it["focal"], it["moderator"])])
    hit = it[(it["lhs"] == y).to_numpy() & same]
    if hit.empty:
        return None
    row = hit.iloc[0].to_dict()
    out = {k: row[k] for k in ("est", "se", "pvalue", "ci.lower", "ci.upper")}
    out["std.all"] = np.nan
    if len(row["terms"]) > 1:    # several dummies: the joint F test, no single coefficient
        out["pvalue"] = row["f.pvalue"]
    e = res.model_fit.estimates
    path = e[(e["op"] == "~") & (e["lhs"] == y) & e["rhs"].isin(row["terms"])]
    if len(path) == 1:
        out |= {k: path.iloc[0].get(k, np.nan) for k in ("std.all", *STD_ALL_SHOWN)}
    return out


def _latent_interaction(res: ModelResults, term: str, y: str) -> dict | None:
    """The latent interaction's ``y ~ X:W`` row (product indicators or LMS)."""
    if res.moderation is None:
        return None
    factors = set(term.split(":"))
    for li in res.moderation.interactions:
        if li.outcome == y and {li.focal, li.moderator} == factors and li.converged:
            t = li.interaction
            row = t[t["rhs"] == f"{li.focal}:{li.moderator}"].iloc[0].to_dict()
            return {**row, "std.all": np.nan}
    return None
