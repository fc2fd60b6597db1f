"""Time the composite bootstrap as a run pays for it: the structural stage with B = 5000
against the same stage with B = 0, in one process.

    .venv/bin/python benchmarks/bench_bootstrap_in_run.py [--B 5000] [--runs 15]

The bundled example is loaded and cleaned once; then ``fit_structural`` (composite
model, alternatives, effects, hypotheses; the latent SEM left out, since it does not
depend on B) followed by what the pipeline does with its result (``to_dict`` and the
JSON text of results.json, the effects tables as CSV) is timed alternately with
``bootstrap=B`` and ``bootstrap=0``, after a warm-up of each. The in-run cost of the
bootstrap is the difference of the medians. For comparison the batched core alone,
``bootstrap_effects`` on the same complete composites (what bench_bootstrap.py times),
is timed in the same process. Target: in-run cost under 0.1 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adoption.clean import clean  # noqa: E402
from adoption.jsonable import to_jsonable  # noqa: E402
from adoption.load import load_responses  # noqa: E402
from adoption.pipeline import EXAMPLE_SPEC  # noqa: E402
from adoption.spec import load_spec  # noqa: E402
from adoption.structural.bootstrap import bootstrap_effects  # noqa: E402
from adoption.structural.paths import parse_structural  # noqa: E402
from adoption.structural.stage import composite_scores, fit_structural  # noqa: E402


def stage(cleaned, survey, B: int) -> None:
    """The structural stage as the pipeline runs it, and what it writes of it."""
    res = fit_structural(cleaned, survey, bootstrap=B, seed=1, latent=False)
    json.dumps(to_jsonable(res.to_dict()))
    for frame in (res.composite.effects, res.composite.model_fit.estimates, res.hypotheses):
        frame.to_csv(io.StringIO(), index=False)


def timed(fn) -> tuple[float, float]:
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--B", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    survey = load_spec(EXAMPLE_SPEC)
    cleaned = clean(load_responses(survey.data_path(), survey), survey)
    model = parse_structural(survey.structural)
    scores, _ = composite_scores(cleaned.data, survey)
    complete = scores[list(model.variables)].dropna()
    print(f"in-run bootstrap cost, bundled example ({len(complete)} complete rows), "
          f"B={args.B}, {args.runs} runs each; nproc={os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")

    with_b, without, core = [], [], []
    stage(cleaned, survey, args.B)
    stage(cleaned, survey, 0)
    for _ in range(args.runs):
        with_b.append(timed(lambda: stage(cleaned, survey, args.B)))
        without.append(timed(lambda: stage(cleaned, survey, 0)))
        core.append(timed(lambda: bootstrap_effects(complete, model, B=args.B, seed=1)))

    def med(xs, i):
        return statistics.median(x[i] for x in xs)

    for i, what in ((0, "wall"), (1, "cpu")):
        a, b, k = med(with_b, i), med(without, i), med(core, i)
        print(f"{what:>4}: stage B={args.B} {a:.3f} s, B=0 {b:.3f} s, in-run cost "
              f"{a - b:.3f} s; core alone {k:.3f} s; in-run / core {(a - b) / k:.2f}")


if __name__ == "__main__":
    main()
