"""Structural equation models with lavaan's numbers.

:func:`adoption.sem.engine.fit_model` is the entry point for one group; it calls
lavaan's stages in order, one module each:

* :mod:`adoption.sem.syntax`, :mod:`adoption.sem.partable` - lavaan syntax and the
  parameter table;
* :mod:`adoption.sem.complete`, :mod:`adoption.sem.fimlfit` - the sample and objective
  of a complete-data or FIML fit (the casewise likelihood in :mod:`adoption.sem.fiml`);
* :mod:`adoption.sem.matrices` - Sigma(theta) and its derivatives (the only semopy
  import); :mod:`adoption.sem.start`, :mod:`adoption.sem.optimise` - start values and
  iterations;
* :mod:`adoption.sem.estimates` - the estimate table, standard errors, std.all
  (:mod:`adoption.sem.standardized`) and ``:=`` rows (:mod:`adoption.sem.defined`);
* :mod:`adoption.sem.teststat`, :mod:`adoption.sem.robust` - test statistics and robust
  corrections; :mod:`adoption.sem.fitdict` gathers the fit indices of
  :mod:`adoption.sem.fitmeasures` (one function each) under lavaan's names;
* :mod:`adoption.sem.refit` - warm-started refits for the bootstrap;
* :mod:`adoption.sem.modindices`, :mod:`adoption.sem.compare` - modification indices
  and model comparisons of a fit.

Several groups: :func:`adoption.sem.multigroup.fit_multigroup` (stages in
:mod:`adoption.sem.groupsetup`, :mod:`adoption.sem.groupoptim`,
:mod:`adoption.sem.grouprobust`).

Ordered-category items (WLSMV, ULSMV): :func:`adoption.sem.wlsmv.fit_ordinal`, with the
thresholds, polychorics and their NACOV in :mod:`adoption.sem.polychoric`, the
scaled-shifted test and fit measures in :mod:`adoption.sem.ordinal_fit`, and ordinal
alpha / categorical omega in :mod:`adoption.sem.ordinal_reliability`.
"""

from adoption.sem.engine import ModelFit, fit_model

__all__ = ["ModelFit", "fit_model"]
