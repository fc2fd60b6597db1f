"""Survey specification: one YAML file a social scientist can read and edit.

:func:`load_spec` reads and validates it into a frozen :class:`Survey`. Validation
happens here, at the edge: every problem is raised as :class:`~adoption.errors.InputError`
naming the file, the key (and the YAML line where the parser knows it) and what to do.

pydantic does the type checking (it names the failing key path); the cross-key rules
(an item in two constructs, a structural formula naming an unknown construct, a construct
with one item) are checked by hand after it.

    spec.py        Survey (the whole spec), parse_spec, load_spec: the public entry
    spec_parts.py  the parts: Scale, Construct, Missing, Screening, Filter, EFA,
                   PLSOptions, Group, Process, Population; the name rule, answer-label polarity
    spec_rules.py  the rules across keys; formula_names, parse_hypothesis
    spec_yaml.py   reading the YAML file (no aliases, no duplicate keys)

Every public name of these modules is importable from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from adoption.errors import InputError
from adoption.privacy import SMALL_CELL
from adoption.spec_parts import (
    EFA,
    MAX_SCALE_POINTS,
    METHODS,
    NAME,
    NAME_RULE,
    AttentionCheck,
    Construct,
    Filter,
    FrozenModel,
    Group,
    Missing,
    PLSOptions,
    Population,
    Process,
    Scale,
    Screening,
    answer_polarity,
    check_names,
    label_direction,
)
from adoption.spec_rules import check_cross_keys, formula_names, parse_hypothesis
from adoption.spec_yaml import read_spec_file
from adoption.vocabulary import ESTIMATORS

__all__ = [
    "Survey", "parse_spec", "load_spec",
    # the parts, the rules and the name rule (spec_parts, spec_rules), importable from here
    "AttentionCheck", "Construct", "EFA", "Filter", "FrozenModel", "Group", "Missing",
    "PLSOptions", "Population", "Process", "Scale", "Screening", "METHODS", "MAX_SCALE_POINTS",
    "NAME", "NAME_RULE", "answer_polarity", "check_names", "label_direction", "formula_names",
    "parse_hypothesis", "check_cross_keys", "read_spec_file",
]


class Survey(FrozenModel):
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
    #: how the latent model estimates interactions between constructs: double-mean-centred
    #: product indicators (fitted by the engine) or LMS (Klein & Moosbrugger 2000)
    latent_interaction: Literal["product_indicators", "lms"] = "product_indicators"
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
    check_cross_keys(survey, path)
    return survey


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
    p, raw = read_spec_file(path)
    return parse_spec(raw, path=p)
