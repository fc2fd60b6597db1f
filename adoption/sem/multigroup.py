"""Multi-group models: one lavaan-syntax model fitted in several groups at once, with
equality constraints across groups (lavaan's ``group =``, ``group.equal =``,
``group.partial =``).

:func:`fit_multigroup` reproduces ``lavaan::sem(model, data, group = g, group.equal =
..., group.partial = ...)`` (lavaan 0.6-14) for models the engine fits, with estimator ML,
MLM or MLR on complete rows, or ML with full-information ML for missing values
(``missing = "ml"``): every group has its own parameters unless a constraint makes them
one, a mean structure is always on (as in lavaan's multi-group models), and the
likelihood is the sum of the groups' likelihoods. :func:`score_tests` gives the score
test of releasing each equality constraint (lavaan's ``lavTestScore(fit, univariate =
TRUE)``).

The covariance structure of each group comes from the engine's model matrices
(:class:`adoption.sem.engine._Model`, semopy underneath); the mean structure, the
optimiser (Fisher scoring over one stacked parameter vector in which a constrained
parameter is one coordinate shared by the groups), standard errors and fit measures are
computed here.

Model
-----
For group g with N_g rows, sample covariance S_g (divisor N_g) and means m_g, with all
variables (observed, then latent) in one vector v = a + B v + e:
Sigma_g(theta) from the engine, mu_g(theta) = [(I - B)^-1 a]_observed, where a holds the
intercepts of the observed variables (free), the latent means (0, or free in groups 2..G
when intercepts are equal), and the sample means of fixed-x predictors.

    chisq = sum_g N_g [log|Sigma_g| - log|S_g| + tr(S_g Sigma_g^-1) - p
                       + (m_g - mu_g)' Sigma_g^-1 (m_g - mu_g)]

(lavaan's ML test statistic, 2 N F with F = sum_g (N_g / N) F_g / 2 and divisor N).
Under FIML each group's term is 2 [logl_g(EM moments) - logl_g(mu_g, Sigma_g)] with the
casewise likelihood of :mod:`adoption.sem.fiml`.

References
----------
lavaan 0.6-14 source: ``lav_model_objective.R``, ``lav_fit_measures.R``
(``lav_fit_rmsea_lavobject``, ``lav_fit_srmr_lavobject``), ``lav_test_score.R``,
``lav_test_satorra_bentler.R``, ``lav_test_yuan_bentler.R``.
Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
*Psychometrika*, 58, 525-543.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import optimize

from adoption.errors import InputError
from adoption.parallel import blas_one_thread
from adoption.sem import fiml
from adoption.sem import fitdict as fd
from adoption.sem import fitmeasures as fm
from adoption.sem import robust as rb
from adoption.sem.engine import (_diagnose, _dsigma, _estimate_table,
                                 _Model, _semopy_description, _start_values, fit_model)
from adoption.sem.compare import partable_syntax
from adoption.sem.groupequal import (GROUP_EQUAL, PLAIN_LABEL_WARNING, category,
                                     check_group_equal, latent_means_free, parameter_name)
from adoption.sem.partable import ParTable, build_partable
from adoption.sem.syntax import parse_model
from adoption.vocabulary import CONTINUOUS_ESTIMATORS
from adoption.vocabulary import (OP_COVARIANCE, OP_INTERCEPT, OP_LOADING, OP_REGRESSION,
                                 PARAMETER_COLUMNS)

ESTIMATORS = CONTINUOUS_ESTIMATORS
#: Scaled and robust fit measures of a multi-group fit under MLM/MLR.
MULTIGROUP_ROBUST_MEASURES = (
    "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
    "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
    "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "cfi.robust",
    "tli.robust", "rmsea.scaled", "rmsea.robust")

__all__ = ["GROUP_EQUAL", "MULTIGROUP_ROBUST_MEASURES", "MULTIGROUP_FIT_MEASURES",
           "MULTIGROUP_ESTIMATE_COLUMNS", "SCORE_COLUMNS", "MultiGroupFit", "fit_multigroup",
           "score_tests", "parse_parameter", "rmsea_multigroup", "rmsea_ci_multigroup",
           "rmsea_pvalue_multigroup", "srmr_multigroup", "gamma_meanstructure"]

#: Fit measures of a multi-group fit (lavaan ``fitMeasures()`` names).
MULTIGROUP_FIT_MEASURES = ("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df",
                           "cfi", "tli", "nfi", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
                           "rmsea.pvalue", "srmr", "aic", "bic", "logl",
                           "unrestricted.logl")
#: Columns of :attr:`MultiGroupFit.estimates`.
MULTIGROUP_ESTIMATE_COLUMNS = ("lhs", "op", "rhs", "group") + PARAMETER_COLUMNS[3:]
SCORE_COLUMNS = ("parameter", "lhs", "op", "rhs", "X2", "df", "pvalue")


# --------------------------------------------------------------------------- formulas
def rmsea_multigroup(chisq: float, df: float, n: int, n_groups: int) -> float:
    """RMSEA of a multi-group model as lavaan: sqrt(G) sqrt(max(chisq/(N df) - 1/N, 0))
    (Steiger, 1998; ``lav_fit_rmsea``), N the total sample size
    (:func:`adoption.sem.fitmeasures.rmsea` with ``n_groups``)."""
    return fm.rmsea(chisq, df, n, n_groups=n_groups)


def srmr_multigroup(srmr_groups, nobs) -> float:
    """SRMR of a multi-group model: the groups' SRMR weighted by their sizes,
    sum_g N_g SRMR_g / N (lavaan ``lav_fit_srmr_lavobject``)."""
    return fm.weighted_by_n(srmr_groups, nobs)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class MultiGroupFit:
    """Result of :func:`fit_multigroup`.

    Attributes
    ----------
    estimates : pd.DataFrame
        ``parameterEstimates(fit, standardized = TRUE)`` of every group, stacked:
        lhs, op, rhs, group (the group's value), est, se, z, pvalue, ci.lower, ci.upper,
        std.all (standardised within the group); ``~1`` rows (intercepts, latent means,
        fixed-x means) last in each group.
    fit : dict
        Every name lavaan's ``fitMeasures()`` returns for the fit, in its order
        (:func:`adoption.sem.fitdict.fit_measures`; includes
        :data:`MULTIGROUP_FIT_MEASURES`).
    groups : tuple
        The group values, in fitting order (sorted, as lavaan).
    nobs : tuple of int
        Rows used per group (listwise complete).
    group_fit : dict
        group -> {"chisq": the group's contribution, "srmr": its SRMR}.
    r2 : dict
        group -> {variable: R-squared}.
    constrained : tuple of str
        The parameters held equal across groups ("lhs op rhs").
    converged : bool
    warnings : tuple of str
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
    estimator: str = "ML"
    timings: dict = field(default_factory=dict, compare=False)
    _state: object = field(default=None, compare=False, repr=False)


# --------------------------------------------------------------------------- setup
@dataclass
class _Group:
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
class _Setup:
    pt: ParTable
    groups: list
    observed: list
    latent: list
    msgs: list
    missing: str = "listwise"
    syntax: str = ""
    starts: list | None = None  # per-group single-group estimates (filled at first use)


def _key(lhs, op, rhs) -> tuple:
    if op == OP_COVARIANCE and rhs < lhs:
        lhs, rhs = rhs, lhs
    return (lhs, op, rhs)


def _key_name(key) -> str:
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
    return _key(f[0].lhs, f[0].op, f[0].rhs)


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


def _prepare(syntax: str, data: pd.DataFrame, group: str, groups=None,
             missing: str = "listwise") -> _Setup:
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
        desc, names = _semopy_description(gpt)
        if desc not in models:
            models[desc] = _Model(desc, s, obs)
        model = models[desc]
        out.append(_Group(val, n, s, m, gpt, names, model, x_idx, x, pat, ll_h1))
    return _Setup(out[0].pt, out, list(obs), list(pt.latent), msgs, missing, syntax)


@dataclass
class _Registry:
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


def _registry(setup: _Setup, equal_keys: set, latent_means_free: bool) -> _Registry:
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
            key = _key(row.lhs, row.op, row.rhs)
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
    return _Registry(len(names), cov_gid, b_free, b_fixed, a_free, a_fixed, names,
                     sorted(shared), latent_means_free)


def _check_fixed_and_free(fixed_at: dict, gids: dict) -> None:
    """Refuse a parameter that is fixed in one place and free in another, or fixed at
    different values, by one label or one ``group.equal`` constraint."""
    for tag, vals in fixed_at.items():
        what = f"label '{tag[1]}'" if tag[0] == "label" else f"'{_key_name(tag[1])}'"
        if tag in gids:
            raise InputError(f"The {what} is fixed in one group (or row) and free in another "
                             "while held equal across them (by a label or group_equal); this "
                             "is not supported: fix it in every group or free it in every "
                             "group, or release it with group_partial.")
        if len(vals) > 1:
            raise InputError(f"The {what} is fixed at different values ({', '.join(map(repr, sorted(vals)))}) "
                             "while held equal across groups; this is not supported: release it "
                             "with group_partial or fix it at one value.")


# --------------------------------------------------------------------------- moments
def _moments(setup: _Setup, reg: _Registry, g: int, theta, with_jacobian=True):
    """Sigma_g, mu_g and (optionally) their Jacobians in the group's own columns.

    Returns sigma, mu, cols (gids), d_sigma (p* x len(cols)), d_mu (p x len(cols)).
    """
    grp = setup.groups[g]
    p = len(setup.observed)
    nall = p + len(setup.latent)
    local = theta[reg.cov_gid[g]]
    if with_jacobian:
        sig, dl = grp.model.sigma_delta(local)
    else:
        sig = grp.model.sigma(local)[0]
    b = np.zeros((nall, nall))
    for i, j, k in reg.b_free[g]:
        b[i, j] += theta[k]
    for i, j, v in reg.b_fixed[g]:
        b[i, j] += v
    a = np.zeros(nall)
    for i, k in reg.a_free[g]:
        a[i] += theta[k]
    for i, v in reg.a_fixed[g]:
        a[i] += v
    ainv = np.linalg.inv(np.identity(nall) - b)
    mall = ainv @ a
    mu = mall[:p]
    if not with_jacobian:
        return sig, mu
    cols = sorted(set(reg.cov_gid[g].tolist()) | {k for *_, k in reg.b_free[g]}
                  | {k for _, k in reg.a_free[g]})
    where = {k: c for c, k in enumerate(cols)}
    ds = np.zeros((dl.shape[0], len(cols)))
    for c_local, k in enumerate(reg.cov_gid[g]):
        ds[:, where[k]] += dl[:, c_local]
    dm = np.zeros((p, len(cols)))
    for i, j, k in reg.b_free[g]:
        dm[:, where[k]] += ainv[:p, i] * mall[j]
    for i, k in reg.a_free[g]:
        dm[:, where[k]] += ainv[:p, i]
    return sig, mu, cols, ds, dm


def _discrepancy(setup: _Setup, reg: _Registry, theta) -> float:
    """chisq(theta) = sum_g N_g F_g (see module doc); inf where Sigma is not PD."""
    total = 0.0
    for g, grp in enumerate(setup.groups):
        sig, mu = _moments(setup, reg, g, theta, with_jacobian=False)
        if np.min(np.linalg.eigvalsh(sig)) <= 0:
            return math.inf
        if grp.pat is not None:
            total += 2 * (grp.ll_h1 - fiml.loglik(grp.pat, mu, sig))
            continue
        total += fm.chisq_ml(grp.s, sig, grp.n, grp.m, mu)
    return total


def _score_information(setup: _Setup, reg: _Registry, theta):
    """Gradient of the log-likelihood and the expected information, both totals."""
    k = reg.k
    grad = np.zeros(k)
    info = np.zeros((k, k))
    for g, grp in enumerate(setup.groups):
        sig, mu, cols, ds, dm = _moments(setup, reg, g, theta)
        if grp.pat is not None:
            grad[cols] += _fiml_group_gradient(grp.pat, mu, sig, ds, dm)
            info_th, info_mu = fiml.expected_information(grp.pat, sig,
                                                         _dsigma(ds, len(mu)))
            info[np.ix_(cols, cols)] += info_th + dm.T @ info_mu @ dm
            continue
        si = np.linalg.inv(sig)
        d = grp.m - mu
        gs = ds.T @ rb.ml_weight_times(si, grp.s + np.outer(d, d) - sig)
        gm = dm.T @ (si @ d)
        grad[cols] += grp.n * (gs + gm)
        blk = ds.T @ rb.ml_weight_times_delta(si, ds) + dm.T @ si @ dm
        info[np.ix_(cols, cols)] += grp.n * blk
    return grad, info


def _fiml_group_gradient(pat, mu, sig, ds, dm) -> np.ndarray:
    """Gradient of one group's FIML log-likelihood in the group's columns."""
    r, c = rb.vech_index(len(mu))
    g_mu, big_m = fiml.gradient(pat, mu, sig)
    return ds.T @ (big_m[r, c] * np.where(r == c, 0.5, 1.0)) + dm.T @ g_mu


def _group_starts(setup: _Setup) -> list:
    """Per group: the single-group fit's value of each semopy parameter (model.active
    order) and of each intercept, or lavaan's simple starting values where that fit
    fails. The configural model is the groups' separate models, so these are its
    estimates; constrained models start from their averages."""
    if setup.starts is not None:
        return setup.starts
    obs_index = {v: i for i, v in enumerate(setup.observed)}
    out = []
    for grp in setup.groups:
        local = _start_values(grp.pt, grp.names, grp.model, grp.s)
        means = grp.m.copy()
        try:
            # the group's own table (its c(...) modifiers), as syntax
            f = fit_model(partable_syntax(grp.pt), pd.DataFrame(grp.x, columns=setup.observed),
                          missing=setup.missing)
        except InputError:
            f = None
        if f is not None and f.converged:
            est = f.estimates["est"].to_numpy()
            for row, nm, e in zip(grp.pt.rows, grp.names, est):
                if nm is not None:
                    local[grp.model.active.index(nm)] = e
            if setup.missing == "fiml":
                ints = f.estimates[f.estimates["op"] == OP_INTERCEPT]
                for v, e in zip(ints["lhs"], ints["est"]):
                    if v in obs_index:
                        means[obs_index[v]] = e
        out.append((local, means))
    setup.starts = out
    return out


def _start(setup: _Setup, reg: _Registry) -> np.ndarray:
    """Starting values: each group's single-group estimates (:func:`_group_starts`),
    latent means 0; a shared parameter starts at the mean of the groups' values."""
    acc = np.zeros(reg.k)
    cnt = np.zeros(reg.k)
    for g, (local, means) in enumerate(_group_starts(setup)):
        for c_local, k in enumerate(reg.cov_gid[g]):
            acc[k] += local[c_local]
            cnt[k] += 1
        for i, k in reg.a_free[g]:
            if i < len(setup.observed):
                acc[k] += means[i]
            cnt[k] += 1
    return np.where(cnt > 0, acc / np.maximum(cnt, 1), 0.0)


def _optimise(setup: _Setup, reg: _Registry, theta, max_iter=300, tol=1e-9):
    """Fisher scoring, theta += I^-1 g, with step halving on chisq(theta).

    Under FIML, first the complete-data fit to each group's EM moments (as the engine
    does), then FIML scoring from there. If scoring stalls, L-BFGS with the analytic
    gradient, then scoring again to polish.
    """
    if any(g.pat is not None for g in setup.groups):
        complete = replace(setup, groups=[replace(g, pat=None) for g in setup.groups])
        theta, _ = _scoring(complete, reg, theta, 100, tol)
    theta, ok = _scoring(setup, reg, theta, max_iter, tol)
    if ok:
        return theta, ok
    theta = _lbfgs(setup, reg, theta)
    return _scoring(setup, reg, theta, max_iter, tol)


def _lbfgs(setup: _Setup, reg: _Registry, theta):
    """Minimise chisq(theta) by L-BFGS with the analytic gradient."""
    def fun(th):
        try:
            f = _discrepancy(setup, reg, th)
            g = -2 * _gradient(setup, reg, th) if np.isfinite(f) else np.zeros_like(th)
        except np.linalg.LinAlgError:
            f, g = math.inf, np.zeros_like(th)
        return (f if np.isfinite(f) else 1e300), g

    res = optimize.minimize(fun, theta, jac=True, method="L-BFGS-B",
                            options={"maxiter": 10000, "ftol": 1e-15, "gtol": 1e-8,
                                     "maxcor": 30})
    return res.x if np.isfinite(res.fun) and res.fun < 1e300 else theta


def _scoring(setup: _Setup, reg: _Registry, theta, max_iter, tol):
    f0 = _discrepancy(setup, reg, theta)
    if not np.isfinite(f0):
        return theta, False
    for _ in range(max_iter):
        grad, info = _score_information(setup, reg, theta)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return theta, False
        lam = 1.0
        while True:
            new = theta + lam * step
            f1 = _discrepancy(setup, reg, new)
            if f1 <= f0 + 1e-10 * max(1.0, abs(f0)) or lam < 1e-6:
                break
            lam /= 2
        if not np.isfinite(f1) or lam < 1e-6:  # no descent along the scoring direction
            return theta, False
        theta, f0 = new, f1
        if np.max(np.abs(lam * step)) < tol:
            return theta, True
    return theta, False


# --------------------------------------------------------------------------- fitting
def _equal_keys(setup: _Setup, group_equal, group_partial, equal) -> set:
    """Keys held equal across groups: those of group 1's rows (and intercepts and latent
    means) whose ``group.equal`` category is requested, plus ``equal``, minus
    ``group_partial`` (lavaan ``lav_partable_labels``)."""
    group_equal = check_group_equal(group_equal)
    nox = [v for v in setup.observed if v not in setup.pt.exogenous_x]
    free = [_key(r.lhs, r.op, r.rhs) for r in setup.pt.rows if r.free]
    rows = [_key(r.lhs, r.op, r.rhs) for r in setup.pt.rows]
    means = [(v, OP_INTERCEPT, "") for v in nox] + [(f, OP_INTERCEPT, "") for f in setup.latent]
    keys = {key for key in rows + means if category(key, nox, setup.latent) in group_equal}
    for text in equal:
        key = parse_parameter(text) if isinstance(text, str) else _key(*text)
        if key not in free + means:
            raise InputError(f"'{_key_name(key)}' is not a free parameter of the model.")
        keys.add(key)
    for text in group_partial:
        key = parse_parameter(text) if isinstance(text, str) else _key(*text)
        keys.discard(key)
    return keys


def fit_multigroup(syntax: str, data: pd.DataFrame, group: str, *, group_equal=(),
                   group_partial=(), equal=(), groups=None, estimator: str = "ML",
                   missing: str = "listwise", se: bool = True,
                   _setup: _Setup | None = None) -> MultiGroupFit:
    """Fit a model in several groups at once by ML, as lavaan's multi-group ``sem()``.

    Parameters
    ----------
    syntax : str
        lavaan model syntax (as :func:`adoption.sem.engine.fit_model`). As in lavaan, a
        plain label (``a*x2``) names one parameter in every group (with lavaan's warning),
        ``c(a1, a2)*x2`` one label per group, and ``c(1, NA)*x2`` fixes it in group 1
        only (:mod:`adoption.sem.groupequal`).
    data : pd.DataFrame
        Raw data with the model variables and the grouping column.
    group : str
        The grouping column; rows with it missing are left out.
    group_equal : sequence of str
        lavaan ``group.equal`` keywords (:data:`GROUP_EQUAL`): "loadings",
        "intercepts" (then the latent means are free in groups 2..G unless "means" is
        also given, as lavaan), "means", "residuals", "residual.covariances",
        "lv.variances", "lv.covariances", "regressions"; "thresholds" is refused (no
        ordinal indicators). A user label wins over them, as in lavaan.
    group_partial : sequence of str
        Parameters exempt from ``group_equal`` ("visual =~ x2", "x3 ~ 1"), lavaan
        ``group.partial``.
    equal : sequence of str
        Further single parameters held equal across groups ("WIL ~ HAB"; in lavaan a
        label vector ``c(b, b, b)*HAB``).
    groups : sequence, optional
        The group values to fit, in this order (default: every value, sorted).
    missing : {"listwise", "fiml"}
        "listwise": complete rows only. "fiml": full-information ML (lavaan
        ``missing = "ml"``) with the EM moments of each group as the saturated model, SEs
        from the observed information (lavaan's default there); estimator ML only.
    se : bool
        Compute standard errors (False: NaN; faster, e.g. when only the fit is needed).
    estimator : {"ML", "MLM", "MLR"}
        "ML": expected-information SEs and the likelihood-ratio chisq. "MLM": robust.sem
        SEs and the Satorra-Bentler scaled test (lavaan ``estimator = "MLM"``). "MLR":
        Huber-White SEs from the observed information and the Yuan-Bentler (Mplus)
        scaled test (lavaan ``estimator = "MLR"``). Estimates are the ML ones.

    Returns
    -------
    MultiGroupFit

    Raises
    ------
    InputError
        Unknown or unsupported keyword, parameter or estimator, a variable missing or
        non-numeric, a group with too few rows, a label vector ``c(...)`` of the wrong
        length, a parameter held equal across groups but fixed in one and free in another
        (lavaan would fix it everywhere).

    Notes
    -----
    Fit measures as lavaan 0.6-14 ``fitMeasures()`` for multiple groups: chisq is the
    sum of the groups' N_g F_g (see module doc); df = G [p(p+1)/2 + p] minus the
    fixed-x moments minus npar (intercepts and latent means counted); the baseline
    model has diagonal covariances and free means in every group; CFI/TLI from those;
    RMSEA = sqrt(G) sqrt(max(chisq/(N df) - 1/N, 0)) with the total N (and its interval
    and p-value likewise); SRMR is each group's Bentler SRMR with the mean residuals,
    weighted by N_g / N; AIC/BIC from the summed log-likelihood, BIC with the total N.
    Standard errors from the expected information (ML). Under MLM/MLR the scaled
    statistics (:data:`MULTIGROUP_ROBUST_MEASURES`) are added, with lavaan's multi-group
    traces (see :func:`_mlm`, :func:`_mlr`); rmsea.scaled and rmsea.robust carry the
    sqrt(G) factor. Under FIML the robust indices come from the FIML-corrected
    statistic (:func:`_fiml_corrected`). GFI is the groups' GFI (with the mean
    structure) weighted by N_g / N, as SRMR, RMR and CRMR. Agrees with lavaan to about
    1e-6 (``tests/test_multigroup.py``, ``tests/test_sem_fitmeasures_all.py``).

    Examples
    --------
    >>> hs = "visual =~ x1 + x2 + x3"
    >>> metric = fit_multigroup(hs, data, "school", group_equal=["loadings"])  # doctest: +SKIP
    >>> metric.fit["chisq"], metric.fit["df"]                                 # doctest: +SKIP
    """
    if estimator not in ESTIMATORS:
        raise InputError(f"Unknown estimator '{estimator}'; use one of "
                         f"{', '.join(ESTIMATORS)}.")
    if missing == "fiml" and estimator != "ML":
        raise InputError(f"Multi-group FIML is implemented with estimator ML only (not "
                         f"{estimator}).")
    with blas_one_thread():  # many small products: faster without BLAS threads
        return _fit_multigroup(syntax, data, group, group_equal, group_partial, equal,
                               groups, estimator, missing, se, _setup)


class _NoSE(Exception):
    """Standard errors not requested."""


def _fit_multigroup(syntax, data, group, group_equal, group_partial, equal, groups,
                    estimator, missing, se, _setup) -> MultiGroupFit:
    t0 = time.perf_counter()
    setup = _setup if _setup is not None else _prepare(syntax, data, group, groups,
                                                       missing)
    if setup.missing != missing:
        raise InputError("The prepared groups were made for another missing-data method.")
    keys = _equal_keys(setup, tuple(group_equal), tuple(group_partial), tuple(equal))
    lm_free = latent_means_free(group_equal) and bool(setup.latent)
    reg = _registry(setup, keys, lm_free)
    msgs = list(setup.msgs)
    theta = _start(setup, reg)
    try:
        theta, ok = _optimise(setup, reg, theta)
    except (np.linalg.LinAlgError, ValueError) as exc:
        ok = False
        msgs.append(f"The optimiser failed ({exc}).")
    if not ok:
        msgs.append("The multi-group model did not converge: estimates are unreliable.")
    t_opt = time.perf_counter() - t0
    _, info = _score_information(setup, reg, theta)
    try:
        if not se:
            raise _NoSE
        # FIML: the observed information, lavaan's default with missing = "ml"
        a = _observed_information(setup, reg, theta) if missing == "fiml" else info
        vc = np.linalg.inv(a)
        if np.linalg.cond(a) > 1e12:
            raise np.linalg.LinAlgError
    except _NoSE:
        vc = np.full((reg.k, reg.k), np.nan)
    except np.linalg.LinAlgError:
        vc = np.full((reg.k, reg.k), np.nan)
        msgs.append("The information matrix is singular: the model is probably not "
                    "identified; standard errors are not available.")
        ok = False
    est, r2, group_fit, pieces, warns = _results(setup, reg, theta, vc)
    msgs += warns
    scaled = robust = None
    if estimator != "ML":
        try:
            (scaled, robust), vc_r = (_mlm(setup, reg, theta, info, pieces)
                                      if estimator == "MLM" else _mlr(setup, reg, theta, pieces))
            est, *_ = _results(setup, reg, theta, vc_r)
        except np.linalg.LinAlgError:
            nan = float("nan")
            h = nan if estimator == "MLR" else None
            scaled, robust = fd.ScaledTest(nan, nan, h, h), fd.RobustBasis(nan, nan, nan, nan)
            msgs.append("The robust standard errors and scaled test could not be computed: "
                        "an information matrix is singular.")
    if missing == "fiml":  # lavaan's robust indices under FIML (estimator ML: "V6")
        try:
            robust = _fiml_corrected(setup, reg, theta, pieces)
        except np.linalg.LinAlgError:
            robust = fd.RobustBasis(*(float("nan"),) * 4)
            msgs.append("The robust fit indices (FIML-corrected) could not be computed: "
                        "an information matrix is singular.")
    fit = fd.fit_measures(**pieces, scaled=scaled, robust=robust)
    return MultiGroupFit(
        estimates=est, fit=fit, groups=tuple(g.value for g in setup.groups),
        nobs=tuple(g.n for g in setup.groups), group_fit=group_fit, r2=r2,
        constrained=tuple(_key_name(k) for k in reg.constrained), converged=bool(ok),
        warnings=tuple(msgs), estimator=estimator,
        timings={"optimise": t_opt, "total": time.perf_counter() - t0},
        _state=(setup, reg, theta, info))


def _results(setup: _Setup, reg: _Registry, theta, vc):
    obs, lat = setup.observed, setup.latent
    p = len(obs)
    tables, r2s, gfit, warns = [], {}, {}, []
    logl = logl_h1 = chisq_b = 0.0
    resids, gfis = [], []
    for g, grp in enumerate(setup.groups):
        sig, mu = _moments(setup, reg, g, theta, with_jacobian=False)
        model = grp.model
        local = theta[reg.cov_gid[g]]
        index_of = {nm: model.active.index(nm) for nm in set(grp.names) if nm is not None}
        vcl = vc[np.ix_(reg.cov_gid[g], reg.cov_gid[g])]
        a_gid = dict(reg.a_free[g])
        x_set = set(grp.x_idx)
        # intercept of each variable: its a entry (free or fixed)
        mean_rows = []
        order_obs = [i for i in range(p) if i not in x_set] + sorted(x_set)
        for i in order_obs:
            if i in a_gid:
                k = a_gid[i]
                mean_rows.append((obs[i], theta[k], math.sqrt(vc[k, k]) if vc[k, k] >= 0
                                  else float("nan"), True))
            else:
                mean_rows.append((obs[i], float(grp.m[i]), 0.0, False))
        for j, f in enumerate(lat):
            k = a_gid.get(p + j)
            if k is None:
                mean_rows.append((f, 0.0, 0.0, False))
            else:
                mean_rows.append((f, theta[k], math.sqrt(vc[k, k]) if vc[k, k] >= 0
                                  else float("nan"), True))
        est, r2 = _estimate_table(grp.pt, grp.names, index_of, local, vcl, model, sig,
                                  mean_rows)
        warns += [f"Group {grp.value}: {m}" for m in _diagnose(grp.pt, est, sig)]
        lv = _latent_cov(est, lat)
        if lv.size and np.min(np.linalg.eigvalsh(lv)) < 0:
            warns.append(f"Group {grp.value}: the covariance matrix of the latent variables "
                         "is not positive definite (as lavaan warns).")
        est.insert(3, "group", grp.value)
        tables.append(est)
        r2s[grp.value] = r2
        if grp.pat is not None:
            ll_x = fm.loglik_x(grp.s, grp.n, grp.x_idx)
            ll = fiml.loglik(grp.pat, mu, sig) - ll_x
            ll1 = grp.ll_h1 - ll_x
            mu_b, s_b = fiml.independence_moments(grp.pat, grp.x_idx)
            chisq_b += 2 * (grp.ll_h1 - fiml.loglik(grp.pat, mu_b, s_b))
        else:
            d = grp.m - mu
            ll = fm.loglik(grp.s, sig, grp.n, grp.x_idx) \
                - grp.n / 2 * float(d @ np.linalg.solve(sig, d))
            ll1 = fm.unrestricted_loglik(grp.s, grp.n, grp.x_idx)
            chisq_b += fm.chisq_ml(grp.s, fm.baseline_sigma(grp.s, grp.x_idx), grp.n)
        logl += ll
        logl_h1 += ll1
        resids.append(fm.residual_measures(grp.s, sig, grp.m, mu))
        gfis.append(_group_gfi(grp, sig, mu))
        gfit[grp.value] = {"chisq": max(2 * (ll1 - ll), 0.0),
                           "srmr": resids[-1]["srmr_bentler"]}
    est = pd.concat(tables, ignore_index=True)[list(MULTIGROUP_ESTIMATE_COLUMNS)]
    n_groups = len(setup.groups)
    n = sum(g.n for g in setup.groups)
    q = len(setup.groups[0].x_idx)
    npar = reg.k
    df = n_groups * (p * (p + 1) // 2 + p - q * (q + 1) // 2 - q) - npar
    df_b = n_groups * fm.baseline_df(p, q)
    nobs = [g.n for g in setup.groups]
    pieces = dict(npar=npar, n=n, chisq=max(2 * (logl_h1 - logl), 0.0), df=df,
                  chisq_b=chisq_b, df_b=df_b, logl=logl, logl_h1=logl_h1,
                  residuals={k: fm.weighted_by_n([r[k] for r in resids], nobs)
                             for k in fd.RESIDUAL_NAMES},
                  gfi=fm.weighted_by_n(gfis, nobs),
                  nel=fm.n_moments(p, meanstructure=True, n_groups=n_groups),
                  n_groups=n_groups)
    return est, r2s, gfit, pieces, warns


def _group_gfi(grp: _Group, sig: np.ndarray, mu: np.ndarray) -> float:
    """GFI of one group with its mean structure (lavaan ``lav_fit_gfi``): complete data
    (:func:`adoption.sem.fitmeasures.gfi`), or FIML with lavaan's pairwise sample
    statistics (:func:`adoption.sem.fiml.gfi`)."""
    if grp.pat is not None:
        m_obs, s_obs = fiml.pairwise_moments(grp.pat.x)
        return fiml.gfi(grp.pat, m_obs, s_obs, mu, sig, grp.x_idx)
    return fm.gfi(grp.s, sig, None, grp.x_idx, mean=grp.m, implied_mean=mu)


def _latent_cov(est: pd.DataFrame, latent) -> np.ndarray:
    """The latent (co)variance matrix of one group from its ``~~`` rows."""
    pos = {f: i for i, f in enumerate(latent)}
    m = np.zeros((len(latent), len(latent)))
    rows = est[(est["op"] == OP_COVARIANCE) & est["lhs"].isin(pos) & est["rhs"].isin(pos)]
    for lhs, rhs, e in zip(rows["lhs"], rows["rhs"], rows["est"]):
        m[pos[lhs], pos[rhs]] = m[pos[rhs], pos[lhs]] = e
    return m


# --------------------------------------------------------------------------- score tests
def score_tests(fit: MultiGroupFit) -> pd.DataFrame:
    """Score test of releasing each equality constraint of a multi-group fit.

    For each parameter held equal across groups: the score (Lagrange multiplier) test
    of letting it differ, all other constraints kept, on G - 1 df.

    Returns
    -------
    pd.DataFrame
        parameter ("lhs op rhs"), lhs, op, rhs, X2, df, pvalue; largest X2 first.

    Notes
    -----
    With theta-hat the constrained estimates and the parameter split into one copy per
    group (all at theta-hat), X2 = g' I^-1 g with g the gradient of the log-likelihood
    and I the expected information of the split parameterisation (both totals). With
    two groups this is lavaan's ``lavTestScore(fit, univariate = TRUE)`` (expected
    information) for the constraint ``.pA. == .pB.``; with more groups it frees the
    parameter in every group at once (lavaan's univariate tests free one pair).
    """
    with blas_one_thread():
        return _score_tests(fit)


def _score_tests(fit: MultiGroupFit) -> pd.DataFrame:
    setup, reg, theta, _ = fit._state
    rows = []
    n_groups = len(setup.groups)
    for key in reg.constrained:
        cons = {k for k in reg.constrained if k != key}
        ereg = _registry(setup, set(cons), reg.latent_means_free)
        etheta = _expand(reg, ereg, theta)
        grad, info = _score_information(setup, ereg, etheta)
        try:
            x2 = float(grad @ np.linalg.solve(info, grad))
        except np.linalg.LinAlgError:
            x2 = float("nan")
        df = n_groups - 1
        rows.append({"parameter": _key_name(key), "lhs": key[0], "op": key[1],
                     "rhs": key[2], "X2": x2, "df": float(df),
                     "pvalue": fm.pvalue_chisq(x2, df)})
    out = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    return out.sort_values("X2", ascending=False, ignore_index=True)


def _expand(reg: _Registry, ereg: _Registry, theta) -> np.ndarray:
    """Values of ``theta`` (registry ``reg``) in the less constrained registry ``ereg``
    (same model, fewer shared parameters): each parameter takes its group's value."""
    out = np.zeros(ereg.k)
    for g in range(len(reg.cov_gid)):
        out[ereg.cov_gid[g]] = theta[reg.cov_gid[g]]
        for (i, j, k), (_, _, ke) in zip(reg.b_free[g], ereg.b_free[g]):
            out[ke] = theta[k]
        for (i, k), (_, ke) in zip(reg.a_free[g], ereg.a_free[g]):
            out[ke] = theta[k]
    return out


# --------------------------------------------------------------------------- MLM
def gamma_meanstructure(x: np.ndarray, x_idx=()) -> np.ndarray:
    """Asymptotic covariance of (means, vech S) from the raw data, N divisor.

    Gamma = 1/N sum_i (z_i - zbar)(z_i - zbar)' with z_i = (x_i, vech(d_i d_i')),
    d_i = x_i - xbar. With fixed x (``x_idx``) each non-x variable is replaced by its
    residual from the OLS regression on x (and the x columns carry no variability), as
    :func:`adoption.sem.robust.gamma_adf` does for the covariance part.
    """
    n, p = x.shape
    r, c = rb.vech_index(p)
    dc = x - x.mean(axis=0)
    zm = dc.copy()
    zc = dc[:, r] * dc[:, c]
    x_idx = list(x_idx)
    if x_idx:
        y_idx = [j for j in range(p) if j not in set(x_idx)]
        design = np.column_stack([np.ones(n), x[:, x_idx]])
        coef, *_ = np.linalg.lstsq(design, x[:, y_idx], rcond=None)
        xhat = x.copy()
        xhat[:, y_idx] = design @ coef
        hc = xhat - xhat.mean(axis=0)
        zm = zm - hc
        zc = zc - hc[:, r] * hc[:, c]
    z = np.hstack([zm, zc])
    z = z - z.mean(axis=0)
    return z.T @ z / n


def _moment_weight(sigma: np.ndarray) -> np.ndarray:
    """Expected information of (mu, vech Sigma) per observation: diag(Sigma^-1, W)."""
    p = sigma.shape[0]
    w = rb.ml_weight(sigma)
    out = np.zeros((p + w.shape[0],) * 2)
    out[:p, :p] = np.linalg.inv(sigma)
    out[p:, p:] = w
    return out


def _mlm(setup: _Setup, reg: _Registry, theta, info, pieces: dict):
    """Satorra-Bentler scaled test and robust.sem covariance of a multi-group fit.

    Notes
    -----
    With f_g = N_g / N, W_g the expected information of (mu, vech Sigma) at the fitted
    moments, Delta_g their Jacobian, Gamma_g the ADF covariance of the sample moments
    and E = sum_g f_g Delta_g' W_g Delta_g (per observation):
    tr(U Gamma) = sum_g tr[(W_g - f_g W_g Delta_g E^-1 Delta_g' W_g) Gamma_g],
    c = tr(U Gamma) / df (lavaan ``lav_test_satorra_bentler_trace_original``); the
    baseline's c_b likewise with its own parameters (per group: means and variances of
    the non-x variables). vcov = E^-1 [sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g] E^-1 / N
    (lavaan ``se = "robust.sem"``).
    """
    n = sum(g.n for g in setup.groups)
    p = len(setup.observed)
    e_inv = np.linalg.inv(info / n)
    trace = trace_b = 0.0
    meat = np.zeros_like(info)
    for g, grp in enumerate(setup.groups):
        fg = grp.n / n
        sig, mu, cols, ds, dm = _moments(setup, reg, g, theta)
        delta = np.vstack([dm, ds])
        w = _moment_weight(sig)
        gamma = gamma_meanstructure(grp.x, grp.x_idx)
        wd = w @ delta
        u = w - fg * wd @ e_inv[np.ix_(cols, cols)] @ wd.T
        trace += float(np.sum(u * gamma.T))
        meat[np.ix_(cols, cols)] += fg * wd.T @ gamma @ wd
        # baseline: free means and variances of the non-x variables
        xs = set(grp.x_idx)
        r, c = rb.vech_index(p)
        coords = [i for i in range(p) if i not in xs]
        coords += [p + k for k, (a, b) in enumerate(zip(r, c)) if a == b and a not in xs]
        delta_b = np.zeros((delta.shape[0], len(coords)))
        delta_b[coords, np.arange(len(coords))] = 1.0
        w_b = _moment_weight(fm.baseline_sigma(grp.s, grp.x_idx))
        trace_b += rb.satorra_bentler_trace(delta_b, w_b, gamma)
    vc = e_inv @ meat @ e_inv / n
    return _scaled_measures(pieces, trace, trace_b), vc


def _scaled_measures(pieces: dict, trace: float, trace_b: float, h1=None, h0=None):
    """The scaled test and robust basis from the traces of U Gamma of the model and of
    the baseline: c = trace / df, c_b = trace_b / df_b (:class:`fd.ScaledTest`,
    :class:`fd.RobustBasis` for :func:`adoption.sem.fitdict.fit_measures`)."""
    df, df_b = pieces["df"], pieces["df_b"]
    cc = trace / df if df > 0 else float("nan")
    c_b = trace_b / df_b
    return (fd.ScaledTest(cc, c_b, h1, h0),
            fd.RobustBasis(pieces["chisq"], cc, pieces["chisq_b"], c_b))


def _fiml_corrected(setup: _Setup, reg: _Registry, theta, pieces: dict) -> fd.RobustBasis:
    """Statistics behind lavaan's robust CFI/TLI/RMSEA of a multi-group FIML fit
    (estimator ML): Zhang and Savalei's FIML-corrected statistic, lavaan
    ``lav_fit_fiml_corrected(version = "V6")`` with its block-diagonal group matrices.

    Notes
    -----
    With f_g = N_g / N, Wm_g and Wc_g the missing-data (observed) and complete-data
    information per case of the saturated moments at the EM estimates (fixed-x
    coordinates left out), Delta_g the Jacobian of the group's moments and
    E = sum_g f_g Delta_g' Wm_g Delta_g:
    k = sum_g tr(Wm_g^-1 Wc_g) - tr(E^-1 sum_g f_g Delta_g' Wc_g Delta_g), c3 = k / df;
    XX3 = sum_g N_g F_ML(EM moments, fitted moments) with the mean term. The baseline
    (free means and variances per group, at its FIML estimates) likewise, group by
    group.
    """
    n = sum(g.n for g in setup.groups)
    p = len(setup.observed)
    e = np.zeros((reg.k, reg.k))
    m = np.zeros((reg.k, reg.k))
    tr_all = k_b = xx3 = xx3_b = 0.0
    for g, grp in enumerate(setup.groups):
        fg = grp.n / n
        sig, mu, cols, ds, dm = _moments(setup, reg, g, theta)
        if grp.fiml_h1 is None:  # depends on the group's data only: once per setup
            grp.fiml_h1 = _fiml_h1(grp, p)
        keep, wm, wc, tr_g, k_b_g, xx3_b_g = grp.fiml_h1
        tr_all += tr_g
        k_b += k_b_g
        xx3_b += xx3_b_g
        d = np.vstack([dm, ds])[keep]
        e[np.ix_(cols, cols)] += fg * d.T @ wm @ d
        m[np.ix_(cols, cols)] += fg * d.T @ wc @ d
        xx3 += fm.chisq_ml(grp.s, sig, grp.n, grp.m, mu)
    k = tr_all - float(np.trace(np.linalg.solve(e, m)))
    df, df_b = pieces["df"], pieces["df_b"]
    return fd.RobustBasis(xx3, k / df if df > 0 else 1.0, xx3_b, k_b / df_b)


def _fiml_h1(grp: _Group, p: int) -> tuple:
    """What :func:`_fiml_corrected` needs of one group's data alone: the non-x
    coordinates, Wm, Wc, tr(Wm^-1 Wc), the baseline's k and XX3 (at the baseline's
    FIML estimates)."""
    a1, _, keep = fiml.h1_informations(grp.pat, grp.m, grp.s, grp.x_idx)
    sub = np.ix_(keep, keep)
    wm, wc = a1[sub] / grp.n, fiml.saturated_information(grp.m, grp.s)[sub]
    tr_g = float(np.trace(np.linalg.solve(wm, wc)))
    coords = _baseline_coords(p, grp.x_idx)
    db = np.zeros((len(a1), len(coords)))
    db[coords, np.arange(len(coords))] = 1.0
    db = db[keep]
    k_b = tr_g - float(np.trace(np.linalg.solve(db.T @ wm @ db, db.T @ wc @ db)))
    mu_b, s_b = fiml.independence_moments(grp.pat, grp.x_idx)
    xx3_b = fm.chisq_ml(grp.s, s_b, grp.n, grp.m, mu_b)
    return keep, wm, wc, tr_g, k_b, xx3_b


def _baseline_coords(p: int, x_idx) -> list:
    """The baseline model's parameters in (mu, vech Sigma): means and variances of the
    non-x variables."""
    xs = set(x_idx)
    r, c = rb.vech_index(p)
    coords = [i for i in range(p) if i not in xs]
    return coords + [p + k for k, (a, b) in enumerate(zip(r, c)) if a == b and a not in xs]


# --------------------------------------------------------------------------- MLR
def _casewise_scores(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Casewise d logl_i / d (mu, vech Sigma) at (mu, Sigma): (N x (p + p*))."""
    p = sigma.shape[0]
    si = np.linalg.inv(sigma)
    z = (x - mu) @ si
    r, c = rb.vech_index(p)
    cov = (z[:, r] * z[:, c] - si[r, c]) * np.where(r == c, 0.5, 1.0)
    return np.hstack([z, cov])


def _gradient(setup: _Setup, reg: _Registry, theta) -> np.ndarray:
    """Gradient of the total log-likelihood (as :func:`_score_information`)."""
    grad = np.zeros(reg.k)
    for g, grp in enumerate(setup.groups):
        sig, mu, cols, ds, dm = _moments(setup, reg, g, theta)
        if grp.pat is not None:
            grad[cols] += _fiml_group_gradient(grp.pat, mu, sig, ds, dm)
            continue
        si = np.linalg.inv(sig)
        d = grp.m - mu
        grad[cols] += grp.n * (ds.T @ rb.ml_weight_times(si, grp.s + np.outer(d, d) - sig)
                               + dm.T @ (si @ d))
    return grad


def _observed_information(setup: _Setup, reg: _Registry, theta, h=1e-6) -> np.ndarray:
    """Observed information (total): minus the Jacobian of the analytic gradient, by
    central differences (lavaan ``observed.information = "hessian"``)."""
    k = reg.k
    a = np.zeros((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h * max(1.0, abs(theta[j]))
        a[:, j] = -(_gradient(setup, reg, theta + e) - _gradient(setup, reg, theta - e)) \
            / (2 * e[j])
    return (a + a.T) / 2


def _x_coords(p: int, x_idx) -> np.ndarray:
    """Positions of the fixed-x means and (co)variances in (mu, vech Sigma)."""
    xs = set(x_idx)
    r, c = rb.vech_index(p)
    mean = [i in xs for i in range(p)]
    cov = [(a in xs) and (b in xs) for a, b in zip(r, c)]
    return np.array(mean + cov)


def _mlr(setup: _Setup, reg: _Registry, theta, pieces: dict):
    """Yuan-Bentler (Mplus) scaled test and Huber-White covariance of a multi-group fit.

    Notes
    -----
    With E the observed information per observation (total Hessian / N), and per group
    A1_g, B1_g the saturated model's information and casewise-score cross-product at the
    sample moments, B0_g = Delta_g' B1_g(fitted moments) Delta_g:
    tr(U Gamma) = sum_g [tr(A1_g^-1 B1_g) - f_g tr(E^-1 B0_g)], c = tr / df
    (lavaan ``lav_test_yuan_bentler_mplus_trace``); fixed-x elements are left out of
    A1_g. The baseline likewise, group by group. vcov = E^-1 B E^-1 / N with
    B = sum_g f_g B0_g (lavaan ``se = "robust.huber.white"``).
    """
    n = sum(g.n for g in setup.groups)
    p = len(setup.observed)
    e_obs = _observed_information(setup, reg, theta) / n
    e_inv = np.linalg.inv(e_obs)
    trace = trace_b = trace_h1 = trace_h0 = 0.0
    ndat = 0
    meat = np.zeros_like(e_obs)
    for g, grp in enumerate(setup.groups):
        fg = grp.n / n
        sig, mu, cols, ds, dm = _moments(setup, reg, g, theta)
        delta = np.vstack([dm, ds])
        xmask = _x_coords(p, grp.x_idx)
        a1 = _moment_weight(grp.s)
        a1[xmask, :] = 0.0
        a1[:, xmask] = 0.0
        s1 = _casewise_scores(grp.x, grp.m, grp.s)
        b1 = s1.T @ s1 / grp.n
        tr_h1 = rb.yuan_bentler_trace(a1, b1, np.zeros((0, 0)), np.zeros((0, 0)))
        ndat += int(np.sum(np.diag(a1) != 0))
        s0 = _casewise_scores(grp.x, mu, sig) @ delta
        b0 = s0.T @ s0 / grp.n
        tr_h0 = fg * float(np.sum(e_inv[np.ix_(cols, cols)] * b0.T))
        trace += tr_h1 - tr_h0
        trace_h1 += tr_h1
        trace_h0 += tr_h0
        meat[np.ix_(cols, cols)] += fg * b0
        # baseline: free means and variances of the non-x variables
        xs = set(grp.x_idx)
        r, c = rb.vech_index(p)
        coords = [i for i in range(p) if i not in xs]
        coords += [p + k for k, (a, b) in enumerate(zip(r, c)) if a == b and a not in xs]
        delta_b = np.zeros((p + len(r), len(coords)))
        delta_b[coords, np.arange(len(coords))] = 1.0
        sb = fm.baseline_sigma(grp.s, grp.x_idx)
        h_b = np.zeros((p + len(r),) * 2)
        h_b[:p, :p] = np.linalg.inv(sb)
        h_b[p:, p:] = rb.h1_observed_information(sb, grp.s)
        e_b = delta_b.T @ h_b @ delta_b
        sc_b = _casewise_scores(grp.x, grp.m, sb) @ delta_b
        trace_b += rb.yuan_bentler_trace(a1, b1, sc_b.T @ sc_b / grp.n, np.linalg.inv(e_b))
    vc = e_inv @ meat @ e_inv / n
    # lavaan's scaling.factor.h1/.h0: the two parts of the trace, per statistic and
    # per free entry of the parameter table (lavaan's nx.free: every group's copy of an
    # equality-constrained parameter counted)
    nx_free = sum(sum(nm is not None for nm in grp.names) + len(reg.a_free[g])
                  for g, grp in enumerate(setup.groups))
    return _scaled_measures(pieces, trace, trace_b, trace_h1 / ndat,
                            trace_h0 / nx_free), vc
