"""The sign-in gate in Chromium against the real server (``streamlit run`` as the launcher
builds it with ``--users``): without a session every page shows only the sign-in form and
no static asset path serves anything of a run; after signing in the pages show the run,
and the asset paths still serve nothing of it.

Skipped without selenium/Chromium unless CI is set (see tests/test_dashboard_e2e.py).
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from test_dashboard_auth import PASSWORD, served  # noqa: F401  (module fixture: runs + users)
from test_dashboard_e2e import browser  # noqa: F401  (headless Chromium, skips without it)

PAGES = ["", "overview", "measurement", "model", "effects", "responses", "groups", "pls"]
# what a page of the run shows and the sign-in page must not: construct labels, section titles
RUN_TEXT = ["Habit", "Willingness to use AI", "Key findings", "What we found", "Sample flow",
            "Reliability"]
# paths a crafted request might try for the run's files or Streamlit's static serving
ASSETS = ["/first/results.json", "/reports/first/results.json", "/app/static/results.json",
          "/app/static/first/results.json", "/static/../first/results.json", "/media/results.json",
          "/first/tables/loadings.csv", "/first/responses.parquet", "/_stcore/health",
          "/_stcore/host-config", "/component/results.json", "/favicon.png", "/index.html"]


@pytest.fixture(scope="module")
def gated(served):  # noqa: F811
    import socket

    from adoption.dashboard_launch import streamlit_command

    root, users, _ = served
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd, env = streamlit_command(root, "127.0.0.1", port, headless=True, users=users)
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
                    pytest.fail("streamlit did not start:\n" + proc.stdout.read().decode()[-3000:])
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _main_text(drv, wanted: str, timeout: float = 20) -> str:
    """The page's body text once it shows ``wanted`` and the script has stopped running."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    while True:
        body = drv.find_element(By.TAG_NAME, "body").text
        running = drv.find_elements(By.CSS_SELECTOR, "[data-testid='stStatusWidget']")
        if (wanted in body and not running) or time.monotonic() > deadline:
            time.sleep(0.5)
            return drv.find_element(By.TAG_NAME, "body").text
        time.sleep(0.2)


def _assets_show_nothing(drv, url: str) -> None:
    for path in ASSETS:
        drv.get(url + path)
        source = drv.page_source
        for text in RUN_TEXT + ['"constructs"', '"loadings"']:
            assert text not in source, f"{path}: {text!r}"
        try:                                      # and the raw answer, byte for byte
            body = urllib.request.urlopen(url + path, timeout=5).read().decode(errors="replace")
        except urllib.error.HTTPError:
            continue
        assert not any(t in body for t in RUN_TEXT + ['"constructs"']), path


def test_without_a_session_no_page_and_no_asset_shows_the_run(gated, browser):  # noqa: F811
    for page in PAGES:
        browser.delete_all_cookies()
        browser.get(f"{gated}/{page}?run=first")
        body = _main_text(browser, "Sign in")
        assert "Sign in" in body and "Password" in body, page
        for text in RUN_TEXT + ["first", "second"]:
            assert text not in body, f"{page or 'overview'}: {text!r}"
        assert not re.search(r"\d", body), f"{page or 'overview'}: a number before sign-in"
    _assets_show_nothing(browser, gated)


def test_after_sign_in_the_pages_show_the_run_and_assets_still_nothing(gated, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(f"{gated}/?run=first")
    _main_text(browser, "Password")
    browser.find_element(By.CSS_SELECTOR, "[data-testid='stForm'] input[type='text']").send_keys("ana")
    browser.find_element(By.CSS_SELECTOR, "[data-testid='stForm'] input[type='password']").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "[data-testid='stFormSubmitButton'] button").click()
    body = _main_text(browser, "What we found", timeout=40)       # the Brief: the first page
    assert "Signed in as ana" in body and "What we found" in body
    # the session lives in the browser tab (Streamlit's websocket): pages reached through
    # the navigation keep it
    browser.find_element(By.CSS_SELECTOR, "[data-testid='stSidebarNav'] a[href$='measurement']").click()
    body = _main_text(browser, "Reliability", timeout=40)
    assert "Reliability" in body and "Signed in as ana" in body
    _assets_show_nothing(browser, gated)
