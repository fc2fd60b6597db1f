"""Run a file reader once, in a forked child process that guards this one.

A corrupt header can crash the C library behind pyreadstat (a segmentation fault kills
the whole process, with no message) or make it hang. The child reads the file and hands
the frame back through a private temporary folder (:mod:`adoption.readers.handover`:
Arrow IPC and JSON, never a pickle); a crash or hang of the child is reported instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from adoption.readers import handover
from adoption.readers.table import reason

#: exit code of a guard child that read the file but could not hand the frame over (a
#: column of an unexpected type, a full disk): this process then reads the file itself,
#: which is safe, since the child survived reading it
HANDOVER_FAILED = 3


def _scratch_root(size: int) -> str | None:
    """Where the child writes the frame: /dev/shm (memory) when it has room for about
    four times the file, else the system's temporary folder."""
    shm = "/dev/shm"
    try:
        if os.path.isdir(shm) and os.access(shm, os.W_OK):
            st = os.statvfs(shm)
            if st.f_bavail * st.f_frsize > 4 * size + (64 << 20):
                return shm
    except OSError:
        pass
    return None


def _child_reads(read, folder: Path) -> None:
    """The guard child: read silently, write the result into ``folder`` and leave
    without running any cleanup (exit 0; :data:`HANDOVER_FAILED` if it cannot be
    written). A crash of the C library kills the child by its signal."""
    code = 0
    try:
        import faulthandler

        faulthandler.disable()  # a crash must not print a dump over the parent's output
        for sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT):
            signal.signal(sig, signal.SIG_DFL)  # die by the signal, whoever handled it
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        try:
            df, info = read()
        except Exception as exc:  # pyreadstat raises ReadstatError/PyreadstatError and more
            info = {"error": reason(exc)}
        else:
            try:
                handover.write_frame(df, folder)
            except Exception:  # UnsupportedColumn, OSError (a full disk)
                code = HANDOVER_FAILED
        (folder / "meta.json").write_text(json.dumps(info), encoding="utf-8")
    except BaseException:
        code = HANDOVER_FAILED
    os._exit(code)


def read_in_child(read, timeout: float = 60.0, size: int = 0):
    """Run ``read()`` once, in a forked child process, and return its result.

    A corrupt header can crash the C library behind pyreadstat (a segmentation fault
    kills the whole process, with no message) or make it hang, so the file is read in a
    child, which hands the frame back through a private temporary folder
    (:mod:`adoption.readers.handover`: Arrow IPC and JSON, never a pickle). The folder is
    removed on return, on error and on Ctrl-C; the child is killed if it still runs.

    Parameters
    ----------
    read : callable
        Returns ``(frame, info)`` with ``info`` JSON-able; raises on an unreadable file.
    timeout : float
        Seconds after which the child is taken to hang.
    size : int
        The file's size in bytes, to choose the folder (see :func:`_scratch_root`).

    Returns
    -------
    ('ok', (frame, info)), ('error', reason text), ('crashes', None) or ('hangs', None).
    Where ``os.fork`` is missing, or the child could not hand the frame over,
    ``read()`` runs in this process.
    """
    if not hasattr(os, "fork"):
        return _read_here(read)
    folder = Path(tempfile.mkdtemp(prefix="adoption-read-", dir=_scratch_root(size)))
    pid = None
    try:
        pid = os.fork()
        if pid == 0:
            _child_reads(read, folder)
        status = _wait(pid, timeout)
        pid = None  # reaped
        if status is None:
            return "hangs", None
        if os.WIFSIGNALED(status) or os.WEXITSTATUS(status) not in (0, HANDOVER_FAILED):
            return "crashes", None
        if os.WEXITSTATUS(status) == HANDOVER_FAILED:
            return _read_here(read)
        info = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if "error" in info:
            return "error", info["error"]
        return "ok", (handover.read_frame(folder), info)
    finally:
        if pid:  # interrupted (Ctrl-C) or failed while the child runs
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        shutil.rmtree(folder, ignore_errors=True)


def _wait(pid: int, timeout: float) -> int | None:
    """The child's wait status, or None after killing it at ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.005)


def _read_here(read):
    try:
        return "ok", read()
    except Exception as exc:
        return "error", reason(exc)
