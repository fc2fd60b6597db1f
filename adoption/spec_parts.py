"""The parts of a survey specification: response scale, constructs, missing-data
handling, screening rules, filters, EFA, PLS options, groups, a PROCESS template and
population values.

Each part is a frozen pydantic model that checks its own keys; :class:`adoption.spec.Survey`
assembles them and :mod:`adoption.spec_rules` checks the rules across parts. The name
rule (:data:`NAME`) and the reading of answer labels' polarity live here too.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class FrozenModel(BaseModel):
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


class Scale(FrozenModel):
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


class Construct(FrozenModel):
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


class Missing(FrozenModel):
    """Missing-data handling: codes that mean 'no answer' and the analysis method."""

    codes: tuple[float, ...] = ()
    method: Literal["listwise", "fiml", "pairwise"] = "listwise"


class AttentionCheck(FrozenModel):
    """An instructed item ("please select Agree"): answers outside ``correct`` fail."""

    column: str
    correct: tuple[float, ...]
    wording: str = ""


class Screening(FrozenModel):
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


class Filter(FrozenModel):
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


class EFA(FrozenModel):
    """The exploratory factor analysis: the number of factors (default: from parallel
    analysis) and which parallel-analysis count sets it: ``smc`` (common factors, SMCs on
    the diagonal), ``pca`` (principal components) or ``fa`` (psych's default
    ``fa.parallel(x, fa = "fa")``: one-factor minres communalities on the diagonal)."""

    n_factors: int | None = Field(default=None, ge=1)
    parallel: Literal["smc", "pca", "fa"] = "smc"


#: Estimation methods of the structural model: covariance-based SEM and PLS-SEM.
METHODS: tuple[str, ...] = ("cbsem", "pls")


class PLSOptions(FrozenModel):
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


class Group(FrozenModel):
    """A demographic column used for group comparisons."""

    column: str
    label: str = ""
    labels: dict[int | str, str] = Field(default_factory=dict)


class Process(FrozenModel):
    """A numbered PROCESS model (Hayes), expanded into ``structural`` when that is empty
    (:func:`adoption.structural.process.process_syntax`)."""

    model: int
    x: str
    y: str
    m: tuple[str, ...] = ()
    w: str | None = None


class Population(FrozenModel):
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
