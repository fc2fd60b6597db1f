"""Controls and categorical moderators in the composite model against R's lm.

Reference: the ``categorical`` section of tests/fixtures/moderation/moderation_reference.json
(make_moderation.R). Tolerances as in test_structural_moderation.py: closed-form OLS in
double precision, 1e-9 relative; p-values 1e-7.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.structural.covariates import (
    add_controls,
    category_slopes,
    dummy_columns,
    expand_categorical,
)
from adoption.structural.moderation import (
    add_products,
    expand_interactions,
    ols_equation,
    r2_change,
)
from adoption.structural.paths import parse_structural
from tests.paperlike import REF as PAPERLIKE, load_composites

REF = json.loads((Path(__file__).parent / "fixtures" / "moderation"
                  / "moderation_reference.json").read_text())["categorical"]
GENDER = {1: "female", 2: "male", 3: "diverse"}
YEAR = {1: "y1", 2: "y2", 3: "y3", 4: "y4"}


@pytest.fixture(scope="module")
def design():
    raw = pd.read_csv(PAPERLIKE / "paperlike.csv")
    scores = load_composites()
    dummies = {c: dummy_columns(raw[c], labels) for c, labels in
               (("gender", GENDER), ("year_level", YEAR))}
    syntax = add_controls("COM ~ EMP\nWIL ~ COM + HAB + gender + COM:gender", ["year_level"])
    syntax = expand_categorical(syntax, {c: list(d.columns) for c, d in dummies.items()})
    syntax, products = expand_interactions(syntax)
    data = pd.concat([scores, *dummies.values()], axis=1)
    flags = frozenset(c for d in dummies.values() for c in d.columns)
    return syntax, add_products(data, products, "mean", uncentred=flags)


def test_syntax_has_controls_dummies_and_products(design):
    syntax, _ = design
    model = parse_structural(syntax)
    assert model.predictors("COM") == ("EMP", "year_level_y2", "year_level_y3", "year_level_y4")
    assert model.predictors("WIL") == (
        "COM", "HAB", "gender_male", "gender_diverse", "COM_x_gender_male",
        "COM_x_gender_diverse", "year_level_y2", "year_level_y3", "year_level_y4")


@pytest.mark.parametrize("lhs, key", [("WIL", "wil"), ("COM", "com")])
def test_equations_equal_lm(design, lhs, key):
    syntax, data = design
    fit = ols_equation(data, lhs, parse_structural(syntax).predictors(lhs))
    tab = fit.table()
    assert list(tab["rhs"]) == REF[key]["rhs"]
    for col in ("est", "se", "ci.lower", "ci.upper"):
        assert_allclose(tab[col], REF[key][col], rtol=1e-9)
    assert_allclose(tab["pvalue"], REF[key]["pvalue"], rtol=1e-7)


def test_category_slopes_and_joint_test_equal_r(design):
    syntax, data = design
    rhs = parse_structural(syntax).predictors("WIL")
    fit = ols_equation(data, "WIL", rhs)
    prods = [fit.index("COM_x_gender_male"), fit.index("COM_x_gender_diverse")]
    tab = category_slopes(fit.coef, fit.vcov, fit.index("COM"), prods, df=fit.df_resid)
    for col in ("est", "se", "ci.lower", "ci.upper"):
        assert_allclose(tab[col], REF["slopes"][col], rtol=1e-9)
    reduced = ols_equation(data, "WIL", [r for r in rhs if "_x_" not in r])
    ch = r2_change(fit, reduced)
    assert (ch["df1"], ch["df2"]) == (REF["r2_change"]["df1"], REF["r2_change"]["df2"])
    assert_allclose(ch["f"], REF["r2_change"]["f"], rtol=1e-7)
    assert_allclose(ch["pvalue"], REF["r2_change"]["pvalue"], rtol=1e-7)


def test_small_category_and_single_category_are_refused():
    s = pd.Series([1] * 20 + [2] * 3, name="gender")
    with pytest.raises(InputError, match=r"gender: category male \(3\)"):
        dummy_columns(s, GENDER)
    with pytest.raises(InputError, match="only one category"):
        dummy_columns(pd.Series([1] * 20, name="gender"), GENDER)
    with pytest.raises(InputError, match="value 9 has no label"):
        dummy_columns(pd.Series([1] * 10 + [9] * 10, name="gender"), GENDER)


def test_control_that_is_endogenous_is_refused():
    with pytest.raises(InputError, match="COM is a dependent variable"):
        add_controls("COM ~ EMP\nWIL ~ COM", ["COM"])
