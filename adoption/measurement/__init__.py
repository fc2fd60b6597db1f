"""Measurement stage: cleaned item responses -> :class:`MeasurementResults`.

Modules, in the order the stage uses them::

    items.py        item descriptives (psych::describe, response shares, floor/ceiling)
    normality.py    univariate skew/kurtosis, Mardia's tests (psych::mardia)
    reliability.py  alpha (psych::alpha), omega/AVE (semTools::compRelSEM/AVE), CR
    validity.py     HTMT (semTools::htmt), Fornell-Larcker, KMO, Bartlett, Harman
    efa.py          parallel analysis, EFA with oblimin, flagged items
    stage.py        measure(items, constructs) calling all of the above and the CFA

Every formula is a pure function; only ``stage.py`` touches the SEM engine.
"""

from adoption.measurement.stage import MeasurementResults, cfa_syntax, measure

__all__ = ["MeasurementResults", "cfa_syntax", "measure"]
