"""Standard errors of standardised estimates (lavaan's ``standardizedSolution()``).

The ``std.all`` value of every row of a parameter table is a smooth function of the
free parameters, ``s = s(theta)``. Its standard error comes from the first-order delta
method, ``se = sqrt(diag(J V J'))``, with ``J = ds/dtheta'`` and ``V`` the covariance
matrix the fit uses for its own standard errors (robust under MLM/MLR), as
``lavaan::standardizedSolution(fit, type = "std.all")`` does
(``lav_object_inspect_vcov(standardized = TRUE)``).

Pure functions:

* :func:`numerical_jacobian` - ``J`` by central differences;
* :func:`standardized_columns` - ``std.all.se``, ``std.all.z``, ``std.all.pvalue``,
  ``std.all.ci.lower``, ``std.all.ci.upper`` from ``s``, ``J`` and ``V``.

The function ``s(theta)`` itself is the engine's (:mod:`adoption.sem.engine`), the one
that fills the ``std.all`` column: there is one ``std.all`` in the project.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from adoption.vocabulary import STD_ALL_COLUMNS

__all__ = ["numerical_jacobian", "standardized_columns"]

#: lavaan sets a standardised SE below ``.Machine$double.eps^(1/4)`` to 0 (a constant
#: such as the std.all of a fixed-x variance, 1), and then z and the p-value to NA.
ZERO_SE = np.finfo(float).eps ** 0.25


def numerical_jacobian(func: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                       rel_step: float = 1e-6) -> np.ndarray:
    """Jacobian of a vector function by central differences.

    Parameters
    ----------
    func : callable
        ``func(x) -> ndarray`` of shape (m,).
    x : ndarray, shape (k,)
        Where to differentiate.
    rel_step : float
        Step ``h_j = rel_step * max(1, |x_j|)``.

    Returns
    -------
    ndarray, shape (m, k)

    Notes
    -----
    The truncation error of a central difference is ``h^2 f'''/6``, about 1e-12 relative
    for ``h = 1e-6`` and a function whose third derivatives are of the order of its
    values (ratios and square roots of variances away from 0); the rounding error is
    about ``eps |f| / h``, 1e-10 relative. Both are far below the 1e-4 to which the SEs
    are compared with lavaan (whose complex-step Jacobian is exact to rounding).

    Examples
    --------
    >>> numerical_jacobian(lambda v: np.array([v[0] * v[1]]), np.array([2.0, 3.0])).round(6)
    array([[3., 2.]])
    """
    x = np.asarray(x, dtype=float)
    cols = []
    for j in range(x.size):
        h = rel_step * max(1.0, abs(x[j]))
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        cols.append((np.asarray(func(up), dtype=float) - np.asarray(func(down), dtype=float))
                    / (2 * h))
    return np.column_stack(cols) if cols else np.zeros((len(func(x)), 0))


def standardized_columns(std: np.ndarray, jacobian: np.ndarray, vcov: np.ndarray,
                         level: float = 0.95) -> pd.DataFrame:
    """Delta-method SE, z, p-value and interval of standardised estimates.

    Parameters
    ----------
    std : ndarray, shape (m,)
        The ``std.all`` values.
    jacobian : ndarray, shape (m, k)
        ``d std / d theta'`` at the estimates.
    vcov : ndarray, shape (k, k)
        Covariance matrix of the free parameters (NaN when unavailable).
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        Columns :data:`adoption.vocabulary.STD_ALL_COLUMNS`, as lavaan's ``se``, ``z``,
        ``pvalue``, ``ci.lower``, ``ci.upper`` of ``standardizedSolution()``: SEs below
        :data:`ZERO_SE` are 0, with z and p-value NaN; a negative variance gives NaN.

    Examples
    --------
    >>> t = standardized_columns(np.array([0.5, 1.0]), np.array([[1.0], [0.0]]),
    ...                          np.array([[0.01]]))
    >>> t["std.all.se"].tolist(), bool(np.isnan(t["std.all.z"].iat[1]))
    ([0.1, 0.0], True)
    """
    std = np.asarray(std, dtype=float)
    var = np.einsum("ij,jk,ik->i", jacobian, vcov, jacobian) if jacobian.size else \
        np.zeros(len(std))
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.where(var < 0, np.nan, var))
        se = np.where(se < ZERO_SE, 0.0, se)
        z = np.where(se > 0, std / se, np.nan)
    q = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame(dict(zip(STD_ALL_COLUMNS, (
        se, z, 2 * stats.norm.sf(np.abs(z)), std - q * se, std + q * se))))
