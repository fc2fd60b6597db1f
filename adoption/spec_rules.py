"""Rules across the keys of a survey specification, and the reading of its formulas.

:func:`check_cross_keys` is run by :func:`adoption.spec.parse_spec` after pydantic has
checked each key: an item in two constructs, a formula or hypothesis naming an unknown
construct, a column with two roles. Every problem is an
:class:`~adoption.errors.InputError` naming the spec file and the key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from adoption.errors import InputError
from adoption.sem.syntax import parse_model
from adoption.spec_parts import NAME, NAME_RULE
from adoption.vocabulary import OP_INTERCEPT

if TYPE_CHECKING:  # the Survey is built in adoption.spec, which imports this module
    from adoption.spec import Survey

__all__ = ["check_cross_keys", "formula_names", "parse_hypothesis"]


def formula_names(syntax: str, *, where: str) -> list[tuple[str, str, list[str]]]:
    """The (lhs, op, [rhs names]) of each ``=~``, ``~`` and ``~~`` element of lavaan syntax.

    Read by the one parser (:func:`adoption.sem.syntax.parse_model`): comments, ``;``,
    continuation lines and modifiers (``0.3*X``, ``a*X``) as lavaan reads them;
    ``:=`` definitions, constraints and ``~ 1`` intercepts are left out. Raises
    InputError naming ``where`` and the line on syntax it cannot read.
    """
    parsed = parse_model(syntax, where=where)
    return [(f.lhs, f.op, [f.rhs]) for f in parsed.formulas if f.op != OP_INTERCEPT]


def check_cross_keys(s: Survey, path: Path) -> None:
    """Raise InputError, naming the spec file and the key, on the first rule across keys
    that ``s`` breaks (pydantic has checked each key on its own)."""
    seen: dict[str, str] = {}
    for name, c in s.constructs.items():
        if len(c.items) < 1:
            raise InputError(f"{path}: construct '{name}' has no items; list its item column(s) "
                             "or drop the construct.")
        for item in c.items:
            if item in seen:
                raise InputError(f"{path}: item '{item}' is listed under both '{seen[item]}' and "
                                 f"'{name}'. List each item under one construct.")
            seen[item] = name
        for r in c.reverse:
            if r not in c.items:
                raise InputError(f"{path}: construct '{name}' reverses '{r}', which is not one of "
                                 f"its items ({', '.join(c.items)}).")
    _check_higher_order(s, path)
    _check_residual_covariances(s, path, seen)
    unknown = [str(i) for i in (s.ordinal if isinstance(s.ordinal, list) else []) if i not in seen]
    if unknown:
        raise InputError(f"{path}: key 'ordinal' names {', '.join(map(repr, unknown))}, which is not "
                         "an item of any construct; list items (or write 'ordinal: true' for all).")
    for name, parts in s.scales.items():
        bad = [p for p in parts if p not in s.constructs]
        if bad or name in s.model_constructs or not parts:
            raise InputError(f"{path}: key 'scales.{name}': list constructs (known: "
                             f"{', '.join(s.constructs)}) under a new name"
                             + (f"; '{bad[0]}' is not a construct." if bad else "."))
    known = set(s.model_constructs)
    # moderators and controls may be data columns (dummy-coded when categorical)
    columns = {*s.controls, *s.group_columns, *s.demographics}
    for key, syntax in [("structural", s.structural),
                        *((f"alternatives.{k}", v) for k, v in s.alternatives.items())]:
        for lhs, op, names in formula_names(syntax, where=f"{path}: {key}"):
            for n in [lhs, *(v for n in names for v in n.split(":"))]:
                if n not in known and not (key == "structural" and n in columns):
                    raise InputError(f"{path}: {key} names '{n}', which is not a construct "
                                     f"(known: {', '.join(sorted(known))}). Fix the formula.")
    if s.structural.strip():  # regressions readable, identified: refused here, not after the fits
        from adoption.structural.paths import parse_structural

        from adoption.structural.moderation import expand_interactions

        try:
            parse_structural(expand_interactions(s.structural)[0])
        except InputError as exc:
            raise InputError(f"{path}: structural: {exc.message}") from None
    for hid, text in s.hypotheses.items():
        try:
            x, y, _ = parse_hypothesis(text)
        except ValueError:
            raise InputError(f"{path}: hypothesis {hid} '{text}' should read like 'HAB -> WIL "
                             "(+)' (or 'HAB:COM -> WIL (-)' for a moderation).") from None
        for n in [*x.split(":"), y]:   # a moderator may be a column, as in the formulas
            if n not in known and not (":" in x and n != y and n in columns):
                raise InputError(f"{path}: hypothesis {hid} names '{n}', which is not a construct.")
    if s.id and s.id in seen:
        raise InputError(f"{path}: the id column '{s.id}' is also an item.")
    for key, columns in (("groups", s.group_columns), ("demographics", s.demographics),
                         ("pii", s.pii)):
        for col in columns:
            if col in seen:
                raise InputError(f"{path}: key '{key}': column '{col}' is also an item of construct "
                                 f"'{seen[col]}'; a column may play one role. Remove it from "
                                 f"'{key}' or from the construct.")


def _check_higher_order(s: Survey, path: Path) -> None:
    used: dict[str, str] = {}
    for name, parts in s.higher_order.items():
        if not NAME.fullmatch(name) or name in s.constructs:
            raise InputError(f"{path}: key 'higher_order.{name}': the name must be new (not a "
                             f"construct) and {NAME_RULE}.")
        if len(parts) < 2:
            raise InputError(f"{path}: key 'higher_order.{name}' lists {len(parts)} construct(s); "
                             "a second-order construct needs at least 2.")
        for p in parts:
            if p not in s.constructs:
                raise InputError(f"{path}: key 'higher_order.{name}' names '{p}', which is not a "
                                 f"construct (known: {', '.join(s.constructs)}).")
            if p in used:
                raise InputError(f"{path}: construct '{p}' is listed under both higher_order."
                                 f"{used[p]} and higher_order.{name}; list it under one.")
            used[p] = name


def _check_residual_covariances(s: Survey, path: Path, items: dict[str, str]) -> None:
    for k, text in enumerate(s.residual_covariances):
        where = f"{path}: residual_covariances[{k}]"
        formulas = parse_model(text, where=where).formulas
        if len(formulas) != 1 or formulas[0].op != "~~" or formulas[0].lhs == formulas[0].rhs:
            raise InputError(f"{where}: '{text}' should read like 'SI03 ~~ SI04' (two different "
                             "items).")
        for n in (formulas[0].lhs, formulas[0].rhs):
            if n not in items:
                raise InputError(f"{where}: '{n}' is not an item of any construct.")
            if len(s.constructs[items[n]].items) == 1:
                raise InputError(f"{where}: '{n}' is a single-item construct's item; its "
                                 "residual variance is fixed at 0, so it has no residual to covary.")


def parse_hypothesis(text: str) -> tuple[str, str, str | None]:
    """'HAB -> WIL (+)' -> ('HAB', 'WIL', '+'); the sign is None when not given.

    A moderation hypothesis names an interaction term, lavaan style: 'HAB:COM -> WIL (-)'
    -> ('HAB:COM', 'WIL', '-') (the sign is that of the interaction coefficient).
    """
    m = re.match(r"^\s*(\w+(?:\s*:\s*\w+)?)\s*->\s*(\w+)\s*(?:\(([+-])\))?\s*$", text)
    if not m:
        raise ValueError(text)
    return re.sub(r"\s+", "", m.group(1)), m.group(2), m.group(3)
