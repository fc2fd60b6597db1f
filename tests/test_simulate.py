"""The simulator: determinism, population recovery, file round trips, and a truth record
that matches both the file and what the cleaning stage finds in it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from adoption.errors import InputError
from adoption.simulate import KINDS, implied_covariance, parse_paths, simulate, write_export
from adoption.spec import load_spec
from adoption.vocabulary import REASON_IDENTICAL

SPEC = Path(__file__).resolve().parents[1] / "surveys" / "ai_mental_health"
EXAMPLE_SEED = 20260101   # as surveys/ai_mental_health/README.md says
EXAMPLE_N = 600


@pytest.fixture(scope="module")
def survey():
    return load_spec(SPEC)


@pytest.fixture(scope="module")
def sim(survey):
    return simulate(survey, EXAMPLE_N, EXAMPLE_SEED)


def _answers(df: pd.DataFrame, survey) -> np.ndarray:
    x = df[survey.items].to_numpy(dtype=float).copy()
    x[np.isin(x, survey.missing.codes)] = np.nan
    return x


# -- determinism ---------------------------------------------------------------------

def test_same_seed_same_export(survey, sim):
    again = simulate(survey, EXAMPLE_N, EXAMPLE_SEED)
    pd.testing.assert_frame_equal(sim.data, again.data)
    assert sim.truth == again.truth


def test_other_seed_other_export(survey, sim):
    other = simulate(survey, EXAMPLE_N, EXAMPLE_SEED + 1)
    assert not sim.data[survey.items].equals(other.data[survey.items])


# -- the population model ---------------------------------------------------------------

def test_implied_latent_variances_are_one(survey):
    paths = parse_paths(survey.population.paths)
    S, order, psi = implied_covariance(list(survey.constructs), paths,
                                       survey.population.exogenous_correlation)
    # closed form: diag(S) = b'S b + psi = 1 exactly (up to float rounding)
    np.testing.assert_allclose(np.diag(S), 1.0, rtol=0, atol=1e-12)
    assert order.index("COM") < order.index("TRU") < order.index("WIL")
    assert paths["WIL"]["STG"] == pytest.approx(-0.09)
    assert 0 < psi["WIL"] < 1


def test_paths_recovered_in_sign_and_rank(survey):
    """OLS of standardised composite means on a large sample. Composites attenuate the
    paths (reliability ~.8), so only signs and the order of clearly separated paths are
    tested; with n = 20000 the standard error of each slope is about .007."""
    big = simulate(survey, 20_000, 11)
    rows = [r - 1 for r in big.truth.clean_rows]
    x = pd.DataFrame(_answers(big.data.iloc[rows], survey), columns=survey.items)
    for con in survey.constructs.values():
        for r in con.reverse:
            x[r] = 6 - x[r]
    comp = pd.DataFrame({c: x[list(con.items)].mean(axis=1)
                         for c, con in survey.constructs.items()}).dropna()
    comp = (comp - comp.mean()) / comp.std()

    def ols(y, preds):
        z = np.column_stack([np.ones(len(comp))] + [comp[p] for p in preds])
        return dict(zip(preds, np.linalg.lstsq(z, comp[y], rcond=None)[0][1:]))

    wil = ols("WIL", ["HAB", "COM", "EB", "FC", "PU", "TRU", "STG"])
    assert all(wil[p] > 0 for p in ["HAB", "COM", "EB", "FC", "PU", "TRU"])
    assert wil["STG"] < 0
    assert wil["HAB"] > wil["COM"] > wil["EB"] > max(wil["FC"], wil["PU"], wil["TRU"])
    assert max(wil, key=lambda p: abs(wil[p])) == "HAB"
    com = ols("COM", ["EMP", "PRV", "ACC"])
    assert com["EMP"] > com["PRV"] > 0 and com["ACC"] > 0
    tru = ols("TRU", ["EMP", "PRV", "COM"])
    assert min(tru.values()) > 0.1


# -- the truth record against the file ----------------------------------------------

def test_truth_counts_match_the_file(survey, sim):
    t, df, sc = sim.truth, sim.data, survey.screening
    rates = survey.population.contamination
    assert len(df) == EXAMPLE_N + int(rates["duplicates"])
    for k in KINDS:
        want = int(rates["duplicates"]) if k == "duplicates" else round(rates[k] * EXAMPLE_N)
        assert len(t.rows[k]) == want, k
    every = [r for k in KINDS for r in t.rows[k]] + list(t.clean_rows)
    assert sorted(every) == list(range(1, len(df) + 1))       # disjoint and complete

    row = lambda rows: df.iloc[[r - 1 for r in rows]]  # noqa: E731
    x = _answers(df, survey)
    attn = sc.attention_checks[0]
    assert (~row(t.rows["failed_attention"])[attn.column].isin(attn.correct)).all()
    others = [r for r in range(1, len(df) + 1) if r not in t.rows["failed_attention"]]
    assert row(others)[attn.column].isin(attn.correct).all()

    fast = row(t.rows["speeders"])[sc.time_column]
    assert (fast < sc.min_seconds).all()
    assert (row([r for r in range(1, len(df) + 1) if r not in t.rows["speeders"]])
            [sc.time_column] >= sc.min_seconds).all()

    for r in t.rows["straightliners"]:
        a = x[r - 1]
        assert (a[-sc.longstring_max - 1:] == a[-1]).all()    # a run longer than allowed
    share = np.isnan(x).mean(axis=1)
    assert (share[[r - 1 for r in t.rows["breakoffs"]]] > sc.max_missing_share).all()
    assert (share[[r - 1 for r in t.clean_rows]] <= sc.max_missing_share).all()

    for dup, orig in t.duplicate_of.items():
        assert dup > orig
        pd.testing.assert_series_equal(df.iloc[dup - 1], df.iloc[orig - 1], check_names=False)
    assert df[survey.id].duplicated().sum() == len(t.rows["duplicates"])

    items = df[survey.items]
    for code, count in t.coded_missing.items():
        assert int((items == code).sum().sum()) == count
    clean = [r - 1 for r in t.clean_rows]
    assert int(np.isnan(x[clean]).sum()) == t.missing_answers


def test_pii_looks_real(survey, sim):
    df = sim.data
    assert df["email"].str.fullmatch(r"[a-z]+\.[a-z]+\d+@[\w.]+").all()
    assert df["student_no"].str.fullmatch(r"\d{10}").all()
    assert df["name"].str.contains(" ").all()


# -- files --------------------------------------------------------------------------------

def test_sav_round_trip(survey, sim, tmp_path):
    path = write_export(sim, survey, tmp_path / "out.sav")
    df, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert list(df.columns) == list(sim.data.columns)
    for it in survey.items:
        labels = meta.variable_value_labels[it]
        assert {k: v for k, v in labels.items() if k in range(1, 6)} == \
            {float(k): v for k, v in survey.scale.labels.items()}
        ranges = {(r["lo"], r["hi"]) for r in meta.missing_ranges[it]}
        assert ranges == {(99.0, 99.0), (-9.0, -9.0)}
        assert meta.column_names_to_labels[it] == survey.constructs[survey.construct_of(it)].items[it]
    assert meta.variable_value_labels["gender"] == {1.0: "Male", 2.0: "Female",
                                                    3.0: "Non-binary or prefer not to say"}
    # user-missing codes survive as values; the answers are those simulated
    for code, count in sim.truth.coded_missing.items():
        assert int((df[survey.items] == code).sum().sum()) == count
    np.testing.assert_array_equal(df[survey.items].to_numpy(float),
                                  sim.data[survey.items].to_numpy(float))
    assert (df["student_no"] == sim.data["student_no"]).all()
    # read without user_missing: the codes become missing
    plain, _ = pyreadstat.read_sav(str(path))
    assert int(plain[survey.items].isin(survey.missing.codes).sum().sum()) == 0


def test_csv_is_google_forms_like(survey, sim, tmp_path):
    path = write_export(sim, survey, tmp_path / "out.csv")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert df.columns[0] == "Timestamp"
    assert df["Timestamp"].str.fullmatch(r"2026/\d\d/\d\d \d{1,2}:\d\d:\d\d [AP]M GMT\+8").all()
    wording = {survey.constructs[survey.construct_of(it)].items[it]: it for it in survey.items}
    assert set(wording) <= set(df.columns)              # items headed by their question text
    df = df.rename(columns=wording)
    answers = df[survey.items].stack()
    assert not answers.isin(["99", "-9"]).any()
    assert answers.eq("Strongly agree").any()
    labels = set(survey.scale.labels.values())
    odd = answers[(answers != "") & ~answers.isin(labels)]
    assert len(odd) > 0                                # a few with odd case/spacing
    assert odd.map(lambda s: " ".join(s.split()).lower()).isin(
        {v.lower() for v in labels}).all()
    assert set(df["gender"]) <= {"Male", "Female", "Non-binary or prefer not to say"}


def test_unknown_extension(survey, sim, tmp_path):
    with pytest.raises(InputError, match=".json"):
        write_export(sim, survey, tmp_path / "out.json")


# -- the cleaning stage finds what was injected -----------------------------------------

@pytest.mark.parametrize("ext", ["sav", "csv", "xlsx"])
def test_cleaning_flow_matches_truth(survey, sim, tmp_path, ext):
    from adoption.clean import clean
    from adoption.load import load_responses

    path = write_export(sim, survey, tmp_path / f"out.{ext}")
    cleaned = clean(load_responses(path, survey), survey)
    assert dict(cleaned.flow.excluded) == sim.truth.expected_flow()
    reason = cleaned.exclusions.set_index("row")["reason"]
    for kind in KINDS:
        for r in sim.truth.rows[kind]:
            assert reason.get(r) == sim.truth.expected_reason[kind], (kind, r)
    assert cleaned.flow.rows_analysed == len(sim.truth.clean_rows) - len(sim.truth.incidental)


def test_example_file_is_the_documented_simulation(survey, sim):
    df, meta = pyreadstat.read_sav(str(survey.data_path()), user_missing=True)
    assert len(df) == len(sim.data)
    np.testing.assert_array_equal(df[survey.items].to_numpy(float),
                                  sim.data[survey.items].to_numpy(float))
    assert Path(survey.data_path()).stat().st_size < 1_000_000


# -- input errors ---------------------------------------------------------------------

def _with_population(survey, **update):
    return survey.model_copy(update={"population": survey.population.model_copy(update=update)})


def test_too_strong_paths(survey):
    s = _with_population(survey, paths="WIL ~ 0.9*HAB + 0.9*PU")
    with pytest.raises(InputError, match="explain"):
        simulate(s, 100, 1)


def test_unknown_contamination_key(survey):
    s = _with_population(survey, contamination={"speeder": 0.1})
    with pytest.raises(InputError, match="speeder"):
        simulate(s, 100, 1)


def test_no_population(survey):
    with pytest.raises(InputError, match="population"):
        simulate(survey.model_copy(update={"population": None}), 100, 1)


def test_without_id_the_duplicate_is_an_identical_submission(survey, tmp_path):
    from adoption.clean import clean
    from adoption.load import load_responses

    s = survey.model_copy(update={"id": None})
    sim = simulate(s, 300, 3)
    assert "respondent" not in sim.data
    assert sim.truth.expected_reason["duplicates"] == REASON_IDENTICAL
    path = write_export(sim, s, tmp_path / "noid.sav")
    cleaned = clean(load_responses(path, s), s)
    assert dict(cleaned.flow.excluded) == sim.truth.expected_flow()


def test_descending_scale_is_written_the_other_way_and_read_back(survey, sim, tmp_path):
    """A spec whose file codes 1 = Strongly agree: the simulated file is coded that way
    (labels too), and loading it with that spec gives answers that run with the
    ascending simulation's (same seed, same latent draws)."""
    from adoption.load import load_responses

    sc = survey.scale
    desc = survey.model_copy(update={"scale": sc.model_copy(update={
        "direction": "descending", "labels": {sc.reverse(k): t for k, t in sc.labels.items()}})})
    sim_desc = simulate(desc, EXAMPLE_N, EXAMPLE_SEED)
    item = next(i for i in survey.items if not survey.is_reversed(i))
    assert sim_desc.value_labels[item][float(sc.min)] == sc.labels[sc.max]
    raw = pd.Series(_answers(sim_desc.data, survey)[:, survey.items.index(item)])
    asc = pd.Series(_answers(sim.data, survey)[:, survey.items.index(item)])
    # written the other way round (not exactly: the thresholds are not symmetric and
    # careless rows answer at random)
    assert raw.corr(asc) < -0.5
    path = write_export(sim_desc, desc, tmp_path / "desc.sav")
    loaded = load_responses(path, desc)
    back = loaded.data[item].where(~loaded.data[item].isin(survey.missing.codes))
    assert pd.Series(back.to_numpy()).corr(asc) > 0.5   # read back as ascending


# -- the truth record against an independent oracle ------------------------------------

@pytest.mark.parametrize("n, seed", [(EXAMPLE_N, EXAMPLE_SEED), (300, 1)])
def test_truth_trips_equal_the_oracle(survey, n, seed):
    """The rules each exported row breaks, recomputed from the file by tests/oracles.py
    (its own longstring, IRV and Mahalanobis), are the truth record's."""
    import oracles

    s = simulate(survey, n, seed)
    df, sc = s.data, survey.screening
    attn = [a.column for a in sc.attention_checks]
    attn_ok = np.array([all(row[a.column] in a.correct for a in sc.attention_checks)
                        for _, row in df.iterrows()])
    demo = list(dict.fromkeys([*survey.demographics, *survey.group_columns]))
    got = oracles.trips(_answers(df, survey), attn_ok, df[sc.time_column].to_numpy(),
                        df[survey.id].to_numpy() if survey.id else None, df[demo + attn],
                        survey)
    assert {r + 1: tuple(sorted(t)) for r, t in enumerate(got) if t} == s.truth.trips
