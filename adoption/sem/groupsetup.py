"""Multi-group setup (lavaan's ``lav_data`` / ``lav_partable`` stages for ``group =``):
the groups' samples and parameter tables (:func:`prepare_groups`), the keys held equal
by ``group.equal``/``group.partial`` (:func:`equal_keys`) and the stacked parameter
vector in which a constrained parameter is one coordinate shared by the groups
(:func:`build_registry`). Used by :mod:`adoption.sem.multigroup`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.sem import fiml
from adoption.sem.groupequal import (PLAIN_LABEL_WARNING, category, check_group_equal,
                                     parameter_name)
from adoption.sem.matrices import SemModel, semopy_description
from adoption.sem.partable import ParTable, build_partable
from adoption.sem.syntax import parse_model
from adoption.vocabulary import OP_COVARIANCE, OP_INTERCEPT, OP_LOADING, OP_REGRESSION

__all__ = ["Group", "Setup", "Registry", "param_key", "key_name", "parse_parameter",
           "prepare_groups", "build_registry", "equal_keys"]


@dataclass
class Group:
    value: object
    n: int
    s: np.ndarray
    m: np.ndarray
    pt: ParTable
    names: list
    model: object
    x_idx: list
    x: np.ndarray | None = None
    pat: object = None      # FIML: missing-data patterns (None: complete data)
    ll_h1: float = 0.0      # FIML: log-likelihood of the EM (saturated) moments
    fiml_h1: tuple | None = None  # FIML: saturated-moment informations (filled at first use)


@dataclass
class Setup:
    pt: ParTable
    groups: list
    observed: list
    latent: list
    msgs: list
    missing: str = "listwise"
    syntax: str = ""
    starts: list | None = None  # per-group single-group estimates (filled at first use)


def param_key(lhs, op, rhs) -> tuple:
    if op == OP_COVARIANCE and rhs < lhs:
        lhs, rhs = rhs, lhs
    return (lhs, op, rhs)


def key_name(key) -> str:
    return f"{key[0]} {key[1]} {key[2]}".strip()


def parse_parameter(text: str) -> tuple:
    """"visual =~ x2", "x3 ~ 1" or "x3 ~1" -> (lhs, op, rhs) key.

    Raises
    ------
    InputError
        Not a parameter in lavaan notation.
    """
    bad = InputError(f"'{text}' is not a parameter in lavaan notation (e.g. 'F =~ x2', "
                     "'x3 ~ 1', 'y ~ x').")
    t = re.sub(r"~\s*1\s*$", "~ 1", str(text).strip())
    try:
        parsed = parse_model(t, where=f"'{text}'")
    except InputError:
        raise bad from None
    f = parsed.formulas
    if len(f) != 1 or parsed.defined or parsed.constraints or f[0].fixed or f[0].label \
            or f[0].start:
        raise bad
    return param_key(f[0].lhs, f[0].op, f[0].rhs)


def _check_syntax(pt: ParTable) -> None:
    """Refuse, naming the line, what the multi-group fit would otherwise ignore."""
    if pt.defined:
        raise InputError(f"Model syntax, line {pt.defined[0].line}: defined parameters (':=') "
                         "are not supported in multi-group models yet.")
    for f in pt.intercepts:
        if f.fixed or f.label or f.start or f.lhs not in pt.observed:
            raise InputError(f"Model syntax, line {f.line}: '{f.lhs} ~ 1' with a modifier or "
                             "on a latent variable is not supported in multi-group models "
                             "(intercepts are free; use group_equal for equal ones).")


def prepare_groups(syntax: str, data: pd.DataFrame, group: str, groups=None,
             missing: str = "listwise") -> Setup:
    if not isinstance(data, pd.DataFrame):
        raise InputError("fit_multigroup needs a pandas DataFrame of raw data.")
    if group not in data.columns:
        raise InputError(f"Grouping column '{group}' is not in the data.")
    if missing not in ("listwise", "fiml"):
        raise InputError(f"Unknown missing-data method '{missing}'; use listwise or fiml.")
    parsed = parse_model(syntax)
    # the variables do not depend on the group: classify them with any group's modifiers
    width = max([len(v) for f in parsed.formulas for v in (f.fixed, f.label, f.start)] + [1])
    pt = build_partable(parsed, data.columns, group=0, ngroups=width)
    _check_syntax(pt)
    obs = pt.observed
    bad = [c for c in obs if not pd.api.types.is_numeric_dtype(data[c])]
    if bad:
        raise InputError("Model variable(s) are not numeric: " + ", ".join(bad)
                         + ". Recode them to numbers before fitting.")
    obs_index = {v: i for i, v in enumerate(obs)}
    x_idx = [obs_index[v] for v in pt.exogenous_x]
    msgs = []
    sub = data.loc[data[group].notna(), obs + [group]]
    if missing == "listwise":
        keep = sub[obs].notna().all(axis=1)
        what = "missing values in model variables (listwise)"
    else:  # lavaan missing = "ml": rows missing a fixed x, then rows missing everything
        keep = sub[[obs[i] for i in x_idx]].notna().all(axis=1) & sub[obs].notna().any(axis=1)
        what = "a missing fixed-x predictor or every model variable missing"
    n_del = int((~keep).sum())
    sub = sub[keep]
    if n_del:
        msgs.append(f"{n_del} row(s) with {what} were deleted.")
    if data[group].isna().any():
        msgs.append(f"{int(data[group].isna().sum())} row(s) without a value of '{group}' "
                    "were left out.")
    values = sorted(sub[group].unique()) if groups is None else list(groups)
    plain = sorted({f.label[0] for f in parsed.formulas if len(f.label) == 1 and f.label[0]})
    if plain and len(values) > 1:
        msgs.append(PLAIN_LABEL_WARNING.format(labels=", ".join(plain)))
    out = []
    models = {}  # groups with the same semopy description share one model
    for g, val in enumerate(values):
        x = sub.loc[sub[group] == val, obs].to_numpy(dtype=float)
        n = x.shape[0]
        if n <= len(obs):
            raise InputError(f"Group {group} = {val!r} has {n} usable rows for "
                             f"{len(obs)} variables: too few to fit; leave it out.")
        pat, ll_h1 = None, 0.0
        if missing == "fiml":
            pat = fiml.missing_patterns(x)
            m, s, _, em_ok = fiml.em_moments(pat)
            if not em_ok:
                msgs.append(f"Group {val}: the EM estimate of the saturated moments did "
                            "not converge; chi-square and SRMR are approximate.")
            if x_idx:  # fixed x: complete-data moments of the x columns
                xx = x[:, x_idx]
                dx = xx - xx.mean(axis=0)
                m[x_idx] = xx.mean(axis=0)
                s[np.ix_(x_idx, x_idx)] = dx.T @ dx / n
            ll_h1 = fiml.loglik(pat, m, s)
        else:
            s = np.cov(x, rowvar=False, bias=True)
            m = x.mean(axis=0)
        s = np.atleast_2d(s)
        gpt = build_partable(parsed, data.columns, group=g, ngroups=len(values))
        for row in gpt.rows:
            if row.fixed_x:
                row.value = float(s[obs_index[row.lhs], obs_index[row.rhs]])
        desc, names = semopy_description(gpt)
        if desc not in models:
            models[desc] = SemModel(desc, s, obs)
        model = models[desc]
        out.append(Group(val, n, s, m, gpt, names, model, x_idx, x, pat, ll_h1))
    return Setup(out[0].pt, out, list(obs), list(pt.latent), msgs, missing, syntax)


@dataclass
class Registry:
    """Where each group's free parameters live in the stacked vector."""

    k: int
    cov_gid: list      # per group: gid of each semopy active parameter
    b_free: list       # per group: (i, j, gid) entries of B
    b_fixed: list      # per group: (i, j, value)
    a_free: list       # per group: (i, gid) intercepts / means
    a_fixed: list      # per group: (i, value)
    names: list        # gid -> (key, group index of first use)
    constrained: list  # keys shared by all groups
    latent_means_free: bool = False


def build_registry(setup: Setup, equal_keys: set, latent_means_free: bool) -> Registry:
    """Stacked parameter vector: each free row's parameter named by lavaan's rule
    (:func:`adoption.sem.groupequal.parameter_name`; rows of one name are one
    coordinate). Refuses a name that is fixed in one row and free in another, or fixed at
    different values (lavaan would fix the free ones; not supported here)."""
    gids: dict = {}
    names = []
    groups_of: dict = {}  # gid -> groups using it
    fixed_at: dict = {}  # parameter name -> fixed values

    def gid(tag, g):
        if tag not in gids:
            gids[tag] = len(names)
            names.append((tag[1], g))
        groups_of.setdefault(gids[tag], set()).add(g)
        return gids[tag]

    obs, lat = setup.observed, setup.latent
    pos = {v: i for i, v in enumerate(obs + lat)}
    cov_gid, b_free, b_fixed, a_free, a_fixed = [], [], [], [], []
    shared = set()
    for g, grp in enumerate(setup.groups):
        active = grp.model.active
        cg = [None] * len(active)
        bf, bx, af, ax = [], [], [], []
        for row, nm in zip(grp.pt.rows, grp.names):
            key = param_key(row.lhs, row.op, row.rhs)
            label = grp.pt.parameter_label(row) if row.label else ""
            tag = parameter_name(key, label, g, equal_keys)
            if nm is None:
                val = float(row.value)
                if not row.fixed_x:
                    fixed_at.setdefault(tag, set()).add(val)
                if row.op == OP_LOADING:
                    bx.append((pos[row.rhs], pos[row.lhs], val))
                elif row.op == OP_REGRESSION:
                    bx.append((pos[row.lhs], pos[row.rhs], val))
                continue
            k = gid(tag, g)
            if tag == ("key", key):
                shared.add(key)
            cg[active.index(nm)] = k
            if row.op == OP_LOADING:
                bf.append((pos[row.rhs], pos[row.lhs], k))
            elif row.op == OP_REGRESSION:
                bf.append((pos[row.lhs], pos[row.rhs], k))
        x_set = set(grp.x_idx)
        for i, v in enumerate(obs):
            if i in x_set:
                ax.append((i, float(grp.m[i])))
                continue
            key = (v, OP_INTERCEPT, "")
            tag = parameter_name(key, "", g, equal_keys)
            if tag == ("key", key):
                shared.add(key)
            af.append((i, gid(tag, g)))
        for f in lat:
            key = (f, OP_INTERCEPT, "")
            if latent_means_free and g > 0:
                if key in equal_keys:  # "means" equal: shared among groups 2..G
                    tag = ("eqm", key)
                else:
                    tag = ("g", key, g)
                af.append((pos[f], gid(tag, g)))
            else:
                ax.append((pos[f], 0.0))
        if any(c is None for c in cg):
            raise RuntimeError("semopy parameter without a parameter-table row.")
        cov_gid.append(np.array(cg, dtype=int))
        b_free.append(bf)
        b_fixed.append(bx)
        a_free.append(af)
        a_fixed.append(ax)
    _check_fixed_and_free(fixed_at, gids)
    # held equal: a group.equal key whose parameter more than one group uses
    shared = {key for key in shared if len(groups_of[gids[("key", key)]]) > 1}
    return Registry(len(names), cov_gid, b_free, b_fixed, a_free, a_fixed, names,
                     sorted(shared), latent_means_free)


def _check_fixed_and_free(fixed_at: dict, gids: dict) -> None:
    """Refuse a parameter that is fixed in one place and free in another, or fixed at
    different values, by one label or one ``group.equal`` constraint."""
    for tag, vals in fixed_at.items():
        what = f"label '{tag[1]}'" if tag[0] == "label" else f"'{key_name(tag[1])}'"
        if tag in gids:
            raise InputError(f"The {what} is fixed in one group (or row) and free in another "
                             "while held equal across them (by a label or group_equal); this "
                             "is not supported: fix it in every group or free it in every "
                             "group, or release it with group_partial.")
        if len(vals) > 1:
            raise InputError(f"The {what} is fixed at different values ({', '.join(map(repr, sorted(vals)))}) "
                             "while held equal across groups; this is not supported: release it "
                             "with group_partial or fix it at one value.")


def equal_keys(setup: Setup, group_equal, group_partial, equal) -> set:
    """Keys held equal across groups: those of group 1's rows (and intercepts and latent
    means) whose ``group.equal`` category is requested, plus ``equal``, minus
    ``group_partial`` (lavaan ``lav_partable_labels``)."""
    group_equal = check_group_equal(group_equal)
    nox = [v for v in setup.observed if v not in setup.pt.exogenous_x]
    free = [param_key(r.lhs, r.op, r.rhs) for r in setup.pt.rows if r.free]
    rows = [param_key(r.lhs, r.op, r.rhs) for r in setup.pt.rows]
    means = [(v, OP_INTERCEPT, "") for v in nox] + [(f, OP_INTERCEPT, "") for f in setup.latent]
    keys = {key for key in rows + means if category(key, nox, setup.latent) in group_equal}
    for text in equal:
        key = parse_parameter(text) if isinstance(text, str) else param_key(*text)
        if key not in free + means:
            raise InputError(f"'{key_name(key)}' is not a free parameter of the model.")
        keys.add(key)
    for text in group_partial:
        key = parse_parameter(text) if isinstance(text, str) else param_key(*text)
        keys.discard(key)
    return keys
