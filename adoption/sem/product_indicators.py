"""Latent interaction by double-mean-centred product indicators (Lin et al. 2010).

The latent product ``X:Z`` is measured by products of X's and Z's indicators. Each
first-order indicator is mean-centred, the products are formed, and each product is
centred again (double-mean-centring, DMC); the model is then an ordinary CFA/SEM fitted
by :func:`adoption.sem.engine.fit_model`. With all pairs (the default, as Lin et al.), the
residuals of two product indicators that share an item covary; with matched pairs
(x1*z1, x2*z2, ...) no two products share an item.

Agrees with ``semTools::indProd(meanC = TRUE, doubleMC = TRUE)`` plus lavaan 0.6-14
``sem()`` (``tests/fixtures/latent_interaction/make_dmc_reference.R``).

References
----------
Lin, G.-C., Wen, Z., Marsh, H. W., & Lin, H.-S. (2010). Structural equation models of
latent interactions: Clarification of orthogonalizing and double-mean-centering
strategies. *Structural Equation Modeling, 17*(3), 374-391.
"""

from __future__ import annotations

import itertools

import pandas as pd

from adoption.errors import InputError
from adoption.sem.engine import fit_model
from adoption.sem.latent_interaction import (ASSUMPTIONS, METHOD_DMC, LatentInteraction,
                                             interaction_rows)


def product_pairs(first: list[str], second: list[str], matched: bool = False) -> list[tuple]:
    """Pairs of indicators whose products measure the latent product.

    Parameters
    ----------
    first, second : list of str
        Indicators of the focal predictor and of the moderator.
    matched : bool
        False: all ``len(first) * len(second)`` pairs, in semTools' order (x1.z1, x1.z2,
        ...). True: ``first[k]`` with ``second[k]`` for k up to the shorter list
        (``semTools::indProd(match = TRUE)``).

    Returns
    -------
    list of (str, str)
    """
    if matched:
        return list(zip(first, second))
    return list(itertools.product(first, second))


def product_name(pair: tuple) -> str:
    """Column name of a product indicator, as semTools: ``"x1.z1"``."""
    return f"{pair[0]}.{pair[1]}"


def double_mean_centred_products(data: pd.DataFrame, pairs: list[tuple]) -> pd.DataFrame:
    """Double-mean-centred products of indicator pairs.

    Parameters
    ----------
    data : pd.DataFrame
        Complete numeric data holding every indicator of ``pairs``.
    pairs : list of (str, str)

    Returns
    -------
    pd.DataFrame
        One column per pair, named by :func:`product_name`, same index as ``data``.

    Notes
    -----
    p_i = (x_i - mean(x)) (z_i - mean(z)) - mean_j[(x_j - mean(x)) (z_j - mean(z))],
    ``semTools::indProd(meanC = TRUE, residualC = FALSE, doubleMC = TRUE)``.
    """
    out = {}
    for a, b in pairs:
        prod = (data[a] - data[a].mean()) * (data[b] - data[b].mean())
        out[product_name((a, b))] = prod - prod.mean()
    return pd.DataFrame(out, index=data.index)


def product_indicator_syntax(product: str, pairs: list[tuple]) -> str:
    """lavaan syntax measuring the latent product by its product indicators.

    One ``product =~ ...`` line (first loading fixed at 1 by the engine's default) and a
    residual covariance ``a ~~ b`` for every two product indicators sharing an item (the
    DMC specification of Lin et al. 2010; none with matched pairs).
    """
    names = [product_name(p) for p in pairs]
    lines = [f"{product} =~ " + " + ".join(names)]
    for (i, p), (j, q) in itertools.combinations(enumerate(pairs), 2):
        if set(p) & set(q):
            lines.append(f"{names[i]} ~~ {names[j]}")
    return "\n".join(lines) + "\n"


def fit_dmc(model: str, data: pd.DataFrame, *, outcome: str, focal: tuple, moderator: tuple,
            matched: bool = False, product: str | None = None) -> LatentInteraction:
    """Fit a latent interaction with double-mean-centred product indicators.

    Parameters
    ----------
    model : str
        lavaan syntax of the measurement model and the structural equation of
        ``outcome``, written with the product's name as a predictor, e.g.
        ``"X =~ x1 + x2\\nZ =~ z1 + z2\\nY =~ y1 + y2\\nY ~ X + Z + XZ"``.
    data : pd.DataFrame
        Raw data; rows with a missing indicator are deleted (listwise) before centring.
    outcome : str
        The latent outcome.
    focal, moderator : (str, list of str)
        Each latent variable's name and its indicators.
    matched : bool
        Matched pairs instead of all pairs (:func:`product_pairs`).
    product : str, optional
        Name of the latent product in ``model``; default focal name + moderator name.

    Returns
    -------
    LatentInteraction
        ``method`` :data:`METHOD_DMC`; ``details`` gives the pairing and the number of
        product indicators.

    Raises
    ------
    InputError
        An indicator is not a column of ``data``, or the model does not use the product.
    """
    product = product or f"{focal[0]}{moderator[0]}"
    items = list(focal[1]) + list(moderator[1])
    missing = [c for c in items if c not in data.columns]
    if missing:
        raise InputError(f"Product indicators: {', '.join(missing)} not in the data; "
                         "name indicator columns of the data file.")
    if product not in model:
        raise InputError(f"Product indicators: the model does not use '{product}'; "
                         f"write '{outcome} ~ ... + {product}'.")
    pairs = product_pairs(list(focal[1]), list(moderator[1]), matched)
    complete = data.dropna(subset=items)
    products = double_mean_centred_products(complete, pairs)
    syntax = model.rstrip("\n") + "\n" + product_indicator_syntax(product, pairs)
    fit = fit_model(syntax, pd.concat([complete, products], axis=1))
    est = fit.estimates[["lhs", "op", "rhs", "est", "se", "z", "pvalue",
                         "ci.lower", "ci.upper"]].reset_index(drop=True)
    dropped = len(data) - len(complete)
    notes = ((f"{dropped} rows with a missing indicator of {focal[0]} or "
              f"{moderator[0]} deleted before centring.",) if dropped else ())
    return LatentInteraction(
        method=METHOD_DMC, assumptions=ASSUMPTIONS[METHOD_DMC], outcome=outcome,
        focal=focal[0], moderator=moderator[0],
        interaction=interaction_rows(est, outcome, focal[0], moderator[0], product),
        estimates=est, fit=dict(fit.fit), nobs=fit.nobs, converged=fit.converged,
        warnings=notes + tuple(fit.warnings),
        details=(("pairing", "matched" if matched else "all pairs"),
                 ("product indicators", str(len(pairs)))))
