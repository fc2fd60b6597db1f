"""The construct table a paper starts with: means, SDs and correlations of the construct
scores, with each construct's reliability beside them.

The scores are those of the composite path model (:func:`adoption.structural.stage.
composite_scores`: the mean of each construct's answered items).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["construct_table"]


def construct_table(scores: pd.DataFrame, alpha: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Descriptives and Pearson correlations of the construct scores.

    Parameters
    ----------
    scores : one column per construct (respondents in rows; NaN where a score is missing).
    alpha : Cronbach's alpha by construct (NaN where absent).

    Returns
    -------
    pandas.DataFrame
        One row per construct, in the order of ``scores``' columns: ``construct``, ``n``
        (non-missing scores), ``mean``, ``sd`` (n - 1), ``alpha``, then one column per
        construct with the correlations (pairwise complete, diagonal 1), as
        ``cor(scores, use = "pairwise.complete.obs")`` in R.

    Examples
    --------
    >>> s = pd.DataFrame({"A": [1.0, 2, 3, 4], "B": [2.0, 1, 4, 3]})
    >>> construct_table(s, {"A": 0.8})[["construct", "mean", "alpha", "B"]].round(2)
      construct  mean  alpha    B
    0         A   2.5    0.8  0.6
    1         B   2.5    NaN  1.0
    """
    alpha = dict(alpha or {})
    x = scores.astype(float)
    corr = x.corr(method="pearson", min_periods=2)
    out = pd.DataFrame({"construct": list(x.columns), "n": x.notna().sum().to_numpy(),
                        "mean": x.mean().to_numpy(), "sd": x.std(ddof=1).to_numpy(),
                        "alpha": [float(alpha.get(c, np.nan)) for c in x.columns]})
    return pd.concat([out, corr.reset_index(drop=True)], axis=1)
