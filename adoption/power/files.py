"""The files of ``adoption power``: :func:`write_power` writes them as one folder,
atomically (:func:`adoption.rundir.write_run`); :func:`run_power` is the command.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adoption.power.analysis import DEFAULT_NS, parse_ns, power_analysis
from adoption.power.figures import power_figure, power_png, power_svg
from adoption.power.results import PowerResults
from adoption.vocabulary import DEFAULT_SEED

__all__ = ['write_power', 'run_power']


def write_power(results: PowerResults, out_dir: str | Path,
                protect: Sequence[str | Path] = ()) -> dict[str, Path]:
    """Write the power analysis's folder, whole or not at all.

    Files: ``results.json`` (settings, power and n80 tables), ``power.csv`` (the power
    table), ``n80.csv``, ``power.html`` (plotly, self-contained), ``power.svg`` and
    ``power.png`` (matplotlib), and ``manifest.json``. They are written into a temporary
    folder that replaces ``out_dir`` at the end (:func:`adoption.rundir.write_run`), so
    an error or an interruption leaves the previous folder, or none, never a half-written
    one; ``out_dir`` may be new, empty or a previous output of this kind.

    Returns
    -------
    dict
        File kind -> path written.

    Raises
    ------
    InputError
        ``out_dir`` holds other files (see :func:`adoption.rundir.check_target`).
    """
    from adoption.rundir import write_run

    def figures(folder: Path) -> None:
        power_figure(results).write_html(folder / "power.html", include_plotlyjs=True,
                                         full_html=True)
        (folder / "power.svg").write_bytes(power_svg(results))
        (folder / "power.png").write_bytes(power_png(results))

    out = write_run(out_dir, results=results.to_dict(),
                    frames={"power.csv": results.power, "n80.csv": results.n80},
                    extra=figures, protect=protect)
    return {k: out / f for k, f in (("json", "results.json"), ("csv", "power.csv"),
                                    ("n80", "n80.csv"), ("html", "power.html"),
                                    ("svg", "power.svg"), ("png", "power.png"))}


def run_power(spec: str | Path, ns: str | Sequence[int] = DEFAULT_NS, reps: int = 1000,
              seed: int = DEFAULT_SEED, out_dir: str | Path | None = None,
              scheduler: str | None = None, n_jobs: int = 2) -> tuple[PowerResults, dict[str, Path]]:
    """What ``adoption power SPEC --n ... --reps ... [--seed] [--out] [--scheduler]`` does.

    Parameters
    ----------
    spec : path of the survey YAML (or its folder).
    ns : ``"150,200,300,500"`` or a list of ints.
    reps, seed, scheduler, n_jobs : see :func:`power_analysis`.
    out_dir : folder for the files; default ``reports/<spec name>_power``.

    Returns
    -------
    (PowerResults, dict of written paths)

    Raises
    ------
    InputError
        Any bad input (spec, --n, --reps, unreachable scheduler).
    """
    from adoption.spec import load_spec

    spec = Path(spec)
    survey = load_spec(spec)
    res = power_analysis(survey, parse_ns(ns), reps=reps, seed=seed, scheduler=scheduler,
                         n_jobs=n_jobs)
    if out_dir is None:
        name = spec.name if spec.is_dir() else (spec.parent.name if spec.name == "survey.yaml"
                                                else spec.stem)
        out_dir = Path("reports") / f"{name}_power"
    return res, write_power(res, out_dir, protect=[spec])
