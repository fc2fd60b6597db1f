"""PROCESS model numbers expand into interaction syntax (Hayes, 2022, Appendix A)."""

from __future__ import annotations

import pytest

from adoption.errors import InputError
from adoption.structural.conditional import conditional_definitions
from adoption.structural.moderation import expand_interactions
from adoption.structural.paths import parse_structural
from adoption.structural.process import PROCESS_MODELS, process_syntax

# written out from Hayes' conceptual diagrams, one mediator unless said
EXPECTED = {
    1: "Y ~ X + W + X:W",
    4: "M ~ X\nY ~ X + M",
    5: "M ~ X\nY ~ X + M + W + X:W",
    7: "M ~ X + W + X:W\nY ~ X + M",
    8: "M ~ X + W + X:W\nY ~ X + M + W + X:W",
    14: "M ~ X\nY ~ X + M + W + M:W",
    15: "M ~ X\nY ~ X + M + W + M:W + X:W",
    58: "M ~ X + W + X:W\nY ~ X + M + W + M:W",
    59: "M ~ X + W + X:W\nY ~ X + M + W + M:W + X:W",
}
#: whether the indirect effect is linear in W, so that Hayes' index exists
HAS_INDEX = {4: False, 5: False, 7: True, 8: True, 14: True, 15: True, 58: False, 59: False}


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_template_expands_to_the_written_model(number):
    m = () if number == 1 else ("M",)
    w = None if number == 4 else "W"
    syntax = process_syntax(number, "X", "Y", m, w)
    assert syntax == EXPECTED[number]
    expanded, products = expand_interactions(syntax)
    model = parse_structural(expanded)
    if number == 1:
        return
    probes = {"mean": {"W": 0.0}} if w else {"all": {}}
    kinds = {d.effect for d in conditional_definitions(model, products, "X", "Y", probes)}
    assert ("index" in kinds) == HAS_INDEX[number]


def test_parallel_mediators():
    assert process_syntax(14, "X", "Y", ["M1", "M2"], "W") == (
        "M1 ~ X\nM2 ~ X\nY ~ X + M1 + M2 + W + M1:W + M2:W")
    assert set(PROCESS_MODELS) == set(EXPECTED)


@pytest.mark.parametrize("args, words", [
    ((6, "X", "Y", ("M",), "W"), "model 6 is not available"),
    ((7, "X", "Y", (), "W"), "needs at least one mediator"),
    ((7, "X", "Y", ("M",), None), "needs a moderator"),
    ((1, "X", "Y", ("M",), "W"), "no mediator"),
    ((4, "X", "Y", ("M",), "W"), "has no moderator"),
    ((7, "X", "Y", ("W",), "W"), "W has two roles"),
])
def test_bad_templates_are_refused(args, words):
    with pytest.raises(InputError, match=words):
        process_syntax(*args)
