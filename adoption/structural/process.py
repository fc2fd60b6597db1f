"""Hayes' PROCESS model numbers as structural syntax.

``process: {model: 7, x: EMP, m: [COM], y: WIL, w: HAB}`` in the spec is expanded by
:func:`process_syntax` into the lavaan syntax with interaction terms that the rest of the
project reads (:mod:`adoption.structural.moderation`), so a template and the same model
written out give the same results.

The equations follow the conceptual diagrams of Hayes (2022, Appendix A): with several
mediators they are parallel (each ``M ~ X``, all in ``Y``'s equation). ``W`` enters every
equation that holds one of its products, as PROCESS does.
"""

from __future__ import annotations

from adoption.errors import InputError

__all__ = ["PROCESS_MODELS", "process_syntax"]

#: Model number -> which paths W moderates: ``a`` (X -> M), ``b`` (M -> Y), ``c`` (the
#: direct X -> Y); ``None`` for a model without mediators (model 1).
PROCESS_MODELS: dict[int, tuple[str, ...] | None] = {
    1: None,
    4: (),
    5: ("c",),
    7: ("a",),
    8: ("a", "c"),
    14: ("b",),
    15: ("b", "c"),
    58: ("a", "b"),
    59: ("a", "b", "c"),
}


def _check(model: int, x: str, m: tuple[str, ...], y: str, w: str | None) -> None:
    if model not in PROCESS_MODELS:
        raise InputError(f"process: model {model} is not available; use one of "
                         f"{', '.join(map(str, PROCESS_MODELS))}, or write the interaction "
                         "terms in 'structural'.")
    if PROCESS_MODELS[model] is None and m:
        raise InputError(f"process: model {model} has no mediator; remove 'm'.")
    if PROCESS_MODELS[model] is not None and not m:
        raise InputError(f"process: model {model} needs at least one mediator in 'm'.")
    if model != 4 and not w:
        raise InputError(f"process: model {model} needs a moderator 'w'.")
    if model == 4 and w:
        raise InputError("process: model 4 (mediation) has no moderator; remove 'w' or "
                         "choose a moderated model (7, 14, ...).")
    names = [x, *m, y, *([w] if w else [])]
    dup = sorted({v for v in names if names.count(v) > 1})
    if dup:
        raise InputError(f"process: {', '.join(dup)} has two roles among x, m, y and w.")


def process_syntax(model: int, x: str, y: str, m: tuple[str, ...] | list[str] = (),
                   w: str | None = None) -> str:
    """lavaan syntax with interaction terms for a numbered PROCESS model.

    Parameters
    ----------
    model : int
        One of :data:`PROCESS_MODELS` (1, 4, 5, 7, 8, 14, 15, 58, 59).
    x, y : str
        Focal predictor and outcome.
    m : sequence of str
        Mediators (parallel); none for model 1.
    w : str or None
        Moderator; none for model 4.

    Returns
    -------
    str
        One line per mediator (``M ~ X [+ W + X:W]``), then the outcome's line
        (``Y ~ X + M... [+ W] [+ M:W...] [+ X:W]``).

    Raises
    ------
    InputError
        An unknown model number, a missing or superfluous mediator or moderator, or one
        variable in two roles.

    Examples
    --------
    >>> print(process_syntax(7, "EMP", "WIL", ["COM"], "HAB"))
    COM ~ EMP + HAB + EMP:HAB
    WIL ~ EMP + COM
    """
    m = tuple(m)
    _check(model, x, m, y, w)
    mod = PROCESS_MODELS[model]
    if mod is None:
        return f"{y} ~ {x} + {w} + {x}:{w}"
    lines = [f"{mv} ~ {x}" + (f" + {w} + {x}:{w}" if "a" in mod else "") for mv in m]
    rhs = [x, *m]
    if "b" in mod or "c" in mod:
        rhs.append(w)
    if "b" in mod:
        rhs += [f"{mv}:{w}" for mv in m]
    if "c" in mod:
        rhs.append(f"{x}:{w}")
    lines.append(f"{y} ~ " + " + ".join(rhs))
    return "\n".join(lines)
