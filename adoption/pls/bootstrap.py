"""Bootstrap inference for PLS-SEM, all draws at once.

A PLS estimate is a function of the item correlation matrix (:mod:`adoption.pls.algorithm`),
so a bootstrap draw only needs the correlation matrix of its resampled rows: as in the
composite bootstrap (:mod:`adoption.structural.bootstrap`), the draws are row counts
``W`` (``default_rng(seed).integers(0, n, (B, n))``), the moments of every draw are one
matrix product ``W @ [z, z_j z_k]`` (:func:`~adoption.structural.ols.path_moments`),
and the PLS algorithm runs on the ``(B, p, p)`` stack. The jackknife for the BCa
acceleration runs the same code on the n leave-one-out matrices.

Statistics: path coefficients, outer loadings and weights, HTMT, every indirect (specific),
total indirect and total effect, and (optionally) f-squared. Intervals come from the
project's interval functions (:func:`~adoption.structural.intervals.percentile_interval`,
:func:`~adoption.structural.intervals.bias_corrected_interval`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from adoption.errors import InputError
from adoption.pls import algorithm as alg
from adoption.pls.estimate import F2_METHODS, check_data, corrected_blocks, f_squared, f_squared_fixed
from adoption.pls.model import PLSModel
from adoption.pls.quality import htmt_stack
from adoption.structural.intervals import (
    bias_corrected_interval,
    jackknife_acceleration,
    percentile_interval,
)
from adoption.structural.ols import path_moments
from adoption.structural.effects import effect_definitions, evaluate_effects
from adoption.vocabulary import DEFAULT_SEED

__all__ = ["CONVENTIONS", "BOOT_COLUMNS", "PLSBootstrap", "bootstrap_pls", "statistic_labels",
           "correlation_stack", "htmt_inference"]

#: Conventions for the bootstrap SD: seminr divides by B - 1, SmartPLS by B.
CONVENTIONS: dict[str, int] = {"seminr": 1, "smartpls": 0}

#: Columns of :attr:`PLSBootstrap.table`.
BOOT_COLUMNS: tuple[str, ...] = ("quantity", "source", "target", "name", "est", "boot.mean",
                                 "se", "t", "pvalue", "ci.type", "ci.lower", "ci.upper")


@dataclass(frozen=True)
class PLSBootstrap:
    """Bootstrap of a PLS model.

    Attributes
    ----------
    table : DataFrame
        Columns :data:`BOOT_COLUMNS`, one row per statistic and ``ci.type`` (``"perc"``,
        ``"bca"``). ``quantity`` is ``path``, ``loading``, ``weight``, ``htmt``,
        ``indirect``, ``total_indirect``, ``total`` or ``f2``; ``source``/``target`` the
        constructs (for an item: item -> construct); ``name`` a label
        (``"Image -> Expectation"``, ``ind_Image_Expectation_Satisfaction``...).
        ``se`` is the SD of the draws (divisor per ``conventions``), ``t = est / se``,
        ``pvalue`` two-sided from Student's t with n - 1 df.
    draws : ndarray, shape (B_ok, K)
        The successful draws, columns in the order of ``labels``.
    labels : DataFrame
        ``quantity, source, target, name`` of each column of ``draws``.
    B : int
        Draws requested.
    failed : int
        Draws dropped (singular matrix, no convergence, non-finite estimate).
    seed : int or None
    level : float
    conventions : str
    warnings : tuple of str
    """

    table: pd.DataFrame
    draws: np.ndarray
    labels: pd.DataFrame
    B: int
    failed: int
    seed: int | None
    level: float
    conventions: str
    warnings: tuple[str, ...] = ()

    def of(self, quantity: str, ci_type: str = "perc") -> pd.DataFrame:
        """Rows of one quantity and interval type."""
        t = self.table
        return t[(t.quantity == quantity) & (t["ci.type"] == ci_type)].reset_index(drop=True)


def statistic_labels(model: PLSModel, f2: str | None = "refit") -> pd.DataFrame:
    """Labels of the statistic vector of :func:`_statistics`, in order."""
    rows = [("path", s, t, f"{s} -> {t}") for t, s in model.edges]
    for kind in ("loading", "weight"):
        rows += [(kind, i, b.name, f"{i} -> {b.name}") for b in model.blocks for i in b.items]
    names = model.constructs
    rows += [("htmt", names[j], names[i], f"{names[j]} -> {names[i]}")
             for j in range(len(names)) for i in range(j + 1, len(names))]
    rows += [(d.effect, d.source, d.target, d.name) for d in effect_definitions(model.structure)
             if d.effect != "direct"]
    if f2:
        rows += [("f2", s, t, f"{s} -> {t}") for t, s in model.edges]
    return pd.DataFrame(rows, columns=["quantity", "source", "target", "name"])


def correlation_stack(cov: np.ndarray) -> np.ndarray:
    """Correlation matrices from a (B, p, p) stack of covariance matrices."""
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        return cov / (d[:, :, None] * d[:, None, :])


def _statistics(S: np.ndarray, model: PLSModel, lay: alg.Layout, corrected: np.ndarray,
                scheme: str, f2: str | None, defs: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Statistic vectors (B, K) of a stack of correlation matrices, and which converged."""
    f = alg.fit(S, lay, corrected, scheme)
    pos = {c: j for j, c in enumerate(model.constructs)}
    src = np.array([pos[s] for _, s in model.edges])
    tgt = np.array([pos[t] for t, _ in model.edges])
    coef = f.beta[:, src, tgt]
    items = np.array([k for j, b in enumerate(lay.blocks) for k in b])
    owner = np.array([j for j, b in enumerate(lay.blocks) for _ in b])
    H = htmt_stack(S, lay.blocks)
    J = len(lay.blocks)
    hi, hj = np.array([(i, j) for j in range(J) for i in range(j + 1, J)]).T
    parts = [coef, f.L[:, items, owner], f.W[:, items, owner], H[:, hi, hj], evaluate_effects(defs, coef)]
    if f2 == "refit":
        parts.append(f_squared(S, lay, corrected, f.r2, scheme, init=f.W)[:, src, tgt])
    elif f2 == "fixed":
        parts.append(f_squared_fixed(f.C, lay)[:, src, tgt])
    return np.concatenate(parts, axis=1), f.converged & ~alg.mode_b_singular(S, lay)


def _safe_statistics(S, model, lay, corrected, scheme, f2, defs):
    """:func:`_statistics`, falling back to one matrix at a time when one is singular."""
    try:
        return _statistics(S, model, lay, corrected, scheme, f2, defs)
    except np.linalg.LinAlgError:
        out, ok = [], []
        for b in range(S.shape[0]):
            try:
                v, c = _statistics(S[b:b + 1], model, lay, corrected, scheme, f2, defs)
            except np.linalg.LinAlgError:
                v, c = None, np.array([False])
            out.append(v)
            ok.append(c[0])
        K = next((v.shape[1] for v in out if v is not None), 0)
        return (np.vstack([v if v is not None else np.full((1, K), np.nan) for v in out]),
                np.array(ok))


def bootstrap_pls(data: pd.DataFrame, model: PLSModel, B: int = 10_000,
                  seed: int | None = DEFAULT_SEED, scheme: str = "path", consistent: bool = False,
                  level: float = 0.95, conventions: str = "seminr", f2: str | None = "refit",
                  bca: bool = True, chunk: int = 1000) -> PLSBootstrap:
    """Nonparametric bootstrap of a PLS model (seminr's ``bootstrap_model``), batched.

    Parameters
    ----------
    data : DataFrame
    model : PLSModel
    B : int
        Number of draws (default 10,000).
    seed : int or None
        Seed of ``numpy.random.default_rng``; draw b uses rows
        ``default_rng(seed).integers(0, n, size=(B, n))[b]`` whatever ``chunk``.
    scheme, consistent
        As :func:`adoption.pls.estimate.estimate_pls`.
    level : float
        Confidence level of the intervals.
    conventions : {"seminr", "smartpls"}
        Bootstrap SD with divisor B - 1 (seminr) or B (SmartPLS).
    f2 : {"refit", "fixed"} or None
        Also bootstrap f-squared: ``"refit"`` as seminr (one warm-started PLS refit per
        path and draw: the slow part), ``"fixed"`` as ADANCO (scores held fixed), None
        to skip it.
    bca : bool
        Also BCa intervals (n jackknife fits).
    chunk : int
        Draws per batch.

    Returns
    -------
    PLSBootstrap

    Notes
    -----
    Draws whose fit fails (a singular correlation matrix, no convergence in 300
    iterations, a non-finite estimate) are dropped and counted in ``failed`` with a
    warning, as seminr drops them. Intervals: percentile and BCa (Efron, 1987) through
    the project's :func:`~adoption.structural.intervals.norm_inter`.
    """
    if conventions not in CONVENTIONS:
        raise InputError(f"PLS bootstrap: conventions must be one of {', '.join(CONVENTIONS)}, "
                         f"not {conventions!r}.")
    if B < 2:
        raise InputError("PLS bootstrap: at least 2 draws are needed.")
    if f2 is not None and f2 not in F2_METHODS:
        raise InputError(f"PLS bootstrap: f2 must be one of {', '.join(F2_METHODS)} or None.")
    X = check_data(data, model).to_numpy()
    n, p = X.shape
    Zc = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    iu, ju = np.triu_indices(p)
    D = np.concatenate([Zc, Zc[:, iu] * Zc[:, ju]], axis=1)
    lay = alg.layout(model)
    corrected = corrected_blocks(model, consistent)
    defs = tuple(d for d in effect_definitions(model.structure) if d.effect != "direct")
    est, ok0 = _safe_statistics(correlation_stack(path_moments(D.sum(0)[None, :p], D.sum(0)[None, p:],
                                                               float(n), p)),
                                model, lay, corrected, scheme, f2, defs)
    if not ok0[0]:
        raise InputError("PLS bootstrap: the model does not converge on the full sample.")
    est = est[0]
    rng = np.random.default_rng(seed)
    draws, oks = [], []
    for start in range(0, B, chunk):
        c = min(chunk, B - start)
        idx = rng.integers(0, n, size=(c, n))
        counts = np.bincount((idx + (np.arange(c) * n)[:, None]).ravel(), minlength=c * n).reshape(c, n)
        sums = counts.astype(float) @ D
        S = correlation_stack(path_moments(sums[:, :p], sums[:, p:], float(n), p))
        v, ok = _safe_statistics(S, model, lay, corrected, scheme, f2, defs)
        draws.append(v)
        oks.append(ok & np.isfinite(v).all(axis=1))
    draws_all = np.concatenate(draws)
    good = np.concatenate(oks)
    kept = draws_all[good]
    failed = int((~good).sum())
    warnings = []
    if failed:
        warnings.append(f"PLS bootstrap: {failed} of {B} draws failed (singular matrix, no "
                        "convergence or a non-finite estimate) and were dropped.")
    if kept.shape[0] < 2:
        raise InputError(f"PLS bootstrap: {failed} of {B} draws failed; no inference possible.")
    accel = 0.0
    if bca:
        total = D.sum(axis=0)
        Sj = correlation_stack(path_moments(total[:p] - D[:, :p], total[p:] - D[:, p:], float(n - 1), p))
        jack, jok = _safe_statistics(Sj, model, lay, corrected, scheme, f2, defs)
        jok = jok & np.isfinite(jack).all(axis=1)
        if not jok.all():
            warnings.append(f"PLS bootstrap: {int((~jok).sum())} of {n} jackknife fits failed; "
                            "the BCa acceleration uses the others.")
        accel = jackknife_acceleration(jack[jok])
    labels = statistic_labels(model, f2)
    table = _summary(labels, est, kept, level, CONVENTIONS[conventions], n, accel, bca)
    return PLSBootstrap(table, kept, labels, B, failed, seed, level, conventions, tuple(warnings))


def _summary(labels: pd.DataFrame, est: np.ndarray, draws: np.ndarray, level: float,
             ddof: int, n: int, accel, bca: bool) -> pd.DataFrame:
    sd = draws.std(axis=0, ddof=ddof)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = est / sd
    pval = 2 * stats.t.sf(np.abs(t), df=n - 1)
    base = labels.assign(est=est, **{"boot.mean": draws.mean(axis=0)}, se=sd, t=t, pvalue=pval)
    srt = np.sort(draws, axis=0)
    tables = [base.assign(**{"ci.type": "perc"}, **dict(zip(("ci.lower", "ci.upper"),
                                                           percentile_interval(srt, level, presorted=True).T)))]
    if bca:
        ci = bias_corrected_interval(srt, est, level, accel, presorted=True)
        tables.append(base.assign(**{"ci.type": "bca"}, **dict(zip(("ci.lower", "ci.upper"), ci.T))))
    return pd.concat(tables, ignore_index=True)[list(BOOT_COLUMNS)]


def htmt_inference(boot: PLSBootstrap, ci_type: str = "perc",
                   thresholds: tuple[float, ...] = (0.85, 0.90)) -> pd.DataFrame:
    """Is HTMT significantly below a threshold? (Henseler et al., 2015, HTMT inference.)

    Returns
    -------
    DataFrame
        ``source, target, est, ci.upper`` and one column ``below_<threshold>`` per
        threshold: True when the upper limit of the bootstrap interval is below it
        (discriminant validity established at that threshold). seminr's t-value tests
        HTMT against 0, which is not the question.
    """
    h = boot.of("htmt", ci_type)[["source", "target", "est", "ci.upper"]].copy()
    for th in thresholds:
        h[f"below_{th:.2f}"] = h["ci.upper"] < th
    return h
