"""Latent interactions of a structural model written in lavaan syntax (``Y ~ X + Z + X:Z``).

The entry point for a run: :func:`fit_latent_moderation` finds the interaction terms of
the structural syntax and fits each one between two constructs measured by items, by
double-mean-centred product indicators (:mod:`adoption.sem.product_indicators`, the
default: the whole structural model between constructs, fitted by the engine; observed
controls are left out) or by LMS
(:mod:`adoption.sem.lms`: the outcome's equation alone). Terms with a variable that is not
a construct (an observed moderator, a dummy) are left to the composite model and named in
the notes. The result is a frozen :class:`LatentModeration`; ``to_dict()`` gives
``structural.latent.moderation`` of ``results.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from adoption.errors import InputError
from adoption.jsonable import to_jsonable
from adoption.sem.latent_interaction import LatentInteraction, interaction_dict
from adoption.sem.lms import DEFAULT_NODES, fit_lms
from adoption.sem.product_indicators import fit_dmc
from adoption.sem.syntax import parse_model, write_formulas
from adoption.vocabulary import OP_REGRESSION

#: Methods of :func:`fit_latent_moderation`.
METHODS = ("dmc", "lms")


@dataclass(frozen=True)
class LatentModeration:
    """The latent interactions of a run.

    Attributes
    ----------
    method : str
        "dmc" or "lms".
    interactions : tuple of LatentInteraction
        One per interaction term between two constructs.
    notes : tuple of str
        Terms not fitted in the latent model and why; how several terms were fitted.
    """

    method: str
    interactions: tuple
    notes: tuple = ()

    def to_dict(self) -> dict:
        return to_jsonable({"method": self.method,
                            "interactions": [interaction_dict(r) for r in self.interactions],
                            "notes": list(self.notes)})


def interaction_terms(structural: str) -> list[tuple[str, str, str]]:
    """The interaction terms of lavaan syntax as (outcome, focal, moderator).

    >>> interaction_terms("Y ~ X + Z + X:Z")
    [('Y', 'X', 'Z')]
    """
    parsed = parse_model(structural, where="structural model")
    return [(f.lhs, *f.rhs.split(":", 1)) for f in parsed.formulas
            if f.op == OP_REGRESSION and f.interaction]


def product_syntax(structural: str, term: tuple, product: str,
                   constructs: frozenset | None = None) -> str:
    """The structural syntax with ``term``'s product written as the latent ``product``,
    every other interaction term left out, and (given ``constructs``) every statement
    naming a variable that is not a construct (an observed control) left out.

    >>> product_syntax("Y ~ X + Z + X:Z + X:W + age", ("Y", "X", "Z"), "XZ",
    ...                frozenset({"X", "Z", "W", "Y"}))
    'Y ~ X + Z + XZ'
    """
    kept = []
    for f in parse_model(structural, where="structural model").formulas:
        if f.op == OP_REGRESSION and f.interaction:
            if (f.lhs, *f.rhs.split(":", 1)) == term:
                kept.append(replace(f, rhs=product, interaction=False))
        elif constructs is None or {f.lhs, f.rhs} <= constructs:
            kept.append(f)
    return write_formulas(kept)


def fit_latent_moderation(structural: str, measurement_syntax: str, items: dict,
                          data: pd.DataFrame, *, method: str = "dmc", matched: bool = False,
                          nodes: int = DEFAULT_NODES) -> LatentModeration | None:
    """Fit every interaction term of ``structural`` between two constructs.

    Parameters
    ----------
    structural : str
        The structural model in lavaan syntax, with ``X:Z`` terms.
    measurement_syntax : str
        The measurement model (``C =~ i1 + i2 ...``), as the run's latent SEM uses it.
    items : dict
        Construct -> its items (the first one carries the scale).
    data : pd.DataFrame
        The items, one row per respondent.
    method : {"dmc", "lms"}
        "dmc": product indicators (all pairs unless ``matched``) in the whole model;
        "lms": LMS for the outcome's equation (its predictors that are constructs).
    matched, nodes
        Passed to :func:`adoption.sem.product_indicators.fit_dmc` /
        :func:`adoption.sem.lms.fit_lms`.

    Returns
    -------
    LatentModeration or None
        None when the syntax has no interaction term.

    Raises
    ------
    InputError
        Unknown method.
    """
    if method not in METHODS:
        raise InputError(f"Unknown latent interaction method '{method}'; use one of "
                         f"{', '.join(METHODS)}.")
    terms = interaction_terms(structural)
    if not terms:
        return None
    fitted, notes = [], []
    for term in terms:
        outcome, focal, moderator = term
        if not all(v in items for v in term):
            notes.append(f"{focal}:{moderator} -> {outcome} is not between constructs "
                         "measured by items: it is in the composite model only.")
            continue
        fitted.append(_fit_term(structural, measurement_syntax, items, data, term, method,
                                matched, nodes))
    observed = sorted({v for f in parse_model(structural).formulas if not f.interaction
                       for v in (f.lhs, f.rhs) if v not in items})
    if observed and fitted:
        notes.append(f"observed variables ({', '.join(observed)}) are not in the latent "
                     "interaction model.")
    if len(terms) > 1 and fitted:
        notes.append("each latent interaction was fitted in a model without the other "
                     "interaction terms.")
    return LatentModeration(method=method, interactions=tuple(fitted), notes=tuple(notes))


def _fit_term(structural, measurement_syntax, items, data, term, method, matched,
              nodes) -> LatentInteraction:
    outcome, focal, moderator = term
    if method == "lms":
        predictors = [f.rhs for f in parse_model(structural).formulas
                      if f.op == OP_REGRESSION and f.lhs == outcome and not f.interaction]
        others = tuple((p, items[p]) for p in predictors
                       if p in items and p not in (focal, moderator))
        return fit_lms(data, outcome=(outcome, items[outcome]),
                       focal=(focal, items[focal]), moderator=(moderator, items[moderator]),
                       others=others, nodes=nodes)
    product = f"{focal}{moderator}"
    while product in items:
        product += "_"
    structural = product_syntax(structural, term, product, frozenset(items))
    model = measurement_syntax.rstrip("\n") + "\n" + structural
    return fit_dmc(model, data, outcome=outcome, focal=(focal, items[focal]),
                   moderator=(moderator, items[moderator]), matched=matched, product=product)
