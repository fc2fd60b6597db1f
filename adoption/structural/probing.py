"""What the moderation figures show, computed from a fitted equation: pure functions.

* :func:`moderator_grid` - moderator values across the observed range (the x axis of the
  Johnson-Neyman plot, with the probed values and the JN points on it);
* :func:`predicted_outcome` - the outcome an equation predicts when some predictors are
  set (the interaction plot: the outcome against the focal predictor at low, mean and
  high moderator, or per category), the other predictors at their means.

The conditional effect along the grid is :func:`adoption.structural.moderation.
conditional_slopes`; the figures themselves are drawn from results.json by
:mod:`adoption.figures.moderation`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["GRID_POINTS", "moderator_grid", "predicted_outcome"]

#: Moderator values of the Johnson-Neyman plot's curve (before the probed values and the
#: JN points are added): enough for a smooth band at any figure width.
GRID_POINTS = 101


def moderator_grid(w: np.ndarray, extra: Sequence[float] = (), n: int = GRID_POINTS) -> np.ndarray:
    """``n`` evenly spaced values from the smallest to the largest observed ``w``, with the
    ``extra`` values that lie in that range (probed values, JN points) added.

    Parameters
    ----------
    w : ndarray
        The moderator's values (NaN ignored).
    extra : sequence of float
        Values that must be on the grid exactly.
    n : int

    Returns
    -------
    ndarray
        Sorted, without duplicates.

    Examples
    --------
    >>> moderator_grid(np.array([1.0, 5.0]), extra=[2.5, 7.0], n=3).tolist()
    [1.0, 2.5, 3.0, 5.0]
    """
    w = np.asarray(w, dtype=float)
    w = w[np.isfinite(w)]
    lo, hi = float(w.min()), float(w.max())
    inside = [float(x) for x in extra if np.isfinite(x) and lo <= x <= hi]
    return np.unique(np.concatenate([np.linspace(lo, hi, n), inside]))


def predicted_outcome(coef: np.ndarray, rhs: Sequence[str], means: Mapping[str, float],
                      ybar: float, settings: Sequence[Mapping[str, float]],
                      products: Mapping[str, tuple[str, str, float, float]]) -> np.ndarray:
    """The outcome an OLS equation predicts with some predictors set to given values.

    Parameters
    ----------
    coef : ndarray, shape (k,)
        Slopes of the predictors ``rhs`` (no intercept).
    rhs : sequence of str
        Predictor names, in the order of ``coef``.
    means : mapping
        Each predictor's mean over the rows the equation was fitted on.
    ybar : float
        The outcome's mean over those rows.
    settings : sequence of mappings
        Each: variable -> value (a predictor, or a factor of a product).
    products : mapping
        Product column -> ``(a, b, c_a, c_b)``: its factors and the constants subtracted
        from them (:func:`adoption.structural.moderation.centring_constants`).

    Returns
    -------
    ndarray, shape (len(settings),)

    Notes
    -----
    An OLS fit with an intercept passes through the means, so ``y_hat = ybar + sum_k b_k
    (x_k - xbar_k)`` without the intercept. A predictor not set stays at its mean; a
    product with a factor set is ``(a - c_a)(b - c_b)``, the other factor at its mean when
    it is not set (so that a product of two unset factors stays at its own mean). With
    the product's factors set this is PROCESS's "data for visualizing the conditional
    effect" (Hayes, 2022, sec. 7.3), other covariates at their means as there.
    """
    out = []
    for setting in settings:
        y = float(ybar)
        for b, name in zip(coef, rhs):
            if name in products and any(f in setting for f in products[name][:2]):
                fa, fb, ca, cb = products[name]
                x = (setting.get(fa, means.get(fa, ca)) - ca) * (setting.get(fb, means.get(fb, cb)) - cb)
            else:
                x = setting.get(name, means[name])
            y += float(b) * (x - means[name])
        out.append(y)
    return np.array(out)
