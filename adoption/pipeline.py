"""The pipeline: calls the stages in order and does nothing else.

    spec -> load -> clean -> describe -> measurement -> structural -> run directory
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from adoption.clean import CleanedResponses, clean
from adoption.describe import Description, describe
from adoption.errors import InputError
from adoption.groups import GroupResults, run_groups
from adoption.load import LoadedResponses, load_responses
from adoption.measurement import MeasurementResults, measure
from adoption.ordinal import item_estimation, ordinal_items, resolve_estimator
from adoption.ordinal_run import ordinal_results
from adoption.pls.stage import PLSResults, fit_pls
from adoption.structural.scores import construct_table
from adoption.structural.stage import StructuralResults, composite_scores, fit_structural
from adoption.report import write_report
from adoption.results_layout import results_document, table_frames
from adoption.rundir import prepare_target, write_run
from adoption.spssout import labelled_responses, write_spss
from adoption.spec import Survey, load_spec
from adoption.vocabulary import DEFAULT_SEED

#: The bundled example survey (the repository's surveys/ folder).
EXAMPLE_SPEC = Path(__file__).resolve().parent.parent / "surveys" / "ai_mental_health" / "survey.yaml"


#: Most bootstrap draws of the composite model's effects: 100,000 add about a minute and
#: 0.1 GB to a run of the example (49 effects; measured on a shared 2-core machine);
#: more do not change a 95% interval in its third decimal.
MAX_BOOTSTRAP = 100_000
#: Most bootstrap refits of the latent SEM: each is a full fit (0.1-1 s), so 10,000 is
#: already hours on a laptop.
MAX_BOOTSTRAP_LATENT = 10_000


@dataclass(frozen=True)
class RunOptions:
    """Choices of a run that are not in the spec."""

    #: None: the spec's ``estimator`` (or WLSMV with ``ordinal: true``), else ML
    estimator: str | None = None
    bootstrap: int = 5000
    seed: int = DEFAULT_SEED
    groups: bool = True
    bootstrap_latent: int = 0
    parameterization: str = "delta"
    #: estimation methods (``cbsem``, ``pls``); None: the spec's ``methods``. CB-SEM
    #: (the composite and latent models) always runs: the report is built on it.
    methods: tuple[str, ...] | None = None
    #: PLS bootstrap draws; None: the spec's ``pls.bootstrap``.
    pls_bootstrap: int | None = None
    #: lavaan's std.lv for the CFA and the latent SEM; None: the spec's ``std_lv``
    std_lv: bool | None = None


@dataclass(frozen=True)
class RunResult:
    """What a run produced (also written to the run directory)."""

    survey: Survey
    loaded: LoadedResponses
    cleaned: CleanedResponses
    description: Description
    measurement: MeasurementResults
    structural: StructuralResults | None   # None: the spec has no structural model
    groups: GroupResults | None
    results: dict[str, Any]
    pls: PLSResults | None = None
    out_dir: Path | None = None
    ordinal: dict[str, Any] | None = None   # the ordinal treatment's tables (ordinal_frames)


def construct_scores(cleaned: CleanedResponses, survey: Survey,
                     structural: StructuralResults | None) -> pd.DataFrame:
    """The construct scores of a run: the structural stage's, or (a measurement-only
    study) the item means of each construct."""
    if structural is None:
        return composite_scores(cleaned.data, survey)[0]
    return structural.composite_scores


def survey_path(spec: str | Path) -> Path:
    """The spec file itself (a folder means its survey.yaml)."""
    p = Path(spec)
    return p / "survey.yaml" if p.is_dir() else p


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def resolve_data(survey: Survey, data: str | Path | None, spec_path: Path) -> Path:
    """The data file: ``--data`` if given, else the spec's ``data`` key."""
    if data is not None:
        return Path(data)
    p = survey.data_path()
    if p is None:
        raise InputError(f"{spec_path}: no data file: give --data FILE or a 'data:' key in the spec.")
    return p


def prepare(spec: str | Path, data: str | Path | None = None,
            step: Callable[[str], None] = lambda s: None,
            keep_id_map: bool = False,
            out: str | Path | None = None) -> tuple[Survey, LoadedResponses, CleanedResponses]:
    """Spec, load and clean: the part shared by ``run`` and ``validate``.

    With ``out``, the run directory's place is checked (and this output's stale
    temporary folders removed) as soon as the spec and data are known, before the
    data is read: see :func:`adoption.rundir.prepare_target`.
    """
    step("reading the spec")
    survey = load_spec(spec)
    data_path = resolve_data(survey, data, Path(spec))
    if out is not None:
        prepare_target(out, protect=(survey_path(spec), data_path))
    step(f"loading {data_path.name}")
    loaded = load_responses(data_path, survey, keep_id_map=keep_id_map)
    step("cleaning and screening")
    cleaned = clean(loaded, survey)
    return survey, loaded, cleaned


def run(spec: str | Path, data: str | Path | None = None, out: str | Path | None = None,
        options: RunOptions = RunOptions(),
        step: Callable[[str], None] = lambda s: None,
        id_map: str | Path | None = None) -> RunResult:
    """Run every stage and write the run directory (when ``out`` is given).

    ``id_map``: a file outside the run directory to write the map from original to
    pseudonymised ids to, when the ids look like PII (see :func:`write_id_map`).
    """
    if id_map is not None:
        check_id_map(id_map, out)
    survey, loaded, cleaned = prepare(spec, data, step, keep_id_map=id_map is not None, out=out)
    step("describing the sample")
    description = describe(cleaned, survey)
    step("measurement model: reliability, EFA, CFA")
    estimator = resolve_estimator(options.estimator, survey.estimator, survey.ordinal)
    std_lv = survey.std_lv if options.std_lv is None else options.std_lv
    item_est = item_estimation(estimator, survey.missing.method, options.parameterization, std_lv,
                               ordered=ordinal_items(survey.ordinal, survey.items))
    constructs = {name: list(c.items) for name, c in survey.constructs.items()}
    measurement = measure(cleaned.data, constructs, estimator=estimator, seed=options.seed,
                          missing=item_est.missing, syntax=survey.measurement_syntax(),
                          scales={k: list(v) for k, v in survey.scales.items()},
                          n_factors=survey.efa.n_factors, parallel=survey.efa.parallel,
                          parameterization=options.parameterization, std_lv=std_lv,
                          ordered=item_est.ordered)
    structural = None
    if survey.structural.strip():
        structural = fit_structural(cleaned, survey, estimator=estimator,
                                    bootstrap=options.bootstrap, seed=options.seed, step=step,
                                    bootstrap_latent=options.bootstrap_latent,
                                    parameterization=options.parameterization,
                                    std_lv=std_lv)
    else:
        step("structural model: none in the spec (a measurement-only study); stage skipped")
    methods = options.methods or survey.methods
    pls = None
    if "pls" in methods and structural is not None:
        step("PLS-SEM")
        pls = fit_pls(cleaned, survey, bootstrap=options.pls_bootstrap, seed=options.seed)
    step("ordinal and continuous treatments of the answers")
    measurement, ordinal = ordinal_results(cleaned, survey, item_est, measurement, structural)
    mdict = measurement.to_dict()
    groups = (run_groups(cleaned, survey, estimator=estimator, step=step, std_lv=std_lv)
              if options.groups and survey.groups and structural is not None else None)

    scores = construct_scores(cleaned, survey, structural)
    constructs = construct_table(scores,
                                 measurement.reliability.set_index("construct")["alpha"].to_dict())
    result = RunResult(survey=survey, loaded=loaded, cleaned=cleaned, description=description,
                       measurement=measurement, structural=structural, groups=groups,
                       results={}, ordinal=ordinal, pls=pls)
    result = replace(result, results=results_document(
        result, options, spec, _sha256(survey_path(spec)), estimator, std_lv, constructs))
    if out is not None:
        step("writing the run directory")
        result = replace(result, out_dir=write(result, out,
                                               protect=(survey_path(spec), Path(loaded.source.path))))
    if id_map is not None:
        write_id_map(id_map, loaded.id_map)
    return result


def write(result: RunResult, out: str | Path, protect: tuple[Path, ...] = ()) -> Path:
    """Write the run directory of ``result`` (see :func:`adoption.rundir.write_run`):
    results.json, the tables, responses.parquet, the report and the manifest."""
    cleaned = result.cleaned
    scores = construct_scores(cleaned, result.survey, result.structural)
    spss = labelled_responses(cleaned.data, scores, result.survey,
                              result.loaded.variable_labels, result.loaded.value_labels)

    def extra(folder: Path) -> None:
        write_spss(folder, spss)
        write_report(folder, result.results)

    return write_run(out, results=result.results, frames=table_frames(result),
                     parquet={"responses.parquet": cleaned.data}, extra=extra, protect=protect)


def check_id_map(path: str | Path, out: str | Path | None) -> None:
    """Refuse an ``--id-map`` file that exists or lies inside the run directory: the map
    undoes the pseudonyms, so it must never be shared with the run, and a user's file is
    never overwritten."""
    p = Path(path)
    if p.exists() or p.is_symlink():
        raise InputError(f"--id-map {p}: the file exists; give a new file name (the map is never "
                         "written over a file).")
    if out is not None and p.resolve().is_relative_to(Path(out).resolve()):
        raise InputError(f"--id-map {p}: lies inside the run directory {out}; keep the map "
                         "outside the run, which is meant to be shared.")
    if not p.parent.is_dir():
        raise InputError(f"--id-map {p}: the folder {p.parent} does not exist.")


def write_id_map(path: str | Path, id_map) -> None:
    """Write the ``id, pseudonym`` map (readable by the owner only), or nothing when the
    ids were not pseudonymised."""
    if id_map is None:
        return
    p = Path(path)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        id_map.to_csv(fh, index=False)
