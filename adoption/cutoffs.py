"""The usual cut-offs, in one place for the terminal, the report and the dashboard.

Each judgement is 'good', 'acceptable' or 'poor' (or None where no value is known).

References: Hu & Bentler (1999) for CFI/TLI >= .95, RMSEA <= .06, SRMR <= .08 (with
.90 and .08 as the older "acceptable" bounds); Nunnally (1978) for alpha and CR >= .70;
Fornell & Larcker (1981) for AVE >= .50; Henseler, Ringle & Sarstedt (2015) for HTMT
< .85 (strict) and < .90 (lenient).
"""

from __future__ import annotations

import math

# measure -> (direction, good, acceptable): direction +1 means higher is better
CUTOFFS: dict[str, tuple[int, float, float]] = {
    "cfi": (+1, 0.95, 0.90),
    "tli": (+1, 0.95, 0.90),
    "rmsea": (-1, 0.06, 0.08),
    "srmr": (-1, 0.08, 0.08),
    "alpha": (+1, 0.70, 0.60),
    "omega": (+1, 0.70, 0.60),
    "cr": (+1, 0.70, 0.60),
    "ave": (+1, 0.50, 0.50),
    "htmt": (-1, 0.85, 0.90),
}


def judge(measure: str, value: float | None) -> str | None:
    """'good', 'acceptable' or 'poor' for a value of ``measure`` (see :data:`CUTOFFS`).

    >>> judge("cfi", 0.96), judge("cfi", 0.92), judge("rmsea", 0.1)
    ('good', 'acceptable', 'poor')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    direction, good, ok = CUTOFFS[measure]
    v = direction * value
    if v >= direction * good:
        return "good"
    if v >= direction * ok:
        return "acceptable"
    return "poor"


def describe_cutoff(measure: str) -> str:
    """The cut-off as text, e.g. 'CFI >= .95 (.90)'."""
    direction, good, ok = CUTOFFS[measure]
    sign = ">=" if direction > 0 else "<="
    f = lambda x: f"{x:.2f}".lstrip("0")  # noqa: E731
    extra = f" ({f(ok)})" if ok != good else ""
    return f"{measure.upper()} {sign} {f(good)}{extra}"


def hypothesis_result(supported: bool | None, expected_sign: str | None) -> str | None:
    """The word for a tested path: 'supported' / 'not supported' when the hypothesis
    states a sign, 'significant' / 'not significant' when it does not (a path with no
    expected direction cannot support a directional claim). None when not tested.

    >>> hypothesis_result(True, "+"), hypothesis_result(True, None), hypothesis_result(False, "")
    ('supported', 'significant', 'not significant')
    """
    if supported is None or (isinstance(supported, float) and math.isnan(supported)):
        return None
    signed = isinstance(expected_sign, str) and expected_sign.strip() != ""
    word = "supported" if signed else "significant"
    return word if supported else f"not {word}"
