"""Drawing a simulated survey export: Survey (with a ``population`` section) -> :class:`SimulatedExport`.

:func:`simulate` draws the respondents and contaminates some of them; :class:`Truth`
records which data rows received which contamination. The data-generating model is
:mod:`adoption.simulate.population`; the file is written by
:func:`adoption.simulate.export.write_export`.

Contamination
-------------
Each data row gets at most one kind, and each kind is built to break exactly the rule
meant to catch it (with the spec's own thresholds), so the expected exclusion counts per
reason are exact:

==================  ==========================================  ==========================
kind                what the row looks like                     rule (clean.REASON_ORDER)
==================  ==========================================  ==========================
duplicates          a second copy of an earlier row (same id,   duplicate id (and
                    answers, PII, time)                         identical submission;
                                                                that one alone when the
                                                                spec has no id rule)
failed_attention    model answers, a wrong attention answer     failed attention check
speeders            model answers, duration below min_seconds   too fast
breakoffs           the first items answered (at least up to    too many missing answers
                    the attention check), too few for the
                    ``max_missing_share`` rule, rest blank
straightliners      a few model answers, then one answer        straight-lining
                    repeated over the rest of the items
random              uniform answers on the scale                multivariate outlier
==================  ==========================================  ==========================

Every careless row answers the attention check correctly and takes long enough, so it
breaks only its own rule and ones later in the order (a straight-liner may also have a
low response variability or be an outlier; a random clicker is redrawn until it is a
multivariate outlier in the final file, measured as ``adoption.screening`` does: against
the complete rows that break no other rule). Clean rows are redrawn if by chance they break a deterministic rule
(a run of more than ``longstring_max`` equal answers, variability below ``irv_min``, an
item vector identical to another row's); a clean row can still be a multivariate outlier
by chance (about ``mahalanobis_p`` of them): the truth record lists those as
``incidental``. Scattered missing answers go to clean rows only; a share of them are
written as the spec's missing codes (99, -9) instead of blank.

Which rules a row breaks is measured with the screening stage's own statistics
(:mod:`adoption.screening`), under the stricter of two readings where they could differ
(longstring skipping missing answers; the response variability with divisor k and k - 1);
``tests/oracles.py`` recomputes the truth record independently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.simulate.columns import column_labels, demographics, export_frame
from adoption.simulate.population import PopulationModel, population_model
from adoption.simulate.rules import rule_trips
from adoption.spec import Survey
from adoption.vocabulary import (
    REASON_ATTENTION,
    REASON_DUPLICATE_ID,
    REASON_IDENTICAL,
    REASON_LOW_VARIABILITY,
    REASON_OUTLIER,
    REASON_STRAIGHT_LINING,
    REASON_TOO_FAST,
    REASON_TOO_MANY_MISSING,
)

__all__ = ["CONTAMINATION_DEFAULTS", "KINDS", "EXPECTED_REASON", "ALLOWED_REASONS", "Truth",
           "SimulatedExport", "simulate"]


#: Contamination rates used when the spec's ``population.contamination`` omits a key.
#: Shares of the ``n`` respondents, except ``missing`` (share of item answers in clean
#: rows), ``coded_missing`` (share of those written as a missing code) and
#: ``duplicates`` (a count of repeated submissions).
CONTAMINATION_DEFAULTS: dict[str, float] = {
    "missing": 0.02,
    "coded_missing": 0.3,
    "breakoffs": 0.01,
    "straightliners": 0.02,
    "random": 0.02,
    "failed_attention": 0.02,
    "speeders": 0.02,
    "duplicates": 1,
}

#: Row kinds in the order they are assigned; "clean" rows are the rest.
KINDS: tuple[str, ...] = ("duplicates", "failed_attention", "speeders", "breakoffs",
                          "straightliners", "random")

#: The exclusion reason (as :data:`adoption.clean.REASON_ORDER` names it) each kind
#: should receive as its primary reason.
EXPECTED_REASON: dict[str, str] = {
    "duplicates": REASON_DUPLICATE_ID,
    "failed_attention": REASON_ATTENTION,
    "speeders": REASON_TOO_FAST,
    "breakoffs": REASON_TOO_MANY_MISSING,
    "straightliners": REASON_STRAIGHT_LINING,
    "random": REASON_OUTLIER,
}

#: The reasons a row of each kind may trip besides its own (the rules after it in the
#: order that its answers can also break).
ALLOWED_REASONS: dict[str, frozenset[str]] = {
    "clean": frozenset(),
    "duplicates": frozenset({REASON_DUPLICATE_ID, REASON_IDENTICAL}),
    "failed_attention": frozenset({REASON_ATTENTION}),
    "speeders": frozenset({REASON_TOO_FAST}),
    "breakoffs": frozenset({REASON_TOO_MANY_MISSING}),
    "straightliners": frozenset({REASON_STRAIGHT_LINING, REASON_LOW_VARIABILITY,
                                 REASON_OUTLIER}),
    "random": frozenset({REASON_OUTLIER}),
}

_MAX_REDRAWS = 200


@dataclass(frozen=True)
class Truth:
    """What :func:`simulate` injected, by 1-based data row of the export.

    Attributes
    ----------
    rows : kind -> data rows (sorted) holding that contamination, for every kind in
        :data:`KINDS` (empty tuple when none).
    expected_reason : kind -> the primary exclusion reason the cleaning stage should give.
    trips : data row -> every screening reason the row breaks, computed by the simulator
        with the spec's thresholds (reason names as in ``adoption.clean.REASON_ORDER``);
        rows breaking none are absent. Longstring skips missing answers (the stricter
        reading); the Mahalanobis distance uses the mean and covariance of the complete
        rows that break no other rule, each row measured on the items it answered.
    incidental : clean rows that are multivariate outliers by chance.
    clean_rows : rows with no contamination (they may hold scattered missing answers).
    missing_answers : item answers left unanswered in clean rows (blank or coded).
    coded_missing : missing code -> number of item answers written with it.
    duplicate_of : duplicated row -> the earlier row it copies.
    """

    rows: dict[str, tuple[int, ...]]
    expected_reason: dict[str, str]
    trips: dict[int, tuple[str, ...]]
    incidental: tuple[int, ...]
    clean_rows: tuple[int, ...]
    missing_answers: int
    coded_missing: dict[float, int]
    duplicate_of: dict[int, int]

    def expected_flow(self) -> dict[str, int]:
        """Primary exclusion reason -> expected number of rows (injected kinds plus
        incidental outliers)."""
        out: dict[str, int] = {}
        for k in KINDS:
            if self.rows[k]:
                reason = self.expected_reason[k]
                out[reason] = out.get(reason, 0) + len(self.rows[k])
        if self.incidental:
            out[REASON_OUTLIER] = out.get(REASON_OUTLIER, 0) + len(self.incidental)
        return out


@dataclass(frozen=True)
class SimulatedExport:
    """A simulated export and the record of what was injected.

    Attributes
    ----------
    data : the rows as exported, in file order (RangeIndex; data row = index + 1):
        the id column, PII columns, demographics (codes), items and attention checks in
        questionnaire order (answer codes as float, NaN for blank, the spec's missing
        codes where a coded non-answer was written), then the time column.
    truth : :class:`Truth`.
    n : respondents drawn (rows = n + duplicates).
    seed : the seed.
    column_labels : column -> variable label (item wording, group labels, PII names).
    value_labels : column -> {code: label} (scale labels for items and attention checks,
        group labels for demographics).
    latent_paths : endogenous construct -> {predictor: standardised coefficient}.
    residual_variances : endogenous construct -> residual variance (1 - R^2).
    """

    data: pd.DataFrame
    truth: Truth
    n: int
    seed: int
    column_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    latent_paths: dict[str, dict[str, float]] = field(default_factory=dict)
    residual_variances: dict[str, float] = field(default_factory=dict)


def _rates(survey: Survey) -> dict[str, float]:
    given = dict(survey.population.contamination) if survey.population else {}
    unknown = sorted(set(given) - set(CONTAMINATION_DEFAULTS))
    if unknown:
        raise InputError(f"population.contamination: unknown key(s) {', '.join(unknown)} "
                         f"(known: {', '.join(CONTAMINATION_DEFAULTS)}).")
    rates = {**CONTAMINATION_DEFAULTS, **given}
    for k, v in rates.items():
        if k != "duplicates" and not 0 <= v <= 1:
            raise InputError(f"population.contamination.{k} = {v}: must lie between 0 and 1.")
    return rates


# -- the simulator ---------------------------------------------------------------------

@dataclass(frozen=True)
class _RowDrawer:
    """Draws (and redraws) the answers of one row of a given kind, in place in ``X``."""

    rng: np.random.Generator
    model: PopulationModel
    max_missing_share: float | None
    at: int                    # items before the attention check

    def answers(self, m: int) -> np.ndarray:
        return self.model.answers(self.rng, m)

    def straightline(self, X: np.ndarray, i: int) -> None:
        keep = int(self.rng.integers(1, 6))
        X[i, :keep] = self.answers(1)[0, :keep]
        X[i, keep:] = self.rng.integers(self.model.mins.max(), self.model.maxs.min() + 1)

    def breakoff(self, X: np.ndarray, i: int) -> None:
        k_items = X.shape[1]
        share = self.max_missing_share or 0.5
        most = int(np.floor(k_items * (1 - share) - 1e-9))  # answered <= this breaks the rule
        most = min(most, k_items - 1)
        answered = int(self.rng.integers(min(self.at, most), most + 1))
        X[i] = self.answers(1)[0]
        X[i, answered:] = np.nan

    def random_row(self, X: np.ndarray, i: int) -> None:
        X[i] = self.rng.integers(self.model.mins, self.model.maxs + 1).astype(float)

    def redraw(self, X: np.ndarray, i: int, kind: str, missing: np.ndarray) -> None:
        """A new row of ``kind``; a row answered from the model keeps its missing cells."""
        careless = {"straightliners": self.straightline, "breakoffs": self.breakoff,
                    "random": self.random_row}
        if kind in careless:
            careless[kind](X, i)
        else:
            row = self.answers(1)[0]
            row[missing] = np.nan
            X[i] = row


def _counts(survey: Survey, rates: dict[str, float], n: int) -> tuple[dict[str, int], dict[str, str]]:
    """Rows per kind (0 for a kind whose rule the spec does not have) and the primary
    reason each kind should receive."""
    sc = survey.screening
    counts = {k: int(round(rates[k] * n)) for k in KINDS if k != "duplicates"}
    counts["duplicates"] = int(rates["duplicates"])
    if sc.longstring_max is None:
        counts["straightliners"] = 0
    if sc.min_seconds is None:
        counts["speeders"] = 0
    if not sc.attention_checks:
        counts["failed_attention"] = 0
    if sc.max_missing_share is None:
        counts["breakoffs"] = 0
    if sc.mahalanobis_p is None:
        counts["random"] = 0
    expected = dict(EXPECTED_REASON)
    if not (survey.id and sc.duplicate_ids):
        expected["duplicates"] = REASON_IDENTICAL
        if not sc.duplicate_rows:
            counts["duplicates"] = 0
    if sum(v for k, v in counts.items() if k != "duplicates") + counts["duplicates"] > n // 2:
        raise InputError(f"--n {n} is too small for the contamination asked for "
                         f"({counts}); simulate more respondents.")
    return counts, expected


def _assign_kinds(rng: np.random.Generator, n: int, counts: dict[str, int]) -> np.ndarray:
    kind = np.array(["clean"] * n, dtype=object)
    perm = rng.permutation(n)
    pos = 0
    for k in KINDS:
        if k == "duplicates":
            continue
        kind[perm[pos:pos + counts[k]]] = k
        pos += counts[k]
    return kind


def _attention_answers(rng: np.random.Generator, survey: Survey, kind: np.ndarray) -> np.ndarray:
    """Answers to the attention checks: correct, except the first check of the
    ``failed_attention`` rows."""
    checks = survey.screening.attention_checks
    n = len(kind)
    A = np.empty((n, len(checks)))
    for j, a in enumerate(checks):
        A[:, j] = rng.choice(np.asarray(a.correct, float), n)
    fail = np.flatnonzero(kind == "failed_attention")
    if len(fail):
        wrong = [p for p in survey.scale.points if p not in checks[0].correct]
        A[fail, 0] = rng.choice(np.asarray(wrong, float), len(fail))
    return A


def _completion_times(rng: np.random.Generator, sc, kind: np.ndarray) -> np.ndarray:
    """Seconds: clean answers take minutes; careless rows are not speeding; speeders
    take well under ``min_seconds``."""
    n = len(kind)
    floor = (sc.min_seconds or 0) * 1.25
    secs = np.maximum(np.round(rng.lognormal(np.log(max(420.0, 3 * floor)), 0.35, n)),
                      np.ceil(floor) + rng.integers(0, 60, n))
    for k in ("straightliners", "random"):
        idx = np.flatnonzero(kind == k)
        secs[idx] = np.ceil(floor) + rng.integers(5, 120, len(idx))
    spd = np.flatnonzero(kind == "speeders")
    if len(spd):
        secs[spd] = np.round(rng.uniform(0.2, 0.7, len(spd)) * sc.min_seconds)
    return secs


def _file_order(rng: np.random.Generator, n: int, clean_idx: np.ndarray, n_dup: int) -> list[int]:
    """Respondents in file order, each duplicate (``-1 - s``, a copy of clean
    respondent ``s``) inserted some rows after its original."""
    dup_src = rng.choice(clean_idx, size=n_dup, replace=False) if n_dup else []
    rows = list(range(n))
    for s in dup_src:
        rows.insert(min(len(rows), rows.index(s) + int(rng.integers(1, 40))), -1 - int(s))
    return rows


def _redraw_until_exact(drawer: _RowDrawer, X: np.ndarray, kind: np.ndarray,
                        kinds_in_file: np.ndarray, src: np.ndarray, rules: dict,
                        survey: Survey, expected: dict[str, str],
                        missing: np.ndarray) -> list[set[str]]:
    """Redraw rows until each breaks exactly its own rule (clean rows: none but,
    by chance, the outlier rule); the reasons each file row breaks.

    ``rules`` holds the other columns the rules read, by respondent: ``attn_ok``,
    ``seconds``, ``ids`` (file order, or None) and ``other`` (file order)."""
    for _ in range(_MAX_REDRAWS):
        Xf = X[src]
        args = (Xf, rules["attn_ok"][src], rules["seconds"][src], rules["ids"], rules["other"],
                survey)
        tr_hi = rule_trips(*args, ddof_irv=1)
        tr_lo = rule_trips(*args, ddof_irv=0)
        bad = set()
        for r, k in enumerate(kinds_in_file):
            if k == "duplicates":
                continue
            i = src[r]
            if tr_hi[r] != tr_lo[r]:          # variability too close to irv_min to be sure
                bad.add(i)
            t = tr_hi[r] - {REASON_OUTLIER} if k == "clean" else tr_hi[r]
            if not t <= ALLOWED_REASONS[k] or (k != "clean" and expected[k] not in t):
                bad.add(i)
        if not bad:
            return tr_hi
        for i in sorted(bad):
            drawer.redraw(X, i, kind[i], missing[i])
    raise InputError("could not draw careless rows that break exactly their screening rule "
                     "with this spec's thresholds; loosen the thresholds or the rates.")


def _coded_missing(rng: np.random.Generator, codes: tuple, missing: np.ndarray,
                   share: float) -> tuple[np.ndarray, dict[float, int]]:
    """A share of the clean rows' missing answers written as one of the missing codes."""
    coded = np.full(missing.shape, np.nan)
    counts: dict[float, int] = {c: 0 for c in codes}
    if codes:
        cells = np.argwhere(missing)
        pick = rng.random(len(cells)) < share
        which = rng.integers(0, len(codes), len(cells))
        for (i, j), p, w in zip(cells, pick, which):
            if p:
                coded[i, j] = codes[w]
                counts[codes[w]] += 1
    return coded, counts


def _truth(kinds_in_file: np.ndarray, file_order: list[int], src: np.ndarray,
           trips: list[set[str]], expected: dict[str, str], missing: np.ndarray,
           coded_counts: dict[float, int]) -> Truth:
    rows_of = {k: tuple(int(r) + 1 for r in np.flatnonzero(kinds_in_file == k)) for k in KINDS}
    dup_of = {int(r) + 1: int(file_order.index(src[r])) + 1
              for r in np.flatnonzero(kinds_in_file == "duplicates")}
    clean_rows = tuple(int(r) + 1 for r in np.flatnonzero(kinds_in_file == "clean"))
    return Truth(
        rows=rows_of,
        expected_reason=expected,
        trips={r + 1: tuple(sorted(t)) for r, t in enumerate(trips) if t},
        incidental=tuple(r for r in clean_rows if REASON_OUTLIER in trips[r - 1]),
        clean_rows=clean_rows,
        missing_answers=int(missing.sum()),
        coded_missing=coded_counts,
        duplicate_of=dup_of,
    )


def simulate(survey: Survey, n: int, seed: int) -> SimulatedExport:
    """Draw ``n`` respondents from the spec's population model and contaminate some.

    Parameters
    ----------
    survey : Survey
        A spec with a ``population`` section (paths with standardised coefficients,
        loadings, thresholds, contamination rates, demographic shares). Without
        ``population.paths`` the spec's ``structural`` model is used with 0.2 per path.
    n : int
        Respondents drawn (distinct submissions). Each contamination kind replaces
        ``round(rate * n)`` of them; ``duplicates`` adds that many extra rows, so the
        export has ``n + duplicates`` rows.
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same (spec, n, seed) always gives
        the same export.

    Returns
    -------
    SimulatedExport
        ``data`` (the export as a DataFrame, codes not labels), ``truth`` (rows per
        contamination kind, the rules each row breaks), labels and the population model.

    Raises
    ------
    InputError
        No population section or paths, a non-recursive or too-strong path model,
        thresholds that do not fit the scale, a loading outside (0, 1), unknown
        contamination keys, or ``n`` too small for the contamination asked for.

    Examples
    --------
    >>> from adoption.spec import load_spec
    >>> sim = simulate(load_spec("surveys/ai_mental_health"), n=600, seed=20260101)
    >>> sim.truth.expected_flow()["too fast"]
    12
    """
    if survey.population is None:
        raise InputError("the spec has no 'population' section; add one (paths, loadings, "
                         "thresholds) to simulate data.")
    if n < 10:
        raise InputError(f"--n {n}: simulate at least 10 respondents.")
    rng = np.random.default_rng(seed)
    rates = _rates(survey)
    sc = survey.screening
    model = population_model(survey)
    drawer = _RowDrawer(rng, model, sc.max_missing_share, max(1, len(survey.items) // 5))
    counts, expected = _counts(survey, rates, n)
    kind = _assign_kinds(rng, n, counts)
    X = drawer.answers(n)
    A = _attention_answers(rng, survey, kind)
    secs = _completion_times(rng, sc, kind)
    for k, draw in (("straightliners", drawer.straightline), ("breakoffs", drawer.breakoff),
                    ("random", drawer.random_row)):
        for i in np.flatnonzero(kind == k):
            draw(X, i)
    # scattered missing answers, clean rows only
    clean_idx = np.flatnonzero(kind == "clean")
    missing = np.zeros_like(X, bool)
    missing[clean_idx] = rng.random((len(clean_idx), X.shape[1])) < rates["missing"]
    X[missing] = np.nan
    file_order = _file_order(rng, n, clean_idx, counts["duplicates"])
    src = np.array([r if r >= 0 else -1 - r for r in file_order])
    demo = demographics(rng, survey, n)
    attn_cols = [a.column for a in sc.attention_checks]
    rules = {   # what the screening compares for identical submissions (PII is dropped on load)
        "other": pd.DataFrame({**demo, **{c: A[:, j] for j, c in enumerate(attn_cols)}}).iloc[src],
        "attn_ok": np.array([all(A[i, j] in sc.attention_checks[j].correct
                                 for j in range(len(attn_cols))) for i in range(n)]),
        "seconds": secs, "ids": np.arange(1, n + 1)[src] if survey.id else None,
    }
    kinds_in_file = np.array(["duplicates" if r < 0 else kind[r] for r in file_order], dtype=object)
    trips = _redraw_until_exact(drawer, X, kind, kinds_in_file, src, rules, survey, expected,
                                missing)
    coded, coded_counts = _coded_missing(rng, tuple(survey.missing.codes), missing,
                                         rates["coded_missing"])
    respondents = export_frame(rng, survey, n, demo, np.where(np.isnan(coded), X, coded), A,
                                secs)
    labels, vlabels = column_labels(survey)
    return SimulatedExport(data=respondents.iloc[src].reset_index(drop=True),
                           truth=_truth(kinds_in_file, file_order, src, trips, expected,
                                        missing, coded_counts),
                           n=n, seed=seed, column_labels=labels, value_labels=vlabels,
                           latent_paths=model.paths, residual_variances=model.psi)
