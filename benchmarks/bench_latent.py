"""Time the latent SEM of the example (one fit, and B bootstrap refits) against lavaan.

    .venv/bin/python benchmarks/bench_latent.py [--reps 5] [--B 1000]
        [--lavaan-B 1000] [--no-r] [--no-semopy]

Model: the example survey's measurement model plus its structural formulas
(``survey.measurement_syntax() + "\\n" + survey.structural``: 12 factors, 37 items,
13 regressions); data: the cleaned example (``prepare(spec)[2].data[items]``, 545 rows,
about half of them with a missing item).

Timed here, medians of ``--reps`` runs after a warm-up:

* ``fit_model`` listwise and with ``missing="fiml"`` (estimates, SEs, fit measures);
* B bootstrap refits of the listwise model: ``bootstrap_refit`` with the engine's
  ``LeanRefit`` (warm starts, no SEs per draw) on 2 workers, the whole call (full-sample
  refit, worker start on the first run, percentile intervals); and B FIML refits
  (``--fiml-B`` draws, extrapolated to B);
* semopy (if importable): one ``Model.fit`` of the same model (listwise), and a loop
  of refits extrapolated to B.

lavaan (if ``Rscript`` with lavaan is on the PATH): the same data written to a temporary
CSV, timed inside R with ``system.time``: ``sem()`` listwise (``--reps`` runs) and with
``missing = "ml"`` (3 runs), and ``sem(..., se = "bootstrap", bootstrap = --lavaan-B)``
listwise once, scaled to B. Its estimates are compared with ours (largest absolute
difference). Without R the script says so and times ours only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adoption.pipeline import EXAMPLE_SPEC, prepare  # noqa: E402
from adoption.sem.engine import LeanRefit, fit_model  # noqa: E402
from adoption.structural.refit import bootstrap_refit  # noqa: E402
from adoption.structural.paths import parse_structural  # noqa: E402

R_SCRIPT = r"""
suppressMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
syn <- paste(readLines(args[2]), collapse = "\n")
reps <- as.integer(args[3]); bB <- as.integer(args[4])
timeit <- function(n, expr) {
  t <- numeric(n)
  for (i in seq_len(n)) t[i] <- system.time(f <- eval.parent(substitute(expr)))[["elapsed"]]
  list(median = median(t), fit = f)
}
lw <- timeit(reps, sem(syn, d))
ml <- timeit(min(reps, 3), sem(syn, d, missing = "ml"))
set.seed(1)
bt <- if (bB > 0) system.time(sem(syn, d, se = "bootstrap", bootstrap = bB))[["elapsed"]] else NA
pe <- function(f) { p <- parameterEstimates(f); p[p$op != "~1", c("lhs", "op", "rhs", "est")] }
write_json(list(listwise = lw$median, fiml = ml$median, boot = bt, boot_B = bB,
                version = as.character(packageVersion("lavaan")),
                est_listwise = pe(lw$fit), est_fiml = pe(ml$fit)),
           args[5], digits = 12, auto_unbox = TRUE)
"""


def median_time(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def max_diff(ours: pd.DataFrame, theirs: list[dict]) -> float:
    """Largest |est difference| over the (lhs, op, rhs) rows both tables have."""
    key = lambda r: (r["lhs"], r["op"], r["rhs"])  # noqa: E731
    mine = {key(r): r["est"] for r in ours.to_dict("records")}
    mine.update({(r["rhs"], r["op"], r["lhs"]): r["est"] for r in ours.to_dict("records")
                 if r["op"] == "~~"})
    diffs = [abs(mine[key(r)] - r["est"]) for r in theirs if key(r) in mine]
    return max(diffs) if diffs else float("nan")


def run_lavaan(data: pd.DataFrame, syntax: str, reps: int, boot_b: int) -> dict | None:
    if shutil.which("Rscript") is None:
        print("Rscript not found: lavaan not timed (install R with lavaan to compare).")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data.to_csv(tmp / "data.csv", index=False)
        (tmp / "model.txt").write_text(syntax)
        (tmp / "bench.R").write_text(R_SCRIPT)
        proc = subprocess.run(["Rscript", str(tmp / "bench.R"), str(tmp / "data.csv"),
                               str(tmp / "model.txt"), str(reps), str(boot_b),
                               str(tmp / "out.json")], capture_output=True, text=True)
        if proc.returncode != 0 or not (tmp / "out.json").exists():
            print("lavaan run failed (is lavaan installed?):", proc.stderr.strip()[-500:])
            return None
        return json.loads((tmp / "out.json").read_text())


def semopy_times(data: pd.DataFrame, syntax: str, reps: int, draws: int):
    try:
        import semopy
    except ImportError:
        return None
    import logging

    logging.getLogger("semopy").setLevel(logging.ERROR)
    complete = data.dropna()
    one = median_time(lambda: semopy.Model(syntax).fit(complete), reps)
    rng = np.random.default_rng(1)

    def loop():
        for _ in range(draws):
            rows = rng.integers(0, len(complete), size=len(complete))
            semopy.Model(syntax).fit(complete.iloc[rows].reset_index(drop=True))
    return one, median_time(loop, 1) / draws


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--B", type=int, default=1000)
    ap.add_argument("--lavaan-B", type=int, default=1000,
                    help="lavaan bootstrap draws actually run (scaled to --B)")
    ap.add_argument("--fiml-B", type=int, default=200, help="FIML refits timed (scaled to B)")
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-semopy", action="store_true")
    args = ap.parse_args()

    survey, _, cleaned = prepare(EXAMPLE_SPEC)
    items = list(cleaned.items)
    data = cleaned.data[items].reset_index(drop=True)
    syntax = survey.measurement_syntax() + "\n" + survey.structural
    model = parse_structural(survey.structural)
    print(f"example latent SEM: N={len(data)} ({int(data.notna().all(axis=1).sum())} complete), "
          f"{len(items)} items, {len(survey.constructs)} factors, {len(model.edges)} "
          f"regressions; nproc={os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")

    fits = {}
    ours = {}
    for missing in ("listwise", "fiml"):
        fits[missing] = fit_model(syntax, data, missing=missing)  # warm-up (imports)
        ours[missing] = median_time(lambda: fit_model(syntax, data, missing=missing), args.reps)
        print(f"ours  one fit, {missing:8s}: median {ours[missing]:.3f} s "
              f"(converged={fits[missing].converged}, chisq={fits[missing].fit['chisq']:.3f})")

    boot = []
    for run in range(2):  # first run starts the worker processes
        t = time.perf_counter()
        refit = LeanRefit.from_fit(syntax, fits["listwise"])
        res = bootstrap_refit(data, model, refit, B=args.B, seed=run + 1, n_jobs=2)
        boot.append(time.perf_counter() - t)
        print(f"ours  bootstrap B={args.B} listwise, 2 workers, run {run + 1}: {boot[-1]:.2f} s "
              f"({res.n_failed} failed)")
    refit_f = LeanRefit.from_fit(syntax, fits["fiml"])
    t = time.perf_counter()
    bootstrap_refit(data, model, refit_f, B=args.fiml_B, seed=1, n_jobs=2)
    boot_fiml = (time.perf_counter() - t) * args.B / args.fiml_B
    print(f"ours  bootstrap FIML, {args.fiml_B} draws on 2 workers, scaled to B={args.B}: "
          f"{boot_fiml:.2f} s")

    sem = None if args.no_semopy else semopy_times(data, syntax, min(args.reps, 3), 10)
    if sem is not None:
        print(f"semopy one fit (listwise): median {sem[0]:.3f} s; refit loop "
              f"{sem[1] * args.B:.1f} s for B={args.B} (10 draws timed)")

    lav = None if args.no_r else run_lavaan(data, syntax, args.reps, args.lavaan_B)
    if lav is None:
        if args.no_r:
            print("lavaan not timed (--no-r).")
        return
    lav_boot = lav["boot"] * args.B / lav["boot_B"] if lav["boot_B"] else float("nan")
    print(f"lavaan {lav['version']} one fit listwise: median {lav['listwise']:.3f} s; "
          f"missing='ml': median {lav['fiml']:.3f} s; se='bootstrap' B={lav['boot_B']}: "
          f"{lav['boot']:.2f} s")
    for missing in ("listwise", "fiml"):
        d = max_diff(fits[missing].estimates, lav[f"est_{missing}"])
        print(f"  estimates vs lavaan, {missing}: largest |difference| {d:.2e}")
    best_boot = min(boot)
    print(f"\n{'':32s} {'ours s':>8s} {'lavaan s':>9s} {'lavaan/ours':>12s}")
    rows = [("one fit, listwise", ours["listwise"], lav["listwise"]),
            ("one fit, FIML", ours["fiml"], lav["fiml"]),
            (f"bootstrap B={args.B} (run 1, cold)", boot[0], lav_boot),
            (f"bootstrap B={args.B} (run 2)", boot[1], lav_boot)]
    for name, a, b in rows:
        print(f"{name:32s} {a:8.3f} {b:9.3f} {b / a:12.2f}")
    print(f"targets: one fit no slower than lavaan: "
          f"{'met' if ours['listwise'] <= lav['listwise'] and ours['fiml'] <= lav['fiml'] else 'NOT met'}; "
          f"bootstrap >= 3x faster: {'met' if lav_boot / best_boot >= 3 else 'NOT met'} "
          f"({lav_boot / best_boot:.1f}x)")


if __name__ == "__main__":
    main()
