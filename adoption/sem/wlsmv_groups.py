"""Multi-group ordinal SEM: DWLS (WLSMV) and ULS (ULSMV) across groups, as lavaan 0.6-14.

Public entry point::

    fit_ordinal_multigroup(model, data, group, group_equal=(), groups=None,
                           estimator="WLSMV") -> adoption.sem.multigroup.MultiGroupFit

It reproduces ``lavaan::cfa/sem(model, data, ordered = items, estimator = "WLSMV",
group = g, group.equal = ...)`` with the delta parameterization:

1. Sample statistics per group (:func:`adoption.sem.polychoric.ordinal_statistics`):
   thresholds, polychorics and their NACOV Gamma_g. Every group must have the same
   answer categories of each item (lavaan stops otherwise;
   :func:`adoption.ordinal_groups.harmonise_categories` merges empty categories).
2. The model of group g (LISREL matrices Lambda, B, Psi, Theta; latent means alpha;
   scaling factors Delta = 1 / sd of the latent responses; intercepts fixed at 0):
   implied thresholds (tau_jk - [Lambda (I - B)^-1 alpha]_j) Delta_j and correlations
   Delta_i Delta_j [Lambda C Lambda' + Theta]_ij, C = (I - B)^-1 Psi (I - B)^-T.
3. lavaan 0.6-14's ``group.equal`` rules for ordered items (``lav_partable_flat``):
   ``"thresholds"`` holds the thresholds equal and frees, in groups 2..G, the latent
   means and the scaling factors; ``"intercepts"`` adds no constraint (the intercepts of
   ordinal items are fixed at 0) and neither does ``"residuals"`` (under delta the
   residual variances are not parameters): lavaan gives the same fit with them.
4. F = sum_g (N_g / N) (s_g - sigma_g)' W_g (s_g - sigma_g), minimised by Gauss-Newton
   over one stacked parameter vector; the whole fit is one DWLS problem with weights
   (N_g / N) W_g and Gamma = blockdiag(Gamma_g N / N_g), so the single-group formulas
   (robust covariance, scaled-shifted test) apply unchanged with N the total size.

Fit measures and lavaan's quirks are in :func:`multigroup_ordinal_fit_measures`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from adoption.errors import InputError
from adoption.parallel import blas_one_thread
from adoption.sem.groupequal import GROUP_EQUAL, check_group_equal
from adoption.sem.multigroup import MultiGroupResult
from adoption.sem.ordinal_group_fit import (ORDINAL_GROUP_FIT_MEASURES, multigroup_catml_robust,
                                            multigroup_ordinal_fit_measures, sandwich)
from adoption.sem.ordinal_group_model import (build_group_models, gauss_newton,
                                              partable_slot, stack_implied, start_vector)
from adoption.sem.partable import build_partable
from adoption.sem.polychoric import ordinal_statistics
from adoption.sem.wlsmv import OP_SCALE, OP_THRESHOLD
from adoption.vocabulary import (OP_COVARIANCE, OP_INTERCEPT, OP_LOADING, OP_REGRESSION,
                                 ORDINAL_ESTIMATORS)

__all__ = ["ORDINAL_GROUP_EQUAL", "ORDINAL_GROUP_FIT_MEASURES", "TestPieces",
           "OrdinalMultiGroupFit", "fit_ordinal_multigroup"]

#: ``group.equal`` keywords an ordinal multi-group fit takes.
ORDINAL_GROUP_EQUAL = ("thresholds",) + GROUP_EQUAL
_Z975 = stats.norm.ppf(0.975)


@dataclass(frozen=True)
class TestPieces:
    """What :func:`adoption.sem.wlsmv_lrt.satorra_2000` needs of a fit (groups stacked).

    Attributes
    ----------
    jac : Delta, d sigma / d x' (statistics of all groups x free parameters).
    bread : (Delta' W Delta)^-1, W the weights (N_g / N) W_g.
    meat : Delta' W Gamma W Delta, Gamma = blockdiag(Gamma_g N / N_g).
    chisq, df : the unscaled test statistic and its degrees of freedom.
    """

    jac: np.ndarray
    bread: np.ndarray
    meat: np.ndarray
    chisq: float
    df: float


@dataclass(frozen=True)
class OrdinalMultiGroupFit(MultiGroupResult):
    """Result of :func:`fit_ordinal_multigroup`: the attributes of
    :class:`adoption.sem.multigroup.MultiGroupResult`, and ``pieces``.

    ``estimates`` also has a ``label`` column and lavaan's ordinal rows (thresholds ``|``,
    scaling factors ``~*~``); ``fit`` holds :data:`ORDINAL_GROUP_FIT_MEASURES`;
    ``group_fit`` only each group's SRMR; ``r2`` is of the latent responses and
    endogenous factors; ``estimator`` is "WLSMV" or "ULSMV".

    Attributes
    ----------
    pieces : :class:`TestPieces`
        What the scaled difference test needs (None when the fit failed).
    """

    estimator: str = "WLSMV"
    pieces: TestPieces | None = field(default=None, compare=False, repr=False)


def fit_ordinal_multigroup(model: str, data: pd.DataFrame, group: str, *, group_equal=(),
                           group_partial=(), groups=None, estimator: str = "WLSMV",
                           missing: str = "listwise") -> OrdinalMultiGroupFit:
    """Fit a model of ordered items in several groups by WLSMV/ULSMV, as lavaan 0.6-14.

    Parameters
    ----------
    model : str
        lavaan syntax (latent variables with ordinal indicators; regressions among
        latent variables; labels as in multi-group lavaan).
    data : pd.DataFrame
        The items (ordered codes) and the grouping column.
    group : str
        Grouping column; rows without a value are left out.
    group_equal, group_partial : lavaan's ``group.equal`` (:data:`ORDINAL_GROUP_EQUAL`)
        and ``group.partial`` ((lhs, op, rhs) keys, e.g. ("x1", "|", "t2")).
    groups : list, optional
        Group values in fitting order (the first is the reference group: latent means 0,
        scaling factors 1); default sorted. lavaan orders them as they first appear.
    estimator : {"WLSMV", "ULSMV"}
    missing : {"listwise", "pairwise"}

    Returns
    -------
    OrdinalMultiGroupFit

    Raises
    ------
    InputError
        Unknown estimator or keyword, unsupported syntax, a group with too few rows, an
        item whose categories differ between groups (merge them first:
        :func:`adoption.ordinal_groups.harmonise_categories`).

    Notes
    -----
    Agrees with ``lavaan::cfa(model, data, ordered = items, estimator = "WLSMV",
    group = g, group.equal = c("thresholds", "loadings"))`` (lavaan 0.6-14) to about 1e-6
    relative (tests/test_wlsmv_groups.py).
    """
    with blas_one_thread():
        return _fit(model, data, group, tuple(group_equal), tuple(group_partial), groups,
                    str(estimator).upper(), missing)


def _fit(model, data, group, group_equal, group_partial, groups, estimator, missing):
    t0 = time.perf_counter()
    if estimator not in ORDINAL_ESTIMATORS:
        raise InputError(f"Unknown ordinal estimator {estimator!r}; use one of "
                         f"{', '.join(ORDINAL_ESTIMATORS)}.")
    group_equal = check_group_equal(group_equal, ORDINAL_GROUP_EQUAL)
    pt = build_partable(model, data.columns)
    if pt.constraints or pt.intercepts or pt.exogenous_x or pt.defined:
        raise InputError("Multi-group ordinal models here take no '==' constraints, '~ 1' "
                         "lines, ':=' definitions or observed predictors.")
    sts, values, warn = _group_statistics(data, pt.observed, group, groups, missing)
    models, names, constrained = build_group_models(pt, sts, tuple(group_equal), tuple(group_partial))
    nobs = np.array([st.nobs for st in sts], float)
    n = nobs.sum() - len(sts)  # lavaan's N - G under the WLS-family estimators
    s = np.concatenate([st.vector for st in sts])
    wg, w_fit, w, blocks = _weights(sts, estimator)
    t1 = time.perf_counter()
    x, _, ok = gauss_newton(models, s, w_fit, start_vector(models, names, pt, sts))
    sig, jac = stack_implied(models, x)
    try:
        bread = np.linalg.inv((jac.T * w) @ jac)
    except np.linalg.LinAlgError:
        raise InputError("The information matrix of the multi-group model is singular: it "
                         "is not identified (check the equality constraints).") from None
    if not ok:
        warn.append("The DWLS iterations did not converge.")
    pieces = sandwich(jac, blocks)
    vc = bread @ pieces.meat @ bread / n
    fit, srmr_g = multigroup_ordinal_fit_measures(s, sig, sts, w_fit, w, bread, pieces,
                                                  estimator)
    if not constrained and not any(k[1] in (OP_SCALE, OP_INTERCEPT) for k, _ in names):
        fit.update(multigroup_catml_robust(sts, _group_blocks(models, sts, x, jac), wg,
                                           fit["df"]))
    est, r2 = _estimates(models, pt, values, x, vc)
    t2 = time.perf_counter()
    return OrdinalMultiGroupFit(
        estimates=est, fit=fit, groups=tuple(values), nobs=tuple(int(v) for v in nobs),
        group_fit={v: {"srmr": r} for v, r in zip(values, srmr_g)}, r2=r2,
        constrained=tuple(f"{k[0]} {k[1]} {k[2]}".strip() for k in constrained),
        converged=ok, warnings=tuple(warn), estimator=estimator,
        timings={"sample_statistics": t1 - t0, "fit": t2 - t1},
        pieces=TestPieces(jac, bread, pieces.meat, fit["chisq"], fit["df"]))


def _weights(sts, estimator):
    """Per-group weights W_g (1/diag(Gamma_g) or 1), and stacked: the fitted
    discrepancy's (N_g - 1) / (N - G) W_g, the information's (N_g / N) W_g; and per
    group (row slice, (N_g / N) W_g, Gamma_g N / N_g). lavaan weighs the groups by N_g - 1 in the estimates and
    the test statistic and by N_g in the information and the robust covariance."""
    nobs = np.array([st.nobs for st in sts], float)
    wg = [1.0 / np.diag(st.nacov) if estimator == "WLSMV" else np.ones(len(st.vector))
          for st in sts]
    w_fit = np.concatenate([(m - 1) / (nobs.sum() - len(sts)) * v for m, v in zip(nobs, wg)])
    fg = nobs / nobs.sum()
    w = np.concatenate([f * v for f, v in zip(fg, wg)])
    edges = np.cumsum([0] + [len(st.vector) for st in sts])
    blocks = [(slice(a, b), f * v, st.nacov / f)
              for a, b, f, v, st in zip(edges[:-1], edges[1:], fg, wg, sts)]
    return wg, w_fit, w, blocks


def _group_blocks(models, sts, x, jac):
    """Each group's (Delta rows x its own parameters, implied correlation matrix)."""
    out, start = [], 0
    for gm, st in zip(models, sts):
        k = len(st.vector)
        _, _, mt, s0, _ = gm.implied(x, jacobian=False)
        implied = s0 * np.outer(mt["D"], mt["D"])
        np.fill_diagonal(implied, 1.0)
        out.append((jac[start:start + k][:, np.asarray(gm.index, int)], implied))
        start += k
    return out


def _group_statistics(data, items, group, groups, missing):
    if group not in data.columns:
        raise InputError(f"Grouping column '{group}' is not in the data.")
    sub = data.loc[data[group].notna(), list(items) + [group]]
    keep = sub[items].notna().all(axis=1) if missing == "listwise" \
        else sub[items].notna().any(axis=1)
    warn = [] if keep.all() else [f"{int((~keep).sum())} rows with missing values deleted "
                                  f"({missing})."]
    sub = sub[keep]
    values = sorted(sub[group].unique()) if groups is None else list(groups)
    sts = []
    for v in values:
        rows = sub.loc[sub[group] == v, items]
        if len(rows) <= len(items):
            raise InputError(f"Group {group} = {v!r} has {len(rows)} usable rows for "
                             f"{len(items)} items: too few to fit; leave it out.")
        try:
            sts.append(ordinal_statistics(rows, missing=missing))
        except InputError as exc:
            raise InputError(f"Group {group} = {v!r}: {exc}") from None
    ref = sts[0].threshold_names
    for v, st in zip(values[1:], sts[1:]):
        if st.threshold_names != ref:
            odd = sorted({t.split("|")[0] for t in set(ref) ^ set(st.threshold_names)})
            raise InputError(f"Items {', '.join(odd)} have other answer categories in group "
                             f"{group} = {v!r} than in {values[0]!r}; lavaan refuses this "
                             "(merge the empty categories in every group first).")
    return sts, values, warn


def _estimates(models, pt, values, x, vc):
    """lavaan's parameter rows of every group, with SEs from ``vc`` and std.all on the
    latent-response scale (Var(y*_j) = 1 / Delta_j^2); and the R-squared."""
    se_all = np.sqrt(np.clip(np.diag(vc), 0, None))
    oi = {v: k for k, v in enumerate(pt.observed)}
    li = {v: k for k, v in enumerate(pt.latent)}
    rows, r2 = [], {}
    for gm, val in zip(models, values):
        _, _, mt, s0, c = gm.implied(x, jacobian=False)
        dlt = mt["D"]
        theta = 1.0 / dlt ** 2 - np.diag(s0)
        free = dict(zip(gm.slots, gm.index))
        tot = {**{v: 1.0 / dlt[k] ** 2 for v, k in oi.items()},
               **{v: c[k, k] for v, k in li.items()}}

        def value(kind, r, cc=0):
            if kind is None:
                return theta[r], -1
            k = free.get((kind, r, cc), -1)
            return (x[k] if k >= 0 else _get(mt, kind, r, cc)), k

        own, user, auto = {}, [], []
        for row in pt.rows:
            slot = partable_slot(row, oi, li)
            e, k = value(None, oi[row.lhs]) if slot is None else value(*slot)
            (user if row.user else auto).append((row.lhs, row.op, row.rhs, row.label, e, k))
            if row.op == OP_COVARIANCE:
                own[(row.lhs, row.rhs)] = e
        th = [(nm.split("|")[0], OP_THRESHOLD, nm.split("|")[1], "", *value("tau", t))
              for t, nm in enumerate(gm.st.threshold_names)]
        scale = [(v, OP_SCALE, v, "", *value("D", k)) for v, k in oi.items()]
        means = [(v, OP_INTERCEPT, "", "", 0.0, -1) for v in oi] + \
                [(f, OP_INTERCEPT, "", "", *value("M", k)) for f, k in li.items()]
        for lhs, op, rhs, label, e, k in user + th + auto + scale + means:
            rows.append({"lhs": lhs, "op": op, "rhs": rhs, "group": val, "label": label,
                         "est": float(e), "se": float(se_all[k]) if k >= 0 else 0.0,
                         "free": k, "std.all": _std_all(op, lhs, rhs, e, tot, own)})
        endo = {r.lhs for r in pt.rows if r.op == OP_REGRESSION}
        r2[val] = {v: 1.0 - theta[k] / tot[v] for v, k in oi.items()}
        r2[val].update({v: 1.0 - own[(v, v)] / tot[v] for v in pt.latent
                        if v in endo and (v, v) in own})
    est = pd.DataFrame(rows)
    free = est.pop("free").to_numpy() >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        est.insert(7, "z", np.where(free, est["est"] / est["se"], np.nan))
    est.insert(8, "pvalue", 2 * stats.norm.sf(np.abs(est["z"])))
    est.insert(9, "ci.lower", est["est"] - _Z975 * est["se"])
    est.insert(10, "ci.upper", est["est"] + _Z975 * est["se"])
    return est, r2


def _get(mats, kind, r, c):
    return mats[kind][r] if kind in ("tau", "M", "D") else mats[kind][r, c]


def _std_all(op, lhs, rhs, e, tot, own) -> float:
    """std.all as lavaan's ``standardizedSolution``: by the total (co)variances of the
    latent responses and latent variables; covariances by the residual variances."""
    if op == OP_LOADING:
        return e * np.sqrt(tot[lhs] / tot[rhs])
    if op == OP_REGRESSION:
        return e * np.sqrt(tot[rhs] / tot[lhs])
    if op in (OP_THRESHOLD, OP_INTERCEPT):
        return e / np.sqrt(tot[lhs])
    if op == OP_SCALE:
        return e * np.sqrt(tot[lhs])
    if lhs == rhs:
        return e / tot[lhs]
    va, vb = own.get((lhs, lhs)), own.get((rhs, rhs))
    return e / np.sqrt(va * vb) if va and vb and va * vb > 0 else float("nan")
