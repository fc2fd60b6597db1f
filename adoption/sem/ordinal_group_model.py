"""The model of one group in a multi-group ordinal fit: LISREL slots, the implied thresholds
and polychorics with their Jacobian, lavaan 0.6-14's group.equal naming, and the fit
(Gauss-Newton over the stacked parameters).

Used by :mod:`adoption.sem.wlsmv_groups` (see there for the model and the rules).
"""

from __future__ import annotations

import numpy as np

from adoption.errors import InputError
from adoption.sem.groupequal import category, parameter_name
from adoption.sem.start import start_values
from adoption.sem.wlsmv import OP_SCALE, OP_THRESHOLD, damped_gauss_newton
from adoption.vocabulary import OP_COVARIANCE, OP_INTERCEPT, OP_LOADING, OP_REGRESSION

__all__ = ["GroupModel", "partable_slot", "build_group_models", "start_vector",
           "stack_implied", "normal_equations", "gauss_newton"]


class GroupModel:
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


def partable_slot(row, oi, li):
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


def build_group_models(pt, sts, group_equal, group_partial):
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
        gm = GroupModel(st, pt.latent)
        for t, nm in enumerate(st.threshold_names):
            item, th = nm.split("|")
            key = (item, OP_THRESHOLD, th)
            gm.add(("tau", t, 0), gid(parameter_name(key, "", g, equal), key, g))
        for r in pt.rows:
            slot = partable_slot(r, oi, li)
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


def start_vector(models, names, pt, sts):
    x = np.zeros(len(names))
    seen = np.zeros(len(names), bool)
    for gm, st in zip(models, sts):
        sv = start_values(pt, st.correlation.loc[pt.observed, pt.observed].to_numpy())
        by_slot = {}
        oi = {v: k for k, v in enumerate(pt.observed)}
        li = {v: k for k, v in enumerate(pt.latent)}
        for r, v in zip(pt.rows, sv):
            slot = partable_slot(r, oi, li)
            if slot is not None:
                by_slot[slot] = v
        for slot, k in zip(gm.slots, gm.index):
            if seen[k]:
                continue
            seen[k] = True
            x[k] = {"tau": lambda: st.thresholds[slot[1]], "M": lambda: 0.0,
                    "D": lambda: 1.0}.get(slot[0], lambda: by_slot.get(slot, 0.0))()
    return x


def stack_implied(models, x, jacobian=True):
    """The implied statistics of all groups, stacked, and d/dx' (slots sharing a
    parameter within a group add up)."""
    outs, jacs = [], []
    for gm in models:
        out, jl, *_ = gm.implied(x, jacobian)
        outs.append(out)
        if jacobian:
            jg = np.zeros((len(out), len(x)))
            idx = np.asarray(gm.index, int)
            if len(np.unique(idx)) == len(idx):
                jg[:, idx] = jl
            else:
                np.add.at(jg, (slice(None), idx), jl)
            jacs.append(jg)
    return np.concatenate(outs), (np.vstack(jacs) if jacobian else None)


def normal_equations(models, s, w, x):
    """Delta' W Delta and Delta' W (s - sigma) of the stacked fit, built group by group on
    each group's own parameters (a group's Jacobian is zero elsewhere); and sigma."""
    k = len(x)
    info, grad, outs, start = np.zeros((k, k)), np.zeros(k), [], 0
    for gm in models:
        out, jl, *_ = gm.implied(x)
        n = len(out)
        idx = np.asarray(gm.index, int)
        jw = jl.T * w[start:start + n]
        np.add.at(info, (idx[:, None], idx[None, :]), jw @ jl)
        np.add.at(grad, idx, jw @ (s[start:start + n] - out))
        outs.append(out)
        start += n
    return info, grad, np.concatenate(outs)


def gauss_newton(models, s, w, x, tol=1e-10, max_iter=300):
    """Minimise sum w (s - sigma(x))^2 by damped Gauss-Newton
    (:func:`adoption.sem.wlsmv.damped_gauss_newton`, as the single-group fit)."""
    def normal(x):
        info, grad, sig = normal_equations(models, s, w, x)
        return info, grad, float(((s - sig) ** 2 * w).sum())

    def objective(x):
        sn, _ = stack_implied(models, x, jacobian=False)
        return float(((s - sn) ** 2 * w).sum())

    return damped_gauss_newton(normal, objective, x, tol, max_iter)
