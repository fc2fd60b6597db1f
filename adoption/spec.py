"""Survey specification: one YAML file a social scientist can read and edit.

:func:`load_spec` reads and validates it into a frozen :class:`Survey`. Validation
happens here, at the edge: every problem is raised as :class:`~adoption.errors.InputError`
naming the file, the key (and the YAML line where the parser knows it) and what to do.

pydantic does the type checking (it names the failing key path); the cross-key rules
(an item in two constructs, a structural formula naming an unknown construct, a construct
with one item) are checked by hand after it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adoption.errors import InputError
from adoption.privacy import SMALL_CELL
from adoption.sem.syntax import parse_model
from adoption.vocabulary import ESTIMATORS, OP_INTERCEPT


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


#: Construct and item names: they are written into lavaan model syntax, so only
#: letters, digits, '_' and '.', starting with a letter or '_' (no spaces, operators,
#: newlines).
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
NAME_RULE = ("use only letters (A-Z, a-z), digits, '_' and '.', starting with a letter or '_' "
             "(names go into the model's lavaan syntax)")


def check_names(names, what: str) -> None:
    """Raise ValueError naming the first of ``names`` that is not a valid name (:data:`NAME`)."""
    for n in names:
        if not isinstance(n, str) or not NAME.fullmatch(n):
            raise ValueError(f"{what} name {str(n)!r} is not allowed: {NAME_RULE}")


#: Most points a response scale may have (a 0-100 slider has 101); more is a mistyped
#: scale, and tables, charts and recodes are sized by the number of points.
MAX_SCALE_POINTS = 101


_NEGATIVE_WORDS = ("disagree", "unlikely", "dissatisfied", "never", "not at all", "oppose",
                   "unimportant", "useless", "bad", "poor", "low")
_POSITIVE_WORDS = ("agree", "likely", "satisfied", "always", "extremely", "support",
                   "important", "useful", "good", "excellent", "high")


def answer_polarity(label: str) -> int:
    """-1 for a negative answer label ('Strongly disagree'), +1 for a positive one, 0 for
    a midpoint ('Neither agree nor disagree') or a label without such words.

    >>> answer_polarity("Strongly disagree"), answer_polarity("Agree"), answer_polarity("Neutral")
    (-1, 1, 0)
    """
    t = " ".join(str(label).split()).casefold()
    if re.search(r"\b(neither|neutral|undecided)\b", t):
        return 0
    for w in _NEGATIVE_WORDS:
        if re.search(rf"\b{w}\b", t):
            return -1
    for w in _POSITIVE_WORDS:
        if re.search(rf"\b{w}\b", t):
            return 1
    return 0


def label_direction(labels: dict) -> int:
    """+1 if answer labels run negative -> positive with rising code, -1 the other way
    (1 = Strongly agree), 0 when their polarity cannot be told. Keys that are not numbers
    are ignored.

    >>> label_direction({1: "Strongly agree", 2: "Agree", 4: "Disagree"})
    -1
    """
    nums = []
    for k, v in labels.items():
        try:
            nums.append((float(k), v))
        except (TypeError, ValueError):
            continue
    pol = [p for _, p in ((k, answer_polarity(v)) for k, v in sorted(nums)) if p != 0]
    if len(pol) < 2 or pol[0] == pol[-1]:
        return 0
    return 1 if pol[0] < pol[-1] else -1


class Scale(_Frozen):
    """A Likert response scale: integer points ``min..max`` with optional text labels.

    ``direction`` says how the data file codes the answers: "ascending" (``min`` is the
    most negative answer, 1 = Strongly disagree) or "descending" (``min`` is the most
    positive, 1 = Strongly agree). ``labels`` are written as the file codes them. When
    ``direction`` is not given it is read from the labels' wording (agree/disagree,
    likely/unlikely...), else ascending. The loader recodes a descending scale's items
    to ascending (``min + max - c``), so every analysis, table and chart reads higher as
    more agreement; :meth:`as_analysed` is the scale they use.
    """

    min: int = 1
    max: int = 5
    labels: dict[int, str] = Field(default_factory=dict)
    direction: Literal["ascending", "descending"] | None = None

    @model_validator(mode="after")
    def _check(self) -> "Scale":
        if self.max <= self.min:
            raise ValueError(f"scale max ({self.max}) must be greater than min ({self.min})")
        if self.max - self.min + 1 > MAX_SCALE_POINTS:
            raise ValueError(f"scale {self.min}..{self.max} has {self.max - self.min + 1:,} points; "
                             f"at most {MAX_SCALE_POINTS} are allowed (a 0-100 slider). Check min "
                             "and max")
        bad = [k for k in self.labels if not self.min <= k <= self.max]
        if bad:
            raise ValueError(f"scale labels {bad} lie outside {self.min}..{self.max}")
        by_labels = label_direction(self.labels)
        if self.direction is not None and by_labels and \
                by_labels != (1 if self.direction == "ascending" else -1):
            raise ValueError(f"scale direction '{self.direction}' contradicts the labels, which "
                             f"run the other way ({self.min} = {self.labels.get(self.min, '?')}); "
                             "correct one of them")
        return self

    @property
    def points(self) -> list[int]:
        return list(range(self.min, self.max + 1))

    @property
    def descending(self) -> bool:
        """Whether the file codes ``min`` as the most positive answer (``direction``, or
        else the labels' wording)."""
        if self.direction is not None:
            return self.direction == "descending"
        return label_direction(self.labels) == -1

    def reverse(self, x):
        """Answers read the other way round on this scale: ``min + max - x`` (1 <-> 5 on
        a 1..5 scale). Its own inverse; works on numbers, arrays and Series."""
        return (self.min + self.max) - x

    def as_analysed(self) -> "Scale":
        """The scale as the analysis sees it: ascending, a descending scale's labels
        re-keyed by :meth:`reverse` (itself when already ascending)."""
        if not self.descending:
            return self
        return Scale(min=self.min, max=self.max, direction="ascending",
                     labels={self.reverse(k): t for k, t in self.labels.items()})


class Construct(_Frozen):
    """A construct measured by several items (columns)."""

    label: str = ""
    items: dict[str, str]
    reverse: tuple[str, ...] = ()
    scale: Scale | None = None
    #: PLS outer weighting: "A" reflective / composite (correlation weights), "B"
    #: formative (regression weights). Only PLS-SEM reads it.
    mode: Literal["A", "B"] = "A"

    @field_validator("items", mode="before")
    @classmethod
    def _items_as_mapping(cls, v: Any) -> Any:
        # A plain list of column names is allowed; wording is then unknown.
        if isinstance(v, (list, tuple)):
            v = {str(code): "" for code in v}
        elif isinstance(v, dict):
            v = {str(k): ("" if t is None else str(t)) for k, t in v.items()}
        if isinstance(v, dict):
            check_names(v, "item")
        return v


class Missing(_Frozen):
    """Missing-data handling: codes that mean 'no answer' and the analysis method."""

    codes: tuple[float, ...] = ()
    method: Literal["listwise", "fiml", "pairwise"] = "listwise"


class AttentionCheck(_Frozen):
    """An instructed item ("please select Agree"): answers outside ``correct`` fail."""

    column: str
    correct: tuple[float, ...]
    wording: str = ""


class Screening(_Frozen):
    """Careless-response rules, each optional with its threshold.

    Attributes
    ----------
    attention_checks : instructed items and their correct answers.
    longstring_max : exclude a row whose longest run of identical answers over the
        items (in questionnaire order) is longer than this.
    irv_min : exclude a row whose intra-individual response variability (SD of its item
        answers) is below this.
    mahalanobis_p : exclude a row whose squared Mahalanobis distance on the items has
        chi-square p below this (e.g. 0.001).
    min_seconds : exclude a row whose completion time is below this many seconds.
    time_column : the completion-time column (seconds).
    duplicate_ids : exclude repeated respondent ids (all but the first).
    duplicate_rows : exclude identical submissions (all but the first).
    max_missing_share : exclude a row missing more than this share of the items.
    """

    attention_checks: tuple[AttentionCheck, ...] = ()
    longstring_max: int | None = None
    irv_min: float | None = None
    mahalanobis_p: float | None = None
    min_seconds: float | None = None
    time_column: str | None = None
    duplicate_ids: bool = True
    duplicate_rows: bool = True
    max_missing_share: float | None = None

    @model_validator(mode="after")
    def _check(self) -> "Screening":
        if self.min_seconds is not None and not self.time_column:
            raise ValueError("screening.min_seconds needs screening.time_column")
        if self.mahalanobis_p is not None and not 0 < self.mahalanobis_p < 1:
            raise ValueError("screening.mahalanobis_p must lie between 0 and 1")
        if self.max_missing_share is not None and not 0 <= self.max_missing_share <= 1:
            raise ValueError("screening.max_missing_share must lie between 0 and 1")
        return self


class Filter(_Frozen):
    """Keep only rows whose ``column`` passes every condition given (the others are
    excluded under the reason "outside the filter"): ``equals`` a value, is ``one_of``
    several, lies in ``min``..``max``. No expressions are evaluated."""

    column: str
    equals: float | str | None = None
    one_of: tuple[float | str, ...] | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _check(self) -> "Filter":
        if self.equals is None and self.one_of is None and self.min is None and self.max is None:
            raise ValueError(f"filter on '{self.column}' needs equals, one_of, min or max")
        return self


class EFA(_Frozen):
    """The exploratory factor analysis: the number of factors (default: from parallel
    analysis) and which parallel-analysis count sets it: ``smc`` (common factors, SMCs on
    the diagonal), ``pca`` (principal components) or ``fa`` (psych's default
    ``fa.parallel(x, fa = "fa")``: one-factor minres communalities on the diagonal)."""

    n_factors: int | None = Field(default=None, ge=1)
    parallel: Literal["smc", "pca", "fa"] = "smc"


#: Estimation methods of the structural model: covariance-based SEM and PLS-SEM.
METHODS: tuple[str, ...] = ("cbsem", "pls")


class PLSOptions(_Frozen):
    """Options of PLS-SEM (``pls:`` in the spec), read when ``methods`` includes ``pls``.

    Attributes
    ----------
    consistent : PLSc (Dijkstra & Henseler, 2015) for the mode-A constructs.
    conventions : bootstrap SD with divisor B - 1 (``seminr``) or B (``smartpls``).
    bootstrap : bootstrap draws (0: none).
    scheme : inner weighting scheme.
    """

    consistent: bool = False
    conventions: Literal["seminr", "smartpls"] = "seminr"
    bootstrap: int = Field(default=10_000, ge=0, le=100_000)
    scheme: Literal["path", "factor", "centroid"] = "path"


class Group(_Frozen):
    """A demographic column used for group comparisons."""

    column: str
    label: str = ""
    labels: dict[int | str, str] = Field(default_factory=dict)


class Process(_Frozen):
    """A numbered PROCESS model (Hayes), expanded into ``structural`` when that is empty
    (:func:`adoption.structural.process.process_syntax`)."""

    model: int
    x: str
    y: str
    m: tuple[str, ...] = ()
    w: str | None = None


class Population(_Frozen):
    """Population values for the simulator (``adoption simulate``).

    Attributes
    ----------
    loadings : standardised loading of each item; ``default`` applies to the rest.
    paths : structural model with standardised coefficients in lavaan syntax,
        e.g. ``"WIL ~ 0.35*HAB + 0.2*COM"``.
    exogenous_correlation : correlation between exogenous constructs.
    thresholds : cut points on the standard normal scale giving the Likert categories
        (``scale.max - scale.min`` values).
    contamination : shares: ``missing`` (item answers left blank), ``coded_missing``
        (share of those written as a missing code), ``breakoffs``, ``straightliners``,
        ``random``, ``failed_attention``, ``speeders`` (rows); ``duplicates`` is a count.
    demographics : column -> {code: probability}.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    loadings: dict[str, float] = Field(default_factory=lambda: {"default": 0.75})
    paths: str = ""
    exogenous_correlation: float = 0.3
    thresholds: tuple[float, ...] = (-1.5, -0.6, 0.3, 1.2)
    contamination: dict[str, float] = Field(default_factory=dict)
    demographics: dict[str, dict[int | str, float]] = Field(default_factory=dict)


class Survey(_Frozen):
    """A validated survey specification. Build it with :func:`load_spec`."""

    title: str
    scale: Scale = Scale()
    id: str | None = None
    constructs: dict[str, Construct]
    structural: str = ""
    #: covariates added to every endogenous equation of the composite model
    controls: tuple[str, ...] = ()
    #: centring of the factors of interaction terms in the composite model
    centre: Literal["mean", "none"] = "mean"
    process: Process | None = None
    hypotheses: dict[str, str] = Field(default_factory=dict)
    methods: tuple[Literal["cbsem", "pls"], ...] = ("cbsem",)
    pls: PLSOptions = PLSOptions()
    alternatives: dict[str, str] = Field(default_factory=dict)
    groups: tuple[Group, ...] = ()
    filters: tuple[Filter, ...] = ()
    efa: EFA = EFA()
    demographics: tuple[str, ...] = ()
    missing: Missing = Missing()
    out_of_range: Literal["missing", "error"] = "missing"
    screening: Screening = Screening()
    pii: tuple[str, ...] = ()
    data: str | None = None
    population: Population | None = None
    #: second-order constructs: name -> the first-order constructs it is measured by
    higher_order: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    #: residual covariances between items in lavaan syntax, e.g. ``"SI03 ~~ SI04"``
    residual_covariances: tuple[str, ...] = ()
    #: whole scales beside the subscales: name -> constructs whose items it pools (alpha)
    scales: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    min_group_size: int = 30
    small_cell: int = SMALL_CELL
    #: the run's estimator when --estimator is not given (ML, MLM, MLR, WLSMV, ULSMV)
    estimator: Literal[ESTIMATORS] | None = None  # type: ignore[valid-type]
    #: lavaan's ``std.lv``: latent variances fixed at 1 (first loadings free) in the CFA
    #: and the latent SEM, when --std-lv is not given; std.all, fit and reliability are
    #: unchanged, unstandardised loadings and latent (co)variances are on the new scale
    std_lv: bool = False
    #: items as ordered categories: true (all items; WLSMV unless ``estimator`` says
    #: ULSMV) or a list of items (the others stay continuous, lavaan's ``ordered =``)
    ordinal: bool | list[str] = False
    #: also fit the other treatment of the answers (ML vs WLSMV) for the sensitivity table
    sensitivity: bool = True
    #: folder of the spec file; relative ``data`` paths are resolved against it
    base_dir: Path = Path(".")

    @field_validator("constructs", mode="before")
    @classmethod
    def _constructs(cls, v: Any) -> Any:
        # "PE: [PE1, PE2]" is shorthand for "PE: {items: [PE1, PE2]}".
        if isinstance(v, dict):
            check_names(v, "construct")
            return {k: ({"items": c} if isinstance(c, (list, tuple)) else c) for k, c in v.items()}
        return v

    @field_validator("estimator", mode="before")
    @classmethod
    def _estimator(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v

    @field_validator("groups", mode="before")
    @classmethod
    def _groups(cls, v: Any) -> Any:
        if v is None:
            return ()
        if isinstance(v, dict):
            return tuple({"column": k, **(g or {})} for k, g in v.items())
        return tuple(g if isinstance(g, dict) else {"column": str(g)} for g in v)

    # -- derived views ---------------------------------------------------------------
    @property
    def items(self) -> list[str]:
        """All item columns, in questionnaire order."""
        return [i for c in self.constructs.values() for i in c.items]

    def construct_of(self, item: str) -> str:
        for name, c in self.constructs.items():
            if item in c.items:
                return name
        raise KeyError(item)

    def is_reversed(self, item: str) -> bool:
        """Whether ``item`` is reverse-keyed (in its construct's ``reverse``)."""
        return item in self.constructs[self.construct_of(item)].reverse

    def scale_of(self, item: str) -> Scale:
        """The response scale of one item (its construct's override or the survey's)."""
        return self.constructs[self.construct_of(item)].scale or self.scale

    def data_path(self) -> Path | None:
        """The spec's ``data`` file, resolved against the spec's folder.

        A spec may only name a file inside its own folder (or a subfolder): a shared or
        downloaded spec must not make the pipeline read, and write a hash and results of,
        a file elsewhere on the machine. ``--data`` on the command line is the user's own
        choice and is not restricted.

        Raises
        ------
        InputError
            An absolute path, or one that leaves the folder (``..``, a symlink).
        """
        if self.data is None:
            return None
        p = self.base_dir / self.data
        base = self.base_dir.resolve()
        if Path(self.data).is_absolute() or not p.resolve().is_relative_to(base):
            raise InputError(f"{base}: the spec's 'data: {self.data}' points outside the spec's folder; "
                             "a spec may only name a file in its folder.\nMove the file there, or give "
                             "it on the command line with --data FILE.")
        return p

    def measurement_syntax(self) -> str:
        """The measurement model in lavaan syntax: ``C =~ i1 + i2 + ...`` per construct, a
        single-item construct as ``C =~ 1*i1`` with ``i1 ~~ 0*i1``, the second-order
        constructs (``H =~ C1 + C2``) and the residual covariances."""
        from adoption.measurement.stage import cfa_syntax

        return cfa_syntax({n: list(c.items) for n, c in self.constructs.items()},
                          higher_order=self.higher_order,
                          residual_covariances=self.residual_covariances)

    @property
    def model_constructs(self) -> list[str]:
        """Names a structural formula may use: the constructs and the second-order ones."""
        return [*self.constructs, *self.higher_order]

    @property
    def group_columns(self) -> list[str]:
        return [g.column for g in self.groups]


def formula_names(syntax: str, *, where: str) -> list[tuple[str, str, list[str]]]:
    """The (lhs, op, [rhs names]) of each ``=~``, ``~`` and ``~~`` element of lavaan syntax.

    Read by the one parser (:func:`adoption.sem.syntax.parse_model`): comments, ``;``,
    continuation lines and modifiers (``0.3*X``, ``a*X``) as lavaan reads them;
    ``:=`` definitions, constraints and ``~ 1`` intercepts are left out. Raises
    InputError naming ``where`` and the line on syntax it cannot read.
    """
    parsed = parse_model(syntax, where=where)
    return [(f.lhs, f.op, [f.rhs]) for f in parsed.formulas if f.op != OP_INTERCEPT]


def _yaml_error(path: Path, exc: yaml.YAMLError) -> InputError:
    mark = getattr(exc, "problem_mark", None)
    where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return InputError(f"{path}{where}: YAML error: {problem}. Fix the spec file's syntax.")


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses YAML aliases and duplicate keys: specs never need aliases,
    nested aliases can expand exponentially (a "billion laughs" spec), and a duplicate
    key would silently drop the first of its two values."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in a survey spec",
                event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        # PyYAML keeps the last of two equal keys; a second `missing:` block would then
        # silently replace the first. Refuse it, naming both lines.
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            try:
                key = self.construct_object(key_node, deep=True)
                hash(key)
            except (TypeError, yaml.YAMLError):
                continue  # unhashable keys are refused by the base class
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (first given on line {seen[key]}); "
                    "give each key once", key_node.start_mark)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _first_error(path: Path, exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    more = f" ({exc.error_count() - 1} more problem(s) after this one)" if exc.error_count() > 1 else ""
    return InputError(f"{path}: key '{key}': {msg}{more}. Fix the spec and run again.")


def parse_spec(raw: dict[str, Any], *, path: Path) -> Survey:
    """Validate a spec mapping (as read from YAML) into a :class:`Survey`."""
    if not isinstance(raw, dict):
        raise InputError(f"{path}: the spec must be a YAML mapping (title:, constructs:, ...).")
    try:
        survey = Survey(**{**raw, "base_dir": path.parent})
    except ValidationError as exc:
        raise _first_error(path, exc) from None
    if survey.process is not None and survey.structural.strip():
        raise InputError(f"{path}: the spec has both 'structural' and 'process'; keep one "
                         "(a PROCESS template is expanded into the structural model).")
    if survey.process is not None:
        from adoption.structural.process import process_syntax

        p = survey.process
        try:
            syntax = process_syntax(p.model, p.x, p.y, p.m, p.w)
        except InputError as exc:
            raise InputError(f"{path}: {exc.message}") from None
        survey = survey.model_copy(update={"structural": syntax})
    _check_cross_keys(survey, path)
    return survey


def _check_cross_keys(s: Survey, path: Path) -> None:
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
        m = re.match(r"^\s*(\w+)\s*->\s*(\w+)\s*(?:\(([+-])\))?\s*$", text)
        if not m:
            raise InputError(f"{path}: hypothesis {hid} '{text}' should read like 'HAB -> WIL (+)'.")
        for n in m.group(1, 2):
            if n not in known:
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
    """'HAB -> WIL (+)' -> ('HAB', 'WIL', '+'); the sign is None when not given."""
    m = re.match(r"^\s*(\w+)\s*->\s*(\w+)\s*(?:\(([+-])\))?\s*$", text)
    if not m:
        raise ValueError(text)
    return m.group(1), m.group(2), m.group(3)


def load_spec(path: str | Path) -> Survey:
    """Read and validate a survey specification.

    Parameters
    ----------
    path : str or Path
        A YAML file, or a folder holding ``survey.yaml``.

    Returns
    -------
    Survey
        The frozen, validated specification.

    Raises
    ------
    InputError
        Missing file, YAML syntax error (with its line), a key of the wrong type, or a
        cross-key problem (unknown construct in a formula, construct with one item...).
    """
    p = Path(path)
    if p.is_dir():
        p = p / "survey.yaml"
    if not p.exists():
        raise InputError(f"{p}: spec file not found. Give the path of a survey YAML file.")
    if not p.is_file():  # after symbolic links: reading a pipe or device would never end
        raise InputError(f"{p}: is not a regular file. Give the path of a survey YAML file.")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read the spec ({exc.__class__.__name__}). "
                         "Save it as UTF-8 text.") from None
    try:
        raw = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise _yaml_error(p, exc) from None
    return parse_spec(raw, path=p)
