"""The dashboard end to end: the real server (``streamlit run`` as launch() builds it) on a
free loopback port, every page opened in headless Chromium, its visible content checked
and a screenshot saved (to the test's tmp folder and to /tmp/dashboard_shots/).

Skipped when selenium, Chromium or chromedriver is missing, unless the environment
variable CI is set (then it fails).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from test_dashboard import runs  # noqa: F401  (the session fixture with three runs)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path(shutil.which("chromedriver") or "/usr/bin/chromedriver")
SHOTS = Path("/tmp/dashboard_shots")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1400,1000"]
# page path -> text that must be visible
PAGES = {
    "": ["Brief: Example with a structural model", "What we found", "How sure we are",
         "Who was asked", "What this does not show"],
    "overview": ["Example with a structural model", "Key findings", "Sample flow", "Fit at a glance", "good"],
    "measurement": ["Measurement model", "Reliability", "Heterotrait-monotrait", "Factor loadings"],
    "model": ["Structural model", "Path diagram", "Hypotheses", "Path coefficients", "R²"],
    "effects": ["Indirect effects", "Total effects", "EMP → COM → WIL"],
    "responses": ["Distribution of answers", "Strongly agree", "Who answered"],
    "groups": ["Group comparisons", "measurement invariance", "Group sizes"],
}


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing"
    if not CHROMEDRIVER.is_file():
        return "chromedriver is missing"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    why = _missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"end-to-end test cannot run on CI: {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for f in FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        opts.add_argument(f)
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    yield drv
    drv.quit()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(runs):  # noqa: F811
    from adoption.dashboard_launch import streamlit_command

    port = _free_port()
    cmd, env = streamlit_command(runs, "127.0.0.1", port, headless=True)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                    pytest.fail(f"streamlit did not start:\n{out[-3000:]}")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _settle(drv, timeout: float = 20) -> None:
    """Wait until the page has a title and Streamlit has stopped running the script."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h1 = drv.find_elements(By.CSS_SELECTOR, "[data-testid='stMain'] h1")
        running = drv.find_elements(By.CSS_SELECTOR, "[data-testid='stStatusWidget']")
        if h1 and not running:
            time.sleep(0.6)           # plotly draws after the script has finished
            return
        time.sleep(0.1)
    raise AssertionError("the page did not finish rendering")


def _wait_for(drv, texts: list[str], timeout: float = 20) -> str:
    """The main area's text once it shows every one of ``texts`` (or at the timeout)."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    while True:
        body = drv.find_element(By.CSS_SELECTOR, "[data-testid='stMain']").text
        if all(t in body for t in texts) or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def _shoot(drv, name: str, folder: Path) -> Path:
    height = drv.execute_script(
        "return document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    drv.set_window_size(1400, min(max(int(height) + 120, 900), 7000))
    time.sleep(0.4)
    path = folder / f"{name}.png"
    drv.save_screenshot(str(path))
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(path, SHOTS / path.name)
    drv.set_window_size(1400, 1000)
    return path


def test_every_page_in_chromium(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    for page, expected in PAGES.items():
        browser.get(f"{server}/{page}?run=structural")
        _settle(browser)
        body = _wait_for(browser, expected)
        assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid='stException']"), body[:2000]
        for text in expected:
            assert text in body, f"{page or 'brief'}: {text!r} not visible"
        _settle(browser)
        assert "Run directory" in browser.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text
        if page in ("model", "effects", "measurement", "responses"):
            assert browser.find_elements(By.CSS_SELECTOR, ".js-plotly-plot"), f"{page}: no figure"
        shot = _shoot(browser, page or "brief", tmp_path)
        assert shot.stat().st_size > 10_000
        # nothing on the page made the browser reach outside: every resource it loaded,
        # the favicon and every image come from the dashboard's own server
        urls = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".concat([...document.querySelectorAll('link[href]')].map(e => e.href))"
            ".concat([...document.querySelectorAll('img[src]')].map(e => e.src))")
        outside = [u for u in urls if not u.startswith((server, "data:", "blob:"))]
        assert not outside, f"{page or 'brief'}: {outside}"


def test_small_group_split_in_chromium(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{server}/responses?run=small")
    _settle(browser)
    box = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stSelectbox'] input")[-1]
    box.click()
    box.send_keys("Gender", Keys.ENTER)
    deadline = time.monotonic() + 20
    while "fewer than 5" not in browser.find_element(By.CSS_SELECTOR, "[data-testid='stMain']").text:
        assert time.monotonic() < deadline, "the split did not show the suppression message"
        time.sleep(0.2)
    _settle(browser)
    body = browser.find_element(By.CSS_SELECTOR, "[data-testid='stMain']").text
    assert "fewer than 5 respondents; not shown" in body
    _shoot(browser, "responses_by_gender_small_group", tmp_path)


def test_url_outside_the_root_is_refused_in_chromium(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{server}/?run=../outside")
    _settle(browser)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "SECRET" not in text
    assert "not a run under the dashboard's folder" in text
