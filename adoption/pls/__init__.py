"""PLS-SEM (partial least squares path modelling), with seminr's definitions.

* :mod:`.model` - the model: blocks of items (mode A or B) and the inner paths;
* :mod:`.algorithm` - the PLS algorithm on stacks of item correlation matrices;
* :mod:`.estimate` - :func:`estimate_pls` -> :class:`PLSResult` (weights, loadings,
  scores, paths, R-squared, f-squared, effects; PLSc on request);
* :mod:`.quality` - reliability, HTMT, Fornell-Larcker, cross-loadings, VIFs, Kock's
  full-collinearity VIF;
* :mod:`.bootstrap` - :func:`bootstrap_pls` -> :class:`PLSBootstrap`, batched over draws;
* :mod:`.fit` - SRMR, dULS, dG of the saturated and estimated model;
* :mod:`.moderation` - moderation by the two-stage approach;
* :mod:`.mga` - MICOM and the permutation multi-group test;
* :mod:`.predict` - PLSpredict (k-fold item predictions);
* :mod:`.stage` - the PLS-SEM stage: cleaned responses -> ``PLSResults``.

Public names: those in ``__all__`` below (the stage is imported from :mod:`.stage`).
"""

from adoption.pls.bootstrap import PLSBootstrap, bootstrap_pls, htmt_inference
from adoption.pls.estimate import PLSResult, estimate_pls
from adoption.pls.fit import pls_fit
from adoption.pls.model import MODES, Block, PLSModel, pls_model
from adoption.pls.quality import full_collinearity_vif

__all__ = ["MODES", "Block", "PLSBootstrap", "PLSModel", "PLSResult", "bootstrap_pls",
           "estimate_pls", "full_collinearity_vif", "htmt_inference", "pls_fit", "pls_model"]
