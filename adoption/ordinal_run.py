"""The ordinal part of a run's results: thresholds, ordinal reliability, sensitivity table.

Called by the pipeline after the measurement and structural stages. Whatever the run's
estimator, the answers are also treated the other way (as ordered categories in an ML
run, as continuous in a WLSMV run) when the spec's ``sensitivity`` is on (the default):
the CFA and the latent SEM are fitted under both and their fit and standardised paths
shown side by side. Ordinal alpha and categorical omega are added to the reliability
table whenever the items have at most :data:`adoption.ordinal.MAX_ORDINAL_CATEGORIES`
answer categories (they need one WLSMV CFA, about half a second on the example).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from adoption.clean import CleanedResponses
from adoption.jsonable import to_jsonable
from adoption.measurement import MeasurementResults
from adoption.ordinal import (COMPOSITE_NOTE, ItemEstimation, fit_treatments, item_estimation,
                              ordinal_reliability_table, sensitivity_table, thresholds_table,
                              unordered_constructs)
from adoption.spec import Survey
from adoption.structural.stage import StructuralResults

__all__ = ["ordinal_results", "ordinal_dict", "ordinal_frames"]

def ordinal_results(cleaned: CleanedResponses, survey: Survey, run: ItemEstimation,
                    measurement: MeasurementResults, structural: StructuralResults | None
                    ) -> tuple[MeasurementResults, dict[str, Any]]:
    """Fit the other treatment of the answers and build the ordinal tables.

    Returns
    -------
    measurement : ``measurement`` with ``alpha_ordinal`` and ``omega_categorical`` in its
        reliability table.
    ordinal : dict with ``estimator``, ``ordinal`` (bool), ``ordinal_items`` and
        ``continuous_items`` (how the run's item models treat each item: the spec's
        ``ordinal: [items]`` leaves the others continuous), ``parameterization``,
        ``missing``, ``composite`` (note or None), ``continuous_estimator``,
        ``ordinal_estimator``, ``thresholds`` and ``sensitivity`` (DataFrames; the
        latter None when the spec turns it off), ``warnings`` (list).
    """
    items = cleaned.data[list(cleaned.items)]
    cfa = survey.measurement_syntax()
    models = {"cfa": cfa}
    reuse = {}
    if survey.sensitivity and structural is not None and structural.latent is not None:
        models["latent"] = structural.latent.syntax
        reuse["latent"] = structural.latent.model_fit
    treat = fit_treatments(items, models, run, survey.missing.method,
                           continuous=survey.sensitivity, reuse=reuse)
    rel_fit = treat.ordinal["cfa"]
    if rel_fit is not None and run.ordinal and run.parameterization != "delta":
        # categorical omega is defined on the delta parameterization
        rel_fit = item_estimation(run.estimator, survey.missing.method,
                                  ordered=run.ordered).fit(cfa, items)
    constructs = {n: list(c.items) for n, c in survey.constructs.items()}
    ordered = run.ordered if run.ordinal else None
    rel = ordinal_reliability_table(rel_fit, constructs, ordered)
    measurement = replace(measurement, reliability=measurement.reliability.merge(
        rel, on="construct", how="left"))
    sens = (sensitivity_table({m: (treat.continuous[m], treat.ordinal[m]) for m in models})
            if survey.sensitivity else None)
    as_ordinal = [i for i in items.columns if run.ordinal and (ordered is None or i in ordered)]
    return measurement, {
        "estimator": run.estimator, "ordinal": run.ordinal,
        "ordinal_items": as_ordinal,
        "continuous_items": [i for i in items.columns if i not in as_ordinal],
        "parameterization": run.parameterization if run.ordinal else None,
        "missing": run.missing if run.ordinal else None,
        "composite": COMPOSITE_NOTE if run.ordinal else None,
        "continuous_estimator": treat.continuous_estimator,
        "ordinal_estimator": treat.ordinal_estimator,
        "thresholds": thresholds_table(measurement.cfa_estimates if run.ordinal else None),
        "sensitivity": sens,
        "warnings": list(run.notes) + list(treat.warnings) + _reliability_note(constructs, ordered),
    }


def _reliability_note(constructs: dict[str, list[str]], ordered) -> list[str]:
    """Why ordinal alpha and categorical omega are missing for some constructs."""
    skip = unordered_constructs(constructs, ordered)
    if not skip:
        return []
    parts = [f"{', '.join(c for c, k in skip.items() if k == kind)} ({words})"
             for kind, words in (("mixed", "mixed ordinal and continuous items"),
                                 ("continuous", "continuous items"))
             if kind in skip.values()]
    which = " and ".join(parts)
    return [f"Ordinal alpha and categorical omega are defined for constructs whose items are all "
            f"ordinal; not computed for {which}: see alpha and omega for them."]


def ordinal_dict(ordinal: dict[str, Any]) -> dict:
    """The ``ordinal`` block of results.json (tables as row records)."""
    sens = ordinal["sensitivity"]
    items_as = ("continuous" if not ordinal["ordinal"]
                else "mixed: ordered categories and continuous" if ordinal.get("continuous_items")
                else "ordered categories")
    return to_jsonable({**ordinal, "items_as": items_as,
                        "thresholds": ordinal["thresholds"].to_dict("records"),
                        "sensitivity": None if sens is None else sens.to_dict("records")})


def ordinal_frames(ordinal: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """``tables/thresholds.csv`` (ordinal runs) and ``tables/sensitivity.csv`` (when on)."""
    out = {}
    if ordinal["ordinal"]:
        out["tables/thresholds.csv"] = ordinal["thresholds"]
    if ordinal["sensitivity"] is not None:
        out["tables/sensitivity.csv"] = ordinal["sensitivity"]
    return out
