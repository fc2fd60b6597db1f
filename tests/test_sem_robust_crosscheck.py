"""Robust fit measures that the shared reference files do not hold, checked against
values computed here with R 4.2.2 / lavaan 0.6-14 (the script is reproduced below).

Tolerance: rtol 1e-5. The values were printed with 8 decimals; the RMSEA interval
bounds come from root finding (R's uniroot, our brentq at 1e-12), which agree to ~1e-6.

R script (run from the repository root)::

    library(lavaan)
    hs <- ' visual =~ x1 + x2 + x3
            textual =~ x4 + x5 + x6
            speed =~ x7 + x8 + x9 '
    R <- c("baseline.chisq.scaled", "baseline.chisq.scaling.factor",
           "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
           "rmsea.ci.lower.robust", "rmsea.ci.upper.robust")
    for (e in c("MLM", "MLR")) {
      f <- cfa(hs, data = HolzingerSwineford1939, estimator = e)
      cat(e, sprintf("%.8f", unclass(fitMeasures(f, R))), "\\n") }
    d <- read.csv("tests/fixtures/reference/paperlike.csv")
    d$STG4 <- 6 - d$STG4; d$COM4 <- 6 - d$COM4
    comp <- # row means of each construct's items, as in make_reference.R
    m <- "COM ~ EMP + PRV + ACC
    TRU ~ EMP + PRV + COM
    WIL ~ HAB + COM + EB + FC + PU + TRU + STG"
    R2 <- c(R, "chisq.scaled", "chisq.scaling.factor", "cfi.scaled", "tli.scaled",
            "cfi.robust", "tli.robust", "rmsea.scaled", "rmsea.robust")
    f <- sem(m, data = comp, estimator = "MLR")
    cat(sprintf("%.8f", unclass(fitMeasures(f, R2))))
    cat(sprintf("%.8f", head(parameterEstimates(f)$se, 16)))
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from adoption.sem.engine import fit_model
from paperlike import load_composites

FIX = Path(__file__).parent / "fixtures"
KEYS = ["baseline.chisq.scaled", "baseline.chisq.scaling.factor", "rmsea.ci.lower.scaled",
        "rmsea.ci.upper.scaled", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust"]
KEYS2 = KEYS + ["chisq.scaled", "chisq.scaling.factor", "cfi.scaled", "tli.scaled",
                "cfi.robust", "tli.robust", "rmsea.scaled", "rmsea.robust"]
HS = {
    "MLM": [789.29750421, 1.16413847, 0.06841236, 0.10982939, 0.06971130, 0.11339582],
    "MLR": [880.08172138, 1.04405258, 0.07262060, 0.11522567, 0.07206773, 0.11378131],
}
COMP_MLR = [575.41797959, 1.01947243, 0.03173601, 0.07267953, 0.03178779, 0.07309620,
            36.62011649, 1.00889462, 0.95875388, 0.92045390, 0.95918184, 0.92127925,
            0.05189288, 0.05212315]
COMP_MLR_SE = [0.03590106, 0.03556165, 0.03554647, 0.04027458, 0.03845558, 0.04294095,
               0.03647574, 0.04010189, 0.03347657, 0.03111788, 0.03238598, 0.03636973,
               0.03402066, 0.02932665, 0.03274069, 0.02508405]


@pytest.mark.parametrize("estimator", ["MLM", "MLR"])
def test_hs_robust_extras(estimator):
    hs = pd.read_csv(FIX / "data" / "holzinger_swineford.csv")
    model = json.loads((FIX / "reference" / "holzinger_swineford_cfa.json").read_text())["model"]
    fit = fit_model(model, hs, estimator=estimator)
    assert_allclose([fit.fit[k] for k in KEYS], HS[estimator], rtol=1e-5)


def test_composite_mlr_with_fixed_x():
    ref = FIX / "reference"
    comp = load_composites()
    model = json.loads((ref / "paperlike_survey.json").read_text())["composite_path"]["model"]
    fit = fit_model(model, comp, estimator="MLR")
    assert_allclose([fit.fit[k] for k in KEYS2], COMP_MLR, rtol=1e-5)
    assert_allclose(fit.estimates["se"].iloc[:16], COMP_MLR_SE, rtol=1e-5)
