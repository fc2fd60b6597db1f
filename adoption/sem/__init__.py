"""Structural equation models with lavaan's numbers.

:func:`adoption.sem.engine.fit_model` is the entry point; it is the only code that
imports semopy. Fit indices live in :mod:`adoption.sem.fitmeasures`, information
matrices and robust corrections in :mod:`adoption.sem.robust`, the lavaan-syntax
parameter table in :mod:`adoption.sem.syntax`.
"""

from adoption.sem.engine import ModelFit, fit_model

__all__ = ["ModelFit", "fit_model"]
