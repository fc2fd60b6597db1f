"""Stage 5: cleaned responses -> :class:`StructuralResults`.

The spec's ``structural`` formulas are fitted in two forms:

* **composite**: each construct scored as the mean of its (recoded) items, then the
  path model fitted on those scores, with the exogenous scores fixed at their sample
  values (lavaan's ``fixed.x``); this is what the study and most applied papers report;
* **latent**: the measurement model (every construct ``=~`` its items) plus the same
  formulas, fitted on the items.

For each: lavaan-named fit measures, every parameter, R-squared, direct, indirect and
total effects (delta method; for the composite model also bootstrap percentile and BCa
intervals), modification indices and the spec's alternative models, compared with a
(scaled) chi-square difference test. The hypotheses table is read from the composite
model, with the latent model's estimate beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd

from adoption.audit import LogEntry
from adoption.clean import CleanedResponses
from adoption.errors import InputError
from adoption.jsonable import to_jsonable
from adoption.pls.quality import full_collinearity_vif
from adoption.sem.compare import ModelComparison, compare_models
from adoption.sem.engine import LeanRefit, ModelFit
from adoption.sem.latent_moderation import (LatentModeration, fit_latent_moderation,
                                            interaction_terms)
from adoption.sem.modindices import modification_indices, standardisation_warnings
from adoption.sem.syntax import parse_model
from adoption.ordinal import (COMPOSITE_NOTE, ItemEstimation, composite_missing, is_ordinal,
                              item_estimation, ordinal_items)
from adoption.spec import Survey, formula_names
from adoption.structural.bootstrap import BootstrapEffects, bootstrap_effects
from adoption.structural.refit import bootstrap_refit
from adoption.structural.effects import coefficients_from_estimates, path_effects
from adoption.structural.hypotheses import hypotheses_table
from adoption.structural.moderated import (ModerationResults, added_variables, composite_design,
                                           expand_like, fit_moderation, has_moderation,
                                           main_effects_syntax, observed_terms)
from adoption.structural.paths import PathModel, parse_structural
from adoption.vocabulary import DEFAULT_SEED, OP_REGRESSION

#: A modification index at or above this is worth a warning (a chi-square of 1 df at
#: p < .0016); lavaan users often screen at 3.84, which flags noise in large samples.
MI_WARNING = 10.0


@dataclass(frozen=True)
class Alternative:
    """An alternative model from the spec, fitted and compared with the main model."""

    name: str
    syntax: str
    fit: dict
    comparison: dict
    warnings: tuple[str, ...] = ()
    #: its parameter table (lavaan's parameterEstimates() columns), for the comparison
    #: of every model's paths (:func:`adoption.fitview.model_comparison_frame`)
    estimates: pd.DataFrame | None = None


@dataclass(frozen=True)
class ModelResults:
    """One form (composite or latent) of the structural model.

    Attributes
    ----------
    form : 'composite' or 'latent'.
    syntax : the lavaan syntax fitted.
    model_fit : the engine's ModelFit (estimates, fit, r2, vcov...).
    effects : direct, indirect, total-indirect and total effects, one row each:
        ``name, effect, source, target, path, est, se, z, pvalue`` (delta method),
        ``ci.lower, ci.upper, ci_method`` (bootstrap percentile when bootstrapped, else
        normal theory), ``bca.lower, bca.upper`` (BCa with acceleration), ``boot.se``,
        ``std.all`` and its bootstrap percentile interval ``std.all.ci.lower/upper``.
    modification_indices : the ten largest (lavaan's ``modindices()`` columns).
    alternatives : the spec's alternatives, fitted.
    bootstrap : {B, seed, failed, method, seconds} or None.
    warnings : plain-language diagnostics.
    moderation : the latent interactions (latent form only; None without interaction
        terms), :func:`latent_moderation`.
    """

    form: str
    syntax: str
    model_fit: ModelFit
    effects: pd.DataFrame
    modification_indices: pd.DataFrame
    alternatives: tuple[Alternative, ...]
    bootstrap: dict | None
    warnings: tuple[str, ...]
    moderation: LatentModeration | None = None

    @property
    def r2(self) -> dict[str, float]:
        """R-squared of the endogenous constructs (not of the items)."""
        return {k: v for k, v in self.model_fit.r2.items() if k in self._endogenous}

    @property
    def _endogenous(self) -> set[str]:
        est = self.model_fit.estimates
        return set(est.loc[est["op"] == "~", "lhs"])

    def to_dict(self, missing: str) -> dict:
        mf = self.model_fit
        eff = self.effects
        cols = [c for c in eff.columns if c not in ("effect", "source", "target")]
        rows = lambda kind: [{**r, "path": list(r["path"])}  # noqa: E731
                             for r in eff.loc[eff["effect"] == kind, cols].to_dict("records")]
        return {
            "estimator": mf.estimator, "missing": missing, "nobs": mf.nobs,
            "converged": mf.converged, "syntax": self.syntax, "fit": mf.fit,
            "estimates": mf.estimates, "r2": self.r2,
            "direct": rows("direct"), "indirect": rows("indirect"),
            "total_indirect": rows("total_indirect"), "total": rows("total"),
            "modification_indices": self.modification_indices,
            "alternatives": [{"name": a.name, "syntax": a.syntax, "fit": a.fit,
                              "comparison": a.comparison, "warnings": list(a.warnings),
                              "estimates": a.estimates}
                             for a in self.alternatives],
            "bootstrap": self.bootstrap, "warnings": list(self.warnings),
            "moderation": None if self.moderation is None else self.moderation.to_dict(),
        }


@dataclass(frozen=True)
class StructuralResults:
    """Both forms of the structural model and the hypotheses table."""

    composite: ModelResults
    latent: ModelResults | None
    hypotheses: pd.DataFrame
    composite_scores: pd.DataFrame
    missing: str
    log: tuple[LogEntry, ...] = field(default=())
    #: the latent SEM's missing option when it differs (ordinal estimators: pairwise)
    latent_missing: str | None = None
    #: Kock's (2015) full-collinearity VIF of the composite scores (common-method bias):
    #: ``construct, vif, flagged`` (:func:`adoption.pls.quality.full_collinearity_vif`).
    full_vif: pd.DataFrame | None = None
    #: interactions, controls, simple slopes, conditional indirect effects of the
    #: composite model (:mod:`adoption.structural.moderated`); None without them
    moderation: ModerationResults | None = None

    def to_dict(self) -> dict:
        composite = self.composite.to_dict(self.missing)
        composite["moderation"] = None if self.moderation is None else self.moderation.to_dict()
        return {"composite": composite,
                "latent": None if self.latent is None
                else self.latent.to_dict(self.latent_missing or self.missing),
                "full_collinearity_vif": None if self.full_vif is None else
                to_jsonable(self.full_vif)}


# -------------------------------------------------------------------------------------
# composite scores
# -------------------------------------------------------------------------------------
def composite_scores(data: pd.DataFrame, survey: Survey) -> tuple[pd.DataFrame, list[LogEntry]]:
    """Mean of each construct's items per respondent (a second-order construct: the mean
    of all its first-order constructs' items).

    A respondent who answered at least half of a construct's items gets the mean of the
    answered items (prorating, as SPSS's ``MEAN.n``); with fewer answers the score is
    missing. Each prorated and each missing score count is logged.

    Returns
    -------
    scores : DataFrame, one column per construct, index as ``data``.
    log : LogEntry lines.
    """
    out, log = {}, []
    items = {name: list(c.items) for name, c in survey.constructs.items()}
    # a second-order construct's score: the mean of all its first-order constructs' items
    items.update({h: [i for p in parts for i in items[p]] for h, parts in survey.higher_order.items()})
    for name, its in items.items():
        x = data[its]
        answered = x.notna().sum(axis=1)
        need = math.ceil(len(its) / 2)
        score = x.mean(axis=1, skipna=True).where(answered >= need)
        prorated = int(((answered >= need) & (answered < len(its))).sum())
        if prorated:
            log.append(LogEntry("structural", "composite from answered items", name, None,
                                prorated, f"mean of the answered items (at least {need} of "
                                f"{len(its)})"))
        missing = int((answered < need).sum())
        if missing:
            log.append(LogEntry("structural", "composite missing", name, None, missing,
                                f"fewer than {need} of {len(its)} items answered"))
        out[name] = score
    return pd.DataFrame(out, index=data.index), log


# -------------------------------------------------------------------------------------
# pieces
# -------------------------------------------------------------------------------------
def _fit(syntax: str, data: pd.DataFrame, estimator: str, missing: str,
         parameterization: str = "delta", std_lv: bool = False, ordered=None) -> ModelFit:
    return ItemEstimation(estimator, missing, parameterization, std_lv=std_lv,
                          ordered=ordered).fit(syntax, data)


def nested_alternative(main: str, alternative: str) -> str:
    """The alternative written so that it is nested with the main model.

    A regression of the main model that the alternative leaves out is kept with its
    coefficient fixed at 0 (``Y ~ 0*X``): the two models then have the same observed
    variables, and the chi-square difference test is valid (lavaan's ``lavTestLRT``
    needs that too).
    """
    have = {(lhs, rhs) for lhs, op, names in formula_names(alternative, where="alternative")
            if op == "~" for rhs in names}
    extra = [f"{lhs} ~ 0*{rhs}" for lhs, op, names in formula_names(main, where="structural")
             if op == "~" for rhs in names if (lhs, rhs) not in have]
    return alternative.rstrip() + ("\n" + "\n".join(extra) if extra else "")


def _effects(model: PathModel, mf: ModelFit) -> pd.DataFrame:
    coef, std = coefficients_from_estimates(mf.estimates)
    table = path_effects(model, coef, mf.vcov, std_all=std).table.copy()
    table["ci_method"] = "delta"
    return table


def _merge_bootstrap(table: pd.DataFrame, boot: BootstrapEffects) -> pd.DataFrame:
    """Bootstrap intervals beside the delta-method table (percentile as the CI)."""
    t = boot.table
    pick = lambda ci, scale: t[(t["ci.type"] == ci) & (t["scale"] == scale)].set_index("name")  # noqa: E731
    perc, bca, sperc = pick("perc", "unstandardized"), pick("bca", "unstandardized"), pick("perc", "std.all")
    out = table.copy()
    names = out["name"]
    out["ci.lower"] = names.map(perc["ci.lower"])
    out["ci.upper"] = names.map(perc["ci.upper"])
    out["ci_method"] = "bootstrap percentile"
    out["bca.lower"] = names.map(bca["ci.lower"])
    out["bca.upper"] = names.map(bca["ci.upper"])
    out["boot.se"] = names.map(perc["se"])
    out["std.all.ci.lower"] = names.map(sperc["ci.lower"])
    out["std.all.ci.upper"] = names.map(sperc["ci.upper"])
    return out


#: Under FIML, the batched bootstrap on the complete rows stands in for FIML refits
#: when at most this share of the rows is incomplete (labelled as such in the results).
COMPLETE_CASE_BOOTSTRAP_SHARE = 0.05


def _bootstrap(model: PathModel, scores: pd.DataFrame, syntax: str, estimator: str,
               missing: str, B: int, seed: int, n_jobs: int) -> tuple[BootstrapEffects, str, list[str]]:
    """Fast batched bootstrap where it equals ML; otherwise refit every draw.

    Returns the draws' summary, the method used and warnings. The batched route
    (equation-by-equation least squares on resampled moments, ML's own estimates for
    this model class) needs complete rows. Under FIML with a few incomplete rows
    (at most :data:`COMPLETE_CASE_BOOTSTRAP_SHARE`), it runs on the complete rows and
    says so: 5000 FIML refits would take minutes for intervals that differ in the third
    decimal. With more incomplete rows every draw is refitted by FIML.
    """
    vars_ = list(model.variables)
    data = scores[vars_]
    complete = data.dropna()
    incomplete = len(data) - len(complete)
    fast_class = not model.residual_covariances
    if fast_class and (missing == "listwise" or incomplete == 0):
        # ML = equation-by-equation OLS here (see ols.py); listwise = complete rows
        return bootstrap_effects(complete, model, B=B, seed=seed), "batched least squares", []
    if fast_class and incomplete <= COMPLETE_CASE_BOOTSTRAP_SHARE * len(data):
        note = (f"bootstrap intervals use the {len(complete)} complete rows (batched least "
                f"squares); {incomplete} row(s) with a missing composite enter the FIML "
                "estimates but not the resampling.")
        return (bootstrap_effects(complete, model, B=B, seed=seed),
                f"batched least squares on complete rows ({len(complete)} of {len(data)})", [note])

    def refit(frame: pd.DataFrame):
        mf = _fit(syntax, frame, estimator, missing)
        if not mf.converged:
            raise RuntimeError("did not converge")
        return coefficients_from_estimates(mf.estimates)

    return (bootstrap_refit(data, model, refit, B=B, seed=seed, n_jobs=n_jobs),
            f"refit ({'FIML' if missing == 'fiml' else estimator})", [])


def _bootstrap_latent(syntax: str, mf: ModelFit, items: pd.DataFrame, model: PathModel,
                      missing: str, B: int, seed: int, n_jobs: int, scheduler: str | None
                      ) -> tuple[BootstrapEffects, str, list[str]]:
    """Bootstrap the latent SEM's effects by refitting it to every draw, warm-started
    from the full-sample estimates (no SEs or fit measures per draw)."""
    refit = LeanRefit.from_fit(syntax, mf)
    boot = bootstrap_refit(items, model, refit, B=B, seed=seed, n_jobs=n_jobs,
                           scheduler=scheduler)
    return boot, f"refit ({'FIML' if missing == 'fiml' else 'ML'}, warm-started)", []


def _free_paths(syntax: str) -> set[tuple[str, str]]:
    """Regressions with a free coefficient (fixed ones such as ``0*X`` are left out)."""
    return {(f.lhs, f.rhs) for f in parse_model(syntax, where="structural").formulas
            if f.op == OP_REGRESSION and f.in_group("fixed") is None}


def _fit_alternatives(survey: Survey, main: ModelFit, fit_syntax: Callable[[str], str],
                      data: pd.DataFrame, estimator: str, missing: str,
                      parameterization: str = "delta", std_lv: bool = False
                      ) -> tuple[Alternative, ...]:
    """Fit each alternative and compare it with the main model (``lavTestLRT``).

    When one model's free paths are a subset of the other's (the usual case: a path
    dropped or added), the models are nested by construction and the NET check is
    skipped; otherwise :func:`~adoption.sem.compare.compare_models` checks nesting.
    """
    out = []
    main_paths = _free_paths(survey.structural)
    for name, alt in survey.alternatives.items():
        written = nested_alternative(survey.structural, alt)
        nested = fit_syntax(written)
        mf = _fit(nested, data, estimator, missing, parameterization, std_lv,
                  ordinal_items(survey.ordinal, survey.items))
        comparison: dict = {}
        if mf.converged and is_ordinal(estimator):
            comparison = {f"{m}.diff": mf.fit.get(m, np.nan) - main.fit.get(m, np.nan)
                          for m in ("cfi", "tli", "rmsea", "srmr", "cfi.robust", "tli.robust",
                                    "rmsea.robust")}
            comparison.update({
                "chisq.diff": np.nan, "df.diff": abs(mf.fit.get("df", np.nan) - main.fit.get("df", np.nan)),
                "pvalue": np.nan, "method": "not computed", "valid_test": False,
                "note": f"Under {estimator} the scaled-shifted chi-square difference test "
                        "(lavTestLRT) is not computed yet; compare the fit indices"})
        elif mf.converged:
            alt_paths = _free_paths(written)
            by_construction = alt_paths <= main_paths or main_paths <= alt_paths
            comparison = comparison_dict(compare_models(main, mf, check_nesting=not by_construction))
        out.append(Alternative(name=name, syntax=nested, fit=mf.fit, comparison=comparison,
                               warnings=tuple(mf.warnings), estimates=mf.estimates))
    return tuple(out)


def comparison_dict(c: ModelComparison) -> dict:
    """The comparison under plain names: the test's ``chisq.diff, df.diff, pvalue`` (of
    the restricted model, more df, against the other: ``df.diff`` > 0), ``method,
    scaling.factor, rmsea.diff.test``, ``<measure>.diff`` (alternative minus main) for
    CFI, TLI, RMSEA, SRMR, AIC, BIC..., ``valid_test``, ``restricted``, ``note``."""
    # The test's chisq.diff and df.diff (restricted minus larger model, never a negative
    # df) take the place of the raw chisq and df differences (alternative minus main).
    out = {f"{k}.diff": v for k, v in c.differences.items() if k not in ("chisq", "df")}
    out.update({"chisq.diff": c.chisq_diff, "df.diff": c.df_diff, "pvalue": c.pvalue,
                "method": c.method, "scaling.factor": c.scaling_factor,
                "rmsea.diff.test": c.rmsea_diff, "valid_test": c.valid_test,
                "restricted": c.restricted, "note": " ".join(c.notes)})
    return out


def _mi_table(mf: ModelFit, data: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    empty = pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc.all"])
    if not mf.converged:
        return empty, []
    if is_ordinal(mf.estimator):
        return empty, [f"modification indices are not computed under {mf.estimator} yet."]
    mi = modification_indices(mf, data=data).head(10).reset_index(drop=True)
    warns = [f"modification index {r['mi']:.1f} for {r['lhs']} {r['op']} {r['rhs']} "
             f"(expected change {r['epc']:.3f}): the model may miss this parameter."
             for r in mi.to_dict("records") if r["mi"] >= MI_WARNING]
    return mi, warns[:3] + standardisation_warnings(mf)


def _model_results(form: str, syntax: str, mf: ModelFit, model: PathModel, data: pd.DataFrame,
                   alternatives: tuple[Alternative, ...],
                   boot: tuple[BootstrapEffects, str, list[str]] | None,
                   extra_warnings: list[str]) -> ModelResults:
    warns = list(mf.warnings) + extra_warnings
    boot, method, boot_warns = boot if boot is not None else (None, None, [])
    warns += boot_warns
    if mf.converged:
        effects = _effects(model, mf)
        if boot is not None:
            effects = _merge_bootstrap(effects, boot)
            if boot.n_failed:
                warns.append(f"{boot.n_failed} of {boot.B} bootstrap draws failed and were "
                             "dropped; intervals use the rest.")
    else:
        effects = pd.DataFrame(columns=["name", "effect", "source", "target", "path", "est",
                                        "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all"])
        warns.append(f"the {form} model did not converge: no estimates are reported.")
    mi, mi_warns = _mi_table(mf, data)
    bootstrap = None if boot is None else {
        "B": boot.B, "seed": boot.seed, "failed": boot.n_failed, "seconds": boot.seconds,
        "method": method,
        "ci": "percentile (ci.lower/ci.upper), BCa (bca.lower/bca.upper)"
        if "bca.lower" in effects and effects["bca.lower"].notna().any()
        else "percentile (ci.lower/ci.upper)"}
    return ModelResults(form=form, syntax=syntax, model_fit=mf, effects=effects,
                        modification_indices=mi, alternatives=alternatives,
                        bootstrap=bootstrap, warnings=tuple(warns + mi_warns))


def _latent_results(cleaned: CleanedResponses, survey: Survey, item_est: ItemEstimation,
                    model: PathModel, missing: str, bootstrap_latent: int, seed: int,
                    n_jobs: int, scheduler: str | None, parameterization: str,
                    std_lv: bool, step: Callable[[str], None]) -> ModelResults:
    """The latent SEM (measurement model + structural formulas) on the items, with its
    alternatives and, when asked, its refit bootstrap (see :func:`fit_structural`)."""
    step("structural model: latent SEM")
    lsyntax = survey.measurement_syntax() + "\n" + survey.structural
    items = cleaned.data[list(cleaned.items)]
    lmf = item_est.fit(lsyntax, items)
    lalts = _fit_alternatives(survey, lmf, lambda s: survey.measurement_syntax() + "\n" + s,
                              items, item_est.estimator, item_est.missing,
                              parameterization, std_lv) if lmf.converged else ()
    lboot, note = None, ["bootstrap intervals are computed for the composite model; "
                         "the latent model's effects use the delta method."]
    if item_est.ordinal:
        note = list(item_est.notes) + (["bootstrap refits of the latent SEM are not done "
                                        f"under {item_est.estimator}; its effects use the "
                                        "delta method."] if bootstrap_latent > 0 else [])
    elif bootstrap_latent > 0 and lmf.converged:
        step(f"structural model: latent SEM, {bootstrap_latent} bootstrap refits")
        lboot, note = _bootstrap_latent(lsyntax, lmf, items, model, missing,
                                        bootstrap_latent, seed, n_jobs, scheduler), []
    return _model_results("latent", lsyntax, lmf, model, items, lalts, lboot, note)


#: The spec's ``latent_interaction`` -> the method of :func:`fit_latent_moderation`.
LATENT_INTERACTION_METHODS = {"product_indicators": "dmc", "lms": "lms"}


def latent_moderation(cleaned: CleanedResponses, survey: Survey,
                      item_est: ItemEstimation) -> LatentModeration | None:
    """The structural syntax's interaction terms between constructs, fitted as the spec's
    ``latent_interaction`` says: double-mean-centred product indicators (default) or LMS
    (:mod:`adoption.sem.latent_moderation`). None without interaction terms."""
    if not interaction_terms(survey.structural):
        return None
    method = LATENT_INTERACTION_METHODS[survey.latent_interaction]
    if item_est.ordinal:
        return LatentModeration(method, (), (
            f"latent interactions are not fitted under {item_est.estimator}; the "
            "composite model reports the moderation.",))
    items = {n: list(c.items) for n, c in survey.constructs.items()}
    res = fit_latent_moderation(survey.structural, survey.measurement_syntax(), items,
                                cleaned.data[list(cleaned.items)], method=method)
    return replace(res, notes=res.notes + ("latent interactions are fitted by ML on the "
                                           "rows with every item of the constructs.",))


# -------------------------------------------------------------------------------------
# the stage
# -------------------------------------------------------------------------------------
def fit_structural(cleaned: CleanedResponses, survey: Survey, *, estimator: str = "ML",
                   bootstrap: int = 5000, seed: int = DEFAULT_SEED, latent: bool = True,
                   n_jobs: int = 2, step: Callable[[str], None] = lambda s: None,
                   bootstrap_latent: int = 0, scheduler: str | None = None,
                   parameterization: str = "delta", std_lv: bool = False) -> StructuralResults:
    """Fit the spec's structural model as a composite path model and as a latent SEM.

    Parameters
    ----------
    cleaned : the analysed responses (reverse-keyed items recoded).
    survey : the spec: ``structural``, ``alternatives``, ``hypotheses``, ``missing``.
    estimator : 'ML', 'MLM', 'MLR', or 'WLSMV'/'ULSMV': the latent SEM is then fitted
        to the items as ordered categories (``missing``: listwise, or pairwise for the
        spec's pairwise or FIML) and the composite model, on construct scores, stays
        under ML (:data:`adoption.ordinal.COMPOSITE_NOTE`).
    bootstrap : draws for the composite model's bootstrap intervals (0: none).
    seed : bootstrap seed.
    latent : also fit the latent SEM.
    n_jobs : workers for refit bootstraps.
    bootstrap_latent : draws for the latent model's bootstrap percentile intervals of
        its direct, indirect and total effects (0: none, delta method). Each draw
        refits the latent SEM (ML or FIML, as the spec says) warm-started from the
        full-sample estimates (:class:`adoption.sem.engine.LeanRefit`), on ``n_jobs``
        workers or ``scheduler``; seeded like the composite bootstrap. BCa rows are
        not computed for it (they would need N jackknife refits).
    scheduler : dask scheduler address for the latent refits (see
        :func:`adoption.parallel.run_tasks`).
    parameterization : 'delta' or 'theta' (ordinal estimators only).
    std_lv : lavaan's ``std.lv = TRUE`` for the latent SEM and its alternatives (and
        its bootstrap refits): latent variances, or a regressed factor's residual
        variance, fixed at 1 and every loading free. std.all, the fit measures and the
        standardised effects are identical to the default; the unstandardised loadings,
        latent (co)variances and latent regressions (est, se, unstandardised effects)
        are on the new scale. The composite model has no latent variable: unchanged.

    Returns
    -------
    StructuralResults
    """
    if not survey.structural.strip():
        raise InputError("The spec has no 'structural' model: add the hypothesised paths, "
                         "e.g. 'WIL ~ HAB + COM'.")
    missing = survey.missing.method
    item_est = item_estimation(estimator, missing, parameterization, std_lv,
                               ordered=ordinal_items(survey.ordinal, survey.items))
    comp_notes = [COMPOSITE_NOTE] if item_est.ordinal else []
    if item_est.ordinal:
        estimator, missing = "ML", composite_missing(missing)
    scores, log = composite_scores(cleaned.data, survey)
    syntax, data, moderation, comp_survey, lat_survey = survey.structural, scores, None, survey, survey
    if has_moderation(survey.structural, survey.controls):   # products, dummies, controls
        design = composite_design(survey.structural, scores, cleaned.data, survey.controls,
                                  survey.centre, {g.column: dict(g.labels) for g in survey.groups})
        syntax, data = design.syntax, design.data
        step("structural model: moderation")
        moderation = fit_moderation(design, B=bootstrap, seed=seed)
        alts = survey.alternatives
        comp_survey = survey.model_copy(update={"structural": syntax, "alternatives": {
            k: expand_like(design, v, survey.controls) for k, v in alts.items()}})
        names = list(survey.constructs)
        lat_survey = survey.model_copy(update={
            "structural": main_effects_syntax(survey.structural, names),
            "alternatives": {k: main_effects_syntax(v, names) for k, v in alts.items()}})
        comp_notes.append("interaction terms and controls are in the composite model; the latent "
                          "SEM fits the main effects, and its interactions between constructs "
                          "are estimated separately (latent interactions, product indicators).")
        observed = observed_terms(survey.structural, names)
        if observed:
            comp_notes.append(f"the latent SEM leaves out the observed predictor(s) "
                              f"{', '.join(observed)}: it is fitted to the items only.")
    model = parse_structural(syntax)

    step("structural model: composite scores")
    mf = _fit(syntax, data, estimator, missing)
    alts = _fit_alternatives(comp_survey, mf, lambda s: s, data, estimator, missing) \
        if mf.converged else ()
    boot = None
    if bootstrap > 0 and mf.converged:
        step(f"structural model: {bootstrap} bootstrap draws")
        boot = _bootstrap(model, data, syntax, estimator, missing, bootstrap, seed, n_jobs)
    composite = _model_results("composite", syntax, mf, model, data, alts, boot, comp_notes)
    if moderation is not None:   # controls' and products' effects: in moderation.equations
        eff = composite.effects
        composite = replace(composite, effects=eff[~eff["source"].isin(added_variables(design))]
                            .reset_index(drop=True))

    latent_res = None
    if latent:
        lmodel = model if lat_survey is survey else parse_structural(lat_survey.structural)
        latent_res = _latent_results(cleaned, lat_survey, item_est, lmodel, missing,
                                     bootstrap_latent, seed, n_jobs, scheduler,
                                     parameterization, std_lv, step)
        latent_res = replace(latent_res, moderation=latent_moderation(cleaned, survey, item_est))

    hyp = hypotheses_table(survey, composite, latent_res, moderation=moderation)
    return StructuralResults(composite=composite, latent=latent_res, hypotheses=hyp,
                             composite_scores=scores, missing=missing, log=tuple(log),
                             latent_missing=item_est.missing,
                             full_vif=full_collinearity_vif(scores.dropna()),
                             moderation=moderation)
