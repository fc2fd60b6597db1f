"""Time the Monte Carlo power analysis against per-replicate baselines.

    .venv/bin/python benchmarks/bench_power.py [--reps 1000] [--runs 3] [--jobs 2]

Spec: surveys/ai_mental_health (37 items, 11 composites, 3 equations, 13 paths, 12
indirect effects). The timed call is the whole of ``power_analysis(survey, ns=[150, 200,
300, 500], reps)``: the exact population values, every replicate (simulate clean answers,
score composites, fit, delta-method effects), the summaries and N for 80 % power.

Baselines, timed here on a few replicates per N and extrapolated linearly to ``reps``
(per core; divide by the worker count for a parallel run):

* the same replicates fitted one at a time with ``fit_path_ols`` + ``path_effects``;
* the same replicates fitted with the SEM engine, ``fit_model(syntax, composites)`` +
  ``path_effects`` (what a replicate would cost through the general route).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adoption.power import power_analysis, power_design  # noqa: E402
from adoption.sem.engine import fit_model  # noqa: E402
from adoption.spec import load_spec  # noqa: E402
from adoption.structural.ols import fit_path_ols  # noqa: E402
from adoption.structural.effects import coefficients_from_estimates, path_effects  # noqa: E402

NS = (150, 200, 300, 500)


def median_times(fn, runs: int) -> tuple[float, float, float]:
    """Median wall time, minimum wall time and median CPU time of this process (the
    workers' CPU is not counted) of ``runs`` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def replicate_frames(design, n: int, reps: int, seed: int = 1) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    cols = list(design.model.variables)
    return [pd.DataFrame(design.population.answers(rng, n) @ design.weights, columns=cols)
            for _ in range(reps)]


def per_replicate_seconds(fit_one, design, reps: int) -> float:
    """Seconds for ``reps`` replicates at each N in NS (simulation included)."""
    total = 0.0
    for n in NS:
        t = time.perf_counter()
        for frame in replicate_frames(design, n, reps):
            fit_one(frame)
        total += time.perf_counter() - t
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--engine-reps", type=int, default=5, help="replicates per N for the engine baseline")
    args = ap.parse_args()

    survey = load_spec(ROOT / "surveys" / "ai_mental_health")
    design = power_design(survey)
    model = design.model
    print(f"spec: ai_mental_health, {len(design.population.items)} items, "
          f"{len(model.variables)} composites, {len(model.edges)} paths, "
          f"{len(design.definitions)} effects reported; Ns {list(NS)}; "
          f"cpu_count={os.cpu_count()}")

    power_analysis(survey, ns=[150], reps=50, seed=0, n_jobs=args.jobs)   # warm-up (pool)
    total = len(NS) * args.reps
    results = {}
    for label, jobs in ((f"{args.jobs} workers (loky)", args.jobs), ("serial", 1)):
        wall, best, cpu = median_times(
            lambda: power_analysis(survey, ns=NS, reps=args.reps, seed=1, n_jobs=jobs),
            args.runs)
        results[label] = wall
        print(f"power_analysis, {args.reps} reps x {len(NS)} Ns = {total} replicates, {label}: "
              f"median of {args.runs} runs {wall:.2f} s wall (best {best:.2f} s; "
              f"{wall / total * 1e3:.2f} ms per replicate; load average "
              f"{os.getloadavg()[0]:.1f})")
    fast = results[f"{args.jobs} workers (loky)"]
    print(f"  target: well under 60 s on {args.jobs} cores -> "
          f"{'met' if fast < 30 else 'NOT met'} ({fast:.1f} s)")

    syntax = survey.structural

    def ols_one(frame):
        fit = fit_path_ols(frame, model)
        path_effects(model, fit.coefficients, fit.vcov)

    def engine_one(frame):
        mf = fit_model(syntax, frame, estimator="ML")
        coef, _ = coefficients_from_estimates(mf.estimates)
        path_effects(model, coef, mf.vcov)

    rows = []
    n_ols = 25
    rows.append(("fit_path_ols + path_effects, one by one", n_ols,
                 per_replicate_seconds(ols_one, design, n_ols) * args.reps / n_ols))
    n_eng = args.engine_reps
    rows.append(("SEM engine fit_model + path_effects", n_eng,
                 per_replicate_seconds(engine_one, design, n_eng) * args.reps / n_eng))
    serial = results["serial"]
    print(f"\n{'baseline (1 core, extrapolated)':44s} {'reps/N timed':>12s} {'s for all':>10s} "
          f"{'x serial':>9s} {'x ' + str(args.jobs) + ' workers':>12s}")
    for name, n, secs in rows:
        print(f"{name:44s} {n:12d} {secs:10.1f} {secs / serial:9.1f} {secs / fast:12.1f}")


if __name__ == "__main__":
    main()
