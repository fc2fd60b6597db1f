"""Time `adoption run` on the bundled example end to end, with B = 5000, stage by stage.

    .venv/bin/python benchmarks/bench_run.py [--B 5000] [--runs 3]

Each run is a fresh Python process (imports included, as on the command line) calling
``adoption.pipeline.run(EXAMPLE_SPEC, out=<temp dir>, RunOptions(bootstrap=B))``, the
function behind ``adoption run``; its ``step`` callback stamps the start of every stage,
so each stage's time is the time until the next stamp. Prints the median over
``--runs`` of the total and of every stage, and one plain ``adoption run`` through the
CLI for comparison. Target: under 30 s.

Beside the wall-clock time, the CPU time: of the run's own process per stage, and of
the run with its workers in total (``getrusage`` of the finished child processes). On a
busy machine the wall clock measures the other jobs as much as the run; the CPU time
barely changes with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    c0 = time.process_time()
    sys.path.insert(0, {root!r})
    from adoption import pipeline
    stamps = [("imports", t0, c0)]
    def step(s):
        stamps.append((s, time.perf_counter(), time.process_time()))
    stamps.append(("(pipeline.run)", time.perf_counter(), time.process_time()))
    pipeline.run(pipeline.EXAMPLE_SPEC, None, {out!r},
                 pipeline.RunOptions(bootstrap={B}), step=step)
    stamps.append(("end", time.perf_counter(), time.process_time()))
    stages = [(a[0], b[1] - a[1], b[2] - a[2]) for a, b in zip(stamps, stamps[1:])]
    print(json.dumps({{"total": stamps[-1][1] - t0, "stages": stages}}))
""")


def stage_name(s: str) -> str:
    """Stage label without numbers that vary (file names, draw counts stay)."""
    return s.split(" (")[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--B", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-cli", action="store_true")
    args = ap.parse_args()
    print(f"adoption run, bundled example, B={args.B}; nproc={os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")

    totals, cpus, stages, stage_cpu = [], [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.runs):
            code = CHILD.format(root=str(ROOT), out=str(Path(tmp) / f"run{k}"), B=args.B)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if proc.returncode != 0:
                print(proc.stderr[-3000:])
                raise SystemExit(1)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            totals.append(r["total"])
            for name, secs, cpu in r["stages"]:
                stages.setdefault(stage_name(name), []).append(secs)
                stage_cpu.setdefault(stage_name(name), []).append(cpu)
            print(f"  run {k + 1}: {r['total']:.2f} s, CPU {cpus[-1]:.2f} s with its workers")
        med = statistics.median(totals)
        print(f"\nmedian of {args.runs} runs: {med:.2f} s (target < 30 s: "
              f"{'met' if med < 30 else 'NOT met'})")
        print(f"median CPU time of a run with its workers: {statistics.median(cpus):.2f} s")
        print(f"{'stage (time until the next stage starts)':58s} {'median s':>9s} "
              f"{'CPU s':>7s}")
        for name, secs in stages.items():
            print(f"  {name:56s} {statistics.median(secs):9.2f} "
                  f"{statistics.median(stage_cpu[name]):7.2f}")

        if not args.no_cli:
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "adoption", "run", "--out",
                                   str(Path(tmp) / "cli"), "--bootstrap", str(args.B)],
                                  capture_output=True, text=True, cwd=ROOT)
            status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
            print(f"\n`python -m adoption run --bootstrap {args.B}` once: "
                  f"{time.perf_counter() - t:.2f} s ({status})")


if __name__ == "__main__":
    main()
