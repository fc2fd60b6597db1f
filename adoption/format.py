"""Numbers as APA style shows them: the one place where values become text.

Used by the figures, the HTML and Word reports, the dashboard and the terminal summary.
Nothing here computes a statistic: each function takes a value as the library stored it
(unrounded) and returns text.

* values bounded by 1 (correlations, beta, p, alpha, CFI, shares) have no leading zero;
* unbounded values (b, SE, z, chi-square) keep it;
* negative numbers use a true minus sign (U+2212), missing values an en dash;
* p values below .001 are written ``< .001``.

Reference: American Psychological Association (2020). *Publication manual of the
American Psychological Association* (7th ed.), sections 6.36 and 6.38.
"""

from __future__ import annotations

import math

__all__ = ["MISSING", "MINUS", "format_bounded", "format_number", "format_p",
           "format_p_value", "format_int", "format_percent", "stars", "is_number"]

#: What a missing or non-finite value shows as.
MISSING = "–"
#: The minus sign used for negative values.
MINUS = "−"
#: p values from here up round to 1.000 at three decimals and are written "> .999".
P_TOP = 0.9995


def is_number(value) -> bool:
    """True for a finite real number (not None, NaN, infinity, bool or text)."""
    if value is None or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _signed(value: float, text: str) -> str:
    """``text`` (the rounded absolute value) with a minus when ``value`` is negative, also
    when it rounds to zero: a CI limit of -0.0004 is "−0.000", not "0.000"."""
    return (MINUS if value < 0 else "") + text


def format_bounded(value: float, digits: int = 2) -> str:
    """A value bounded by 1 in APA style: no leading zero, a true minus sign.

    >>> format_bounded(0.384), format_bounded(-0.09), format_bounded(1.0)
    ('.38', '−.09', '1.00')
    """
    if not is_number(value):
        return MISSING
    value = float(value)
    text = f"{abs(value):.{digits}f}"
    if text.startswith("0."):
        text = text[1:]
    return _signed(value, text)


def format_number(value: float, digits: int = 2) -> str:
    """An unbounded value (b, SE, z, CI limits), with its leading zero and a true minus.

    >>> format_number(-0.0312, 3), format_number(12.5, 1)
    ('−0.031', '12.5')
    """
    if not is_number(value):
        return MISSING
    value = float(value)
    text = f"{abs(value):.{digits}f}"
    return _signed(value, text)


def format_int(value) -> str:
    """A count: no decimals, thousands separated by a comma (``1,204``)."""
    if not is_number(value):
        return MISSING
    return f"{int(round(float(value))):,}"


def format_percent(share: float, digits: int = 1) -> str:
    """A share (0-1) as a percentage without the sign: ``0.4092 -> '40.9'``."""
    if not is_number(share):
        return MISSING
    return f"{100 * float(share):.{digits}f}"


def format_p_value(p: float) -> str:
    """A p value for a table cell (the ``p`` is in the column head): ``.012``, ``< .001``,
    and ``> .999`` for a p that would round to 1 (APA never prints p = 1.000).

    >>> format_p_value(0.0123), format_p_value(2e-9), format_p_value(0.99957)
    ('.012', '< .001', '> .999')
    """
    if not is_number(p):
        return MISSING
    if float(p) < 0.001:
        return "< .001"
    if float(p) >= P_TOP:
        return "> .999"
    return format_bounded(p, 3)


def format_p(p: float) -> str:
    """A p value in running text, APA style: ``p = .012``, ``p < .001``.

    >>> format_p(0.0123), format_p(0.00001), format_p(0.9999)
    ('p = .012', 'p < .001', 'p > .999')
    """
    if not is_number(p):
        return "p = " + MISSING
    if float(p) < 0.001:
        return "p < .001"
    if float(p) >= P_TOP:
        return "p > .999"
    return "p = " + format_bounded(p, 3)


def stars(p: float) -> str:
    """``***`` for p < .001, ``**`` for p < .01, ``*`` for p < .05, else ''."""
    if not is_number(p):
        return ""
    p = float(p)
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""
