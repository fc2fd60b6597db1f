"""report.html in a real browser: headless Chromium renders the tables and the diagrams,
and the page requests nothing from the network.

The network check speaks the DevTools protocol over ``--remote-debugging-pipe`` (file
descriptors 3 and 4, messages separated by NUL bytes), so it needs no extra package: it
records every ``Network.requestWillBeSent`` of the page's own target (the browser's
background traffic, e.g. update checks, is another target and is not counted). All host
names resolve to nothing (``--host-resolver-rules``), so a request could not succeed
anyway; the test asserts there is none. A control page with an external image shows
that the check sees such requests.

Without Chromium the tests are skipped, unless the environment variable CI is set, in
which case they fail (the CI image installs Debian's chromium).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report import LABELS, structural_fixture  # noqa: E402

from adoption.report import write_report  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--host-resolver-rules=MAP * ~NOTFOUND"]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None and Path("/usr/bin/chromium").exists():
        path = "/usr/bin/chromium"
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and CI is set: the CI image must install it")
        pytest.skip("chromium is not installed (set CI=1 to make this a failure)")
    return path


@pytest.fixture(scope="module")
def report_dir(example_run, tmp_path_factory):
    res = json.loads((example_run.out_dir / "results.json").read_text())
    res["structural"], res["hypotheses"] = structural_fixture()
    res["constructs"] = dict(LABELS)
    out = tmp_path_factory.mktemp("chromium-report")
    write_report(out, res)
    return out


def run_cli(args: list[str], tmp_path: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=tmp_path)


# --------------------------------------------------------------------------- DevTools pipe
class DevTools:
    """A minimal DevTools-protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, tmp_path: Path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # move the child's ends above 4 first, so dup2 onto 3 and 4 cannot clobber them
        a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
        while a <= 4 or b <= 4:
            a, b = os.dup(a), os.dup(b)

        def child_fds():
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile-cdp'}",
             "--remote-debugging-pipe", "about:blank"],
            # close_fds=False: the dup2'd 3 and 4 are inheritable and survive exec, while
            # Python's own descriptors are close-on-exec (PEP 446)
            close_fds=False, preexec_fn=child_fds, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        for fd in (to_chrome_r, from_chrome_w, a, b):
            os.close(fd)
        self._id = 0
        self._replies: dict[int, dict] = {}
        self.events: "queue.Queue[dict]" = queue.Queue()
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self._replies[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    self.events.put(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        with self._cond:
            if not self._cond.wait_for(lambda: self._id in self._replies, timeout):
                raise TimeoutError(f"no reply to {method}")
            reply = self._replies.pop(self._id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:   # noqa: BLE001 - the browser may already be gone
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._to_chrome)


def page_requests(url: str, tmp_path: Path, settle: float = 2.0) -> tuple[list[str], dict]:
    """Every URL the page at ``url`` requests while loading (and ``settle`` s after), and
    a few facts read from its DOM once loaded."""
    dt = DevTools(tmp_path)
    try:
        target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        dt.send("Network.enable", session=session)
        dt.send("Page.enable", session=session)
        dt.send("Page.navigate", {"url": url}, session=session)
        urls, loaded, deadline = [], None, time.monotonic() + 60
        while time.monotonic() < deadline:
            if loaded is not None and time.monotonic() > loaded + settle:
                break
            try:
                ev = dt.events.get(timeout=0.2)
            except queue.Empty:
                continue
            if ev.get("sessionId") != session:
                continue
            if ev["method"] == "Network.requestWillBeSent":
                urls.append(ev["params"]["request"]["url"])
            elif ev["method"] == "Page.loadEventFired" and loaded is None:
                loaded = time.monotonic()
        assert loaded is not None, "the page did not finish loading"
        facts = dt.send("Runtime.evaluate", {"expression": """JSON.stringify({
            svgs: document.querySelectorAll('.js-plotly-plot svg.main-svg').length,
            plots: document.querySelectorAll('.js-plotly-plot').length,
            tables: document.querySelectorAll('table').length,
            title: document.title})""", "returnByValue": True}, session=session)
        return urls, json.loads(facts["result"]["value"])
    finally:
        dt.close()


def external(urls: list[str]) -> list[str]:
    return [u for u in urls if not u.startswith(("file:", "data:", "about:", "blob:"))]


# --------------------------------------------------------------------------- tests
def test_rendered_dom_has_the_diagrams_and_tables(report_dir, tmp_path):
    r = run_cli(["--virtual-time-budget=10000", "--dump-dom", (report_dir / "report.html").as_uri()],
                tmp_path)
    dom = r.stdout
    assert r.returncode == 0, r.stderr[-2000:]
    # plotly drew every figure: its SVG roots are in the live DOM (they are not in the file)
    assert dom.count('class="main-svg"') >= 6
    assert 'class="main-svg"' not in (report_dir / "report.html").read_text(encoding="utf-8")
    for key in ("plot-likert", "plot-path-composite", "plot-path-latent"):
        assert f'id="{key}"' in dom
    # the path diagram's boxes and labels, as plotly renders them
    for text in ("Willingness to use", "Comfort", "R² = .30", ".32***"):
        assert text in dom, text
    for key in ("tbl-flow", "tbl-reliability", "tbl-htmt", "tbl-coefficients-composite",
                "tbl-indirect-composite", "tbl-hypotheses", "tbl-methods"):
        assert f'id="{key}"' in dom, key


def test_report_requests_nothing_from_the_network(report_dir, tmp_path):
    urls, facts = page_requests((report_dir / "report.html").as_uri(), tmp_path)
    assert urls and urls[0].startswith("file:")
    assert external(urls) == []
    # the Likert chart, three path diagrams (composite, latent, PLS) and the IPMA plot,
    # and none of them reached outside
    assert facts["plots"] == 5 and facts["svgs"] >= 6 and facts["tables"] >= 20


def test_the_network_check_sees_an_external_request(tmp_path):
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><html><head><title>control</title></head><body>'
                    '<img src="https://example.com/pixel.png"></body></html>', encoding="utf-8")
    urls, _ = page_requests(page.as_uri(), tmp_path, settle=1.0)
    assert external(urls) == ["https://example.com/pixel.png"]


def test_screenshot(report_dir, tmp_path):
    shot = report_dir / "screenshot.png"
    r = run_cli(["--hide-scrollbars", "--window-size=1280,4000", "--virtual-time-budget=10000",
                 f"--screenshot={shot}", (report_dir / "report.html").as_uri()], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000


# --------------------------------------------------------------------------- print / PDF
#: A4 content widths in CSS px (96 per inch) under the template's @page margins (14 mm
#: left and right): portrait 182 mm, landscape ("wide" tables) 269 mm.
PORTRAIT_PX = 182 / 25.4 * 96
LANDSCAPE_PX = 269 / 25.4 * 96

#: For each printed block (table, figure, code, paragraph): its right edge, the widest
#: scrolling content inside it, whether it goes on a landscape page, and what is visible.
MEASURE = """JSON.stringify((() => {
  const out = [];
  for (const el of document.querySelectorAll(
      'div.apa-table, figure.apa, pre.syntax, main > section > p, .table-wrap, .plot, figure img')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;          // not printed
    out.push({id: el.id || el.className, tag: el.tagName, right: r.right, left: r.left,
              scroll: el.scrollWidth, client: el.clientWidth,
              wide: !!el.closest('div.apa-table.wide')});
  }
  const shown = sel => [...document.querySelectorAll(sel)].filter(
      e => e.getBoundingClientRect().height > 0).length;
  return {blocks: out, plotly: shown('.js-plotly-plot'), modebar: shown('.modebar'),
          images: shown('figure img.print-only')};
})())"""


def print_layout(url: str, tmp_path: Path, width: float) -> dict:
    """The page laid out as printed (print media emulated) in a viewport ``width`` px wide."""
    dt = DevTools(tmp_path)
    try:
        target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        dt.send("Page.enable", session=session)
        dt.send("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
        dt.send("Emulation.setDeviceMetricsOverride", {"width": int(width), "height": 1100,
                "deviceScaleFactor": 1, "mobile": False}, session=session)
        dt.send("Page.navigate", {"url": url}, session=session)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                ev = dt.events.get(timeout=0.2)
            except queue.Empty:
                continue
            if ev.get("sessionId") == session and ev["method"] == "Page.loadEventFired":
                break
        time.sleep(1.0)     # plotly draws after load
        facts = dt.send("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True},
                        session=session)
        pdf = dt.send("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True},
                      session=session, timeout=120)["data"]
        layout = json.loads(facts["result"]["value"])
        layout["pdf"] = pdf
        return layout
    finally:
        dt.close()


@pytest.fixture(scope="module")
def run_report(example_run):
    """The example run's own report.html (bootstrapped, with group comparisons): its
    hypotheses table, with the interval of beta, is too wide for a portrait page."""
    return example_run.out_dir / "report.html"


@pytest.fixture(scope="module")
def printed(run_report, tmp_path_factory):
    return print_layout(run_report.as_uri(), tmp_path_factory.mktemp("print"), PORTRAIT_PX)


def test_printed_page_fits_the_paper(printed):
    """In print, no table, figure or code block runs past the page's text width (the
    path diagrams lost their right side, wide tables were clipped) or scrolls."""
    blocks = printed["blocks"]
    assert len(blocks) > 40
    too_wide = [b for b in blocks if not b["wide"] and b["right"] > PORTRAIT_PX + 1]
    assert too_wide == []
    scrolls = [b for b in blocks if not b["wide"] and b["scroll"] > b["client"] + 1]
    assert scrolls == []


def test_wide_tables_fit_a_landscape_page(run_report, tmp_path):
    layout = print_layout(run_report.as_uri(), tmp_path, LANDSCAPE_PX)
    wide = [b for b in layout["blocks"] if b["wide"]]
    assert wide, "the fixture has tables wider than a portrait page"
    assert [b for b in wide if b["right"] > LANDSCAPE_PX + 1 or b["scroll"] > b["client"] + 1] == []


def test_print_shows_static_figures_without_toolbars(printed, example_run):
    assert printed["plotly"] == 0 and printed["modebar"] == 0
    # one static image for each interactive figure: the Likert chart, the composite and
    # latent path diagrams, (the example run fits PLS too) the PLS diagram and the IPMA,
    # and per moderated path of the composite model (the example's COM:HAB) an
    # interaction plot and a Johnson-Neyman plot
    mod = example_run.results["structural"]["composite"].get("moderation") or {}
    moderated = {(r["lhs"], r["focal"], r["moderator"]) for r in mod.get("interactions") or []}
    assert len(moderated) == 1
    assert printed["images"] == 5 + 2 * len(moderated)


def test_pdf_has_portrait_and_landscape_a4_pages(printed, tmp_path):
    import base64
    import re

    pdf = base64.b64decode(printed["pdf"])
    assert pdf[:5] == b"%PDF-"
    boxes = {tuple(round(float(v)) for v in m.groups())
             for m in re.finditer(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)}
    assert (595, 842) in boxes and (842, 595) in boxes     # A4 in points, both ways
    (tmp_path / "report.pdf").write_bytes(pdf)
