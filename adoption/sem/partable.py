"""The parameter table of a parsed lavaan model, with lavaan's ``sem()`` defaults.

The table built here is the project's own, independent of semopy: it lists every
parameter lavaan's ``sem()``/``cfa()`` would list (user rows first, in syntax order, then
the automatic ones), which of them are free, their labels, fixed and start values. The
engine hands the free part to semopy and maps the results back onto these rows. The
syntax is read by :func:`adoption.sem.syntax.parse_model`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adoption.errors import InputError
from adoption.sem.syntax import (OP_EQUAL, Formula, ParsedModel, expression_names, is_name,
                                 parse_model)
from adoption.vocabulary import OP_COVARIANCE, OP_INTERCEPT, OP_LOADING, OP_REGRESSION

__all__ = ["ParRow", "ParTable", "build_partable"]


@dataclass
class ParRow:
    """One row of the parameter table."""

    lhs: str
    op: str
    rhs: str
    label: str = ""
    free: bool = True
    value: float | None = None  # fixed value (None: set later, e.g. fixed-x sample value)
    user: bool = True
    fixed_x: bool = False
    start: float | None = None  # start() of the syntax


@dataclass
class ParTable:
    """Parameter table plus the variable classification it implies.

    ``equal`` maps a label to the label it is constrained equal to; ``defined`` holds the ``:=`` formulas, ``constraints`` the ``==`` constraints the
    table does not already impose by a shared label, ``intercepts`` the ``~1`` formulas
    (the engine decides what it can fit), ``notes`` what lavaan would warn about.
    """

    rows: list[ParRow]
    observed: list[str]
    latent: list[str]
    exogenous_x: list[str]
    defined: list[Formula] = field(default_factory=list)
    constraints: list[Formula] = field(default_factory=list)
    intercepts: list[Formula] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    equal: dict[str, str] = field(default_factory=dict)

    def parameter_label(self, row: ParRow) -> str:
        """The label naming ``row``'s parameter: its own, or the label an ``==``
        constraint makes it equal to (``a == b``: rows labelled b are parameter a)."""
        return self.equal.get(row.label, row.label)


def _classify(formulas, data_columns):
    latent: list[str] = []
    for f in formulas:
        if f.op == OP_LOADING and f.lhs not in latent:
            latent.append(f.lhs)
    observed: list[str] = []  # in order of appearance (lavaan's ov order)
    for f in formulas:
        for v in ((f.rhs,) if f.op == OP_LOADING else (f.lhs, f.rhs)):
            if v and v not in latent and v not in observed:
                observed.append(v)
    missing = [v for v in observed if v not in set(data_columns)]
    if missing:
        raise InputError("Model syntax names variable(s) not in the data: " + ", ".join(missing)
                         + ". Check the spelling or add the column(s).")
    return latent, observed


def _row(f: Formula, auto_fix: bool, g: int, ngroups: int) -> ParRow:
    fixed = f.in_group("fixed", g, ngroups)
    label = f.in_group("label", g, ngroups) or ""
    start = f.in_group("start", g, ngroups)
    if fixed is None and auto_fix and not f.fixed:
        # auto.fix.first (or std.lv's latent variances): fixed at 1, or at its start()
        # value as lavaan does; a label does not free it, NA* does (f.fixed == (None,))
        fixed = 1.0 if start is None else start
    return ParRow(f.lhs, f.op, f.rhs, label, fixed is None, fixed, start=start)


def _check_labels(pt: ParTable, parsed: ParsedModel) -> None:
    """Unknown labels in ``:=`` and constraints are refused, as lavaan does."""
    known = {r.label for r in pt.rows if r.label}
    for d in parsed.defined:
        unknown = [n for n in expression_names(d.rhs) if n not in known]
        if unknown:
            raise InputError(f"Model syntax, line {d.line}: unknown label(s) in variable "
                             f"definition(s): {', '.join(unknown)} (in '{d.lhs} := {d.rhs}'). "
                             "Label the parameters with 'label*x' first.")
        known.add(d.lhs)
    for c in parsed.constraints:
        here = f"Model syntax, line {c.line}: '{c.lhs} {c.op} {c.rhs}'"
        unknown = [n for n in expression_names(c.lhs) + expression_names(c.rhs)
                   if n not in known]
        if unknown:
            raise InputError(f"{here}: unknown label(s) in constraint: {', '.join(unknown)}.")
        if c.op != OP_EQUAL:
            raise InputError(f"{here}: inequality constraints ('<', '>') are not supported by "
                             "this engine.")
        if not (is_name(c.lhs) and is_name(c.rhs)):
            raise InputError(f"{here}: only an equality of two labels ('a == b') is supported; "
                             "constraints with expressions or numbers are not supported.")
        if c.lhs in {d.lhs for d in parsed.defined} or c.rhs in {d.lhs for d in parsed.defined}:
            raise InputError(f"{here}: constraints on defined (':=') parameters are not "
                             "supported.")
        pt.equal[c.rhs] = pt.equal.get(c.lhs, c.lhs)  # a == b: one parameter


def build_partable(syntax: str | ParsedModel, data_columns, *, group: int = 0,
                   ngroups: int = 1, std_lv: bool = False) -> ParTable:
    """Parameter table of ``syntax`` with lavaan's ``sem()`` defaults.

    Defaults reproduced (lavaan 0.6, ``sem()``/``cfa()``): ``auto.fix.first`` (first
    loading of each factor fixed to 1 unless written ``NA*``), ``auto.var`` (residual
    variances of every endogenous or indicator variable and variances of latent
    variables), ``auto.cov.lv.x`` (exogenous latent variables covary), ``auto.cov.y``
    (residuals of endogenous variables that predict nothing covary), ``fixed.x``
    (variances and covariances of observed exogenous predictors are fixed at their
    sample values; a predictor the syntax gives a (co)variance becomes random, with
    lavaan's note).

    Parameters
    ----------
    syntax : str or ParsedModel
    data_columns : iterable of str
    group, ngroups : int
        Which group's modifiers (``c(...)``) to take, and how many groups there are.
    std_lv : bool
        lavaan's ``std.lv = TRUE``: no first loading is fixed automatically; instead the
        (residual) variance of every latent variable is fixed at 1, or, when the syntax
        writes it, at its fixed or ``start()`` value (a label does not free it, ``NA*``
        does), as lavaan 0.6-14 does.

    Raises
    ------
    InputError
        Unparseable or unsupported syntax, an observed variable missing from
        ``data_columns``, unknown labels in ``:=`` or constraints.
    """
    parsed = syntax if isinstance(syntax, ParsedModel) else parse_model(syntax)
    inter = [f for f in parsed.formulas if f.interaction]
    if inter:
        raise InputError(f"Model syntax, line {inter[0].line}: the interaction term "
                         f"'{inter[0].rhs}' is not supported; add the product as a column of "
                         "the data and use it as a variable.")
    formulas = parsed.of(OP_LOADING, OP_REGRESSION, OP_COVARIANCE)
    if not formulas:
        raise InputError("Model syntax: no =~, ~ or ~~ formula found.")
    for f in formulas:
        if f.op != OP_COVARIANCE and f.lhs == f.rhs:
            raise InputError(f"Model syntax, line {f.line}: '{f.text}': a variable cannot "
                             f"{'load on' if f.op == OP_LOADING else 'be regressed on'} "
                             "itself.")
    latent, observed = _classify(formulas, data_columns)
    indicators = {f.rhs for f in formulas if f.op == OP_LOADING}
    dependent = {f.lhs for f in formulas if f.op == OP_REGRESSION}
    predictors = {f.rhs for f in formulas if f.op == OP_REGRESSION}
    # observed predictors that are never dependent; those the syntax gives a (co)variance
    # or intercept become random (lavaan's warning in lav_partable_vnames)
    exo_x = [v for v in observed if v not in indicators | dependent and v in predictors]
    named = {v for f in parsed.of(OP_COVARIANCE, OP_INTERCEPT) for v in (f.lhs, f.rhs)}
    random_x = [v for v in exo_x if v in named]
    exo_x = [v for v in exo_x if v not in named]
    if random_x and exo_x:
        line = next(f.line for f in parsed.of(OP_COVARIANCE, OP_INTERCEPT)
                    if f.lhs in random_x or f.rhs in random_x)
        raise InputError(f"Model syntax, line {line}: a (co)variance or intercept of the "
                         f"exogenous predictor(s) {', '.join(random_x)} but not of "
                         f"{', '.join(exo_x)} is not supported (lavaan would make the first "
                         "random and keep the others fixed, uncorrelated with them); give "
                         "them all, or none, or fit with fixed_x=False.")

    rows: list[ParRow] = []
    first_seen: set[str] = set()
    for f in formulas:
        first = f.op == OP_LOADING and f.lhs not in first_seen
        first_seen.add(f.lhs) if f.op == OP_LOADING else None
        # lavaan fixes these unless written NA* (at their fixed or start() value, else 1):
        # first loadings (auto.fix.first), or with std.lv the latent variances instead
        auto_fix = (first and not std_lv) or (std_lv and f.op == OP_COVARIANCE
                                              and f.lhs == f.rhs and f.lhs in latent)
        rows.append(_row(f, auto_fix, group, ngroups))
    seen = {(r.lhs, r.op, r.rhs) for r in rows}

    def has_cov(a, b):
        return (a, OP_COVARIANCE, b) in seen or (b, OP_COVARIANCE, a) in seen

    def add(a, b, **kw):
        seen.add((a, OP_COVARIANCE, b))
        rows.append(ParRow(a, OP_COVARIANCE, b, user=False, **kw))

    for v in [v for v in observed if v not in exo_x] + latent:  # auto.var
        if not has_cov(v, v):
            if std_lv and v in latent:
                add(v, v, free=False, value=1.0)
            else:
                add(v, v)
    # auto.cov.lv.x: exogenous latent variables covary; a factor that loads on a
    # higher-order factor is endogenous (its variance is a residual variance)
    exo_lv = [v for v in latent if v not in dependent and v not in indicators]
    pure_y = [v for v in latent + observed  # auto.cov.y
              if v in dependent and v not in predictors and v not in indicators]
    for block in (exo_lv, pure_y):
        for i, a in enumerate(block):
            for b in block[i + 1:]:
                if not has_cov(a, b):
                    add(a, b)
    for i, a in enumerate(exo_x):  # fixed.x: x (co)variances at their sample values
        for b in exo_x[i:]:
            add(a, b, free=False, fixed_x=True)
    pt = ParTable(rows=rows, observed=observed, latent=latent, exogenous_x=exo_x,
                  defined=list(parsed.defined), constraints=list(parsed.constraints),
                  intercepts=list(parsed.of(OP_INTERCEPT)))
    if random_x:
        pt.notes.append(f"The syntax gives (co)variances or intercepts of the exogenous "
                        f"predictor(s) {', '.join(random_x)}: they are treated as random "
                        "(free parameters), not fixed at their sample values, as lavaan does.")
    _check_labels(pt, parsed)
    return pt
