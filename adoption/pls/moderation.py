"""Moderation in PLS-SEM by the two-stage approach (seminr ``interaction_term(method = two_stage)``).

Stage 1 estimates the model without the interaction and takes the construct scores;
the interaction term is the product of the (standardised) scores of the independent
variable and the moderator. Stage 2 estimates the model again with that product as a
single-item construct predicting the target (Henseler & Chin, 2010; Hair et al., 2022,
ch. 7: the default of SmartPLS and seminr).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from adoption.errors import InputError
from adoption.pls.estimate import PLSResult, estimate_pls
from adoption.pls.model import PLSModel, pls_model

__all__ = ["TwoStageModeration", "interaction_name", "two_stage_moderation"]


@dataclass(frozen=True)
class TwoStageModeration:
    """Result of :func:`two_stage_moderation`.

    Attributes
    ----------
    estimate : the stage-2 PLS estimate (the interaction is a single-item construct
        named :func:`interaction_name`; its path is standardised like every PLS path).
    name : the interaction construct.
    target : the moderated construct.
    term_sd : SD (n - 1) of the stage-1 score product.
    effect : the standardised moderating effect (the interaction's path).
    effect_seminr : the same per unit of the unstandardised product of the standardised
        scores, ``effect / term_sd``: the number seminr's ``summary()$paths`` prints
        (R2 and all other paths are the same in both conventions).
    """

    estimate: PLSResult
    name: str
    target: str
    term_sd: float
    effect: float
    effect_seminr: float


def interaction_name(iv: str, moderator: str) -> str:
    """The interaction construct's name, ``IV_x_MOD`` (seminr writes ``IV*MOD``; a ``*``
    would not survive the lavaan syntax of the inner model)."""
    return f"{iv}_x_{moderator}"


def two_stage_moderation(data: pd.DataFrame, model: PLSModel, iv: str, moderator: str,
                         target: str, scheme: str = "path") -> TwoStageModeration:
    """Estimate ``model`` plus the moderation of ``iv -> target`` by ``moderator``.

    Parameters
    ----------
    data : DataFrame
        Item responses.
    model : PLSModel
        The model with the main effects (``iv`` and ``moderator`` should predict
        ``target``, as Hair et al. advise; not enforced).
    iv, moderator, target : str
        Constructs of ``model``.
    scheme : str
        Inner weighting scheme.

    Returns
    -------
    TwoStageModeration
    """
    for c in (iv, moderator, target):
        if c not in model.constructs:
            raise InputError(f"PLS moderation: {c} is not a construct of the model.")
    first = estimate_pls(data, model, scheme=scheme, f2_method="fixed")
    name = interaction_name(iv, moderator)
    term = first.scores[iv].to_numpy() * first.scores[moderator].to_numpy()
    blocks = {b.name: list(b.items) for b in model.blocks}
    edges = [(s, t) for t, s in model.edges] + [(name, target)]
    model2 = pls_model({**blocks, name: [name]}, edges, {b.name: b.mode for b in model.blocks})
    est = estimate_pls(data.assign(**{name: term}), model2, scheme=scheme)
    effect = float(est.matrix("est", "paths").loc[name, target])
    sd = float(pd.Series(term).std(ddof=1))
    return TwoStageModeration(est, name, target, sd, effect, effect / sd)
