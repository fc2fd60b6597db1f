"""Modification indices: score tests of the parameters a fitted model leaves out.

:func:`modification_indices` reproduces ``lavaan::modindices(fit)`` (lavaan 0.6-14) for
models fitted by :func:`adoption.sem.engine.fit_model`: the same candidate parameters,
the modification index (MI), the expected parameter change (EPC) and its standardised
versions. Candidates are listed as lavaan's ``lav_partable_full`` lists them:

* ``=~`` every factor to every observed non-x variable that is not in a regression;
* ``~~`` every pair of indicators (residual covariances; pairs with a variable that is
  not an indicator are left out), every pair of factors, and the (co)variances of the
  fixed-x predictors (their MI is 0 by construction: fixed x are fitted exactly);
* ``~`` every ordered pair of variables that appear in a regression (also those that
  would make the model non-recursive, and regressions of one predictor on another),
  except an indicator on a factor;
* every parameter that the model fixes (first loadings, fixed-x (co)variances, ``0*x``).

Candidates whose information, given the free parameters, is below eps^(1/3) (freeing
them would leave the model unidentified, e.g. a first loading) are dropped, as lavaan
drops them (``na.remove = TRUE``).

References
----------
Saris, W. E., Satorra, A., & Sorbom, D. (1987). The detection and correction of
specification errors in structural equation models. *Sociological Methodology*, 17,
105-129.
Sorbom, D. (1989). Model modification. *Psychometrika*, 54, 371-384.
lavaan 0.6-14 source: ``lav_modindices.R``, ``lav_partable_full.R``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.sem import robust as rb
from adoption.sem import fiml
from adoption.sem.engine import ModelFit
from adoption.sem.fimlfit import fiml_rows
from adoption.sem.matrices import dsigma_stack, sigma_jacobian
from adoption.sem.partable import ParRow, ParTable
from adoption.vocabulary import OP_COVARIANCE, OP_LOADING, OP_REGRESSION

MI_COLUMNS = ("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox")
_V_MIN = np.finfo(float).eps ** (1 / 3)  # lavaan: V.diag < eps^(1/3) -> NA
_SMALL = np.sqrt(np.finfo(float).eps)


# --------------------------------------------------------------------------- formulas
def score_test(info: np.ndarray, grad: np.ndarray, free: np.ndarray, n: int):
    """Univariate score tests (MI) and expected parameter changes (EPC).

    Parameters
    ----------
    info : np.ndarray
        Expected information per observation of all parameters, free and candidate
        (k x k).
    grad : np.ndarray
        Gradient of the log-likelihood per observation at the estimates (k); zero for
        the free parameters at a maximum.
    free : np.ndarray of bool
        Which of the k parameters the model estimates; the others are candidates.
    n : int
        Number of observations.

    Returns
    -------
    mi, epc : np.ndarray
        One value per candidate (``~free``), NaN where the conditional information
        ``V`` is below eps^(1/3).

    Notes
    -----
    With the information partitioned into free (2) and candidate (1) parameters,
    ``V = I11 - I12 I22^-1 I21``; for candidate j, ``MI_j = N g_j^2 / V_jj`` and
    ``EPC_j = g_j / V_jj`` (Saris, Satorra & Sorbom, 1987), as ``lavaan::modindices``
    with ``information = "expected"``.
    """
    c = ~free
    i11 = info[np.ix_(c, c)]
    i12 = info[np.ix_(c, free)]
    i22 = info[np.ix_(free, free)]
    v = np.diag(i11) - np.einsum("ij,ji->i", i12, np.linalg.solve(i22, i12.T))
    v = np.where(v < _V_MIN, np.nan, v)
    g = grad[c]
    return n * g * g / v, g / v


def standardisation_warnings(fit: ModelFit) -> list[str]:
    """Plain-language notes on the standardised EPCs of :func:`modification_indices`:
    one for each variable whose model-implied total variance is not positive (a Heywood
    case), whose sepc.lv / sepc.all / sepc.nox are then NaN (lavaan: NA, after R's
    "NaNs produced" from the square root of a negative variance)."""
    pt = fit.partable
    if pt is None or fit.estimates.empty:
        return []
    variables = list(pt.observed) + list(pt.latent)
    var = np.diag(total_covariance(fit.estimates, variables))
    return [f"Modification indices: the model-implied variance of {v} is not positive "
            f"({x:.4g}), so the standardised expected changes (sepc.lv, sepc.all, "
            f"sepc.nox) that use its SD are not available (NaN, as lavaan's NA)."
            for v, x in zip(variables, var) if not x > 0]


def total_covariance(estimates: pd.DataFrame, variables: list[str]) -> np.ndarray:
    """Model-implied covariance matrix of all variables (observed and latent).

    RAM form: with A the directed paths (``=~`` from factor to indicator, ``~`` from
    predictor to outcome) and S the (residual) (co)variances, Cov = (I-A)^-1 S (I-A)^-T
    (McArdle & McDonald, 1984).
    """
    k = {v: i for i, v in enumerate(variables)}
    a = np.zeros((len(variables),) * 2)
    s = np.zeros_like(a)
    for lhs, op, rhs, est in zip(estimates["lhs"], estimates["op"], estimates["rhs"],
                                 estimates["est"]):
        if op == OP_LOADING:
            a[k[rhs], k[lhs]] = est
        elif op == OP_REGRESSION:
            a[k[lhs], k[rhs]] = est
        elif op == OP_COVARIANCE:
            s[k[lhs], k[rhs]] = s[k[rhs], k[lhs]] = est
    b = np.linalg.inv(np.identity(len(variables)) - a)
    return b @ s @ b.T


# --------------------------------------------------------------------------- candidates
def candidate_parameters(pt: ParTable) -> list[tuple[str, str, str]]:
    """Parameters lavaan's ``modindices`` considers adding, as (lhs, op, rhs).

    The rows of ``lavaan:::lav_partable_full(strict.exo = FALSE)`` that the model does
    not already contain (see the module docstring); the model's fixed rows are added by
    :func:`modification_indices` itself.
    """
    ov, lv, ov_x = pt.observed, pt.latent, set(pt.exogenous_x)
    ov_nox = [v for v in ov if v not in ov_x]
    ov_ind = {r.rhs for r in pt.rows if r.op == OP_LOADING}
    eqs = []
    for r in pt.rows:  # lavaan's eqs.y then eqs.x
        if r.op == OP_REGRESSION and r.lhs not in eqs:
            eqs.append(r.lhs)
    for r in pt.rows:
        if r.op == OP_REGRESSION and r.rhs not in eqs:
            eqs.append(r.rhs)

    def pairs(names):
        return [(names[j], names[i]) for j in range(len(names)) for i in range(j, len(names))]

    out = [(f, OP_LOADING, v) for f in lv for v in ov_nox if v not in eqs]
    out += [(a, OP_COVARIANCE, b) for a, b in pairs(ov_nox) if a in ov_ind and b in ov_ind]
    out += [(a, OP_COVARIANCE, b) for a, b in pairs([v for v in ov if v in ov_x])]
    out += [(a, OP_COVARIANCE, b) for a, b in pairs(lv)]
    out += [(a, OP_REGRESSION, b) for a in eqs for b in eqs
            if a != b and not (a in ov_ind and b in lv)]
    have = {(r.lhs, r.op, r.rhs) for r in pt.rows}
    have |= {(r.rhs, r.op, r.lhs) for r in pt.rows if r.op == OP_COVARIANCE}
    return [c for c in out if c not in have]


# --------------------------------------------------------------------------- adapter
def modification_indices(fit: ModelFit, *, sort: bool = True,
                         minimum_value: float = 0.0,
                         data: pd.DataFrame | None = None) -> pd.DataFrame:
    """Modification indices of a fitted model, as ``lavaan::modindices(fit)``.

    Parameters
    ----------
    fit : ModelFit
        A converged result of :func:`adoption.sem.engine.fit_model` (any estimator: the
        indices use the ML scores and expected information, as lavaan does for ML, MLM
        and MLR alike).
    sort : bool
        Sort by ``mi``, largest first (lavaan ``sort. = TRUE``); otherwise candidates in
        lavaan's order (fixed rows of the model first, then ``=~``, ``~~``, ``~``).
    minimum_value : float
        Keep only rows with ``mi`` above this value (lavaan ``minimum.value``).
    data : pandas.DataFrame, optional
        The data the model was fitted on; needed (only) for a FIML fit, whose score
        test uses the casewise likelihood: the gradient of the FIML log-likelihood and
        its expected information at the model-implied moments, as ``lavaan::modindices``
        on a ``missing = "ml"`` fit.

    Returns
    -------
    pd.DataFrame
        One row per candidate parameter:

        * ``lhs``, ``op``, ``rhs``: the parameter, in lavaan syntax;
        * ``mi``: modification index, the expected drop in the model chi-square when the
          parameter is freed (1-df score test);
        * ``epc``: expected parameter change, its estimate when freed (change from its
          fixed value);
        * ``sepc.lv``: EPC with latent variables standardised;
        * ``sepc.all``: EPC with all variables standardised (covariances divided by the
          square roots of the two residual variances);
        * ``sepc.nox``: as ``sepc.all`` but observed exogenous variables not
          standardised where they are predictors.

    Raises
    ------
    InputError
        The fit did not converge, is not a ``fit_model`` result, or used FIML.

    Notes
    -----
    The model is extended by all candidates (at 0) and its fixed parameters (at their
    fixed values). With Delta = d vech(Sigma) / d theta', W = 1/2 D'(Sigma^-1 (x)
    Sigma^-1) D, the expected information per observation is I = Delta' W Delta and the
    log-likelihood gradient per observation g = Delta' W vech(S - Sigma); see
    :func:`score_test` for MI and EPC. The gradient uses the full W; the information,
    as lavaan's under ``fixed.x``, has the rows and columns of the x (co)variances of
    W set to zero. Agrees with ``lavaan::modindices`` (0.6-14) in the candidate set and
    to 5e-5 relative in mi/epc/sepc (lavaan's optimiser tolerance; 1e-11 for a path
    model of observed variables), see ``tests/test_sem_modindices.py``.

    Examples
    --------
    >>> fit = fit_model(hs_model, hs_data)                     # doctest: +SKIP
    >>> modification_indices(fit).head(3)                      # doctest: +SKIP
          lhs op rhs     mi    epc  sepc.lv  sepc.all  sepc.nox
    0  visual =~  x9  36.41  0.577    0.519     0.515     0.515
    """
    pt = fit.partable
    if pt is None or not fit.converged:
        raise InputError("Modification indices need a converged model from fit_model; "
                         "this fit did not converge.")
    if fit.missing != "listwise" and data is None:
        raise InputError("Modification indices of a FIML fit need the data it was fitted "
                         "on: pass data=.")
    est = fit.estimates
    # extended table: the model's rows (fixed ones freed at their values), then candidates
    rows, values, free = [], [], []
    for row, value in zip(pt.rows, est["est"]):
        rows.append(ParRow(row.lhs, row.op, row.rhs, row.label if row.free else "", True,
                           None, row.user, False))
        values.append(float(value))
        free.append(row.free)
    for lhs, op, rhs in candidate_parameters(pt):
        rows.append(ParRow(lhs, op, rhs, "", True, None, False, False))
        values.append(0.0)
        free.append(False)
    ext = ParTable(rows=rows, observed=list(pt.observed), latent=list(pt.latent),
                   exogenous_x=list(pt.exogenous_x), equal=dict(pt.equal))
    sigma, delta = sigma_jacobian(ext, fit.sample_cov, values)

    # one column of delta per free parameter of ext: rows sharing a label share a column
    col_of, col, col_free = [], {}, []
    for i, row in enumerate(rows):
        key = ("label", ext.parameter_label(row)) if row.label else ("row", i)
        if key not in col:
            col[key] = len(col)
            col_free.append(free[i])
        col_of.append(col[key])
    if fit.missing != "listwise":
        grad, info, n = _fiml_score_terms(ext, data, fit, sigma, delta)
        return _finish(table_rows=rows, free=free, col_of=col_of, col_free=np.array(col_free),
                       info=info, grad=grad, n=n, fit=fit, pt=pt, sort=sort,
                       minimum_value=minimum_value)
    w = rb.ml_weight(sigma)
    grad = delta.T @ w @ rb.vech(fit.sample_cov - sigma)
    x_idx = [ext.observed.index(v) for v in ext.exogenous_x]
    # The gradient above is the true score (full W). The information, as lavaan's h1
    # expected information under fixed.x, carries nothing in the x block.
    if x_idx:
        r, c = rb.vech_index(len(ext.observed))
        xm = np.isin(r, x_idx) & np.isin(c, x_idx)
        w[xm, :] = 0.0
        w[:, xm] = 0.0
    info = delta.T @ w @ delta
    return _finish(table_rows=rows, free=free, col_of=col_of, col_free=np.array(col_free),
                   info=info, grad=grad, n=fit.nobs, fit=fit, pt=pt, sort=sort,
                   minimum_value=minimum_value)


def _fiml_score_terms(ext: ParTable, data: pd.DataFrame, fit: ModelFit, sigma, delta):
    """Per-observation FIML gradient and expected information of the extended model's
    covariance parameters (the mean block is orthogonal to them in the expected
    information), and N."""
    pat = fiml.missing_patterns(fiml_rows(data, ext))
    p = len(ext.observed)
    dsig = dsigma_stack(delta, p)
    # as for complete data: the information carries nothing in the fixed-x block
    # (M W M with M zeroing the x (co)variance rows of Delta)
    x_idx = [ext.observed.index(v) for v in ext.exogenous_x]
    r, c = rb.vech_index(p)
    masked = np.where((np.isin(r, x_idx) & np.isin(c, x_idx))[:, None], 0.0, delta)
    info, _ = fiml.expected_information(pat, sigma, dsigma_stack(masked, p))
    _, big_m = fiml.gradient(pat, np.asarray(fit.implied_mean, dtype=float), sigma)
    grad = 0.5 * np.einsum("ij,kji->k", big_m, dsig)
    return grad / pat.n, info / pat.n, pat.n


def _finish(*, table_rows, free, col_of, col_free, info, grad, n, fit, pt, sort, minimum_value):
    rows = table_rows
    mi, epc = score_test(info, grad, col_free, n)
    cand_cols = np.flatnonzero(~col_free)
    pos = {c: k for k, c in enumerate(cand_cols)}

    out = [(r.lhs, r.op, r.rhs, mi[pos[c]], epc[pos[c]])
           for i, (r, c) in enumerate(zip(rows, col_of)) if not free[i]]
    table = pd.DataFrame(out, columns=["lhs", "op", "rhs", "mi", "epc"])
    table = _standardise(table, fit, pt)
    table = table[table["mi"].notna()]
    if minimum_value > 0:
        table = table[table["mi"] > minimum_value]
    if sort:
        table = table.sort_values("mi", ascending=False, kind="stable")
    return table[list(MI_COLUMNS)].reset_index(drop=True)


def _standardise(table: pd.DataFrame, fit: ModelFit, pt: ParTable) -> pd.DataFrame:
    """sepc.lv, sepc.all, sepc.nox as lavaan's ``lav_standardize_*(cov.std = TRUE)``."""
    variables = list(pt.observed) + list(pt.latent)
    var = np.diag(total_covariance(fit.estimates, variables))
    # a non-positive total variance (a Heywood case) has no SD: NaN, lavaan's NA (R's
    # sqrt of a negative), said by standardisation_warnings; never 0, which would
    # silently standardise the EPC to 0
    sd = {v: float(np.sqrt(x)) if x > 0 else np.nan for v, x in zip(variables, var)}
    latent, x = set(pt.latent), set(pt.exogenous_x)
    # the (residual) variance of each variable, as in the parameter table; lavaan
    # replaces it by the (near-zero) EPC for fixed-x variables, so they standardise to NA
    res_var = {}
    for lhs, op, rhs, e in zip(fit.estimates["lhs"], fit.estimates["op"],
                               fit.estimates["rhs"], fit.estimates["est"]):
        if op == OP_COVARIANCE and lhs == rhs:
            res_var[lhs] = np.nan if lhs in x else e
    lv_sd = {v: sd[v] if v in latent else 1.0 for v in variables}
    nox_sd = {v: 1.0 if v in x else sd[v] for v in variables}
    out = {"sepc.lv": [], "sepc.all": [], "sepc.nox": []}
    for lhs, op, rhs, epc in zip(table["lhs"], table["op"], table["rhs"], table["epc"]):
        for name, scale in (("sepc.lv", lv_sd), ("sepc.all", sd), ("sepc.nox", nox_sd)):
            if op == OP_LOADING:
                val = epc * scale[lhs] / scale[rhs]
            elif op == OP_REGRESSION:  # std.nox: only a predictor x keeps its units
                val = epc * scale[rhs] / (sd[lhs] if name == "sepc.nox" else scale[lhs])
            elif lhs == rhs:  # a fixed variance freed: lavaan shows the estimate
                e = res_var.get(lhs, np.nan)
                val = 0.0 if not abs(e) >= _SMALL else np.sign(epc) * abs(e) / scale[lhs] ** 2
            elif name == "sepc.lv" and not (lhs in latent and rhs in latent):
                val = epc
            else:   # a residual fixed at 0 (a single-item construct's item): NaN, lavaan's NA
                v2 = res_var.get(lhs, np.nan) * res_var.get(rhs, np.nan)
                val = epc / np.sqrt(v2) if v2 > 0 else np.nan
            out[name].append(val)
    return table.assign(**out)
