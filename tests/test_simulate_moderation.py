"""The simulator with interaction paths: the scale the product enters on (standardised
latent scores, product centred at its mean, outcome variance kept at 1) and recovery of
the interaction by the composite model's moderation estimator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adoption.errors import InputError
from adoption.simulate import implied_covariance, parse_paths, population_model
from adoption.spec import load_spec
from adoption.structural.moderation import (add_products, expand_interactions,
                                            ols_equation)

SPEC = Path(__file__).resolve().parents[1] / "surveys" / "ai_mental_health"
G = -0.12   # the population interaction used below


def test_two_predictor_closed_form():
    # X, W exogenous with correlation r; Y = b X + c W + g (X W - r) + e.
    # Var(X W) = 1 + r^2 and Cov(X W, X) = Cov(X W, W) = 0 (Isserlis), so
    # psi = 1 - (b^2 + c^2 + 2 b c r) - g^2 (1 + r^2) and Cov(Y, X) = b + c r.
    b, c, g, r = 0.3, 0.2, -0.15, 0.25
    paths = parse_paths(f"Y ~ {b}*X + {c}*W + {g}*X:W")
    assert paths == {"Y": {"X": b, "W": c, "X:W": g}}
    S, order, psi = implied_covariance(["X", "W", "Y"], paths, r)
    expected = 1 - (b * b + c * c + 2 * b * c * r) - g * g * (1 + r * r)
    np.testing.assert_allclose(psi["Y"], expected, rtol=1e-12)
    np.testing.assert_allclose(np.diag(S), 1.0, atol=1e-12)
    i = {v: k for k, v in enumerate(order)}
    np.testing.assert_allclose(S[i["Y"], i["X"]], b + c * r, rtol=1e-12)


def test_bad_interactions_refused():
    with pytest.raises(InputError, match="two-way"):
        parse_paths("Y ~ 0.1*X + 0.1*W + 0.1*V + 0.1*X:W:V")
    # M carries a product, so M is not normal: a product of M is refused
    paths = parse_paths("M ~ 0.2*X + 0.2*W + 0.1*X:W\nY ~ 0.2*M + 0.2*W + 0.1*M:W")
    with pytest.raises(InputError, match="upstream"):
        implied_covariance(["X", "W", "M", "Y"], paths, 0.2)


@pytest.fixture(scope="module")
def moderated():
    """The example spec's population with ``WIL ~ ... + -0.12*HAB:COM`` as its one
    interaction (COM is endogenous and normal); the example's own term is taken out."""
    survey = load_spec(SPEC)
    lines = [ln.split(" + -0.12*COM:HAB")[0] for ln in survey.population.paths.strip().splitlines()]
    paths = "\n".join(lines) + f" + {G}*HAB:COM\n"
    pop = survey.population.model_copy(update={"paths": paths})
    return population_model(survey.model_copy(update={"population": pop}))


def test_outcome_variance_is_one(moderated):
    assert moderated.paths["WIL"]["HAB:COM"] == G and "COM:HAB" not in moderated.paths["WIL"]
    np.testing.assert_allclose(np.diag(moderated.S), 1.0, atol=1e-12)
    n = 40_000
    eta = moderated.latent(np.random.default_rng(7), n)
    v = eta["WIL"].var()
    # SE of a sample variance: sqrt((m4 - 1) / n) with the sample 4th moment (WIL is
    # not normal); 4 SE leaves a 6e-5 chance of a false failure
    m4 = ((eta["WIL"] - eta["WIL"].mean()) ** 4).mean()
    assert abs(v - 1) < 4 * np.sqrt((m4 - 1) / n)
    assert abs(eta["WIL"].mean()) < 4 / np.sqrt(n)   # the product is centred


def test_moderation_estimate_recovers_population(moderated):
    """The composite moderation estimator (centred product, lm) on the standardised
    latent scores of a large sample gives the population coefficients within 4 of its
    own SEs (OLS SEs are valid: the model is correctly specified with a homoskedastic
    normal residual); a false failure has probability < 1e-4 per coefficient, and the
    seed is fixed."""
    n = 20_000
    eta = pd.DataFrame(moderated.latent(np.random.default_rng(11), n))
    syntax, products = expand_interactions(
        "WIL ~ HAB + COM + EB + FC + PU + TRU + STG + HAB:COM")
    data = add_products(eta, products, centre="mean")
    rhs = ("HAB", "COM", "EB", "FC", "PU", "TRU", "STG", "HAB_x_COM")
    fit = ols_equation(data, "WIL", rhs)
    se = np.sqrt(np.diag(fit.vcov))
    truth = {**moderated.paths["WIL"]}
    truth["HAB_x_COM"] = truth.pop("HAB:COM")
    for k, name in enumerate(rhs):
        assert abs(fit.coef[k] - truth[name]) < 4 * se[k], (name, fit.coef[k], se[k])
    # the SE is small enough for the check to have teeth: 4 SE < a third of |g|
    assert 4 * se[rhs.index("HAB_x_COM")] < abs(G) / 3


def test_item_composites_show_the_interaction(moderated):
    """On mean scores of the Likert items the interaction is attenuated (measurement
    error, categories) but keeps its sign: at n = 20000 its t is far beyond 4."""
    n = 20_000
    survey = load_spec(SPEC)
    X = moderated.answers(np.random.default_rng(3), n)
    items = list(moderated.items)
    scores = {}
    for name in ("WIL", "HAB", "COM", "EB", "FC", "PU", "TRU", "STG"):
        con = survey.constructs[name]
        cols = [items.index(i) for i in con.items]
        sign = np.array([-1.0 if i in con.reverse else 1.0 for i in con.items])
        scores[name] = (X[:, cols] * sign).mean(axis=1)
    _, products = expand_interactions("WIL ~ HAB + COM + HAB:COM")
    data = add_products(pd.DataFrame(scores), products, centre="mean")
    fit = ols_equation(data, "WIL", ("HAB", "COM", "EB", "FC", "PU", "TRU", "STG",
                                     "HAB_x_COM"))
    t = fit.coef[-1] / np.sqrt(fit.vcov[-1, -1])
    assert t < -4
