"""Time the batched path-model bootstrap against per-draw baselines.

    .venv/bin/python benchmarks/bench_bootstrap.py [--B 5000] [--runs 5]

Data: the paperlike composites of tests/fixtures/reference (600 rows, 11 composites,
3 equations, 13 coefficients). The timed call is the whole of
``bootstrap_effects(data, model, B)``: the full-sample fit, B draws, the jackknife,
every direct / indirect / total-indirect / total effect per draw on both scales, and
the perc, bca.simple and BCa intervals.

Baselines, run in this script on the same machine, extrapolated linearly to B:

* naive loop: ``np.linalg.lstsq`` per equation per draw, effects per draw (200 draws);
* the refit route, ``bootstrap_refit`` with ``OLSRefit`` on 2 workers (400 draws);
* semopy: ``Model(desc).fit(draw)`` per draw (50 draws), if semopy imports;
* lavaan: the 63.0 s the reference script took for 2000 draws (read from the fixture),
  scaled to B, for orientation only (different machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adoption.structural.bootstrap import bootstrap_effects  # noqa: E402
from adoption.structural.refit import OLSRefit, bootstrap_refit  # noqa: E402
from adoption.structural.effects import effect_definitions, evaluate_effects  # noqa: E402
from adoption.structural.paths import parse_structural  # noqa: E402

REF = ROOT / "tests" / "fixtures" / "reference"


def load():
    ref = json.loads((REF / "paperlike_survey.json").read_text())
    params = json.loads((REF / "paperlike.params.json").read_text())
    d = pd.read_csv(REF / "paperlike.csv")
    for r in params["reversed_items"]:
        d[r] = 6 - d[r]
    comp = pd.DataFrame({c: d[it].mean(axis=1) for c, it in params["items"].items()})
    return ref["composite_path"], comp


def median_time(fn, runs: int) -> float:
    """Median wall time of ``runs`` calls."""
    return median_times(fn, runs)[0]


def median_times(fn, runs: int) -> tuple[float, float, float]:
    """Median wall time, minimum wall time and median process CPU time (all threads)
    of ``runs`` calls. On a shared machine the CPU time is the fairer figure: it does
    not count time spent waiting for a core."""
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def naive_loop(comp: pd.DataFrame, model, draws: int, seed: int = 1) -> np.ndarray:
    """The obvious implementation: resample, lstsq each equation, evaluate effects."""
    defs = effect_definitions(model)
    Z = comp[list(model.variables)].to_numpy(float)
    idx = {v: i for i, v in enumerate(model.variables)}
    rng = np.random.default_rng(seed)
    out = np.empty((draws, len(defs)))
    for b in range(draws):
        rows = rng.integers(0, len(Z), size=len(Z))
        Zb = Z[rows]
        coef = []
        for reg in model.regressions:
            X = np.column_stack([np.ones(len(Zb)), Zb[:, [idx[x] for x in reg.rhs]]])
            coef.extend(np.linalg.lstsq(X, Zb[:, idx[reg.lhs]], rcond=None)[0][1:])
        out[b] = evaluate_effects(defs, np.array(coef))
    return out


def semopy_loop(comp: pd.DataFrame, model, draws: int, seed: int = 1) -> None:
    import semopy  # noqa: F401  (only the timing baseline uses it)

    desc = "\n".join(f"{r.lhs} ~ " + " + ".join(r.rhs) for r in model.regressions)
    rng = np.random.default_rng(seed)
    for _ in range(draws):
        rows = rng.integers(0, len(comp), size=len(comp))
        m = semopy.Model(desc)
        m.fit(comp.iloc[rows].reset_index(drop=True))
        m.inspect()


def moderated_mediation(comp: pd.DataFrame, B: int, runs: int) -> None:
    """Time PROCESS model 7 (EMP -> COM -> WIL, HAB moderating EMP -> COM): conditional
    indirect effects at HAB's mean and +/- 1 SD and the index, perc and BCa intervals."""
    from adoption.structural.conditional import (bootstrap_conditional,
                                                 conditional_definitions)
    from adoption.structural.moderation import (add_products, expand_interactions,
                                                probe_values)

    syntax, products = expand_interactions("COM ~ EMP + HAB + EMP:HAB\nWIL ~ COM + EMP")
    data = add_products(comp, products, "mean")
    model = parse_structural(syntax)
    w = probe_values(comp["HAB"])
    probes = {k: {"HAB": v - comp["HAB"].mean()} for k, v in w.items()}
    defs = conditional_definitions(model, products, "EMP", "WIL", probes, w)
    wall, best, cpu = median_times(lambda: bootstrap_conditional(data, model, defs, B=B,
                                                                 seed=1), runs)
    print(f"moderated mediation (PROCESS model 7), B={B}: median {wall:.3f} s wall "
          f"(best {best:.3f} s; CPU {cpu:.3f} s); {len(defs)} effects, perc + BCa")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--B", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-semopy", action="store_true")
    args = ap.parse_args()
    B = args.B

    spec, comp = load()
    model = parse_structural(spec["model"])
    print(f"paperlike composites: N={len(comp)}, {len(model.variables)} variables, "
          f"{len(model.edges)} coefficients; cpu_count={os.cpu_count()}")

    bootstrap_effects(comp, model, B=200, seed=0)                 # warm-up (imports, caches)
    fast, best, cpu = median_times(lambda: bootstrap_effects(comp, model, B=B, seed=1),
                                   args.runs)
    res = bootstrap_effects(comp, model, B=B, seed=1)
    n_eff = res.table["name"].nunique()
    print(f"batched bootstrap, B={B}: median of {args.runs} runs {fast:.3f} s wall "
          f"(best {best:.3f} s; median CPU {cpu:.3f} s over all threads; "
          f"load average {os.getloadavg()[0]:.1f})")
    print(f"  {n_eff} effects x 2 scales (unstandardized, std.all) x perc/bca.simple/bca; "
          f"{res.n_failed} draws failed")
    print(f"  target < 0.25 s: {'met' if fast < 0.25 else 'NOT met'}")
    moderated_mediation(comp, B, args.runs)

    rows = []
    n_naive = 200
    t = median_time(lambda: naive_loop(comp, model, n_naive), 3) * B / n_naive
    rows.append(("naive lstsq loop", n_naive, t))

    n_refit = 400
    t = median_time(lambda: bootstrap_refit(comp, model, OLSRefit(model), B=n_refit, seed=1,
                                            n_jobs=2), 3) * B / n_refit
    rows.append(("bootstrap_refit(OLSRefit), 2 workers", n_refit, t))

    if not args.no_semopy:
        try:
            n_sem = 50
            t = median_time(lambda: semopy_loop(comp, model, n_sem), 1) * B / n_sem
            rows.append(("semopy refits", n_sem, t))
        except ImportError:
            print("  semopy not importable: skipped")

    r_seconds = spec["bootstrap"]["seconds"] * B / spec["bootstrap"]["B"]
    rows.append(("lavaan (reference run, other machine)", spec["bootstrap"]["B"], r_seconds))

    print(f"\n{'baseline':42s} {'draws timed':>11s} {'s for B':>10s} {'x slower':>9s}")
    for name, n, secs in rows:
        print(f"{name:42s} {n:11d} {secs:10.2f} {secs / fast:9.0f}")


if __name__ == "__main__":
    main()
