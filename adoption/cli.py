"""The ``adoption`` command: run, validate, simulate.

typer parses the arguments; every :class:`~adoption.errors.InputError` raised by a stage
ends here as one or two lines on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from adoption import pipeline, summary
from adoption.errors import INTERRUPTED, InputError
from adoption.spec import METHODS
from adoption.vocabulary import DEFAULT_SEED, ESTIMATORS

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Survey pipeline for research on the adoption of AI.")
err = Console(stderr=True, highlight=False)
out = summary.stdout_console()

REPO = Path(__file__).resolve().parent.parent


def _check_seed(seed: int) -> None:
    if seed < 0:
        raise InputError(f"--seed {seed}: give a whole number from 0 up (numpy's seeds are non-negative).")


def _default_out(spec: Path) -> Path:
    if spec.resolve() == pipeline.EXAMPLE_SPEC:
        return REPO / "reports" / "example"
    name = spec.parent.name if spec.name == "survey.yaml" else spec.stem
    return Path("reports") / name


@app.command()
def run(spec: Optional[Path] = typer.Argument(None, help="Survey spec (YAML). Default: the bundled example."),
        data: Optional[Path] = typer.Option(None, "--data", help="Export file; default: the spec's 'data'."),
        out_dir: Optional[Path] = typer.Option(
            None, "--out", help="Run directory to write: a new folder (parents are created), an empty "
            "one, or a previous run directory, which is replaced. Anything else is refused."),
        estimator: Optional[str] = typer.Option(
            None, "--estimator", help="ML, MLM, MLR (items as continuous), WLSMV or ULSMV (items "
            "as ordered categories). Default: the spec's 'estimator', else ML."),
        parameterization: str = typer.Option("delta", "--parameterization",
                                             help="WLSMV/ULSMV: delta (default) or theta."),
        std_lv: Optional[bool] = typer.Option(
            None, "--std-lv/--no-std-lv", help="lavaan's std.lv for the CFA and the latent SEM: "
            "latent variances fixed at 1, every loading free (std.all and fit unchanged). "
            "Default: the spec's 'std_lv', else off. Not for the multi-group fits."),
        bootstrap: int = typer.Option(5000, "--bootstrap", help="Bootstrap draws for indirect effects "
                                      f"(0 to {pipeline.MAX_BOOTSTRAP:,})."),
        seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Random seed (bootstrap)."),
        bootstrap_latent: int = typer.Option(0, "--bootstrap-latent",
                                             help="Bootstrap refits of the latent SEM (0: delta method; "
                                                  f"at most {pipeline.MAX_BOOTSTRAP_LATENT:,})."),
        groups: bool = typer.Option(True, "--groups/--no-groups",
                                    help="Group comparisons for the spec's 'groups'."),
        id_map: Optional[Path] = typer.Option(
            None, "--id-map", help="When the ids look like e-mail addresses (or phone numbers, IP "
            "addresses) and are pseudonymised: write the map to the original ids to this new file, "
            "outside the run directory."),
        method: Optional[list[str]] = typer.Option(
            None, "--method", help="Also estimate with: pls (PLS-SEM); repeatable; default: "
            "the spec's 'methods'. CB-SEM always runs."),
        pls_bootstrap: Optional[int] = typer.Option(
            None, "--pls-bootstrap", help="PLS bootstrap draws (default: the spec's pls.bootstrap)."),
        ) -> None:
    """Load, clean, describe and model a survey; write a run directory."""
    spec = spec or pipeline.EXAMPLE_SPEC
    est = estimator.upper() if estimator else None
    if est is not None and est not in ESTIMATORS:
        raise InputError(f"--estimator {estimator}: choose one of {', '.join(ESTIMATORS)}.")
    if parameterization not in ("delta", "theta"):
        raise InputError(f"--parameterization {parameterization}: choose delta or theta.")
    if bootstrap < 0 or bootstrap_latent < 0:
        raise InputError(f"--bootstrap {bootstrap}: give 0 (none) or a positive number of draws.")
    for name, value, cap in (("--bootstrap", bootstrap, pipeline.MAX_BOOTSTRAP),
                             ("--bootstrap-latent", bootstrap_latent, pipeline.MAX_BOOTSTRAP_LATENT)):
        if value > cap:
            raise InputError(f"{name} {value}: at most {cap:,} draws (more would not change "
                             "the intervals and may not finish); give a smaller number.")
    _check_seed(seed)
    bad = [m for m in method or [] if m not in METHODS]
    if bad:
        raise InputError(f"--method {bad[0]}: choose one of {', '.join(METHODS)}.")
    if pls_bootstrap is not None and not 0 <= pls_bootstrap <= pipeline.MAX_BOOTSTRAP:
        raise InputError(f"--pls-bootstrap {pls_bootstrap}: give 0 (none) to "
                         f"{pipeline.MAX_BOOTSTRAP:,} draws.")
    methods = tuple(dict.fromkeys(["cbsem", *method])) if method else None
    target = out_dir or _default_out(spec)
    with err.status("starting") as status:
        result = pipeline.run(spec, data, target,
                              pipeline.RunOptions(estimator=est, bootstrap=bootstrap, seed=seed,
                                                  groups=groups, bootstrap_latent=bootstrap_latent,
                                                  parameterization=parameterization,
                                                  std_lv=std_lv,
                                                  methods=methods, pls_bootstrap=pls_bootstrap),
                              step=lambda s: status.update(s + " ..."), id_map=id_map)
    summary.print_run(out, result)


@app.command()
def validate(spec: Path = typer.Argument(..., help="Survey spec (YAML)."),
             data: Optional[Path] = typer.Option(None, "--data", help="Export file; default: the spec's 'data'."),
             ) -> None:
    """Check the spec and the data against each other without fitting any model."""
    survey, loaded, cleaned = pipeline.prepare(spec, data)
    summary.print_validation(out, survey, loaded, cleaned)


@app.command()
def simulate(spec: Path = typer.Argument(..., help="Survey spec (YAML) with a 'population' section."),
             n: int = typer.Option(600, "--n", help="Respondents before contamination."),
             seed: int = typer.Option(1, "--seed", help="Random seed."),
             out_file: Path = typer.Option(..., "--out", help="File to write: .sav, .csv or .xlsx."),
             ) -> None:
    """Write a realistic, messy export simulated from the spec's population values."""
    from adoption.simulate import simulate as simulate_export, write_export
    from adoption.spec import load_spec

    if n < 1:
        raise InputError(f"--n {n}: give a positive number of respondents.")
    _check_seed(seed)
    survey = load_spec(spec)
    sim = simulate_export(survey, n=n, seed=seed)
    write_export(sim, survey, out_file)
    out.print(f"wrote {out_file} ({len(sim.data)} rows)")


@app.command()
def reproduce(run_dir: Path = typer.Argument(..., help="A run directory written by 'adoption run'."),
              rtol: float = typer.Option(0.0, "--rtol", help="Relative tolerance (default: exact)."),
              ) -> None:
    """Rerun a run from its recorded spec, input (checked by sha256) and seed; compare every
    value of results.json and every other file the run wrote (its manifest.json). Exit 1
    when it does not reproduce."""
    from adoption.reproduce import format_report, reproduce as rerun

    report = rerun(run_dir, rtol=rtol)
    (out if report.ok else err).print(format_report(report), soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def dashboard(path: Optional[Path] = typer.Argument(
                  None, help="A run directory, or a folder of runs (default: reports/)."),
              host: str = typer.Option("127.0.0.1", "--host",
                                       help="Address to bind; loopback unless you say otherwise."),
              port: Optional[int] = typer.Option(None, "--port", help="Port (default: Streamlit's)."),
              users: Optional[Path] = typer.Option(
                  None, "--users", help="Users file ('adoption dashboard-user add'): every "
                  "session signs in. Required with a --host other than loopback."),
              session_hours: float = typer.Option(8.0, "--session-hours",
                                                  help="How long a sign-in lasts (hours)."),
              ) -> None:
    """Browse a run's results in the Streamlit dashboard (reads the run directory only)."""
    from adoption.dashboard_launch import launch

    raise typer.Exit(launch(path, host=host, port=port, users=users, session_hours=session_hours))


users_app = typer.Typer(no_args_is_help=True, help="Dashboard accounts (a file of salted password hashes).")
app.add_typer(users_app, name="dashboard-user")


@users_app.command("add")
def dashboard_user_add(name: str = typer.Argument(..., help="Account name (letters, digits, . _ @ -)."),
                       users: Path = typer.Option(Path("dashboard_users.json"), "--users",
                                                  help="Users file to create or update."),
                       runs: Optional[str] = typer.Option(
                           None, "--runs", help="Runs this account may open, comma-separated "
                           "(names as the dashboard lists them); default: every run."),
                       ) -> None:
    """Add an account (or set a new password): asks for the password twice."""
    from adoption.accounts import add_user, check_name

    check_name(name)
    password = typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True,
                            err=True)
    allowed = None if runs is None else [r.strip() for r in runs.split(",") if r.strip()]
    add_user(users, name, password, allowed)
    err.print(f"account {name} written to {users}"
              + ("" if allowed is None else f" (runs: {', '.join(allowed)})"))


@app.command()
def power(spec: Path = typer.Argument(..., help="Survey spec (YAML) with a 'population' section."),
          n: str = typer.Option("150,200,300,500", "--n", help="Sample sizes, comma-separated."),
          reps: int = typer.Option(1000, "--reps", help="Replicates per sample size."),
          seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Random seed."),
          out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder for the results."),
          scheduler: Optional[str] = typer.Option(
              None, "--scheduler", help="dask.distributed scheduler (tcp://host:8786); "
              "default: ADOPTION_DASK_SCHEDULER or the local cores."),
          ) -> None:
    """Monte Carlo power of each path and indirect effect at several sample sizes."""
    from adoption.power import power_summary, run_power

    _check_seed(seed)
    with err.status(f"simulating {reps} replicates per sample size"):
        res, files = run_power(spec, n, reps=reps, seed=seed, out_dir=out_dir, scheduler=scheduler)
    summary.print_power(out, power_summary(res))
    out.print(f"written: {', '.join(str(p) for p in files.values())}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the typer app and return its exit code.

    0 success; 1 a command's failure verdict (``reproduce``: not reproduced); 2 bad input
    (an :class:`~adoption.errors.InputError` or a usage error), as one or two lines on
    stderr; 130 interrupted (Ctrl-C), with one line and no traceback.
    """
    try:
        code = app(args=argv, standalone_mode=False)
    except InputError as exc:
        err.print(f"error: {exc.message}", soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        code = 130
    except typer.Exit as exc:  # --help and friends
        code = exc.exit_code
    except _usage_errors() as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        if exc.format_message():        # empty after the help shown for no arguments
            err.print(f"error: {exc.format_message()}{hint}", soft_wrap=True, markup=False)
        return 2
    if code == 130:  # typer turns KeyboardInterrupt into Exit(130), returned here
        err.print(INTERRUPTED, soft_wrap=True)
        # worker pools shut down after this; a second interrupt there would end the
        # process by the signal (exit -2) instead of 130
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the command's Exit code (reproduce: 1 when not reproduced); None means success
    return code if isinstance(code, int) else 0


def _usage_errors() -> tuple[type[BaseException], ...]:
    """The exception classes of a usage error (unknown option or command, a value of the
    wrong type): typer >= 0.26 vendors click and raises its own ``TyperException``
    subclasses; click's own class is kept for a typer that uses the click package."""
    classes: list[type[BaseException]] = []
    if isinstance(getattr(typer, "TyperException", None), type):
        classes.append(typer.TyperException)
    try:
        import click
        classes.append(click.ClickException)
    except ImportError:  # pragma: no cover - click is not a dependency of typer >= 0.26
        pass
    return tuple(classes)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
