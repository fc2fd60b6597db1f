"""The terminal summary of a run: showing, not computing.

Numbers are rounded here, for the screen only; the run directory keeps them whole.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from adoption.clean import CleanedResponses, Flow
from adoption.load import LoadedResponses
from adoption.spec import Survey


def flow_table(flow: Flow) -> Table:
    """The CONSORT-style flow: rows received, excluded by (primary) reason, analysed."""
    t = Table(title="Sample flow", show_header=True, header_style="bold")
    t.add_column("")
    t.add_column("rows", justify="right")
    t.add_row("received", str(flow.rows_in))
    for reason, count in flow.excluded:
        t.add_row(f"  excluded: {reason}", f"-{count}")
    t.add_row("[bold]analysed[/bold]", f"[bold]{flow.rows_analysed}[/bold]")
    return t


def print_validation(console: Console, survey: Survey, loaded: LoadedResponses,
                     cleaned: CleanedResponses) -> None:
    src = loaded.source
    console.print(f"{src.path}: {src.format}, {src.rows} rows; spec '{survey.title}': "
                  f"{len(survey.constructs)} constructs, {len(survey.items)} items: OK")
    console.print(flow_table(cleaned.flow))


def print_run(console: Console, result) -> None:
    """Flow table, then the sections a run produced, then where it was written."""
    console.print(flow_table(result.cleaned.flow))
    for printer in result.sections.get("_printers", ()):
        printer(console)
    if result.out_dir is not None:
        console.print(f"run directory: {result.out_dir}")
