"""The SEM engine: the one module that imports semopy.

``fit_model(syntax, data, estimator=...)`` parses lavaan syntax into a lavaan-style
parameter table (:mod:`adoption.sem.syntax`), finds the ML estimates from lavaan's default
start values (:mod:`adoption.sem.start`) by Fisher scoring, finished by BFGS with the analytic gradient
tr(G dSigma/dtheta) (semopy's SLSQP only as a fallback), and computes standard errors,
robust corrections (:mod:`adoption.sem.robust`) and fit measures
(:mod:`adoption.sem.fitmeasures`) itself, the way lavaan 0.6 does. semopy is used for
the model matrices, their derivatives and the fallback optimiser only; its own
statistics (``calc_stats``, ``inspect`` SEs) are not used because they differ from
lavaan's. Every fit runs with single-threaded BLAS (threadpoolctl).

:class:`LeanRefit` refits a fitted model's estimates to bootstrap draws, warm-started
and without standard errors or fit measures.

Errors
------
* Wrong user input (unparseable syntax, a variable missing from the data, a non-numeric
  model column, an unknown estimator) raises :class:`adoption.errors.InputError`.
* A model that cannot be fitted to these data (too few complete rows, more free
  parameters than sample moments, optimiser failure, singular information matrix) does
  not raise: the returned :class:`ModelFit` has ``converged=False`` (or NaN standard
  errors) and says why in ``warnings``.

Missing data: by default rows with a missing value in any model variable are deleted
(listwise); the number deleted is reported in ``warnings``. ``missing="fiml"`` fits by
full-information ML instead (lavaan ``missing = "ml"``), with a mean structure; the
casewise likelihood, its gradient, EM and the expected information are in
:mod:`adoption.sem.fiml`.
"""

from __future__ import annotations

import logging
import math
import time
import warnings as _warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from adoption.errors import InputError
from adoption.parallel import blas_one_thread
from adoption.sem import fiml
from adoption.sem import fitdict as fd
from adoption.sem import fitmeasures as fm
from adoption.sem import robust as rb
from adoption.sem.defined import defined_parameters, evaluate_defined
from adoption.sem.partable import ParTable, build_partable
from adoption.sem.standardized import numerical_jacobian, standardized_columns
from adoption.sem.start import start_values
from adoption.vocabulary import CONTINUOUS_ESTIMATORS
from adoption.vocabulary import (OP_COVARIANCE, OP_INTERCEPT, OP_LOADING, OP_REGRESSION,
                                 PARAMETER_COLUMNS)

ESTIMATORS = CONTINUOUS_ESTIMATORS
MISSING = ("listwise", "fiml")
ESTIMATE_COLUMNS = ("lhs", "op", "rhs", "label") + PARAMETER_COLUMNS[3:]
_Z975 = stats.norm.ppf(0.975)


@dataclass(frozen=True)
class ModelFit:
    """Result of :func:`fit_model`.

    Attributes
    ----------
    estimates : pd.DataFrame
        One row per parameter as ``lavaan::parameterEstimates(fit, standardized=TRUE)``:
        lhs, op, rhs, label, est, se, z, pvalue, ci.lower, ci.upper, std.all. Fixed
        parameters (first loadings, fixed-x (co)variances) have se 0 and z/pvalue NaN.
        Then :data:`adoption.vocabulary.STD_ALL_COLUMNS`: the delta-method se, z,
        pvalue and interval of std.all from the fit's own ``vcov`` (lavaan's
        ``standardizedSolution(type = "std.all")``, :mod:`adoption.sem.standardized`),
        ``:=`` rows included; a fixed first loading has a std.all SE, a constant std.all
        (a fixed-x variance) SE 0 and z NaN, as in lavaan.
    fit : dict
        lavaan ``fitMeasures()`` names -> float: every name lavaan returns for the fit
        (``fit.measures = "all"``; :func:`adoption.sem.fitdict.fit_measures`), which
        includes ``FIT_MEASURES``, ``unrestricted.logl`` and, under MLM/MLR,
        ``ROBUST_FIT_MEASURES``.
    r2 : dict
        R-squared of every endogenous variable (indicators and dependent variables).
    nobs : int
        Rows used (after listwise deletion).
    estimator : str
        "ML", "MLM" or "MLR".
    converged : bool
    warnings : tuple of str
        Plain-language problems (non-convergence, Heywood cases, non-positive-definite
        matrices, identification, rows deleted).
    observed : tuple of str
        Observed variables in the order of ``sample_cov``/``implied_cov``.
    sample_cov, implied_cov : np.ndarray
        S and Sigma(theta-hat), divisor N.
    vcov : pd.DataFrame
        Covariance matrix of the free parameters (robust under MLM/MLR); index and
        columns "lhs op rhs" of the first row carrying each free parameter.
    partable : ParTable or None
        The parameter table that was fitted (free/fixed rows, fixed-x values), in the
        row order of ``estimates``; for :func:`sigma_jacobian` (modification indices).
        Under FIML the ``~1`` rows of ``estimates`` follow the table's rows.
    missing : str
        "listwise" or "fiml".
    sample_mean, implied_mean : np.ndarray or None
        FIML only: the EM (saturated) means and the model-implied means, in the order
        of ``observed``; ``sample_cov`` is then the EM covariance matrix.
    std_lv : bool
        The model was fitted with ``std_lv=True``.
    """

    estimates: pd.DataFrame
    fit: dict
    r2: dict
    nobs: int
    estimator: str
    converged: bool
    warnings: tuple
    observed: tuple
    sample_cov: np.ndarray
    implied_cov: np.ndarray
    vcov: pd.DataFrame
    timings: dict = field(default_factory=dict, compare=False)
    partable: ParTable | None = field(default=None, compare=False, repr=False)
    missing: str = "listwise"
    sample_mean: np.ndarray | None = field(default=None, compare=False, repr=False)
    implied_mean: np.ndarray | None = field(default=None, compare=False, repr=False)
    std_lv: bool = False


# --------------------------------------------------------------------------- input
def _sample_moments(data: pd.DataFrame, observed: list[str]):
    sub = data[observed]
    bad = [c for c in observed if not pd.api.types.is_numeric_dtype(sub[c])]
    if bad:
        raise InputError(
            "Model variable(s) are not numeric: " + ", ".join(bad)
            + ". Recode them to numbers before fitting."
        )
    complete = sub.dropna()
    x = complete.to_numpy(dtype=float)
    n = x.shape[0]
    s = np.cov(x, rowvar=False, bias=True) if n > 1 else np.full((len(observed),) * 2, np.nan)
    return x, np.atleast_2d(s), len(sub) - n


def _failed(pt: ParTable | None, estimator, n, msgs, s=None, missing="listwise") -> ModelFit:
    nan = float("nan")
    scaled, robust = _nan_robust(estimator)
    fit = fd.fit_measures(npar=nan, n=n, chisq=nan, df=nan, chisq_b=nan, df_b=nan,
                          logl=nan, logl_h1=nan, residuals=fd.nan_residuals(), gfi=nan,
                          nel=0, scaled=scaled if estimator != "ML" else None,
                          robust=robust if estimator != "ML" or missing == "fiml" else None)
    fit = {k: (nan if k != "ntotal" else float(n)) for k in fit}
    obs = tuple(pt.observed) if pt else ()
    p = len(obs)
    return ModelFit(
        estimates=pd.DataFrame(columns=list(ESTIMATE_COLUMNS)),
        fit=fit, r2={}, nobs=int(n), estimator=estimator,
        converged=False, warnings=tuple(msgs), observed=obs,
        sample_cov=s if s is not None else np.full((p, p), np.nan),
        implied_cov=np.full((p, p), np.nan), vcov=pd.DataFrame(), missing=missing,
    )


# --------------------------------------------------------------------------- semopy
def _semopy_description(pt: ParTable) -> tuple[str, list[str | None]]:
    """semopy syntax naming every free parameter, and the semopy name of each row."""
    lines, names = [], []
    k = 0
    for row in pt.rows:
        if row.free:
            if row.label:
                name = f"L__{pt.parameter_label(row)}"
            else:
                k += 1
                name = f"P__{k}"
            mod = name
        else:
            name = None
            mod = repr(float(row.value))
        names.append(name)
        lines.append(f"{row.lhs} {row.op} {mod}*{row.rhs}")
    return "\n".join(lines), names


class _Model:
    """Thin wrapper: semopy model matrices as functions of theta, in our variable order."""

    def __init__(self, desc: str, s: np.ndarray, observed: list[str]):
        import semopy  # the only semopy import in the project

        logging.getLogger("semopy").setLevel(logging.ERROR)
        root = logging.getLogger()  # semopy warns about free first loadings on the root logger
        level = root.level
        try:
            root.setLevel(logging.ERROR)
            self.m = semopy.Model(desc, cov_diag=True)
        finally:
            root.setLevel(level)
        # semopy's start rules are not used (the engine's are lavaan's, adoption.sem.start)
        # and can loop forever (a factor with every loading free and its variance fixed)
        self.m.start_rules = [lambda *_: 0.0 for _ in self.m.start_rules]
        cov_df = pd.DataFrame(s, index=observed, columns=observed)
        self.m.load(cov=cov_df, n_samples=None)
        for p in self.m.parameters.values():  # lavaan does not bound variances
            p.bound = (None, None)
        self.active = [n for n, p in self.m.parameters.items() if p.active]
        sem_obs = list(self.m.vars["observed"])
        self.perm = [sem_obs.index(v) for v in observed]
        self.inner = list(self.m.names_beta[0])
        self.p = len(observed)
        self._gterms = None

    def optimise(self, theta0, ftol=1e-12):
        """semopy's SLSQP from ``theta0`` (the fallback optimiser)."""
        from semopy.solver import Solver

        fun, grad = self.m.get_objective("MLW")
        solver = Solver("SLSQP", fun, grad, np.asarray(theta0, dtype=float), constrs=[],
                        bounds=self.m.get_bounds(), options={"ftol": ftol, "maxiter": 10000})
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            res = solver.solve()
        return np.asarray(res.x, dtype=float), bool(res.success)

    def sigma(self, theta):
        self.m.update_matrices(theta)
        sig, (mm, cc) = self.m.calc_sigma()
        return sig[np.ix_(self.perm, self.perm)], mm, cc

    def sigma_delta(self, theta):
        sig, mm, cc = self.sigma(theta)
        grads = self.m.calc_sigma_grad(mm, cc)
        r, c = rb.vech_index(self.p)
        pr = np.array(self.perm)
        delta = np.asarray(grads, dtype=float)[:, pr[r], pr[c]].T \
            if grads else np.zeros((len(r), 0))
        return sig, delta

    def _gradient_terms(self):
        """Each free parameter's entries (i, j, value) in Beta, Lambda, Psi, Theta."""
        out = []
        for kind in range(4):
            ii, jj, vv, kk = [], [], [], []
            for k, dmxs in enumerate(self.m.mx_diffs):
                dmx = dmxs[kind]
                if dmx is None:
                    continue
                i, j = np.nonzero(dmx)
                ii += list(i)
                jj += list(j)
                vv += list(np.asarray(dmx, dtype=float)[i, j])
                kk += [k] * len(i)
            out.append((np.array(ii, dtype=int), np.array(jj, dtype=int),
                        np.array(vv, dtype=float), np.array(kk, dtype=int)))
        return out

    def trace_gradient(self, g: np.ndarray, mm: np.ndarray, cc: np.ndarray) -> np.ndarray:
        """tr(G dSigma/dtheta_k) for every free parameter, without Delta.

        ``g`` is symmetric, in our variable order; ``mm``, ``cc`` are Lambda C and C from
        :meth:`sigma`. With Sigma = M Psi M' + Theta: Theta entries give G, Psi entries
        M'GM, Lambda entries 2 (C Psi M') G and Beta entries 2 (C Psi) M'GM (each
        read at the transposed position of the entry), summed per parameter.
        """
        if self._gterms is None:
            self._gterms = self._gradient_terms()
        gs = np.empty_like(g)
        pr = np.asarray(self.perm)
        gs[np.ix_(pr, pr)] = g
        psi = self.m.matrices[2]
        cp = cc @ psi
        mgm = mm.T @ gs @ mm
        mats = (2 * cp @ mgm, 2 * (cp @ mm.T) @ gs, mgm, gs)
        k = len(self.active)
        out = np.zeros(k)
        for (i, j, v, owner), x in zip(self._gterms, mats):
            if len(i):
                out += np.bincount(owner, weights=v * x[j, i], minlength=k)
        return out

    def inner_cov(self, theta):
        """Model-implied covariance of semopy's inner (latent + structural) variables."""
        self.m.update_matrices(theta)
        beta, _, psi, _ = self.m.matrices[:4]
        c = np.linalg.inv(np.identity(beta.shape[0]) - beta)
        return c @ psi @ c.T


def _fisher_scoring(model: _Model, theta, s, max_iter=200, tol=1e-10, switch=None):
    """Polish ML estimates: theta += (Delta'W Delta)^-1 Delta'W vech(S - Sigma).

    Fisher scoring converges linearly when the model misfits; with ``switch`` (a step
    size), once a step is below it the iterations continue by BFGS (:func:`_bfgs`)
    from the inverse Fisher information, with the analytic gradient of F_ML at a
    fraction of the cost of an iteration (same optimum and stopping rule)."""
    ok = False
    for _ in range(max_iter):
        sig, delta = model.sigma_delta(theta)
        if np.min(np.linalg.eigvalsh(sig)) <= 0:
            return theta, False
        si = np.linalg.inv(sig)
        g = delta.T @ rb.ml_weight_times(si, s - sig)
        info = delta.T @ rb.ml_weight_times_delta(si, delta)
        try:
            step = np.linalg.solve(info, g)
        except np.linalg.LinAlgError:
            return theta, False
        # halve the step while the discrepancy does not decrease
        f0 = fm.chisq_ml(s, sig, 1)
        lam = 1.0
        while lam > 1e-6:
            new = theta + lam * step
            sn, _, _ = model.sigma(new)
            if np.min(np.linalg.eigvalsh(sn)) > 0 and fm.chisq_ml(s, sn, 1) <= f0 + 1e-14:
                break
            lam /= 2
        theta = new
        if np.max(np.abs(lam * step)) < tol:
            ok = True
            break
        if switch is not None and np.max(np.abs(lam * step)) < switch:
            try:
                h0 = np.linalg.inv(2 * info)
            except np.linalg.LinAlgError:
                continue
            return _bfgs(lambda th: _ml_objective(model, th, s), theta, h0, tol=tol)
    return theta, ok


# --------------------------------------------------------------------------- fitting
def fit_model(syntax: str, data: pd.DataFrame, *, estimator: str = "ML",
              fixed_x: bool = True, missing: str = "listwise",
              std_lv: bool = False) -> ModelFit:
    """Fit a lavaan-syntax model by maximum likelihood, reporting as lavaan does.

    Parameters
    ----------
    syntax : str
        lavaan model syntax, read by :func:`adoption.sem.syntax.parse_model`: ``=~``,
        ``~``, ``~~``, modifiers (``a*x`` labels, ``1*x`` fixed values, ``NA*x``,
        ``start(0.5)*x``), ``a == b`` (one parameter), ``name := expression`` (defined
        parameters: rows with op ``:=`` at the end of ``estimates``, delta-method SEs),
        ``y ~ 1`` under FIML. Labels that repeat impose equality, as in lavaan. What the
        engine cannot fit (``<``, ``>``, thresholds, interactions, ...) is refused with
        an InputError naming the line.
    data : pd.DataFrame
        Raw data, one row per respondent; other columns are ignored.
    estimator : {"ML", "MLM", "MLR"}
        "ML": expected-information SEs, likelihood-ratio chisq (lavaan ``estimator="ML"``).
        "MLM": robust SEs (``se="robust.sem"``) and Satorra-Bentler scaled test.
        "MLR": Huber-White SEs from the observed information and Yuan-Bentler (Mplus
        variant) scaled test.
    fixed_x : bool
        Observed exogenous predictors' (co)variances fixed at their sample values, and
        excluded from df, baseline and likelihood (lavaan ``fixed.x = TRUE``, default).
    std_lv : bool
        Scale each latent variable by fixing its (residual) variance at 1 and freeing its
        first loading (lavaan ``std.lv = TRUE``; rules in
        :func:`adoption.sem.syntax.build_partable`). Default: the first loading is 1.
    missing : {"listwise", "fiml"}
        "listwise": rows with any missing model variable are deleted (lavaan's default
        ``missing = "listwise"``). "fiml": full-information ML, lavaan
        ``missing = "ml"``, with estimator "ML" or "MLR": casewise likelihood with
        intercepts of the observed variables free and latent means 0; SEs from the
        observed information (lavaan's default there; MLR: Huber-White sandwich with
        the casewise scores, Yuan-Bentler "mplus" scaled test); the robust
        CFI/TLI/RMSEA come from the FIML-corrected statistic as in lavaan 0.6-14 (its
        version "V3" under MLR, "V6" under ML); rows with every model
        variable missing are dropped. With ``fixed_x=True`` rows missing an exogenous predictor
        are deleted, as lavaan 0.6-14 does (it warns "cases were deleted due to missing
        values in exogenous variable(s), while fixed.x = TRUE"); ``fixed_x=False`` keeps
        them and models x as random. The estimates table then ends with the ``~1`` rows
        (intercepts; fixed-x means and latent means with se 0).

    Returns
    -------
    ModelFit

    Raises
    ------
    InputError
        Unknown estimator or missing-data method, MLM with FIML, bad syntax,
        model variables missing or non-numeric.

    Notes
    -----
    Agrees with lavaan 0.6-14 ``sem()``/``cfa()`` with the same estimator to about 1e-6
    in estimates and SEs (see ``tests/test_sem_*.py``).

    Fit measures under FIML, as lavaan's ``fitMeasures()`` with ``missing = "ml"``:
    logl is the casewise log-likelihood (minus the fixed-x block's); unrestricted.logl
    that of the saturated moments estimated by EM exactly as
    ``lav_mvnorm_missing_h1_estimate_moments`` (tolerance 1e-5);
    chisq = 2 (unrestricted.logl - logl); df as with complete data (the means are
    saturated in both models); the baseline keeps free means and variances (and the
    exogenous-x block) and is fitted to the incomplete data; RMSEA uses N; SRMR is
    Bentler's with the mean residuals, on the EM moments; GFI/AGFI use lavaan's
    ``WLS.obs`` (available-case means, pairwise covariances times (N-1)/N) and the
    expected information under missing data; AIC/BIC count the intercepts.

    Examples
    --------
    >>> fit = fit_model("visual =~ x1 + x2 + x3", hs_data)      # doctest: +SKIP
    >>> fit.fit["cfi"], fit.estimates[["lhs", "op", "rhs", "est", "se"]]  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    if estimator not in ESTIMATORS:
        raise InputError(f"Unknown estimator '{estimator}'; use one of {', '.join(ESTIMATORS)}.")
    if not isinstance(data, pd.DataFrame):
        raise InputError("fit_model needs a pandas DataFrame of raw data.")
    if missing not in MISSING:
        raise InputError(f"Unknown missing-data method '{missing}'; use one of "
                         f"{', '.join(MISSING)}.")
    if missing == "fiml" and estimator == "MLM":
        raise InputError("estimator='MLM' needs complete data (as in lavaan); with "
                         "missing='fiml' use estimator='ML'.")
    with blas_one_thread():
        return _fit_model(syntax, data, estimator, fixed_x, missing, t0, std_lv)


def _fit_model(syntax: str, data: pd.DataFrame, estimator: str, fixed_x: bool, missing: str,
               t0: float, std_lv: bool = False) -> ModelFit:
    """:func:`fit_model` after its input checks, under single-threaded BLAS."""
    timings = {}
    pt = build_partable(syntax, data.columns, std_lv=std_lv)
    _check_intercepts(pt, missing)
    exo_declared = list(pt.exogenous_x)
    if not fixed_x:
        for row in pt.rows:
            if row.fixed_x:
                row.free, row.fixed_x = True, False
        pt.exogenous_x = []
    if missing == "fiml":
        return _fit_fiml(pt, data, estimator, exo_declared, t0, std_lv)
    x, s, n_deleted = _sample_moments(data, pt.observed)
    n, p = x.shape
    msgs = []
    if n_deleted:
        msgs.append(f"{n_deleted} row(s) with missing values in model variables were "
                    "deleted (listwise).")
    if n < 2 or n <= p:
        msgs.append(f"Only {n} complete rows for {p} observed variables: too few to fit.")
        return _failed(pt, estimator, n, msgs, s)
    eig_s = np.linalg.eigvalsh(s)
    if eig_s.min() <= 1e-12 * max(eig_s.max(), 1.0):
        msgs.append("The sample covariance matrix is not positive definite (a variable is "
                    "constant or a linear combination of others).")
        return _failed(pt, estimator, n, msgs, s)

    obs_index = {v: i for i, v in enumerate(pt.observed)}
    x_idx = [obs_index[v] for v in pt.exogenous_x]
    x_base = [obs_index[v] for v in exo_declared]  # saturated block of the baseline
    for row in pt.rows:
        if row.fixed_x:
            row.value = float(s[obs_index[row.lhs], obs_index[row.rhs]])

    desc, sem_names = _semopy_description(pt)
    npar = len({nm for nm in sem_names if nm is not None})
    df = fm.degrees_of_freedom(p, npar, len(x_idx))
    if df < 0:
        msgs.append(f"The model is not identified: {npar} free parameters but only "
                    f"{npar + df} sample moments (df = {df}).")
        return _failed(pt, estimator, n, msgs, s)

    try:
        model = _Model(desc, s, pt.observed)
        # Fisher scoring from lavaan's starting values (fast, as lavaan's default
        # optimiser reaches the same optimum); if it fails, semopy's SLSQP with a tight
        # tolerance from the same values, then Fisher scoring again to polish.
        start = _start_values(pt, sem_names, model, s)
        theta, ok_fs = _fisher_scoring(model, start, s, max_iter=100, switch=1e-3)
        if not ok_fs:
            theta, _ = model.optimise(start)
            theta, ok_fs = _fisher_scoring(model, theta, s)
    except Exception as exc:  # noqa: BLE001 - semopy raises bare Exception; never leak it
        msgs.append(f"The model could not be fitted ({type(exc).__name__}: {exc}).")
        return _failed(pt, estimator, n, msgs, s)
    timings["optimise"] = time.perf_counter() - t0
    converged = bool(ok_fs)
    if not converged:
        msgs.append("The model did not converge: estimates are unreliable.")

    index_of = {nm: model.active.index(nm) for nm in set(sem_names) if nm is not None}
    sigma, delta = model.sigma_delta(theta)
    # expected information per observation, Delta'W Delta, without the p* x p* W (only
    # the robust corrections need W itself)
    info = delta.T @ rb.ml_weight_times_delta(np.linalg.inv(sigma), delta)
    w = rb.ml_weight(sigma) if estimator != "ML" else None

    # --------------------------------------------------------------- standard errors
    vc = np.full((npar, npar), np.nan)
    a_obs = None  # observed information per observation (MLR), computed once
    try:
        info_inv = np.linalg.inv(info)
        if np.linalg.cond(info) > 1e12:
            raise np.linalg.LinAlgError
        if estimator == "ML":
            vc = info_inv / n
        elif estimator == "MLM":
            gamma = rb.gamma_adf(x, x_idx)
            vc = rb.sandwich(info_inv, delta.T @ w @ gamma @ w @ delta, n)
        else:
            a_obs = _observed_information(model, theta, s)
            scores = rb.casewise_h1_scores(x, sigma) @ delta
            vc = rb.sandwich(np.linalg.inv(a_obs), scores.T @ scores / n, n)
    except np.linalg.LinAlgError:
        msgs.append("The information matrix is singular: the model is probably not "
                    "identified (check fixed loadings / scaling of each factor); "
                    "standard errors are not available.")
        converged = False
    timings["se"] = time.perf_counter() - t0

    # --------------------------------------------------------------- estimate table
    est, r2 = _estimate_table(pt, sem_names, index_of, theta, vc, model, sigma)
    est = _with_defined(pt, est, sem_names, index_of, vc)
    est = _with_std_inference(pt, est, model, sem_names, index_of, theta, vc)
    timings["std.all.se"] = time.perf_counter() - t0

    # --------------------------------------------------------------- fit measures
    tests = _test_statistics(s, sigma, n, x_idx, x_base)
    scaled = robust = None
    if estimator != "ML":
        try:
            if estimator == "MLR" and a_obs is None:
                a_obs = _observed_information(model, theta, s)
            scaled, robust = _robust_fit(estimator, x, s, sigma, n, df, x_idx, delta, w,
                                         tests, a_obs, x_base, _nx_free(sem_names))
        except np.linalg.LinAlgError:
            scaled, robust = _nan_robust(estimator)
            msgs.append("The robust (scaled) test statistic could not be computed: an "
                        "information matrix is singular.")
    fit = _fit_measures(s, sigma, n, npar, df, x_idx, w, tests, scaled, robust)
    timings["total"] = time.perf_counter() - t0

    # --------------------------------------------------------------- warnings
    msgs += pt.notes + _diagnose(pt, est, sigma)
    vnames, order = [], []
    for row, nm in zip(pt.rows, sem_names):  # free parameters in table order
        if nm is not None and index_of[nm] not in order:
            order.append(index_of[nm])
            vnames.append(f"{row.lhs} {row.op} {row.rhs}")
    vcov = pd.DataFrame(vc[np.ix_(order, order)], index=vnames, columns=vnames)
    return ModelFit(estimates=est, fit=fit, r2=r2, nobs=int(n), estimator=estimator,
                    converged=converged, warnings=tuple(msgs), observed=tuple(pt.observed),
                    sample_cov=s, implied_cov=sigma, vcov=vcov, timings=timings,
                    partable=pt, std_lv=std_lv)


def sigma_jacobian(partable: ParTable, sample_cov: np.ndarray, values) -> tuple:
    """Sigma(theta) and Delta = d vech(Sigma) / d theta' of any parameter table.

    Parameters
    ----------
    partable : ParTable
        Rows to model (e.g. a fitted table extended by candidate parameters).
    sample_cov : np.ndarray
        S, in ``partable.observed`` order (semopy needs it to build the model).
    values : sequence of float
        One value per row: where to evaluate the free rows. Fixed rows keep
        ``row.value``; free rows sharing a label are one parameter (first row's value).

    Returns
    -------
    sigma : np.ndarray
        p x p, ``partable.observed`` order.
    delta : np.ndarray
        p* x k, :func:`adoption.sem.robust.vech_index` rows, one column per free
        parameter in order of its first row.
    """
    desc, names = _semopy_description(partable)
    model = _Model(desc, sample_cov, partable.observed)
    theta = np.zeros(len(model.active))
    order: list[str] = []
    for nm, v in zip(names, values):
        if nm is not None and nm not in order:
            theta[model.active.index(nm)] = v
            order.append(nm)
    if len(order) != len(model.active):
        raise RuntimeError("semopy added parameters that are not in the parameter table.")
    with blas_one_thread():
        sigma, delta = model.sigma_delta(theta)
    return sigma, delta[:, [model.active.index(nm) for nm in order]]


def _estimate_table(pt: ParTable, sem_names, index_of, theta, vc, model: _Model, sigma,
                    mean_rows=()):
    """lavaan's ``parameterEstimates(standardized = TRUE)`` rows, and R-squared.

    ``mean_rows``: extra ``~1`` rows (variable, est, se, free) appended after the
    (co)variance rows, as lavaan lists intercepts and latent means last.
    """
    est_rows = []
    for row, nm in zip(pt.rows, sem_names):
        if nm is None:
            est, se = row.value, 0.0
        else:
            k = index_of[nm]
            est, se = theta[k], math.sqrt(vc[k, k]) if vc[k, k] >= 0 else float("nan")
        est_rows.append((row.lhs, row.op, row.rhs, row.label, float(est), float(se)))
    for v, e, se, _ in mean_rows:
        est_rows.append((v, OP_INTERCEPT, "", "", float(e), float(se)))
    est = pd.DataFrame(est_rows, columns=["lhs", "op", "rhs", "label", "est", "se"])
    free = np.array([nm is not None for nm in sem_names] + [bool(m[3]) for m in mean_rows])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(free, est["est"] / est["se"], np.nan)
    est["z"] = z
    est["pvalue"] = 2 * stats.norm.sf(np.abs(z))
    est["ci.lower"] = est["est"] - _Z975 * est["se"]
    est["ci.upper"] = est["est"] + _Z975 * est["se"]

    total_var = _total_variances(model, theta, pt, sigma)
    own = {(r.lhs, r.rhs): e for r, e in zip(pt.rows, est["est"]) if r.op == OP_COVARIANCE}
    est["std.all"] = _std_all(pt, est["est"].iloc[:len(pt.rows)], total_var,
                              [(v, e) for v, e, _, _ in mean_rows])
    est = est[list(ESTIMATE_COLUMNS)]

    endogenous = {r.rhs for r in pt.rows if r.op == OP_LOADING} | \
                 {r.lhs for r in pt.rows if r.op == OP_REGRESSION}
    r2 = {}
    for v in pt.observed + pt.latent:
        if v in endogenous and (v, v) in own:
            r2[v] = r_squared(own[(v, v)], total_var[v])
    return est, r2


def _std_all(pt: ParTable, values, total_var: dict, means=()) -> list[float]:
    """lavaan's ``std.all`` of the table's rows (values ``values``) and of the ``~1``
    rows ``means`` ((variable, value) pairs), given every variable's total variance."""
    own = {(r.lhs, r.rhs): e for r, e in zip(pt.rows, values) if r.op == OP_COVARIANCE}
    std = []
    for r, e in zip(pt.rows, values):
        if r.op == OP_LOADING:
            std.append(e * _ratio_sqrt(total_var[r.lhs], total_var[r.rhs]))
        elif r.op == OP_REGRESSION:
            std.append(e * _ratio_sqrt(total_var[r.rhs], total_var[r.lhs]))
        elif r.lhs == r.rhs:
            std.append(e / total_var[r.lhs] if total_var[r.lhs] != 0 else float("nan"))
        else:
            va, vb = own.get((r.lhs, r.lhs)), own.get((r.rhs, r.rhs))
            std.append(e / math.sqrt(va * vb) if va and vb and va * vb > 0 else float("nan"))
    for v, e in means:  # intercepts and means: est / sd(v)
        std.append(e / math.sqrt(total_var[v]) if total_var[v] > 0 else float("nan"))
    return std


def _with_std_inference(pt: ParTable, est: pd.DataFrame, model: _Model, sem_names,
                        index_of, theta, vc, means=None) -> pd.DataFrame:
    """``est`` with the delta-method columns of ``std.all`` (:data:`STD_ALL_COLUMNS`).

    ``std.all`` of every row, ``:=`` rows included (their expressions evaluated at the
    standardised labelled parameters, as lavaan's ``lav_standardize_all``), is
    re-computed by :func:`_std_all` as a function of the free parameters (and, under
    FIML, of the free intercepts: ``means = (rows, free, nu)`` with ``rows`` the
    (variable, index in ``nu`` or None) of the ``~1`` rows and ``free`` the indices of
    the free intercepts, which follow ``theta`` in ``vc``).
    """
    k = len(theta)

    def std_of(x):
        th = x[:k]
        values = _row_values(pt, sem_names, index_of, th)
        tv = _total_variances(model, th, pt, model.sigma(th)[0])
        mrows = []
        if means is not None:
            rows, free, nu = means
            nu = nu.copy()
            nu[free] = x[k:]
            mrows = [(v, nu[i] if i is not None else 0.0) for v, i in rows]
        std = _std_all(pt, values, tv, mrows)
        if pt.defined:
            labelled = {}
            for row, v in zip(pt.rows, std):
                if row.label and row.label not in labelled:
                    labelled[row.label] = v
            std += list(evaluate_defined([(d.lhs, d.rhs) for d in pt.defined], labelled))
        return np.array(std)

    x0 = theta if means is None else np.concatenate([theta, means[2][means[1]]])
    try:
        std0 = std_of(x0)
        jac = numerical_jacobian(std_of, x0)
    finally:
        model.sigma(theta)  # semopy's matrices back at the estimates
    cols = standardized_columns(std0, jac, vc)
    return pd.concat([est.reset_index(drop=True), cols], axis=1)


def _check_intercepts(pt: ParTable, missing: str) -> None:
    """``y ~ 1`` lines: the mean structure exists only under FIML, where every observed
    intercept is free and latent means are 0; refuse anything else, naming the line."""
    for f in pt.intercepts:
        here = f"Model syntax, line {f.line}: '{f.lhs} ~ 1'"
        if missing != "fiml":
            raise InputError(f"{here}: intercepts (a mean structure) are not supported with "
                             "missing='listwise'; use missing='fiml', which estimates every "
                             "intercept, or remove the line.")
        latent_default = f.lhs in pt.latent and f.fixed == (0.0,) and not f.label
        plain = f.lhs in pt.observed and f.lhs not in pt.exogenous_x and not (
            f.fixed or f.label or f.start)
        if not (plain or latent_default):
            raise InputError(f"{here}: fixed, labelled or latent intercepts are not supported "
                             "(under FIML observed intercepts are free and latent means 0).")


def _with_defined(pt: ParTable, est: pd.DataFrame, sem_names, index_of, vc) -> pd.DataFrame:
    """``est`` with lavaan's ``:=`` rows appended (delta-method SEs from ``vc``)."""
    if not pt.defined:
        return est
    values, std, idx = {}, {}, []
    for i, (row, nm) in enumerate(zip(pt.rows, sem_names)):
        if row.label and row.label not in values:
            values[row.label] = float(est["est"].iat[i])
            std[row.label] = float(est["std.all"].iat[i])
            idx.append(index_of[nm] if nm is not None else None)
    v = np.zeros((len(idx), len(idx)))
    for a, ia in enumerate(idx):
        for b, ib in enumerate(idx):
            if ia is not None and ib is not None:
                v[a, b] = vc[ia, ib]
    rows = defined_parameters([(d.lhs, d.rhs) for d in pt.defined], values, v, std)
    return pd.concat([est, rows[list(ESTIMATE_COLUMNS)]], ignore_index=True)


def r_squared(residual_variance: float, total_variance: float) -> float:
    """R-squared of an endogenous variable, 1 - residual variance / total variance.

    NaN where lavaan gives NA (``lavInspect(fit, "r2")``): when the value exceeds 1 (a
    negative residual variance, a Heywood case) or the total variance is 0.
    """
    if not total_variance:
        return float("nan")
    r2 = 1.0 - residual_variance / total_variance
    return float(r2) if r2 <= 1.0 else float("nan")


def _start_values(pt: ParTable, sem_names, model: _Model, s) -> np.ndarray:
    """lavaan's default starting values (:func:`adoption.sem.start.start_values`) as a
    parameter vector in semopy's order (a label shared by rows: its first row's)."""
    theta = np.zeros(len(model.active))
    seen = set()
    for nm, v in zip(sem_names, start_values(pt, s)):
        if nm is not None and nm not in seen:
            seen.add(nm)
            theta[model.active.index(nm)] = v
    return theta


def _gradient(model: _Model, theta, s):
    """-1/2 dF_ML/dtheta = Delta' W vech(S - Sigma) (score per observation)."""
    sig, delta = model.sigma_delta(theta)
    return delta.T @ rb.ml_weight_times(np.linalg.inv(sig), s - sig)


def _observed_information(model: _Model, theta, s, h=1e-6):
    """Observed information per observation: minus the Jacobian of the analytic score,
    by central differences (lavaan ``observed.information = "hessian"``)."""
    k = len(theta)
    a = np.zeros((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h * max(1.0, abs(theta[j]))
        a[:, j] = -(_gradient(model, theta + e, s) - _gradient(model, theta - e, s)) / (2 * e[j])
    model.sigma(theta)
    return (a + a.T) / 2


def _ratio_sqrt(a: float, b: float) -> float:
    """sqrt(a / b), NaN when undefined (non-positive variances of a failed model)."""
    return math.sqrt(a / b) if a > 0 and b > 0 else float("nan")


def _total_variances(model: _Model, theta, pt: ParTable, sigma) -> dict:
    tv = {v: float(sigma[i, i]) for i, v in enumerate(pt.observed)}
    inner = model.inner_cov(theta)
    for i, v in enumerate(model.inner):
        if v not in tv:
            tv[v] = float(inner[i, i])
    return tv


def _test_statistics(s, sigma, n, x_idx, x_base=None) -> dict:
    """Log-likelihoods and chi-square statistics of the model and the baseline with
    complete data. ``x_idx``: fixed-x columns; ``x_base``: the observed exogenous
    predictors, whose block stays saturated in the baseline model whether x is fixed or
    not (lavaan ``lav_partable_independence`` keeps the x covariances with
    ``fixed.x = FALSE`` too); default ``x_idx``."""
    p = s.shape[0]
    x_base = x_idx if x_base is None else x_base
    logl = fm.loglik(s, sigma, n, x_idx)
    logl_h1 = fm.unrestricted_loglik(s, n, x_idx)
    return {"logl": logl, "logl_h1": logl_h1, "chisq": max(2 * (logl_h1 - logl), 0.0),
            "chisq_b": fm.chisq_ml(s, fm.baseline_sigma(s, x_base), n),
            "df_b": fm.baseline_df(p, len(x_base))}


def _fit_measures(s, sigma, n, npar, df, x_idx, w, tests: dict, scaled=None,
                  robust=None) -> dict:
    """lavaan's fitMeasures() with complete data (:func:`adoption.sem.fitdict.fit_measures`;
    no mean structure, as lavaan's single-group default)."""
    p = s.shape[0]
    return fd.fit_measures(
        npar=npar, n=n, chisq=tests["chisq"], df=df, chisq_b=tests["chisq_b"],
        df_b=tests["df_b"], logl=tests["logl"], logl_h1=tests["logl_h1"],
        residuals=fm.residual_measures(s, sigma), gfi=fm.gfi(s, sigma, w, x_idx),
        nel=fm.n_moments(p), scaled=scaled, robust=robust)


def _nan_robust(estimator: str):
    """Scaled test and robust basis of a fit whose robust statistics failed (NaN)."""
    nan = float("nan")
    h = nan if estimator == "MLR" else None
    return fd.ScaledTest(nan, nan, h, h), fd.RobustBasis(nan, nan, nan, nan)


def _x_mask(p, x_idx):
    r, c = rb.vech_index(p)
    xs = set(x_idx)
    return np.array([(i in xs) and (j in xs) for i, j in zip(r, c)])


def _baseline_delta(p, x_idx, x_random=()):
    """Delta of the baseline model: variances of the non-x variables, plus the x block
    (``x_random``) when x is random (saturated there, free)."""
    r, c = rb.vech_index(p)
    xs, xr = set(x_idx), set(x_random)
    cols = [k for k, (i, j) in enumerate(zip(r, c))
            if (i == j and i not in xs and i not in xr) or (i in xr and j in xr)]
    d = np.zeros((len(r), len(cols)))
    for m, k in enumerate(cols):
        d[k, m] = 1.0
    return d


def _nx_free(sem_names) -> int:
    """Free entries of the parameter table, each equality-constrained copy counted
    (lavaan's ``nx.free``, the divisor of ``scaling.factor.h0``; npar counts them once)."""
    return sum(nm is not None for nm in sem_names)


def _robust_fit(estimator, x, s, sigma, n, df, x_idx, delta, w, tests, a_obs,
                x_base=None, nx_free=None):
    """Scaled test (Satorra-Bentler under MLM, Yuan-Bentler under MLR) of the model and
    the baseline with complete data: (:class:`ScaledTest`, :class:`RobustBasis`).
    ``nx_free``: :func:`_nx_free`."""
    p = s.shape[0]
    x_base = x_idx if x_base is None else x_base
    sb = fm.baseline_sigma(s, x_base)
    delta_b = _baseline_delta(p, x_idx, [] if x_idx else x_base)
    w_b = rb.ml_weight(sb)
    df_b = tests["df_b"]
    h1 = h0 = None
    if estimator == "MLM":
        gamma = rb.gamma_adf(x, x_idx)
        tr = rb.satorra_bentler_trace(delta, w, gamma)
        tr_b = rb.satorra_bentler_trace(delta_b, w_b, gamma)
    else:
        a1 = rb.ml_weight(s)
        if x_idx:  # fixed x: the x-block of the h1 information is zero (not inverted)
            a1[_x_mask(p, x_idx)] = 0.0
            a1[:, _x_mask(p, x_idx)] = 0.0
        s_h1 = rb.casewise_h1_scores(x, s)
        b1 = s_h1.T @ s_h1 / n
        s_h0 = rb.casewise_h1_scores(x, sigma) @ delta
        e_inv = np.linalg.inv(a_obs)
        tr = rb.yuan_bentler_trace(a1, b1, s_h0.T @ s_h0 / n, e_inv)
        s_b = rb.casewise_h1_scores(x, sb) @ delta_b
        e_b = delta_b.T @ rb.h1_observed_information(sb, s) @ delta_b
        tr_b = rb.yuan_bentler_trace(a1, b1, s_b.T @ s_b / n, np.linalg.inv(e_b))
        # lavaan's scaling.factor.h1/.h0: the two parts of the trace, per statistic
        # and per parameter
        tr_h1 = rb.yuan_bentler_trace(a1, b1, np.zeros((0, 0)), np.zeros((0, 0)))
        h1 = tr_h1 / int(np.sum(np.diag(a1) != 0))
        h0 = (tr_h1 - tr) / nx_free
    c = tr / df if df > 0 else float("nan")
    c_b = tr_b / df_b
    return (fd.ScaledTest(c, c_b, h1, h0),
            fd.RobustBasis(tests["chisq"], c, tests["chisq_b"], c_b))


def _diagnose(pt: ParTable, est: pd.DataFrame, sigma) -> list[str]:
    msgs = []
    for r in est.itertuples(index=False):
        if r.op == OP_COVARIANCE and r.lhs == r.rhs and r.est < 0:
            msgs.append(f"Heywood case: the variance of {r.lhs} is negative ({r.est:.4g}).")
    loadings = est[est["op"] == OP_LOADING]
    for lhs, rhs, v in zip(loadings["lhs"], loadings["rhs"], loadings["std.all"]):
        if abs(v) > 1:
            msgs.append(f"Heywood case: the standardised loading of {rhs} on {lhs} "
                        f"exceeds 1 in absolute value ({v:.4g}).")
    if np.min(np.linalg.eigvalsh(sigma)) <= 0:
        msgs.append("The model-implied covariance matrix is not positive definite.")
    return msgs


# --------------------------------------------------------------------------- FIML
#: Single-threaded BLAS while fitting: :func:`adoption.parallel.blas_one_thread`, which
#: this module also re-exports under its public name for the other estimators' modules.
_blas_one_thread = blas_one_thread


def _fiml_data(data: pd.DataFrame, pt: ParTable):
    """Model columns as a float array with NaN, after lavaan's deletions under
    ``missing = "ml"``: rows missing a fixed-x predictor, then rows missing everything."""
    sub = data[pt.observed]
    bad = [c for c in pt.observed if not pd.api.types.is_numeric_dtype(sub[c])]
    if bad:
        raise InputError(
            "Model variable(s) are not numeric: " + ", ".join(bad)
            + ". Recode them to numbers before fitting."
        )
    x = sub.to_numpy(dtype=float)
    msgs = []
    obs_index = {v: i for i, v in enumerate(pt.observed)}
    x_idx = [obs_index[v] for v in pt.exogenous_x]
    if x_idx:
        miss_x = np.isnan(x[:, x_idx]).any(axis=1)
        if miss_x.any():
            msgs.append(f"{int(miss_x.sum())} row(s) with missing values in observed exogenous "
                        f"predictor(s) ({', '.join(pt.exogenous_x)}) were deleted: with fixed "
                        "x their values are conditioned on, as lavaan's missing = \"ml\" with "
                        "fixed.x = TRUE does (fixed_x=False keeps them and models x).")
            x = x[~miss_x]
    empty = np.isnan(x).all(axis=1)
    if empty.any():
        msgs.append(f"{int(empty.sum())} row(s) with every model variable missing were "
                    "deleted (as lavaan).")
        x = x[~empty]
    return x, x_idx, msgs


def fiml_rows(data: pd.DataFrame, pt: ParTable) -> np.ndarray:
    """The rows a FIML fit of ``pt`` uses (model columns, NaN for holes), after
    lavaan's deletions under ``missing = "ml"`` (see :func:`fit_model`)."""
    return _fiml_data(data, pt)[0]


def dsigma_stack(delta: np.ndarray, p: int) -> np.ndarray:
    """k x p x p stack of dSigma/dtheta_k from Delta (vech rows)."""
    return _dsigma(delta, p)


def _dsigma(delta: np.ndarray, p: int) -> np.ndarray:
    """k x p x p stack of dSigma/dtheta_k from Delta (vech rows)."""
    r, c = rb.vech_index(p)
    out = np.zeros((delta.shape[1], p, p))
    out[:, r, c] = delta.T
    out[:, c, r] = delta.T
    return out


def _fiml_optimise(model: _Model, pat, theta, mu, free_mu, tol=1e-9):
    """Maximise the FIML log-likelihood over (theta, mu[free_mu]).

    Fisher scoring first, (theta, mu) += I^-1 g with g the analytic FIML gradient and I
    the expected information under MAR (:func:`adoption.sem.fiml.expected_information`);
    it converges only linearly, slowly when the model misfits (observed and expected
    information then differ), so once a step is more than 0.2 times the previous one,
    Newton steps with the observed information (the Hessian, by differences of the
    analytic gradient) finish the job. Steps are halved
    while the log-likelihood does not increase.
    """
    k = len(theta)
    sig, _, _ = model.sigma(theta)
    f0 = fiml.loglik(pat, mu, sig)
    if not np.isfinite(f0):
        return theta, mu, False

    def line_search(step):
        lam = 1.0
        while True:
            new_th = theta + lam * step[:k]
            new_mu = mu.copy()
            new_mu[free_mu] += lam * step[k:]
            sn, _, _ = model.sigma(new_th)
            f1 = fiml.loglik(pat, new_mu, sn)
            if f1 >= f0 - 1e-12 * abs(f0) or lam < 1e-6:
                return new_th, new_mu, f1, lam * np.max(np.abs(step), initial=0.0)
            lam /= 2

    prev = math.inf
    for it in range(50):  # Fisher scoring while it contracts fast
        sig, delta = model.sigma_delta(theta)
        g_th, g_mu = _fiml_gradient(model, pat, theta, mu)
        info_th, info_mu = fiml.expected_information(pat, sig, _dsigma(delta, pat.p))
        try:
            step = np.concatenate([np.linalg.solve(info_th, g_th),
                                   np.linalg.solve(info_mu[np.ix_(free_mu, free_mu)],
                                                   g_mu[free_mu])])
        except np.linalg.LinAlgError:
            return theta, mu, False
        theta, mu, f0, size = line_search(step)
        if size < tol:
            return theta, mu, True
        if it >= 2 and size > 0.2 * prev:
            break
        prev = size
    for _ in range(3):  # Newton, Hessian refreshed if 20 steps do not converge
        info = _fiml_observed_information(model, pat, theta, mu, free_mu)
        for _ in range(20):
            g_th, g_mu = _fiml_gradient(model, pat, theta, mu)
            try:
                step = np.linalg.solve(info, np.concatenate([g_th, g_mu[free_mu]]))
            except np.linalg.LinAlgError:
                return theta, mu, False
            theta, mu, f0, size = line_search(step)
            if size < tol:
                return theta, mu, True
    return theta, mu, False


def _fiml_gradient(model: _Model, pat, theta, mu):
    """(d logl/d theta, d logl/d mu) of the FIML log-likelihood."""
    r, c = rb.vech_index(pat.p)
    sig, delta = model.sigma_delta(theta)
    g_mu, big_m = fiml.gradient(pat, mu, sig)
    return delta.T @ (big_m[r, c] * np.where(r == c, 0.5, 1.0)), g_mu


def _fiml_observed_information(model: _Model, pat, theta, mu, free_mu, h=1e-6):
    """Observed information (minus the Hessian of the FIML logl, total, not per case)
    of (theta, mu[free_mu]): theta columns by central differences of the analytic
    gradient, the mu-mu block analytic, sum_g n_g Sigma_oo^-1 (embedded)."""
    k, m = len(theta), len(free_mu)
    hess = np.zeros((k + m, k + m))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h * max(1.0, abs(theta[j]))
        gp_th, gp_mu = _fiml_gradient(model, pat, theta + e, mu)
        gm_th, gm_mu = _fiml_gradient(model, pat, theta - e, mu)
        hess[:k, j] = (gp_th - gm_th) / (2 * e[j])
        hess[k:, j] = (gp_mu - gm_mu)[free_mu] / (2 * e[j])
    sig, _, _ = model.sigma(theta)
    _, a = fiml.expected_information(pat, sig, np.zeros((0, pat.p, pat.p)))
    hess[:k, k:] = hess[k:, :k].T
    hess[k:, k:] = -a[np.ix_(free_mu, free_mu)]
    info = -(hess + hess.T) / 2
    return info


def _row_values(pt: ParTable, sem_names, index_of, theta) -> list[float]:
    return [float(row.value) if nm is None else float(theta[index_of[nm]])
            for row, nm in zip(pt.rows, sem_names)]


def _intercepts(pt: ParTable, values, mu) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's intercepts nu of the observed variables and means alpha (= 0) of the
    latent ones, from the model-implied observed means ``mu``.

    Notes
    -----
    Each variable's mean is its intercept plus its coefficients (loadings as
    indicator <- factor, regressions) times its predictors' means, with latent
    intercepts fixed at 0: the latent means m solve (I - B_LL) m = B_LO mu, and
    nu = mu - B_OO mu - B_OL m.
    """
    obs, lat = pt.observed, pt.latent
    names = obs + lat
    pos = {v: i for i, v in enumerate(names)}
    b = np.zeros((len(names), len(names)))
    for row, v in zip(pt.rows, values):
        if row.op == OP_LOADING:
            b[pos[row.rhs], pos[row.lhs]] += v
        elif row.op == OP_REGRESSION:
            b[pos[row.lhs], pos[row.rhs]] += v
    p = len(obs)
    b_oo, b_ol = b[:p, :p], b[:p, p:]
    b_lo, b_ll = b[p:, :p], b[p:, p:]
    m_lat = np.linalg.solve(np.identity(len(lat)) - b_ll, b_lo @ mu) if lat else np.zeros(0)
    return mu - b_oo @ mu - b_ol @ m_lat, m_lat


def _fiml_failed(pt, estimator, n, msgs, s=None) -> ModelFit:
    return _failed(pt, estimator, n, msgs, s, missing="fiml")


def _fit_fiml(pt: ParTable, data: pd.DataFrame, estimator: str, exo_declared,
              t0: float, std_lv: bool = False) -> ModelFit:
    """FIML branch of :func:`fit_model` (``missing="fiml"``), lavaan's ``missing = "ml"``
    with ``information = "observed"``."""
    timings = {}
    x, x_idx, msgs = _fiml_data(data, pt)
    n, p = x.shape
    if n < 2 or n <= p:
        msgs.append(f"Only {n} usable rows for {p} observed variables: too few to fit.")
        return _fiml_failed(pt, estimator, n, msgs)
    never = [v for v, seen in zip(pt.observed, (~np.isnan(x)).any(axis=0)) if not seen]
    if never:
        msgs.append("Variable(s) with no observed value: " + ", ".join(never) + ".")
        return _fiml_failed(pt, estimator, n, msgs)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        constant = [v for v, sd in zip(pt.observed, np.nanstd(x, axis=0)) if not sd > 0]
    if constant:
        msgs.append("Variable(s) with a single observed value (constant): "
                    + ", ".join(constant) + ". Remove them from the model.")
        return _fiml_failed(pt, estimator, n, msgs)
    pat = fiml.missing_patterns(x)
    mu_h1, s_h1, _, em_ok = fiml.em_moments(pat)
    if not em_ok:
        msgs.append("The EM estimate of the saturated moments did not converge in 500 "
                    "iterations; chi-square and SRMR are approximate.")
    eig_s = np.linalg.eigvalsh(s_h1)
    if eig_s.min() <= 1e-12 * max(eig_s.max(), 1.0):
        msgs.append("The (EM) covariance matrix is not positive definite (a variable is "
                    "constant or a linear combination of others).")
        return _fiml_failed(pt, estimator, n, msgs, s_h1)

    obs_index = {v: i for i, v in enumerate(pt.observed)}
    if x_idx:  # fixed x: sample moments of the (complete) x columns
        xx = x[:, x_idx]
        dx = xx - xx.mean(axis=0)
        s_xx = dx.T @ dx / n
        mu_h1[x_idx] = xx.mean(axis=0)
        s_h1[np.ix_(x_idx, x_idx)] = s_xx
    for row in pt.rows:
        if row.fixed_x:
            row.value = float(s_h1[obs_index[row.lhs], obs_index[row.rhs]])
    free_mu = [i for i in range(p) if i not in set(x_idx)]

    desc, sem_names = _semopy_description(pt)
    npar_cov = len({nm for nm in sem_names if nm is not None})
    npar = npar_cov + len(free_mu)
    df = fm.degrees_of_freedom(p, npar_cov, len(x_idx))
    if df < 0:
        msgs.append(f"The model is not identified: {npar_cov} free (co)variance-structure "
                    f"parameters but only {npar_cov + df} sample (co)variances (df = {df}).")
        return _fiml_failed(pt, estimator, n, msgs, s_h1)

    try:
        model = _Model(desc, s_h1, pt.observed)
        # start: the complete-data ML fit to the EM moments, then FIML scoring
        start = _start_values(pt, sem_names, model, s_h1)
        theta, ok_fs = _fisher_scoring(model, start, s_h1, max_iter=100)
        if not ok_fs:
            theta, _ = model.optimise(start)
            theta, _ = _fisher_scoring(model, theta, s_h1)
        theta, mu, converged = _fiml_optimise(model, pat, theta, mu_h1.copy(), free_mu)
    except Exception as exc:  # noqa: BLE001 - semopy raises bare Exception; never leak it
        msgs.append(f"The model could not be fitted ({type(exc).__name__}: {exc}).")
        return _fiml_failed(pt, estimator, n, msgs, s_h1)
    timings["optimise"] = time.perf_counter() - t0
    if not converged:
        msgs.append("The model did not converge: estimates are unreliable.")

    index_of = {nm: model.active.index(nm) for nm in set(sem_names) if nm is not None}
    sigma, delta = model.sigma_delta(theta)
    k = len(theta)

    # --------------------------------------------------------------- standard errors
    vc_full = np.full((k + len(free_mu),) * 2, np.nan)
    info_inv = s0 = None
    try:
        info = _fiml_observed_information(model, pat, theta, mu, free_mu)
        if np.linalg.cond(info) > 1e12:
            raise np.linalg.LinAlgError
        info_inv = np.linalg.inv(info)
        if estimator == "ML":
            vc_full = info_inv
        else:  # MLR: Huber-White sandwich with the casewise scores
            s0 = _fiml_scores(model, pat, theta, mu, free_mu)
            vc_full = info_inv @ (s0.T @ s0) @ info_inv
    except np.linalg.LinAlgError:
        msgs.append("The information matrix is singular: the model is probably not "
                    "identified (check fixed loadings / scaling of each factor); "
                    "standard errors are not available.")
        converged = False
    # intercepts by the delta method: nu = nu(theta, mu) (identity at the optimum)
    values = _row_values(pt, sem_names, index_of, theta)
    nu, m_lat = _intercepts(pt, values, mu)
    jac = np.zeros((len(free_mu), k + len(free_mu)))
    for j in range(k + len(free_mu)):
        th_p, th_m, mu_p, mu_m = theta.copy(), theta.copy(), mu.copy(), mu.copy()
        if j < k:
            h = 1e-6 * max(1.0, abs(theta[j]))
            th_p[j] += h
            th_m[j] -= h
        else:
            i = free_mu[j - k]
            h = 1e-6 * max(1.0, abs(mu[i]))
            mu_p[i] += h
            mu_m[i] -= h
        nu_p = _intercepts(pt, _row_values(pt, sem_names, index_of, th_p), mu_p)[0]
        nu_m = _intercepts(pt, _row_values(pt, sem_names, index_of, th_m), mu_m)[0]
        jac[:, j] = (nu_p - nu_m)[free_mu] / (2 * h)
    j_full = np.vstack([np.hstack([np.identity(k), np.zeros((k, len(free_mu)))]), jac])
    vc_full = j_full @ vc_full @ j_full.T
    vc = vc_full[:k, :k]
    timings["se"] = time.perf_counter() - t0

    # --------------------------------------------------------------- estimate table
    order_obs = [v for v in pt.observed if v not in exo_declared] + \
        [v for v in pt.observed if v in exo_declared]
    se_mu = {free_mu[i]: vc_full[k + i, k + i] for i in range(len(free_mu))}
    mean_rows = []
    for v in order_obs:
        i = obs_index[v]
        if i in se_mu:
            mean_rows.append((v, nu[i], math.sqrt(se_mu[i]) if se_mu[i] >= 0 else float("nan"),
                              True))
        else:
            mean_rows.append((v, nu[i], 0.0, False))
    mean_rows += [(v, 0.0, 0.0, False) for v in pt.latent]
    est, r2 = _estimate_table(pt, sem_names, index_of, theta, vc, model, sigma, mean_rows)
    est = _with_defined(pt, est, sem_names, index_of, vc)
    means = ([(v, obs_index[v]) for v in order_obs] + [(v, None) for v in pt.latent],
             list(free_mu), np.asarray(nu, dtype=float))
    est = _with_std_inference(pt, est, model, sem_names, index_of, theta, vc_full, means)
    timings["std.all.se"] = time.perf_counter() - t0

    # --------------------------------------------------------------- fit measures
    x_base = [obs_index[v] for v in exo_declared]  # saturated block of the baseline
    delta_full = np.zeros((p + delta.shape[0], k + len(free_mu)))  # d(mu, vech Sigma)
    delta_full[p:, :k] = delta
    delta_full[free_mu, k + np.arange(len(free_mu))] = 1.0
    tests = _fiml_test_statistics(pat, mu_h1, s_h1, mu, sigma, x_idx, x_base)
    scaled = robust = None
    try:
        if estimator != "ML" and info_inv is None:  # no information matrix: no scaled test
            raise np.linalg.LinAlgError
        h1 = fiml.h1_informations(pat, mu_h1, s_h1, x_idx)
        if estimator != "ML":
            scaled = _fiml_scaled_test(pat, h1, x_idx, x_base, info_inv, s0, tests, df,
                                       _nx_free(sem_names) + len(free_mu))
        robust = _fiml_corrected(pat, h1, mu_h1, s_h1, mu, sigma, delta_full, x_idx, x_base,
                                 tests, n, df, "V6" if estimator == "ML" else "V3")
    except np.linalg.LinAlgError:
        scaled, robust = _nan_robust(estimator)
        scaled = None if estimator == "ML" else scaled
        if info_inv is not None:
            msgs.append("The robust (scaled) test statistic could not be computed: an "
                        "information matrix is singular.")
    fit = _fiml_fit_measures(pat, mu_h1, s_h1, mu, sigma, npar, df, x_idx, tests, scaled,
                             robust)
    timings["total"] = time.perf_counter() - t0

    msgs += pt.notes + _diagnose(pt, est, sigma)
    vnames, order = [], []
    for row, nm in zip(pt.rows, sem_names):
        if nm is not None and index_of[nm] not in order:
            order.append(index_of[nm])
            vnames.append(f"{row.lhs} {row.op} {row.rhs}")
    for v in order_obs:  # intercepts in table order
        if obs_index[v] in free_mu:
            order.append(k + free_mu.index(obs_index[v]))
            vnames.append(f"{v} {OP_INTERCEPT} ")
    vcov = pd.DataFrame(vc_full[np.ix_(order, order)], index=vnames, columns=vnames)
    return ModelFit(estimates=est, fit=fit, r2=r2, nobs=int(n), estimator=estimator,
                    converged=converged, warnings=tuple(msgs), observed=tuple(pt.observed),
                    sample_cov=s_h1, implied_cov=sigma, vcov=vcov, timings=timings,
                    partable=pt, missing="fiml", sample_mean=mu_h1, implied_mean=mu,
                    std_lv=std_lv)


def _fiml_test_statistics(pat, mu_h1, s_h1, mu, sigma, x_idx, x_base) -> dict:
    """Log-likelihoods and chi-square statistics of the model and the baseline under
    missing = "ml". ``x_idx``: fixed-x columns; ``x_base``: the observed exogenous
    predictors, whose block stays saturated in the baseline model whether x is fixed or
    not (as lavaan)."""
    n, p = pat.n, pat.p
    ll_x = fm.loglik_x(s_h1, n, x_idx)
    logl = fiml.loglik(pat, mu, sigma) - ll_x
    logl_h1 = fiml.loglik(pat, mu_h1, s_h1) - ll_x
    mu_b, s_b = fiml.independence_moments(pat, x_base)
    chisq_b = max(2 * (logl_h1 - (fiml.loglik(pat, mu_b, s_b) - ll_x)), 0.0)
    return {"logl": logl, "logl_h1": logl_h1, "chisq": max(2 * (logl_h1 - logl), 0.0),
            "chisq_b": chisq_b, "df_b": fm.baseline_df(p, len(x_base)),
            "mu_b": mu_b, "s_b": s_b}


def _fiml_fit_measures(pat, mu_h1, s_h1, mu, sigma, npar, df, x_idx, tests: dict,
                       scaled=None, robust=None) -> dict:
    """lavaan's fitMeasures() under missing = "ml" (see fit_model Notes), with the mean
    structure lavaan has there: residual indices of the EM moments with their means;
    GFI from lavaan's pairwise sample statistics (:func:`adoption.sem.fiml.gfi`)."""
    m_obs, s_obs = fiml.pairwise_moments(pat.x)
    return fd.fit_measures(
        npar=npar, n=pat.n, chisq=tests["chisq"], df=df, chisq_b=tests["chisq_b"],
        df_b=tests["df_b"], logl=tests["logl"], logl_h1=tests["logl_h1"],
        residuals=fm.residual_measures(s_h1, sigma, mu_h1, mu),
        gfi=fiml.gfi(pat, m_obs, s_obs, mu, sigma, x_idx),
        nel=fm.n_moments(pat.p, meanstructure=True), scaled=scaled, robust=robust)


def _fiml_scores(model: _Model, pat, theta, mu, free_mu) -> np.ndarray:
    """Casewise scores d logl_i / d (theta, mu[free_mu]), N x (k + m)."""
    sig, delta = model.sigma_delta(theta)
    s_mu, s_sig = fiml.casewise_scores(pat, mu, sig)
    return np.hstack([s_sig @ delta, s_mu[:, free_mu]])


def _baseline_coords(p, x_idx, x_base) -> list:
    """Parameters of the baseline model as coordinates of (mu, vech Sigma): means and
    variances of the non-x variables, plus the x block when x is random (saturated)."""
    r, c = rb.vech_index(p)
    xb = set(x_base)
    coords = [j for j in range(p) if j not in xb]
    coords += [p + kk for kk, (a, b) in enumerate(zip(r, c)) if a == b and a not in xb]
    if x_base and not x_idx:  # random x: its block is saturated (free) in the baseline
        coords += list(x_base)
        coords += [p + kk for kk, (a, b) in enumerate(zip(r, c)) if a in xb and b in xb]
    return sorted(coords)


def _fiml_scaled_test(pat, h1, x_idx, x_base, info_inv, s0, tests, df,
                      nx_free) -> fd.ScaledTest:
    """MLR with FIML: lavaan's ``yuan.bentler.mplus`` scaled test under missing = "ml".

    c = [tr(A1^-1 B1) - tr(E^-1 B0)] / df with A1, B1 the observed and first-order
    information of the saturated moments at their EM estimates, E the fitted model's
    observed information and B0 its casewise-score cross-product; the baseline model's
    c_b likewise with its own E and B0 (means and variances, plus the x block when x is
    random). scaling.factor.h1 = tr(A1^-1 B1) / (number of non-x moments),
    scaling.factor.h0 = tr(E^-1 B0) / nx_free (:func:`_nx_free` plus the intercepts).
    ``h1``: :func:`adoption.sem.fiml.h1_informations`.
    """
    a1, s1, keep = h1
    tr_h1 = float(np.sum(np.linalg.solve(a1[np.ix_(keep, keep)], s1[:, keep].T) * s1[:, keep].T))
    tr_h0 = float(np.sum(info_inv * (s0.T @ s0).T))
    coords = _baseline_coords(pat.p, x_idx, x_base)
    mu_b, s_b = tests["mu_b"], tests["s_b"]
    e_b = fiml.moment_observed_information(pat, mu_b, s_b, coords=coords)
    sb = fiml.moment_scores(pat, mu_b, s_b)[:, coords]
    tr_b = tr_h1 - float(np.sum(np.linalg.solve(e_b, sb.T) * sb.T))
    cc = (tr_h1 - tr_h0) / df if df > 0 else float("nan")
    return fd.ScaledTest(cc, tr_b / tests["df_b"], tr_h1 / len(keep), tr_h0 / nx_free)


def _fiml_corrected(pat, h1, mu_h1, s_h1, mu, sigma, delta_full, x_idx, x_base, tests, n,
                    df, version: str) -> fd.RobustBasis:
    """Statistics behind lavaan's robust CFI/TLI/RMSEA under missing = "ml" (0.6-13+):
    the FIML-corrected statistic of Zhang and Savalei (``lav_fit_fiml_corrected``),
    version "V3" with a scaled test (MLR), "V6" without (ML). XX3 is the complete-data
    ML statistic of the FIML estimates against the EM moments, its scaling factor
    c3 = k / df from :func:`adoption.sem.fiml.fiml_corrected_traces` (likewise for the
    baseline). As in lavaan 0.6-14, the complete-data information Wc has the
    exogenous-x block zeroed even with fixed_x=False (lavaan refits with ``lavaan()``'s
    default fixed.x = TRUE).
    """
    p = pat.p
    a1, s1, keep = h1
    wm, jm = a1 / n, (s1.T @ s1 / n if version == "V3" else None)
    wc = fiml.saturated_information(mu_h1, s_h1)
    x_coords = fiml.fixed_x_coords(p, x_base)
    wc[x_coords, :] = 0.0
    wc[:, x_coords] = 0.0
    coords = _baseline_coords(p, x_idx, x_base)
    delta_b = np.zeros((len(wm), len(coords)))
    delta_b[coords, np.arange(len(coords))] = 1.0
    df_b = tests["df_b"]
    k3, k3_b = fiml.fiml_corrected_traces(wm, jm, wc, (delta_full, delta_b), keep, version)
    c3 = k3 / df if df > 0 else 1.0
    c3_b = k3_b / df_b
    return fd.RobustBasis(fm.chisq_ml(s_h1, sigma, n, mu_h1, mu), c3,
                          fm.chisq_ml(s_h1, tests["s_b"], n, mu_h1, tests["mu_b"]),
                          c3_b)


# --------------------------------------------------------------------------- lean refits
#: Prepared models of :class:`LeanRefit`, per process (semopy models are not pickled:
#: each worker builds its own on its first draw).
_PREPARED: dict = {}


@dataclass(frozen=True)
class _Prepared:
    pt: ParTable
    names: list
    model: _Model
    index_of: dict
    regressions: list  # (lhs, rhs, theta index or None, fixed value)
    free_mu: list
    lean: bool  # False: fixed-x values depend on the sample, refit cold instead


@dataclass(frozen=True)
class LeanRefit:
    """The regression estimates of one model refitted to other data (bootstrap draws),
    warm-started from a full-sample fit: no standard errors, no fit measures.

    A picklable callable for :func:`adoption.structural.bootstrap.bootstrap_refit`:
    ``refit(frame) -> ({(lhs, rhs): est}, {(lhs, rhs): std.all})`` for every ``~`` row.
    Each draw runs the same iterations as :func:`fit_model` (Fisher scoring to a step
    below 1e-10 with complete data, the FIML scoring/Newton iterations to 1e-9 under
    ``missing="fiml"``) from the full-sample estimates instead of lavaan's start values,
    so it reaches the same optimum in a few iterations. A draw where that does not
    converge, or a model with fixed-x (co)variances (whose values change with the
    sample), is refitted cold by :func:`fit_model`. A draw that does not converge either
    way raises ``RuntimeError`` (counted as failed by the bootstrap, as in lavaan).

    Build it with :meth:`from_fit`.
    """

    syntax: str
    missing: str = "listwise"
    fixed_x: bool = True
    std_lv: bool = False
    start: tuple = ()  # free parameters, one per distinct free row, in row order
    start_mu: tuple = ()  # FIML: model-implied means of the observed variables
    #: inverse Hessian (per observation) at the full-sample optimum, semopy's order
    hessian_inv: np.ndarray | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_fit(cls, syntax: str, fit: ModelFit, data: pd.DataFrame | None = None,
                 fixed_x: bool = True) -> "LeanRefit":
        """The refit warm-started from ``fit``, a converged :func:`fit_model` result of
        ``syntax`` with the same ``fixed_x``. With ``data`` (the data ``fit`` was fitted
        to), the draws' quasi-Newton iterations start from the inverse observed Hessian
        at the full-sample optimum instead of the inverse expected information at the
        start values; on the example's 37-item SEM that saved no iterations (a draw's
        Hessian differs from the full sample's as much as the expected information
        does), so the stage does not pass it."""
        if fit.partable is None or not fit.converged:
            raise InputError("LeanRefit needs a converged fit_model result.")
        _, names = _semopy_description(fit.partable)
        start, seen = [], set()
        for nm, e in zip(names, fit.estimates["est"]):
            if nm is not None and nm not in seen:
                seen.add(nm)
                start.append(float(e))
        mu = () if fit.implied_mean is None else tuple(map(float, fit.implied_mean))
        out = cls(syntax=syntax, missing=fit.missing, fixed_x=fixed_x, std_lv=fit.std_lv,
                  start=tuple(start), start_mu=mu)
        if data is None:
            return out
        with blas_one_thread():
            prep = out._prepare(data.columns)
            if not prep.lean:
                return out
            theta = out._theta(prep)
            try:
                if out.missing == "listwise":
                    hess = 2 * _observed_information(prep.model, theta, fit.sample_cov)
                else:
                    x, _, _ = _fiml_data(data, prep.pt)
                    pat = fiml.missing_patterns(x)
                    hess = _fiml_observed_information(prep.model, pat, theta,
                                                      np.array(mu), prep.free_mu) / pat.n
                h0 = np.linalg.inv(hess)
            except np.linalg.LinAlgError:
                return out
        return replace(out, hessian_inv=h0)

    def _theta(self, prep: _Prepared) -> np.ndarray:
        theta = np.empty(len(prep.model.active))
        for nm, v in zip(prep.names, self.start):
            theta[prep.index_of[nm]] = v
        return theta

    def _prepare(self, columns) -> _Prepared:
        key = (self.syntax, self.missing, self.fixed_x, self.std_lv, tuple(columns))
        prep = _PREPARED.get(key)
        if prep is not None:
            return prep
        pt = build_partable(self.syntax, columns, std_lv=self.std_lv)
        if not self.fixed_x:
            for row in pt.rows:
                if row.fixed_x:
                    row.free, row.fixed_x = True, False
            pt.exogenous_x = []
        lean = not pt.exogenous_x
        for row in pt.rows:
            if row.fixed_x:
                row.value = 0.0  # placeholder: such models are refitted cold
        desc, names = _semopy_description(pt)
        model = _Model(desc, np.identity(len(pt.observed)), pt.observed)
        index_of = {nm: model.active.index(nm) for nm in set(names) if nm is not None}
        # theta is in the order of first appearance; semopy's is model.active
        order = list(dict.fromkeys(nm for nm in names if nm is not None))
        if len(order) != len(model.active) or len(order) != len(self.start):
            lean = False
        regs = [(r.lhs, r.rhs, None if nm is None else index_of[nm], r.value)
                for r, nm in zip(pt.rows, names) if r.op == OP_REGRESSION]
        free_mu = list(range(len(pt.observed)))
        prep = _Prepared(pt=pt, names=order, model=model, index_of=index_of,
                         regressions=regs, free_mu=free_mu, lean=lean)
        _PREPARED[key] = prep
        return prep

    def _h0(self, prep: _Prepared, theta0, n=None) -> np.ndarray:
        """Initial inverse Hessian of the BFGS iterations: the full-sample one of
        :meth:`from_fit`, else the inverse expected information at the start values
        (data-free: it depends on Sigma(theta0) only), of F_ML (complete data) or of
        -logl (FIML; means block n Sigma^-1)."""
        if self.hessian_inv is not None:
            return self.hessian_inv if n is None else self.hessian_inv / n
        key = ("h0", id(prep))
        h0 = _PREPARED.get(key)
        if h0 is None:
            sig, delta = prep.model.sigma_delta(theta0)
            si = np.linalg.inv(sig)
            info = 2 * delta.T @ rb.ml_weight_times_delta(si, delta)  # Hessian of F_ML
            h0 = _PREPARED[key] = (np.linalg.inv(info), np.linalg.inv(si))
        if n is None:
            return h0[0]
        k, p = len(theta0), h0[1].shape[0]
        out = np.zeros((k + p, k + p))
        out[:k, :k] = 2 * h0[0] / n  # -logl = n/2 F_ML with complete data
        out[k:, k:] = h0[1] / n
        return out

    def _cold(self, frame: pd.DataFrame) -> tuple[dict, dict]:
        mf = fit_model(self.syntax, frame, fixed_x=self.fixed_x, missing=self.missing,
                       std_lv=self.std_lv)
        if not mf.converged:
            raise RuntimeError("did not converge")
        reg = mf.estimates[mf.estimates["op"] == OP_REGRESSION]
        keys = list(zip(reg["lhs"], reg["rhs"]))
        return (dict(zip(keys, reg["est"].astype(float))),
                dict(zip(keys, reg["std.all"].astype(float))))

    def __call__(self, frame: pd.DataFrame) -> tuple[dict, dict]:
        """Refit to ``frame``: ``({(lhs, rhs): est}, {(lhs, rhs): std.all})``."""
        with blas_one_thread():
            return self._refit(frame)

    def _refit(self, frame: pd.DataFrame) -> tuple[dict, dict]:
        prep = self._prepare(frame.columns)
        sub = frame[prep.pt.observed].to_numpy(dtype=float)
        if self.missing == "listwise":
            x = sub[~np.isnan(sub).any(axis=1)]
            n, p = x.shape
            if n <= p:
                raise RuntimeError(f"only {n} complete rows")
            s = np.cov(x, rowvar=False, bias=True)
        else:
            x = sub[~np.isnan(sub).all(axis=1)]
        if not prep.lean:
            return self._cold(frame)
        model = prep.model
        theta0 = self._theta(prep)
        try:
            if self.missing == "listwise":
                theta, ok = _bfgs(lambda th: _ml_objective(model, th, s), theta0,
                                  self._h0(prep, theta0))
            else:
                pat = fiml.missing_patterns(x)
                if any(not (~np.isnan(x[:, j])).any() for j in range(x.shape[1])):
                    return self._cold(frame)
                k = len(theta0)
                z, ok = _bfgs(lambda z: _fiml_objective(model, pat, z[:k], z[k:]),
                              np.concatenate([theta0, self.start_mu]),
                              self._h0(prep, theta0, n=len(x)))
                theta = z[:k]
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            ok = False
        if not ok:
            return self._cold(frame)
        sigma, _, _ = model.sigma(theta)
        tv = {v: float(sigma[i, i]) for i, v in enumerate(prep.pt.observed)}
        inner = model.inner_cov(theta)
        for i, v in enumerate(model.inner):
            tv.setdefault(v, float(inner[i, i]))
        coef, std = {}, {}
        for lhs, rhs, k, value in prep.regressions:
            b = float(theta[k]) if k is not None else float(value)
            coef[(lhs, rhs)] = b
            std[(lhs, rhs)] = b * _ratio_sqrt(tv[rhs], tv[lhs])
        return coef, std


def _ml_objective(model: _Model, theta, s):
    """F_ML = log|Sigma| + tr(S Sigma^-1) - log|S| - p and its gradient
    -2 Delta' W vech(S - Sigma); ok False when Sigma is not positive definite."""
    sig, mm, cc = model.sigma(theta)
    try:
        chol = np.linalg.cholesky(sig)
    except np.linalg.LinAlgError:
        return math.inf, None, False
    si = np.linalg.inv(sig)
    si = (si + si.T) / 2
    f = 2.0 * float(np.sum(np.log(np.diag(chol)))) + float(np.sum(s * si))
    # dF = tr(G dSigma), G = Sigma^-1 (Sigma - S) Sigma^-1
    return f, model.trace_gradient(si - si @ s @ si, mm, cc), True


def _fiml_objective(model: _Model, pat, theta, mu):
    """-logl of FIML and its gradient in (theta, mu) (every mean free)."""
    sig, mm, cc = model.sigma(theta)
    try:
        d, z, ld, si, a_sum = fiml._casewise_terms(pat, mu, sig)
    except np.linalg.LinAlgError:
        return math.inf, None, False
    f = 0.5 * (float(np.sum(ld)) + float(np.einsum("ij,ij->", d, z)))
    # d logl = 1/2 tr(M dSigma) (fiml.gradient): d(-logl) = tr(-M/2 dSigma)
    g_th = model.trace_gradient(-0.5 * (z.T @ z - a_sum), mm, cc)
    return f, np.concatenate([g_th, -z.sum(axis=0)]), True


def _bfgs(fg, z, h_inv, tol=1e-10, max_iter=200):
    """Minimise f by BFGS from ``z`` with initial inverse Hessian ``h_inv`` (the inverse
    expected information, so the first step is a Fisher-scoring step); steps are halved
    while f does not decrease (beyond rounding). Converged when the largest step is
    below ``tol``, as :func:`_fisher_scoring`. Returns (z, converged)."""
    f, g, ok = fg(z)
    if not ok:
        return z, False
    h = np.array(h_inv, dtype=float)
    for _ in range(max_iter):
        step = -h @ g
        lam = 1.0
        while True:
            z_new = z + lam * step
            f_new, g_new, ok = fg(z_new)
            if ok and f_new <= f + 1e-13 * max(1.0, abs(f)):
                break
            lam /= 2
            if lam < 1e-8:
                return z, False
        sz, y = z_new - z, g_new - g
        z, f, g = z_new, f_new, g_new
        if np.max(np.abs(sz)) < tol:
            return z, True
        sy = float(sz @ y)
        if sy > 1e-300:
            hy = h @ y
            h += ((sy + y @ hy) / sy ** 2) * np.outer(sz, sz) \
                - (np.outer(hy, sz) + np.outer(sz, hy)) / sy
    return z, False
