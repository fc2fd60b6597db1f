"""Exploratory factor analysis: number of factors, rotated loadings, flagged items.

Uses ``factor_analyzer`` for extraction (minres) and rotation (oblimin or promax);
parallel analysis (Horn 1965) is implemented here with a seeded generator so that the
retained number of factors is reproducible.

``factor_analyzer`` 0.5.1 calls ``sklearn.utils.check_array(force_all_finite=...)``, an
argument scikit-learn 1.8 removed. :func:`_factor_analyzer` installs a narrow adapter
(the renamed ``ensure_all_finite`` argument) into factor_analyzer's own module namespace
only when the installed scikit-learn needs it; nothing else is changed.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from adoption.parallel import blas_one_thread
from adoption.vocabulary import DEFAULT_SEED

__all__ = ["ParallelResult", "parallel_analysis", "kaiser_count", "minres_communalities",
           "minres_eigenvalues", "n_retained", "EFAResult", "efa"]


def _factor_analyzer():
    """Return ``factor_analyzer.FactorAnalyzer``, adapted to scikit-learn >= 1.8 if needed."""
    import factor_analyzer.factor_analyzer as fa_mod
    from sklearn.utils import check_array

    if "force_all_finite" not in inspect.signature(check_array).parameters and \
            not getattr(fa_mod.check_array, "_adoption_adapter", False):
        def adapter(*args, force_all_finite=True, **kwargs):
            kwargs.setdefault("ensure_all_finite", force_all_finite)
            return check_array(*args, **kwargs)

        adapter._adoption_adapter = True
        fa_mod.check_array = adapter
    return fa_mod.FactorAnalyzer


# --------------------------------------------------------------------------- number of factors
@dataclass(frozen=True)
class ParallelResult:
    """Parallel analysis, for components and for common factors (as ``fa = "both"``).

    Attributes
    ----------
    n_factors : int
        Common factors to retain: leading eigenvalues of the reduced correlation matrix
        (squared multiple correlations on the diagonal) that exceed the random ones
        (variant ``smc``, psych's ``SMC = TRUE``).
    n_components : int
        Components to retain: the same with the eigenvalues of the correlation matrix
        (variant ``pca``).
    n_kaiser : int
        Eigenvalues of the correlation matrix greater than 1 (Kaiser-Guttman).
    eigenvalues : pandas.DataFrame
        Columns ``k`` (1..p), ``observed_pc``, ``random_pc``, ``observed_fa``, ``random_fa``,
        ``observed_minres``, ``random_minres`` (random: the ``quantile`` of the simulated
        eigenvalues, or their mean), ``retain_pc``, ``retain_fa``, ``retain_minres`` (bool).
    seed, n_iter : int
    quantile : float or None
    warnings : tuple of str
    n_factors_minres : int
        Common factors to retain by psych's default (variant ``fa``,
        ``fa.parallel(x, fa = "fa")``): the eigenvalues of the correlation matrix with the
        communalities of the one-factor minres solution on the diagonal
        (:func:`minres_eigenvalues`) against the same of random data.
    """

    n_factors: int
    n_components: int
    n_kaiser: int
    eigenvalues: pd.DataFrame
    seed: int
    n_iter: int
    quantile: float | None
    warnings: tuple[str, ...] = field(default=())
    n_factors_minres: int = 0


def kaiser_count(corr: np.ndarray) -> int:
    """Number of eigenvalues of the correlation matrix greater than 1 (Kaiser 1960)."""
    return int(np.sum(np.linalg.eigvalsh(np.asarray(corr, dtype=float)) > 1.0))


def _eig_pc_fa(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Descending eigenvalues of R and of R with SMCs on the diagonal."""
    pc = np.sort(np.linalg.eigvalsh(r))[::-1]
    rr = r.copy()
    np.fill_diagonal(rr, 1.0 - 1.0 / np.diag(np.linalg.inv(r)))
    fa = np.sort(np.linalg.eigvalsh(rr))[::-1]
    return pc, fa


def _minres_objective(psi: np.ndarray, r: np.ndarray, n_factors: int) -> tuple[float, np.ndarray]:
    """ULS function 0.5 ||R - Psi - L L'||^2 of the uniquenesses and its gradient
    diag(L L' + Psi - R), L from the leading eigenpairs of R - Psi (psych's FAgr.minres)."""
    values, vectors = np.linalg.eigh(r - np.diag(psi))
    lead = vectors[:, -n_factors:] * np.sqrt(np.maximum(values[-n_factors:], 0.0))
    resid = r - np.diag(psi) - lead @ lead.T
    return 0.5 * float(np.sum(resid ** 2)), -np.diag(resid).copy()


def minres_communalities(r: np.ndarray, n_factors: int = 1) -> np.ndarray:
    r"""Communalities of the unrotated minres factor solution of a correlation matrix.

    Parameters
    ----------
    r : (p, p) array
        Correlation matrix, positive definite.
    n_factors : int
        Number of factors.

    Returns
    -------
    (p,) array
        ``h2 = diag(L L')``, L the minres loadings.

    Notes
    -----
    As ``psych::fa(r, nfactors, fm = "minres", rotate = "none")$communality``: the
    uniquenesses :math:`\Psi` minimise the unweighted least-squares function
    :math:`\tfrac12 \lVert R - \Psi - LL' \rVert^2`, L the leading eigenvectors of
    :math:`R - \Psi` scaled by the square roots of their (non-negative) eigenvalues, by
    L-BFGS-B from :math:`1 - \mathrm{SMC}` within :math:`[0.005, 1]` as psych does
    (Harman & Jones 1966: at the optimum the diagonal fits, so the off-diagonal
    residuals that minres minimises are the whole function). Converged tightly, it
    agrees with psych to the precision of psych's own stopping rule.

    Examples
    --------
    >>> r = np.array([[1.0, 0.48, 0.42], [0.48, 1.0, 0.56], [0.42, 0.56, 1.0]])
    >>> np.round(minres_communalities(r), 2)  # loadings .6, .8, .7 fit R exactly
    array([0.36, 0.64, 0.49])
    """
    from scipy.optimize import minimize

    r = np.asarray(r, dtype=float)
    smc = 1.0 - 1.0 / np.diag(np.linalg.inv(r))
    start = np.clip(1.0 - smc, 0.005, 1.0)
    res = minimize(_minres_objective, start, args=(r, n_factors), jac=True, method="L-BFGS-B",
                   bounds=[(0.005, max(float(smc.max()), 1.0))] * len(r),
                   options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 5000})
    values, vectors = np.linalg.eigh(r - np.diag(res.x))
    lead = vectors[:, -n_factors:] * np.sqrt(np.maximum(values[-n_factors:], 0.0))
    return np.sum(lead ** 2, axis=1)


def minres_eigenvalues(r: np.ndarray) -> np.ndarray:
    """Descending eigenvalues of R with the one-factor minres communalities on its
    diagonal: ``psych::fa(r, nfactors = 1, fm = "minres")$values``, the statistic of
    ``psych::fa.parallel(x, fa = "fa")`` (its ``fa.values``).

    Examples
    --------
    >>> r = np.array([[1.0, 0.48, 0.42], [0.48, 1.0, 0.56], [0.42, 0.56, 1.0]])
    >>> np.round(minres_eigenvalues(r), 2)  # one factor fits exactly: one non-zero value
    array([ 1.49,  0.  , -0.  ])
    """
    rr = np.array(r, dtype=float)
    np.fill_diagonal(rr, minres_communalities(rr, 1))
    return np.sort(np.linalg.eigvalsh(rr))[::-1]


def n_retained(observed: np.ndarray, random: np.ndarray) -> int:
    """Factors (components) retained by parallel analysis: the leading run of observed
    eigenvalues above the random ones, stopping at the first that is not, as
    ``psych::fa.parallel``'s ``which(!(fa.values > fa.sim.ci))[1] - 1`` (all p when every
    one is above).

    Examples
    --------
    >>> n_retained(np.array([3.0, 1.2, 0.9, 0.8]), np.array([1.3, 1.1, 1.0, 0.7]))
    2
    """
    above = np.asarray(observed) > np.asarray(random)
    return int(above.size if above.all() else np.argmin(above))


def parallel_analysis(items: pd.DataFrame, n_iter: int = 100, seed: int = DEFAULT_SEED,
                      quantile: float | None = 0.95, minres: bool = False) -> ParallelResult:
    """Horn's parallel analysis for components and common factors, seeded.

    Parameters
    ----------
    items : pandas.DataFrame
        Item responses; rows with any NaN are dropped.
    n_iter : int
        Number of simulated data sets.
    seed : int
        Seed of ``numpy.random.default_rng``; same seed, same answer.
    quantile : float or None
        Compare with this quantile of the random eigenvalues (0.95, Glorfeld 1995) or, when
        None, with their mean (Horn 1965).
    minres : bool
        Also psych's default factor count (``n_factors_minres``, one minres fit per
        simulated data set, so off unless asked for).

    Returns
    -------
    ParallelResult

    Notes
    -----
    Each iteration draws an n x p standard-normal matrix and takes the eigenvalues of its
    correlation matrix R (components) and of R with squared multiple correlations
    :math:`1 - 1/(R^{-1})_{ii}` on the diagonal (common factors; Humphreys & Ilgen 1969),
    and with ``minres`` those of R with the one-factor minres communalities on the
    diagonal (:func:`minres_eigenvalues`, ``psych::fa.parallel(x, fa = "fa")``, whose
    ``fa.values`` it equals to 1e-7 on the test data). The k-th factor/component is
    retained while the k-th observed eigenvalue exceeds the k-th random one (stopping at
    the first that does not), as ``fa.parallel`` does with its default ``quant = .95``.
    Its random draws differ from R's: the counts agree where no observed eigenvalue lies
    within simulation error of its random one. On the project's reference survey SMCs
    give 11 factors and 10 components, as psych. A singular R (items without variance
    are dropped first; collinear items) gives 0 with a warning.
    """
    x = items.dropna().to_numpy(dtype=float)
    n, p = x.shape
    warns: list[str] = []
    cols = ["k", "observed_pc", "random_pc", "observed_fa", "random_fa", "retain_pc", "retain_fa"]
    if minres:
        cols = [*cols[:5], "observed_minres", "random_minres", *cols[5:], "retain_minres"]
    if n < 3 or p < 2:
        return ParallelResult(0, 0, 0, pd.DataFrame(columns=cols), seed, n_iter, quantile,
                              ("Parallel analysis needs at least 2 items and 3 complete cases.",))
    sd = x.std(axis=0)
    if np.any(sd == 0):
        warns.append("Some items have no variance; they are left out of parallel analysis.")
        x = x[:, sd > 0]
        p = x.shape[1]
    r = np.corrcoef(x, rowvar=False)
    if np.linalg.eigvalsh(r)[0] <= 1e-10:
        return ParallelResult(0, 0, kaiser_count(r), pd.DataFrame(columns=cols), seed, n_iter,
                              quantile, (*warns, "The item correlation matrix is singular "
                                         "(collinear items); parallel analysis is not computed."))
    kinds = ("pc", "fa", "minres") if minres else ("pc", "fa")
    observed = dict(zip(kinds, _eigenvalues(r, minres)))
    rng = np.random.default_rng(seed)
    sims = {k: np.empty((n_iter, p)) for k in kinds}
    with blas_one_thread():  # many small eigendecompositions: threads only slow them
        for i in range(n_iter):
            draws = _eigenvalues(np.corrcoef(rng.standard_normal((n, p)), rowvar=False), minres)
            for k, v in zip(kinds, draws):
                sims[k][i] = v
    table = pd.DataFrame({"k": np.arange(1, p + 1)})
    counts = {}
    for k in kinds:
        rand = sims[k].mean(axis=0) if quantile is None else np.quantile(sims[k], quantile, axis=0)
        counts[k] = n_retained(observed[k], rand)
        table[f"observed_{k}"], table[f"random_{k}"] = observed[k], rand
    for k in kinds:
        table[f"retain_{k}"] = np.arange(p) < counts[k]
    return ParallelResult(counts["fa"], counts["pc"], int(np.sum(observed["pc"] > 1.0)),
                          table[cols], seed, n_iter, quantile, tuple(warns),
                          n_factors_minres=counts.get("minres", 0))


def _eigenvalues(r: np.ndarray, minres: bool) -> tuple[np.ndarray, ...]:
    """Descending eigenvalues of R, of R with SMCs on the diagonal and, with ``minres``,
    of R with one-factor minres communalities on the diagonal."""
    pc, fa = _eig_pc_fa(r)
    return (pc, fa, minres_eigenvalues(r)) if minres else (pc, fa)


# --------------------------------------------------------------------------- EFA
@dataclass(frozen=True)
class EFAResult:
    """Exploratory factor analysis.

    Attributes
    ----------
    n_factors : int
    rotation : str or None
    loadings : pandas.DataFrame
        One row per item: ``item``, ``construct`` (the hypothesised one, if given), ``F1`` ..
        ``Fk`` (pattern loadings), ``communality``, ``primary_factor``, ``primary_loading``,
        ``low_loading`` (largest absolute loading < ``low``), ``cross_loading`` (absolute
        loading >= ``cross`` on a factor other than the primary one).
    factor_correlations : pandas.DataFrame
        Factor correlation matrix (identity for orthogonal or no rotation).
    variance : pandas.DataFrame
        ``factor``, ``ss_loadings``, ``proportion``, ``cumulative``.
    warnings : tuple of str
    """

    n_factors: int
    rotation: str | None
    loadings: pd.DataFrame
    factor_correlations: pd.DataFrame
    variance: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())


def efa(items: pd.DataFrame, n_factors: int, rotation: str | None = "oblimin",
        constructs: dict[str, list[str]] | None = None, low: float = 0.40,
        cross: float = 0.30) -> EFAResult:
    """Minres EFA with oblimin (default) or promax rotation, flagging weak and cross-loading items.

    Parameters
    ----------
    items : pandas.DataFrame
        Item responses; rows with any NaN are dropped.
    n_factors : int
        Number of factors (e.g. ``parallel_analysis(items).n_factors``).
    rotation : {"oblimin", "promax", "varimax", None}
        Rotation passed to ``factor_analyzer.FactorAnalyzer``; ignored for one factor.
    constructs : dict, optional
        Hypothesised construct -> items, copied into the ``construct`` column.
    low, cross : float
        Thresholds: a largest absolute loading below ``low`` (.40) is a low loading; an
        absolute loading of at least ``cross`` (.30) on a second factor is a cross-loading.

    Returns
    -------
    EFAResult

    Notes
    -----
    Minres extraction and oblimin rotation as ``psych::fa(x, nfactors, fm = "minres",
    rotate = "oblimin")`` (loadings may differ in sign and column order; ``factor_analyzer``
    and ``GPArotation`` converge to the same optimum up to ~1e-3 typically).
    Problems (singular matrix, too few items) give an empty loadings table and a warning.
    """
    x = items.dropna()
    cols = list(x.columns)
    owner = {i: c for c, its in (constructs or {}).items() for i in its}
    fnames = [f"F{j + 1}" for j in range(max(n_factors, 0))]
    warns: list[str] = []

    def failed(msg: str) -> EFAResult:
        return EFAResult(n_factors, rotation, pd.DataFrame(columns=["item", "construct", *fnames]),
                         pd.DataFrame(), pd.DataFrame(columns=["factor", "ss_loadings",
                                                               "proportion", "cumulative"]),
                         (msg,))

    if n_factors < 1:
        return failed("No factor to extract (n_factors < 1).")
    if len(cols) < 2 * n_factors + 1 or x.shape[0] <= len(cols):
        return failed(f"Too few items ({len(cols)}) or complete cases ({x.shape[0]}) for "
                      f"{n_factors} factor(s).")
    if np.any(x.std() == 0):
        return failed("Some items have no variance; the EFA is not computed.")
    rot = rotation if n_factors > 1 else None
    FactorAnalyzer = _factor_analyzer()
    try:
        fa = FactorAnalyzer(n_factors=n_factors, rotation=rot, method="minres")
        with np.errstate(all="ignore"):
            fa.fit(x.to_numpy(dtype=float))
    except (np.linalg.LinAlgError, ValueError) as exc:
        return failed(f"The EFA failed ({exc}); the correlation matrix is probably singular.")
    lam = np.asarray(fa.loadings_, dtype=float)
    if not np.all(np.isfinite(lam)):
        return failed("The EFA did not converge to finite loadings.")
    # orient each factor so that its largest loadings are positive
    lam = lam * np.where(lam.sum(axis=0) < 0, -1.0, 1.0)
    phi = getattr(fa, "phi_", None)
    if phi is None or rot in (None, "varimax"):
        phi = np.eye(n_factors)
    else:
        s = np.where(np.asarray(fa.loadings_).sum(axis=0) < 0, -1.0, 1.0)
        phi = np.asarray(phi) * np.outer(s, s)
    load = _loadings_table(lam, phi, cols, [owner.get(i) for i in cols], low, cross, warns)
    ss = np.einsum("ij,jk,ik->k", lam, phi, lam) if rot not in (None, "varimax") else (lam**2).sum(axis=0)
    var = pd.DataFrame({"factor": fnames, "ss_loadings": ss, "proportion": ss / len(cols)})
    var["cumulative"] = var["proportion"].cumsum()
    return EFAResult(n_factors, rot, load, pd.DataFrame(phi, index=fnames, columns=fnames),
                     var, tuple(warns))


def _loadings_table(lam: np.ndarray, phi: np.ndarray, items: list[str], constructs: list,
                    low: float, cross: float, warns: list[str]) -> pd.DataFrame:
    """The loadings table of :class:`EFAResult` from pattern loadings and factor
    correlations; flagged items and Heywood cases are added to ``warns``."""
    k = lam.shape[1]
    fnames = [f"F{j + 1}" for j in range(k)]
    structure_comm = np.einsum("ij,jk,ik->i", lam, phi, lam)
    absl = np.abs(lam)
    prim = absl.argmax(axis=1)
    second = np.sort(absl, axis=1)[:, -2] if k > 1 else np.zeros(len(items))
    load = pd.DataFrame(lam, columns=fnames)
    load.insert(0, "construct", constructs)
    load.insert(0, "item", items)
    load["communality"] = structure_comm
    load["primary_factor"] = [fnames[j] for j in prim]
    load["primary_loading"] = lam[np.arange(len(items)), prim]
    load["low_loading"] = absl.max(axis=1) < low
    load["cross_loading"] = second >= cross
    if load["low_loading"].any():
        warns.append("Items with no loading of at least %.2f: %s." % (
            low, ", ".join(load.loc[load.low_loading, "item"])))
    if load["cross_loading"].any():
        warns.append("Items loading at least %.2f on a second factor: %s." % (
            cross, ", ".join(load.loc[load.cross_loading, "item"])))
    if np.any(structure_comm > 1 + 1e-6):
        warns.append("Some communalities exceed 1 (Heywood case); the solution is improper.")
    return load
