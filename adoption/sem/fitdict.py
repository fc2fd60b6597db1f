"""The fit-measure dictionary of a fitted model: every name lavaan's ``fitMeasures(fit)``
returns, in lavaan's order, built once for every kind of fit.

:func:`fit_measures` takes the numbers a fit provides (test statistics of the model and
the baseline, log-likelihoods, the residual-based indices, GFI) and, under a robust
estimator, the scaling factors of the scaled test (:class:`ScaledTest`) and the
statistics behind the robust indices (:class:`RobustBasis`); each index is one function
of :mod:`adoption.sem.fitmeasures`. The engine (complete data and FIML) and the
multi-group fit call it; none of them builds the dictionary itself.

Which names appear follows lavaan 0.6-14 ``lav_fit_measures`` with
``fit.measures = "all"`` for estimator ML (MLM and MLR are ML estimates with another
test): the ``.scaled`` names with a scaled test (MLM, MLR), the ``.robust`` names with a
scaled test or under FIML (``missing = "ml"``, where they use Zhang and Savalei's
FIML-corrected statistic), ``scaling.factor.h1``/``.h0`` with the Yuan-Bentler test
(MLR).

References
----------
lavaan 0.6-14, ``lav_fit_measures.R`` (``lav_fit_measures``), ``lav_fit_cfi.R``,
``lav_fit_rmsea.R``, ``lav_fit_srmr.R``, ``lav_fit_gfi.R``, ``lav_fit_aic.R``,
``lav_fit_other.R``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from adoption.sem import fitmeasures as fm

_NAN = float("nan")
#: Names of :func:`adoption.sem.fitmeasures.residual_measures`, in lavaan's order (with
#: ``srmr`` = ``srmr_bentler`` after ``rmr_nomean``).
RESIDUAL_NAMES = ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr",
                  "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean")


@dataclass(frozen=True)
class ScaledTest:
    """A mean-scaled test statistic (Satorra-Bentler under MLM, Yuan-Bentler under MLR).

    Attributes
    ----------
    c, c_b : float
        Scaling factors tr(U Gamma) / df of the model and of the baseline model
        (``chisq.scaling.factor``, ``baseline.chisq.scaling.factor``).
    h1, h0 : float or None
        Yuan-Bentler only: ``scaling.factor.h1`` = tr(A1^-1 B1) / (number of sample
        statistics) and ``scaling.factor.h0`` = tr(E^-1 B0) / npar, the two parts of the
        trace (lavaan ``lav_test_yuan_bentler``); None under MLM.
    """

    c: float
    c_b: float
    h1: float | None = None
    h0: float | None = None


@dataclass(frozen=True)
class RobustBasis:
    """The statistics behind the robust CFI, TLI, RNI and RMSEA (lavaan ``XX3``,
    ``c.hat3``): with complete data the unscaled chisq and the scaling factor of the
    scaled test; under FIML the complete-data statistic of the FIML estimates against
    the EM moments and its FIML-corrected scaling factor (Zhang & Savalei), for the
    model (``chisq``, ``c``) and the baseline (``chisq_b``, ``c_b``)."""

    chisq: float
    c: float
    chisq_b: float
    c_b: float


def nan_residuals() -> dict:
    """The residual-based indices of a fit that failed: NaN under every name."""
    return {k: _NAN for k in RESIDUAL_NAMES}


def fit_measures(*, npar, n, chisq, df, chisq_b, df_b, logl, logl_h1, residuals: dict,
                 gfi: float, nel: int, n_groups: int = 1, scaled: ScaledTest | None = None,
                 robust: RobustBasis | None = None, ci_level: float = 0.90,
                 close_h0: float = 0.05, notclose_h0: float = 0.08) -> dict:
    """lavaan's ``fitMeasures(fit)`` (all names) from the numbers of a fit.

    Parameters
    ----------
    npar : int
        Free parameters.
    n : int
        Total number of observations used (lavaan ``ntotal``).
    chisq, df : float
        The ML likelihood-ratio statistic and its degrees of freedom.
    chisq_b, df_b : float
        The same of the baseline (independence) model.
    logl, logl_h1 : float
        Log-likelihood of the model and of the saturated model.
    residuals : dict
        :data:`RESIDUAL_NAMES` -> value (:func:`adoption.sem.fitmeasures.residual_measures`,
        weighted by N_g / N over groups).
    gfi : float
        GFI (N_g / N weighted over groups); ``nel`` the number of sample statistics
        (:func:`adoption.sem.fitmeasures.n_moments`) for AGFI and PGFI.
    n_groups : int
        G: the RMSEA family carries lavaan's sqrt(G) factor.
    scaled : ScaledTest, optional
        The scaled test (MLM, MLR): adds the ``.scaled`` names (and, under MLR,
        ``scaling.factor.h1``/``.h0``).
    robust : RobustBasis, optional
        Adds the ``.robust`` names (MLM, MLR, and every FIML fit).
    ci_level, close_h0, notclose_h0 : float
        lavaan's ``rmsea.ci.level``, ``rmsea.close.h0``, ``rmsea.notclose.h0``.

    Returns
    -------
    dict
        name -> float in lavaan's order.

    Notes
    -----
    Scaled statistics: chisq.scaled = chisq / c (chisq when df = 0), the baseline's
    likewise with c_b; the incremental indices ``.scaled`` are the ordinary formulas of
    the scaled statistics; ``rmsea.scaled`` and its interval and p-values use the
    unscaled chisq with df' = c df (lavaan; NaN when df = 0, where lavaan has no
    scaling factor and also leaves out ``scaling.factor.h1``/``.h0``). Robust indices: the formulas with the
    scaling factors (``cfi(chisq, df, chisq_b, df_b, c, c_b)``); ``rmsea.robust`` =
    sqrt(G) sqrt(max(chisq/(N df) - c/N, 0)), its interval and p-values from chisq / c
    with c in the noncentrality (lavaan ``lav_fit_rmsea_lavobject``).
    """
    g = n_groups
    out = {"npar": float(npar), "fmin": fm.fmin(chisq, n), "chisq": chisq,
           "df": float(df), "pvalue": fm.pvalue_chisq(chisq, df)}
    t = t_b = None
    if scaled is not None:
        t = chisq / scaled.c if df > 0 else chisq
        t_b = chisq_b / scaled.c_b
        out.update({"chisq.scaled": t, "df.scaled": float(df),
                    "pvalue.scaled": fm.pvalue_chisq(t, df),
                    "chisq.scaling.factor": scaled.c if df > 0 else _NAN})
    out.update({"baseline.chisq": chisq_b, "baseline.df": float(df_b),
                "baseline.pvalue": fm.pvalue_chisq(chisq_b, df_b)})
    if scaled is not None:
        out.update({"baseline.chisq.scaled": t_b, "baseline.df.scaled": float(df_b),
                    "baseline.pvalue.scaled": fm.pvalue_chisq(t_b, df_b),
                    "baseline.chisq.scaling.factor": scaled.c_b})
    out.update(_incremental(chisq, df, chisq_b, df_b, t, t_b, robust))
    out.update({"logl": logl, "unrestricted.logl": logl_h1, "aic": fm.aic(logl, npar),
                "bic": fm.bic(logl, npar, n), "ntotal": float(n),
                "bic2": fm.sabic(logl, npar, n)})
    if scaled is not None and scaled.h1 is not None and df > 0:  # lavaan: none at df = 0
        out.update({"scaling.factor.h1": scaled.h1, "scaling.factor.h0": scaled.h0})
    out.update(_rmsea_family(chisq, df, n, g, scaled, robust, ci_level, close_h0,
                             notclose_h0))
    out.update({"rmr": residuals["rmr"], "rmr_nomean": residuals["rmr_nomean"],
                "srmr": residuals["srmr_bentler"]})
    out.update({k: residuals[k] for k in RESIDUAL_NAMES[2:]})
    out.update({"cn_05": fm.cn(chisq, df, n, 0.05), "cn_01": fm.cn(chisq, df, n, 0.01),
                "gfi": gfi, "agfi": fm.agfi(gfi, nel, df), "pgfi": fm.pgfi(gfi, nel, df),
                "mfi": fm.mfi(chisq, df, n), "ecvi": fm.ecvi(chisq, npar, n)})
    return out


def _incremental(chisq, df, chisq_b, df_b, t, t_b, robust: RobustBasis | None) -> dict:
    """cfi, tli (+ .scaled, .robust), then nnfi, rfi, nfi, pnfi, ifi, rni (+ .scaled,
    nnfi.robust, rni.robust), in lavaan's order."""
    plain = (chisq, df, chisq_b, df_b)
    out = {"cfi": fm.cfi(*plain), "tli": fm.tli(*plain)}
    if t is not None:
        out.update({"cfi.scaled": fm.cfi(t, df, t_b, df_b),
                    "tli.scaled": fm.tli(t, df, t_b, df_b)})
    if robust is not None:
        rob = (robust.chisq, df, robust.chisq_b, df_b, robust.c, robust.c_b)
        out.update({"cfi.robust": fm.cfi(*rob), "tli.robust": fm.tli(*rob)})
    others = (("nnfi", fm.tli), ("rfi", fm.rfi), ("nfi", fm.nfi), ("pnfi", fm.pnfi),
              ("ifi", fm.ifi), ("rni", fm.rni))
    out.update({name: f(*plain) for name, f in others})
    if t is not None:
        out.update({name + ".scaled": f(t, df, t_b, df_b) for name, f in others})
    if robust is not None:
        out.update({"nnfi.robust": fm.tli(*rob), "rni.robust": fm.rni(*rob)})
    return out


def _rmsea_block(chisq, df, n, g, c, ci_level, close_h0, notclose_h0) -> tuple:
    """(rmsea CI lower, upper, close-fit p, not-close-fit p) of chisq on df with c in the
    noncentrality; NaN when chisq or df is not finite."""
    if not (math.isfinite(chisq) and math.isfinite(df)):
        return _NAN, _NAN, _NAN, _NAN
    lo, hi = fm.rmsea_ci(chisq, df, n, ci_level, c=c, n_groups=g)
    return (lo, hi, fm.rmsea_pvalue(chisq, df, n, close_h0, c=c, n_groups=g),
            fm.rmsea_notclose_pvalue(chisq, df, n, notclose_h0, c=c, n_groups=g))


def _rmsea_family(chisq, df, n, g, scaled, robust, ci_level, close_h0, notclose_h0) -> dict:
    lo, hi, p_close, p_not = _rmsea_block(chisq, df, n, g, 1.0, ci_level, close_h0,
                                          notclose_h0)
    out = {"rmsea": fm.rmsea(chisq, df, n, n_groups=g), "rmsea.ci.lower": lo,
           "rmsea.ci.upper": hi, "rmsea.ci.level": ci_level, "rmsea.pvalue": p_close,
           "rmsea.close.h0": close_h0, "rmsea.notclose.pvalue": p_not,
           "rmsea.notclose.h0": notclose_h0}
    if scaled is not None:
        df2 = scaled.c * df  # lavaan: the unscaled chisq on df' = tr(U Gamma)
        if df > 0:
            lo, hi, p_close, p_not = _rmsea_block(chisq, df2, n, g, 1.0, ci_level,
                                                  close_h0, notclose_h0)
            value = fm.rmsea(chisq, df2, n, n_groups=g)
        else:  # lavaan: df' = tr(U Gamma) is NA at df = 0
            value, lo, hi, p_close, p_not = _NAN, _NAN, _NAN, _NAN, _NAN
        out.update({"rmsea.scaled": value, "rmsea.ci.lower.scaled": lo,
                    "rmsea.ci.upper.scaled": hi, "rmsea.pvalue.scaled": p_close,
                    "rmsea.notclose.pvalue.scaled": p_not})
    if robust is not None:
        c = robust.c
        if df > 0:
            lo, hi, p_close, p_not = _rmsea_block(robust.chisq / c, df, n, g, c, ci_level,
                                                  close_h0, notclose_h0)
            value = fm.rmsea(robust.chisq, df, n, c=c, n_groups=g)
        else:
            value, lo, hi, p_close, p_not = 0.0, 0.0, 0.0, _NAN, _NAN
        out.update({"rmsea.robust": value, "rmsea.ci.lower.robust": lo,
                    "rmsea.ci.upper.robust": hi, "rmsea.pvalue.robust": p_close,
                    "rmsea.notclose.pvalue.robust": p_not})
    return out
