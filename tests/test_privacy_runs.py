"""What a run writes never names a small category or holds an e-mail id (issue 20, leaks).

A small survey (the bad-input corpus's mini spec and its clean export) with planted
personal data: respondent ids that are e-mail addresses, and a declared demographic
column that holds people's names (a free-text "hometown" question answered with names).
Every byte of the run directory (Parquet and docx decoded) is searched for them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from adoption.cli import main
from adoption.pipeline import RunOptions, run
from adoption.privacy import OTHER

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
NAMES = ["Annelie Vossberg", "Jorunn Kvalheim", "Piotr Zawadzki", "Mireille Fontanet",
         "Ekaterina Lysenko", "Tobiah Marchetti", "Siobhan Ferriter", "Kwabena Asante"]


def _all_text(out: Path) -> str:
    from test_hardening_runs import _all_text as texts

    return " ".join(texts(out).values())


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    d = tmp_path_factory.mktemp("privacy")
    spec = (CORPUS / "specs" / "mini.yaml").read_text(encoding="utf-8")
    (d / "survey.yaml").write_text(spec.replace("demographics: [gender]",
                                                "demographics: [gender, hometown]"), encoding="utf-8")
    df = pd.read_csv(CORPUS / "files" / "ok.csv", dtype=str)
    emails = [f"{n.split()[0].lower()}.{i}@uni-example.org" for i, n in enumerate(NAMES * 5)]
    df["id"] = emails
    # 32 respondents name a city (a category big enough to show), 8 give a person's name
    df["hometown"] = ["Leipzig"] * 32 + NAMES
    df.to_csv(d / "responses.csv", index=False)
    return d, emails


def test_no_name_or_email_reaches_any_file_of_the_run(planted, tmp_path):
    d, emails = planted
    res = run(d / "survey.yaml", d / "responses.csv", tmp_path / "run",
              RunOptions(bootstrap=0, groups=False))
    text = _all_text(res.out_dir)
    leaks = [s for s in [*NAMES, *(n.split()[-1] for n in NAMES), *emails, "uni-example"] if s in text]
    assert not leaks
    # the small categories are there, pooled and never named
    demo = pd.read_csv(res.out_dir / "tables" / "demographics.csv")
    home = demo[demo["variable"] == "hometown"]
    assert home["label"].tolist() == ["Leipzig", OTHER] and home["count"].tolist() == [32, 8]
    assert "Leipzig" in (res.out_dir / "report.html").read_text(encoding="utf-8")
    # the ids are pseudonyms, repeated ids still found, and the run says so
    ids = pd.read_parquet(res.out_dir / "responses.parquet")["id"]
    assert ids.str.fullmatch(r"id-[0-9a-f]{16}").all()
    assert res.results["privacy"]["ids_pseudonymised"] == "e-mail addresses"
    log = pd.read_csv(res.out_dir / "log.csv")
    assert {"id column pseudonymised", "rare categories pooled"} <= set(log["action"])
    assert "Respondent ids" in text and "pseudonymised" in text


def test_duplicate_email_ids_are_still_excluded(planted, tmp_path):
    d, emails = planted
    df = pd.read_csv(d / "responses.csv", dtype=str)
    df.loc[5, "id"] = df.loc[2, "id"]
    df.to_csv(tmp_path / "dup.csv", index=False)
    res = run(d / "survey.yaml", tmp_path / "dup.csv", tmp_path / "run",
              RunOptions(bootstrap=0, groups=False))
    ex = pd.read_csv(res.out_dir / "exclusions.csv")
    assert ex.loc[ex["reason"] == "duplicate id", "row"].tolist() == [6]
    assert ex["id"].str.fullmatch(r"id-[0-9a-f]{16}").all()


def test_id_map_only_on_request_and_outside_the_run(planted, tmp_path, capsys):
    d, emails = planted
    argv = ["run", str(d / "survey.yaml"), "--data", str(d / "responses.csv"), "--bootstrap", "0",
            "--no-groups", "--out", str(tmp_path / "run")]
    assert main([*argv, "--id-map", str(tmp_path / "run" / "ids.csv")]) == 2
    assert "lies inside the run directory" in capsys.readouterr().err
    (tmp_path / "taken.csv").write_text("mine")
    assert main([*argv, "--id-map", str(tmp_path / "taken.csv")]) == 2
    assert "the file exists" in capsys.readouterr().err
    assert (tmp_path / "taken.csv").read_text() == "mine"
    assert main([*argv, "--id-map", str(tmp_path / "ids.csv")]) == 0
    m = pd.read_csv(tmp_path / "ids.csv")
    assert sorted(m["id"]) == sorted(set(emails))
    ids = set(pd.read_parquet(tmp_path / "run" / "responses.parquet")["id"])
    assert set(m["pseudonym"]) == ids
    assert (tmp_path / "ids.csv").stat().st_mode & 0o077 == 0       # owner only
    assert not any(e in _all_text(tmp_path / "run") for e in emails)
