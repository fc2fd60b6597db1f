"""Measurement invariance of ordered items (WLSMV, ULSMV): lavaan's ``group.equal`` route.

Called by the group stage (:mod:`adoption.groups`) when the run's estimator treats the
items as ordered categories. The sequence is the one lavaan 0.6 offers for ordered
items with the delta parameterization:

1. **configural**: the CFA in every group, thresholds, loadings and factor
   (co)variances free, latent means 0 and scaling factors 1 in every group;
2. **thresholds + loadings** equal (lavaan ``group.equal = c("thresholds",
   "loadings")``; Muthen & Asparouhov's scalar model for categorical items): the latent
   means and the scaling factors are free in the other groups.

Equal intercepts or residual variances add nothing after that: under the delta
parameterization lavaan fixes the items' intercepts at 0 and estimates no residual
variances, and ``group.equal`` with ``"intercepts"`` and ``"residuals"`` gives the same
fit (same df and chi-square; tests/test_wlsmv_groups.py). Each model is compared with
the configural one by the scaled-shifted difference test of ``lavTestLRT``
(:func:`adoption.sem.wlsmv_lrt.satorra_2000`) and by the changes in the scaled CFI and
RMSEA and in SRMR (Chen, 2007; :func:`adoption.groups.invariance_decision`): lavaan gives
no robust CFI/RMSEA for the constrained model, so the scaled ones decide, for both
models. Partial invariance (releasing thresholds or loadings) is not searched.

A group in which an item lacks an answer category that other groups have makes lavaan
stop; here the empty category is merged with its neighbour in every group (the usual
remedy, so that the thresholds stay comparable), and the results say which
(:func:`harmonise_categories`).

References
----------
Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models
of different levels of invariance for ordered categorical outcomes. *Psychometrika*,
81, 1014-1045.
Muthen, B., & Asparouhov, T. (2002). Latent variable analysis with categorical
outcomes: multiple-group and growth modeling in Mplus. Mplus Web Note 4.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.groups import CHISQ_ALPHA, configural_decision, invariance_decision
from adoption.sem.wlsmv_groups import fit_ordinal_multigroup
from adoption.sem.wlsmv_lrt import difference_test_ordinal

__all__ = ["ORDINAL_LEVELS", "ORDINAL_LEVEL_LABELS", "ORDINAL_ROUTE_NOTE",
           "harmonise_categories", "ordinal_invariance"]

#: The ordinal invariance sequence: level -> lavaan ``group.equal``.
ORDINAL_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "scalar": ("thresholds", "loadings"),
}
#: How the tables name the ordinal levels.
ORDINAL_LEVEL_LABELS = {"configural": "Configural",
                        "scalar": "Thresholds + loadings (scalar)"}
#: Said in every ordinal comparison's warnings.
ORDINAL_ROUTE_NOTE = (
    "Items as ordered categories: invariance follows lavaan's group.equal = "
    "c(\"thresholds\", \"loadings\") route (delta parameterization). Equal intercepts or "
    "residual variances add no constraint after it (lavaan fixes the intercepts at 0 and "
    "estimates no residual variances), so the sequence ends there. Differences are tested "
    "by lavaan's scaled-shifted difference test (lavTestLRT, satorra.2000); the changes "
    "in fit use the scaled CFI and RMSEA (lavaan gives no robust CFI/RMSEA once "
    "thresholds are held equal). Partial invariance is not searched for ordered items. "
    "The multi-group path model is fitted to the construct scores (item means), not to "
    "the items: it stays under ML.")


def harmonise_categories(data: pd.DataFrame, items, group: str, label=str
                         ) -> tuple[pd.DataFrame, list[str]]:
    """Merge the answer categories some group never used, in every group.

    Parameters
    ----------
    data : the rows to compare (items and the grouping column).
    items : the ordinal items.
    group : the grouping column.
    label : group value -> its label (for the messages).

    Returns
    -------
    (data, notes)
        ``data`` with, per item, every category that is empty in some group recoded to
        its lower neighbour (the next higher one for the lowest category), repeated
        until every group has every remaining category; ``notes`` one sentence per
        merge naming the item, the groups, the category and what it was merged into.

    Raises
    ------
    InputError
        An item left with a single category (nothing to estimate thresholds from).

    Notes
    -----
    lavaan stops here ("some categories of variable `x1' are empty in group 2"); merging
    adjacent categories in all groups keeps the thresholds comparable across groups,
    which the thresholds-equal model needs.
    """
    out = data.copy()
    notes = []
    values = list(pd.unique(out[group].dropna()))
    for item in items:
        while True:
            present = {v: set(out.loc[out[group] == v, item].dropna().unique()) for v in values}
            cats = sorted(set().union(*present.values()))
            empty = [(c, [v for v in values if c not in present[v]]) for c in cats]
            empty = [(c, gs) for c, gs in empty if gs]
            if not empty or len(cats) < 2:
                break
            c, gs = empty[0]
            k = cats.index(c)
            into = cats[k - 1] if k > 0 else cats[k + 1]
            out.loc[out[item] == c, item] = into
            notes.append(f"Item {item}: no answer {_num(c)} in group "
                         f"{', '.join(str(label(v)) for v in gs)}; category {_num(c)} merged "
                         f"with {_num(into)} in every group (lavaan refuses empty categories "
                         "in a group; equal thresholds need the same categories).")
        if out[item].nunique(dropna=True) < 2:
            raise InputError(f"Item {item}: after merging the categories some group never "
                             "used, a single category is left, so its thresholds cannot be "
                             f"compared across {group}. Drop the item from the group "
                             "comparison or run with --estimator ML.")
    return out, notes


def _num(v):
    return int(v) if isinstance(v, (float, np.floating)) and float(v).is_integer() else v


def _indices(fit: dict) -> dict:
    return {"cfi": fit["cfi.scaled"], "rmsea": fit["rmsea.scaled"], "srmr": fit["srmr"]}


def _entry(level: str, fit) -> dict:
    return {"level": level, "model": level, "label": ORDINAL_LEVEL_LABELS[level],
            "group.equal": list(ORDINAL_LEVELS[level]), "freed": [], "released": [],
            "nobs": [int(n) for n in fit.nobs], "converged": fit.converged,
            "estimator": fit.estimator, "fit": {k: float(v) for k, v in fit.fit.items()}}


def ordinal_invariance(data: pd.DataFrame, syntax: str, items, col: str, keep,
                       estimator: str, missing: str, label=str, ordered=None):
    """The ordinal invariance sequence of one grouping column.

    Parameters
    ----------
    data : rows of the compared groups.
    syntax : the CFA (lavaan syntax).
    items : its ordinal items.
    col : the grouping column; ``keep`` the group values compared (first: reference).
    estimator : "WLSMV" or "ULSMV"; ``missing`` "listwise" or "pairwise".
    label : group value -> label.
    ordered : the ordinal items when only some are (the spec's ``ordinal: [items]``), None
        for all. Multi-group fits with some items continuous are not supported yet: the
        invariance is then not tested, and the warnings say so.

    Returns
    -------
    (entries, highest, partial, warnings)
        As :func:`adoption.groups.run_groups`' invariance: one dict per model
        (``level``, ``model``, ``label``, ``group.equal``, ``nobs``, ``fit``,
        ``converged``, ``comparison`` with ``chisq.diff`` (scaled-shifted), ``df.diff``,
        ``pvalue``, ``method`` "satorra.2000", ``a``, ``b``, the fit changes and Chen's
        verdict, ``supported``); the highest level supported; () (no partial
        invariance); warnings (merged categories, the route note).

    Raises
    ------
    InputError
        The data cannot be fitted (an item left with one category, a model that is not
        identified in these groups).
    """
    continuous = [v for v in items if ordered is not None and v not in set(ordered)]
    if continuous:
        return (), None, (), [
            f"Measurement invariance not tested: items {', '.join(continuous[:6])}"
            f"{' ...' if len(continuous) > 6 else ''} are continuous, and multi-group fits "
            "with some items ordinal and others continuous are not supported yet. Run with "
            "all items ordinal (ordinal: true) or with --estimator ML/MLR for the "
            "invariance tests."]
    sub = data[data[col].isin(keep)]
    if missing == "listwise":
        sub = sub[sub[list(items)].notna().all(axis=1)]
    sub, notes = harmonise_categories(sub, items, col, label)
    warnings = [ORDINAL_ROUTE_NOTE, *notes]
    fits = {lvl: fit_ordinal_multigroup(syntax, sub, col, group_equal=ge, groups=list(keep),
                                        estimator=estimator, missing=missing)
            for lvl, ge in ORDINAL_LEVELS.items()}
    conf, scal = fits["configural"], fits["scalar"]
    decision = configural_decision(_indices(conf.fit))
    first = _entry("configural", conf)
    first.update(comparison=None, configural=decision, partial=False,
                 supported=bool(conf.converged and decision["supported"]))
    test = difference_test_ordinal(scal, conf)
    comp = {"vs": "configural", **test, "chisq.rejects": bool(test["pvalue"] < CHISQ_ALPHA),
            "indices": "scaled",
            **invariance_decision(_indices(conf.fit), _indices(scal.fit), "scalar")}
    second = _entry("scalar", scal)
    second.update(comparison=comp, partial=False,
                  supported=None if not first["supported"] else
                  bool(comp["supported"] and scal.converged))
    for lvl, f in fits.items():
        if not f.converged:
            warnings.append(f"The {ORDINAL_LEVEL_LABELS[lvl].lower()} model did not converge.")
    highest = None
    if first["supported"]:
        highest = "scalar" if second["supported"] else "configural"
    elif conf.converged:
        warnings.append("The configural model fits poorly (scaled CFI/RMSEA or SRMR beyond "
                        "the cut-offs): no level of invariance holds; the thresholds + "
                        "loadings model is shown, not judged.")
    return (first, second), highest, (), warnings
