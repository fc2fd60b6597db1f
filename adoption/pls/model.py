"""The specification of a PLS path model: blocks of items and the inner (structural) paths.

A PLS model is a set of *blocks* (a construct, its items and how its outer weights are
estimated: mode A, correlation weights, for reflectively measured or composite
constructs; mode B, regression weights, for formative ones) and a recursive path model
between the constructs. The structural part is the project's
:class:`~adoption.structural.paths.PathModel`, so the effect definitions of
:mod:`adoption.structural.effects` (indirect, total indirect, total effects) apply to PLS
path coefficients unchanged.

The model is user input (from the spec or a script), so :func:`pls_model` checks it and
raises :class:`~adoption.errors.InputError` naming the construct or item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from adoption.errors import InputError
from adoption.structural.paths import PathModel, parse_structural

__all__ = ["MODES", "Block", "PLSModel", "pls_model"]

#: Outer weighting modes: "A" (correlation weights), "B" (regression weights).
MODES: tuple[str, ...] = ("A", "B")


@dataclass(frozen=True)
class Block:
    """One construct of a PLS model.

    Attributes
    ----------
    name : str
        The construct.
    items : tuple of str
        Its indicators (data columns), in order.
    mode : {"A", "B"}
        Outer weighting mode: ``"A"`` (seminr ``composite(..., weights = mode_A)`` or
        ``reflective()``), ``"B"`` (``composite(..., weights = mode_B)``, formative).
    """

    name: str
    items: tuple[str, ...]
    mode: str = "A"


@dataclass(frozen=True)
class PLSModel:
    """A PLS path model.

    Attributes
    ----------
    blocks : tuple of Block
        One per construct, in the order of ``structure.variables`` (causal order).
    structure : PathModel
        The inner model between the constructs.
    """

    blocks: tuple[Block, ...]
    structure: PathModel

    @property
    def constructs(self) -> tuple[str, ...]:
        """Construct names in causal order."""
        return tuple(b.name for b in self.blocks)

    @property
    def items(self) -> tuple[str, ...]:
        """All indicators, block by block."""
        return tuple(i for b in self.blocks for i in b.items)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """Inner paths as ``(target, source)`` pairs, as ``PathModel.edges``."""
        return self.structure.edges

    def block(self, name: str) -> Block:
        """The block of construct ``name``."""
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(name)


def _structure(paths: str | Sequence[tuple[str, str]]) -> PathModel:
    if isinstance(paths, str):
        return parse_structural(paths)
    by_target: dict[str, list[str]] = {}
    for source, target in paths:
        by_target.setdefault(target, []).append(source)
    syntax = "\n".join(f"{t} ~ {' + '.join(s)}" for t, s in by_target.items())
    return parse_structural(syntax)


def pls_model(constructs: Mapping[str, Sequence[str] | str],
              paths: str | Sequence[tuple[str, str]],
              modes: Mapping[str, str] | None = None) -> PLSModel:
    """Build and check a PLS model.

    Parameters
    ----------
    constructs : mapping
        Construct -> its items (a single item may be given as a string).
    paths : str or sequence of (source, target)
        The inner model, as lavaan regressions (``"Y ~ X + M"``) or as pairs
        ``(source, target)``.
    modes : mapping, optional
        Construct -> ``"A"`` or ``"B"``; constructs not named are mode A.

    Returns
    -------
    PLSModel

    Raises
    ------
    InputError
        A construct of the paths without items (or the reverse), an item in two blocks,
        a construct without items, an unknown mode.

    Examples
    --------
    >>> m = pls_model({"X": ["x1", "x2"], "Y": "y1"}, "Y ~ X", modes={"X": "B"})
    >>> m.block("X").mode
    'B'
    """
    modes = dict(modes or {})
    structure = _structure(paths)
    blocks_in = {c: (its,) if isinstance(its, str) else tuple(its) for c, its in constructs.items()}
    unknown = [c for c in modes if c not in blocks_in]
    if unknown:
        raise InputError(f"PLS model: mode given for {', '.join(unknown)}, which has no items.")
    for c, m in modes.items():
        if m not in MODES:
            raise InputError(f"PLS model: construct {c} has mode {m!r}; use 'A' or 'B'.")
    missing = [v for v in structure.variables if v not in blocks_in]
    if missing:
        raise InputError(f"PLS model: {', '.join(missing)} in the paths has no items; "
                         "give its items or remove it from the paths.")
    unused = [c for c in blocks_in if c not in structure.variables]
    if unused:
        raise InputError(f"PLS model: construct {', '.join(unused)} is in no path; "
                         "add a path or remove the construct.")
    seen: dict[str, str] = {}
    for c, its in blocks_in.items():
        if not its:
            raise InputError(f"PLS model: construct {c} has no items.")
        for i in its:
            if i in seen:
                raise InputError(f"PLS model: item {i} is in both {seen[i]} and {c}; "
                                 "an item belongs to one construct.")
            seen[i] = c
    blocks = tuple(Block(v, blocks_in[v], modes.get(v, "A")) for v in structure.variables)
    return PLSModel(blocks, structure)
