"""Structural equation models with lavaan's numbers.

:func:`adoption.sem.engine.fit_model` is the entry point; it is the only code that
imports semopy. Fit indices live in :mod:`adoption.sem.fitmeasures` (one function
each) and are gathered under lavaan's ``fitMeasures()`` names by
:mod:`adoption.sem.fitdict`, information
matrices and robust corrections in :mod:`adoption.sem.robust`, the lavaan-syntax
parameter table in :mod:`adoption.sem.syntax`.

Ordered-category items (WLSMV, ULSMV): :func:`adoption.sem.wlsmv.fit_ordinal`, with the
thresholds, polychorics and their NACOV in :mod:`adoption.sem.polychoric`, the
scaled-shifted test and fit measures in :mod:`adoption.sem.ordinal_fit`, and ordinal
alpha / categorical omega in :mod:`adoption.sem.ordinal_reliability`.
"""

from adoption.sem.engine import ModelFit, fit_model

__all__ = ["ModelFit", "fit_model"]
