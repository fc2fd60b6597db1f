"""Time loading and cleaning a large SPSS file: 1,000,000 respondents x 40 items.

    .venv/bin/python benchmarks/bench_load.py [--rows 1000000] [--keep DIR] [--mardia | --full]

Writes, into a temporary folder, a .sav made with numpy in chunks (40 five-point items
in 8 constructs, an id, an attention check and a completion time; value labels on the
items; 99 and -9 declared as user-missing codes; about 3% of answers missing, a third of
them written as a code; 1% straight-liners, 1% random responders, 0.5% duplicated
submissions, 0.5% break-offs) and a matching spec with every screening rule on
(attention check, minimum time, longstring, IRV, Mahalanobis, duplicate ids and rows,
missing share). Then, in a subprocess, times ``load_responses`` and ``clean`` and reports
the subprocess's peak resident memory (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``).

Targets: load + clean under 30 s, peak memory under 3 GB.

``--full`` times the whole ``adoption run`` instead (B = 0, no group comparisons), per
stage, and Mardia's tests on their own; ``--mardia`` times Mardia's tests on the cleaned
responses (they once built an n x n matrix: 7.28 TiB at a million rows).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CONSTRUCTS = [f"C{k}" for k in range(1, 9)]
ITEMS = [f"{c}_{j}" for c in CONSTRUCTS for j in range(1, 6)]

CHILD = textwrap.dedent("""
    import os, sys, time, json
    sys.path.insert(0, {root!r})
    def cpu():  # this process and the children it waited for (the reader's guard child)
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system
    t0 = time.perf_counter()
    from adoption.spec import load_spec
    from adoption.load import load_responses
    from adoption.clean import clean
    survey = load_spec({spec!r})
    t1, c1 = time.perf_counter(), cpu()
    loaded = load_responses({data!r}, survey)
    t2, c2 = time.perf_counter(), cpu()
    cleaned = clean(loaded, survey)
    t3 = time.perf_counter()
    print(json.dumps({{"imports_spec": t1 - t0, "load": t2 - t1, "load_cpu": c2 - c1, "clean": t3 - t2,
                      "rows_in": cleaned.flow.rows_in, "rows_analysed": cleaned.flow.rows_analysed,
                      "excluded": dict(cleaned.flow.excluded)}}))
""")

FULL_CHILD = textwrap.dedent("""
    import sys, time, json
    sys.path.insert(0, {root!r})
    from adoption.pipeline import RunOptions, run
    from adoption.measurement.normality import mardia
    marks = [("start", time.perf_counter())]
    res = run({spec!r}, {data!r}, {out!r}, RunOptions(bootstrap=0, groups=False),
              step=lambda s: marks.append((s, time.perf_counter())))
    marks.append(("done", time.perf_counter()))
    stages = {{a: b2 - b1 for (a, b1), (_, b2) in zip(marks, marks[1:])}}
    t = time.perf_counter()
    m = mardia(res.cleaned.data[list(res.cleaned.items)])
    print(json.dumps({{"total": marks[-1][1] - marks[0][1], "stages": stages,
                      "mardia": time.perf_counter() - t, "mardia_n": m.n,
                      "rows_analysed": res.cleaned.flow.rows_analysed}}))
""")

MARDIA_CHILD = textwrap.dedent("""
    import sys, time, json, resource
    sys.path.insert(0, {root!r})
    from adoption.spec import load_spec
    from adoption.load import load_responses
    from adoption.clean import clean
    from adoption.measurement.normality import mardia
    survey = load_spec({spec!r})
    cleaned = clean(load_responses({data!r}, survey), survey)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    m = mardia(cleaned.data[list(cleaned.items)])
    print(json.dumps({{"mardia": time.perf_counter() - t, "mardia_n": m.n, "p": m.p,
                      "rss_before_gb": before / 1024 ** 2,
                      "rss_after_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2}}))
""")

PROFILE_CHILD = textwrap.dedent("""
    import sys, cProfile, pstats
    sys.path.insert(0, {root!r})
    from adoption.spec import load_spec
    from adoption.load import load_responses
    from adoption.clean import clean
    survey = load_spec({spec!r})
    pr = cProfile.Profile(); pr.enable()
    cleaned = clean(load_responses({data!r}, survey), survey)
    pr.disable()
    pstats.Stats(pr).sort_stats("cumtime").print_stats(25)
""")


def spec_text(data_name: str) -> str:
    lines = [f"title: Load benchmark", f"data: {data_name}", "id: resp_id", "scale:",
             "  min: 1", "  max: 5", "constructs:"]
    for c in CONSTRUCTS:
        lines += [f"  {c}:", "    items:"]
        lines += [f"      {c}_{j}: Item {j} of {c}." for j in range(1, 6)]
    lines += ["structural: |", "  C8 ~ C1 + C2 + C3 + C4", "  C7 ~ C5 + C6 + C8"]
    lines += ["missing:", "  codes: [99, -9]", "  method: fiml",
              "screening:", "  attention_checks:", "    - column: ATTN1", "      correct: [4]",
              "  longstring_max: 10", "  irv_min: 0.3", "  mahalanobis_p: 0.001",
              "  min_seconds: 120", "  time_column: duration_sec", "  duplicate_ids: true",
              "  duplicate_rows: true", "  max_missing_share: 0.5"]
    return "\n".join(lines) + "\n"


def make_data(n: int, seed: int = 1, chunk: int = 200_000) -> pd.DataFrame:
    """n rows of the benchmark survey, generated chunk by chunk (float64 columns)."""
    rng = np.random.default_rng(seed)
    p = len(ITEMS)
    x = np.empty((n, p))
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        f = rng.standard_normal((m, len(CONSTRUCTS)))
        f = f + 0.5 * rng.standard_normal((m, 1))  # correlated factors
        lat = np.repeat(f, 5, axis=1) * 0.75 + 0.66 * rng.standard_normal((m, p))
        ans = np.digitize(lat, [-1.6, -0.7, 0.2, 1.1]) + 1.0
        kind = rng.random(m)
        ans[kind < 0.01] = rng.integers(1, 6, size=(int((kind < 0.01).sum()), 1))  # straight
        rnd = (kind >= 0.01) & (kind < 0.02)
        ans[rnd] = rng.integers(1, 6, size=(int(rnd.sum()), p))  # random responders
        miss = rng.random((m, p)) < 0.03
        brk = (kind >= 0.02) & (kind < 0.025)  # break-offs: stop after a few items
        miss[brk, 8:] = True
        coded = miss & (rng.random((m, p)) < 0.33)
        ans[miss] = np.nan
        ans[coded] = np.where(rng.random(int(coded.sum())) < 0.5, 99.0, -9.0)
        x[start:start + m] = ans
    df = pd.DataFrame(x, columns=ITEMS)
    df.insert(0, "resp_id", np.arange(1, n + 1, dtype=float))
    df["ATTN1"] = np.where(rng.random(n) < 0.98, 4.0, rng.integers(1, 6, n).astype(float))
    df["duration_sec"] = np.round(rng.lognormal(6.0, 0.4, n))
    dup = rng.choice(n, size=n // 200, replace=False)  # resubmissions: new id, same answers
    copies = df.iloc[dup].copy()
    copies["resp_id"] = np.arange(n + 1, n + 1 + len(dup), dtype=float)
    return pd.concat([df, copies], ignore_index=True)


def write_sav(df: pd.DataFrame, path: Path) -> None:
    import pyreadstat

    labels = {1: "Strongly disagree", 2: "Disagree", 3: "Neutral", 4: "Agree",
              5: "Strongly agree", 99: "No answer", -9: "Not shown"}
    pyreadstat.write_sav(
        df, str(path),
        column_labels={c: f"Item {c}" for c in ITEMS},
        variable_value_labels={c: labels for c in ITEMS + ["ATTN1"]},
        missing_ranges={c: [99, -9] for c in ITEMS},
        variable_measure={c: "ordinal" for c in ITEMS})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", help="write the files into this folder and keep them")
    ap.add_argument("--profile", action="store_true", help="cProfile load + clean")
    ap.add_argument("--mardia", action="store_true",
                    help="time Mardia's tests on the cleaned responses (after load + clean)")
    ap.add_argument("--full", action="store_true",
                    help="time the whole `adoption run` (B = 0, no groups) instead of load + clean")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        data, spec = folder / "big.sav", folder / "survey.yaml"
        t = time.perf_counter()
        if not data.exists():
            df = make_data(args.rows)
            write_sav(df, data)
            del df
        spec.write_text(spec_text(data.name))
        print(f"data: {args.rows:,} rows + duplicates x {len(ITEMS)} items, "
              f"{data.stat().st_size / 1e6:.0f} MB .sav, written in {time.perf_counter() - t:.1f} s; "
              f"nproc={os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
        child = (FULL_CHILD if args.full else MARDIA_CHILD if args.mardia
                 else PROFILE_CHILD if args.profile else CHILD)
        code = child.format(root=str(ROOT), spec=str(spec), data=str(data), out=str(folder / "run"))
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            raise SystemExit(1)
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2
        print(proc.stdout.strip())
        if args.full:
            import json

            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"adoption run (B = 0, no groups): {r['total']:.1f} s, {r['rows_analysed']:,} rows "
                  f"analysed; Mardia's tests alone {r['mardia']:.1f} s on {r['mardia_n']:,} complete "
                  f"rows; subprocess wall {wall:.1f} s; peak RSS {peak_gb:.2f} GB")
        elif args.mardia:
            import json

            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"Mardia's tests: {r['mardia']:.1f} s on {r['mardia_n']:,} complete rows x {r['p']} "
                  f"items; peak RSS {r['rss_before_gb']:.2f} GB before, {r['rss_after_gb']:.2f} GB after")
        elif not args.profile:
            import json

            r = json.loads(proc.stdout.strip().splitlines()[-1])
            total = r["load"] + r["clean"]
            print(f"load_responses {r['load']:.1f} s ({r['load_cpu']:.1f} s CPU), clean {r['clean']:.1f} s: {total:.1f} s "
                  f"(target < 30 s: {'met' if total < 30 else 'NOT met'}); subprocess wall "
                  f"{wall:.1f} s; peak RSS {peak_gb:.2f} GB (target < 3 GB: "
                  f"{'met' if peak_gb < 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
