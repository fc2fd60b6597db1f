"""The one exception type for bad user input.

Everything the user can get wrong (a file, a column, a row, a spec key) is raised as
:class:`InputError` at the edge where it enters. The command line turns it into a one or
two line message and exit code 2, never a traceback.
"""

from __future__ import annotations


#: the one line printed on an interrupt (Ctrl-C), which ends with exit code 130 (128 + SIGINT)
INTERRUPTED = "interrupted: stopped before the end; a run directory is written whole or not at all."


class InputError(Exception):
    """Bad input that the user can fix.

    Parameters
    ----------
    message : str
        One or two lines naming the file, column or row and what to do.
    """

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message
