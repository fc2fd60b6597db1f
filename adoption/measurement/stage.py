"""The measurement stage: cleaned item responses -> :class:`MeasurementResults`.

:func:`measure` runs, in order: item descriptives and normality, reliability per construct
(alpha, item-total statistics), the CFA measurement model through the project's SEM engine
(``adoption.sem.engine.fit_model``) and the reliability/validity figures that need it
(omega, CR, AVE, Fornell-Larcker), HTMT, KMO and Bartlett (overall and per construct),
parallel analysis and EFA, and the common-method checks (Harman's single factor and a
one-factor CFA compared with the measurement model).

Items must already be cleaned: reverse-keyed items recoded, excluded respondents removed.
Nothing here rounds. Problems that make a number undefined give NaN and a sentence in
``MeasurementResults.warnings``; only input the user must fix raises :class:`InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from adoption.errors import InputError
from adoption.fitview import is_robust
from adoption.jsonable import to_jsonable
from adoption.sem.compare import satorra_bentler_2001
from adoption.measurement.efa import EFAResult, ParallelResult, efa, parallel_analysis
from adoption.measurement.items import item_descriptives
from adoption.measurement.normality import MardiaResult, mardia, univariate_normality
from adoption.measurement.reliability import AlphaResult, cfa_reliability, cronbach_alpha, item_total_statistics
from adoption.ordinal import ItemEstimation, is_ordinal
from adoption.measurement.validity import (
    BartlettResult, HarmanResult, KMOResult, bartlett_sphericity, fornell_larcker,
    harman_single_factor, htmt, kmo,
)
from adoption.vocabulary import DEFAULT_SEED

__all__ = ["MeasurementResults", "measure", "cfa_syntax", "compare_fits"]

#: Fit measures shown side by side for the common-method comparison.
COMPARED_FIT = ("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic")
#: Also compared under a robust estimator.
ROBUST_COMPARED_FIT = ("chisq.scaled", "cfi.robust", "tli.robust", "rmsea.robust")

#: Name of the single factor of the common-method CFA.
COMMON_FACTOR = "CMV"


@dataclass(frozen=True)
class MeasurementResults:
    """Everything the measurement stage computes. Values only; nothing is rounded.

    Attributes
    ----------
    constructs : dict
        Construct -> items, as given.
    n : int
        Respondents (rows of ``items``).
    descriptives : pandas.DataFrame
        :func:`adoption.measurement.items.item_descriptives` plus a ``construct`` column.
    normality : pandas.DataFrame
        :func:`adoption.measurement.normality.univariate_normality` (type 3 skew/kurtosis).
    mardia : MardiaResult
        Over all items.
    reliability : pandas.DataFrame
        One row per construct: ``construct, n_items, alpha, alpha_ci_lower, alpha_ci_upper,
        alpha_std, omega, cr, ave, kmo, bartlett_chisq, bartlett_df, bartlett_pvalue``.
        ``omega`` = ``semTools::compRelSEM``, ``ave`` = ``semTools::AVE``, ``cr`` = composite
        reliability from the standardised CFA solution.
    item_statistics : pandas.DataFrame
        One row per item: ``construct, item, r_drop, alpha_if_deleted, loading (std.all),
        kmo`` (the item's MSA among all items).
    htmt : pandas.DataFrame
        Construct x construct HTMT2 (``semTools::htmt``).
    fornell_larcker : pandas.DataFrame
        :func:`adoption.measurement.validity.fornell_larcker` with CFA factor correlations.
    kmo : KMOResult
        Over all items.
    bartlett : BartlettResult
        Over all items.
    harman : HarmanResult
        Principal-component extraction over all items.
    parallel : ParallelResult
    efa : EFAResult
        With the number of common factors from parallel analysis (at least 1), oblimin
        rotation.
    cfa_fit : dict
        lavaan-named fit measures of the measurement model (empty if it failed).
    cfa_estimates : pandas.DataFrame
        lavaan-style parameter table of the measurement model (empty if it failed).
    one_factor_fit : dict
        Fit measures of the one-factor (common-method) CFA.
    common_method : pandas.DataFrame
        :func:`compare_fits` of the one-factor CFA against the measurement model.
    warnings : tuple of str
        Every warning raised on the way, prefixed by where it arose.
    cfa_model : str
        The lavaan syntax of the fitted measurement model.
    efa_rule : str
        What set the EFA's number of factors: ``"spec"`` or
        ``"parallel analysis (smc|pca|fa)"``.
    """

    constructs: dict[str, list[str]]
    n: int
    descriptives: pd.DataFrame
    normality: pd.DataFrame
    mardia: MardiaResult
    reliability: pd.DataFrame
    item_statistics: pd.DataFrame
    htmt: pd.DataFrame
    fornell_larcker: pd.DataFrame
    kmo: KMOResult
    bartlett: BartlettResult
    harman: HarmanResult
    parallel: ParallelResult
    efa: EFAResult
    cfa_fit: dict
    cfa_estimates: pd.DataFrame
    one_factor_fit: dict
    common_method: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())
    cfa_model: str = ""
    efa_rule: str = "parallel analysis (smc)"

    def to_dict(self) -> dict:
        """JSON-ready nested structure (NaN -> None, numpy scalars -> Python numbers).

        Keys: ``n``, ``constructs``, ``reliability`` (per construct: alpha, alpha_ci_lower,
        alpha_ci_upper, alpha_std, omega, cr, ave, n_items, kmo, bartlett, items: per-item
        stats), ``validity`` (htmt nested construct -> construct -> value, fornell_larcker,
        kmo {overall, items}, bartlett {chisq, df, pvalue}, mardia), ``descriptives``,
        ``normality``, ``efa`` (parallel, loadings, factor_correlations, variance),
        ``cfa`` (fit, estimates as row dicts), ``common_method`` (harman, one_factor_fit,
        comparison), ``warnings``.
        """
        items_by = {c: [] for c in self.constructs}
        desc = self.descriptives.set_index("item")
        for row in self.item_statistics.to_dict("records"):
            stats_ = {k: v for k, v in row.items() if k != "construct"}
            stats_.update({k: v for k, v in desc.loc[row["item"]].items() if k != "construct"})
            items_by[row["construct"]].append(stats_)
        rel = {}
        for row in self.reliability.to_dict("records"):
            c = row["construct"]
            rel[c] = {
                "alpha": row["alpha"], "alpha_ci_lower": row["alpha_ci_lower"],
                "alpha_ci_upper": row["alpha_ci_upper"], "alpha_std": row["alpha_std"],
                "omega": row["omega"], "cr": row["cr"], "ave": row["ave"],
                "n_items": row["n_items"], "kmo": row["kmo"],
                **{k: row[k] for k in ("alpha_ordinal", "omega_categorical") if k in row},
                "bartlett": {"chisq": row["bartlett_chisq"], "df": row["bartlett_df"],
                             "pvalue": row["bartlett_pvalue"]},
                "items": items_by.get(c, []),
            }
        out = {
            "n": self.n,
            "constructs": self.constructs,
            "reliability": rel,
            "validity": {
                "htmt": {r: self.htmt.loc[r].to_dict() for r in self.htmt.index},
                "fornell_larcker": self.fornell_larcker.to_dict("records"),
                "kmo": {"overall": self.kmo.overall,
                        "items": dict(zip(self.kmo.items["item"], self.kmo.items["msa"]))},
                "bartlett": {"chisq": self.bartlett.chisq, "df": self.bartlett.df,
                             "pvalue": self.bartlett.pvalue},
                "mardia": self.mardia.to_dict(),
            },
            "descriptives": self.descriptives.to_dict("records"),
            "normality": self.normality.to_dict("records"),
            "efa": {
                "n_factors_parallel": self.parallel.n_factors,
                "n_components_parallel": self.parallel.n_components,
                "n_factors_kaiser": self.parallel.n_kaiser,
                **({"n_factors_parallel_minres": self.parallel.n_factors_minres}
                   if "observed_minres" in self.parallel.eigenvalues else {}),
                "parallel": {"seed": self.parallel.seed, "n_iter": self.parallel.n_iter,
                             "quantile": self.parallel.quantile,
                             "eigenvalues": self.parallel.eigenvalues.to_dict("records")},
                "n_factors": self.efa.n_factors,
                "n_factors_rule": self.efa_rule,
                "rotation": self.efa.rotation,
                "loadings": self.efa.loadings.to_dict("records"),
                "factor_correlations": self.efa.factor_correlations.to_dict(),
                "variance": self.efa.variance.to_dict("records"),
            },
            "cfa": {"model": self.cfa_model or cfa_syntax(self.constructs), "fit": self.cfa_fit,
                    "estimates": self.cfa_estimates.to_dict("records")},
            "common_method": {
                "harman": {"share": self.harman.share, "extraction": self.harman.extraction,
                           "exceeds_half": self.harman.exceeds_half},
                "one_factor_fit": self.one_factor_fit,
                "comparison": self.common_method.to_dict("records"),
            },
            "warnings": list(self.warnings),
        }
        return to_jsonable(out)


def cfa_syntax(constructs: dict[str, list[str]], higher_order: dict | None = None,
               residual_covariances: tuple[str, ...] | list[str] = ()) -> str:
    """lavaan syntax of the measurement model.

    One ``C =~ i1 + i2 + ...`` line per construct. A single-item construct is written as
    lavaan users write it, ``C =~ 1*i1`` and ``i1 ~~ 0*i1``: the construct is the item
    (loading 1, no residual). Then one ``H =~ C1 + C2`` line per second-order construct
    and the residual covariances as given (``"SI03 ~~ SI04"``).
    """
    lines = []
    for c, its in constructs.items():
        if len(its) == 1:
            lines += [f"{c} =~ 1*{its[0]}", f"{its[0]} ~~ 0*{its[0]}"]
        else:
            lines.append(f"{c} =~ {' + '.join(its)}")
    lines += [f"{h} =~ {' + '.join(parts)}" for h, parts in (higher_order or {}).items()]
    lines += list(residual_covariances)
    return "\n".join(lines)


def compare_fits(model_fit: dict, one_factor_fit: dict, estimator: str = "ML") -> pd.DataFrame:
    """Compare the one-factor (common-method) CFA with the measurement model.

    Parameters
    ----------
    model_fit, one_factor_fit : dict
        lavaan-named fit measures of the two models.
    estimator : str
        Their estimator. Under WLSMV/ULSMV no difference test is computed (lavaan's
        ``lavTestLRT`` uses Satorra's (2000) scaled-shifted difference there, not yet
        implemented): ``chisq.diff``/``df.diff`` are the plain differences, ``pvalue.diff`` NaN.

    Returns
    -------
    pandas.DataFrame
        One row per measure in :data:`COMPARED_FIT` (and :data:`ROBUST_COMPARED_FIT` under
        MLM/MLR) plus ``chisq.diff``, ``df.diff`` and ``pvalue.diff`` (the Satorra-Bentler
        scaled difference under MLM/MLR): columns ``measure``, ``measurement_model``, ``one_factor``,
        ``difference`` (one factor minus measurement model).

    Notes
    -----
    The one-factor model is the measurement model with all factor correlations fixed to 1,
    so the two are nested and :math:`\\Delta\\chi^2 = \\chi^2_{1F} - \\chi^2_{M}` on
    :math:`\\Delta df = df_{1F} - df_M` is the likelihood-ratio test (as
    ``lavaan::lavTestLRT`` under ML; the constraint is on the boundary, so the p-value is
    conservative). A significantly worse one-factor fit argues against a single
    common-method factor explaining the covariances (Podsakoff et al. 2003).
    """
    rows = []
    robust = is_robust(model_fit) and is_robust(one_factor_fit)
    for m in COMPARED_FIT + (ROBUST_COMPARED_FIT if robust else ()):
        a, b = model_fit.get(m, np.nan), one_factor_fit.get(m, np.nan)
        rows.append({"measure": m, "measurement_model": a, "one_factor": b,
                     "difference": b - a})
    if is_ordinal(estimator):
        dchi = one_factor_fit.get("chisq", np.nan) - model_fit.get("chisq", np.nan)
        ddf = one_factor_fit.get("df", np.nan) - model_fit.get("df", np.nan)
        p = np.nan
    elif robust:      # Satorra-Bentler (2001) scaled difference, as lavTestLRT under MLM/MLR
        dchi, ddf, _, p = satorra_bentler_2001(
            one_factor_fit["chisq"], one_factor_fit["df"], one_factor_fit["chisq.scaling.factor"],
            model_fit["chisq"], model_fit["df"], model_fit["chisq.scaling.factor"])
    else:
        dchi = one_factor_fit.get("chisq", np.nan) - model_fit.get("chisq", np.nan)
        ddf = one_factor_fit.get("df", np.nan) - model_fit.get("df", np.nan)
        p = float(stats.chi2.sf(dchi, ddf)) if (np.isfinite(dchi) and np.isfinite(ddf) and ddf > 0) \
            else np.nan
    for m, v in (("chisq.diff", dchi), ("df.diff", ddf), ("pvalue.diff", p)):
        rows.append({"measure": m, "measurement_model": np.nan, "one_factor": np.nan,
                     "difference": v})
    return pd.DataFrame(rows, columns=["measure", "measurement_model", "one_factor", "difference"])


def measure(items: pd.DataFrame, constructs: dict[str, list[str]],
            estimator: str = "ML", seed: int = DEFAULT_SEED,
            missing: str = "listwise", syntax: str | None = None,
            scales: dict[str, list[str]] | None = None, n_factors: int | None = None,
            parallel: str = "smc", parameterization: str = "delta",
            std_lv: bool = False, ordered: tuple[str, ...] | None = None) -> MeasurementResults:
    """Run the measurement stage.

    Parameters
    ----------
    items : pandas.DataFrame
        Cleaned item responses (reverse-keyed items already recoded); other columns are
        ignored.
    constructs : dict
        Construct -> its items (columns of ``items``).
    estimator : str
        Estimator of the CFA, passed to ``adoption.sem.engine.fit_model``; WLSMV or
        ULSMV fit the CFAs to the items as ordered categories
        (``adoption.sem.wlsmv.fit_ordinal``; CR, AVE and omega are then on the scale of
        the latent responses, the item loadings std.all of the latent responses).
    ordered : tuple of str, optional
        Under WLSMV/ULSMV, the ordinal items (the spec's ``ordinal: [items]``); the
        others are continuous (lavaan's ``ordered =`` a subset). None: all items.
    seed : int
        Seed of parallel analysis.
    missing : {"listwise", "fiml", "pairwise"}
        Missing-data method of the CFAs (``fit_model``'s ``missing``; "pairwise" under
        WLSMV/ULSMV). Alpha, HTMT, KMO
        and the EFA use pairwise or complete data as their R counterparts do.
    syntax : str, optional
        lavaan syntax of the measurement model (default :func:`cfa_syntax` of
        ``constructs``); the spec's adds second-order constructs and residual covariances.
        A single-item construct has no alpha, omega, CR or AVE: they are NaN with a
        warning saying why.
    scales : dict, optional
        Whole scales beside the subscales: name -> constructs. Each adds a row to the
        reliability table with the alpha (CI, standardised alpha) of the union of its
        constructs' items, as ``psych::alpha`` on those columns; omega, CR and AVE are
        left NaN there (they belong to a one-factor model the study does not fit).
    n_factors : int, optional
        Factors of the EFA; default: the parallel-analysis count named by ``parallel``.
    parallel : {"smc", "pca", "fa"}
        Which parallel-analysis count sets the EFA's factors when ``n_factors`` is not
        given: common factors (SMC-reduced matrix), principal components, or psych's
        default ``fa.parallel(x, fa = "fa")`` (one-factor minres communalities on the
        diagonal; computed only when asked for).
    parameterization : {"delta", "theta"}
        WLSMV/ULSMV only.
    std_lv : bool
        lavaan's ``std.lv = TRUE`` for both CFAs: latent variances fixed at 1 and every
        loading free. std.all, the fit measures, omega, CR and AVE (from std.all) and
        the factor correlations are identical to the default (first loading fixed at
        1); the unstandardised loadings and latent (co)variances (``est``, ``se``) in
        ``cfa_estimates`` are on the new scale.

    Returns
    -------
    MeasurementResults

    Raises
    ------
    InputError
        When a construct names a column not in ``items``, an item is not numeric, or an item
        belongs to two constructs.
    """
    _check_input(items, constructs)
    cols = [i for its in constructs.values() for i in its]
    data = items[cols].astype(float)
    warns: list[str] = []
    diag = _diagnostics(data, constructs, warns)
    syntax = syntax or cfa_syntax(constructs)
    how = ItemEstimation(estimator, missing, parameterization, std_lv=std_lv, ordered=ordered)
    cfa_fit, est, s_obs = _fit("CFA", syntax, data, how, warns)
    one_fit, _, _ = _fit("One-factor CFA", f"{COMMON_FACTOR} =~ {' + '.join(cols)}", data,
                         how, warns)
    cfa_rel, loadings, phi = _cfa_reliability(est, s_obs, constructs, cols, warns)
    rel_rows, item_stats = _construct_rows(data, constructs, cfa_rel, loadings,
                                           diag["kmo"], warns)
    fl = fornell_larcker(pd.DataFrame(rel_rows).set_index("construct")["ave"], phi)
    rel_rows += _scale_rows(data, constructs, scales or {}, warns)
    pa, ef, rule = _efa(data, constructs, seed, n_factors, parallel, warns)
    cm = compare_fits(cfa_fit, one_fit, estimator)
    if is_ordinal(estimator):
        warns.append(f"Common-method comparison: under {estimator} the chi-square difference "
                     "test (lavTestLRT's scaled-shifted difference) is not computed yet; "
                     "compare the fit indices.")
    return MeasurementResults(
        constructs={c: list(v) for c, v in constructs.items()}, n=int(len(items)),
        descriptives=diag["descriptives"], normality=diag["normality"], mardia=diag["mardia"],
        reliability=pd.DataFrame(rel_rows), item_statistics=item_stats,
        htmt=diag["htmt"].matrix, fornell_larcker=fl, kmo=diag["kmo"],
        bartlett=diag["bartlett"], harman=diag["harman"], parallel=pa, efa=ef,
        cfa_fit=cfa_fit, cfa_estimates=est, one_factor_fit=one_fit, common_method=cm,
        warnings=tuple(warns), cfa_model=syntax, efa_rule=rule,
    )


def _note(warns: list[str], where: str, ws) -> None:
    warns.extend(f"{where}: {w}" for w in ws if w)


def _diagnostics(data: pd.DataFrame, constructs: dict[str, list[str]],
                 warns: list[str]) -> dict:
    """Descriptives, normality and the correlation-based checks of all items."""
    owner = {i: c for c, its in constructs.items() for i in its}
    desc = item_descriptives(data)
    desc.insert(1, "construct", desc["item"].map(owner))
    normal = univariate_normality(data)
    mard = mardia(data)
    _note(warns, "Mardia", mard.warnings)
    r_all = data.corr()
    kmo_all = kmo(r_all)
    _note(warns, "KMO", kmo_all.warnings)
    # pairwise correlations and n = all rows, as psych::cortest.bartlett(x) on raw data
    bart_all = bartlett_sphericity(r_all, n=len(data))
    _note(warns, "Bartlett", bart_all.warnings)
    harman = harman_single_factor(r_all)
    _note(warns, "Harman", harman.warnings)
    ht = htmt(data, constructs)
    _note(warns, "HTMT", ht.warnings)
    return {"descriptives": desc, "normality": normal, "mardia": mard, "kmo": kmo_all,
            "bartlett": bart_all, "harman": harman, "htmt": ht}


def _cfa_reliability(est: pd.DataFrame, s_obs, constructs: dict[str, list[str]],
                     cols: list[str], warns: list[str]):
    """Omega, CR and AVE per construct, the std.all loadings and the factor correlations
    of the CFA (NaN when it gave no estimates). ``s_obs``: the engine's sample covariance
    (divisor N, listwise), lavaan's sampstat$cov."""
    if est.empty:
        cfa_rel = pd.DataFrame({"construct": list(constructs), "n_items":
                                [len(v) for v in constructs.values()],
                                "omega": np.nan, "cr": np.nan, "ave": np.nan, "warning": ""})
        return (cfa_rel.set_index("construct"), pd.Series(np.nan, index=cols),
                pd.DataFrame(np.nan, index=list(constructs), columns=list(constructs)))
    cfa_rel = cfa_reliability(est, constructs, s_obs)
    _note(warns, "CFA reliability", cfa_rel["warning"])
    ld = est[(est["op"] == "=~") & est["lhs"].isin(list(constructs))]
    loadings = ld.set_index("rhs")["std.all"] if "std.all" in ld else pd.Series(np.nan, index=cols)
    return cfa_rel.set_index("construct"), loadings, _factor_correlations(est, list(constructs))


def _construct_rows(data, constructs, cfa_rel, loadings, kmo_all, warns):
    """The reliability row of each construct and its items' statistics."""
    rel_rows, item_rows = [], []
    kmo_item = kmo_all.items.set_index("item")["msa"]
    for c, its in constructs.items():
        if len(its) == 1:
            _note(warns, c, [f"{c} is a single item ({its[0]}): alpha, omega, CR and AVE "
                             "are not defined for one item (shown as '–')."])
            a = AlphaResult(np.nan, np.nan, np.nan, np.nan, 1, int(data[its[0]].notna().sum()))
            cfa_rel.loc[c, ["omega", "cr", "ave"]] = np.nan
        else:
            a = cronbach_alpha(data[its])
            _note(warns, f"Alpha of {c}", a.warnings)
        r_c = data[its].corr()
        if len(its) >= 2:
            k_c = kmo(r_c)
            b_c = bartlett_sphericity(r_c, n=len(data))
            _note(warns, f"KMO of {c}", k_c.warnings)
            _note(warns, f"Bartlett of {c}", b_c.warnings)
        else:
            k_c = KMOResult(np.nan, pd.DataFrame(columns=["item", "msa"]))
            b_c = BartlettResult(np.nan, 0.0, np.nan)
        rel_rows.append({
            "construct": c, "n_items": len(its), "alpha": a.alpha,
            "alpha_ci_lower": a.ci_lower, "alpha_ci_upper": a.ci_upper, "alpha_std": a.alpha_std,
            "omega": cfa_rel.loc[c, "omega"], "cr": cfa_rel.loc[c, "cr"],
            "ave": cfa_rel.loc[c, "ave"], "kmo": k_c.overall, "bartlett_chisq": b_c.chisq,
            "bartlett_df": b_c.df, "bartlett_pvalue": b_c.pvalue,
        })
        itab = item_total_statistics(data[its])
        itab.insert(0, "construct", c)
        itab["loading"] = [float(loadings.get(i, np.nan)) for i in its]
        itab["kmo"] = [float(kmo_item.get(i, np.nan)) for i in its]
        item_rows.append(itab)
    return rel_rows, pd.concat(item_rows, ignore_index=True)


def _scale_rows(data, constructs, scales, warns) -> list[dict]:
    """Whole-scale alpha rows (omega, CR, AVE left NaN)."""
    rows = []
    for name, parts in scales.items():
        a = cronbach_alpha(data[[i for p in parts for i in constructs[p]]])
        _note(warns, f"Alpha of the whole scale {name}", a.warnings)
        rows.append({"construct": name, "n_items": a.n_items, "alpha": a.alpha,
                     "alpha_ci_lower": a.ci_lower, "alpha_ci_upper": a.ci_upper,
                     "alpha_std": a.alpha_std, "omega": np.nan, "cr": np.nan, "ave": np.nan,
                     "kmo": np.nan, "bartlett_chisq": np.nan, "bartlett_df": np.nan,
                     "bartlett_pvalue": np.nan})
    return rows


def _efa(data, constructs, seed, n_factors, parallel, warns):
    """Parallel analysis, the number of factors and the oblimin EFA."""
    pa = parallel_analysis(data, seed=seed, minres=parallel == "fa" and n_factors is None)
    _note(warns, "Parallel analysis", pa.warnings)
    if n_factors is not None:
        k, rule = n_factors, "spec"
    else:
        k = max({"pca": pa.n_components, "fa": pa.n_factors_minres}.get(parallel, pa.n_factors), 1)
        rule = f"parallel analysis ({parallel})"
    ef = efa(data, k, rotation="oblimin", constructs=constructs)
    _note(warns, "EFA", ef.warnings)
    return pa, ef, rule


# --------------------------------------------------------------------------- helpers
def _check_input(items: pd.DataFrame, constructs: dict[str, list[str]]) -> None:
    if not constructs:
        raise InputError("No constructs given: the survey spec must list each construct's items.")
    missing = [i for its in constructs.values() for i in its if i not in items.columns]
    if missing:
        raise InputError(f"Item column(s) {', '.join(missing)} named in the constructs are not "
                         "in the data; check the survey spec against the export's column names.")
    seen: dict[str, str] = {}
    for c, its in constructs.items():
        for i in its:
            if i in seen:
                raise InputError(f"Item {i} is listed under both {seen[i]} and {c}; each item "
                                 "must belong to one construct.")
            seen[i] = c
    bad = [i for i in seen if not pd.api.types.is_numeric_dtype(items[i])]
    if bad:
        raise InputError(f"Item column(s) {', '.join(bad)} are not numeric; recode the answers "
                         "to numbers in the cleaning step.")


def _fit(label: str, syntax: str, data: pd.DataFrame, how: ItemEstimation, warns: list[str]):
    """Fit ``syntax`` with the project engine (``fit_ordinal`` under WLSMV/ULSMV).

    Returns (fit measures dict, estimates DataFrame, sample covariance DataFrame or None).
    A model the engine could not fit (``converged=False``) gives an empty dict and table;
    the engine's own warnings are passed on.
    """
    mf = how.fit(syntax, data)
    warns.extend(f"{label}: {w}" for w in mf.warnings)
    s = pd.DataFrame(np.asarray(mf.sample_cov, dtype=float), index=list(mf.observed),
                     columns=list(mf.observed))
    if not mf.converged:
        warns.append(f"{label}: the model did not converge; its estimates and fit are not reported.")
        return {}, pd.DataFrame(columns=["lhs", "op", "rhs", "est", "se", "std.all"]), s
    fm = {str(k): (float(v) if isinstance(v, (int, float, np.number)) else v)
          for k, v in dict(mf.fit).items()}
    return fm, mf.estimates.copy(), s


def _factor_correlations(est: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    phi = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    col = "std.all" if "std.all" in est.columns else None
    lat = est[(est["op"] == "~~") & est["lhs"].isin(names) & est["rhs"].isin(names)
              & (est["lhs"] != est["rhs"])]
    for _, r in lat.iterrows():
        v = r[col] if col else np.nan
        phi.loc[r["lhs"], r["rhs"]] = phi.loc[r["rhs"], r["lhs"]] = v
    return phi
