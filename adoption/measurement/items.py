"""Item descriptives: n, mean, SD, skewness, kurtosis, response shares, floor/ceiling.

Pure functions of a DataFrame of item responses (one column per item, rows are
respondents, NaN for a missing answer). Nothing is rounded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["skewness", "kurtosis", "item_descriptives"]


def skewness(x: np.ndarray, type: int = 3) -> float:
    """Sample skewness of one variable, NaNs dropped.

    Parameters
    ----------
    x : array_like
        Values; NaNs are ignored.
    type : {1, 2, 3}
        Definition, as ``e1071::skewness`` / ``psych::skew``. Default 3, as ``psych::describe``.

    Returns
    -------
    float
        The skewness, or NaN when fewer than 3 values or zero variance (``type`` 2 needs n > 2).

    Notes
    -----
    With :math:`m_r = \\frac{1}{n}\\sum (x_i-\\bar x)^r` and :math:`s` the SD with n - 1:

    * type 1: :math:`g_1 = m_3 / m_2^{3/2}`
    * type 2: :math:`G_1 = g_1 \\sqrt{n(n-1)}/(n-2)` (SAS, SPSS)
    * type 3: :math:`b_1 = m_3 / s^3 = g_1 ((n-1)/n)^{3/2}` (``psych::skew``, default of
      ``psych::describe``)

    Examples
    --------
    >>> round(skewness([1, 2, 3, 10]), 6)
    0.661362
    """
    v = np.asarray(x, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n < 3:
        return float("nan")
    d = v - v.mean()
    m2 = np.mean(d**2)
    if m2 <= 0:
        return float("nan")
    g1 = np.mean(d**3) / m2**1.5
    if type == 1:
        return float(g1)
    if type == 2:
        return float(g1 * np.sqrt(n * (n - 1)) / (n - 2))
    if type == 3:
        return float(g1 * ((n - 1) / n) ** 1.5)
    raise ValueError(f"type must be 1, 2 or 3, not {type!r}")


def kurtosis(x: np.ndarray, type: int = 3) -> float:
    """Sample excess kurtosis of one variable, NaNs dropped.

    Parameters
    ----------
    x : array_like
        Values; NaNs are ignored.
    type : {1, 2, 3}
        Definition, as ``e1071::kurtosis`` / ``psych::kurtosi``. Default 3, as ``psych::describe``.

    Returns
    -------
    float
        Excess kurtosis (0 for a normal distribution), NaN when fewer than 4 values or zero variance.

    Notes
    -----
    * type 1: :math:`g_2 = m_4/m_2^2 - 3`
    * type 2: :math:`G_2 = ((n+1) g_2 + 6)(n-1)/((n-2)(n-3))` (SAS, SPSS)
    * type 3: :math:`b_2 = m_4/s^4 - 3 = (g_2 + 3)(1 - 1/n)^2 - 3` (``psych::kurtosi``,
      default of ``psych::describe``)
    """
    v = np.asarray(x, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n < 4:
        return float("nan")
    d = v - v.mean()
    m2 = np.mean(d**2)
    if m2 <= 0:
        return float("nan")
    g2 = np.mean(d**4) / m2**2 - 3.0
    if type == 1:
        return float(g2)
    if type == 2:
        return float(((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)))
    if type == 3:
        return float((g2 + 3) * (1 - 1 / n) ** 2 - 3)
    raise ValueError(f"type must be 1, 2 or 3, not {type!r}")


def item_descriptives(items: pd.DataFrame, options: Sequence[float] | None = None,
                      max_options: int = 11) -> pd.DataFrame:
    """Descriptive statistics of each item, as ``psych::describe`` plus response shares.

    Parameters
    ----------
    items : pandas.DataFrame
        One column per item; NaN marks a missing answer.
    options : sequence of numbers, optional
        The response options of the scale (e.g. ``[1, 2, 3, 4, 5]``). Default: every
        distinct value observed in ``items``. The floor is the first option and the ceiling
        the last, so pass the scale explicitly when an end of it may be unused.

    Returns
    -------
    pandas.DataFrame
        One row per item, columns:

        * ``item``: column name
        * ``n``: non-missing answers; ``n_missing``: missing answers
        * ``mean``, ``sd`` (n - 1 denominator), ``median``, ``min``, ``max``
        * ``skew``, ``kurtosis``: type 3 (``psych::describe`` default, see :func:`skewness`,
          :func:`kurtosis`); kurtosis is excess kurtosis
        * ``share_<option>``: share of non-missing answers at each option
        * ``share_other``: share of non-missing answers not in ``options`` (0 unless
          ``options`` was given and values fall outside it)
        * ``floor``, ``ceiling``: share at the first and the last option

    Notes
    -----
    Agrees with ``psych::describe(x)`` (``type = 3``) for n, mean, sd, median, min, max,
    skew, kurtosis. Shares divide by the number of non-missing answers; an item with no
    answers gets NaN everywhere but ``n`` and ``n_missing``.
    """
    if options is None:
        vals = pd.unique(items.to_numpy(dtype=float).ravel())
        options = sorted(v for v in vals if not np.isnan(v))
        if len(options) > max_options:
            options = []
    options = list(options)
    rows = []
    for col in items.columns:
        x = items[col].to_numpy(dtype=float)
        v = x[~np.isnan(x)]
        n = v.size
        row = {
            "item": col,
            "n": n,
            "n_missing": int(x.size - n),
            "mean": float(v.mean()) if n else np.nan,
            "sd": float(v.std(ddof=1)) if n > 1 else np.nan,
            "median": float(np.median(v)) if n else np.nan,
            "min": float(v.min()) if n else np.nan,
            "max": float(v.max()) if n else np.nan,
            "skew": skewness(v),
            "kurtosis": kurtosis(v),
        }
        inside = 0
        for opt in options:
            k = int(np.sum(v == opt))
            inside += k
            row[f"share_{_label(opt)}"] = k / n if n else np.nan
        row["share_other"] = (n - inside) / n if (n and options) else np.nan
        row["floor"] = row[f"share_{_label(options[0])}"] if options else np.nan
        row["ceiling"] = row[f"share_{_label(options[-1])}"] if options else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _label(opt: float) -> str:
    return str(int(opt)) if float(opt).is_integer() else str(opt)
