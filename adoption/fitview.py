"""Which fit values a display shows: the robust ones under MLM/MLR, the ML ones otherwise.

Every place that shows a model's fit (terminal summary, report, dashboard, the fit
table in ``tables/``) takes its numbers from :func:`shown_fit`, so that a robust run
never prints the normal-theory chi-square and indices next to "Estimator MLR".

Under a robust estimator lavaan's ``summary(fit, fit.measures = TRUE)`` reads the
scaled test (``chisq.scaled``, ``df.scaled``, ``pvalue.scaled``, with
``chisq.scaling.factor``) and the robust indices of Brosseau-Liard, Savalei and Li
(2012) and Brosseau-Liard and Savalei (2014) (``cfi.robust``, ``tli.robust``,
``rmsea.robust`` and its CI). SRMR, AIC and BIC have no robust version.

Under WLSMV/ULSMV (items as ordered categories) lavaan's summary reads the same way: the
mean- and variance-adjusted test (``test = "scaled.shifted"``: ``chisq.scaled`` on ``df``,
``pvalue.scaled``, with the scaling factor and shift) and the robust CFI, TLI and RMSEA
(lavaan's catML route); those are shown. lavaan 0.6-14 gives no CI for the robust RMSEA
of a categorical fit, so none is shown; the unscaled values are the DWLS (or ULS)
statistic, not ML, and are named so in the note. AIC and BIC do not exist for these fits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from adoption.vocabulary import ORDINAL_ESTIMATORS

#: What a display shows, by role, and the lavaan measure it reads under ML and under
#: a robust estimator (MLM, MLR).
SHOWN_MEASURES: dict[str, tuple[str, str]] = {
    "chisq": ("chisq", "chisq.scaled"),
    "df": ("df", "df.scaled"),
    "pvalue": ("pvalue", "pvalue.scaled"),
    "cfi": ("cfi", "cfi.robust"),
    "tli": ("tli", "tli.robust"),
    "rmsea": ("rmsea", "rmsea.robust"),
    "rmsea.ci.lower": ("rmsea.ci.lower", "rmsea.ci.lower.robust"),
    "rmsea.ci.upper": ("rmsea.ci.upper", "rmsea.ci.upper.robust"),
    "srmr": ("srmr", "srmr"),
    "aic": ("aic", "aic"),
    "bic": ("bic", "bic"),
}

#: The normal-theory values a robust display gives in its note.
PLAIN_IN_NOTE: tuple[str, ...] = ("chisq", "df", "cfi", "tli", "rmsea")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def is_robust(fit: Mapping[str, Any] | None) -> bool:
    """Whether ``fit`` comes from a robust estimator: it carries a finite ``chisq.scaled``
    (lavaan reports the scaled test only under MLM, MLR and their kin)."""
    return bool(fit) and _is_number(fit.get("chisq.scaled"))


@dataclass(frozen=True)
class ShownFit:
    """The fit values to show for one model.

    Attributes
    ----------
    values : role -> value (roles are the keys of :data:`SHOWN_MEASURES`); under a robust
        estimator the scaled and robust values, never a fallback to the ML ones.
    measures : role -> the lavaan name of the value shown (e.g. ``cfi`` -> ``cfi.robust``).
    robust : whether the values are the scaled/robust ones.
    scaling_factor : lavaan's ``chisq.scaling.factor`` (None under ML).
    plain : role -> the normal-theory (ML) value, for the note of a robust display.
    """

    values: dict[str, Any]
    measures: dict[str, str]
    robust: bool
    scaling_factor: float | None = None
    plain: dict[str, Any] = field(default_factory=dict)
    ordinal: bool = False

    def get(self, role: str, default: Any = None) -> Any:
        return self.values.get(role, default)


def shown_fit(fit: Mapping[str, Any] | None) -> ShownFit:
    """Pick the fit values to show for the estimator that produced ``fit``.

    Parameters
    ----------
    fit : a model's fit measures under lavaan's ``fitMeasures()`` names.

    Returns
    -------
    ShownFit
        Under ML the plain values; under MLM/MLR the scaled test and the robust indices
        (lavaan's ``.scaled`` test and ``.robust`` indices), with the plain ones in
        ``plain``. A robust value lavaan would not report is shown as missing, not
        replaced by the ML value.

    Examples
    --------
    >>> shown_fit({"chisq": 10.0, "cfi": .9, "chisq.scaled": 8.0, "cfi.robust": .93}).get("cfi")
    0.93
    """
    fit = fit or {}
    robust = is_robust(fit)
    measures = {role: names[1 if robust else 0] for role, names in SHOWN_MEASURES.items()}
    values = {role: fit.get(name) for role, name in measures.items()}
    plain = {role: fit.get(SHOWN_MEASURES[role][0]) for role in PLAIN_IN_NOTE} if robust else {}
    sf = fit.get("chisq.scaling.factor") if robust else None
    return ShownFit(values, measures, robust, sf if _is_number(sf) else None, plain,
                    ordinal="wrmr" in fit)


def robust_caption(estimator: str | None = None, ordinal: bool = False) -> str:
    """The sentence that says which values a robust fit table shows (``ordinal``: a fit
    of ordered items, WLSMV or ULSMV)."""
    est = f" ({estimator})" if estimator else ""
    if ordinal or estimator in ORDINAL_ESTIMATORS:
        return (f"Items as ordered categories{est}: χ², df and p are the mean- and "
                "variance-adjusted test (lavaan chisq.scaled, scaled-shifted); CFI, TLI and "
                "RMSEA are the robust indices (cfi.robust, tli.robust, rmsea.robust; lavaan "
                "gives no CI for it); cut-offs are judged on these.")
    return (f"Robust estimator{est}: χ², df and p are the scaled test (lavaan chisq.scaled, "
            "scaling factor given); CFI, TLI and RMSEA [90% CI] are the robust indices "
            "(cfi.robust, tli.robust, rmsea.robust); cut-offs are judged on these.")


def plain_note(models: Mapping[str, ShownFit], number, bounded) -> str:
    """The scaling factor and the normal-theory values of each robust model, as text.

    ``number(x, digits)`` and ``bounded(x, digits)`` are the display's formatters (values
    are rounded where they are shown). Empty when no model is robust.
    """
    parts = []
    for label, s in models.items():
        if not s.robust:
            continue
        p = s.plain
        plain = "unscaled χ²" if s.ordinal else "ML χ²"
        parts.append(f"{label.strip()}: scaling factor {number(s.scaling_factor, 3)}; {plain} = "
                     f"{number(p.get('chisq'), 2)} (df {number(p.get('df'), 0)}), CFI = "
                     f"{bounded(p.get('cfi'), 3)}, TLI = {bounded(p.get('tli'), 3)}, RMSEA = "
                     f"{bounded(p.get('rmsea'), 3)}")
    head = ("Unscaled values, not used for the verdicts: " if any(s.ordinal for s in models.values())
            else "Normal-theory (ML) values, not used for the verdicts: ")
    return (head + "; ".join(parts) + ".") if parts else ""


def run_fits(results: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Every model fit of a run's results, by model name: ``cfa``, ``one_factor``,
    ``composite``, ``composite: <alternative>``, ``latent``, ``latent: <alternative>``."""
    out: dict[str, Mapping[str, Any]] = {}
    out["cfa"] = (results.get("cfa") or {}).get("fit") or {}
    out["one_factor"] = (results.get("common_method") or {}).get("one_factor_fit") or {}
    structural = results.get("structural") or {}
    for form in ("composite", "latent"):
        model = structural.get(form) or {}
        if not model:
            continue
        out[form] = model.get("fit") or {}
        for alt in model.get("alternatives") or []:
            out[f"{form}: {alt.get('name')}"] = alt.get("fit") or {}
    return {name: fit for name, fit in out.items() if fit}


def fit_measures_frame(fits: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The fit measures of each model as a long table for ``tables/fit_measures.csv``.

    Returns
    -------
    DataFrame with columns ``model``, ``measure`` (lavaan's ``fitMeasures()`` name),
    ``value`` (unrounded) and ``shown`` (True for the values the report and summary show
    for the model's estimator: the scaled test and robust indices under MLM/MLR).
    """
    rows = []
    for model, fit in fits.items():
        shown = set(shown_fit(fit).measures.values())
        rows += [{"model": model, "measure": m, "value": v, "shown": m in shown}
                 for m, v in fit.items()]
    return pd.DataFrame(rows, columns=["model", "measure", "value", "shown"])


def structural_models(results: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Every fitted structural model of a run's results, by name (``composite``,
    ``composite: <alternative>``, ``latent``, ``latent: <alternative>``): each a mapping
    with its ``fit`` and ``estimates``."""
    out: dict[str, Mapping[str, Any]] = {}
    structural = results.get("structural") or {}
    for form in ("composite", "latent"):
        model = structural.get(form) or {}
        if not model:
            continue
        out[form] = model
        for alt in model.get("alternatives") or []:
            out[f"{form}: {alt.get('name')}"] = alt
    return out


def _paths(estimates: Any) -> dict[str, float]:
    """``lhs ~ rhs`` -> std.all of each regression of a parameter table (a DataFrame or
    its records, as in results.json)."""
    if estimates is None or len(estimates) == 0:
        return {}
    est = pd.DataFrame(estimates)
    if not {"lhs", "op", "rhs", "std.all"} <= set(est.columns):
        return {}
    reg = est[est["op"] == "~"]
    return {f"{lhs} ~ {rhs}": float(v) for lhs, rhs, v in zip(reg["lhs"], reg["rhs"], reg["std.all"])}


def model_comparison_frame(results: Mapping[str, Any]) -> pd.DataFrame:
    """All fitted structural models of a run side by side: fit, then each path.

    Returns
    -------
    DataFrame with columns ``quantity`` (a lavaan ``fitMeasures()`` name, or a path
    ``lhs ~ rhs``), ``kind`` ('fit' or 'std.all') and one column per model (as named
    by :func:`structural_models`). The fit rows are the values a display shows
    (:func:`shown_fit`: under MLM/MLR the scaled test and robust indices, named so,
    e.g. ``cfi.robust``); the path rows are the completely standardised estimates
    (lavaan's ``std.all``), empty where a model has no such path. Unrounded.
    """
    models = structural_models(results)
    if not models:
        return pd.DataFrame(columns=["quantity", "kind"])
    shown = {name: shown_fit(m.get("fit")) for name, m in models.items()}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for role in SHOWN_MEASURES:
        names = dict.fromkeys(s.measures[role] for s in shown.values())
        for measure in names:  # one row per name: ML and robust values are not mixed
            rows[(measure, "fit")] = {n: (s.get(role) if s.measures[role] == measure else None)
                                      for n, s in shown.items()}
    for name, m in models.items():
        for path, v in _paths(m.get("estimates")).items():
            rows.setdefault((path, "std.all"), {})[name] = v
    frame = pd.DataFrame([{"quantity": q, "kind": k, **{n: vals.get(n) for n in models}}
                          for (q, k), vals in rows.items()])
    return frame.astype({n: "float64" for n in models})
