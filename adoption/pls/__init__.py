"""PLS-SEM (partial least squares path modelling), with seminr's definitions.

* :mod:`.model` - the model: blocks of items (mode A or B) and the inner paths;
* :mod:`.algorithm` - the PLS algorithm on stacks of item correlation matrices;
* :mod:`.estimate` - :func:`estimate_pls` -> :class:`PLSResult` (weights, loadings,
  scores, paths, R-squared, f-squared, effects; PLSc on request);
* :mod:`.quality` - reliability, HTMT, Fornell-Larcker, cross-loadings, VIFs, Kock's
  full-collinearity VIF.
"""

from adoption.pls.estimate import PLSResult, estimate_pls
from adoption.pls.model import MODES, Block, PLSModel, pls_model
from adoption.pls.quality import full_collinearity_vif

__all__ = ["MODES", "Block", "PLSModel", "PLSResult", "estimate_pls", "full_collinearity_vif", "pls_model"]
