"""The structural part of a model: its regressions, its variables' roles, its paths.

:func:`parse_structural` reads the regression lines of lavaan model syntax
(``Y ~ X1 + b*X2``) into a frozen :class:`PathModel`; it classifies every variable as
exogenous, mediator or outcome, checks that the model is recursive (its directed graph
has no cycle) and lists every indirect path. Measurement lines (``=~``), intercepts
(``~ 1``) and definitions (``:=``) are skipped; covariances (``~~``) between endogenous
variables are recorded, because they decide whether the fast bootstrap applies.

The syntax is user input, so every problem is raised as
:class:`~adoption.errors.InputError` naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass

from adoption.errors import InputError
from adoption.sem.syntax import parse_model
from adoption.vocabulary import OP_COVARIANCE, OP_REGRESSION

__all__ = [
    "Regression",
    "PathModel",
    "parse_structural",
    "topological_order",
    "indirect_paths",
    "path_name",
]

@dataclass(frozen=True)
class Regression:
    """One regression equation ``lhs ~ rhs[0] + rhs[1] + ...``.

    Attributes
    ----------
    lhs : str
        The dependent variable.
    rhs : tuple of str
        Its predictors, in syntax order.
    labels : tuple of str or None
        The lavaan label of each coefficient (``b`` in ``b*X``), ``None`` if unlabelled.
        A fixed value (``0.3*X``) is kept as its text (``"0.3"``).
    """

    lhs: str
    rhs: tuple[str, ...]
    labels: tuple[str | None, ...]


@dataclass(frozen=True)
class PathModel:
    """A parsed structural model.

    Attributes
    ----------
    regressions : tuple of Regression
        One per dependent variable, in syntax order (repeated ``Y ~`` lines merged).
    variables : tuple of str
        All variables in a causal (topological) order: every predictor before its
        dependent variable; ties in order of first appearance in the syntax.
    exogenous : tuple of str
        Variables that are never a dependent variable.
    mediators : tuple of str
        Dependent variables that also predict another variable.
    outcomes : tuple of str
        Dependent variables that predict nothing.
    residual_covariances : tuple of (str, str)
        ``A ~~ B`` lines between two different endogenous variables (correlated
        disturbances); empty for the model class the fast bootstrap handles.
    """

    regressions: tuple[Regression, ...]
    variables: tuple[str, ...]
    exogenous: tuple[str, ...]
    mediators: tuple[str, ...]
    outcomes: tuple[str, ...]
    residual_covariances: tuple[tuple[str, str], ...] = ()

    @property
    def endogenous(self) -> tuple[str, ...]:
        """Dependent variables (mediators and outcomes) in causal order."""
        return tuple(v for v in self.variables if v not in self.exogenous)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """Every regression coefficient as ``(lhs, rhs)``, in syntax order."""
        return tuple((r.lhs, x) for r in self.regressions for x in r.rhs)

    def label(self, lhs: str, rhs: str) -> str | None:
        """The lavaan label of the coefficient of ``rhs`` in the equation of ``lhs``."""
        for r in self.regressions:
            if r.lhs == lhs and rhs in r.rhs:
                return r.labels[r.rhs.index(rhs)]
        raise KeyError((lhs, rhs))

    def predictors(self, lhs: str) -> tuple[str, ...]:
        """The predictors of ``lhs`` (empty for an exogenous variable)."""
        for r in self.regressions:
            if r.lhs == lhs:
                return r.rhs
        return ()


def topological_order(edges: list[tuple[str, str]] | tuple[tuple[str, str], ...],
                      variables: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Order variables so that every predictor comes before its dependent variable.

    Kahn's algorithm; among the variables ready at each step the one appearing first
    in ``variables`` is taken, so the order is stable.

    Parameters
    ----------
    edges : sequence of (lhs, rhs)
        Regression coefficients: ``rhs`` predicts ``lhs``.
    variables : sequence of str
        All variables, in the preferred (syntax) order.

    Returns
    -------
    tuple of str
        The variables in causal order.

    Raises
    ------
    InputError
        If the model is not recursive; the message names the variables on a cycle.
    """
    parents: dict[str, set[str]] = {v: set() for v in variables}
    for lhs, rhs in edges:
        parents[lhs].add(rhs)
    done: list[str] = []
    placed: set[str] = set()
    while len(done) < len(variables):
        ready = [v for v in variables if v not in placed and parents[v] <= placed]
        if not ready:
            left = [v for v in variables if v not in placed]
            raise InputError(
                "The structural model is not recursive: the regressions among "
                f"{', '.join(left)} form a cycle (a feedback loop). Path effects and the "
                "fast bootstrap need an acyclic model; remove one of the paths or use "
                "bootstrap_refit with the SEM engine.")
        done.append(ready[0])
        placed.add(ready[0])
    return tuple(done)


def parse_structural(syntax: str) -> PathModel:
    """Read the structural part of lavaan model syntax.

    Parameters
    ----------
    syntax : str
        lavaan model syntax. Lines (or ``;``-separated statements) ``Y ~ X1 + b*X2``
        are regressions; ``A ~~ B`` between two endogenous variables is a disturbance
        covariance; ``=~``, ``~ 1``, ``:=`` and comments are skipped.

    Returns
    -------
    PathModel
        Regressions, variable roles in causal order, residual covariances.

    Raises
    ------
    InputError
        On a statement or term that cannot be read, a variable regressed on itself,
        a model without regressions, or a non-recursive model.

    Notes
    -----
    The roles follow the usual mediation vocabulary (lavaan itself only knows
    ``ov.x``/``ov.y``): exogenous variables are never on the left of ``~``; a mediator is
    on the left of one ``~`` and on the right of another; an outcome is only on the
    left.

    Examples
    --------
    >>> m = parse_structural("M ~ a*X\\nY ~ b*M + X")
    >>> m.exogenous, m.mediators, m.outcomes
    (('X',), ('M',), ('Y',))
    """
    order: list[str] = []
    eqs: dict[str, tuple[list[str], list[str | None]]] = {}
    covs: list[tuple[str, str, int]] = []

    def see(v: str) -> None:
        if v not in order:
            order.append(v)

    parsed = parse_model(syntax, where="model syntax")
    for f in parsed.formulas:
        if f.op == OP_COVARIANCE and f.rhs != f.lhs:
            covs.append((f.lhs, f.rhs, f.line))
        if f.op != OP_REGRESSION:
            continue
        if f.interaction:
            raise InputError(f"model syntax, line {f.line}: the interaction term '{f.rhs}' is "
                             "not supported in the structural model.")
        if f.rhs == f.lhs:
            raise InputError(f"model syntax, line {f.line}: '{f.lhs}' is regressed on itself. "
                             "Remove it from the right-hand side.")
        see(f.lhs)
        rhs_list, labels = eqs.setdefault(f.lhs, ([], []))
        see(f.rhs)
        rhs_list.append(f.rhs)
        fixed = f.in_group("fixed")
        labels.append(f.in_group("label") or (repr(fixed) if fixed is not None else None))
    if not eqs:
        raise InputError("model syntax: no regression ('Y ~ X') found; the structural "
                         "model needs at least one.")
    for a, b, lineno in covs:
        # Y ~ X with Y ~~ X, X exogenous: X would covary with Y's own disturbance, which no
        # instrument can separate from the path (singular). Between two endogenous variables
        # the pair can be identified by instruments, so it is left to the fit.
        if b in eqs.get(a, ((),))[0] or a in eqs.get(b, ((),))[0]:
            y, x = (a, b) if b in eqs.get(a, ((),))[0] else (b, a)
            if x in eqs:
                continue
            raise InputError(f"model syntax, line {lineno}: '{a} ~~ {b}' adds a covariance to the "
                             f"path '{y} ~ {x}' between the same two variables; the model is not "
                             "identified (singular). Remove one of the two lines.")
    regressions = tuple(Regression(y, tuple(x), tuple(lab)) for y, (x, lab) in eqs.items())
    edges = [(r.lhs, x) for r in regressions for x in r.rhs]
    variables = topological_order(edges, order)
    endo = set(eqs)
    predicting = {x for _, x in edges}
    exogenous = tuple(v for v in variables if v not in endo)
    mediators = tuple(v for v in variables if v in endo and v in predicting)
    outcomes = tuple(v for v in variables if v in endo and v not in predicting)
    residual = tuple((a, b) for a, b, _ in covs if a in endo and b in endo)
    return PathModel(regressions, variables, exogenous, mediators, outcomes, residual)


def indirect_paths(model: PathModel, to: str = "endogenous") -> tuple[tuple[str, ...], ...]:
    """Every directed path through at least one mediator.

    Parameters
    ----------
    model : PathModel
    to : {"endogenous", "outcomes"}
        Targets: every endogenous variable (default; this includes paths ending in a
        mediator, such as ``EMP -> COM -> TRU``, which is what the reference lavaan
        model defines) or only the outcomes.

    Returns
    -------
    tuple of tuple of str
        Each path as its variables from source to target, e.g.
        ``("PRV", "COM", "TRU", "WIL")``. Sorted by target (causal order), then number
        of steps, then the causal positions of the variables along the path.

    Notes
    -----
    The effect along a path is the product of its coefficients (Alwin & Hauser, 1975);
    in lavaan one writes it as ``ind := a*b``. The enumeration is a depth-first search
    over predictors, which terminates because the model is acyclic.
    """
    if to not in ("endogenous", "outcomes"):
        raise ValueError(f"to must be 'endogenous' or 'outcomes', not {to!r}")
    targets = model.endogenous if to == "endogenous" else model.outcomes
    pos = {v: i for i, v in enumerate(model.variables)}
    found: list[tuple[str, ...]] = []

    def walk(tail: tuple[str, ...]) -> None:
        # tail runs from some variable to the target; extend it backwards
        for x in model.predictors(tail[0]):
            path = (x,) + tail
            if len(path) >= 3:
                found.append(path)
            walk(path)

    for y in targets:
        walk((y,))
    found.sort(key=lambda p: (pos[p[-1]], len(p), tuple(pos[v] for v in p)))
    return tuple(found)


def path_name(path: tuple[str, ...] | list[str], prefix: str = "ind") -> str:
    """lavaan-style label of a path effect: ``ind_EMP_COM_WIL``.

    Parameters
    ----------
    path : sequence of str
        Variables from source to target.
    prefix : str
        ``"ind"`` for an indirect effect, ``"total"``, ``"direct"`` ...
    """
    return "_".join((prefix, *path))
