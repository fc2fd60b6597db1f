"""lavaan model syntax: one parser for the whole project.

:func:`parse_model` reads lavaan model syntax with lavaan's rules (``lavParseModelString``
of lavaan 0.6-14) into a :class:`ParsedModel`: one :class:`Formula` per element of
lavaan's "flat" table (``lhs, op, rhs`` plus the modifiers ``fixed``, ``start``,
``label``, each one value for all groups or one per group), and the ``:=`` definitions
and ``==``/``<``/``>`` constraints as written. Every module that reads lavaan syntax
(the spec checks, the structural stage, the simulator, the engine, multi-group models)
calls it; none splits syntax itself.

Rules (as lavaan's):

* statements are separated by newlines and ``;``; ``#`` and ``!`` start a comment;
* a line without an operator continues the statement before it (``y ~ x1 +`` then
  ``x2``, or ``+ x2`` on the next line);
* operators ``=~ ~ ~~ := == < >``; ``y ~ 1`` is an intercept (op ``~1``);
  ``<~``, ``~*~``, ``|`` (thresholds), ``%`` and ``group:``/``level:`` blocks are refused
  as not supported;
* a left-hand side may list several variables (``y1 + y2 ~ x``: the modifiers apply to
  each, so a label there makes the coefficients equal);
* a right-hand side is a sum of terms ``modifier*variable``; a modifier is a number
  (``0.5``, ``-0.1``, ``1e+0``: a fixed value), ``NA`` (free), a label (``a``,
  ``"a"``, ``label("a")``, ``equal("a")``), ``start(0.5)``, or ``c(...)`` of those (one
  value per group); the same variable written twice in one statement merges its
  modifiers (``a*x + start(0.5)*x``); ``X:Z`` is an interaction term.

Where lavaan silently drops part of a line (``a*0.5*x`` keeps only ``a``;
``a*(x1 + x2)`` keeps only ``x1``; ``a*x + b*x`` keeps only ``a``) this parser refuses
it, naming the line. Every refusal is an :class:`~adoption.errors.InputError` that names
the line and says what is not supported. The parameter table with lavaan's defaults
is built from a :class:`ParsedModel` by :mod:`adoption.sem.partable`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adoption.errors import InputError
from adoption.vocabulary import OP_COVARIANCE, OP_DEFINED, OP_INTERCEPT, OP_REGRESSION

__all__ = ["Formula", "ParsedModel", "parse_model", "expression_names", "is_name",
           "write_formulas", "OP_EQUAL", "OP_LESS", "OP_GREATER"]

OP_EQUAL, OP_LESS, OP_GREATER = "==", "<", ">"
#: lavaan's operators, in the order lavaan looks for them in a statement.
_OPERATORS = ("=~", "<~", "~*~", "~~", "~", "==", "<", ">", ":=", ":", "|", "%")
_UNSUPPORTED_OPS = {
    "<~": "composites ('<~') are not supported.",
    "~*~": "scaling factors ('~*~') are not supported.",
    "|": "thresholds ('|') are not supported (they need ordinal variables and a "
         "categorical estimator).",
    "%": "'%' formulas are not supported.",
    ":": "'group:' / 'level:' blocks are not supported; give the grouping column as the "
         "group option instead.",
}
_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_TOKEN = re.compile(r"""\s*(?:
    (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<name>[A-Za-z_.][A-Za-z0-9_.]*)
  | (?P<str>"[^"]*"|'[^']*')
  | (?P<sym>[-+*(),:^/]))""", re.VERBOSE)
_LABEL_CALLS = ("label", "lab", "equal")


@dataclass(frozen=True)
class Formula:
    """One element of a lavaan model: a row of lavaan's flat parameter table.

    Attributes
    ----------
    lhs, op, rhs : str
        As lavaan's ``lhs, op, rhs``: op one of ``=~ ~ ~~ ~1 := == < >``; rhs is ``""``
        for ``~1`` (intercepts); for ``:=``, ``==``, ``<`` and ``>`` lhs and rhs are the
        expressions with their whitespace removed (as lavaan stores them).
    fixed : tuple of (float or None)
        Fixed values: ``()`` none written, one value for every group, or one per group;
        ``None`` is ``NA`` (free, e.g. ``NA*x1`` frees a first loading).
    label : tuple of str
        Labels, likewise (``""``: no label in that group).
    start : tuple of (float or None)
        Starting values from ``start()``, likewise.
    line : int
        1-based line of the syntax where the statement starts (for messages).
    interaction : bool
        ``rhs`` is an interaction term ``X:Z``.
    """

    lhs: str
    op: str
    rhs: str
    fixed: tuple = ()
    label: tuple = ()
    start: tuple = ()
    line: int = 0
    interaction: bool = False

    @property
    def text(self) -> str:
        """``lhs op rhs`` as lavaan prints it (``y ~1`` for an intercept)."""
        return f"{self.lhs} {self.op} {self.rhs}".rstrip()

    def in_group(self, what: str, g: int = 0, ngroups: int = 1):
        """The ``fixed``, ``label`` or ``start`` modifier of group ``g`` (0-based).

        Returns ``None`` (fixed/start) or ``""`` (label) when none was written.

        Raises
        ------
        InputError
            A per-group modifier (``c(...)``) whose length is not ``ngroups``.
        """
        vals = getattr(self, what)
        if not vals:
            return "" if what == "label" else None
        if len(vals) == 1:
            return vals[0]
        if len(vals) != ngroups:
            raise InputError(f"Model syntax, line {self.line}: '{self.text}' has {len(vals)} "
                             f"{what} values (c(...)) but the model has {ngroups} group(s); "
                             "give one value per group.")
        return vals[g]


@dataclass(frozen=True)
class ParsedModel:
    """A lavaan model as written: its formulas, definitions and constraints.

    Attributes
    ----------
    formulas : tuple of Formula
        ``=~``, ``~``, ``~~`` and ``~1`` elements in syntax order (a multi-variable
        left-hand side or right-hand side gives one element per variable).
    defined : tuple of Formula
        ``name := expression`` (lhs the name, rhs the expression), in syntax order.
    constraints : tuple of Formula
        ``==``, ``<`` and ``>`` constraints (lhs and rhs expressions).
    """

    formulas: tuple[Formula, ...]
    defined: tuple[Formula, ...] = ()
    constraints: tuple[Formula, ...] = ()

    def of(self, *ops: str) -> tuple[Formula, ...]:
        """The formulas with one of the operators ``ops``."""
        return tuple(f for f in self.formulas if f.op in ops)

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label written on a formula, in order of first appearance."""
        out: list[str] = []
        for f in self.formulas:
            out += [lab for lab in f.label if lab and lab not in out]
        return tuple(out)


# --------------------------------------------------------------------------- statements
def _statements(syntax: str, where: str) -> list[tuple[int, str]]:
    """(line, text) of each statement: comments cut, ``;`` split, continuations joined."""
    pieces: list[tuple[int, str]] = []
    for lineno, raw in enumerate(str(syntax).splitlines(), 1):
        line = re.split(r"[#!]", raw, maxsplit=1)[0]
        pieces += [(lineno, p.strip()) for p in line.split(";") if p.strip()]
    out: list[tuple[int, str]] = []
    for lineno, text in pieces:
        if _find_operator(text) is not None or not out:
            if _find_operator(text) is None:
                raise InputError(f"{where}, line {lineno}: cannot read '{text}': it has no "
                                 "lavaan operator (=~, ~, ~~, :=, ==, <, >). Write formulas as "
                                 "'Y ~ X1 + X2' or 'F =~ x1 + x2'.")
            out.append((lineno, text))
        else:  # lavaan: a line without an operator continues the statement before it
            out[-1] = (out[-1][0], out[-1][1] + " " + text)
    return out


def _find_operator(text: str) -> str | None:
    for op in _OPERATORS:
        if op in text:
            return op
    return None


# --------------------------------------------------------------------------- tokens
def _tokens(text: str, where: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InputError(f"{where}: cannot read '{text[pos:].strip()}'.")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Reader:
    """Recursive descent over the tokens of one right-hand side."""

    def __init__(self, text: str, where: str):
        self.where, self.text = where, text
        self.toks = _tokens(text, where)
        self.i = 0

    def peek(self, k: int = 0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("end", "")

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def fail(self, why: str):
        raise InputError(f"{self.where}: {why}")

    def expect(self, sym: str):
        if self.take() != ("sym", sym):
            self.fail(f"cannot read '{self.text}' (expected '{sym}').")

    def value(self):
        """A modifier value: signed number, NA, name, string, or a call."""
        kind, tok = self.peek()
        if (kind, tok) in (("sym", "-"), ("sym", "+")) and self.peek(1)[0] == "num":
            self.take()
            return ("num", float(tok + self.take()[1]))
        if kind == "num":
            self.take()
            return ("num", float(tok))
        if kind == "str":
            self.take()
            return ("name", tok[1:-1])
        if kind == "name":
            self.take()
            if self.peek() == ("sym", "("):
                self.take()
                args = [self.value()]
                while self.peek() == ("sym", ","):
                    self.take()
                    args.append(self.value())
                self.expect(")")
                return ("call", tok, args)
            return ("na", None) if tok == "NA" else ("name", tok)
        if (kind, tok) == ("sym", "("):
            self.fail(f"'{self.text}': a modifier applied to a sum in parentheses is not "
                      "supported (lavaan would keep only the first term); write it on each "
                      "term, e.g. a*x1 + a*x2.")
        at = f"at '{tok}'" if tok else "at the end"
        self.fail(f"cannot read the term {at} in '{self.text}'.")

    def terms(self) -> list[tuple[list, tuple]]:
        """[(modifiers, variable)] of a sum; variable ("var", name) or ("num", 1.0)."""
        out = []
        while True:
            factors = [self.value()]
            while self.peek() == ("sym", "*"):
                self.take()
                factors.append(self.value())
            var = factors[-1]
            if var[0] == "name" and self.peek() == ("sym", ":"):
                names = [var[1]]
                while self.peek() == ("sym", ":"):
                    self.take()
                    nxt = self.value()
                    if nxt[0] != "name":
                        self.fail(f"cannot read the interaction in '{self.text}'.")
                    names.append(nxt[1])
                var = ("inter", ":".join(names))
            out.append((factors[:-1], var))
            kind, tok = self.take()
            if kind == "end":
                return out
            if (kind, tok) == ("sym", "-"):
                self.fail(f"'{self.text}': a minus between terms is not lavaan syntax; write "
                          "a negative fixed value as '+ -0.1*X'.")
            if (kind, tok) != ("sym", "+"):
                self.fail(f"cannot read the term at '{tok}' in '{self.text}'; terms are "
                          "joined by '+' and modifiers by '*' (e.g. 0.5*x).")


# --------------------------------------------------------------------------- modifiers
def _modifier(mod, where: str) -> tuple[str, tuple]:
    """One parsed modifier -> (kind, values): kind "fixed", "label" or "start"."""
    kind = mod[0]
    if kind == "num":
        return "fixed", (mod[1],)
    if kind == "na":
        return "fixed", (None,)
    if kind == "name":
        if not _NAME.match(mod[1]):
            raise InputError(f"{where}: the label '{mod[1]}' is not a valid name.")
        return "label", (mod[1],)
    name, args = mod[1], mod[2]
    if name == "c":
        kinds = {a[0] for a in args}
        if kinds <= {"num", "na"}:
            return "fixed", tuple(a[1] for a in args)
        if kinds <= {"name", "na"}:
            return "label", tuple(a[1] or "" for a in args)
        raise InputError(f"{where}: c(...) mixes numbers and labels; give one kind.")
    if name == "start":
        if len(args) == 1 and args[0][0] == "call":
            kind, vals = _modifier(args[0], where)
            if kind == "fixed":
                return "start", vals
        elif len(args) == 1 and args[0][0] == "num":
            return "start", (args[0][1],)
        raise InputError(f"{where}: start() needs a number or c(numbers).")
    if name in _LABEL_CALLS and len(args) == 1 and args[0][0] == "name" \
            and _NAME.match(args[0][1]):
        return "label", (args[0][1],)
    raise InputError(f"{where}: the modifier '{name}(...)' is not supported (supported: "
                     "numbers, NA, labels, c(...), start(), label(), equal(\"label\")).")


def _merge(mods: dict, kind: str, vals: tuple, where: str) -> None:
    if kind in mods and mods[kind] != vals:
        raise InputError(f"{where}: two different {kind} modifiers for the same parameter "
                         "(lavaan would silently keep one); write one.")
    mods[kind] = vals


# --------------------------------------------------------------------------- parse
def parse_model(syntax: str, *, where: str = "Model syntax") -> ParsedModel:
    """Parse lavaan model syntax (see the module docstring for the rules).

    Parameters
    ----------
    syntax : str
        lavaan model syntax.
    where : str
        How messages name the syntax ("Model syntax", "spec.yaml: structural", ...).

    Returns
    -------
    ParsedModel

    Raises
    ------
    InputError
        On anything lavaan would refuse, anything lavaan would silently misread, and
        operators this project does not support; the message names the line.

    Examples
    --------
    >>> m = parse_model("visual =~ x1 + a*x2 + start(0.5)*x3 ; x1 ~~ x2  # comment")
    >>> [(f.lhs, f.op, f.rhs, f.label, f.start) for f in m.formulas][1:3]
    [('visual', '=~', 'x2', ('a',), ()), ('visual', '=~', 'x3', (), (0.5,))]
    """
    formulas: list[Formula] = []
    defined: list[Formula] = []
    constraints: list[Formula] = []
    seen: dict[tuple, int] = {}
    for lineno, stmt in _statements(syntax, where):
        here = f"{where}, line {lineno}"
        op = _find_operator(stmt)
        if op in _UNSUPPORTED_OPS:
            raise InputError(f"{here}: '{stmt}': {_UNSUPPORTED_OPS[op]}")
        lhs_text, rhs_text = (s.strip() for s in stmt.split(op, 1))
        if op not in (OP_DEFINED, OP_EQUAL, OP_LESS, OP_GREATER):
            formulas += _formulas(lhs_text, op, rhs_text, lineno, here, stmt, seen)
            continue
        lhs, rhs = "".join(lhs_text.split()), "".join(rhs_text.split())
        if not lhs or not rhs:
            raise InputError(f"{here}: '{stmt}' needs an expression on both sides.")
        for side in (lhs, rhs):
            expression_names(side, here)  # refuses what is not an expression
        if op != OP_DEFINED:
            constraints.append(Formula(lhs, op, rhs, line=lineno))
        elif not _NAME.match(lhs):
            raise InputError(f"{here}: '{lhs}' is not a name for a defined parameter.")
        else:
            defined.append(Formula(lhs, op, rhs, label=(lhs,), line=lineno))
    return ParsedModel(tuple(formulas), tuple(defined), tuple(constraints))


def _terms(op: str, rhs_text: str, here: str, stmt: str) -> dict[tuple, dict]:
    """(op, rhs, interaction) -> merged modifiers of the terms of one right-hand side."""
    merged: dict[tuple, dict] = {}
    for mods, var in _Reader(rhs_text, here).terms():
        if len(mods) > 1:
            raise InputError(f"{here}: several modifiers on one term in '{stmt}' are not "
                             "supported (lavaan would keep only one); write each as its "
                             "own term, e.g. a*x + start(0.5)*x.")
        if var[0] == "num":
            if op != OP_REGRESSION or var[1] != 1.0:
                raise InputError(f"{here}: cannot read '{stmt}': a number can only stand "
                                 "alone as the intercept, 'y ~ 1'.")
            key = (OP_INTERCEPT, "", False)
        elif var[0] in ("name", "inter") and var[1] != "NA":
            key = (op, var[1], var[0] == "inter")
        else:
            raise InputError(f"{here}: cannot read '{stmt}': a modifier must multiply a "
                             "variable.")
        slot = merged.setdefault(key, {})
        for mod in mods:
            _merge(slot, *_modifier(mod, f"{here}: '{stmt}'"), f"{here}: '{stmt}'")
    return merged


def _formulas(lhs_text, op, rhs_text, lineno, here, stmt, seen) -> list[Formula]:
    """The elements of one ``=~``/``~``/``~~`` statement (``seen``: duplicates)."""
    lhs_names = [s.strip() for s in lhs_text.split("+")]
    bad = [s for s in lhs_names if not _NAME.match(s)]
    if bad:
        raise InputError(f"{here}: '{bad[0]}' on the left of '{op}' in '{stmt}' is not a "
                         "variable name.")
    if not rhs_text:
        raise InputError(f"{here}: '{stmt}' has nothing on the right of '{op}'.")
    merged = _terms(op, rhs_text, here, stmt)
    out = []
    for lhs in lhs_names:
        for (fop, rhs, inter), mods in merged.items():
            elem = (lhs, fop, rhs)
            if fop == OP_COVARIANCE and (rhs, fop, lhs) in seen:
                elem = (rhs, fop, lhs)
            if elem in seen:
                text = f"{lhs} {fop} {rhs}".rstrip()
                raise InputError(f"{here}: '{text}' is specified twice (also on line "
                                 f"{seen[elem]}); lavaan refuses a duplicate model element. "
                                 "Keep one.")
            seen[elem] = lineno
            out.append(Formula(lhs, fop, rhs, mods.get("fixed", ()), mods.get("label", ()),
                               mods.get("start", ()), lineno, inter))
    return out


_EXPR_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                         r"|(?P<name>[A-Za-z_.][A-Za-z0-9_.]*)|(?P<sym>[-+*/^(),]))")


def expression_names(expr: str, where: str = "Model syntax") -> tuple[str, ...]:
    """The names an expression (``:=``, ``==`` side) uses, function names excluded.

    Raises
    ------
    InputError
        A character that is not part of an arithmetic expression.
    """
    names, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = _EXPR_TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise InputError(f"{where}: cannot read the expression '{expr}' at "
                             f"'{expr[pos:]}'.")
        pos = m.end()
        if m.lastgroup == "name" and not expr[pos:].lstrip().startswith("("):
            if m.group("name") not in names:
                names.append(m.group("name"))
    return tuple(names)


def is_name(text: str) -> bool:
    """Whether ``text`` is a variable name or label as lavaan reads one."""
    return bool(_NAME.match(text))


def _number(v: float | None) -> str:
    if v is None:
        return "NA"
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def _term(f: Formula, labels: bool) -> list[str]:
    var = "1" if f.op == OP_INTERCEPT else f.rhs
    out = []
    for what, show in (("fixed", _number), ("start", _number), ("label", str)):
        vals = getattr(f, what)
        if not vals or (what == "label" and not labels):
            continue
        text = ", ".join(show(v) for v in vals) if what != "label" else ", ".join(vals)
        text = f"c({text})" if len(vals) > 1 else text
        out.append(f"start({text})*{var}" if what == "start" else f"{text}*{var}")
    return out or [var]


def write_formulas(formulas, *, labels: bool = True) -> str:
    """lavaan syntax that :func:`parse_model` reads back into ``formulas``.

    Consecutive elements of one statement (same line, left-hand side and operator) are
    written as one statement, ``y ~ 0*z + w``; ``labels=False`` leaves the labels out.

    Examples
    --------
    >>> write_formulas(parse_model("y ~ b1*x + 0*z + start(0.5)*w + 1").formulas, labels=False)
    'y ~ x + 0*z + start(0.5)*w + 1'
    """
    lines: list[tuple[tuple, list[str]]] = []
    for f in formulas:
        op = OP_REGRESSION if f.op == OP_INTERCEPT else f.op
        key = (f.line, f.lhs, op)
        if not lines or lines[-1][0] != key:
            lines.append((key, []))
        lines[-1][1].extend(_term(f, labels))
    return "\n".join(f"{lhs} {op} " + " + ".join(terms) for (_, lhs, op), terms in lines)


def __getattr__(name: str):
    """The parameter table lived here; it is :mod:`adoption.sem.partable` now."""
    if name in ("ParRow", "ParTable", "build_partable"):
        from adoption.sem import partable

        return getattr(partable, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
