"""Ordered-category items in a run: the estimator, the missing-data rule, the extra tables.

A run treats the items as continuous (ML, MLM, MLR) or as ordered categories (WLSMV,
ULSMV: :func:`adoption.sem.wlsmv.fit_ordinal`, lavaan's ``ordered =`` route). This module
decides which, from ``--estimator`` and the spec (``estimator:``, ``ordinal:``), maps the
spec's missing-data method onto what the ordinal estimator can do, and builds the tables
an ordinal run adds: thresholds, ordinal reliability (ordinal alpha, categorical omega)
and the sensitivity table (standardised paths and fit with the answers treated as
continuous and as ordered, side by side).

Only item models (the CFA and the latent SEM) are fitted to ordered categories; the
composite path model is fitted to construct scores (means of items), which are not
ordinal, so it stays under ML.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.fitview import shown_fit
from adoption.sem.engine import ModelFit, fit_model
from adoption.sem.ordinal_reliability import omega_from_fit, ordinal_alpha
from adoption.sem.wlsmv import PARAMETERIZATIONS, fit_ordinal
from adoption.vocabulary import ESTIMATORS, ORDINAL_ESTIMATORS, OP_REGRESSION

__all__ = ["ItemEstimation", "resolve_estimator", "item_estimation", "is_ordinal", "ordinal_items",
           "unordered_constructs",
           "thresholds_table", "ordinal_reliability_table", "sensitivity_table",
           "Treatments", "fit_treatments", "COMPOSITE_NOTE", "MAX_ORDINAL_CATEGORIES"]

#: Most answer categories for which the ordinal figures are computed in a run whose
#: items are treated as continuous (the polychoric routine refuses more, as lavaan warns).
MAX_ORDINAL_CATEGORIES = 10

#: What the results and the report say about the composite model in an ordinal run.
COMPOSITE_NOTE = ("The composite path model is fitted to construct scores (item means), "
                  "which are not ordered categories: it stays under ML; the CFA and the "
                  "latent SEM treat the items as ordered categories.")

#: The fit values of the sensitivity table (roles of :data:`adoption.fitview.SHOWN_MEASURES`).
SENSITIVITY_FIT = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr")


def is_ordinal(estimator: str) -> bool:
    """Whether ``estimator`` fits the items as ordered categories (WLSMV, ULSMV)."""
    return str(estimator).upper() in ORDINAL_ESTIMATORS


def ordinal_items(spec_ordinal: bool | list, items=()) -> tuple[str, ...] | None:
    """The items the spec's ``ordinal:`` names (a list), or None for all items (``true``,
    absent -- then every item is ordinal exactly when the estimator is -- or a list of
    all of the spec's ``items``)."""
    if isinstance(spec_ordinal, (list, tuple)) and spec_ordinal:
        listed = tuple(map(str, spec_ordinal))
        return None if set(items) and set(items) <= set(listed) else listed
    return None


def resolve_estimator(given: str | None, spec_estimator: str | None,
                      spec_ordinal: bool | list) -> str:
    """The run's estimator: ``--estimator`` if given, else the spec's ``estimator``, else
    WLSMV when the spec says ``ordinal: true`` or lists ordinal items, else ML.

    Raises
    ------
    InputError
        An unknown estimator; ``ordinal:`` (true or a list of items) with a continuous
        estimator.
    """
    est = (given or spec_estimator or ("WLSMV" if spec_ordinal else "ML")).upper()
    if est not in ESTIMATORS:
        raise InputError(f"--estimator {given or spec_estimator}: choose one of {', '.join(ESTIMATORS)}.")
    if spec_ordinal and not is_ordinal(est):
        said = ("'ordinal: true'" if spec_ordinal is True
                else f"'ordinal: [{', '.join(map(str, spec_ordinal))}]'")
        raise InputError(f"The spec says {said} but the estimator is {est}; ordered "
                         f"items need {' or '.join(ORDINAL_ESTIMATORS)} (or remove 'ordinal').")
    return est


@dataclass(frozen=True)
class ItemEstimation:
    """How the item models (CFA, latent SEM) of a run are fitted.

    Attributes
    ----------
    estimator : ML, MLM, MLR, WLSMV or ULSMV.
    missing : the engine's missing option: 'listwise' or 'fiml' (continuous),
        'listwise' or 'pairwise' (ordinal).
    parameterization : 'delta' or 'theta' (ordinal only).
    notes : what was done instead of what the spec asked, in plain words.
    ordered : the ordinal items (the spec's ``ordinal: [items]``; the others are
        continuous, lavaan's ``ordered =`` a subset), or None: all items (ordinal
        estimators only).
    std_lv : lavaan's ``std.lv = TRUE``: every latent variance (a factor's residual
        variance when it is regressed) fixed at 1 and the first loadings freed, in
        place of the first loading fixed at 1. Only the latent variables' scale
        changes: std.all, the fit measures and the reliability figures computed from
        std.all (omega, CR, AVE) are identical; the unstandardised loadings and the
        latent (co)variances and regressions (est, se) differ.
    """

    estimator: str
    missing: str
    parameterization: str = "delta"
    notes: tuple[str, ...] = ()
    std_lv: bool = False
    ordered: tuple[str, ...] | None = None

    @property
    def ordinal(self) -> bool:
        return is_ordinal(self.estimator)

    def fit(self, syntax: str, data: pd.DataFrame) -> ModelFit:
        """Fit ``syntax`` to the items in ``data`` this way."""
        if self.ordinal:
            return fit_ordinal(syntax, data, estimator=self.estimator, missing=self.missing,
                               parameterization=self.parameterization, std_lv=self.std_lv,
                               ordered=self.ordered)
        if self.missing == "listwise":
            return fit_model(syntax, data, estimator=self.estimator, std_lv=self.std_lv)
        return fit_model(syntax, data, estimator=self.estimator, missing=self.missing,
                         std_lv=self.std_lv)


def item_estimation(estimator: str, spec_missing: str,
                    parameterization: str = "delta", std_lv: bool = False,
                    ordered: tuple[str, ...] | None = None) -> ItemEstimation:
    """The item models' estimation from the run's estimator and the spec's ``missing``.

    Under WLSMV/ULSMV: listwise stays listwise, pairwise is lavaan's ``missing =
    "pairwise"``, and FIML (an ML method) becomes pairwise, said in ``notes``. Under
    ML/MLM/MLR: ``missing: pairwise`` is refused (lavaan has it for the ordinal
    estimators only). ``std_lv``, ``ordered``: see :class:`ItemEstimation`.
    """
    est = estimator.upper()
    if parameterization not in PARAMETERIZATIONS:
        raise InputError(f"--parameterization {parameterization}: choose delta or theta.")
    if not is_ordinal(est):
        if spec_missing == "pairwise":
            raise InputError(f"missing: pairwise is for the ordinal estimators (WLSMV, ULSMV); "
                             f"under {est} use listwise or fiml.")
        if parameterization != "delta":
            raise InputError(f"--parameterization {parameterization} is for WLSMV/ULSMV, not {est}.")
        return ItemEstimation(est, spec_missing, std_lv=std_lv)
    if spec_missing == "fiml":
        return ItemEstimation(est, "pairwise", parameterization, std_lv=std_lv, ordered=ordered, notes=(
            f"The spec asks for FIML, an ML method; under {est} the CFA and the latent SEM use "
            "pairwise available answers instead (lavaan's missing = \"pairwise\"); the "
            "composite model keeps FIML.",))
    return ItemEstimation(est, spec_missing, parameterization, std_lv=std_lv, ordered=ordered)


def composite_missing(spec_missing: str) -> str:
    """The composite (ML) model's missing option: pairwise has no ML counterpart here, so
    the construct scores are fitted listwise."""
    return "listwise" if spec_missing == "pairwise" else spec_missing


def thresholds_table(estimates: pd.DataFrame) -> pd.DataFrame:
    """The thresholds (lavaan op ``|``) of an ordinal fit: ``item, threshold, est, se, z,
    pvalue``; empty for a continuous fit."""
    cols = ["item", "threshold", "est", "se", "z", "pvalue"]
    if estimates is None or estimates.empty:
        return pd.DataFrame(columns=cols)
    th = estimates[estimates["op"] == "|"]
    return pd.DataFrame({"item": th["lhs"].to_numpy(), "threshold": th["rhs"].to_numpy(),
                         **{c: th[c].to_numpy() for c in cols[2:]}}, columns=cols)


def ordinal_reliability_table(fit: ModelFit | None, constructs: dict[str, list[str]],
                              ordered: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Ordinal alpha and categorical omega of every construct from an ordinal CFA.

    Parameters
    ----------
    fit : the WLSMV/ULSMV CFA (delta parameterization) of the constructs, or None.
    constructs : construct -> items.
    ordered : the ordinal items (None: all). A construct with a continuous item gets NaN:
        both figures are defined for ordered categories only (see
        :func:`unordered_constructs`).

    Returns
    -------
    DataFrame ``construct, alpha_ordinal, omega_categorical``: ordinal alpha (alpha of the
    construct's block of the polychoric matrix, Zumbo et al. 2007) and categorical omega
    (Green & Yang 2009, ``semTools::compRelSEM`` on the WLSMV CFA); NaN without a fit.
    """
    rows = []
    ok = fit is not None and fit.converged
    omega = omega_from_fit(fit) if ok else {}
    obs = list(fit.observed) if fit is not None else []
    skip = unordered_constructs(constructs, ordered)
    for c, its in constructs.items():
        a = np.nan
        if fit is not None and c not in skip and all(i in obs for i in its):
            idx = [obs.index(i) for i in its]
            a = ordinal_alpha(np.asarray(fit.sample_cov)[np.ix_(idx, idx)])
        rows.append({"construct": c, "alpha_ordinal": a,
                     "omega_categorical": np.nan if c in skip else omega.get(c, np.nan)})
    return pd.DataFrame(rows, columns=["construct", "alpha_ordinal", "omega_categorical"])


def unordered_constructs(constructs: dict[str, list[str]],
                         ordered: tuple[str, ...] | None) -> dict[str, str]:
    """Constructs with continuous items (left out of the spec's ``ordinal: [items]``):
    construct -> 'mixed' (some items ordinal) or 'continuous'. Empty when ``ordered`` is
    None (every item ordinal)."""
    if ordered is None:
        return {}
    on = set(ordered)
    out = {}
    for c, its in constructs.items():
        n = sum(i in on for i in its)
        if n < len(its):
            out[c] = "mixed" if n else "continuous"
    return out


def _paths(fit: ModelFit | None) -> pd.DataFrame:
    if fit is None or not fit.converged:
        return pd.DataFrame(columns=["lhs", "rhs", "std.all", "pvalue"])
    e = fit.estimates
    return e.loc[e["op"] == OP_REGRESSION, ["lhs", "rhs", "std.all", "pvalue"]]


def sensitivity_table(fits: dict[str, tuple[ModelFit | None, ModelFit | None]]) -> pd.DataFrame:
    """Fit and standardised paths with the answers as continuous and as ordered, side by side.

    Parameters
    ----------
    fits : model name ('cfa', 'latent') -> (continuous fit, ordinal fit); either may be
        None (not fitted).

    Returns
    -------
    DataFrame ``model, kind ('fit' | 'path'), name, continuous, ordinal, difference,
    continuous_pvalue, ordinal_pvalue``. Fit rows are the values a display shows for each
    estimator (:func:`adoption.fitview.shown_fit`: scaled test and robust indices under a
    robust or ordinal estimator); path rows the ``std.all`` of each regression and its
    p-value (paths ``X -> Y``). ``difference`` is ordinal minus continuous.
    """
    rows = []
    for model, (cont, ordi) in fits.items():
        sc = shown_fit(cont.fit if cont is not None and cont.converged else {})
        so = shown_fit(ordi.fit if ordi is not None and ordi.converged else {})
        for role in SENSITIVITY_FIT:
            a, b = sc.get(role), so.get(role)
            rows.append({"model": model, "kind": "fit", "name": role,
                         "continuous": a, "ordinal": b})
        rows.append({"model": model, "kind": "fit", "name": "nobs",
                     "continuous": None if cont is None else cont.nobs,
                     "ordinal": None if ordi is None else ordi.nobs})
        pc = _paths(cont).set_index(["lhs", "rhs"])
        po = _paths(ordi).set_index(["lhs", "rhs"])
        for key in dict.fromkeys(list(pc.index) + list(po.index)):
            rows.append({"model": model, "kind": "path", "name": f"{key[1]} -> {key[0]}",
                         "continuous": pc["std.all"].get(key), "ordinal": po["std.all"].get(key),
                         "continuous_pvalue": pc["pvalue"].get(key),
                         "ordinal_pvalue": po["pvalue"].get(key)})
    out = pd.DataFrame(rows, columns=["model", "kind", "name", "continuous", "ordinal",
                                      "difference", "continuous_pvalue", "ordinal_pvalue"])
    for c in ("continuous", "ordinal", "continuous_pvalue", "ordinal_pvalue"):
        out[c] = pd.to_numeric(out[c], errors="coerce")
    out["difference"] = out["ordinal"] - out["continuous"]
    return out


@dataclass(frozen=True)
class Treatments:
    """The item models fitted with the answers as continuous and as ordered categories.

    Attributes
    ----------
    continuous, ordinal : model name ('cfa', 'latent') -> fit (None: not fitted).
    continuous_estimator, ordinal_estimator : the estimators used.
    warnings : why a fit is missing, in plain words.
    """

    continuous: dict
    ordinal: dict
    continuous_estimator: str
    ordinal_estimator: str
    warnings: tuple[str, ...] = ()


def _max_categories(items: pd.DataFrame) -> int:
    return int(items.nunique(dropna=True).max()) if items.shape[1] else 0


def fit_treatments(items: pd.DataFrame, models: dict[str, str], run: ItemEstimation,
                   spec_missing: str, *, continuous: bool = True,
                   reuse: dict[str, ModelFit] | None = None) -> Treatments:
    """Fit each item model under both treatments of the answers.

    The ordinal side uses the run's estimator if it is ordinal, else WLSMV (delta,
    missing as :func:`item_estimation` maps the spec's); the continuous side the run's
    estimator if it is continuous, else ML. Ordinal fits are skipped (with a warning)
    when an item has more than :data:`MAX_ORDINAL_CATEGORIES` answer categories or the
    polychoric step refuses the data; ``continuous=False`` skips the continuous fits.
    ``reuse`` gives fits the run has already made under its own estimator, by model name.
    """
    reuse = reuse or {}
    ord_est = run if run.ordinal else item_estimation("WLSMV", spec_missing)
    cont_est = run if not run.ordinal else ItemEstimation("ML", composite_missing(spec_missing))
    warns: list[str] = []
    ordinal: dict = {name: None for name in models}
    k = _max_categories(items)
    if not run.ordinal and k > MAX_ORDINAL_CATEGORIES:
        warns.append(f"Ordinal figures not computed: an item has {k} answer categories "
                     f"(more than {MAX_ORDINAL_CATEGORIES}); the answers are not treated as "
                     "ordered categories.")
    else:
        for name, syntax in models.items():
            try:
                ordinal[name] = reuse[name] if run.ordinal and name in reuse \
                    else ord_est.fit(syntax, items)
            except InputError as exc:
                if run.ordinal:
                    raise
                warns.append(f"{name} under {ord_est.estimator} not fitted: {exc}")
    cont = {name: (reuse[name] if not run.ordinal and name in reuse
                   else cont_est.fit(syntax, items) if continuous else None)
            for name, syntax in models.items()}
    return Treatments(cont, ordinal, cont_est.estimator, ord_est.estimator, tuple(warns))
