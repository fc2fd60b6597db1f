"""Simulated survey exports: Survey (with a ``population`` section) -> :class:`SimulatedExport`.

Not a pipeline stage: a test bench. :func:`simulate` draws respondents from the spec's
population model and contaminates some of them the way real exports are contaminated
(careless rows, a duplicated submission, missing answers, PII); :func:`write_export`
writes the result as an SPSS, CSV (Google Forms style) or Excel file. The truth record
says which data rows received which contamination, so the cleaning stage's flow table can
be compared with what was injected.

The data-generating model
-------------------------
Constructs never on the left of a path are exogenous: standard normal, pairwise
correlated at ``population.exogenous_correlation``. Each endogenous construct is the
weighted sum of its predictors (standardised paths) plus a residual whose variance is
``1 - b' S b`` (``S`` the model-implied covariance of the predictors), so every latent
variable has variance 1 and the paths are the standardised coefficients. An item is
``y = l * eta + sqrt(1 - l^2) * e``, cut into the scale's categories at
``population.thresholds``; a reverse-keyed item is flipped (``-y``) before cutting, so
the export holds it as the respondent answered it.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from adoption.errors import InputError
from adoption.sem.syntax import parse_model
from adoption.spec import Survey
from adoption.vocabulary import OP_REGRESSION

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
    "duplicates": "duplicate id",
    "failed_attention": "failed attention check",
    "speeders": "too fast",
    "breakoffs": "too many missing answers",
    "straightliners": "straight-lining",
    "random": "multivariate outlier",
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
            out["multivariate outlier"] = out.get("multivariate outlier", 0) + len(self.incidental)
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


# -- the population model ------------------------------------------------------------

def parse_paths(syntax: str, *, default: float = 0.2, where: str = "population.paths") -> dict[str, dict[str, float]]:
    """Regressions with numeric multipliers, ``"Y ~ 0.3*X1 + -0.1*X2"`` -> ``{Y: {X1: .3, X2: -.1}}``.

    Read by the one lavaan parser (:func:`adoption.sem.syntax.parse_model`); a term
    without a fixed value gets ``default``. Lines other than regressions (``=~``, ``~~``,
    ``:=``, ``~ 1``) are skipped. As in lavaan, a negative value is written ``+ -0.1*X``
    (``a - 0.1*X`` is refused, naming the line).
    """
    out: dict[str, dict[str, float]] = {}
    for f in parse_model(syntax, where=where).of(OP_REGRESSION):
        if f.interaction:
            raise InputError(f"{where}, line {f.line}: the interaction term '{f.rhs}' is not "
                             "supported by the simulator.")
        value = f.in_group("fixed")
        out.setdefault(f.lhs, {})[f.rhs] = default if value is None else float(value)
    return out


def implied_covariance(constructs: list[str], paths: dict[str, dict[str, float]],
                       exo_corr: float) -> tuple[np.ndarray, list[str], dict[str, float]]:
    """Model-implied latent covariance of a recursive standardised path model.

    Returns the covariance matrix (in the order of the returned construct list:
    exogenous first, then endogenous in causal order) and the residual variances
    ``psi_j = 1 - b_j' S_jj b_j`` that give every latent variable variance 1.
    """
    exo = [c for c in constructs if c not in paths]
    order = list(exo)
    pending = [c for c in constructs if c in paths]
    while pending:
        ready = [c for c in pending if all(p in order for p in paths[c])]
        if not ready:
            raise InputError("population.paths: the structural model is not recursive "
                             f"(a loop among {', '.join(pending)}); the simulator needs one.")
        order += ready
        pending = [c for c in pending if c not in ready]
    k = len(order)
    idx = {c: i for i, c in enumerate(order)}
    S = np.eye(k)
    ne = len(exo)
    S[:ne, :ne] = exo_corr
    np.fill_diagonal(S, 1.0)
    psi = {}
    for c in order[ne:]:
        j = idx[c]
        pi = [idx[p] for p in paths[c]]
        b = np.array(list(paths[c].values()))
        explained = float(b @ S[np.ix_(pi, pi)] @ b)
        if explained >= 1:
            raise InputError(f"population.paths: the paths into {c} explain {explained:.2f} of "
                             "its variance (must be < 1). Use smaller standardised coefficients.")
        cov = b @ S[pi, :j]
        S[j, :j] = cov
        S[:j, j] = cov
        psi[c] = 1 - explained
    return S, order, psi


def _draw_latent(rng, n, S, order, paths, psi) -> dict[str, np.ndarray]:
    exo = [c for c in order if c not in paths]
    ne = len(exo)
    z = rng.multivariate_normal(np.zeros(ne), S[:ne, :ne], size=n, method="cholesky")
    eta = {c: z[:, i] for i, c in enumerate(exo)}
    for c in order[ne:]:
        eta[c] = sum(b * eta[p] for p, b in paths[c].items()) + rng.normal(0, np.sqrt(psi[c]), n)
    return eta


# -- reference screening statistics (what the truth record is computed with) ---------

def _longstring(X: np.ndarray) -> np.ndarray:
    """Longest run of equal answers per row, missing answers skipped (the stricter
    reading: ``1, NaN, 1`` is a run of 2)."""
    X = np.asarray(X, float)
    order = np.argsort(np.isnan(X), axis=1, kind="stable")   # answered first, in order
    x = np.take_along_axis(X, order, axis=1)
    n, p = x.shape
    best = np.where(np.isnan(x[:, 0]), 0, 1) if p else np.zeros(n, int)
    run = best.copy()
    for j in range(1, p):
        run = np.where(np.isnan(x[:, j]), 0, np.where(x[:, j] == x[:, j - 1], run + 1, 1))
        best = np.maximum(best, run)
    return best


def _irv(X: np.ndarray, ddof: int) -> np.ndarray:
    """SD of each row's answered items (NaN with too few answers)."""
    X = np.asarray(X, float)
    k = (~np.isnan(X)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.nansum(X, axis=1) / k
        ss = np.nansum((X - m[:, None]) ** 2, axis=1)
        return np.where(k > ddof, np.sqrt(ss / (k - ddof)), np.nan)


def _mahalanobis_outliers(X: np.ndarray, reference: np.ndarray, p_cut: float) -> np.ndarray:
    """Boolean per row: squared Mahalanobis distance with chi-square p < p_cut.

    Mean and covariance come from the complete rows among ``reference`` (a boolean mask:
    the rows that break no other rule); a row with missing answers is measured on the
    items it answered (sub-vector, sub-matrix, df = answered items).
    """
    ref = X[reference & ~np.isnan(X).any(axis=1)]
    out = np.zeros(len(X), bool)
    if len(ref) <= X.shape[1]:
        return out
    mu = ref.mean(axis=0)
    cov = np.cov(ref, rowvar=False)
    by_pattern: dict[bytes, list[int]] = {}
    obs = ~np.isnan(X)
    for i in range(len(X)):
        by_pattern.setdefault(obs[i].tobytes(), []).append(i)
    for rows in by_pattern.values():
        pat = obs[rows[0]]
        if not pat.any():
            continue
        d = X[np.ix_(rows, np.flatnonzero(pat))] - mu[pat]
        d2 = np.einsum("ij,jk,ik->i", d, np.linalg.pinv(cov[np.ix_(pat, pat)]), d)
        out[rows] = stats.chi2.sf(d2, int(pat.sum())) < p_cut
    return out


def _trips(X, attn_ok, seconds, ids, other, survey: Survey, *, ddof_irv: int = 1) -> list[set[str]]:
    """The screening reasons each row breaks (the simulator's own computation of the
    spec's rules; ``other`` holds the non-item columns compared for identical rows)."""
    sc = survey.screening
    n = len(X)
    flags: list[tuple[str, np.ndarray]] = []
    if ids is not None and sc.duplicate_ids:
        flags.append(("duplicate id", pd.Series(ids).duplicated().to_numpy()))
    if sc.duplicate_rows:
        both = pd.concat([pd.DataFrame(X).fillna(-1e9), other.reset_index(drop=True)], axis=1)
        flags.append(("identical submission", both.duplicated().to_numpy()))
    flags.append(("failed attention check", ~np.asarray(attn_ok, bool)))
    if sc.min_seconds is not None:
        flags.append(("too fast", np.asarray(seconds) < sc.min_seconds))
    if sc.max_missing_share is not None:
        flags.append(("too many missing answers", np.isnan(X).mean(axis=1) > sc.max_missing_share))
    if sc.longstring_max is not None:
        flags.append(("straight-lining", _longstring(X) > sc.longstring_max))
    if sc.irv_min is not None:
        with np.errstate(invalid="ignore"):
            flags.append(("low response variability", _irv(X, ddof_irv) < sc.irv_min))
    out: list[set[str]] = [set() for _ in range(n)]
    for reason, mask in flags:
        for i in np.flatnonzero(mask):
            out[i].add(reason)
    if sc.mahalanobis_p is not None:
        reference = np.array([not t for t in out])
        for i in np.flatnonzero(_mahalanobis_outliers(X, reference, sc.mahalanobis_p)):
            out[i].add("multivariate outlier")
    return out


# -- helpers ---------------------------------------------------------------------------

_FIRST = ["Maria", "Jose", "Juan", "Angelica", "Mark", "Kristine", "John Paul", "Mary Joy",
          "Christian", "Jasmine", "Paolo", "Nicole", "Miguel", "Patricia", "Carlo", "Andrea",
          "Joshua", "Camille", "Rafael", "Bea", "Gabriel", "Kimberly", "Francis", "Trisha",
          "Renz", "Jericho", "Althea", "Lance", "Princess", "Aldrin"]
_LAST = ["Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Torres",
         "Tomas", "Andrada", "Castillo", "Flores", "Villanueva", "Ramos", "Castro", "Rivera",
         "Aquino", "Navarro", "Salazar", "Mercado", "Dela Cruz", "De Leon", "Gonzales",
         "Lopez", "Manalo", "Pascual", "Soriano", "Valdez", "Domingo", "Fernandez"]


def _pii_column(name: str, rng, n: int, first: np.ndarray, last: np.ndarray) -> list[str]:
    low = name.lower()
    if "mail" in low:
        return [f"{f.lower().replace(' ', '')}.{l.lower().replace(' ', '')}{int(d)}@{dom}"
                for f, l, d, dom in zip(first, last, rng.integers(1, 99, n),
                                        rng.choice(["gmail.com", "yahoo.com", "up.edu.ph",
                                                    "student.example.edu.ph"], n))]
    if "name" in low:
        return [f"{f} {l}" for f, l in zip(first, last)]
    if any(t in low for t in ("no", "num", "id", "phone")):
        year = rng.integers(2019, 2026, n)
        return [f"{y}{int(r):06d}" for y, r in zip(year, rng.integers(0, 1_000_000, n))]
    return [f"{f[0]}{l[0]}-{int(r):04d}" for f, l, r in zip(first, last, rng.integers(0, 10_000, n))]


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


def _layout(survey: Survey) -> list[str]:
    """Items and attention checks in questionnaire order: each attention check is placed
    after the first fifth of the items (so break-offs have answered it)."""
    items = survey.items
    attn = [a.column for a in survey.screening.attention_checks]
    at = max(1, len(items) // 5)
    return items[:at] + attn + items[at:]


@dataclass(frozen=True)
class PopulationModel:
    """The population model, checked: latent covariance, loadings, cut points."""

    items: tuple[str, ...]
    construct_of: tuple[str, ...]
    paths: dict[str, dict[str, float]]
    S: np.ndarray
    order: list[str]
    psi: dict[str, float]
    loadings: np.ndarray
    sign: np.ndarray          # -1 for items written the other way (reverse-keyed, descending scale)
    thresholds: np.ndarray
    mins: np.ndarray
    maxs: np.ndarray

    def answers(self, rng: np.random.Generator, m: int) -> np.ndarray:
        """``m`` respondents' answers (codes, items in questionnaire order)."""
        eta = _draw_latent(rng, m, self.S, self.order, self.paths, self.psi)
        X = np.empty((m, len(self.items)))
        for j, c in enumerate(self.construct_of):
            lam = self.loadings[j]
            y = lam * eta[c] + np.sqrt(1 - lam ** 2) * rng.standard_normal(m)
            X[:, j] = np.digitize(self.sign[j] * y, self.thresholds) + self.mins[j]
        return X


def population_model(survey: Survey) -> PopulationModel:
    """Read and check the spec's population section (raises InputError naming the key)."""
    pop = survey.population
    items = survey.items
    paths = parse_paths(pop.paths) if pop.paths.strip() else parse_paths(survey.structural,
                                                                         where="structural")
    if not paths:
        raise InputError("population.paths is empty and the spec has no structural model.")
    for lhs, preds in paths.items():
        for c in [lhs, *preds]:
            if c not in survey.constructs:
                raise InputError(f"population.paths names '{c}', which is not a construct.")
    S, order, psi = implied_covariance(list(survey.constructs), paths, pop.exogenous_correlation)
    thr = np.asarray(pop.thresholds, float)
    loadings = []
    for it in items:
        sc = survey.scale_of(it)
        if len(thr) != sc.max - sc.min:
            raise InputError(f"population.thresholds has {len(thr)} cut points; item {it}'s "
                             f"scale {sc.min}..{sc.max} needs {sc.max - sc.min}.")
        lam = pop.loadings.get(it, pop.loadings.get("default", 0.75))
        if not 0 < lam < 1:
            raise InputError(f"population.loadings.{it} = {lam}: must lie between 0 and 1.")
        loadings.append(lam)
    reverse = {r for c in survey.constructs.values() for r in c.reverse}
    return PopulationModel(
        items=tuple(items), construct_of=tuple(survey.construct_of(it) for it in items),
        paths=paths, S=S, order=order, psi=psi, loadings=np.array(loadings, float),
        # a reverse-keyed item, or a scale the file codes descending (1 = Strongly
        # agree), is written the other way round; an item that is both, as is
        sign=np.array([(-1.0 if it in reverse else 1.0)
                       * (-1.0 if survey.scale_of(it).descending else 1.0) for it in items]),
        thresholds=thr,
        mins=np.array([survey.scale_of(it).min for it in items], float),
        maxs=np.array([survey.scale_of(it).max for it in items], float))


# -- the simulator ---------------------------------------------------------------------

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
    pop = survey.population
    if n < 10:
        raise InputError(f"--n {n}: simulate at least 10 respondents.")
    rng = np.random.default_rng(seed)
    rates = _rates(survey)
    sc = survey.screening
    items = survey.items

    model = population_model(survey)
    model_answers = lambda m: model.answers(rng, m)  # noqa: E731
    mins, maxs = model.mins, model.maxs

    # who gets what
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
        expected["duplicates"] = "identical submission"
        if not sc.duplicate_rows:
            counts["duplicates"] = 0
    if sum(v for k, v in counts.items() if k != "duplicates") + counts["duplicates"] > n // 2:
        raise InputError(f"--n {n} is too small for the contamination asked for "
                         f"({counts}); simulate more respondents.")
    kind = np.array(["clean"] * n, dtype=object)
    perm = rng.permutation(n)
    pos = 0
    for k in KINDS:
        if k == "duplicates":
            continue
        kind[perm[pos:pos + counts[k]]] = k
        pos += counts[k]

    X = model_answers(n)
    attn_cols = [a.column for a in sc.attention_checks]
    A = np.empty((n, len(attn_cols)))
    for j, a in enumerate(sc.attention_checks):
        A[:, j] = rng.choice(np.asarray(a.correct, float), n)
    fail = np.flatnonzero(kind == "failed_attention")
    if len(fail):
        a = sc.attention_checks[0]
        wrong = [p for p in survey.scale.points if p not in a.correct]
        A[fail, 0] = rng.choice(np.asarray(wrong, float), len(fail))

    # completion times: clean answers take minutes; speeders well under min_seconds
    floor = (sc.min_seconds or 0) * 1.25
    secs = np.maximum(np.round(rng.lognormal(np.log(max(420.0, 3 * floor)), 0.35, n)),
                      np.ceil(floor) + rng.integers(0, 60, n))
    for k in ("straightliners", "random"):   # careless but not speeding
        idx = np.flatnonzero(kind == k)
        secs[idx] = np.ceil(floor) + rng.integers(5, 120, len(idx))
    spd = np.flatnonzero(kind == "speeders")
    if len(spd):
        secs[spd] = np.round(rng.uniform(0.2, 0.7, len(spd)) * sc.min_seconds)

    lo, hi = mins, maxs
    k_items = len(items)
    at = max(1, k_items // 5)

    def straightline(i: int) -> None:
        keep = int(rng.integers(1, 6))
        X[i, :keep] = model_answers(1)[0, :keep]
        X[i, keep:] = rng.integers(lo.max(), hi.min() + 1)

    def breakoff(i: int) -> None:
        share = sc.max_missing_share or 0.5
        most = int(np.floor(k_items * (1 - share) - 1e-9))  # answered <= this breaks the rule
        most = min(most, k_items - 1)
        answered = int(rng.integers(min(at, most), most + 1))
        X[i] = model_answers(1)[0]
        X[i, answered:] = np.nan

    def random_row(i: int) -> None:
        X[i] = rng.integers(lo, hi + 1).astype(float)

    for i in np.flatnonzero(kind == "straightliners"):
        straightline(i)
    for i in np.flatnonzero(kind == "breakoffs"):
        breakoff(i)
    for i in np.flatnonzero(kind == "random"):
        random_row(i)

    # scattered missing answers, clean rows only
    clean_idx = np.flatnonzero(kind == "clean")
    miss_mask = np.zeros_like(X, bool)
    miss_mask[clean_idx] = rng.random((len(clean_idx), k_items)) < rates["missing"]
    X[miss_mask] = np.nan

    # duplicates: copies of clean rows, inserted some rows after their original
    dup_src = rng.choice(clean_idx, size=counts["duplicates"], replace=False) if counts["duplicates"] else []

    def assemble_order() -> list[int]:
        rows = list(range(n))
        for s in dup_src:
            rows.insert(min(len(rows), rows.index(s) + int(rng.integers(1, 40))), -1 - int(s))
        return rows

    file_order = assemble_order()   # -1 - s marks the copy of respondent s
    src = np.array([r if r >= 0 else -1 - r for r in file_order])
    ids = np.arange(1, n + 1)
    file_ids = ids[src] if survey.id else None

    def allowed(k: str) -> set[str]:
        return {
            "clean": set(),
            "duplicates": {"duplicate id", "identical submission"},
            "failed_attention": {"failed attention check"},
            "speeders": {"too fast"},
            "breakoffs": {"too many missing answers"},
            "straightliners": {"straight-lining", "low response variability",
                               "multivariate outlier"},
            "random": {"multivariate outlier"},
        }[k]

    demo_cols = list(dict.fromkeys([*survey.demographics, *survey.group_columns]))
    group_labels = {g.column: g for g in survey.groups}
    demo: dict[str, np.ndarray] = {}
    for d in demo_cols:
        shares = pop.demographics.get(d)
        if shares:
            codes_d = [int(c) if str(c).lstrip("-").isdigit() else c for c in shares]
            prob = np.array(list(shares.values()), float)
            demo[d] = rng.choice(np.array(codes_d, dtype=object), n, p=prob / prob.sum())
        elif d in group_labels and group_labels[d].labels:
            demo[d] = rng.choice(np.array(list(group_labels[d].labels), dtype=object), n)
        else:
            raise InputError(f"population.demographics has no shares for '{d}' and the spec "
                             "gives no labels for it; add 'population.demographics."
                             f"{d}: {{1: 0.5, 2: 0.5}}'.")
    # what the screening compares for identical submissions (PII is dropped on load)
    other = pd.DataFrame({**demo, **{c: A[:, j] for j, c in enumerate(attn_cols)}}).iloc[src]
    kinds_in_file = np.array(["duplicates" if r < 0 else kind[r] for r in file_order], dtype=object)
    attn_ok_all = np.array([all(A[i, j] in sc.attention_checks[j].correct
                                for j in range(len(attn_cols))) for i in range(n)])

    for _ in range(_MAX_REDRAWS):
        Xf = X[src]
        tr_hi = _trips(Xf, attn_ok_all[src], secs[src], file_ids, other, survey, ddof_irv=1)
        tr_lo = _trips(Xf, attn_ok_all[src], secs[src], file_ids, other, survey, ddof_irv=0)
        bad = set()
        for r, k in enumerate(kinds_in_file):
            if k == "duplicates":
                continue
            i = src[r]
            if tr_hi[r] != tr_lo[r]:          # variability too close to irv_min to be sure
                bad.add(i)
            t = tr_hi[r] - {"multivariate outlier"} if k == "clean" else tr_hi[r]
            if not t <= allowed(k) or (k != "clean" and expected[k] not in t):
                bad.add(i)
        if not bad:
            break
        for i in sorted(bad):
            k = kind[i]
            if k == "straightliners":
                straightline(i)
            elif k == "breakoffs":
                breakoff(i)
            elif k == "random":
                random_row(i)
            else:
                row = model_answers(1)[0]
                row[miss_mask[i]] = np.nan
                X[i] = row
    else:  # pragma: no cover - depends on extreme specs
        raise InputError("could not draw careless rows that break exactly their screening rule "
                         "with this spec's thresholds; loosen the thresholds or the rates.")
    trips = tr_hi

    # missing codes: a share of the clean rows' missing answers written as a code
    codes = tuple(survey.missing.codes)
    coded = np.full(X.shape, np.nan)
    coded_counts: dict[float, int] = {c: 0 for c in codes}
    if codes:
        cells = np.argwhere(miss_mask)
        pick = rng.random(len(cells)) < rates["coded_missing"]
        which = rng.integers(0, len(codes), len(cells))
        for (i, j), p, w in zip(cells, pick, which):
            if p:
                coded[i, j] = codes[w]
                coded_counts[codes[w]] += 1

    # assemble the export
    first = rng.choice(_FIRST, n)
    last = rng.choice(_LAST, n)
    cols: dict[str, object] = {}
    if survey.id:
        cols[survey.id] = ids
    for p in survey.pii:
        cols[p] = _pii_column(p, rng, n, first, last)
    cols.update(demo)
    layout = _layout(survey)
    Xout = np.where(np.isnan(coded), X, coded)
    for c in layout:
        if c in items:
            cols[c] = Xout[:, items.index(c)]
        else:
            cols[c] = A[:, attn_cols.index(c)]
    if sc.time_column:
        cols[sc.time_column] = secs.astype("int64")
    respondents = pd.DataFrame(cols)
    for d in demo_cols:
        if all(isinstance(v, (int, np.integer)) for v in respondents[d]):
            respondents[d] = respondents[d].astype("int64")
    data = respondents.iloc[src].reset_index(drop=True)

    rows_of = {k: tuple(int(r) + 1 for r in np.flatnonzero(kinds_in_file == k)) for k in KINDS}
    dup_of = {int(r) + 1: int(file_order.index(src[r])) + 1
              for r in np.flatnonzero(kinds_in_file == "duplicates")}
    clean_rows = tuple(int(r) + 1 for r in np.flatnonzero(kinds_in_file == "clean"))
    incidental = tuple(r for r in clean_rows if "multivariate outlier" in trips[r - 1])
    truth = Truth(
        rows=rows_of,
        expected_reason=expected,
        trips={r + 1: tuple(sorted(t)) for r, t in enumerate(trips) if t},
        incidental=incidental,
        clean_rows=clean_rows,
        missing_answers=int(miss_mask.sum()),
        coded_missing=coded_counts,
        duplicate_of=dup_of,
    )

    labels = {**{it: survey.constructs[survey.construct_of(it)].items[it] for it in items}}
    extra = (pop.model_extra or {}).get("column_labels", {}) or {}
    labels.update({str(k): str(v) for k, v in extra.items()})
    for d in demo_cols:
        if d in group_labels and group_labels[d].label:
            labels.setdefault(d, group_labels[d].label)
    if survey.id:
        labels.setdefault(survey.id, "Respondent id")
    for p in survey.pii:
        labels.setdefault(p, p.replace("_", " ").capitalize())
    vlabels: dict[str, dict[float, str]] = {}
    for c in layout:
        s = survey.scale_of(c) if c in items else survey.scale
        if s.labels:
            vlabels[c] = {float(k): v for k, v in s.labels.items()}
    for d in demo_cols:
        if d in group_labels and group_labels[d].labels:
            vlabels[d] = {(float(k) if isinstance(k, int) else k): v
                          for k, v in group_labels[d].labels.items()}
    return SimulatedExport(data=data, truth=truth, n=n, seed=seed, column_labels=labels,
                           value_labels=vlabels, latent_paths=model.paths,
                           residual_variances=model.psi)


# -- writing ---------------------------------------------------------------------------

_MISSING_LABELS = {99: "No answer", -9: "Not shown / skipped"}


def _google_timestamps(sim: SimulatedExport, rng: np.random.Generator) -> list[str]:
    """Submission times as Google Forms writes them (``2026/03/02 8:15:42 AM GMT+8``),
    increasing down the file; a duplicated submission carries its original's time."""
    gaps = rng.exponential(20 * 60, len(sim.data)).round()
    t = pd.Timestamp("2026-03-02 08:00:00") + pd.to_timedelta(np.cumsum(gaps), unit="s")
    stamps = [f"{x:%Y/%m/%d} {x.hour % 12 or 12}:{x:%M:%S} {'AM' if x.hour < 12 else 'PM'} GMT+8"
              for x in t]
    for dup, orig in sim.truth.duplicate_of.items():
        stamps[dup - 1] = stamps[orig - 1]
    return stamps


def write_export(sim: SimulatedExport, survey: Survey, path: str | Path) -> Path:
    """Write a simulated export in the format its extension names.

    Parameters
    ----------
    sim : SimulatedExport
        From :func:`simulate`.
    survey : Survey
        The spec it was simulated from (missing codes, items).
    path : str or Path
        ``.sav``: SPSS, numeric answer codes with value labels (the scale's and the
        groups'), variable labels (item wording), the spec's missing codes declared as
        user-missing values (written where a coded non-answer was given).
        ``.csv``: as Google Forms writes it: a ``Timestamp`` first column, the item
        columns headed by their wording (the question text), answers as label text
        ("Strongly agree"), demographics as label text, about 1 % of answer labels with
        odd case or spacing, non-answers blank (Google Forms has no missing codes),
        UTF-8. Other columns keep the spec's names.
        ``.xlsx``: one sheet ``responses``, numeric codes as in the .sav (missing codes
        included), no labels.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        An extension other than .sav, .csv or .xlsx.
    """
    p = Path(path)
    ext = p.suffix.lower()
    df = sim.data
    codes = tuple(survey.missing.codes)
    answer_cols = [c for c in df.columns if c in set(survey.items)
                   or c in {a.column for a in survey.screening.attention_checks}]
    if ext == ".sav":
        import pyreadstat

        vlabels = {}
        for c, lab in sim.value_labels.items():
            lab = dict(lab)
            if c in answer_cols:
                lab.update({float(k): v for k, v in _MISSING_LABELS.items() if k in codes})
            vlabels[c] = lab
        missing_ranges = {c: [float(x) for x in codes] for c in answer_cols} if codes else None
        out = df.copy()
        for c in survey.pii:
            if c in out:
                out[c] = out[c].astype(str)
        pyreadstat.write_sav(out, str(p), column_labels={c: sim.column_labels.get(c, "") for c in out.columns},
                             variable_value_labels=vlabels, missing_ranges=missing_ranges,
                             variable_measure={c: "ordinal" for c in answer_cols})
    elif ext == ".csv":
        rng = np.random.default_rng(sim.seed + 1)
        out = df.copy().astype(object)
        for c in out.columns:
            lab = sim.value_labels.get(c)
            if not lab:
                continue
            vals = []
            for v in df[c]:
                if isinstance(v, (float, np.floating)) and (np.isnan(v) or v in codes):
                    vals.append("")
                    continue
                text = lab.get(float(v) if not isinstance(v, str) else v, str(v))
                if c in answer_cols and rng.random() < 0.01:
                    text = rng.choice([text.lower(), text.upper(), f" {text}", f"{text} ",
                                       text.replace(" ", "  ")])
                vals.append(text)
            out[c] = vals
        if survey.screening.time_column in out:
            out[survey.screening.time_column] = df[survey.screening.time_column].astype("int64")
        out.insert(0, "Timestamp", _google_timestamps(sim, rng))
        wording = {it: survey.constructs[survey.construct_of(it)].items[it] for it in survey.items}
        out = out.rename(columns={c: w for c, w in wording.items() if w.strip()})
        out.to_csv(p, index=False, encoding="utf-8")
    elif ext == ".xlsx":
        df.to_excel(p, sheet_name="responses", index=False)
    else:
        raise InputError(f"{p}: cannot write '{p.suffix}' files; use .sav, .csv or .xlsx.")
    return p
