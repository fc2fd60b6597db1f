"""The composite model's moderation results: from the spec's syntax and the scores to a
:class:`ModerationResults` (part of the structural stage).

* :func:`has_moderation` - whether a structural syntax or the controls need this route;
* :func:`composite_design` - the expanded syntax and its data (controls, dummies,
  products), :class:`Design`;
* :func:`main_effects_syntax` - the syntax without interaction terms (the latent model);
* :func:`fit_moderation` - every equation (lm), each interaction with its Delta R-squared,
  simple slopes, Johnson-Neyman points, conditional indirect effects with bootstrap
  intervals;
* :func:`moderation_caption` / :func:`moderation_lines` - the caption and the terminal
  lines (text, no rounding of stored values).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.jsonable import to_jsonable
from adoption.sem.syntax import parse_model, write_formulas
from adoption.structural.conditional import (bootstrap_conditional, conditional_definitions,
                                             conditional_table)
from adoption.structural.covariates import (add_controls, category_slopes, code_text,
                                            dummy_columns, expand_categorical)
from adoption.structural.moderation import (Product, add_products, centring_constants,
                                            conditional_slopes, expand_interactions,
                                            johnson_neyman, ols_equation, probe_values,
                                            r2_change)
from adoption.structural.ols import fit_path_ols
from adoption.structural.probing import moderator_grid, predicted_outcome
from adoption.structural.paths import PathModel, indirect_paths, parse_structural
from adoption.vocabulary import DEFAULT_SEED, OP_REGRESSION

__all__ = [
    "ESTIMATOR_NOTE",
    "Design",
    "ModerationResults",
    "has_moderation",
    "main_effects_syntax",
    "construct_model",
    "observed_terms",
    "expand_like",
    "added_variables",
    "composite_design",
    "fit_moderation",
    "moderation_caption",
    "moderation_lines",
]

#: How the moderation tables are estimated, for captions and results.json.
ESTIMATOR_NOTE = ("OLS per equation (R's lm; PROCESS with HC0-4 off): t tests on N - k - 1 "
                  "df; conditional indirect effects from the ML path fit with bootstrap "
                  "percentile (PROCESS's default) and BCa intervals")


def has_moderation(structural: str, controls: tuple[str, ...] | list[str] = ()) -> bool:
    """Whether the syntax holds an interaction term or there are controls."""
    return bool(controls) or any(f.interaction for f in
                                 parse_model(structural, where="structural").formulas)


def main_effects_syntax(structural: str, constructs=None) -> str:
    """``structural`` without its interaction terms (what the latent model fits here).

    ``constructs``: when given, regressions on anything else (an observed moderator such
    as age or gender, written in the structural model for the composite model) are left
    out too: the latent model is fitted to the items, which do not hold those columns.

    >>> main_effects_syntax("Y ~ X + W + age + X:W + X:age", ["X", "W", "Y"])
    'Y ~ X + W'
    """
    parsed = parse_model(structural, where="structural")
    keep = None if constructs is None else set(constructs)
    return write_formulas([f for f in parsed.formulas if not f.interaction
                           and (keep is None or f.op != "~" or f.rhs in keep)])


def construct_model(structural: str, constructs) -> tuple[str, bool, list[str]]:
    """The structural model as the models fitted to items or construct scores only (the
    latent SEM, PLS-SEM, the multi-group path model) can take it.

    Returns ``(syntax, interactions, observed)``: ``structural`` itself when it has no
    interaction term and no observed regressor, else :func:`main_effects_syntax` without
    them; whether interaction terms were left out; the observed regressors left out.
    """
    interactions = has_moderation(structural)
    observed = observed_terms(structural, constructs)
    if not interactions and not observed:
        return structural, False, []
    return main_effects_syntax(structural, constructs), interactions, observed


def observed_terms(structural: str, constructs) -> list[str]:
    """The regressors of ``structural`` that are not constructs (nor interactions)."""
    keep = set(constructs)
    return sorted({f.rhs for f in parse_model(structural, where="structural").formulas
                   if f.op == "~" and not f.interaction and f.rhs not in keep})


@dataclass(frozen=True)
class Design:
    """The composite model with its products, dummies and controls spelled out.

    Attributes
    ----------
    syntax : str
        lavaan syntax with product variables (``X_x_W``) and dummy columns.
    data : DataFrame
        Scores, controls, dummies and products (products centred as ``centre`` says).
    products : tuple of Product
    categories : dict
        Categorical variable -> its categories' labels, reference first.
    dummies : dict
        Categorical variable -> its dummy columns.
    controls : tuple of str
        Control terms of the expanded syntax (dummies of categorical controls).
    centre : {"mean", "none"}
    """

    syntax: str
    data: pd.DataFrame
    products: tuple[Product, ...]
    categories: dict = field(default_factory=dict)
    dummies: dict = field(default_factory=dict)
    controls: tuple[str, ...] = ()
    centre: str = "mean"


def expand_like(design: Design, syntax: str, controls: tuple[str, ...] | list[str]) -> str:
    """Another syntax (a spec alternative) with the design's controls, dummies and
    product variables, so that it is fitted to the same data as the main model."""
    syntax = expand_categorical(add_controls(syntax, controls),
                                {k: list(v) for k, v in design.dummies.items()})
    return expand_interactions(syntax)[0]


def added_variables(design: Design) -> set[str]:
    """The columns the design adds to the constructs: products, dummies, controls."""
    return ({p.name for p in design.products} | set(design.controls)
            | {c for cols in design.dummies.values() for c in cols})


def _variables(structural: str) -> list[str]:
    names: list[str] = []
    for f in parse_model(structural, where="structural").formulas:
        if f.op == OP_REGRESSION:
            for v in [f.lhs, *f.rhs.split(":")]:
                if v not in names:
                    names.append(v)
    return names


def composite_design(structural: str, scores: pd.DataFrame, columns: pd.DataFrame,
                     controls: tuple[str, ...] | list[str] = (), centre: str = "mean",
                     categorical: dict[str, dict] | None = None) -> Design:
    """Expand the spec's syntax for the composite model and build its data.

    Parameters
    ----------
    structural : str
        The spec's structural syntax (interaction terms allowed).
    scores : DataFrame
        Construct scores.
    columns : DataFrame
        The cleaned responses: controls and categorical moderators are read from here.
    controls : sequence of str
    centre : {"mean", "none"}
    categorical : dict, optional
        Column -> labels (code -> label; may be empty) of the columns to dummy-code (the
        spec's ``groups``); a non-numeric column is dummy-coded too.

    Raises
    ------
    InputError
        A variable that is neither a construct nor a column, a non-numeric column that
        cannot be coded, a category with too few answers, a bad interaction term.
    """
    categorical = categorical or {}
    syntax = add_controls(structural, controls)
    data = scores.copy()
    dummies, categories = {}, {}
    for v in _variables(syntax):
        if v in scores.columns:
            continue
        if v not in columns.columns:
            raise InputError(f"structural/controls: '{v}' is neither a construct nor a column "
                             "of the data; check the spelling.")
        col = columns[v]
        if v in categorical or not pd.api.types.is_numeric_dtype(col):
            d = dummy_columns(col, categorical.get(v) or None)
            dummies[v] = list(d.columns)
            labels = categorical.get(v) or {}
            codes = set(col.dropna().map(code_text))
            present = [k for k in labels if code_text(k) in codes] if labels \
                else sorted(col.dropna().unique())
            categories[v] = tuple(str(labels.get(k, k)) for k in present)
            data = pd.concat([data, d], axis=1)
        else:
            data[v] = col.astype(float)
    syntax = expand_categorical(syntax, dummies)
    syntax, products = expand_interactions(syntax)
    for p in products:
        for v in p.factors:
            if data[v].nunique(dropna=True) < 2:
                raise InputError(f"structural: '{v}' in the interaction '{':'.join(p.factors)}' "
                                 "has one value in the analysed data; a moderator must vary. "
                                 "Remove the term.")
    flags = frozenset(c for cols in dummies.values() for c in cols)
    data = add_products(data, products, centre, uncentred=flags)
    ctrl = tuple(c for v in controls for c in dummies.get(v, [v]))
    return Design(syntax, data, products, categories, {k: tuple(v) for k, v in dummies.items()},
                  ctrl, centre)


@dataclass(frozen=True)
class ModerationResults:
    """Moderation in the composite model (see the module docstring for the tables).

    Attributes
    ----------
    centre : {"mean", "none"}
    estimator : str
        :data:`ESTIMATOR_NOTE`.
    equations : DataFrame
        Every coefficient of every equation with a product or a control, lm columns plus
        ``role`` (``path``, ``interaction``, ``control``) and ``r2``.
    interactions : DataFrame
        ``lhs, focal, moderator, terms, est, se, t, pvalue, ci.lower, ci.upper`` (NaN
        for a categorical moderator's joint test) and ``delta_r2, f, df1, df2,
        f.pvalue``.
    slopes : DataFrame
        ``lhs, focal, moderator, at, value, est, se, t, pvalue, ci.lower, ci.upper``.
    johnson_neyman : DataFrame
        ``lhs, focal, moderator, value, in_range`` (values of the moderator).
    conditional : DataFrame
        ``moderator, name, effect, path, at, value, est, se`` (delta method), ``boot.se,
        ci.lower, ci.upper`` (percentile), ``bca.lower, bca.upper``.
    bootstrap : dict or None
    curves : DataFrame
        The Johnson-Neyman plot of each continuous moderator: ``lhs, focal, moderator,
        value, est, se, t, pvalue, ci.lower, ci.upper``, the focal slope along
        :func:`~adoption.structural.probing.moderator_grid` (its observed range, the
        probed values and the JN points in it included).
    lines : DataFrame
        The interaction plot: ``lhs, focal, moderator, at, value, focal_at,
        focal_value, predicted``, the outcome predicted at the focal predictor's mean
        and +/- 1 SD for each probed moderator value (``at``/``value`` as in ``slopes``),
        other predictors at their means (:func:`~adoption.structural.probing.
        predicted_outcome`).
    """

    centre: str
    estimator: str
    equations: pd.DataFrame
    interactions: pd.DataFrame
    slopes: pd.DataFrame
    johnson_neyman: pd.DataFrame
    conditional: pd.DataFrame
    bootstrap: dict | None = None
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    lines: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict:
        return {"centre": self.centre, "estimator": self.estimator,
                **{k: to_jsonable(getattr(self, k)) for k in
                   ("equations", "interactions", "slopes", "johnson_neyman", "conditional",
                    "curves", "lines")},
                "bootstrap": self.bootstrap}


def _groups(design: Design) -> list[tuple[str, str, str, list[Product]]]:
    """(lhs, focal, moderator, products) per moderated path; a categorical moderator's
    products are one group."""
    owner = {c: v for v, cols in design.dummies.items() for c in cols}
    out: dict[tuple[str, str, str], list[Product]] = {}
    for p in design.products:
        focal, mod = p.factors
        if focal in owner and mod not in owner:
            focal, mod = mod, focal
        out.setdefault((p.lhs, focal, owner.get(mod, mod)), []).append(p)
    return [(*k, v) for k, v in out.items()]


def _equations(design: Design, model: PathModel) -> tuple[dict, pd.DataFrame]:
    prods = {p.name for p in design.products}
    fits, rows = {}, []
    for reg in model.regressions:
        fit = ols_equation(design.data, reg.lhs, reg.rhs)
        fits[reg.lhs] = fit
        t = fit.table()
        t["role"] = ["interaction" if r in prods else "control" if r in design.controls
                     else "path" for r in reg.rhs]
        t["r2"] = fit.r2
        rows.append(t)
    return fits, pd.concat(rows, ignore_index=True)


def _constants(design: Design, product: Product) -> tuple[float, float]:
    """The constants subtracted from ``product``'s factors (as :func:`add_products`)."""
    flags = frozenset(c for cols in design.dummies.values() for c in cols)
    return centring_constants(design.data, product, design.centre, flags)


def _centre_of(design: Design, product: Product, moderator: str) -> float:
    """The constant subtracted from the moderator in ``product``."""
    return _constants(design, product)[product.factors.index(moderator)]


def _probe(design: Design, moderator: str, product: Product) -> tuple[dict, dict]:
    """Probe label -> {variable: deviation}, and label -> shown value."""
    if moderator in design.dummies:
        cols = design.dummies[moderator]
        cats = design.categories[moderator]
        probes = {cats[0]: {c: 0.0 for c in cols}}
        probes.update({cat: {c: float(c == col) for c in cols}
                       for cat, col in zip(cats[1:], cols)})
        return probes, {k: np.nan for k in probes}
    both = design.data[list(product.factors)].notna().all(axis=1)
    values = probe_values(design.data.loc[both, moderator].to_numpy(dtype=float))
    c = _centre_of(design, product, moderator)
    return {k: {moderator: v - c} for k, v in values.items()}, values


def _slopes_and_jn(design, fits, groups, level):
    slopes, jn, inter = [], [], []
    for lhs, focal, mod, prods in groups:
        fit = fits[lhs]
        full = fit.table(level)
        reduced = ols_equation(design.data.loc[_rows(design, fit)], lhs,
                               [r for r in fit.rhs if r not in {p.name for p in prods}])
        ch = r2_change(fit, reduced)
        one = full[full["rhs"] == prods[0].name].iloc[0] if len(prods) == 1 else None
        inter.append({"lhs": lhs, "focal": focal, "moderator": mod,
                      "terms": [p.name for p in prods],
                      **{k: (one[k] if one is not None else np.nan) for k in
                         ("est", "se", "t", "pvalue", "ci.lower", "ci.upper")},
                      **{k: ch[k] for k in ("delta_r2", "f", "df1", "df2")},
                      "f.pvalue": ch["pvalue"]})
        idx = [fit.index(p.name) for p in prods]
        if mod in design.dummies:
            t = category_slopes(fit.coef, fit.vcov, fit.index(focal), idx, fit.df_resid, level)
            t.insert(0, "at", list(design.categories[mod]))
            t.insert(1, "value", np.nan)
        else:
            probes, values = _probe(design, mod, prods[0])
            d = np.array([a[mod] for a in probes.values()])
            t = conditional_slopes(fit.coef, fit.vcov, fit.index(focal), idx[0], d,
                                   fit.df_resid, level)
            t.insert(0, "at", list(probes))
            t.insert(1, "value", list(values.values()))
            w = design.data[mod]
            shift = _centre_of(design, prods[0], mod)
            for r in johnson_neyman(fit.coef, fit.vcov, fit.index(focal), idx[0],
                                    fit.df_resid, level):
                v = float(r + shift)
                jn.append({"lhs": lhs, "focal": focal, "moderator": mod, "value": v,
                           "in_range": bool(w.min() <= v <= w.max())})
        slopes.append(t.assign(lhs=lhs, focal=focal, moderator=mod))
    jn_cols = ["lhs", "focal", "moderator", "value", "in_range"]
    return (pd.DataFrame(inter), pd.concat(slopes, ignore_index=True),
            pd.DataFrame(jn, columns=jn_cols))


def _rows(design: Design, fit) -> pd.Index:
    cols = [fit.lhs, *fit.rhs]
    return design.data.index[design.data[cols].notna().all(axis=1)]


def _conditional(design, model, groups, B, seed, level):
    """Conditional indirect effects for every (source, outcome, moderator) whose
    indirect paths cross a moderated edge."""
    if not any(p for p in indirect_paths(model, to="outcomes")):
        return pd.DataFrame(), None
    extra = added_variables(design)
    data = design.data[list(model.variables)].dropna()
    fit = fit_path_ols(data, model)
    coef = np.array([fit.coefficients[e] for e in model.edges])
    tables, info = [], None
    for lhs, focal, mod, prods in groups:
        for path in indirect_paths(model, to="outcomes"):
            edges = list(zip(path[:-1], path[1:]))
            if set(path) & extra or (focal, lhs) not in edges:
                continue
            probes, values = _probe(design, mod, prods[0])
            defs = [d for d in conditional_definitions(model, design.products, path[0],
                                                       path[-1], probes, values)
                    if d.path == path or d.effect == "conditional_direct"]
            defs = tuple(defs)
            delta = conditional_table(defs, coef, fit.vcov.to_numpy(), level)
            boot, info = bootstrap_conditional(data, model, defs, B=B, seed=seed, level=level)
            t = delta[["name", "effect", "path", "at", "value", "est", "se"]].join(
                boot[["boot.se", "ci.lower", "ci.upper", "bca.lower", "bca.upper"]])
            tables.append(t.assign(moderator=mod))
    if not tables:
        return pd.DataFrame(), None
    out = pd.concat(tables, ignore_index=True).drop_duplicates(
        subset=["moderator", "name", "at"]).reset_index(drop=True)
    return out, info


def _plot_data(design: Design, fits: dict, groups, jn: pd.DataFrame,
               level: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Johnson-Neyman curves and the interaction-plot lines (:class:`ModerationResults`)."""
    owner = {c for cols in design.dummies.values() for c in cols} | set(design.dummies)
    curves, lines = [], []
    for lhs, focal, mod, prods in groups:
        if focal in owner:       # two categorical factors: no continuous axis to draw
            continue
        fit = fits[lhs]
        rows = design.data.loc[_rows(design, fit)]
        means = rows[list(fit.rhs)].mean().to_dict()
        probes, values = _probe(design, mod, prods[0])
        both = design.data[list(prods[0].factors)].notna().all(axis=1)
        xs = probe_values(design.data.loc[both, focal].to_numpy(dtype=float))
        consts = {p.name: (*p.factors, *_constants(design, p)) for p in design.products}
        c = 0.0 if mod in design.dummies else _centre_of(design, prods[0], mod)
        for at, dev in probes.items():   # deviations from the centring constant
            settings = [{**{v: d + c for v, d in dev.items()}, focal: x} for x in xs.values()]
            y = predicted_outcome(fit.coef, fit.rhs, means, float(rows[lhs].mean()), settings,
                                  consts)
            lines += [{"lhs": lhs, "focal": focal, "moderator": mod, "at": at,
                       "value": values[at], "focal_at": fa, "focal_value": fx, "predicted": yy}
                      for (fa, fx), yy in zip(xs.items(), y)]
        if mod in design.dummies:
            continue
        extra = [*values.values(), *jn.loc[(jn["lhs"] == lhs) & (jn["moderator"] == mod)
                                           & (jn["focal"] == focal), "value"]]
        grid = moderator_grid(design.data[mod].to_numpy(dtype=float), extra)
        t = conditional_slopes(fit.coef, fit.vcov, fit.index(focal), fit.index(prods[0].name),
                               grid - c, fit.df_resid, level)
        t.insert(0, "value", grid)
        curves.append(t.assign(lhs=lhs, focal=focal, moderator=mod))
    curve_cols = ["lhs", "focal", "moderator", "value", "est", "se", "t", "pvalue",
                  "ci.lower", "ci.upper"]
    return (pd.concat(curves, ignore_index=True)[curve_cols] if curves
            else pd.DataFrame(columns=curve_cols), pd.DataFrame(lines))


def fit_moderation(design: Design, B: int = 5000, seed: int = DEFAULT_SEED,
                   level: float = 0.95) -> ModerationResults:
    """Every moderation quantity of the composite model.

    Parameters
    ----------
    design : Design
    B : int
        Bootstrap draws for the conditional indirect effects (0: delta method only).
    seed : int
    level : float

    Returns
    -------
    ModerationResults
    """
    model = parse_structural(design.syntax)
    fits, equations = _equations(design, model)
    groups = _groups(design)
    inter, slopes, jn = _slopes_and_jn(design, fits, groups, level)
    if B > 0:
        cond, info = _conditional(design, model, groups, B, seed, level)
    else:
        cond, info = pd.DataFrame(), None
    curves, lines = _plot_data(design, fits, groups, jn, level)
    return ModerationResults(design.centre, ESTIMATOR_NOTE, equations, inter, slopes, jn,
                             cond, info, curves, lines)


def moderation_caption(centre: str, estimator: str = ESTIMATOR_NOTE) -> str:
    """Caption of the moderation table: estimator and centring named (``centre`` and
    ``estimator`` as :class:`ModerationResults` and results.json store them)."""
    how = ("products of mean-centred scores (dummies uncentred)" if centre == "mean"
           else "products of raw (uncentred) scores")
    return (f"Moderation in the composite model: {how}; {estimator}. Delta R-squared: "
            "F test of the product term(s).")


def moderation_lines(res: ModerationResults) -> list[str]:
    """One terminal line per moderated path (numbers rounded for display only)."""
    out = []
    for r in res.interactions.to_dict("records"):
        head = f"moderation {r['focal']} -> {r['lhs']} by {r['moderator']}: "
        b = "" if not np.isfinite(r["est"]) else (
            f"b = {r['est']:.3f} [{r['ci.lower']:.3f}, {r['ci.upper']:.3f}], ")
        out.append(head + b + f"dR2 = {r['delta_r2']:.3f}, F({r['df1']}, {r['df2']}) = "
                   f"{r['f']:.2f}, p = {r['f.pvalue']:.3f} (centre: {res.centre})")
    c = res.conditional
    for r in ([] if c.empty else c[c["effect"] == "index"].to_dict("records")):
        by = r["at"] or r["moderator"]
        out.append(f"index of moderated mediation {' -> '.join(r['path'])} by {by}: "
                   f"{r['est']:.3f}, 95% CI [{r['ci.lower']:.3f}, {r['ci.upper']:.3f}] "
                   "(bootstrap percentile)")
    return out
