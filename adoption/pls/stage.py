"""The PLS-SEM stage: cleaned responses -> :class:`PLSResults`.

Runs after the structural stage when the spec's ``methods`` (or ``--method pls``) asks
for PLS-SEM. The inner model is the spec's ``structural`` model read by the project's
:func:`~adoption.structural.paths.parse_structural` (through
:func:`~adoption.pls.model.pls_model`); each construct is mode A unless the spec says
``mode: B``. Every table Hair et al.'s primer reports is returned as a tidy frame:
measurement model (loadings, weights, reliability, HTMT with its bootstrap inference,
Fornell-Larcker, cross-loadings, item VIFs), structural model (paths with bootstrap
intervals and f2, R2, effects, antecedent VIFs, Kock's full-collinearity VIF) and the
hypotheses tested on the PLS paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from adoption.audit import LogEntry
from adoption.clean import CleanedResponses
from adoption.ipma import construct_performance, ipma_table, rescale_items, unstandardised_total_effects
from adoption.jsonable import to_jsonable
from adoption.pls.bootstrap import PLSBootstrap, bootstrap_pls, htmt_inference
from adoption.pls.estimate import PLSResult, estimate_pls
from adoption.pls.fit import pls_fit
from adoption.pls.mga import compare_groups
from adoption.pls.model import pls_model
from adoption.pls.predict import PLSPredict, pls_predict
from adoption.pls.quality import (
    cross_loadings,
    fornell_larcker_table,
    full_collinearity_vif,
    htmt,
    reliability,
    vif_antecedents,
    vif_items,
)
from adoption.spec import PLSOptions, Survey, parse_hypothesis
from adoption.structural.moderated import construct_model
from adoption.structural.paths import parse_structural
from adoption.vocabulary import DEFAULT_SEED

__all__ = ["PLSResults", "fit_pls", "mean_replace"]

#: Columns of the bootstrap summary carried into the result tables.
_BOOT = ["boot.mean", "se", "t", "pvalue", "ci.lower", "ci.upper", "bca.lower", "bca.upper"]


@dataclass(frozen=True)
class PLSResults:
    """PLS-SEM of the spec's model.

    Attributes
    ----------
    estimate : the fitted model (:class:`~adoption.pls.estimate.PLSResult`).
    bootstrap : the bootstrap, or None when ``bootstrap`` is 0.
    predict : PLSpredict, 10 folds x 10 repetitions (:func:`~adoption.pls.predict.pls_predict`).
    options : the spec's ``pls`` options, as run (with the seed).
    tables : name -> DataFrame: ``paths, r2, effects, outer, reliability, htmt,
        fornell_larcker, cross_loadings, vif_items, vif_antecedents, full_vif, fit,
        hypotheses, predict, ipma`` and, for each two-group column of the spec's
        ``groups``, ``micom_<column>`` and ``mga_<column>`` (every one written to ``tables/pls_<name>.csv``).
    log : values replaced (missing answers).
    warnings : plain-language diagnostics.
    """

    estimate: PLSResult
    bootstrap: PLSBootstrap | None
    predict: PLSPredict
    options: dict
    tables: dict[str, pd.DataFrame]
    log: tuple[LogEntry, ...] = field(default=())
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return to_jsonable({
            "options": self.options, "n": self.estimate.n,
            "iterations": self.estimate.iterations,
            "bootstrap": None if self.bootstrap is None else
            {"B": self.bootstrap.B, "failed": self.bootstrap.failed, "seed": self.bootstrap.seed,
             "level": self.bootstrap.level},
            "predict_verdict": self.predict.verdict,
            **{k: v for k, v in self.tables.items() if k != "cross_loadings"},
            "warnings": list(self.warnings)})


def mean_replace(items: pd.DataFrame) -> tuple[pd.DataFrame, list[LogEntry]]:
    """Replace each missing answer by its item's mean (seminr's ``mean_replacement``).

    Returns the completed frame and one log line per item with replaced values.
    """
    log = [LogEntry("pls", "missing answer replaced by the item mean", col, None, int(k),
                    f"item mean {items[col].mean():.4g}, for PLS-SEM only (seminr mean_replacement)")
           for col, k in items.isna().sum().items() if k]
    return items.fillna(items.mean()), log


def _with_boot(frame: pd.DataFrame, boot: PLSBootstrap | None, quantity: str,
               left_on: list[str], right_on: list[str]) -> pd.DataFrame:
    """``frame`` with the bootstrap columns of ``quantity`` (percentile and BCa limits)."""
    if boot is None:
        return frame.assign(**{c: float("nan") for c in _BOOT})
    bca = boot.of(quantity, "bca")[[*right_on, "ci.lower", "ci.upper"]].rename(
        columns={"ci.lower": "bca.lower", "ci.upper": "bca.upper"})
    b = boot.of(quantity, "perc")[[*right_on, *_BOOT[:6]]].merge(bca, on=right_on, how="left")
    b = b.rename(columns=dict(zip(right_on, left_on)))
    return frame.merge(b, on=left_on, how="left")


def _effects(est: PLSResult, boot: PLSBootstrap | None) -> pd.DataFrame:
    """Direct (the paths), indirect, total indirect and total effects with their intervals."""
    e = est.effects
    direct = _with_boot(e[e.effect == "direct"], boot, "path", ["source", "target"],
                        ["source", "target"])
    rest = [_with_boot(e[e.effect == q], boot, q, ["name"], ["name"])
            for q in ("indirect", "total_indirect", "total")]
    out = pd.concat([direct, *rest], ignore_index=True)
    return out.assign(path=out["path"].map(lambda p: p if isinstance(p, str) else " -> ".join(p)))


def _htmt_long(est: PLSResult, boot: PLSBootstrap | None) -> pd.DataFrame:
    """HTMT of each pair (``source, target, est``), with the bootstrap inference."""
    h = htmt(est)
    names = list(h.index)
    out = pd.DataFrame([(names[j], names[i], h.iloc[i, j])
                        for j in range(len(names)) for i in range(j + 1, len(names))],
                       columns=["source", "target", "est"])
    if boot is None:
        return out
    return out.merge(htmt_inference(boot).drop(columns="est"), on=["source", "target"], how="left")


def _hypotheses(survey: Survey, paths: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """The spec's hypotheses (or every path) on the PLS paths, supported as in the
    structural stage: significant at ``alpha`` (bootstrap t) with the expected sign."""
    hyps = ([(h, *parse_hypothesis(t)) for h, t in survey.hypotheses.items()] if survey.hypotheses
            else [(f"P{i}", x, y, None) for i, (y, x) in
                  enumerate(parse_structural(construct_model(survey.structural,
                                                             list(survey.constructs))[0]).edges,
                            1)])
    rows = []
    for hid, x, y, sign in hyps:
        hit = paths[(paths.lhs == y) & (paths.rhs == x)]
        r = hit.iloc[0] if len(hit) else None
        p = None if r is None else r["pvalue"]
        ok = (None if p is None or pd.isna(p) else
              bool(p < alpha and (sign is None or (r["est"] > 0) == (sign == "+"))))
        rows.append({"id": hid, "lhs": y, "rhs": x, "path": f"{x} -> {y}", "expected_sign": sign,
                     **{k: (float("nan") if r is None else r[k])
                        for k in ["est", "se", "pvalue", "ci.lower", "ci.upper", "f2"]},
                     "supported": ok})
    return pd.DataFrame(rows)


def fit_pls(cleaned: CleanedResponses, survey: Survey, *, options: PLSOptions | None = None,
            bootstrap: int | None = None, seed: int = DEFAULT_SEED) -> PLSResults:
    """PLS-SEM of the spec's structural model on the cleaned item responses.

    Parameters
    ----------
    cleaned : the analysed responses (reverse-keyed items recoded).
    survey : the spec: ``constructs`` (with ``mode``), ``structural``, ``hypotheses``.
    options : PLS options (default: the spec's ``pls``).
    bootstrap : draws, overriding ``options.bootstrap`` (None: keep it).
    seed : bootstrap seed.

    Returns
    -------
    PLSResults

    Notes
    -----
    Missing answers are replaced by the item mean (seminr's default), logged per item.
    Bootstrap: percentile and BCa intervals, SD as ``options.conventions``; f2 is not
    bootstrapped (its refits would multiply the time by the number of paths).
    Interaction terms of ``structural`` (``X:W``) are left out of the PLS model (its
    main effects are fitted, and a warning says so); the composite model's moderation
    reports them (the two-stage PLS approach is :mod:`adoption.pls.moderation`).
    """
    opt = options or survey.pls
    B = opt.bootstrap if bootstrap is None else bootstrap
    # interaction terms and observed regressors are left out: see the Notes
    syntax, moderated, observed = construct_model(survey.structural, list(survey.constructs))
    inner = parse_structural(syntax)
    constructs = {c: list(survey.constructs[c].items) for c in inner.variables}
    model = pls_model(constructs, syntax, modes={c: survey.constructs[c].mode for c in constructs})
    data, log = mean_replace(cleaned.data[list(model.items)])
    est = estimate_pls(data, model, scheme=opt.scheme, consistent=opt.consistent)
    boot = (bootstrap_pls(data, model, B=B, seed=seed, scheme=opt.scheme,
                          consistent=opt.consistent, conventions=opt.conventions, f2=None)
            if B > 0 else None)
    pred = pls_predict(data, model, seed=seed, scheme=opt.scheme, consistent=opt.consistent)
    paths = _with_boot(est.paths, boot, "path", ["rhs", "lhs"], ["source", "target"])
    outer = _with_boot(est.outer, boot, "loading", ["item", "construct"], ["source", "target"])
    wboot = _with_boot(est.outer[["construct", "item"]], boot, "weight", ["item", "construct"],
                       ["source", "target"])
    outer = outer.merge(wboot, on=["construct", "item"], suffixes=("", ".weight"))
    tables = {
        "paths": paths, "r2": est.r2, "effects": _effects(est, boot),
        "outer": outer, "reliability": reliability(est), "htmt": _htmt_long(est, boot),
        "fornell_larcker": fornell_larcker_table(est),
        "cross_loadings": cross_loadings(est).reset_index(names="item"),
        "vif_items": vif_items(est), "vif_antecedents": vif_antecedents(est),
        "full_vif": full_collinearity_vif(est.scores), "fit": pls_fit(est).reset_index(names="measure"),
        "hypotheses": _hypotheses(survey, paths), "predict": pred.metrics,
        "ipma": pls_ipma(est, data, survey), **_group_tables(data, model, cleaned, survey, seed, opt)}
    warnings = [*est.warnings, *(boot.warnings if boot else ())]
    if moderated:
        warnings.append("PLS-SEM fits the main effects only: the structural model's interaction "
                        "terms are estimated in the composite model's moderation tables.")
    if observed:
        warnings.append(f"PLS-SEM leaves out the observed predictor(s) {', '.join(observed)}: "
                        "it is fitted to the items only.")
    options_run = {**opt.model_dump(), "bootstrap": B, "seed": seed,
                   "modes": {b.name: b.mode for b in model.blocks}}
    return PLSResults(est, boot, pred, options_run, tables, tuple(log), tuple(warnings))



def pls_ipma(est: PLSResult, data: pd.DataFrame, survey: Survey, target: str | None = None) -> pd.DataFrame:
    """IPMA (:mod:`adoption.ipma`) of ``target`` (default: the model's last outcome).

    Items are rescaled to 0-100 with their scale's ``min``/``max``; importance is each
    construct's total effect on the target in the units of the rescaled scores.
    """
    target = target or est.model.structure.outcomes[-1]
    items = list(est.model.items)
    scales = {i: survey.scale_of(i) for i in items}
    rescaled = rescale_items(data[items], {i: s.min for i, s in scales.items()},
                             {i: s.max for i, s in scales.items()})
    scores = construct_performance(rescaled, est.outer[["construct", "item", "weight"]])
    e = est.effects
    std_total = e[(e.effect == "total") & (e.target == target)].set_index("source")["est"]
    importance = unstandardised_total_effects(std_total.to_dict(), scores.std(ddof=1).to_dict(), target)
    labels = {c: survey.constructs[c].label or c for c in importance}
    return ipma_table(importance, scores.mean().to_dict(), labels).assign(target=target)


#: Permutations of MICOM and the MGA test in a run.
GROUP_PERMUTATIONS = 1000


def _group_tables(data, model, cleaned, survey: Survey, seed: int, opt: PLSOptions) -> dict:
    """MICOM and MGA tables of each spec group column with exactly two groups (rows with
    a missing group left out); columns with more groups are compared by the CB-SEM
    multigroup stage only."""
    out = {}
    for col in survey.group_columns:
        if col not in cleaned.data:
            continue
        g = cleaned.data[col]
        keep = g.notna()
        if g[keep].nunique() != 2:
            continue
        res = compare_groups(data[keep], model, g[keep].astype(str), GROUP_PERMUTATIONS, seed,
                             opt.scheme, opt.consistent)
        groups = {"group_1": res.groups[0], "group_2": res.groups[1]}
        out[f"micom_{col}"] = res.micom.assign(**groups)
        out[f"mga_{col}"] = res.paths.assign(**groups)
    return out
