"""Start the dashboard (``adoption dashboard``): Streamlit on a run directory or a folder of runs.

The dashboard's source lives in ``dashboard/`` at the top of the repository; a built wheel
ships it inside the package as ``adoption/dashboard_app/`` (pyproject.toml maps the folder),
and :data:`APP` is whichever is there. This module only builds the
``streamlit run`` command and runs it. Nothing here imports Streamlit.

The folder given (a run directory or a folder holding runs, default ``reports/``) is the
dashboard's root: its selector lists the runs at and below it and opens nothing outside it.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

from adoption.errors import InputError

REPO = Path(__file__).resolve().parent.parent
#: The Streamlit entry file: in an installed wheel, else in the checkout.
APP = next((p for p in (Path(__file__).resolve().parent / "dashboard_app" / "app.py",
                        REPO / "dashboard" / "app.py") if p.is_file()),
           REPO / "dashboard" / "app.py")
#: Environment variables read by ``dashboard/rundata.py``.
ENV_ROOT = "ADOPTION_DASHBOARD_ROOT"
ENV_RUN = "ADOPTION_DASHBOARD_RUN"


def default_root() -> Path:
    """``./reports`` if it exists, else the repository's ``reports/`` (where ``adoption run`` writes)."""
    here = Path("reports")
    return here if here.is_dir() else REPO / "reports"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def streamlit_command(path: Path | None, host: str = "127.0.0.1", port: int | None = None,
                      *, headless: bool | None = None) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` command line and environment that serve ``path``.

    Parameters
    ----------
    path : a run directory, a folder of run directories, or None for :func:`default_root`.
    host : address to bind (loopback by default).
    port : TCP port; None lets Streamlit choose (8501, or the next free one).
    headless : True to not open a browser; None leaves Streamlit's own choice.

    Raises
    ------
    InputError
        When ``path`` is not a folder or the dashboard's files are missing.
    """
    root = Path(path) if path is not None else default_root()
    if not root.is_dir():
        raise InputError(f"{root}: not a folder. Give a run directory (written by "
                         "'adoption run') or a folder that holds run directories.")
    if not APP.is_file():
        raise InputError(f"{APP}: the dashboard's files are missing from this installation.")
    if port is not None and not 0 < port < 65536:
        raise InputError(f"--port {port}: choose a port between 1 and 65535.")
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP),
           "--server.address", host,
           "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none",
           "--server.runOnSave", "false",
           "--global.developmentMode", "false",
           "--client.toolbarMode", "minimal",
           "--theme.base", "light"]
    if port is not None:
        cmd += ["--server.port", str(port)]
    if headless is not None:
        cmd += ["--server.headless", "true" if headless else "false"]
    env = dict(os.environ)
    env[ENV_ROOT] = str(root.resolve())
    env.pop(ENV_RUN, None)
    return cmd, env


def launch(path: Path | None, host: str = "127.0.0.1", port: int | None = None) -> int:
    """Serve the dashboard of ``path`` until interrupted; return the exit code.

    With no ``path`` the newest run under ``reports/`` opens; the sidebar lists every run
    under the folder (title, date, N). The server binds to ``host`` (loopback unless
    told otherwise: the dashboard has no login).
    """
    cmd, env = streamlit_command(path, host, port)
    if not is_loopback(host):
        print(f"warning: the dashboard listens on {host}: anyone who can reach this machine "
              "can read the results (there is no login).", file=sys.stderr)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


__all__ = ["APP", "ENV_ROOT", "ENV_RUN", "default_root", "is_loopback", "streamlit_command", "launch"]
