"""Defined parameters (lavaan's ``:=``) and the delta method.

A defined parameter is a smooth function of labelled parameters, ``ab := a*b`` or
``total := c + a*b``. Its estimate is the function at the estimates and its standard
error comes from the first-order delta method, ``sqrt(g' V g)``. The same two functions
serve the indirect and total effects of :mod:`adoption.structural.effects` (one delta
method in the project).

Pure functions:

* :func:`delta_method_se` - ``sqrt(diag(G V G'))``;
* :func:`wald_table` - z, p-value and normal-theory interval;
* :func:`evaluate_expression` - the value of an R-style arithmetic expression;
* :func:`evaluate_defined` - the values of a sequence of ``:=`` definitions;
* :func:`defined_parameters` - lavaan's ``:=`` rows of ``parameterEstimates()``.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from adoption.errors import InputError

__all__ = ["delta_method_se", "wald_table", "evaluate_expression", "evaluate_defined",
           "defined_parameters"]

_FUNCTIONS = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs,
              "sin": math.sin, "cos": math.cos, "tan": math.tan}
_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
           ast.Pow: lambda a, b: a ** b}


def delta_method_se(gradient: np.ndarray, vcov: np.ndarray) -> np.ndarray:
    """Delta-method standard errors of smooth functions of estimates.

    Parameters
    ----------
    gradient : ndarray, shape (n_functions, n_parameters)
        Jacobian ``G`` of the functions at the estimates.
    vcov : ndarray, shape (n_parameters, n_parameters)
        Covariance matrix ``V`` of the estimates.

    Returns
    -------
    ndarray, shape (n_functions,)
        ``sqrt(diag(G V G'))``.

    Notes
    -----
    First-order delta method (Sobel, 1982, for a product ``a*b`` gives
    ``sqrt(b^2 var(a) + a^2 var(b) + 2ab cov(a, b))``). lavaan computes the ``:=`` SEs
    the same way, with a numerical Jacobian (``lav_func_jacobian_complex``).

    Examples
    --------
    >>> float(delta_method_se(np.array([[2.0, 1.0]]), np.diag([1.0, 4.0]))[0])
    2.8284271247461903
    """
    G = np.asarray(gradient, dtype=float)
    V = np.asarray(vcov, dtype=float)
    var = np.einsum("ij,jk,ik->i", G, V, G)
    return np.sqrt(np.clip(var, 0.0, None))


def wald_table(est: np.ndarray, se: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """z, two-sided p-value and normal-theory interval, as ``parameterEstimates``.

    Returns
    -------
    DataFrame with columns ``est, se, z, pvalue, ci.lower, ci.upper``:
    ``z = est/se``, ``pvalue = 2 (1 - Phi(|z|))``,
    ``ci = est -+ qnorm((1 + level)/2) se``.
    """
    est = np.asarray(est, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    q = stats.norm.ppf((1 + level) / 2)
    return pd.DataFrame({"est": est, "se": se, "z": z, "pvalue": 2 * stats.norm.sf(np.abs(z)),
                         "ci.lower": est - q * se, "ci.upper": est + q * se})


def _eval(node, env: Mapping[str, float]) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.Name):
        return float(env[node.id])
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _eval(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in _FUNCTIONS and len(node.args) == 1 and not node.keywords:
        return float(_FUNCTIONS[node.func.id](_eval(node.args[0], env)))
    raise ValueError(ast.dump(node))


def evaluate_expression(expr: str, env: Mapping[str, float]) -> float:
    """Value of an R-style arithmetic expression (``+ - * / ^``, parentheses, numbers,
    names from ``env``, and ``exp log sqrt abs sin cos tan``).

    Raises
    ------
    InputError
        Anything else (the expression is user syntax), or a name not in ``env``.

    Examples
    --------
    >>> evaluate_expression("a*b + c^2", {"a": 2.0, "b": 3.0, "c": 1.5})
    8.25
    """
    names = {n.id for n in ast.walk(_tree(expr)) if isinstance(n, ast.Name)} - set(_FUNCTIONS)
    unknown = sorted(names - set(env))
    if unknown:
        raise InputError(f"unknown label(s) in variable definition(s): {', '.join(unknown)} "
                         f"(in '{expr}').")
    try:
        return _eval(_tree(expr), env)
    except ValueError:
        raise InputError(f"The expression '{expr}' is not supported: use numbers, labels, "
                         "+ - * / ^, parentheses and exp, log, sqrt, abs.") from None
    except (ZeroDivisionError, OverflowError):
        return float("nan")


def _tree(expr: str) -> ast.Expression:
    try:
        return ast.parse(expr.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise InputError(f"cannot read the expression '{expr}'.") from None


def evaluate_defined(defined: Sequence[tuple[str, str]],
                     env: Mapping[str, float]) -> np.ndarray:
    """The values of ``:=`` definitions, in order, each able to use earlier names.

    Examples
    --------
    >>> evaluate_defined([("ab", "a*b"), ("tot", "ab + c")], {"a": 2, "b": 3, "c": 1})
    array([6., 7.])
    """
    env = dict(env)
    out = []
    for name, expr in defined:
        env[name] = evaluate_expression(expr, env)
        out.append(env[name])
    return np.array(out, dtype=float)


def defined_parameters(defined: Sequence[tuple[str, str]], values: Mapping[str, float],
                       vcov: np.ndarray, std_values: Mapping[str, float] | None = None,
                       level: float = 0.95) -> pd.DataFrame:
    """lavaan's ``:=`` rows: estimates, delta-method SEs, Wald tests.

    Parameters
    ----------
    defined : sequence of (name, expression)
        In syntax order; an expression may use earlier names (``tot := ab + c``).
    values : mapping label -> float
        The labelled parameters' estimates; their order is the order of ``vcov``.
    vcov : ndarray, shape (len(values), len(values))
        Covariance matrix of those estimates (zero rows for fixed ones).
    std_values : mapping label -> float, optional
        The same parameters' ``std.all`` values; the ``std.all`` column is the
        expression evaluated at them (NaN without).
    level : float
        Confidence level of the intervals.

    Returns
    -------
    DataFrame
        Columns ``lhs`` (name), ``op`` (``:=``), ``rhs`` (expression), ``label`` (name),
        ``est, se, z, pvalue, ci.lower, ci.upper, std.all``.

    Notes
    -----
    ``se = sqrt(g' V g)`` (:func:`delta_method_se`) with the gradient by central
    differences, step ``1e-6 max(1, |theta_k|)`` (truncation error of order 1e-12
    relative). lavaan evaluates the same expression with ``lav_func_jacobian_complex``
    in ``lav_model_vcov_se``; both are exact to the printed digits.

    Examples
    --------
    >>> t = defined_parameters([("ab", "a*b")], {"a": 0.5, "b": 0.4}, np.diag([0.01, 0.01]))
    >>> round(float(t.loc[0, "est"]), 10), round(float(t.loc[0, "se"]), 6)
    (0.2, 0.064031)
    """
    keys = list(values)
    theta = np.array([values[k] for k in keys], dtype=float)

    def evaluate(th, base: Mapping[str, float]) -> np.ndarray:
        return evaluate_defined(defined, dict(base) | dict(zip(keys, th)))

    est = evaluate(theta, {})
    grad = np.zeros((len(defined), len(keys)))
    for k in range(len(keys)):
        h = 1e-6 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        grad[:, k] = (evaluate(up, {}) - evaluate(down, {})) / (2 * h)
    se = delta_method_se(grad, vcov) if len(keys) else np.zeros(len(defined))
    std = (evaluate(np.array([std_values.get(k, np.nan) for k in keys]), {})
           if std_values else np.full(len(defined), np.nan))
    table = pd.concat([pd.DataFrame({"lhs": [d[0] for d in defined], "op": ":=",
                                     "rhs": [d[1] for d in defined],
                                     "label": [d[0] for d in defined]}),
                       wald_table(est, se, level)], axis=1)
    table["std.all"] = std
    return table
