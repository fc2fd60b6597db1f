"""The survey spec: valid specs load, every bad spec gets a message naming key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from adoption.errors import InputError
from adoption.spec import load_spec, parse_hypothesis

GOOD = """\
title: t
scale: {min: 1, max: 5, labels: {1: Strongly disagree, 5: Strongly agree}}
constructs:
  A: {label: Alpha, items: {A1: "first", A2: "second"}, reverse: [A2]}
  B: {items: [B1, B2, B3], scale: {min: 1, max: 7}}
structural: |
  B ~ A   # comment
hypotheses: {H1: "A -> B (+)"}
groups: [gender]
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "survey.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_good_spec_loads(tmp_path):
    s = load_spec(write(tmp_path, GOOD))
    assert s.items == ["A1", "A2", "B1", "B2", "B3"]
    assert s.scale_of("B1").max == 7 and s.scale_of("A1").max == 5
    assert s.constructs["A"].reverse == ("A2",)
    assert s.group_columns == ["gender"]
    assert s.measurement_syntax() == "A =~ A1 + A2\nB =~ B1 + B2 + B3"
    assert load_spec(tmp_path) == s  # a folder means its survey.yaml


def test_names_with_dots_and_a_slider_scale_load(tmp_path):
    s = load_spec(write(tmp_path, GOOD.replace("B1, B2, B3", "B.1, B_2, _B3").replace(
        "scale: {min: 1, max: 7}", "scale: {min: 0, max: 100}")))
    assert s.constructs["B"].items == {"B.1": "", "B_2": "", "_B3": ""}
    assert len(s.scale_of("B.1").points) == 101


def test_std_lv_key(tmp_path):
    """lavaan's std.lv as a spec key (issue 19): off unless the spec says ``std_lv: true``."""
    assert load_spec(write(tmp_path, GOOD)).std_lv is False
    assert load_spec(write(tmp_path, GOOD + "std_lv: true\n")).std_lv is True


def test_construct_as_plain_list(tmp_path):
    s = load_spec(write(tmp_path, "title: t\nconstructs:\n  PE: [PE1, PE2]\n  EE: [EE1, EE2]\n"))
    assert s.items == ["PE1", "PE2", "EE1", "EE2"]


def test_example_spec_loads():
    s = load_spec(Path(__file__).parent.parent / "surveys" / "ai_mental_health" / "survey.yaml")
    assert len(s.constructs) == 11
    assert sum(len(c.reverse) for c in s.constructs.values()) >= 2


@pytest.mark.parametrize("text, message", [
    (GOOD.replace("A2: \"second\"", "A2: \"second\"\n   bad: [indent"), r"line \d+, column \d+: YAML error"),
    (GOOD.replace("B ~ A", "B ~ A + ZZZ"), "structural names 'ZZZ', which is not a construct"),
    (GOOD.replace('items: {A1: "first", A2: "second"}, reverse: [A2]', "items: []"),
     "construct 'A' has no items"),
    (GOOD.replace("reverse: [A2]", "reverse: [A9]"), "reverses 'A9', which is not one of its items"),
    (GOOD.replace("B: {items: [B1, B2, B3]", "B: {items: [B1, B2, A1]"), "item 'A1' is listed under both"),
    (GOOD.replace("title: t", "title: t\nunknown_key: 1"), "key 'unknown_key': Extra inputs"),
    (GOOD + "std_lv: maybe\n", "key 'std_lv': Input should be a valid boolean"),
    (GOOD.replace("max: 5,", "max: 0,"), "key 'scale': scale max"),
    (GOOD.replace('"A -> B (+)"', '"A causes B"'), "should read like 'HAB -> WIL"),
    ("- just\n- a list\n", "must be a YAML mapping"),
    ("a: &x [1, 2]\nb: *x\n", "aliases"),
    # issue 17: names go into lavaan syntax; a column plays one role; no huge scales
    (GOOD.replace("  B: {items:", '  "Q =~ A1\\nB ~~ 0.05*B\\nQQ": {items: [Q1, Q2]}\n  B: {items:'),
     r"key 'constructs': construct name 'Q =~ A1\\nB ~~ 0\.05\*B\\nQQ' is not allowed: use only "
     r"letters \(A-Z, a-z\), digits, '_' and '\.'"),
    (GOOD.replace("items: [B1, B2, B3]", "items: [B1, B2, B3 + A1]"),
     r"key 'constructs\.B\.items': item name 'B3 \+ A1' is not allowed"),
    (GOOD.replace("items: [B1, B2, B3]", "items: [B1, B2, 3B]"), "item name '3B' is not allowed"),
    (GOOD.replace("groups: [gender]", "groups: [B2]"),
     "key 'groups': column 'B2' is also an item of construct 'B'; a column may play one role"),
    (GOOD + "demographics: [age, A1]\n", "key 'demographics': column 'A1' is also an item"),
    (GOOD.replace("{min: 1, max: 5,", "{min: -1000000, max: 1000000,"),
     "scale -1000000..1000000 has 2,000,001 points; at most 101"),
    (GOOD.replace("scale: {min: 1, max: 7}", "scale: {min: 0, max: 101}"), "has 102 points"),
    # a second top-level block (the last one used to win, silently)
    (GOOD + "groups: [age]\n", r"line 10, column 1: YAML error: duplicate key 'groups' \(first given on line 9\)"),
    # a duplicate inside a nested mapping
    (GOOD.replace('A1: "first", A2: "second"', 'A1: "first", A1: "again", A2: "second"'),
     r"line 4, .*duplicate key 'A1' \(first given on line 4\)"),
])
def test_bad_specs(tmp_path, text, message):
    with pytest.raises(InputError, match=message) as exc:
        load_spec(write(tmp_path, text))
    assert str(tmp_path) in exc.value.message


def test_missing_spec_file(tmp_path):
    with pytest.raises(InputError, match="spec file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_hypothesis_parsing():
    assert parse_hypothesis("HAB -> WIL (+)") == ("HAB", "WIL", "+")
    assert parse_hypothesis(" STG->WIL (-) ") == ("STG", "WIL", "-")
    assert parse_hypothesis("A -> B") == ("A", "B", None)


def test_scale_direction_declared_or_read_from_the_labels():
    from adoption.spec import Scale

    desc = {1: "Strongly agree", 3: "Neutral", 5: "Strongly disagree"}
    assert Scale(labels=desc).descending                     # read from the wording
    assert Scale(direction="descending").descending          # declared, no labels
    assert not Scale(labels={1: "Strongly disagree", 5: "Strongly agree"}).descending
    assert not Scale().descending
    analysed = Scale(labels=desc, direction="descending").as_analysed()
    assert analysed.labels == {5: "Strongly agree", 3: "Neutral", 1: "Strongly disagree"}
    assert not analysed.descending
    with pytest.raises(ValueError, match="contradicts the labels"):
        Scale(labels=desc, direction="ascending")
