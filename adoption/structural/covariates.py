"""Control variables and categorical predictors in the composite model.

* :func:`add_controls` - the spec's ``controls`` appended to every endogenous equation;
* :func:`dummy_columns` - a labelled (categorical) column as 0/1 dummies, reference
  category first (left out);
* :func:`expand_categorical` - syntax where a categorical variable stands for its dummies
  and ``X:G`` for one product ``X:G_k`` per dummy;
* :func:`category_slopes` - the focal slope in each category of a categorical moderator.

All checks are of user input (the spec and the data), so problems are
:class:`~adoption.errors.InputError` naming the column or the term.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats

from adoption.errors import InputError
from adoption.sem.syntax import parse_model, write_formulas
from adoption.vocabulary import OP_REGRESSION

__all__ = [
    "MIN_CATEGORY",
    "add_controls",
    "dummy_name",
    "code_text",
    "dummy_columns",
    "expand_categorical",
    "category_slopes",
]

#: Fewest answers a category of a categorical predictor or moderator may have: its
#: dummy's coefficient would rest on fewer people than that.
MIN_CATEGORY = 5


def add_controls(syntax: str, controls: tuple[str, ...] | list[str],
                 where: str = "structural") -> str:
    """Add the control variables as predictors of every endogenous variable.

    Parameters
    ----------
    syntax : str
        lavaan syntax of the structural model.
    controls : sequence of str
        Column names (numeric, or categorical ones that :func:`expand_categorical`
        replaces by dummies afterwards).

    Returns
    -------
    str
        The syntax with ``+ c1 + c2`` on each regression whose left-hand side is a
        dependent variable (a control already in an equation is not repeated).

    Raises
    ------
    InputError
        A control that is a dependent variable of the model.
    """
    if not controls:
        return syntax
    parsed = parse_model(syntax, where=where)
    regs = [f for f in parsed.formulas if f.op == OP_REGRESSION]
    endo = list(dict.fromkeys(f.lhs for f in regs))
    clash = [c for c in controls if c in endo]
    if clash:
        raise InputError(f"controls: {', '.join(clash)} is a dependent variable of the "
                         "structural model; a control must not be explained by the model.")
    out = list(parsed.formulas)
    for y in endo:
        have = {f.rhs for f in regs if f.lhs == y}
        last = max(f.line for f in regs if f.lhs == y)
        out += [replace(regs[0], lhs=y, rhs=c, fixed=(), label=(), start=(), line=last,
                        interaction=False) for c in controls if c not in have]
    out.sort(key=lambda f: f.line)
    return write_formulas(out)


def dummy_name(column: str, label: str) -> str:
    """``column_label`` with the label reduced to letters, digits and ``_``."""
    return f"{column}_{re.sub(r'[^0-9A-Za-z_]+', '_', str(label)).strip('_')}"


def code_text(value) -> str:
    """A category code as text, ``1``, ``1.0`` and ``"1"`` alike (labels are keyed by
    the spec's codes, the data may hold them as floats)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(f)) if f.is_integer() else repr(f)


def dummy_columns(values: pd.Series, labels: dict | None = None) -> pd.DataFrame:
    """0/1 dummy codes of a categorical column, the first category the reference.

    Parameters
    ----------
    values : Series
        Codes (NaN for no answer; the dummies are NaN there too).
    labels : dict, optional
        Code -> label, in the spec's order: that order decides the reference (the first)
        and the dummies' names (:func:`dummy_name`). Without labels the sorted codes.

    Returns
    -------
    DataFrame
        One column per non-reference category, ``R``'s ``contr.treatment``.

    Raises
    ------
    InputError
        Fewer than two categories with answers, a code not among the labels, or a
        category with fewer than :data:`MIN_CATEGORY` answers.
    """
    col = str(values.name)
    present = values.dropna()
    if labels:
        as_code = values.map(code_text, na_action="ignore")
        unknown = sorted(set(as_code.dropna()) - {code_text(k) for k in labels})
        if unknown:
            raise InputError(f"column {col}: value {', '.join(unknown)} has no label in the "
                             "spec's groups; add it to the labels.")
        codes = [k for k in labels if (as_code == code_text(k)).any()]
        names = [labels[k] for k in codes]
        hits = [as_code == code_text(k) for k in codes]
    else:
        codes = sorted(present.unique())
        names = codes
        hits = [values == k for k in codes]
    if len(codes) < 2:
        raise InputError(f"column {col}: only one category ({names[0] if names else 'none'}) "
                         "has answers; a moderator or control needs at least two.")
    small = [f"{n} ({int(h.sum())})" for n, h in zip(names, hits) if h.sum() < MIN_CATEGORY]
    if small:
        raise InputError(f"column {col}: category {', '.join(small)} has fewer than "
                         f"{MIN_CATEGORY} answers; merge it with another category.")
    out = pd.DataFrame({dummy_name(col, n): h.astype(float) for n, h in
                        zip(names[1:], hits[1:])}, index=values.index)
    out[values.isna()] = np.nan
    return out


def expand_categorical(syntax: str, dummies: dict[str, list[str]],
                       where: str = "structural") -> str:
    """Replace each categorical variable by its dummies, and ``X:G`` by ``X:G_k``.

    Parameters
    ----------
    syntax : str
    dummies : dict
        Categorical variable -> its dummy columns (from :func:`dummy_columns`).

    Returns
    -------
    str
        Syntax in which every term naming a categorical variable is repeated once per
        dummy (a label on such a term is dropped: it would name several coefficients).
    """
    if not dummies:
        return syntax
    parsed = parse_model(syntax, where=where)
    out = []
    for f in parsed.formulas:
        parts = f.rhs.split(":") if f.interaction else [f.rhs]
        cat = [p for p in parts if p in dummies]
        if f.op != OP_REGRESSION or not cat:
            out.append(f)
            continue
        if len(cat) > 1:
            raise InputError(f"{where}, line {f.line}: '{f.rhs}' multiplies two categorical "
                             "variables; only a continuous-by-categorical interaction is "
                             "supported.")
        for d in dummies[cat[0]]:
            rhs = ":".join(d if p == cat[0] else p for p in parts)
            out.append(replace(f, rhs=rhs, label=()))
    return write_formulas(out)


def category_slopes(coef: np.ndarray, vcov: np.ndarray, focal: int,
                    products: list[int], df: float | None,
                    level: float = 0.95) -> pd.DataFrame:
    """The focal predictor's slope in each category of a dummy-coded moderator.

    Parameters
    ----------
    coef, vcov : ndarray
        An equation's coefficients and covariance matrix.
    focal : int
        Position of the focal predictor.
    products : list of int
        Positions of its (uncentred) products with each dummy, in dummy order.
    df : float or None
        Residual df (t tests) or None (z tests).

    Returns
    -------
    DataFrame
        One row per category, reference first: ``est, se, t, pvalue, ci.lower,
        ci.upper``; ``est = b_x`` in the reference and ``b_x + b_{x:D_k}`` in category k.
    """
    G = np.zeros((len(products) + 1, len(coef)))
    G[:, focal] = 1.0
    for k, j in enumerate(products, start=1):
        G[k, j] = 1.0
    est = G @ coef
    se = np.sqrt(np.einsum("ij,jk,ik->i", G, vcov, G))
    t = est / se
    dist = stats.norm if df is None else stats.t(df)
    q = dist.ppf((1 + level) / 2)
    return pd.DataFrame({"est": est, "se": se, "t": t, "pvalue": 2 * dist.sf(np.abs(t)),
                         "ci.lower": est - q * se, "ci.upper": est + q * se})
