"""Moderation in the composite model: interaction terms, their R-squared change, simple
slopes and the Johnson-Neyman region.

The spec's structural syntax may hold lavaan interaction terms, ``WIL ~ HAB + COM +
HAB:COM``. For the composite model each term becomes a product column of the scores
(mean-centred by default, as PROCESS's ``center = 1``), named ``HAB_x_COM``
(:func:`product_name`), and the equation is an ordinary regression (``lm``):

* :func:`expand_interactions` - syntax with product variables + the :class:`Product` list;
* :func:`add_products` - the scores with the product columns (centred or not);
* :func:`ols_equation` - one equation as ``lm`` fits it (t tests, df ``N - k - 1``);
* :func:`r2_change` - Delta R-squared of a set of terms with its F test;
* :func:`conditional_slopes` - the focal predictor's slope at moderator values;
* :func:`johnson_neyman` - moderator values where that slope's significance changes;
* :func:`probe_values` - the moderator's mean and +/- 1 SD (PROCESS's default).

All are pure functions of arrays and frames; the conditional indirect effects are in
:mod:`adoption.structural.conditional`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from adoption.errors import InputError
from adoption.pls.moderation import interaction_name
from adoption.sem.syntax import parse_model, write_formulas
from adoption.vocabulary import OP_REGRESSION

__all__ = [
    "CENTRINGS",
    "LM_COLUMNS",
    "Product",
    "product_name",
    "expand_interactions",
    "add_products",
    "centring_constants",
    "EquationFit",
    "ols_equation",
    "r2_change",
    "probe_values",
    "conditional_slopes",
    "johnson_neyman",
]

#: How the factors of a product are centred before multiplying: ``mean`` (PROCESS's
#: ``center = 1``, the default) or ``none`` (raw scores).
CENTRINGS: tuple[str, ...] = ("mean", "none")

#: Columns of an equation's coefficient table (``summary(lm)`` in lavaan's vocabulary).
LM_COLUMNS: tuple[str, ...] = ("lhs", "op", "rhs", "est", "se", "t", "df", "pvalue",
                               "ci.lower", "ci.upper")


@dataclass(frozen=True)
class Product:
    """An interaction term as it enters the composite model.

    Attributes
    ----------
    name : str
        The product variable in the expanded syntax (``HAB_x_COM``).
    factors : tuple of (str, str)
        The two variables multiplied, as written (``("HAB", "COM")``).
    lhs : str
        The equation it enters.
    line : int
        Syntax line (for messages).
    """

    name: str
    factors: tuple[str, str]
    lhs: str
    line: int = 0


def product_name(a: str, b: str) -> str:
    """The product variable of ``a:b`` (``a_x_b``), a name lavaan syntax can hold; the
    PLS two-stage moderation names its interaction construct the same way."""
    return interaction_name(a, b)


def expand_interactions(syntax: str, where: str = "structural") -> tuple[str, tuple[Product, ...]]:
    """Replace every interaction term ``X:W`` by a product variable.

    Parameters
    ----------
    syntax : str
        lavaan model syntax (regressions may hold ``X:W``).
    where : str
        Named in error messages (the spec key).

    Returns
    -------
    syntax : str
        The same model with ``X_x_W`` in place of ``X:W`` (unchanged without interactions).
    products : tuple of Product
        One per distinct (equation, term), in syntax order.

    Raises
    ------
    InputError
        A term with other than two factors, a factor that is not also a predictor of
        that equation (the lower-order term; without it the product's coefficient is not
        an interaction: this also catches a misspelt factor), or a product name already
        used by a variable.
    """
    parsed = parse_model(syntax, where=where)
    names = {f.lhs for f in parsed.formulas} | {f.rhs for f in parsed.formulas
                                                if not f.interaction}
    out, products = [], []
    for f in parsed.formulas:
        if not f.interaction:
            out.append(f)
            continue
        factors = tuple(f.rhs.split(":"))
        if len(factors) != 2:
            raise InputError(f"{where}, line {f.line}: interaction '{f.rhs}' has "
                             f"{len(factors)} factors; write two-way terms X:W only.")
        own = {g.rhs for g in parsed.formulas if g.op == OP_REGRESSION and g.lhs == f.lhs}
        lower = [v for v in factors if v not in own]
        if lower:
            raise InputError(f"{where}, line {f.line}: '{f.lhs} ~ {f.rhs}' needs "
                             f"{' and '.join(lower)} in the same equation too ('{f.lhs} ~ "
                             f"{' + '.join(factors)} + {f.rhs}').")
        name = product_name(*factors)
        if name in names:
            raise InputError(f"{where}: the product variable '{name}' of '{f.rhs}' clashes "
                             "with a variable of that name; rename the variable.")
        if not any(p.name == name and p.lhs == f.lhs for p in products):
            products.append(Product(name, factors, f.lhs, f.line))
        out.append(replace(f, rhs=name, interaction=False))
    if not products:
        return syntax, ()
    return write_formulas(out), tuple(products)


def add_products(scores: pd.DataFrame, products: tuple[Product, ...],
                 centre: str = "mean", uncentred: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The scores with one column per product.

    Parameters
    ----------
    scores : DataFrame
        Numeric columns, including every factor.
    products : tuple of Product
    centre : {"mean", "none"}
        ``mean``: ``(x - mean x)(w - mean w)``, means over the rows where both factors
        are present (PROCESS's ``center = 1``; the lower-order coefficients are then the
        slopes at the other factor's mean); ``none``: ``x w``.
    uncentred : frozenset of str
        Factors never centred: dummy codes, so that the focal coefficient is the slope in
        the reference category (PROCESS's ``center = 2``).

    Returns
    -------
    DataFrame
        A copy of ``scores`` with the product columns appended (NaN where a factor is).
    """
    if centre not in CENTRINGS:
        raise InputError(f"centre must be one of {', '.join(CENTRINGS)}, not '{centre}'.")
    out = scores.copy()
    for p in products:
        ca, cb = centring_constants(scores, p, centre, uncentred)
        a, b = (scores[v].astype(float) for v in p.factors)
        out[p.name] = (a - ca) * (b - cb)
    return out


def centring_constants(scores: pd.DataFrame, product: Product, centre: str = "mean",
                      uncentred: frozenset[str] = frozenset()) -> tuple[float, float]:
    """The constants subtracted from a product's two factors (:func:`add_products`).

    ``centre == "mean"``: each factor's mean over the rows where both factors are
    present, 0 for a factor in ``uncentred`` (a dummy); ``"none"``: (0, 0).
    """
    if centre != "mean":
        return 0.0, 0.0
    a, b = (scores[v].astype(float) for v in product.factors)
    both = a.notna() & b.notna()
    return tuple(0.0 if f in uncentred else float(x[both].mean())
                 for f, x in zip(product.factors, (a, b)))


@dataclass(frozen=True)
class EquationFit:
    """One regression equation fitted by OLS, as R's ``lm`` reports it.

    Attributes
    ----------
    lhs : str
    rhs : tuple of str
        Predictors, in order (the intercept is not listed).
    coef : ndarray, shape (k,)
    vcov : ndarray, shape (k, k)
        ``sigma^2 (X'X)^{-1}`` with ``sigma^2 = RSS / (N - k - 1)`` (``vcov(lm)``),
        intercept row and column removed.
    r2 : float
    df_resid : int
        ``N - k - 1``.
    nobs : int
    """

    lhs: str
    rhs: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    r2: float
    df_resid: int
    nobs: int

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """Coefficient rows (:data:`LM_COLUMNS`): ``t = est / se`` with ``df_resid``
        degrees of freedom, two-sided p and t interval (``confint(lm)``)."""
        se = np.sqrt(np.diag(self.vcov))
        t = self.coef / se
        q = stats.t.ppf((1 + level) / 2, self.df_resid)
        return pd.DataFrame({"lhs": self.lhs, "op": OP_REGRESSION, "rhs": list(self.rhs),
                             "est": self.coef, "se": se, "t": t, "df": self.df_resid,
                             "pvalue": 2 * stats.t.sf(np.abs(t), self.df_resid),
                             "ci.lower": self.coef - q * se, "ci.upper": self.coef + q * se})

    def index(self, name: str) -> int:
        """Position of predictor ``name``."""
        return self.rhs.index(name)


def ols_equation(data: pd.DataFrame, lhs: str, rhs: tuple[str, ...] | list[str]) -> EquationFit:
    """Fit ``lhs ~ rhs`` by OLS with an intercept on the complete rows of ``data``.

    Notes
    -----
    ``b = (X'X)^{-1} X'y`` with ``X = [1, rhs]``; ``Var(b) = RSS / (N - k - 1) (X'X)^{-1}``;
    ``R^2 = 1 - RSS / TSS``. Equal to ``lm(lhs ~ rhs)``: ``coef``, ``vcov`` and
    ``summary()$r.squared``. Rows with a missing value in any column of the equation are
    left out (``na.action = na.omit``).

    Raises
    ------
    InputError
        Too few complete rows or collinear predictors (after dummy coding, say); the
        message names the equation.
    """
    rhs = tuple(rhs)
    Z = data[[lhs, *rhs]].to_numpy(dtype=float)
    Z = Z[np.isfinite(Z).all(axis=1)]
    N, k = Z.shape[0], len(rhs)
    if N <= k + 1:
        raise InputError(f"moderation: the equation of {lhs} has {N} complete rows for "
                         f"{k} predictors; too few to fit it.")
    X = np.column_stack([np.ones(N), Z[:, 1:]])
    y = Z[:, 0]
    XtX = X.T @ X
    if np.linalg.cond(XtX) > 1e12:
        raise InputError(f"moderation: the predictors of {lhs} ({', '.join(rhs)}) are "
                         "perfectly collinear (a product or dummy duplicates another "
                         "column); drop one of them.")
    inv = np.linalg.inv(XtX)
    b = inv @ X.T @ y
    resid = y - X @ b
    rss = float(resid @ resid)
    tss = float(((y - y.mean()) ** 2).sum())
    df = N - k - 1
    V = rss / df * inv
    return EquationFit(lhs, rhs, b[1:], V[1:, 1:], 1.0 - rss / tss, df, N)


def r2_change(full: EquationFit, reduced: EquationFit) -> dict:
    """R-squared change of the terms in ``full`` but not in ``reduced``, with its F test.

    Parameters
    ----------
    full, reduced : EquationFit
        The same outcome on the same rows, ``reduced`` without the tested terms.

    Returns
    -------
    dict
        ``delta_r2, f, df1, df2, pvalue``.

    Notes
    -----
    ``F = (Delta R^2 / q) / ((1 - R^2_full) / df_full)``, ``q`` the number of terms
    dropped, on ``(q, df_full)`` degrees of freedom: R's ``anova(reduced, full)`` and
    PROCESS's "R2-chng" line (Cohen et al., 2003, eq. 5.5.1).
    """
    if full.nobs != reduced.nobs:
        raise ValueError("full and reduced equation must be fitted on the same rows")
    q = reduced.df_resid - full.df_resid
    d = full.r2 - reduced.r2
    f = (d / q) / ((1.0 - full.r2) / full.df_resid)
    return {"delta_r2": d, "f": f, "df1": int(q), "df2": int(full.df_resid),
            "pvalue": float(stats.f.sf(f, q, full.df_resid))}


def probe_values(w: np.ndarray) -> dict[str, float]:
    """The moderator values PROCESS probes by default for a continuous moderator.

    Returns
    -------
    dict
        ``{"-1 SD": mean - sd, "mean": mean, "+1 SD": mean + sd}`` with the sample SD
        (divisor N - 1) of the non-missing values, as PROCESS's ``moments = 1``.
    """
    w = np.asarray(w, dtype=float)
    w = w[np.isfinite(w)]
    m, s = float(w.mean()), float(w.std(ddof=1))
    return {"-1 SD": m - s, "mean": m, "+1 SD": m + s}


def conditional_slopes(coef: np.ndarray, vcov: np.ndarray, focal: int, product: int,
                       d: np.ndarray, df: float | None = None,
                       level: float = 0.95) -> pd.DataFrame:
    """Slope of the focal predictor at moderator values (simple slopes).

    Parameters
    ----------
    coef, vcov : ndarray
        An equation's coefficients and their covariance matrix.
    focal, product : int
        Positions of the focal predictor and of its product with the moderator.
    d : ndarray, shape (m,)
        Moderator values minus the centring constant (the mean when the product was
        centred, 0 otherwise).
    df : float or None
        Residual df for t tests (``lm``); ``None`` for z tests (ML).
    level : float

    Returns
    -------
    DataFrame
        ``est, se, t, pvalue, ci.lower, ci.upper`` per value.

    Notes
    -----
    ``theta(d) = b_x + b_xw d``, ``Var = V_xx + 2 d V_x,xw + d^2 V_xw,xw`` (Aiken & West,
    1991, eq. 2.7; PROCESS's "Conditional effects of the focal predictor").
    """
    d = np.asarray(d, dtype=float)
    est = coef[focal] + coef[product] * d
    se = np.sqrt(vcov[focal, focal] + 2 * d * vcov[focal, product]
                 + d * d * vcov[product, product])
    t = est / se
    dist = stats.norm if df is None else stats.t(df)
    q = dist.ppf((1 + level) / 2)
    return pd.DataFrame({"est": est, "se": se, "t": t, "pvalue": 2 * dist.sf(np.abs(t)),
                         "ci.lower": est - q * se, "ci.upper": est + q * se})


def johnson_neyman(coef: np.ndarray, vcov: np.ndarray, focal: int, product: int,
                   df: float | None, level: float = 0.95) -> np.ndarray:
    """Johnson-Neyman points: where the focal slope's p-value equals ``1 - level``.

    Parameters
    ----------
    coef, vcov, focal, product, df, level : as :func:`conditional_slopes`.

    Returns
    -------
    ndarray
        The real roots ``d`` (moderator minus centring constant), sorted; zero, one or
        two values. PROCESS prints those within the observed range of the moderator.

    Notes
    -----
    Solves ``(b_x + b_xw d)^2 = q^2 (V_xx + 2 d V_x,xw + d^2 V_xw,xw)`` with ``q`` the
    critical t (or z) value, i.e. ``(b_xw^2 - q^2 V_ww) d^2 + 2 (b_x b_xw - q^2 V_xw) d
    + (b_x^2 - q^2 V_xx) = 0`` (Johnson & Neyman, 1936; Bauer & Curran, 2005, eq. 13).
    """
    q = (stats.norm if df is None else stats.t(df)).ppf((1 + level) / 2)
    bx, bw = coef[focal], coef[product]
    a = bw * bw - q * q * vcov[product, product]
    b = 2 * (bx * bw - q * q * vcov[focal, product])
    c = bx * bx - q * q * vcov[focal, focal]
    if a == 0:
        return np.array([-c / b]) if b != 0 else np.array([])
    disc = b * b - 4 * a * c
    if disc < 0:
        return np.array([])
    r = np.sqrt(disc)
    return np.sort(np.array([(-b - r) / (2 * a), (-b + r) / (2 * a)]))
