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
import signal
import subprocess
import sys
from pathlib import Path

from adoption.accounts import SESSION_HOURS, read_users
from adoption.errors import InputError

REPO = Path(__file__).resolve().parent.parent
#: The Streamlit entry file: in an installed wheel, else in the checkout.
APP = next((p for p in (Path(__file__).resolve().parent / "dashboard_app" / "app.py",
                        REPO / "dashboard" / "app.py") if p.is_file()),
           REPO / "dashboard" / "app.py")
#: Environment variables read by ``dashboard/rundata.py``.
ENV_ROOT = "ADOPTION_DASHBOARD_ROOT"
ENV_RUN = "ADOPTION_DASHBOARD_RUN"
#: Environment variables read by ``dashboard/auth.py``: the users file (sign-in required
#: when set) and the session lifetime in hours.
ENV_USERS = "ADOPTION_DASHBOARD_USERS"
ENV_SESSION_HOURS = "ADOPTION_DASHBOARD_SESSION_HOURS"
#: Streamlit settings for serving: XSRF protection on, cross-origin requests refused
#: (Streamlit's ``enableCORS`` is its CORS *protection*), no static file serving, uploads
#: limited to 1 MB (the dashboard has no upload), no usage statistics.
SERVE_FLAGS = ["--server.enableXsrfProtection", "true",
               "--server.enableCORS", "true",
               "--server.enableStaticServing", "false",
               "--server.maxUploadSize", "1",
               "--browser.gatherUsageStats", "false"]


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
                      *, headless: bool | None = None, users: Path | None = None,
                      session_hours: float = SESSION_HOURS) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` command line and environment that serve ``path``.

    Parameters
    ----------
    path : a run directory, a folder of run directories, or None for :func:`default_root`.
    host : address to bind (loopback by default).
    port : TCP port; None lets Streamlit choose (8501, or the next free one).
    headless : True to not open a browser; None leaves Streamlit's own choice.
    users : a users file (:mod:`adoption.accounts`): every session must sign in. Required
        when ``host`` is not a loopback address.
    session_hours : how long a sign-in lasts.

    Raises
    ------
    InputError
        When ``path`` is not a folder, the dashboard's files are missing, ``host`` is not
        loopback and no users file is given, or the users file is unreadable or empty.
    """
    root = Path(path) if path is not None else default_root()
    if not root.is_dir():
        raise InputError(f"{root}: not a folder. Give a run directory (written by "
                         "'adoption run') or a folder that holds run directories.")
    if not APP.is_file():
        raise InputError(f"{APP}: the dashboard's files are missing from this installation.")
    if port is not None and not 0 < port < 65536:
        raise InputError(f"--port {port}: choose a port between 1 and 65535.")
    if users is None and not is_loopback(host):
        raise InputError(f"--host {host} serves the results to the network: add --users FILE "
                         "(accounts: 'adoption dashboard-user add NAME --users FILE').")
    if users is not None and not read_users(users):
        raise InputError(f"{users}: the users file has no account; add one with "
                         f"'adoption dashboard-user add NAME --users {users}'.")
    if not session_hours > 0:
        raise InputError(f"--session-hours {session_hours}: give a positive number of hours.")
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP),
           "--server.address", host, *SERVE_FLAGS,
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
    env.pop(ENV_USERS, None)
    if users is not None:
        env[ENV_USERS] = str(Path(users).resolve())
    env[ENV_SESSION_HOURS] = repr(float(session_hours))
    return cmd, env


def launch(path: Path | None, host: str = "127.0.0.1", port: int | None = None,
           users: Path | None = None, session_hours: float = SESSION_HOURS) -> int:
    """Serve the dashboard of ``path`` until interrupted; return the exit code.

    With no ``path`` the newest run under ``reports/`` opens; the sidebar lists every run
    under the folder (title, date, N). The server binds to ``host`` (loopback unless
    told otherwise); with ``users`` every session signs in first (required off loopback).
    """
    cmd, env = streamlit_command(path, host, port, users=users, session_hours=session_hours)
    proc = subprocess.Popen(cmd, env=env)
    # A service manager (or a test) stops the server with SIGTERM to this process: pass it
    # on, or the Streamlit server would be left running without its parent.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: proc.send_signal(signum))
    try:
        return proc.wait()
    except KeyboardInterrupt:   # Ctrl-C reaches the server too (same process group)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = ["APP", "ENV_ROOT", "ENV_RUN", "ENV_SESSION_HOURS", "ENV_USERS", "SERVE_FLAGS", "default_root", "is_loopback", "streamlit_command", "launch"]
