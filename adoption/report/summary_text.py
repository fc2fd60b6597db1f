"""A short plain-language summary written from the numbers of a run.

Survey data are cross-sectional: the summary says that a construct "is associated with"
or "predicts" another, never that it causes, leads to or increases it. Paths are ranked
by the size of their standardised coefficient (|beta|) among those significant at .05.
The summary is built by small pure functions of the results so that the ranking and the
verdicts can be tested on their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from adoption.cutoffs import CUTOFFS, hypothesis_result, judge
from adoption.format import (
    format_bounded,
    format_int,
    format_number,
    format_p,
    format_percent,
    is_number,
)
from adoption.fitview import shown_fit
from adoption.report.tables import outcome_r2

__all__ = ["CAUSAL_WORDS", "ASSOCIATION_NOTE", "ranked_paths", "fit_verdict", "primary_model",
           "plain_summary", "causal_words_in", "construct_name"]

#: Words that claim causation; none may appear in the summary of cross-sectional data.
CAUSAL_WORDS = ("cause", "causes", "caused", "causal", "causing", "lead to", "leads to",
                "led to", "leading to", "increase", "increases", "increased", "decrease",
                "decreases", "decreased", "drives", "driven", "influence", "influences",
                "impact", "impacts", "effect of", "results in", "produces", "boosts", "reduces")

#: What a survey measured at one time cannot show; closes the summary and the brief.
ASSOCIATION_NOTE = ("The survey measured everything at one time, so these are associations: "
                    "a path that predicts an outcome shows that the two go together, not what "
                    "would happen if one of them were changed.")

_ORDER = {"good": 0, "acceptable": 1, "poor": 2}


def _fit_cutoffs() -> str:
    """'CFI and TLI ≥ .95, acceptable ≥ .90; RMSEA ≤ .06, acceptable ≤ .08; SRMR ≤ .08'."""
    def one(m: str) -> str:
        direction, good, ok = CUTOFFS[m]
        sign = "≥" if direction > 0 else "≤"
        text = f"{sign} {format_bounded(good)}"
        return text + (f", acceptable {sign} {format_bounded(ok)}" if ok != good else "")
    return (f"CFI and TLI {one('cfi')}; RMSEA {one('rmsea')}; SRMR {one('srmr')}"
            if CUTOFFS["cfi"] == CUTOFFS["tli"] else
            "; ".join(f"{m.upper()} {one(m)}" for m in ("cfi", "tli", "rmsea", "srmr")))


#: The fit cut-offs as the summary states them (Hu & Bentler, 1999).
FIT_CUTOFFS = _fit_cutoffs()


def causal_words_in(text: str) -> list[str]:
    """The causal words of :data:`CAUSAL_WORDS` found in ``text`` (whole words, any case)."""
    return [w for w in CAUSAL_WORDS if re.search(rf"\b{re.escape(w)}\b", text, re.IGNORECASE)]


def ranked_paths(estimates: Sequence[Mapping[str, Any]], alpha: float = 0.05) -> list[Mapping[str, Any]]:
    """Regression rows (``op == "~"``) with p < ``alpha``, largest |std.all| first.

    Rows without a finite p value or standardised coefficient are left out; ties keep
    the table's order.
    """
    sig = [r for r in estimates if r.get("op") == "~" and is_number(r.get("pvalue"))
           and is_number(r.get("std.all")) and r["pvalue"] < alpha]
    return sorted(sig, key=lambda r: -abs(float(r["std.all"])))


def fit_verdict(fit: Mapping[str, Any] | None) -> tuple[str | None, str]:
    """The worst judgement among CFI, TLI, RMSEA and SRMR, and a sentence saying why.

    Returns ``(verdict, text)`` with verdict 'good', 'acceptable', 'poor' or None when no
    index is known. Under MLM/MLR the robust indices are judged (:func:`adoption.fitview.shown_fit`).
    """
    shown = shown_fit(fit)
    parts, verdicts = [], []
    names = {"cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR"}
    if shown.robust:
        names = {m: n + (" (robust)" if m != "srmr" else "") for m, n in names.items()}
    for m in ("cfi", "tli", "rmsea", "srmr"):
        v = shown.get(m)
        j = judge(m, v if is_number(v) else None)
        if j is None:
            continue
        verdicts.append(j)
        parts.append(f"{names[m]} = {format_bounded(v, 3)}")
    if not verdicts:
        return None, "Fit indices were not available."
    worst = max(verdicts, key=_ORDER.__getitem__)
    word = {"good": "fits the data well", "acceptable": "fits the data acceptably",
            "poor": "does not fit the data well"}[worst]
    return worst, f"{', '.join(parts)}; by the usual cut-offs ({FIT_CUTOFFS}), the model {word}."


def primary_model(structural: Mapping[str, Any] | None) -> tuple[str, Mapping[str, Any]] | None:
    """The model the summary reads: ``structural["primary"]`` if named, else composite, else latent."""
    if not structural:
        return None
    name = structural.get("primary")
    for key in ([name] if name else []) + ["composite", "latent"]:
        if isinstance(structural.get(key), Mapping):
            return key, structural[key]
    return None


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


def construct_name(code: str, labels: Mapping[str, str]) -> str:
    """A construct as the text names it: 'habit (HAB)', or the code when it has no label."""
    long = labels.get(code)
    return f"{_lower_first(long)} ({code})" if long and long != code else code


def _path_sentence(r: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    beta = float(r["std.all"])
    direction = "higher" if beta > 0 else "lower"
    y = r["lhs"]
    long = labels.get(y)
    target = f"{_lower_first(long)} ({y}; " if long and long != y else f"{y} ("
    return (f"higher {construct_name(r['rhs'], labels)} is associated with {direction} "
            f"{target}β = {format_bounded(beta)}, {format_p(r['pvalue'])})")


def plain_summary(results: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> list[str]:
    """Paragraphs in plain language: sample, measurement, structural paths, hypotheses, fit.

    Parameters
    ----------
    results : the run's ``results.json`` as a dict.
    labels : long construct names by code (optional).

    Returns
    -------
    list of str
        One paragraph per topic; topics absent from the results are left out, with a
        sentence saying the structural model was not computed when it is absent.
    """
    labels = dict(labels or {})
    out: list[str] = []
    s = results.get("sample") or {}
    if s:
        out.append(f"Of {format_int(s.get('rows_in'))} responses received, "
                   f"{format_int(s.get('rows_analysed'))} were analysed after the quality checks.")
    rel = results.get("reliability") or {}
    if rel:
        alphas = [r["alpha"] for r in rel.values() if is_number(r.get("alpha"))]
        if alphas:
            low = [c for c, r in rel.items() if judge("alpha", r.get("alpha")) != "good"]
            text = f"Cronbach's alpha ranged from {format_bounded(min(alphas))} to {format_bounded(max(alphas))}; "
            text += ("every construct reached the usual .70." if not low else
                     f"{', '.join(low)} fell below .70, so {'its' if len(low) == 1 else 'their'} scores "
                     "should be read with care.")
            weak = [c for c, r in rel.items() if judge("ave", r.get("ave")) == "poor"
                    or judge("cr", r.get("cr")) == "poor"]
            if weak:
                text += (f" Convergent validity is weak for {', '.join(weak)} (average variance "
                         "extracted below .50 or composite reliability below .60).")
            out.append(text)
    htmt = (results.get("validity") or {}).get("htmt") or {}
    if htmt:
        pairs = [(a, b, v) for a, row in htmt.items() for b, v in (row or {}).items()
                 if a < b and is_number(v)]
        if pairs:
            a, b, v = max(pairs, key=lambda t: t[2])
            verdict = judge("htmt", v)
            out.append(f"The largest HTMT ratio is {format_bounded(v)} ({a} and {b}); "
                       + ("all constructs are distinct by the strict .85 cut-off." if verdict == "good" else
                          "this is above .85, so these two constructs may overlap." if verdict == "acceptable"
                          else "this is above .90: these two constructs may not be distinct."))
    cfa_fit = (results.get("cfa") or {}).get("fit")
    if cfa_fit:
        out.append("Measurement model: " + fit_verdict(cfa_fit)[1])

    pm = primary_model(results.get("structural"))
    if pm is None:
        out.append("The structural model was not computed in this run.")
    else:
        key, model = pm
        what = {"composite": "path model of construct scores", "latent": "latent-variable model"}.get(key, key)
        ranked = ranked_paths(model.get("estimates") or [])
        regs = [r for r in model.get("estimates") or [] if r.get("op") == "~"]
        if ranked:
            top = ranked[:3]
            text = (f"In the {what}, {len(ranked)} of {len(regs)} paths are significant (p < .05). "
                    f"The strongest: {'; '.join(_path_sentence(r, labels) for r in top)}.")
            out.append(text[0].upper() + text[1:])
        elif regs:
            out.append(f"In the {what}, none of the {len(regs)} paths is significant at p < .05.")
        r2 = outcome_r2(model)
        if r2:
            parts = [f"{format_percent(v, 0)}% of the variance in {construct_name(k, labels)}"
                     for k, v in r2.items() if is_number(v)]
            if parts:
                out.append("Together, the predictors account for " + ", ".join(parts) + " (R²).")
        ind = [r for r in model.get("indirect") or [] if is_number(r.get("ci.lower")) and is_number(r.get("ci.upper"))]
        if ind:
            nz = [r for r in ind if r["ci.lower"] > 0 or r["ci.upper"] < 0]
            text = f"{len(nz)} of {len(ind)} indirect paths have 95% confidence intervals that exclude zero"
            if nz:
                best = max(nz, key=lambda r: abs(r.get("est") or 0))
                path = " → ".join(best.get("path") or []) or str(best.get("name"))
                text += (f"; the largest is {path} (b = {format_number(best.get('est'), 3)}, 95% CI "
                         f"[{format_number(best['ci.lower'], 3)}, {format_number(best['ci.upper'], 3)}])")
            out.append(text + ".")
        if model.get("fit"):
            out.append(f"Structural model ({what}): " + fit_verdict(model.get("fit"))[1])
    hyp = results.get("hypotheses") or []
    if hyp:
        yes = [h for h in hyp if h.get("supported")]
        no = [h for h in hyp if not h.get("supported")]
        # without any expected sign a path can only be significant, not "support" a claim
        signed = any(hypothesis_result(True, h.get("expected_sign")) == "supported" for h in hyp)
        word = "supported" if signed else "significant"
        what = "hypotheses are supported by the data" if signed else "paths are significant"
        text = f"{len(yes)} of {len(hyp)} {what}"
        if yes:
            text += f" ({', '.join(str(h.get('id')) for h in yes)})"
        if no:
            text += f"; not {word}: {', '.join(str(h.get('id')) for h in no)}"
        lat = [h for h in hyp if h.get("latent.supported") is not None]
        if lat:
            same = sum(bool(h.get("latent.supported")) == bool(h.get("supported")) for h in lat)
            n_yes = sum(bool(h.get("latent.supported")) for h in lat)
            text += (f". In the latent-variable model, {n_yes} of {len(lat)} are {word}, and "
                     f"{same} of {len(lat)} verdicts agree with the composite model")
        out.append(text + ".")
    if pm is not None:
        out.append(ASSOCIATION_NOTE)
    return out
