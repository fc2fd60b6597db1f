"""Importance-performance map analysis (IPMA; Ringle & Sarstedt, 2016), as pure functions.

Importance of a construct for a target is its unstandardised total effect on the target;
performance is its mean score rescaled to 0-100. The functions take plain numbers (total
effects, SDs, weights, items and their scale bounds), so the PLS stage and the dashboard's
"Where to act" page share them whatever model produced the effects.

Reference: Ringle, C. M., & Sarstedt, M. (2016). Gain more insight from your PLS-SEM
results: the importance-performance map analysis. Industrial Management & Data Systems,
116(9), 1865-1886.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["rescale_items", "construct_performance", "unstandardised_total_effects", "ipma_table"]


def rescale_items(items: pd.DataFrame, scale_min: Mapping[str, float] | float,
                  scale_max: Mapping[str, float] | float) -> pd.DataFrame:
    """Items rescaled to 0-100 with their scale's bounds: ``100 (x - min) / (max - min)``.

    ``scale_min``/``scale_max`` are numbers or item -> bound mappings (the response
    scale's theoretical bounds, not the observed ones, as Ringle & Sarstedt).
    """
    lo = pd.Series(scale_min, index=items.columns, dtype=float) if isinstance(scale_min, Mapping) \
        else pd.Series(float(scale_min), index=items.columns)
    hi = pd.Series(scale_max, index=items.columns, dtype=float) if isinstance(scale_max, Mapping) \
        else pd.Series(float(scale_max), index=items.columns)
    return (items - lo) / (hi - lo) * 100.0


def construct_performance(rescaled: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Rescaled construct scores and their means (the performances), 0-100.

    Parameters
    ----------
    rescaled : DataFrame
        Items on 0-100 (:func:`rescale_items`).
    weights : DataFrame
        ``construct, item, weight``: the standardised outer weights.

    Returns
    -------
    DataFrame
        One column per construct: the rescaled scores ``sum_i v_i x_i`` with the
        unstandardised weights ``w_i / sd(x_i)`` normalised to sum 1 (``v_i``), so a
        score stays on 0-100. Its column means are the performances.
    """
    sd = rescaled.std(ddof=1)
    out = {}
    for c, g in weights.groupby("construct", sort=False):
        v = g.set_index("item")["weight"] / sd[g["item"]].to_numpy()
        v = v / v.sum()
        out[c] = rescaled[list(v.index)].to_numpy() @ v.to_numpy()
    return pd.DataFrame(out, index=rescaled.index)


def unstandardised_total_effects(std_total: Mapping[str, float], sd: Mapping[str, float],
                                 target: str) -> dict[str, float]:
    """Standardised total effects on ``target`` in the units of the rescaled scores.

    ``b = beta sd(target) / sd(source)``: each path of a chain scales by the ratio of the
    SDs of its ends, so the product of a chain (and their sum, the total effect)
    telescopes to the ratio of the first and last SD.
    """
    return {s: float(b) * float(sd[target]) / float(sd[s]) for s, b in std_total.items()}


def ipma_table(importance: Mapping[str, float], performance: Mapping[str, float],
               labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The importance-performance map of one target.

    Parameters
    ----------
    importance : source -> unstandardised total effect on the target.
    performance : source -> mean performance (0-100).
    labels : source -> display label.

    Returns
    -------
    DataFrame
        ``construct, label, importance, performance, priority`` sorted by absolute
        importance (largest first). ``priority`` is True for the lower-right quadrant: importance
        above the mean importance and performance below the mean performance (where an
        improvement pays most: "where to act").
    """
    labels = labels or {}
    t = pd.DataFrame({"construct": list(importance),
                      "importance": [float(importance[c]) for c in importance],
                      "performance": [float(performance[c]) for c in importance]})
    t.insert(1, "label", [labels.get(c, c) for c in t.construct])
    t["priority"] = (t.importance > t.importance.mean()) & (t.performance < t.performance.mean())
    return t.sort_values("importance", ascending=False, key=np.abs, kind="stable").reset_index(drop=True)
