"""Time every dashboard page rendered from a run directory (Streamlit's AppTest).

    .venv/bin/python benchmarks/bench_dashboard.py [RUN_DIR] [--runs 7]

Without RUN_DIR the example survey is run into a temporary folder (200 bootstrap draws);
a run without a structural section gets the synthetic one of tests/test_dashboard.py, so
the Model and Effects pages are timed with something to draw.

For each page a fresh ``AppTest`` opens the run (the app script and the sidebar), then
the page is shown; the timed part is the page's script run, as a user switching pages
sees it. The first run of each page fills the caches (run directory, figures) and is
reported apart; the median of the following ``--runs`` is the number to hold against the
1 s target. Times include AppTest's own overhead (building and walking the element tree),
not the browser's drawing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
APP = ROOT / "dashboard" / "app.py"
PAGES = ["overview", "measurement", "model", "effects", "responses", "responses+split", "groups"]
TARGET = 1.0


def example_run(folder: Path) -> Path:
    from adoption.pipeline import EXAMPLE_SPEC, RunOptions, run

    out = folder / "example"
    res = run(EXAMPLE_SPEC, out=out, options=RunOptions(bootstrap=200, seed=1))
    if not res.results.get("structural"):
        sys.path.insert(0, str(ROOT / "tests"))
        from test_dashboard import synthetic_structural

        p = out / "results.json"
        p.write_text(json.dumps(synthetic_structural(json.loads(p.read_text()))))
        print("(no structural section in this run: the synthetic one of tests/test_dashboard.py added)")
    return out


def time_page(root: Path, name: str, page: str) -> float:
    """Seconds for one script run of ``page`` ("responses+split": split by the first group)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["run"] = name
    if page == "overview":
        t = time.perf_counter()
        at.run()
    else:
        at.run()
        at.switch_page(f"views/{page.split('+')[0]}.py")
        if page.endswith("+split"):
            at.run()
            box = at.selectbox(key="resp-split")
            box.set_value(box.options[1] if len(box.options) > 1 else box.options[0])
        t = time.perf_counter()
        at.run()
    dt = time.perf_counter() - t
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].value}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", nargs="?", type=Path)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import logging
    logging.getLogger("streamlit").setLevel(logging.ERROR)

    tmp = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    try:
        if args.run_dir is None:
            run_dir = example_run(tmp)
        else:
            run_dir = tmp / "run"
            shutil.copytree(args.run_dir, run_dir)
        os.environ["ADOPTION_DASHBOARD_ROOT"] = str(run_dir.parent)
        print(f"run directory: {args.run_dir or run_dir}; {args.runs} timed runs per page "
              f"after one that fills the caches\n")
        print(f"{'page':<16} {'first':>8} {'median':>8} {'min':>8} {'max':>8}")
        worst = 0.0
        for page in PAGES:
            first = time_page(run_dir.parent, run_dir.name, page)
            ts = [time_page(run_dir.parent, run_dir.name, page) for _ in range(args.runs)]
            med = statistics.median(ts)
            worst = max(worst, med)
            print(f"{page:<16} {first:8.3f} {med:8.3f} {min(ts):8.3f} {max(ts):8.3f}")
        print(f"\nslowest median {worst:.3f} s ({'within' if worst < TARGET else 'OVER'} the "
              f"{TARGET:.0f} s target)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
