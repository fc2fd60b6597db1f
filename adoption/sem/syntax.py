"""lavaan model syntax -> a parameter table with lavaan's defaults.

The table built here is the project's own, independent of semopy: it lists every
parameter lavaan's ``sem()``/``cfa()`` would list (user rows first, in syntax order, then
the automatic ones), which of them are free, their labels and fixed values. The engine
hands the free part to semopy and maps the results back onto these rows.

Defaults reproduced (lavaan 0.6, ``sem()``/``cfa()``): ``auto.fix.first`` (first loading
of each factor fixed to 1), ``auto.var`` (residual variances of every endogenous or
indicator variable and variances of latent variables), ``auto.cov.lv.x`` (exogenous
latent variables covary), ``auto.cov.y`` (residuals of endogenous variables that predict
nothing covary), ``fixed.x`` (variances and covariances of observed exogenous
predictors are fixed at their sample values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from adoption.errors import InputError
from adoption.vocabulary import OP_COVARIANCE, OP_DEFINED, OP_LOADING, OP_REGRESSION

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_OPS = (OP_DEFINED, OP_LOADING, OP_COVARIANCE, OP_REGRESSION)


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


@dataclass
class ParTable:
    """Parameter table plus the variable classification it implies."""

    rows: list[ParRow]
    observed: list[str]
    latent: list[str]
    exogenous_x: list[str]
    defined: list[str] = field(default_factory=list)


def _split_terms(rhs: str, line: str) -> list[tuple[str, str | None]]:
    out = []
    for term in rhs.split("+"):
        term = term.strip()
        if not term:
            raise InputError(f"Model syntax: empty term in line '{line}'.")
        if "*" in term:
            mod, var = (t.strip() for t in term.split("*", 1))
        else:
            mod, var = None, term
        if not _NAME.match(var):
            raise InputError(f"Model syntax: '{var}' in line '{line}' is not a variable name.")
        out.append((var, mod))
    return out


def parse(syntax: str) -> list[tuple[str, str, str, str | None]]:
    """Split lavaan syntax into (lhs, op, rhs, modifier) formulas; ``:=`` lines are kept
    with op ``:=`` and the whole right-hand side as rhs."""
    formulas = []
    for raw in re.split(r"[\n;]", syntax):
        line = raw.split("#", 1)[0].split("!", 1)[0].strip()
        if not line:
            continue
        op = next((o for o in _OPS if o in line), None)
        if op is None:
            raise InputError(
                f"Model syntax: no operator (=~, ~, ~~, :=) in line '{line}'."
            )
        lhs, rhs = (s.strip() for s in line.split(op, 1))
        if op == OP_DEFINED:
            formulas.append((lhs, op, rhs, None))
            continue
        if rhs.strip() == "1":
            raise InputError(
                f"Model syntax: intercepts ('{line}') are not supported by this engine yet."
            )
        lhs_names = [s.strip() for s in lhs.split("+")]
        for left in lhs_names:
            if not _NAME.match(left):
                raise InputError(f"Model syntax: '{left}' in line '{line}' is not a variable name.")
            for var, mod in _split_terms(rhs, line):
                formulas.append((left, op, var, mod))
    return formulas


def _modifier(mod: str | None, line: str) -> tuple[str, bool, float | None]:
    """-> (label, free, fixed value)."""
    if mod is None:
        return "", True, None
    try:
        return "", False, float(mod)
    except ValueError:
        pass
    if mod.upper() == "NA":
        return "", True, None
    if not _NAME.match(mod):
        raise InputError(f"Model syntax: modifier '{mod}' in '{line}' is neither a number nor a label.")
    return mod, True, None


def build_partable(syntax: str, data_columns) -> ParTable:
    """Parameter table of ``syntax`` with lavaan's ``sem()`` defaults (see module doc).

    Raises
    ------
    InputError
        Unparseable syntax, or an observed variable missing from ``data_columns``.
    """
    formulas = parse(syntax)
    defined = [f[0] for f in formulas if f[1] == OP_DEFINED]
    formulas = [f for f in formulas if f[1] != OP_DEFINED]
    if not formulas:
        raise InputError("Model syntax: no =~, ~ or ~~ formula found.")

    latent: list[str] = []
    for lhs, op, _, _ in formulas:
        if op == OP_LOADING and lhs not in latent:
            latent.append(lhs)
    # observed variables in order of appearance (lavaan's ov order)
    observed: list[str] = []
    for lhs, op, rhs, _ in formulas:
        for v in ((rhs,) if op == OP_LOADING else (lhs, rhs)):
            if v not in latent and v not in observed:
                observed.append(v)
    missing = [v for v in observed if v not in set(data_columns)]
    if missing:
        raise InputError(
            "Model syntax names variable(s) not in the data: " + ", ".join(missing)
            + ". Check the spelling or add the column(s)."
        )

    indicators = {rhs for lhs, op, rhs, _ in formulas if op == OP_LOADING}
    dependent = {lhs for lhs, op, _, _ in formulas if op == OP_REGRESSION}
    predictors = {rhs for lhs, op, rhs, _ in formulas if op == OP_REGRESSION}
    endogenous = indicators | dependent
    exo_x = [v for v in observed if v not in endogenous]
    # observed variables that appear only in ~~ are not "x" in lavaan's sense
    exo_x = [v for v in exo_x if v in predictors]

    rows: list[ParRow] = []
    first_loading_seen: set[str] = set()
    seen: set[tuple[str, str, str]] = set()
    for lhs, op, rhs, mod in formulas:
        label, free, value = _modifier(mod, f"{lhs} {op} {rhs}")
        key = (lhs, op, rhs)
        if op == OP_COVARIANCE and (rhs, op, lhs) in seen:
            key = (rhs, op, lhs)
        if key in seen:
            raise InputError(f"Model syntax: '{lhs} {op} {rhs}' is specified twice.")
        if op == OP_LOADING and lhs not in first_loading_seen:
            first_loading_seen.add(lhs)
            if mod is None:
                free, value = False, 1.0
        seen.add(key)
        rows.append(ParRow(lhs, op, rhs, label, free, value if not free else None))

    def has_cov(a, b):
        return (a, OP_COVARIANCE, b) in seen or (b, OP_COVARIANCE, a) in seen

    def add(a, b, **kw):
        seen.add((a, OP_COVARIANCE, b))
        rows.append(ParRow(a, OP_COVARIANCE, b, user=False, **kw))

    # auto.var: residual variances of observed non-x variables, then latent variances
    for v in observed:
        if v not in exo_x and not has_cov(v, v):
            add(v, v)
    for v in latent:
        if not has_cov(v, v):
            add(v, v)
    # auto.cov.lv.x: exogenous latent variables covary
    exo_lv = [v for v in latent if v not in dependent]
    for i, a in enumerate(exo_lv):
        for b in exo_lv[i + 1:]:
            if not has_cov(a, b):
                add(a, b)
    # auto.cov.y: residuals of endogenous variables that predict nothing covary
    pure_y = [v for v in latent + observed
              if v in dependent and v not in predictors and v not in indicators]
    for i, a in enumerate(pure_y):
        for b in pure_y[i + 1:]:
            if not has_cov(a, b):
                add(a, b)
    # fixed.x: x variances/covariances fixed at sample values
    for i, a in enumerate(exo_x):
        for b in exo_x[i:]:
            if has_cov(a, b):
                raise InputError(
                    f"Model syntax: '{a} ~~ {b}' is a (co)variance of observed exogenous "
                    "predictors, which are fixed at their sample values (fixed.x); remove it."
                )
            add(a, b, free=False, fixed_x=True)
    return ParTable(rows=rows, observed=observed, latent=latent, exogenous_x=exo_x,
                    defined=defined)
