"""The package as users install it: the wheel carries the dashboard, and a wheel install
outside the checkout serves it (``adoption dashboard`` answers on its port).

The wheel is built with ``python -m build --wheel`` (the project's build backend, in an
isolated build environment: pip fetches setuptools from the registry or its cache) and
installed into a fresh venv in a temporary folder. That venv reuses the test
environment's installed dependencies (a ``.pth`` line appended after its own
site-packages), so nothing but the wheel is installed and no network is needed beyond
the build backend; the adoption package itself must come from the wheel (checked).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=2) as r:
        return r.status, r.read().decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the sources (setuptools writes build/ and *.egg-info beside
    them, and a stale build/ could leak deleted modules into the wheel)."""
    out, src = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("adoption", "dashboard"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (whl,) = out.glob("adoption-*.whl")
    return whl


def test_wheel_ships_every_module_and_the_dashboard(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    dashboard = {"adoption/dashboard_app/" + p.relative_to(REPO / "dashboard").as_posix()
                 for p in (REPO / "dashboard").rglob("*.py")}
    package = {p.relative_to(REPO).as_posix() for p in (REPO / "adoption").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert "adoption/dashboard_app/auth.py" in dashboard and "adoption/cli.py" in package
    assert dashboard | package <= names, sorted((dashboard | package) - names)
    assert "adoption/report/templates/report.html.j2" in names


def _clean_env() -> dict[str, str]:
    """The environment without the checkout on the path (tests run with PYTHONPATH set)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["STREAMLIT_SERVER_HEADLESS"] = "true"
    return env


def _install(wheel: Path, where: Path) -> Path:
    """A fresh venv at ``where`` with the wheel installed; returns its ``bin`` folder."""
    venv.EnvBuilder(with_pip=False).create(where)
    py = where / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, timeout=300, env=_clean_env())
    site = Path(subprocess.check_output(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    # then the test environment's packages, after the venv's own (so the wheel's adoption
    # wins; the path is appended, its .pth files, such as an editable install's, are not run)
    (site / "zz_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return where / "bin"


def test_wheel_install_outside_the_checkout_serves_the_dashboard(wheel, tmp_path):
    """The HTTP answers do not depend on the run (Streamlit renders over its websocket;
    the pages are tested with AppTest and Chromium), so the root is an empty folder of
    runs rather than a pipeline run (minutes on a loaded machine)."""
    start = time.monotonic()
    (tmp_path / "reports").mkdir()
    bin_ = _install(wheel, tmp_path / "venv")
    env = _clean_env()
    where = subprocess.check_output(
        [str(bin_ / "python"), "-c",
         "import adoption, adoption.dashboard_launch as d; print(adoption.__file__); print(d.APP)"],
        cwd=tmp_path, env=env, text=True).split()
    assert all(Path(p).is_relative_to(tmp_path / "venv") for p in where), where
    port = _free_port()
    proc = subprocess.Popen([str(bin_ / "adoption"), "dashboard", str(tmp_path / "reports"),
                             "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = _get(url + "/_stcore/health")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                    pytest.fail(f"the installed dashboard did not start:\n{out[-3000:]}")
                time.sleep(0.2)
        assert health == (200, "ok")
        status, page = _get(url + "/")
        assert status == 200 and "<title>" in page and "static/js/" in page
        # SIGTERM to `adoption dashboard` (what a service manager sends) stops the server
        # too: once, each run of this test left a Streamlit server behind.
        proc.terminate()
        proc.wait(20)
        assert _stops_answering(url + "/_stcore/health"), "the Streamlit server outlived its parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        try:
            os.killpg(proc.pid, signal.SIGKILL)   # whatever is left of its session
        except ProcessLookupError:
            pass
    print(f"wheel install and first page: {time.monotonic() - start:.1f} s")


def _stops_answering(url: str, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            _get(url)
        except OSError:
            return True
        time.sleep(0.2)
    return False
