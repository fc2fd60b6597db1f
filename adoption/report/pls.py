"""The PLS-SEM section of the report, in Hair et al.'s order (measurement model,
structural model, predictive power), with the IPMA, the PLS path diagram and the
CB-SEM vs PLS-SEM comparison. Built from ``results["pls"]`` only; absent when the run
did not estimate PLS-SEM.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd

from adoption.format import format_bounded, format_number, format_p_value, is_number
from adoption.report.content import Figure, Heading, Paragraph, Section, Table

__all__ = ["pls_sections"]

CONVENTIONS = {"seminr": "seminr's conventions (bootstrap SD with divisor B - 1)",
               "smartpls": "SmartPLS's conventions (bootstrap SD with divisor B)"}
VERDICT = {"high": "high predictive power (PLS predicts every indicator better than the LM benchmark)",
           "medium": "medium predictive power (PLS is better for the majority of the indicators)",
           "low": "low predictive power (PLS is better for a minority of the indicators)",
           "none": "no predictive power beyond the LM benchmark"}


def _n(v, d: int = 3) -> str:
    return format_number(float(v), d) if is_number(v) else "-"


def _b(v, d: int = 3) -> str:
    return format_bounded(float(v), d) if is_number(v) else "-"


def _p(v) -> str:
    return format_p_value(float(v)) if is_number(v) else "-"


def _yes(v) -> str:
    return "-" if v is None else ("yes" if v else "no")


def _table(key: str, title: str, columns, rows, note: str = "") -> Table:
    return Table(key, title, tuple(columns), tuple(tuple(r) for r in rows), note)


def _measurement(pls: Mapping[str, Any], labels: Mapping[str, str]) -> list:
    b: list = [Heading("Measurement model")]
    b.append(_table("pls-reliability", "PLS-SEM reliability and convergent validity",
                    ["Construct", "alpha", "rhoA", "rhoC", "AVE"],
                    [[labels.get(r["construct"], r["construct"]), _b(r["alpha"]), _b(r["rhoA"]),
                      _b(r["rhoC"]), _b(r["AVE"])] for r in pls.get("reliability") or []]))
    b.append(_table("pls-outer", "PLS-SEM loadings and weights (bootstrap 95% CI)",
                    ["Item", "Construct", "Mode", "Loading", "95% CI", "Weight", "p (weight)"],
                    [[r["item"], r["construct"], r["mode"], _n(r["loading"]),
                      f"[{_n(r['ci.lower'])}, {_n(r['ci.upper'])}]", _n(r["weight"]),
                      _p(r.get("pvalue.weight"))] for r in pls.get("outer") or []]))
    b.append(_table("pls-htmt", "HTMT with bootstrap inference (upper 95% limit)",
                    ["Pair", "HTMT", "Upper limit", "Below .85", "Below .90"],
                    [[f"{r['source']} - {r['target']}", _n(r["est"]), _n(r.get("ci.upper")),
                      _yes(r.get("below_0.85")), _yes(r.get("below_0.90"))]
                     for r in pls.get("htmt") or []]))
    return b


def _structural(pls: Mapping[str, Any], labels: Mapping[str, str]) -> list:
    b: list = [Heading("Structural model")]
    vif = {(r["lhs"], r["rhs"]): r["vif"] for r in pls.get("vif_antecedents") or []}
    b.append(_table("pls-paths", "PLS-SEM path coefficients (bootstrap)",
                    ["Path", "beta", "SE", "t", "p", "95% CI", "f2", "VIF"],
                    [[f"{r['rhs']} -> {r['lhs']}", _n(r["est"]), _n(r["se"]), _n(r["t"], 2),
                      _p(r["pvalue"]), f"[{_n(r['ci.lower'])}, {_n(r['ci.upper'])}]", _n(r["f2"]),
                      _n(vif.get((r["lhs"], r["rhs"])), 2)] for r in pls.get("paths") or []]))
    b.append(_table("pls-r2", "Explained variance", ["Construct", "R2", "adjusted R2"],
                    [[labels.get(r["construct"], r["construct"]), _b(r["r2"]), _b(r["adj_r2"])]
                     for r in pls.get("r2") or []]))
    return b


def _predictive(pls: Mapping[str, Any]) -> list:
    b: list = [Heading("Predictive power (PLSpredict)")]
    pred = pls.get("predict") or []
    verdict = (pls.get("predict_verdict") or {}).get("rmse")
    if verdict:
        b.append(Paragraph(f"10-fold cross-validation repeated 10 times, direct-antecedent "
                           f"predictions against a linear-regression benchmark: by RMSE, "
                           f"{VERDICT[verdict]} (Shmueli et al., 2019; Hair et al.)."))
    b.append(_table("pls-predict", "PLSpredict: out-of-sample prediction errors",
                    ["Item", "Q2predict", "RMSE (PLS)", "RMSE (LM)", "MAE (PLS)", "MAE (LM)"],
                    [[r["item"], _n(r["q2predict"]), _n(r["pls_rmse"]), _n(r["lm_rmse"]),
                      _n(r["pls_mae"]), _n(r["lm_mae"])] for r in pred]))
    return b


def _ipma_figure(pls: Mapping[str, Any]) -> list:
    t = pd.DataFrame(pls.get("ipma") or [])
    if t.empty:
        return []
    from adoption.figures.ipma import ipma_figure, ipma_png, ipma_svg

    target = str(t["target"].iloc[0])
    return [Heading("Importance-performance map"),
            Figure("pls-ipma", f"Importance-performance map for {target}",
                   "Importance: unstandardised total effect on the target; performance: mean "
                   "construct score rescaled to 0-100 (Ringle & Sarstedt, 2016). Orange: above-"
                   "average importance, below-average performance (where to act).",
                   "pls_ipma", plotly=ipma_figure(t, target), svg=ipma_svg(t, target),
                   png=ipma_png(t, target), alt=f"Importance-performance map for {target}")]


def _path_diagram(pls: Mapping[str, Any], labels: Mapping[str, str]) -> list:
    p = pd.DataFrame(pls.get("paths") or [])
    if p.empty:
        return []
    from adoption.figures.pathdiagram import path_figure, path_png, path_svg

    paths = p.assign(z=p["t"], **{"std.all": p["est"]})[
        ["lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all"]]
    paths = paths.apply(lambda c: pd.to_numeric(c, errors="coerce") if c.name not in ("lhs", "op", "rhs") else c)
    r2 = {r["construct"]: float(r["r2"]) for r in pls.get("r2") or [] if is_number(r["r2"])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return [Figure("path-pls", "Path diagram of the PLS-SEM model",
                       "Standardised PLS path coefficients and R2; dashed: not significant "
                       "(bootstrap).", "path_pls", plotly=path_figure(paths, r2, labels),
                       svg=path_svg(paths, r2, labels), png=path_png(paths, r2, labels),
                       alt="Path diagram of the PLS-SEM model")]


def _comparison(results: Mapping[str, Any], pls: Mapping[str, Any]) -> list:
    hyp = {(h["lhs"], h["rhs"]): h for h in results.get("hypotheses") or []}
    rows = []
    for r in pls.get("hypotheses") or []:
        c = hyp.get((r["lhs"], r["rhs"]), {})
        rows.append([r["id"], f"{r['rhs']} -> {r['lhs']}", _n(c.get("std.all")),
                     _yes(c.get("supported")), _n(c.get("latent.std.all")),
                     _yes(c.get("latent.supported")), _n(r["est"]), _yes(r["supported"])])
    return [Heading("CB-SEM and PLS-SEM compared"),
            _table("pls-compare", "Standardised paths and verdicts: CB-SEM and PLS-SEM",
                   ["Hypothesis", "Path", "Composite beta", "Supported", "Latent beta",
                    "Supported", "PLS beta", "Supported"], rows,
                   "Supported: significant at .05 with the expected sign (PLS: bootstrap t test).")]


def pls_sections(results: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[Section, ...]:
    """The PLS-SEM section, or none when the run did not estimate PLS-SEM."""
    pls = results.get("pls")
    if not isinstance(pls, Mapping):
        return ()
    opt = pls.get("options") or {}
    boot = pls.get("bootstrap") or {}
    intro = Paragraph(
        f"PLS-SEM of the same structural model ({'PLSc, consistent' if opt.get('consistent') else 'PLS'}, "
        f"{opt.get('scheme', 'path')} weighting scheme; N = {pls.get('n')}), following "
        f"{CONVENTIONS.get(opt.get('conventions'), opt.get('conventions'))}; "
        f"{boot.get('B', 0)} bootstrap draws (seed {boot.get('seed')}). Missing answers were "
        "replaced by the item mean for this analysis only (logged in log.csv).")
    blocks = [intro, *_measurement(pls, labels), *_structural(pls, labels), *_path_diagram(pls, labels),
              *_predictive(pls), *_ipma_figure(pls), *_comparison(results, pls)]
    return (Section("pls", "PLS-SEM", tuple(blocks)),)
