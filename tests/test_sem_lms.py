"""LMS (Klein & Moosbrugger 2000) against Mplus 8.10 on modsem's oneInt data (n = 2000).

Reference: fixtures/latent_interaction/mplus_oneInt_lms.out, the Mplus output kept in
modsem's tests (MIT); ``XZ | X XWITH Z``, two indicators per factor, 15-point adaptive
quadrature, convergence by relative log-likelihood change 1e-6.

Tolerances
----------
* Our log-likelihood is the exact marginal one up to quadrature error < 1e-6 (128
  Gauss-Hermite nodes give the same value as 96, 192 and 256 to 1e-4; checked below
  against 96), maximised to a gradient < 1e-3.
* Mplus stops when the log-likelihood changes by less than 1e-6 relative, i.e. 0.015 at
  l = -15142.6. A point with a log-likelihood within delta of the maximum lies within
  sqrt(2 delta) standard errors of it in every coordinate (l(theta-hat) - l(theta) ~
  1/2 d' I d; the largest |d_j| under 1/2 d' I d <= delta is sqrt(2 delta) SE_j). So the
  estimates must agree within sqrt(2 * 0.0151) SE_j = 0.174 SE_j plus 0.0005 (Mplus
  prints 3 decimals). Measured: at most 0.08 SE_j (x1's residual variance); the
  structural coefficients within 0.0014, the interaction within 0.0005.
* Standard errors barely change over such a distance: to Mplus's 3 decimals (0.0005 plus
  5e-5 for the numerical Hessian), all 22 of them.
* Log-likelihood to 0.01 (measured 0.003); and Mplus's own estimates, evaluated by our
  likelihood, lie below our maximum by less than Mplus's stopping rule (0.0151) plus the
  cost of its rounding (< 0.002).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.errors import InputError
from adoption.sem import fit_model
from adoption.sem.latent_interaction import METHOD_LMS
from adoption.sem.lms import LmsModel, fit_lms, lms_loglik

FIX = Path(__file__).parent / "fixtures" / "latent_interaction"
SPEC = {"outcome": ("Y", ["y1", "y2"]), "focal": ("X", ["x1", "x2"]),
        "moderator": ("Z", ["z1", "z2"])}
MODEL = LmsModel(exogenous=(("X", ("x1", "x2")), ("Z", ("z1", "z2"))),
                 outcome=("Y", ("y1", "y2")), moderator="Z")
MPLUS_LOGL = -15142.600
MPLUS_STOP = 1e-6 * 15142.6     # Mplus's relative log-likelihood change criterion


def mplus_results(path: Path) -> pd.DataFrame:
    """The MODEL RESULTS block of an Mplus output, as lhs/op/rhs/est/se rows."""
    text = path.read_text().split("MODEL RESULTS")[1].split("QUALITY OF NUMERICAL")[0]
    ops = {"BY": "=~", "ON": "~", "WITH": "~~"}
    rows, head = [], None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] in ops:
            head = (parts[0], ops[parts[1]])
        elif line.strip() in ("Intercepts", "Variances", "Residual Variances"):
            head = (None, "~1" if line.strip() == "Intercepts" else "~~")
        elif len(parts) == 5 and head is not None:
            name = {"XZ": "X:Z"}.get(parts[0], parts[0]).lower()
            name = name.upper() if name in ("x", "z", "y", "x:z") else name
            lhs, op = head
            if op == "~1":
                rows.append((name, op, "", float(parts[1]), float(parts[2])))
            elif lhs is None:
                rows.append((name, op, name, float(parts[1]), float(parts[2])))
            else:
                rows.append((lhs, op, name, float(parts[1]), float(parts[2])))
    return pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est", "se"])


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(FIX / "oneInt.csv")


@pytest.fixture(scope="module")
def fitted(data):
    return fit_lms(data, **SPEC)


@pytest.fixture(scope="module")
def mplus():
    ref = mplus_results(FIX / "mplus_oneInt_lms.out")
    ref = ref[ref["se"] > 0].copy()                 # drop the fixed first loadings
    swap = ref["op"].eq("~~") & ref["lhs"].eq("Z") & ref["rhs"].eq("X")
    assert len(ref) == 22 and swap.sum() == 1
    return ref


def merged(fitted, mplus):
    got = mplus.merge(fitted.estimates, on=["lhs", "op", "rhs"], suffixes=("_mplus", ""))
    assert len(got) == 22
    return got


def test_interaction_matches_mplus(fitted, mplus):
    assert fitted.method == METHOD_LMS and fitted.converged
    xz = fitted.interaction.set_index("rhs")
    assert_allclose(xz.loc["X:Z", ["est", "se"]].astype(float), [0.654, 0.060], atol=5e-4)
    assert_allclose(fitted.fit["logl"], MPLUS_LOGL, atol=0.01)
    assert fitted.fit["npar"] == 22


def test_all_estimates_within_mplus_convergence(fitted, mplus):
    got = merged(fitted, mplus)
    allowed = np.sqrt(2 * MPLUS_STOP) * got["se"] + 5e-4
    assert np.all(np.abs(got["est"] - got["est_mplus"]) <= allowed), got
    assert_allclose(got["se"], got["se_mplus"], atol=5e-4 + 5e-5)


def test_mplus_point_is_below_our_maximum(fitted, mplus, data):
    at = fitted.estimates.merge(mplus, on=["lhs", "op", "rhs"], how="left",
                                suffixes=("", "_mplus"))
    x = data[MODEL.items].to_numpy()
    ll_mplus = lms_loglik(MODEL, at["est_mplus"].to_numpy(), x, 128)
    gap = fitted.fit["logl"] - ll_mplus
    assert 0 <= gap <= MPLUS_STOP + 0.002, gap
    # the quadrature has converged: 96 nodes give the same log-likelihood
    theta = fitted.estimates["est"].to_numpy()
    assert_allclose(lms_loglik(MODEL, theta, x, 96), fitted.fit["logl"], atol=1e-4)


def test_without_interaction_the_likelihood_is_the_normal_one(data):
    """With the product's coefficient 0 the mixture is one normal: the engine's logl."""
    lin = fit_model("X =~ x1 + x2\nZ =~ z1 + z2\nY =~ y1 + y2\nY ~ X + Z", data)
    table = {(r.lhs, r.op, r.rhs): r.est for r in lin.estimates.itertuples()}
    theta = []
    for lhs, op, rhs in MODEL.rows():
        if op == "~1":
            theta.append(data[lhs].mean())
        elif ":" in rhs:
            theta.append(0.0)
        else:
            theta.append(table.get((lhs, op, rhs), table.get((rhs, op, lhs))))
    ll = lms_loglik(MODEL, np.array(theta), data[MODEL.items].to_numpy(), 128)
    assert_allclose(ll, lin.fit["logl"], rtol=1e-10)


def test_bad_indicator_is_named(data):
    with pytest.raises(InputError, match="q7"):
        fit_lms(data, outcome=("Y", ["y1", "q7"]), focal=SPEC["focal"],
                moderator=SPEC["moderator"])


def test_likelihood_does_not_depend_on_which_factor_is_integrated(data):
    """X*Z = Z*X: conditioning on X's direction or on Z's (another Cholesky order, a
    third exogenous factor W in between) must give the same integral at the same
    parameter values, to the quadrature's accuracy (1e-4 at 128 nodes, see above)."""
    factors = {"X": ("x1", "x2"), "Z": ("z1", "z2"), "W": ("x3", "z3")}
    y = ("Y", ("y1", "y2", "y3"))

    def model(order, moderator):
        return LmsModel(exogenous=tuple((n, factors[n]) for n in order), outcome=y,
                        moderator=moderator)

    a = model("XZW", "W")                    # X's direction integrated; moderator third
    rng = np.random.default_rng(1)
    values = {}
    for lhs, op, rhs in a.rows():
        if op == "~1":
            values[(lhs, op, rhs)] = data[lhs].mean()
        elif op == "~~":
            values[(lhs, op, rhs)] = 1.0 if lhs == rhs else 0.3 * rng.uniform()
        else:
            values[(lhs, op, rhs)] = rng.uniform(0.4, 0.9)

    def theta(m):
        out = []
        for lhs, op, rhs in m.rows():
            key = next(k for k in values if k[1] == op and (
                (k[0], k[2]) == (lhs, rhs) or (op == "~~" and (k[2], k[0]) == (lhs, rhs))
                or (":" in rhs and ":" in k[2] and set(k[2].split(":")) == {"X", "W"}
                    and k[0] == lhs)))
            out.append(values[key])
        return np.array(out)

    b = model("WXZ", "X")                    # the same model, integrated over W
    x = data[a.items].to_numpy()
    xb = data[b.items].to_numpy()
    assert_allclose(lms_loglik(b, theta(b), xb, 128), lms_loglik(a, theta(a), x, 128),
                    rtol=1e-8)
