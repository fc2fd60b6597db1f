"""Multi-group ordinal SEM: DWLS (WLSMV) and ULS (ULSMV) across groups, as lavaan 0.6-14.

Public entry point::

    fit_ordinal_multigroup(model, data, group, group_equal=(), groups=None,
                           estimator="WLSMV") -> adoption.sem.multigroup.MultiGroupFit

It reproduces ``lavaan::cfa/sem(model, data, ordered = items, estimator = "WLSMV",
group = g, group.equal = ...)`` with the delta parameterization:

1. Sample statistics per group (:func:`adoption.sem.polychoric.ordinal_statistics`):
   thresholds, polychorics and their NACOV Gamma_g. Every group must have the same
   answer categories of each item (lavaan stops otherwise;
   :func:`adoption.sem.ordinal_groups.harmonise_categories` merges empty categories).
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
from scipy import linalg, stats

from adoption.errors import InputError
from adoption.sem.groupequal import category, parameter_name
from adoption.sem.ordinal_fit import catml_pieces, scaled_shifted
from adoption.sem.partable import build_partable
from adoption.sem import fitmeasures as fm
from adoption.sem.polychoric import ordinal_statistics
from adoption.sem.start import start_values
from adoption.vocabulary import (OP_COVARIANCE, OP_INTERCEPT, OP_LOADING, OP_REGRESSION,
                                 ORDINAL_ESTIMATORS)

__all__ = ["ORDINAL_GROUP_EQUAL", "ORDINAL_GROUP_FIT_MEASURES", "fit_ordinal_multigroup",
           "multigroup_ordinal_fit_measures"]

OP_THRESHOLD = "|"
OP_SCALE = "~*~"
#: ``group.equal`` keywords an ordinal multi-group fit takes.
ORDINAL_GROUP_EQUAL = ("thresholds", "loadings", "intercepts", "residuals", "means",
                       "lv.variances", "lv.covariances", "regressions",
                       "residual.covariances")
#: The ``fitMeasures()`` names of a multi-group WLSMV/ULSMV fit.
ORDINAL_GROUP_FIT_MEASURES = (
    "npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
    "chisq.scaling.factor", "chisq.shift.parameters", "baseline.chisq", "baseline.df",
    "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
    "baseline.chisq.scaling.factor", "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust",
    "tli.robust", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.scaled",
    "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.robust", "srmr", "wrmr")
_Z975 = stats.norm.ppf(0.975)


class _GroupModel:
    """One group's slots: (kind, row, col) of each parameter and its stacked index.

    Kinds: ``tau`` (threshold), ``L``, ``B``, ``P``, ``T`` (LISREL), ``M`` (latent
    mean), ``D`` (scaling factor). ``fixed`` holds (kind, r, c, value) of fixed slots."""

    def __init__(self, st, latent):
        self.st, self.p, self.m = st, len(st.items), len(latent)
        self.slots, self.index, self.fixed = [], [], []

    def add(self, slot, gid, value=None):
        if gid is None:
            self.fixed.append((*slot, value))
        else:
            self.slots.append(slot)
            self.index.append(gid)

    def matrices(self, x):
        p, m = self.p, self.m
        mats = {"tau": np.zeros(len(self.st.thresholds)), "L": np.zeros((p, m)),
                "B": np.zeros((m, m)), "P": np.zeros((m, m)), "T": np.zeros((p, p)),
                "M": np.zeros(m), "D": np.ones(p)}
        for kind, r, c, v in self.fixed:
            _put(mats, kind, r, c, v)
        for (kind, r, c), k in zip(self.slots, self.index):
            _put(mats, kind, r, c, x[k])
        return mats

    def implied(self, x, jacobian=True):
        """Implied (thresholds, correlations) and d/d(stacked x) (len(s) x len(x))."""
        mt = self.matrices(x)
        lam, dlt, ti = mt["L"], mt["D"], self.st.threshold_item
        a = np.linalg.inv(np.eye(self.m) - mt["B"])
        c = a @ mt["P"] @ a.T
        eta = a @ mt["M"]
        s0 = lam @ c @ lam.T + mt["T"]
        u = lam @ eta
        i, j = self.st.pair_i, self.st.pair_j
        out = np.concatenate([(mt["tau"] - u[ti]) * dlt[ti], s0[i, j] * dlt[i] * dlt[j]])
        if not jacobian:
            return out, None, mt, s0, c
        jl = np.zeros((len(out), len(self.slots)))
        nth = len(ti)
        lc, la = lam @ c, lam @ a
        for s, (kind, r, cc) in enumerate(self.slots):
            dsig, du = None, None
            if kind == "tau":
                jl[r, s] = dlt[ti[r]]
                continue
            if kind == "D":
                jl[:nth, s] = np.where(ti == r, mt["tau"] - u[ti], 0.0)
                jl[nth:, s] = s0[i, j] * np.where(i == r, dlt[j], 0.0) \
                    + s0[i, j] * np.where(j == r, dlt[i], 0.0)
                continue
            if kind == "M":
                du = la[:, r]
            elif kind == "L":
                dsig = np.zeros((self.p, self.p))
                dsig[r, :] += lc[:, cc]
                dsig[:, r] += lc[:, cc]
                du = np.zeros(self.p)
                du[r] = eta[cc]
            elif kind == "T":
                dsig = np.zeros((self.p, self.p))
                dsig[r, cc] = dsig[cc, r] = 1.0
            elif kind == "P":
                dc = np.outer(a[:, r], a[:, cc])
                dsig = lam @ (dc + dc.T if r != cc else dc) @ lam.T
            else:  # B
                dc = np.outer(a[:, r], c[cc, :])
                dsig = lam @ (dc + dc.T) @ lam.T
                du = la[:, r] * eta[cc]
            if du is not None:
                jl[:nth, s] = -du[ti] * dlt[ti]
            if dsig is not None:
                jl[nth:, s] = dsig[i, j] * dlt[i] * dlt[j]
        return out, jl, mt, s0, c


def _put(mats, kind, r, c, v):
    if kind in ("tau", "M", "D"):
        mats[kind][r] = v
    else:
        mats[kind][r, c] = v
        if kind in "PT":
            mats[kind][c, r] = v


def _slot(row, oi, li):
    """LISREL slot of a parameter-table row (None: an observed residual variance, which
    the delta parameterization computes)."""
    if row.op == OP_LOADING:
        if row.rhs not in oi:
            raise InputError(f"Model syntax: '{row.lhs} =~ {row.rhs}': ordinal estimation "
                             "here needs observed indicators (no higher-order factors).")
        return ("L", oi[row.rhs], li[row.lhs])
    if row.op == OP_REGRESSION:
        if row.lhs not in li or row.rhs not in li:
            raise InputError(f"Model syntax: '{row.lhs} ~ {row.rhs}': ordinal estimation "
                             "here supports regressions among latent variables only.")
        return ("B", li[row.lhs], li[row.rhs])
    if row.lhs in li:
        return ("P", li[row.lhs], li[row.rhs])
    if row.lhs == row.rhs:
        return None
    return ("T", oi[row.lhs], oi[row.rhs])


def _key(lhs, op, rhs):
    return (rhs, op, lhs) if op == OP_COVARIANCE and rhs < lhs else (lhs, op, rhs)


def _equal_keys(pt, stats_1, group_equal, group_partial) -> set:
    keys = set()
    if "thresholds" in group_equal:
        keys |= {tuple(nm.split("|")[:1]) + (OP_THRESHOLD, nm.split("|")[1])
                 for nm in stats_1.threshold_names}
    for r in pt.rows:
        key = _key(r.lhs, r.op, r.rhs)
        if category(key, pt.observed, pt.latent) in group_equal:
            keys.add(key)
    return keys - set(group_partial)


def _build(pt, sts, group_equal, group_partial):
    """Per-group slot maps and the stacked parameter names (lavaan's naming rule)."""
    oi = {v: k for k, v in enumerate(pt.observed)}
    li = {v: k for k, v in enumerate(pt.latent)}
    equal = _equal_keys(pt, sts[0], group_equal, group_partial)
    names, gids = [], {}
    free_lv = ("thresholds" in group_equal or "intercepts" in group_equal) \
        and "means" not in group_equal
    free_scale = "thresholds" in group_equal

    def gid(tag, row_key, g):
        if tag not in gids:
            gids[tag] = len(names)
            names.append((row_key, g))
        return gids[tag]

    models = []
    for g, st in enumerate(sts):
        gm = _GroupModel(st, pt.latent)
        for t, nm in enumerate(st.threshold_names):
            item, th = nm.split("|")
            key = (item, OP_THRESHOLD, th)
            gm.add(("tau", t, 0), gid(parameter_name(key, "", g, equal), key, g))
        for r in pt.rows:
            slot = _slot(r, oi, li)
            if slot is None:
                continue
            key = _key(r.lhs, r.op, r.rhs)
            if not r.free:
                gm.add(slot, None, 0.0 if r.value is None else r.value)
                continue
            label = pt.parameter_label(r) if r.label else ""
            gm.add(slot, gid(parameter_name(key, label, g, equal), key, g))
        for f, k in li.items():
            key = (f, OP_INTERCEPT, "")
            gm.add(("M", k, 0), gid(("mean", f, g), key, g) if g and free_lv else None, 0.0)
        for v, k in oi.items():
            key = (v, OP_SCALE, v)
            gm.add(("D", k, 0), gid(("scale", v, g), key, g) if g and free_scale else None, 1.0)
        models.append(gm)
    constrained = sorted({key for tag, (key, _) in zip(gids, names) if tag == ("key", key)
                          and sum(1 for gm in models for k in gm.index if k == gids[tag]) > 1})
    return models, names, constrained


def _start(models, names, pt, sts):
    x = np.zeros(len(names))
    seen = np.zeros(len(names), bool)
    for gm, st in zip(models, sts):
        sv = start_values(pt, st.correlation.loc[pt.observed, pt.observed].to_numpy())
        by_slot = {}
        oi = {v: k for k, v in enumerate(pt.observed)}
        li = {v: k for k, v in enumerate(pt.latent)}
        for r, v in zip(pt.rows, sv):
            slot = _slot(r, oi, li)
            if slot is not None:
                by_slot[slot] = v
        for slot, k in zip(gm.slots, gm.index):
            if seen[k]:
                continue
            seen[k] = True
            x[k] = {"tau": lambda: st.thresholds[slot[1]], "M": lambda: 0.0,
                    "D": lambda: 1.0}.get(slot[0], lambda: by_slot.get(slot, 0.0))()
    return x


def _stack(models, x, jacobian=True):
    outs, jacs = [], []
    for gm in models:
        out, jl, *_ = gm.implied(x, jacobian)
        outs.append(out)
        if jacobian:
            jg = np.zeros((len(out), len(x)))
            np.add.at(jg, (slice(None), np.asarray(gm.index, int)), jl)
            jacs.append(jg)
    return np.concatenate(outs), (np.vstack(jacs) if jacobian else None)


def _gauss_newton(models, s, w, x, tol=1e-10, max_iter=300):
    """Minimise sum w (s - sigma(x))^2 by damped Gauss-Newton (as the single-group fit)."""
    sig, jac = _stack(models, x)
    f = float(((s - sig) ** 2 * w).sum())
    for _ in range(max_iter):
        jw = jac.T * w
        step = np.linalg.solve(jw @ jac, jw @ (s - sig))
        t = 1.0
        while True:
            xn = x + t * step
            try:
                sn, _ = _stack(models, xn, jacobian=False)
                fn = float(((s - sn) ** 2 * w).sum())
            except np.linalg.LinAlgError:
                fn = np.inf
            fn = fn if np.isfinite(fn) else np.inf
            if fn <= f or t < 1e-4:
                break
            t *= 0.5
        x = xn
        sig, jac = _stack(models, x)
        done = np.max(np.abs(t * step)) < tol or abs(f - fn) < 1e-16
        f = fn
        if done:
            return x, f, True
    return x, f, False



@dataclass(frozen=True)
class TestPieces:
    """What :func:`adoption.sem.wlsmv_lrt.satorra_2000` needs of a fit (groups stacked).

    Attributes
    ----------
    jac : Delta, d sigma / d x' (statistics of all groups x free parameters).
    w : diagonal of the weights, (N_g / N) W_g stacked.
    gamma : blockdiag(Gamma_g N / N_g).
    bread : (Delta' W Delta)^-1.
    chisq, df : the unscaled test statistic and its degrees of freedom.
    """

    jac: np.ndarray
    w: np.ndarray
    gamma: np.ndarray
    bread: np.ndarray
    chisq: float
    df: float


@dataclass(frozen=True)
class OrdinalMultiGroupFit:
    """Result of :func:`fit_ordinal_multigroup`, shaped as
    :class:`adoption.sem.multigroup.MultiGroupFit`.

    Attributes
    ----------
    estimates : pd.DataFrame
        ``lhs, op, rhs, group, label, est, se, z, pvalue, ci.lower, ci.upper, std.all`` of
        every group (lavaan's ``parameterEstimates(fit, standardized = TRUE)`` rows: user
        rows, thresholds ``|``, (residual) variances and covariances, scaling factors
        ``~*~``, intercepts ``~1``).
    fit : dict
        :data:`ORDINAL_GROUP_FIT_MEASURES` (lavaan names).
    groups, nobs : the group values in fitting order, rows used per group.
    group_fit : group -> {"srmr": the group's SRMR}.
    r2 : group -> {latent response or endogenous factor: R-squared}.
    constrained : parameters held equal across groups ("lhs op rhs").
    converged : bool
    warnings : tuple of str
    estimator : "WLSMV" or "ULSMV".
    pieces : :class:`TestPieces` (None when the fit failed).
    """

    estimates: pd.DataFrame
    fit: dict
    groups: tuple
    nobs: tuple
    group_fit: dict
    r2: dict
    constrained: tuple
    converged: bool
    warnings: tuple
    estimator: str = "WLSMV"
    timings: dict = field(default_factory=dict, compare=False)
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
        :func:`adoption.sem.ordinal_groups.harmonise_categories`).

    Notes
    -----
    Agrees with ``lavaan::cfa(model, data, ordered = items, estimator = "WLSMV",
    group = g, group.equal = c("thresholds", "loadings"))`` (lavaan 0.6-14) to about 1e-6
    relative (tests/test_wlsmv_groups.py).
    """
    t0 = time.perf_counter()
    estimator = str(estimator).upper()
    if estimator not in ORDINAL_ESTIMATORS:
        raise InputError(f"Unknown ordinal estimator {estimator!r}; use one of "
                         f"{', '.join(ORDINAL_ESTIMATORS)}.")
    bad = [e for e in group_equal if e not in ORDINAL_GROUP_EQUAL]
    if bad:
        raise InputError(f"group.equal {', '.join(bad)} is not supported for ordered items; "
                         f"use {', '.join(ORDINAL_GROUP_EQUAL)}.")
    pt = build_partable(model, data.columns)
    if pt.constraints or pt.intercepts or pt.exogenous_x or pt.defined:
        raise InputError("Multi-group ordinal models here take no '==' constraints, '~ 1' "
                         "lines, ':=' definitions or observed predictors.")
    sts, values, warn = _group_statistics(data, pt.observed, group, groups, missing)
    models, names, constrained = _build(pt, sts, tuple(group_equal), tuple(group_partial))
    nobs = np.array([st.nobs for st in sts], float)
    n = nobs.sum() - len(sts)  # lavaan's N - G under the WLS-family estimators
    s = np.concatenate([st.vector for st in sts])
    wg = [1.0 / np.diag(st.nacov) if estimator == "WLSMV" else np.ones(len(st.vector))
          for st in sts]
    # lavaan weighs the groups' discrepancies by (N_g - 1) / (N - G) in the estimates and
    # the test statistic, and by N_g / N in the information and the robust covariance
    w_fit = np.concatenate([(m - 1) / n * v for m, v in zip(nobs, wg)])
    fg = nobs / nobs.sum()
    w = np.concatenate([f * v for f, v in zip(fg, wg)])
    gamma = linalg.block_diag(*[st.nacov / f for st, f in zip(sts, fg)])
    t1 = time.perf_counter()
    x, _, ok = _gauss_newton(models, s, w_fit, _start(models, names, pt, sts))
    sig, jac = _stack(models, x)
    try:
        bread = np.linalg.inv((jac.T * w) @ jac)
    except np.linalg.LinAlgError:
        raise InputError("The information matrix of the multi-group model is singular: it "
                         "is not identified (check the equality constraints).") from None
    if not ok:
        warn.append("The DWLS iterations did not converge.")
    wj = jac * w[:, None]
    vc = bread @ (wj.T @ gamma @ wj) @ bread / n
    fit, srmr_g = multigroup_ordinal_fit_measures(s, sig, sts, jac, w_fit, w, gamma, bread,
                                                  estimator)
    fit.update(_robust(models, sts, x, jac, wg, fit["df"], constrained or
                       any(k[1] in (OP_SCALE, OP_INTERCEPT) for k, _ in names)))
    est, r2 = _estimates(models, pt, values, x, vc)
    t2 = time.perf_counter()
    return OrdinalMultiGroupFit(
        estimates=est, fit=fit, groups=tuple(values), nobs=tuple(int(v) for v in nobs),
        group_fit={v: {"srmr": r} for v, r in zip(values, srmr_g)}, r2=r2,
        constrained=tuple(f"{k[0]} {k[1]} {k[2]}".strip() for k in constrained),
        converged=ok, warnings=tuple(warn), estimator=estimator,
        timings={"sample_statistics": t1 - t0, "fit": t2 - t1},
        pieces=TestPieces(jac, w, gamma, bread, fit["chisq"], fit["df"]))


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


def multigroup_ordinal_fit_measures(s, sigma, sts, jac, w_fit, w, gamma, bread, estimator):
    """lavaan ``fitMeasures()`` of a multi-group WLSMV/ULSMV fit.

    Parameters
    ----------
    s, sigma : stacked sample and implied statistics (each group: thresholds, then
        polychorics).
    sts : the groups' :class:`~adoption.sem.polychoric.OrdinalStatistics`.
    jac, w, gamma, bread : see :class:`TestPieces`.
    w_fit : the weights of the fitted discrepancy, (N_g - 1) / (N - G) W_g stacked.
    estimator : "WLSMV" or "ULSMV".

    Returns
    -------
    (dict, list)
        The measures of :data:`ORDINAL_GROUP_FIT_MEASURES`, and each group's SRMR.

    Notes
    -----
    chisq = sum_g (N_g - 1) (s_g - sigma_g)' W_g (s_g - sigma_g); the
    scaled-shifted statistic of :func:`adoption.sem.ordinal_fit.scaled_shifted` with
    U Gamma of the stacked problem; baseline: thresholds free, polychorics 0 in every
    group; RMSEA sqrt(G) sqrt(max(chisq / (N df) - 1 / N, 0)) (lavaan's multi-group
    RMSEA); SRMR sum_g N_g SRMR_g / N with SRMR_g over the correlation residuals and
    p(p+1)/2 elements; WRMR sqrt(chisq / k) with k the number of sample statistics of
    the first group (what lavaan 0.6-14 divides by). lavaan gives no robust (catML)
    CFI/TLI/RMSEA when parameters are held equal across groups; they are left out here.
    """
    nobs = np.array([st.nobs for st in sts], float)
    n, ng = (nobs - 1).sum(), len(sts)  # lavaan's N - G in the statistic and RMSEA
    npar = jac.shape[1]
    df = len(s) - npar
    resid = s - sigma
    chisq = n * float((resid ** 2 * w_fit).sum())
    wj = jac * w[:, None]
    ugamma = w[:, None] * gamma - wj @ (bread @ (wj.T @ gamma))
    chisq_s, c, shift = scaled_shifted(chisq, df, ugamma)
    cor = np.concatenate([np.r_[np.zeros(len(st.thresholds), bool),
                                np.ones(len(st.pair_i), bool)] for st in sts])
    chisq_b = n * float((s[cor] ** 2 * w_fit[cor]).sum())
    df_b = int(cor.sum())
    chisq_bs, c_b, _ = scaled_shifted(chisq_b, df_b,
                                      w[cor][:, None] * gamma[np.ix_(cor, cor)])
    srmr_g, start = [], 0
    for st in sts:
        k, p = len(st.vector), len(st.items)
        r = resid[start + len(st.thresholds):start + k]
        srmr_g.append(float(np.sqrt((r ** 2).sum() / (p * (p + 1) / 2))))
        start += k
    out = {
        "npar": float(npar), "chisq": chisq, "df": float(df),
        "pvalue": fm.pvalue_chisq(chisq, df) if estimator == "WLSMV" else float("nan"),
        "chisq.scaled": chisq_s, "df.scaled": float(df),
        "pvalue.scaled": fm.pvalue_chisq(chisq_s, df),
        "chisq.scaling.factor": c, "chisq.shift.parameters": shift,
        "baseline.chisq": chisq_b, "baseline.df": float(df_b),
        "baseline.chisq.scaled": chisq_bs, "baseline.df.scaled": float(df_b),
        "baseline.pvalue.scaled": fm.pvalue_chisq(chisq_bs, df_b),
        "baseline.chisq.scaling.factor": c_b,
        "cfi": fm.cfi(chisq, df, chisq_b, df_b), "tli": fm.tli(chisq, df, chisq_b, df_b),
        "cfi.scaled": fm.cfi(chisq_s, df, chisq_bs, df_b),
        "tli.scaled": fm.tli(chisq_s, df, chisq_bs, df_b),
        "rmsea": fm.rmsea(chisq, df, n, n_groups=ng),
        "rmsea.scaled": fm.rmsea(chisq_s, df, n, n_groups=ng),
        "srmr": fm.weighted_by_n(srmr_g, nobs),
        "wrmr": float(np.sqrt(chisq / len(sts[0].vector))),
    }
    out["rmsea.ci.lower"], out["rmsea.ci.upper"] = fm.rmsea_ci(chisq, df, n, n_groups=ng)
    out["rmsea.ci.lower.scaled"], out["rmsea.ci.upper.scaled"] = fm.rmsea_ci(
        chisq_s, df, n, n_groups=ng)
    return {k: out.get(k, float("nan")) for k in ORDINAL_GROUP_FIT_MEASURES}, srmr_g


def _robust(models, sts, x, jac, wg, df, constrained) -> dict:
    """Robust CFI/TLI/RMSEA by lavaan's catML route (Savalei, 2021), summed over groups;
    NaN, as lavaan 0.6-14, when parameters are shared across groups or the scaling
    factors and latent means are free (lavaan's catML refit fails there), or a
    polychoric matrix is not positive definite."""
    nan = {"cfi.robust": float("nan"), "tli.robust": float("nan"),
           "rmsea.robust": float("nan")}
    if constrained or df <= 0:
        return nan
    nobs = np.array([st.nobs for st in sts], float)
    fg = nobs / nobs.sum()
    x3 = ks = x3_0 = kbs = 0.0
    start = 0
    for gm, st, w, f in zip(models, sts, wg, fg):
        r = st.correlation.to_numpy()
        if np.linalg.eigvalsh(r).min() < np.sqrt(np.finfo(float).eps):
            return nan
        nth, k = len(st.thresholds), len(st.vector)
        cols = np.asarray(gm.index, int)
        j = jac[start:start + k][:, cols]
        bread = np.linalg.inv((j.T * w) @ j)
        _, _, mt, s0, _ = gm.implied(x, jacobian=False)
        implied = s0 * np.outer(mt["D"], mt["D"])
        np.fill_diagonal(implied, 1.0)
        a, b, c, d = catml_pieces(r, implied, st.pair_i, st.pair_j, j[nth:], w[nth:], bread,
                                  st.nacov[nth:, nth:], st.nobs)
        x3, ks, x3_0, kbs = x3 + a, ks + b, x3_0 + c, kbs + d / f
        start += k
    df0 = float(sum(len(st.pair_i) for st in sts))
    n = nobs.sum() - len(sts)
    return {"cfi.robust": fm.cfi_robust(x3, df, ks / df, x3_0, df0, kbs / df0),
            "tli.robust": fm.tli_robust(x3, df, ks / df, x3_0, df0, kbs / df0),
            "rmsea.robust": fm.rmsea(x3, df, n, ks / df, n_groups=len(sts))}


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
            slot = _slot(row, oi, li)
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
