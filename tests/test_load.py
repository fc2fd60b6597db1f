"""Tests of stage 1, :func:`adoption.load.load_responses`.

Every fixture file is built here, in ``tmp_path``, from a few rows; nothing depends on
files outside the test.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from adoption.errors import InputError
from adoption.load import DESCENDING_RECODE, LoadedResponses, load_responses
from adoption.spec import parse_spec

LIKERT5 = {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree",
           4: "Agree", 5: "Strongly agree"}


def make_survey(**over) -> object:
    raw = {
        "title": "Test survey",
        "scale": {"min": 1, "max": 5, "labels": LIKERT5},
        "id": "rid",
        "constructs": {
            "PE": {"items": {"PE1": "AI tools help me work faster.",
                             "PE2": "AI tools improve the quality of my work"}},
            "EE": {"items": {"EE1": "Learning to use AI is easy for me",
                             "EE2": "My interaction with AI is clear"}},
        },
        "pii": ["name"],
    }
    raw.update(over)
    return parse_spec(raw, path=Path("/tmp/survey.yaml"))


def frame(n: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"rid": np.arange(1, n + 1)})
    for c in ["PE1", "PE2", "EE1", "EE2"]:
        df[c] = rng.integers(1, 6, n).astype(float)
    df["age"] = np.arange(20, 20 + n).astype(float)
    return df


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def actions(loaded: LoadedResponses) -> list[tuple[str, str]]:
    return [(e.action, e.column) for e in loaded.log]


# -- CSV -----------------------------------------------------------------------------------
def test_csv_basic_rows_index_and_source(tmp_path):
    df = frame()
    p = tmp_path / "r.csv"
    df.to_csv(p, index=False)
    out = load_responses(p, make_survey())
    assert out.data.index.name == "row"
    assert list(out.data.index) == [1, 2, 3, 4]
    for c in ["PE1", "PE2", "EE1", "EE2"]:
        assert out.data[c].dtype == "float64"
        np.testing.assert_array_equal(out.data[c].to_numpy(), df[c].to_numpy())
    assert out.source.format == "csv"
    assert out.source.rows == 4
    assert out.source.encoding == "utf-8"
    assert out.source.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert out.source.path == str(p)


@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252"),
])
def test_csv_encodings(tmp_path, encoding, expected):
    text = "rid,PE1,PE2,EE1,EE2,comment\n1,1,2,3,4,café ‘quoted’ €5\n2,5,4,3,2,naïve\n"
    p = write_csv(tmp_path / "r.csv", text, encoding)
    out = load_responses(p, make_survey())
    assert out.source.encoding == expected
    assert list(out.data.columns)[0] == "rid"  # no BOM left in the first name
    assert out.data.loc[1, "comment"] == "café ‘quoted’ €5"
    assert out.data.loc[2, "PE1"] == 5.0


def test_csv_latin1_fallback(tmp_path):
    # 0x81 is undefined in cp1252, so only latin-1 can decode it
    p = tmp_path / "r.csv"
    p.write_bytes(b"rid,PE1,PE2,EE1,EE2,c\n1,1,2,3,4,a\x81\xe9\n")
    out = load_responses(p, make_survey())
    assert out.source.encoding == "latin-1"
    assert out.data.loc[1, "c"].endswith("é")


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_csv_delimiters(tmp_path, delim):
    text = delim.join(["rid", "PE1", "PE2", "EE1", "EE2", "note"]) + "\n"
    text += delim.join(["1", "1", "2", "3", "4", '"a, b; c | d"']) + "\n"
    text += delim.join(["2", "5", "4", "3", "2", "x"]) + "\n"
    p = write_csv(tmp_path / "r.csv", text)
    out = load_responses(p, make_survey())
    assert list(out.data.columns) == ["rid", "PE1", "PE2", "EE1", "EE2", "note"]
    assert out.data.loc[1, "note"] == "a, b; c | d"
    assert out.data.loc[2, "EE2"] == 2.0


def test_csv_text_labels_numbers_as_text_and_na(tmp_path):
    text = ("rid,PE1,PE2,EE1,EE2\n"
            "1,strongly AGREE,  Disagree ,\" 4 \",NA\n"
            "2,Neither  agree nor disagree,1,3.0,\n")
    p = write_csv(tmp_path / "r.csv", text)
    out = load_responses(p, make_survey())
    d = out.data
    assert d.loc[1, "PE1"] == 5.0 and d.loc[1, "PE2"] == 2.0 and d.loc[1, "EE1"] == 4.0
    assert np.isnan(d.loc[1, "EE2"]) and np.isnan(d.loc[2, "EE2"])
    assert d.loc[2, "PE1"] == 3.0
    assert ("label text to number", "PE1") in actions(out)
    assert ("missing-value text to missing", "EE2") in actions(out)


def test_unknown_label_names_column_row_value_and_labels(tmp_path):
    text = "rid,PE1,PE2,EE1,EE2\n1,Agree,2,3,4\n2,Somewhat agree,2,3,4\n"
    p = write_csv(tmp_path / "r.csv", text)
    with pytest.raises(InputError) as exc:
        load_responses(p, make_survey())
    msg = str(exc.value)
    assert "PE1" in msg and "row 2" in msg and "'Somewhat agree'" in msg
    assert "Strongly disagree" in msg and str(p) in msg


def test_construct_scale_override_labels(tmp_path):
    seven = {1: "Never", 4: "Sometimes", 7: "Always"}
    survey = make_survey(constructs={
        "PE": {"items": ["PE1", "PE2"]},
        "HAB": {"items": ["H1", "H2"], "scale": {"min": 1, "max": 7, "labels": seven}},
    })
    text = "rid,PE1,PE2,H1,H2\n1,Agree,Disagree,always,never\n2,1,2,Sometimes,7\n"
    out = load_responses(write_csv(tmp_path / "r.csv", text), survey)
    assert out.data.loc[1, "H1"] == 7.0 and out.data.loc[1, "H2"] == 1.0
    assert out.data.loc[2, "H1"] == 4.0 and out.data.loc[1, "PE1"] == 4.0


def test_attention_check_text_mapped(tmp_path):
    survey = make_survey(screening={"attention_checks": [{"column": "ATT", "correct": [4]}]})
    text = "rid,PE1,PE2,EE1,EE2,ATT\n1,1,2,3,4,Agree\n2,1,2,3,4,Strongly agree\n"
    out = load_responses(write_csv(tmp_path / "r.csv", text), survey)
    assert out.data["ATT"].tolist() == [4.0, 5.0]


def test_missing_codes_and_out_of_range_are_left_as_numbers(tmp_path):
    survey = make_survey(missing={"codes": [99, -9]})
    text = "rid,PE1,PE2,EE1,EE2\n1,99,-9,7,0\n"
    out = load_responses(write_csv(tmp_path / "r.csv", text), survey)
    assert out.data.loc[1, ["PE1", "PE2", "EE1", "EE2"]].tolist() == [99.0, -9.0, 7.0, 0.0]


def test_no_row_is_dropped_and_embedded_newlines(tmp_path):
    text = ('rid,PE1,PE2,EE1,EE2,comment\n'
            '1,1,2,3,4,"line one\nline two, with ""quotes"""\n'
            ',,,,,\n'
            '3,5,5,5,5,x\n')
    out = load_responses(write_csv(tmp_path / "r.csv", text), make_survey())
    assert list(out.data.index) == [1, 2, 3]
    assert out.data.loc[1, "comment"] == 'line one\nline two, with "quotes"'
    assert out.data.loc[2, ["PE1", "PE2", "EE1", "EE2"]].isna().all()
    assert out.data.loc[3, "PE1"] == 5.0


def test_id_with_leading_zeros_stays_text(tmp_path):
    text = "rid,PE1,PE2,EE1,EE2\n007,1,2,3,4\n010,1,2,3,4\n"
    out = load_responses(write_csv(tmp_path / "r.csv", text), make_survey())
    assert out.data["rid"].tolist() == ["007", "010"]


# -- Qualtrics and Google Forms ---------------------------------------------------------------
def test_qualtrics_three_header_rows(tmp_path):
    text = ('StartDate,EndDate,ResponseId,rid,PE1,PE2,EE1,EE2\n'
            '"Start Date","End Date","Response ID","Id","AI tools help me work faster","Q2","Q3","Q4"\n'
            '"{""ImportId"":""startDate""}","{""ImportId"":""endDate""}","{""ImportId"":""_recordId""}",'
            '"{""ImportId"":""QID0""}","{""ImportId"":""QID1""}","{""ImportId"":""QID2""}",'
            '"{""ImportId"":""QID3""}","{""ImportId"":""QID4""}"\n'
            '2024-01-01 10:00:00,2024-01-01 10:05:00,R_1,1,Agree,Strongly agree,2,3\n'
            '2024-01-01 11:00:00,2024-01-01 11:05:00,R_2,2,Disagree,Neither agree nor disagree,4,5\n')
    out = load_responses(write_csv(tmp_path / "q.csv", text), make_survey())
    assert out.source.format == "qualtrics"
    assert out.source.rows == 2
    assert list(out.data.index) == [1, 2]
    assert out.data.loc[1, "PE1"] == 4.0 and out.data.loc[2, "PE2"] == 3.0
    assert out.variable_labels["PE1"] == "AI tools help me work faster"
    assert ("Qualtrics header rows skipped", "") in actions(out)


def test_qualtrics_legacy_two_header_rows(tmp_path):
    text = ('StartDate,EndDate,rid,PE1,PE2,EE1,EE2\n'
            'Start Date,End Date,Id,Q1,Q2,Q3,Q4\n'
            '2016-01-01 10:00:00,2016-01-01 10:05:00,1,Agree,5,2,3\n')
    out = load_responses(write_csv(tmp_path / "q.csv", text), make_survey())
    assert out.source.format == "qualtrics" and out.source.rows == 1
    assert out.data.loc[1, "PE1"] == 4.0
    assert next(e for e in out.log if e.action == "Qualtrics header rows skipped").count == 1


def test_qualtrics_matrix_question_text_matched_to_wording(tmp_path):
    text = ('rid,Q1_1,Q1_2,Q2_1,Q2_2\n'
            'Id,"Agree? - AI tools help me work faster","Agree? - AI tools improve the quality of my work",'
            '"Learning to use AI is easy for me","My interaction with AI is clear"\n'
            '"{""ImportId"":""QID0""}","{""ImportId"":""QID1_1""}","{""ImportId"":""QID1_2""}",'
            '"{""ImportId"":""QID2_1""}","{""ImportId"":""QID2_2""}"\n'
            '1,Agree,Disagree,5,4\n')
    out = load_responses(write_csv(tmp_path / "q.csv", text), make_survey())
    assert out.source.format == "qualtrics"
    assert out.data.loc[1, ["PE1", "PE2", "EE1", "EE2"]].tolist() == [4.0, 2.0, 5.0, 4.0]
    assert out.variable_labels["PE1"] == "Agree? - AI tools help me work faster"


def test_sav_variable_labels_matched_to_wording(tmp_path):
    df = frame(2).rename(columns={"PE1": "q1", "PE2": "q2"})
    pyreadstat.write_sav(df, tmp_path / "r.sav", column_labels={
        "q1": "AI tools help me work faster", "q2": "AI tools improve the quality of my work"})
    out = load_responses(tmp_path / "r.sav", make_survey())
    assert out.data["PE1"].tolist() == df["q1"].tolist()
    assert any(e.action.startswith("column renamed (question text") and e.column == "PE2"
               for e in out.log)


def test_google_forms_headers_matched_to_wording(tmp_path):
    text = ('Timestamp,rid,"ai tools help me work faster","AI  tools improve the quality of my work!",'
            '"Please rate: [Learning to use AI is easy for me]","My interaction with AI is clear."\n'
            '2024/01/01 10:00:00 AM GMT,1,Agree,Strongly agree,Disagree,3\n'
            '2024/01/01 10:01:00 AM GMT,2,Strongly disagree,Agree,Agree,5\n')
    out = load_responses(write_csv(tmp_path / "g.csv", text), make_survey())
    assert out.source.format == "google-forms"
    assert {"PE1", "PE2", "EE1", "EE2", "Timestamp"} <= set(out.data.columns)
    assert out.data.loc[1, "PE1"] == 4.0 and out.data.loc[1, "EE1"] == 2.0
    assert out.data.loc[2, "EE2"] == 5.0
    renames = [e for e in out.log if e.action.startswith("column renamed (question text")]
    assert len(renames) == 4
    assert out.variable_labels["PE1"] == "ai tools help me work faster"


# -- Excel ---------------------------------------------------------------------------------
def write_xlsx(path: Path, rows: list[list], sheet_title: str = "Responses") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet_title
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_xlsx_numbers_labels_and_text_numbers(tmp_path):
    p = write_xlsx(tmp_path / "r.xlsx", [
        ["rid", "PE1", "PE2", "EE1", "EE2"],
        [1, 1, "Agree", "3", 4],
        [2, 5, "strongly disagree", None, 2],
    ])
    out = load_responses(p, make_survey())
    assert out.source.format == "xlsx" and out.source.rows == 2
    assert out.data.loc[1, "PE2"] == 4.0 and out.data.loc[2, "PE2"] == 1.0
    assert out.data.loc[1, "EE1"] == 3.0 and np.isnan(out.data.loc[2, "EE1"])
    assert ("numeric text to number", "EE1") in actions(out)


def test_xlsx_named_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["notes"])
    ws = wb.create_sheet("data")
    for r in [["rid", "PE1", "PE2", "EE1", "EE2"], [1, 1, 2, 3, 4]]:
        ws.append(r)
    wb.save(tmp_path / "r.xlsx")
    out = load_responses(tmp_path / "r.xlsx", make_survey(), sheet="data")
    assert out.data.loc[1, "EE2"] == 4.0
    with pytest.raises(InputError, match="no sheet named 'nope'"):
        load_responses(tmp_path / "r.xlsx", make_survey(), sheet="nope")


# -- SPSS and Stata --------------------------------------------------------------------------
DESC = {1.0: "Strongly agree", 2.0: "Agree", 3.0: "Neither agree nor disagree",
        4.0: "Disagree", 5.0: "Strongly disagree", 9.0: "Not answered"}


def test_sav_descending_labels_recoded_and_user_missing(tmp_path):
    df = pd.DataFrame({"rid": [1.0, 2.0, 3.0], "PE1": [1.0, 5.0, 9.0], "PE2": [2.0, 9.0, 4.0],
                       "EE1": [1.0, 2.0, 3.0], "EE2": [3.0, 4.0, 5.0]})
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(
        df, p, column_labels={"PE1": "AI tools help me work faster", "rid": "Respondent"},
        variable_value_labels={"PE1": DESC, "PE2": DESC,
                               "EE1": {float(k): v for k, v in LIKERT5.items()}},
        missing_ranges={"PE1": [9], "PE2": [9]})
    out = load_responses(p, make_survey())
    d = out.data
    assert out.source.format == "sav"
    # 1 = Strongly agree in the file is 5 = Strongly agree in the spec
    assert d.loc[1, "PE1"] == 5.0 and d.loc[2, "PE1"] == 1.0 and np.isnan(d.loc[3, "PE1"])
    assert d.loc[1, "PE2"] == 4.0 and np.isnan(d.loc[2, "PE2"]) and d.loc[3, "PE2"] == 2.0
    # ascending labels equal to the spec's: untouched
    assert d["EE1"].tolist() == [1.0, 2.0, 3.0]
    entries = {(e.action, e.column): e for e in out.log}
    assert entries[("user-missing code to missing", "PE1")].count == 1
    assert entries[("user-missing code to missing", "PE2")].count == 1
    assert entries[("recoded by value labels", "PE1")].count == 2
    assert ("recoded by value labels", "EE1") not in entries
    assert out.variable_labels["PE1"] == "AI tools help me work faster"
    assert out.value_labels["PE1"][5.0] == "Strongly agree"
    assert out.value_labels["PE1"][9.0] == "Not answered"


def test_sav_endpoint_labels_reversed(tmp_path):
    df = frame(3)
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(df.assign(PE1=[1.0, 2.0, 4.0]), p, variable_value_labels={
        "PE1": {1.0: "strongly agree", 5.0: "STRONGLY DISAGREE"}})
    out = load_responses(p, make_survey())
    assert out.data["PE1"].tolist() == [5.0, 4.0, 2.0]


def test_sav_labels_opposite_polarity_without_common_text(tmp_path):
    df = frame(3)
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(df, p, variable_value_labels={
        "PE1": {1.0: "Totally agree", 5.0: "Totally disagree"}})
    with pytest.raises(InputError, match="'PE1'.*other way"):
        load_responses(p, make_survey())


def test_sav_labels_that_cannot_be_lined_up(tmp_path):
    df = frame(3).assign(PE1=[1.0, 2.0, 3.0])
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(df, p, variable_value_labels={
        "PE1": {1.0: "Agree", 2.0: "Strongly agree", 3.0: "Something else"}})
    with pytest.raises(InputError, match="cannot be lined up"):
        load_responses(p, make_survey())


def test_sav_user_missing_range_and_string_missing(tmp_path):
    df = frame(4).assign(PE1=[1.0, -9.0, -7.0, 2.0], city=["a", "ZZ", "b", "ZZ"])
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(df, p, missing_ranges={"PE1": [{"lo": -9.0, "hi": -7.0}], "city": ["ZZ"]})
    out = load_responses(p, make_survey())
    assert out.data["PE1"].isna().tolist() == [False, True, True, False]
    assert out.data["city"].isna().tolist() == [False, True, False, True]
    counts = {e.column: e.count for e in out.log if e.action == "user-missing code to missing"}
    assert counts == {"PE1": 2, "city": 2}


def test_zsav_por_dta(tmp_path):
    df = frame(3)
    pyreadstat.write_sav(df, tmp_path / "r.zsav", compress=True)
    pyreadstat.write_por(df, tmp_path / "r.por")
    pyreadstat.write_dta(df, tmp_path / "r.dta")
    for ext in ["zsav", "por", "dta"]:
        out = load_responses(tmp_path / f"r.{ext}", make_survey())
        assert out.source.format == ext
        assert out.source.rows == 3
        np.testing.assert_array_equal(out.data["PE1"].to_numpy(), df["PE1"].to_numpy())
    # .por upper-cases names: matched to the spec's names, and logged
    out = load_responses(tmp_path / "r.por", make_survey())
    assert "rid" in out.data.columns
    assert ("column renamed (case)", "rid") in actions(out)


def test_sav_partial_wording_reversed_shifted_and_permuted(tmp_path):
    df = frame(5).assign(PE1=[1.0, 2.0, 3.0, 4.0, 5.0], PE2=[0.0, 1.0, 2.0, 3.0, 4.0],
                         EE1=[1.0, 2.0, 3.0, 3.0, 9.0])
    three = {1: "low", 2: "medium", 3: "high"}
    survey = make_survey(constructs={
        "PE": {"items": ["PE1", "PE2"]},
        "EE": {"items": ["EE1", "EE2"], "scale": {"min": 1, "max": 3, "labels": three}}})
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(df, p, variable_value_labels={
        # SAQ-like: descending, midpoint worded differently from the spec
        "PE1": {1.0: "Strongly agree", 2.0: "Agree", 3.0: "Neither", 4.0: "Disagree",
                5.0: "Strongly disagree", 9.0: "Not answered"},
        # coded 0..4
        "PE2": {float(k - 1): v for k, v in LIKERT5.items()},
        # alphabetical codes, as an SPSS autorecode gives
        "EE1": {1.0: "high", 2.0: "low", 3.0: "medium"}})
    out = load_responses(p, survey)
    assert out.data["PE1"].tolist() == [5.0, 4.0, 3.0, 2.0, 1.0]
    assert out.data["PE2"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    # 9 is outside the file's labels: left for the cleaning stage
    assert out.data["EE1"].tolist() == [3.0, 1.0, 2.0, 2.0, 9.0]
    details = {e.column: e.detail for e in out.log if e.action == "recoded by value labels"}
    assert "Neither" in details["PE1"] and "6 - c" in details["PE1"]
    assert "by label text" in details["EE1"]
    assert out.value_labels["EE1"] == {3.0: "high", 1.0: "low", 2.0: "medium"}


# -- PII ---------------------------------------------------------------------------------------
def test_pii_spec_columns_and_detected_contacts_dropped(tmp_path):
    df = frame(4)
    df["name"] = ["Ann", "Bob", "Cy", "Di"]
    df["contact"] = ["ann@example.org", "bob@uni.edu", "", "di@mail.co.uk"]
    df["tel"] = ["+44 20 7946 0958", "020 7946 0000", "(555) 123-4567", "555-987-6543"]
    df["when"] = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    df["code"] = ["12345678", "23456789", "34567890", "45678901"]
    p = tmp_path / "r.csv"
    df.to_csv(p, index=False)
    out = load_responses(p, make_survey())
    assert not {"name", "contact", "tel"} & set(out.data.columns)
    assert {"rid", "when", "code", "age"} <= set(out.data.columns)
    dropped = {e.column: e.detail for e in out.log if e.action == "column dropped (PII)"}
    assert set(dropped) == {"name", "contact", "tel"}
    assert "e-mail" in dropped["contact"] and "phone" in dropped["tel"]


def test_id_column_of_emails_is_pseudonymised(tmp_path):
    df = frame(4).assign(rid=["a@x.org", "b@y.org", "a@x.org", None])
    p = tmp_path / "r.csv"
    df.to_csv(p, index=False)
    out = load_responses(p, make_survey())
    ids = out.data["rid"].tolist()
    assert all(re.fullmatch(r"id-[0-9a-f]{16}", i) for i in ids[:3]) and pd.isna(ids[3])
    assert ids[0] == ids[2] != ids[1]           # a repeated id is still a repeat
    assert out.ids_pseudonymised == "e-mail addresses" and out.id_map is None
    entry = next(e for e in out.log if e.action == "id column pseudonymised")
    assert entry.column == "rid" and entry.count == 3 and "@" not in entry.detail
    # the key is random per load: the same file gives other pseudonyms
    again = load_responses(p, make_survey(), keep_id_map=True)
    assert again.data["rid"][1] != ids[0]
    assert dict(zip(again.id_map["id"], again.id_map["pseudonym"])) == {
        "a@x.org": again.data["rid"][1], "b@y.org": again.data["rid"][2]}
    # ids that are plain codes are kept as they are
    df.assign(rid=["r1", "r2", "r3", "r4"]).to_csv(p, index=False)
    assert load_responses(p, make_survey()).data["rid"].tolist() == ["r1", "r2", "r3", "r4"]


# -- errors -------------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_responses(tmp_path / "nope.csv", make_survey())


@pytest.mark.parametrize("name,match", [("r.json", "unknown file type '.json'"),
                                        ("r.numbers", "Save it as .xlsx or CSV")])
def test_unknown_extension(tmp_path, name, match):
    (tmp_path / name).write_text("x")
    with pytest.raises(InputError, match=match):
        load_responses(tmp_path / name, make_survey())


@pytest.mark.parametrize("content", [b"", b"rid,PE1,PE2,EE1,EE2\n", b"\n\n"])
def test_empty_files(tmp_path, content):
    p = tmp_path / "r.csv"
    p.write_bytes(content)
    with pytest.raises(InputError, match="empty|no data rows"):
        load_responses(p, make_survey())


def test_empty_sav_and_xlsx(tmp_path):
    pyreadstat.write_sav(frame(0), tmp_path / "r.sav")
    with pytest.raises(InputError, match="no data rows"):
        load_responses(tmp_path / "r.sav", make_survey())
    write_xlsx(tmp_path / "r.xlsx", [["rid", "PE1", "PE2", "EE1", "EE2"]])
    with pytest.raises(InputError, match="no data rows"):
        load_responses(tmp_path / "r.xlsx", make_survey())


def test_truncated_sav(tmp_path):
    pyreadstat.write_sav(frame(200), tmp_path / "full.sav")
    data = (tmp_path / "full.sav").read_bytes()
    (tmp_path / "half.sav").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or corrupt"):
        load_responses(tmp_path / "half.sav", make_survey())


def test_sav_renamed_csv_detected_by_magic(tmp_path):
    pyreadstat.write_sav(frame(3), tmp_path / "r.sav")
    (tmp_path / "r.csv").write_bytes((tmp_path / "r.sav").read_bytes())
    with pytest.raises(InputError, match=r"named \.csv but is an SPSS \.sav file.*Rename it to \.sav"):
        load_responses(tmp_path / "r.csv", make_survey())


def test_csv_renamed_sav_and_corrupt_xlsx(tmp_path):
    write_csv(tmp_path / "r.sav", "rid,PE1\n1,2\n")
    with pytest.raises(InputError, match="rename it to .csv"):
        load_responses(tmp_path / "r.sav", make_survey())
    (tmp_path / "r.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InputError, match="cannot open this Excel file"):
        load_responses(tmp_path / "r.xlsx", make_survey())


def test_missing_item_lists_and_suggests(tmp_path):
    text = "rid,PE_1,PE2,EE1\n1,1,2,3\n"
    with pytest.raises(InputError) as exc:
        load_responses(write_csv(tmp_path / "r.csv", text), make_survey())
    msg = str(exc.value)
    assert "PE1" in msg and "EE2" in msg and "Did you mean 'PE_1' for PE1?" in msg


@pytest.mark.parametrize("header", ["rid,PE1,PE2,EE1,EE2,PE1", "rid,PE1,PE2,EE1,EE2, pe1 "])
def test_duplicate_columns(tmp_path, header):
    text = header + "\n1,1,2,3,4,5\n"
    with pytest.raises(InputError, match="duplicates 'PE1'"):
        load_responses(write_csv(tmp_path / "r.csv", text), make_survey())


def test_ragged_row_named(tmp_path):
    text = "rid,PE1,PE2,EE1,EE2\n1,1,2,3,4\n2,1,2,3,4,5,6\n"
    with pytest.raises(InputError, match="data row 2 has 7 fields"):
        load_responses(write_csv(tmp_path / "r.csv", text), make_survey())


def test_case_insensitive_column_match_logged(tmp_path):
    text = "RID,pe1,PE2,EE1,EE2\n1,1,2,3,4\n"
    out = load_responses(write_csv(tmp_path / "r.csv", text), make_survey())
    assert {"rid", "PE1"} <= set(out.data.columns)
    assert ("column renamed (case)", "PE1") in actions(out)


def test_dta_extended_missing_values(tmp_path):
    df = frame(4).astype({"PE1": object})
    df["PE1"] = [1.0, "a", 3.0, "b"]
    pyreadstat.write_dta(df, tmp_path / "r.dta", missing_user_values={"PE1": ["a", "b"]})
    out = load_responses(tmp_path / "r.dta", make_survey())
    assert out.data["PE1"].dtype == "float64"
    assert out.data["PE1"].isna().tolist() == [False, True, False, True]
    entry = next(e for e in out.log if e.action == "user-missing code to missing")
    assert entry.column == "PE1" and entry.count == 2 and ".a" in entry.detail


def test_descending_labels_without_spec_labels_are_detected_and_recoded(tmp_path):
    # the spec has no labels; the file's say 1 = Strongly agree: the scale runs
    # descending, so PE1 is recoded 6 - c (PE2, without labels, is kept)
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(frame(3), p, variable_value_labels={"PE1": DESC})
    survey = make_survey(scale={"min": 1, "max": 5})
    out = load_responses(p, survey)
    np.testing.assert_array_equal(out.data["PE1"].to_numpy(), 6 - frame(3)["PE1"].to_numpy())
    np.testing.assert_array_equal(out.data["PE2"].to_numpy(), frame(3)["PE2"].to_numpy())
    entry = next(e for e in out.log if e.action == DESCENDING_RECODE)
    assert entry.column == "PE1" and "the file's value labels run from agreeing" in entry.detail
    assert "c -> 6 - c" in entry.detail
    assert out.value_labels["PE1"][5.0] == "Strongly agree" and out.value_labels["PE1"][9.0] == \
        "Not answered"


def test_spec_direction_descending_recodes_once(tmp_path):
    """direction: descending with the labels as the file writes them: a .sav with the same
    labels and a CSV of label text both end ascending (5 = Strongly agree), recoded once."""
    desc = {k: v for k, v in DESC.items() if k <= 5}
    spec_scale = {"min": 1, "max": 5, "direction": "descending", "labels": desc}
    survey = make_survey(scale=spec_scale)
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(frame(3), p, variable_value_labels={"PE1": DESC})
    out = load_responses(p, survey)
    np.testing.assert_array_equal(out.data["PE1"].to_numpy(), 6 - frame(3)["PE1"].to_numpy())
    assert [e.action for e in out.log if e.column == "PE1"] == [DESCENDING_RECODE]
    assert "scale.direction is descending" in next(e.detail for e in out.log if e.column == "PE1")
    # the same answers as text in a CSV
    text = frame(3)
    text["PE1"] = text["PE1"].map(desc)
    text.to_csv(tmp_path / "r.csv", index=False)
    out2 = load_responses(tmp_path / "r.csv", survey)
    np.testing.assert_array_equal(out2.data["PE1"].to_numpy(), out.data["PE1"].to_numpy())
    # the labels alone say descending too (no direction given): the same recode
    out3 = load_responses(p, make_survey(scale={"min": 1, "max": 5, "labels": desc}))
    np.testing.assert_array_equal(out3.data["PE1"].to_numpy(), out.data["PE1"].to_numpy())
    assert survey.scale.as_analysed().labels[5] == "Strongly agree"


def test_spec_direction_that_contradicts_the_file_is_refused(tmp_path):
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(frame(3), p, variable_value_labels={"PE1": DESC})
    with pytest.raises(InputError, match="direction: ascending"):
        load_responses(p, make_survey(scale={"min": 1, "max": 5, "direction": "ascending"}))


def test_pii_column_named_in_spec_but_absent_is_logged(tmp_path):
    p = tmp_path / "r.csv"
    frame(2).to_csv(p, index=False)
    out = load_responses(p, make_survey())
    assert ("PII column not found", "name") in actions(out)


def test_pii_detection_spares_times_coordinates_and_plain_numbers(tmp_path):
    df = frame(3)
    df["t"] = ["10:05:00", "11:15:30", "09:00:01"]
    df["lat"] = ["37.7749295", "-33.8688197", "51.5072178"]
    df["ip"] = ["192.168.1.20", "10.0.0.1", "2001:db8::1"]
    p = tmp_path / "r.csv"
    df.to_csv(p, index=False)
    out = load_responses(p, make_survey())
    assert {"t", "lat"} <= set(out.data.columns)
    assert "ip" not in out.data.columns
    entry = next(e for e in out.log if e.column == "ip")
    assert "IP addresses" in entry.detail


def test_unterminated_quote_and_unnamed_column(tmp_path):
    text = 'rid,PE1,PE2,EE1,EE2,c\n1,1,2,3,4,"ok"\n2,1,2,3,4,"cut off\n3,1,2,3,4,x\n'
    with pytest.raises(InputError, match="never closed.*data row 2"):
        load_responses(write_csv(tmp_path / "r.csv", text), make_survey())
    text = ',rid,PE1,PE2,EE1,EE2\n0,1,1,2,3,4\n'
    out = load_responses(write_csv(tmp_path / "s.csv", text), make_survey())
    assert "column_1" in out.data.columns
    assert ("unnamed column named", "column_1") in actions(out)


def test_truncated_xlsx(tmp_path):
    p = write_xlsx(tmp_path / "r.xlsx", [["rid", "PE1", "PE2", "EE1", "EE2"], [1, 1, 2, 3, 4]])
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cannot open this Excel file"):
        load_responses(p, make_survey())


def test_sav_case_renamed_column_keeps_user_missing_rules(tmp_path):
    df = frame(3).assign(PE1=[1.0, 9.0, 5.0]).rename(columns={"PE1": "pe1"})
    pyreadstat.write_sav(df, tmp_path / "r.sav", variable_value_labels={"pe1": DESC},
                         missing_ranges={"pe1": [9]})
    out = load_responses(tmp_path / "r.sav", make_survey())
    assert out.data["PE1"].isna().tolist() == [False, True, False]
    assert out.data.loc[1, "PE1"] == 5.0 and out.data.loc[3, "PE1"] == 1.0
    assert ("column renamed (case)", "PE1") in actions(out)
    assert out.value_labels["PE1"][5.0] == "Strongly agree"


def test_sav_midpoint_matches_but_ends_run_the_other_way(tmp_path):
    df = frame(3)
    p = tmp_path / "r.sav"
    pyreadstat.write_sav(df, p, variable_value_labels={
        "PE1": {1.0: "Totally agree", 3.0: "Neither agree nor disagree", 5.0: "Totally disagree"}})
    with pytest.raises(InputError, match="'PE1'.*other way"):
        load_responses(p, make_survey())


def test_group_label_text_becomes_codes(tmp_path):
    survey = make_survey(groups={"gender": {"labels": {1: "Male", 2: "Female"}}})
    text = "rid,PE1,PE2,EE1,EE2,gender\n1,1,2,3,4,female\n2,1,2,3,4,\n3,1,2,3,4,Male \n"
    out = load_responses(write_csv(tmp_path / "r.csv", text), survey)
    assert out.data["gender"].tolist()[0] == 2.0 and out.data["gender"].tolist()[2] == 1.0
    assert np.isnan(out.data.loc[2, "gender"])
    assert ("label text to number", "gender") in actions(out)


# --- value labels of group and demographic columns --------------------------------------

def _gender_sav(tmp_path: Path, file_labels: dict | None) -> Path:
    """25 respondents coded 1 and 15 coded 2 in 'gender' (and 'year' 1-3, unlabelled)."""
    df = frame(40).assign(gender=[1.0] * 25 + [2.0] * 15, year=[1.0, 2.0, 3.0, 1.0] * 10)
    p = tmp_path / "g.sav"
    pyreadstat.write_sav(df, p, variable_value_labels={"gender": file_labels} if file_labels else None)
    return p


def _described(p: Path, survey):
    from adoption.clean import clean
    from adoption.describe import describe
    from adoption.groups import run_groups

    cleaned = clean(load_responses(p, survey), survey)
    demo = describe(cleaned, survey).demographics
    # min_group_size above N: the group sizes are counted, no model is fitted
    sizes = run_groups(cleaned, survey.model_copy(update={"min_group_size": 1000})) \
        .comparisons["gender"].sizes
    return cleaned, {(r.variable, r.label): r.count for r in demo.itertuples()}, \
        dict(zip(sizes["label"], sizes["n"]))


def test_group_labels_that_contradict_the_files_are_refused(tmp_path):
    p = _gender_sav(tmp_path, {1.0: "Female", 2.0: "Male"})
    survey = make_survey(groups={"gender": {"labels": {1: "Men", 2: "Women"}}})
    with pytest.raises(InputError, match=r"g\.sav: column 'gender': the file labels code\(s\) 1, 2 as "
                                         r"1 = Female; 2 = Male, but the spec says 1 = Men; 2 = Women\."):
        load_responses(p, survey)


def test_group_labels_permuted_against_the_file_are_recoded_by_text(tmp_path):
    p = _gender_sav(tmp_path, {1.0: "Female", 2.0: "Male"})
    survey = make_survey(groups={"gender": {"labels": {1: "Male", 2: "female"}}})
    cleaned, demo, sizes = _described(p, survey)
    # the 25 the file calls Female stay Female, under the spec's code 2
    assert demo[("gender", "female")] == 25 and demo[("gender", "Male")] == 15
    assert sizes == {"female": 25, "Male": 15}
    assert (cleaned.data["gender"] == 2.0).sum() == 25
    entry = next(e for e in cleaned.log if e.action == "recoded by value labels" and e.column == "gender")
    assert entry.count == 40 and "1->2, 2->1" in entry.detail


def test_group_and_demographic_labels_come_from_the_file(tmp_path):
    p = _gender_sav(tmp_path, {1.0: "Female", 2.0: "Male"})
    survey = make_survey(groups=["gender"], demographics=["year"])
    _, demo, sizes = _described(p, survey)
    assert demo[("gender", "Female")] == 25 and demo[("gender", "Male")] == 15
    assert sizes == {"Female": 25, "Male": 15}
    # unlabelled codes are shown as integers, never "1.0"
    assert {lab for var, lab in demo if var == "year"} == {"1", "2", "3"}
    p = _gender_sav(tmp_path, None)
    _, demo, sizes = _described(p, survey)
    assert sizes == {"1": 25, "2": 15}
    assert {lab for var, lab in demo if var == "gender"} == {"1", "2"}


def test_descending_scale_is_said_on_screen_by_validate(tmp_path):
    from io import StringIO

    from rich.console import Console

    from adoption.clean import clean
    from adoption.summary import print_validation

    p = tmp_path / "r.sav"
    pyreadstat.write_sav(frame(4), p, variable_value_labels={"PE1": DESC, "PE2": DESC})
    survey = make_survey(scale={"min": 1, "max": 5})
    loaded = load_responses(p, survey)
    buf = StringIO()
    print_validation(Console(file=buf, width=200), survey, loaded, clean(loaded, survey))
    text = buf.getvalue()
    assert ("2 column(s) recoded c -> 6 - c because the scale runs descending (its lowest "
            "code is the most agreeing answer") in text
    assert "so that higher numbers mean more agreement: PE1, PE2" in text
    assert loaded.recodes == {"PE1": "c -> 6 - c (scale runs descending)",
                              "PE2": "c -> 6 - c (scale runs descending)"}

def test_csv_european_semicolon_and_decimal_comma(tmp_path):
    """Excel in most of Europe writes ';' between fields and '4,0' for four: the numbers
    are read with a decimal point, and what was detected is logged and shown."""
    text = ("rid;PE1;PE2;EE1;EE2;score;choices;note\n"
            "1;4,0;2;3;4;3,25;1,2,3;a, b\n"
            "2;5;4,0;3;2;-0,5;2;x\n")
    p = write_csv(tmp_path / "r.csv", text, "cp1252")
    out = load_responses(p, make_survey())
    d = out.data
    assert d.loc[1, "PE1"] == 4.0 and d.loc[2, "PE2"] == 4.0
    assert d.loc[1, "score"] == 3.25 and d.loc[2, "score"] == -0.5
    # a multiple choice "1,2,3" and words are not numbers: left as they are
    assert d.loc[1, "choices"] == "1,2,3" and d.loc[1, "note"] == "a, b"
    detected = {e.action: e.detail for e in out.log}
    assert "decimal comma detected" in detected
    assert "PE1" in detected["decimal comma detected"] and "choices" not in detected["decimal comma detected"]
    assert detected["delimiter detected"] == "';'"


def test_validate_output_says_what_was_detected(tmp_path, capsys):
    from rich.console import Console

    from adoption.summary import print_detected

    text = "rid;PE1;PE2;EE1;EE2\n1;4,0;2;3;4\n2;5;4;3;2\n"
    out = load_responses(write_csv(tmp_path / "r.csv", text), make_survey())
    console = Console(width=200)
    print_detected(console, out)
    shown = capsys.readouterr().out
    assert "decimal comma detected" in shown and "delimiter detected: ';'" in shown


XLS_FIXTURE = Path(__file__).parent / "fixtures" / "xls" / "survey.xls"


def test_xls_excel97_read(tmp_path):
    """An Excel 97-2003 .xls (made once with xlwt: tests/fixtures/xls/make_survey_xls.py)."""
    out = load_responses(XLS_FIXTURE, make_survey())
    d = out.data
    assert out.source.format == "xls"
    assert list(d.columns) == ["rid", "PE1", "PE2", "EE1", "EE2", "age", "note"]
    assert d.loc[1, "PE1"] == 4.0 and d.loc[2, "PE2"] == 4.0  # 'Agree' -> 4
    assert np.isnan(d.loc[2, "EE2"]) and d.loc[3, "age"] == 47
    assert d.loc[2, "note"] == "50% sure & done"
    assert ("xls read", "") in actions(out)


def test_ods_read_and_sheet_choice(tmp_path):
    df = frame(5)
    df.loc[2, "PE1"] = np.nan
    p = tmp_path / "r.ods"
    with pd.ExcelWriter(p, engine="odf") as w:
        pd.DataFrame({"x": ["cover sheet"]}).to_excel(w, sheet_name="cover", index=False)
        df.to_excel(w, sheet_name="data", index=False)
    out = load_responses(p, make_survey(), sheet="data")
    assert out.source.format == "ods"
    np.testing.assert_array_equal(out.data["PE2"].to_numpy(), df["PE2"].to_numpy())
    assert np.isnan(out.data.loc[3, "PE1"])
    with pytest.raises(InputError, match="no sheet named 'nope'"):
        load_responses(p, make_survey(), sheet="nope")


def test_ods_not_well_formed_is_refused_not_truncated(tmp_path, capsys):
    """A text answer with a Windows line break (seen in a real UTAUT2 export), written
    into an .ods by pandas, makes its XML invalid (a character reference XML 1.0 does not
    allow); odfpy printed the whole part and returned the rows before it (17 of 216,
    with "OK"). Now: refused, naming where, and nothing printed."""
    df = frame(6)
    df["comment"] = ["fine", "ok", "line one\r\nline two", "x", "y", "z"]
    p = tmp_path / "r.ods"
    with pd.ExcelWriter(p, engine="odf") as w:
        df.to_excel(w, index=False)
    with pytest.raises(InputError, match=r"not well-formed XML \(content\.xml: reference to "
                                         r"invalid character number: line \d+, column \d+\)"):
        load_responses(p, make_survey())
    assert "SAX" not in capsys.readouterr().out


def test_ods_sparse_sheet_refused(tmp_path, monkeypatch):
    """The sparse-sheet guard of .xlsx applies to .ods (limits lowered to keep it small)."""
    from adoption.readers import limits

    monkeypatch.setattr(limits, "SPARSE_MIN_CELLS", 100)
    p = tmp_path / "r.ods"
    df = frame(3)
    with pd.ExcelWriter(p, engine="odf") as w:
        df.to_excel(w, index=False)
        pd.DataFrame({"z": ["stray"]}).to_excel(w, index=False, header=False, startrow=400, startcol=0)
    with pytest.raises(InputError, match="stray cells"):
        load_responses(p, make_survey())


def test_xls_renamed_csv_and_broken_xls(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_bytes(XLS_FIXTURE.read_bytes())
    with pytest.raises(InputError, match=r"Rename it to \.xls"):
        load_responses(bad, make_survey())
    cut = tmp_path / "r.xls"
    cut.write_bytes(XLS_FIXTURE.read_bytes()[:1500])
    with pytest.raises(InputError, match="cannot open this .xls file"):
        load_responses(cut, make_survey())


def test_surveymonkey_numbered_labels(tmp_path):
    """'5 - Strongly agree' and 'Agree (4)': read when number and label agree with the
    spec's scale, logged; a contradiction stops loading with both sides named."""
    text = ("rid,PE1,PE2,EE1,EE2\n"
            "1,5 - Strongly agree,Agree (4),1. Strongly disagree,3\n"
            "2,2 - Disagree,Strongly agree (5),3,4\n")
    out = load_responses(write_csv(tmp_path / "r.csv", text), make_survey())
    d = out.data
    assert d.loc[1, "PE1"] == 5.0 and d.loc[1, "PE2"] == 4.0 and d.loc[1, "EE1"] == 1.0
    assert d.loc[2, "PE1"] == 2.0 and d.loc[2, "PE2"] == 5.0
    entry = next(e for e in out.log if e.action == "numbered label to number" and e.column == "PE1")
    assert entry.count == 2 and "'5 - Strongly agree' -> 5" in entry.detail
    bad = "rid,PE1,PE2,EE1,EE2\n1,1 - Strongly agree,2,3,4\n"
    with pytest.raises(InputError, match=r"column 'PE1', data row 1: answer '1 - Strongly agree' "
                                         r"contradicts the spec's scale: the file says 1 but the spec has 5"):
        load_responses(write_csv(tmp_path / "b.csv", bad), make_survey())
    odd = "rid,PE1,PE2,EE1,EE2\n1,5 - Totally,2,3,4\n"
    with pytest.raises(InputError, match="label 'Totally' matches none of the scale's labels"):
        load_responses(write_csv(tmp_path / "c.csv", odd), make_survey())


