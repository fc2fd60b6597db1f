"""Ordinal estimation speed: polychorics and WLSMV fits of the example survey vs lavaan.

The paperlike survey (tests/fixtures/reference/paperlike.csv, 600 rows, 37 five-point
items, STG4 and COM4 recoded 6 - x): the polychoric matrix with thresholds (lavaan:
``lavCor(ordered=)``), the 11-factor CFA and the full latent SEM under WLSMV (lavaan:
``cfa/sem(..., ordered=, estimator="WLSMV")``). Prints medians of ``--reps`` runs after a
warm-up and the ratio to lavaan, timed in R in this script when ``Rscript`` with lavaan
is on the PATH (else to the seconds recorded in paperlike_ordinal.json, said so).
Targets (issue 12): polychorics >= 5x, each WLSMV fit >= 3x faster than lavaan.

Also the two-group invariance of ordered items (tests/fixtures/ordinal/hs_ordinal.csv by
school): the configural and the thresholds + loadings WLSMV fits and lavTestLRT between
them (lavaan timed here in R, else the seconds in hs_ordinal_groups.json, without the
LRT).

    python benchmarks/bench_wlsmv.py [--reps 7] [--no-r]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from adoption.sem.engine import blas_one_thread  # noqa: E402
from adoption.sem.polychoric import ordinal_statistics  # noqa: E402
from adoption.sem.wlsmv import fit_ordinal  # noqa: E402
from adoption.sem.wlsmv_groups import fit_ordinal_multigroup  # noqa: E402
from adoption.sem.wlsmv_lrt import difference_test_ordinal  # noqa: E402
from paperlike import load_recoded_items  # noqa: E402

REF = ROOT / "tests" / "fixtures" / "ordinal" / "paperlike_ordinal.json"
GROUPS_REF = ROOT / "tests" / "fixtures" / "ordinal" / "hs_ordinal_groups.json"
GROUPS_DATA = ROOT / "tests" / "fixtures" / "ordinal" / "hs_ordinal.csv"

R_GROUPS = r"""
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2]); model <- paste(readLines(args[3]), collapse = "\n")
items <- paste0("x", 1:9)
f <- function() {
  a <- cfa(model, data = d, ordered = items, estimator = "WLSMV", group = "school")
  b <- cfa(model, data = d, ordered = items, estimator = "WLSMV", group = "school",
           group.equal = c("thresholds", "loadings"))
  lavTestLRT(a, b)
}
invisible(f()); cat(sprintf("%.6f\n", median(sapply(seq_len(reps), function(i) system.time(f())[["elapsed"]]))))
"""

R_SCRIPT = r"""
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2])
meas <- readLines(args[3]); struct <- readLines(args[4])
items <- names(d)
med <- function(f) { f(); median(sapply(seq_len(reps), function(i) system.time(f())[["elapsed"]])) }
pc <- med(function() lavCor(d, ordered = items, output = "fit"))
cf <- med(function() cfa(paste(meas, collapse = "\n"), data = d, ordered = items, estimator = "WLSMV"))
sm <- med(function() sem(paste(c(meas, struct), collapse = "\n"), data = d, ordered = items, estimator = "WLSMV"))
cat(sprintf("%.6f %.6f %.6f\n", pc, cf, sm))
"""


def median_time(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def lavaan_times(data, meas: str, struct: str, reps: int):
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data.to_csv(tmp / "d.csv", index=False)
        (tmp / "m.txt").write_text(meas)
        (tmp / "s.txt").write_text(struct)
        (tmp / "b.R").write_text(R_SCRIPT)
        proc = subprocess.run(["Rscript", str(tmp / "b.R"), str(tmp / "d.csv"), str(reps),
                               str(tmp / "m.txt"), str(tmp / "s.txt")],
                              capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print("lavaan run failed:", proc.stderr.strip().splitlines()[-1:])
        return None
    return [float(v) for v in proc.stdout.split()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--no-r", action="store_true", help="do not time lavaan")
    args = ap.parse_args()
    ref = json.loads(REF.read_text())
    items = list(dict.fromkeys(k.split("|")[0] for k in ref["thresholds"]))
    data = load_recoded_items()[items]
    meas, struct = ref["measurement"], ref["structural"]

    def poly():
        with blas_one_thread():
            ordinal_statistics(data, nacov=False)

    ours = [median_time(poly, args.reps),
            median_time(lambda: fit_ordinal(meas, data), args.reps),
            median_time(lambda: fit_ordinal(meas + "\n" + struct, data), args.reps)]
    lav = None if args.no_r else lavaan_times(data, meas, struct, max(3, args.reps // 2))
    source = "timed now in R"
    if lav is None:
        sec = ref["seconds"]
        lav = [sec["lavaan_polychoric"], sec["lavaan_cfa_wlsmv"], sec["lavaan_sem_wlsmv"]]
        source = "recorded in paperlike_ordinal.json"
    print(f"paperlike: {len(data)} rows x {len(items)} items; lavaan {source}")
    for name, o, lv, target in zip(("polychoric matrix + thresholds", "WLSMV CFA (11 factors)",
                                    "WLSMV latent SEM"), ours, lav, (5, 3, 3)):
        print(f"{name:32s} ours {o:7.3f} s   lavaan {lv:7.3f} s   ratio {lv / o:5.1f}x "
              f"(target >= {target}x)")
    multigroup(args.reps, not args.no_r)


def multigroup(reps: int, use_r: bool) -> None:
    """The two-group ordinal invariance (configural, thresholds + loadings, LRT)."""
    ref = json.loads(GROUPS_REF.read_text())
    hs = pd.read_csv(GROUPS_DATA)
    order = ["Pasteur", "Grant-White"]   # lavaan's order (as they first appear)

    def ours():
        a = fit_ordinal_multigroup(ref["model"], hs, "school", groups=order)
        b = fit_ordinal_multigroup(ref["model"], hs, "school", groups=order,
                                   group_equal=("thresholds", "loadings"))
        difference_test_ordinal(b, a)

    t = median_time(ours, reps)
    lav, source = None, "timed now in R"
    if use_r and shutil.which("Rscript") is not None:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "m.txt").write_text(ref["model"])
            (tmp / "g.R").write_text(R_GROUPS)
            proc = subprocess.run(["Rscript", str(tmp / "g.R"), str(GROUPS_DATA),
                                   str(max(3, reps // 2)), str(tmp / "m.txt")],
                                  capture_output=True, text=True, check=False)
        lav = float(proc.stdout.split()[-1]) if proc.returncode == 0 else None
    if lav is None:
        lav = ref["configural"]["seconds"] + ref["thresholds_loadings"]["seconds"]
        source = "recorded in hs_ordinal_groups.json, fits only"
    print(f"two-group ordinal invariance (HS by school; lavaan {source})")
    print(f"{'configural + thr/loadings + LRT':32s} ours {t:7.3f} s   lavaan {lav:7.3f} s   "
          f"ratio {lav / t:5.1f}x (target >= 3x)")


if __name__ == "__main__":
    main()
