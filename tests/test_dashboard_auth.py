"""Dashboard access control: the users file (adoption/accounts.py), the sign-in rate
limiter and session expiry, the launcher's refusal to serve the network without
accounts, the ``dashboard-user add`` command, and the sign-in gate (dashboard/auth.py)
rendered with Streamlit's AppTest: nothing of a run before sign-in, the run after it.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import stat
import time
from pathlib import Path

import pytest
import yaml

from adoption.accounts import (FORMAT, Account, SignInLimiter, add_user, hash_password, read_users,
                               session_expired, verify, write_users)
from adoption.errors import InputError

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "dashboard" / "app.py"
PASSWORD = "correct horse battery"


# --------------------------------------------------------------------------- users file
def test_users_file_round_trip_salted_and_private(tmp_path):
    f = tmp_path / "users.json"
    add_user(f, "ana", PASSWORD)
    add_user(f, "ben", PASSWORD, runs=["study1"])
    accounts = read_users(f)
    assert set(accounts) == {"ana", "ben"} and accounts["ben"].runs == ("study1",)
    assert accounts["ana"].runs is None
    # salted: the same password hashes differently; the file holds no password
    assert accounts["ana"].hash != accounts["ben"].hash
    assert accounts["ana"].hash.startswith("$argon2id$")
    assert PASSWORD not in f.read_text(encoding="utf-8")
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert verify(accounts, "ana", PASSWORD) == accounts["ana"]
    assert verify(accounts, "ana", PASSWORD + "x") is None
    assert verify(accounts, "nobody", PASSWORD) is None
    # replacing a password keeps the other accounts
    add_user(f, "ana", "another long one")
    again = read_users(f)
    assert verify(again, "ana", PASSWORD) is None and verify(again, "ana", "another long one")
    assert again["ben"] == accounts["ben"]


def test_unknown_name_costs_as_much_as_a_wrong_password(tmp_path):
    accounts = {"ana": Account("ana", hash_password(PASSWORD))}

    def cost(name):
        t = time.perf_counter()
        for _ in range(3):
            verify(accounts, name, "wrong password")
        return time.perf_counter() - t
    known, unknown = cost("ana"), cost("nobody")
    # both run one argon2 hash (tens of ms); a skipped hash would be ~1000 times faster
    assert unknown > 0.3 * known


@pytest.mark.parametrize("content, match", [
    (None, "no such users file"),
    ("not json", "not a users file"),
    (json.dumps({"format": "other", "accounts": {}}), "not a users file written by"),
    (json.dumps({"format": FORMAT, "accounts": {"ana": {"hash": "plain", "runs": None}}}), "'ana' is malformed"),
    (json.dumps({"format": FORMAT, "accounts": {"a b": {"hash": "$argon2id$x", "runs": None}}}), "malformed"),
    (json.dumps({"format": FORMAT, "accounts": {"ana": {"hash": "$argon2id$x", "runs": "all"}}}), "malformed"),
])
def test_bad_users_files_are_refused(tmp_path, content, match):
    f = tmp_path / "users.json"
    if content is not None:
        f.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        read_users(f)


def test_bad_names_and_short_passwords_are_refused(tmp_path):
    with pytest.raises(InputError, match="account name"):
        add_user(tmp_path / "u.json", "a b", PASSWORD)
    with pytest.raises(InputError, match="too short"):
        add_user(tmp_path / "u.json", "ana", "short")
    assert not (tmp_path / "u.json").exists()


# --------------------------------------------------------------------------- limiter, expiry
def test_rate_limiter_locks_a_name_after_five_failures_within_the_window():
    lim = SignInLimiter(attempts=5, window=900)
    for i in range(4):
        assert lim.failed("ana", 100.0 + i) == i + 1
        assert lim.retry_after("ana", 100.0 + i) == 0
    lim.failed("ana", 104.0)
    assert lim.retry_after("ana", 104.0) == pytest.approx(896.0)    # the first failure + 900 s
    assert lim.retry_after("ben", 104.0) == 0                        # per name
    assert lim.retry_after("ana", 999.9) > 0
    assert lim.retry_after("ana", 1000.0) == 0                       # oldest failure left the window
    lim.failed("ana", 1000.0)
    lim.succeeded("ana")
    assert lim.retry_after("ana", 1000.0) == 0


def test_session_expiry():
    assert not session_expired(0.0, 8 * 3600 - 1, hours=8)
    assert session_expired(0.0, 8 * 3600, hours=8)
    assert session_expired(None, 0.0)
    assert session_expired(0.0, 1801, hours=0.5)


# --------------------------------------------------------------------------- launcher and CLI
def test_network_host_without_accounts_is_refused(tmp_path, capsys):
    from adoption.cli import main

    assert main(["dashboard", str(tmp_path), "--host", "0.0.0.0"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--users FILE" in lines[0] and "dashboard-user add" in lines[0]
    assert main(["dashboard", str(tmp_path), "--host", "10.1.2.3", "--users",
                 str(tmp_path / "none.json")]) == 2
    assert "no such users file" in capsys.readouterr().err


def test_launch_command_with_accounts(tmp_path):
    from adoption.dashboard_launch import ENV_SESSION_HOURS, ENV_USERS, streamlit_command

    users = tmp_path / "users.json"
    write_users(users, {})
    with pytest.raises(InputError, match="no account"):
        streamlit_command(tmp_path, "0.0.0.0", users=users)
    add_user(users, "ana", PASSWORD)
    cmd, env = streamlit_command(tmp_path, "0.0.0.0", 8999, users=users, session_hours=2)
    opt = {cmd[i]: cmd[i + 1] for i in range(len(cmd) - 1) if cmd[i].startswith("--")}
    assert opt["--server.address"] == "0.0.0.0" and env[ENV_USERS] == str(users.resolve())
    assert float(env[ENV_SESSION_HOURS]) == 2
    assert opt["--server.enableXsrfProtection"] == "true" and opt["--server.enableCORS"] == "true"
    assert opt["--browser.gatherUsageStats"] == "false" and opt["--server.maxUploadSize"] == "1"
    with pytest.raises(InputError, match="session-hours"):
        streamlit_command(tmp_path, users=users, session_hours=0)


def test_dashboard_user_add_asks_twice(tmp_path):
    from typer.testing import CliRunner

    from adoption.cli import app

    f = tmp_path / "users.json"
    res = CliRunner().invoke(app, ["dashboard-user", "add", "ana", "--users", str(f), "--runs", "a, b"],
                             input=f"{PASSWORD}\n{PASSWORD}\n")
    assert res.exit_code == 0, res.output
    assert read_users(f)["ana"].runs == ("a", "b") and verify(read_users(f), "ana", PASSWORD)
    res = CliRunner().invoke(app, ["dashboard-user", "add", "ben", "--users", str(f)],
                             input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert res.exit_code == 0 and "do not match" in res.output
    assert set(read_users(f)) == {"ana", "ben"}


# --------------------------------------------------------------------------- the gate (AppTest)
@pytest.fixture(scope="module")
def served(example_run, tmp_path_factory):
    """A root with two copies of the example run and a users file: 'ana' (every run) and
    'ben' (only 'second'); plus what must not show before sign-in: construct labels and
    the run's title."""
    base = tmp_path_factory.mktemp("auth")
    root = base / "reports"
    for name in ("first", "second"):
        shutil.copytree(example_run.out_dir, root / name)
    users = base / "users.json"
    add_user(users, "ana", PASSWORD)
    add_user(users, "ben", PASSWORD, runs=["second"])
    spec = yaml.safe_load((REPO / "surveys" / "ai_mental_health" / "survey.yaml").read_text(encoding="utf-8"))
    labels = [c["label"] for c in spec["constructs"].values()]
    assert len(labels) > 5
    return root, users, labels


def _app(monkeypatch, root, users, hours=None):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ADOPTION_DASHBOARD_ROOT", str(root))
    monkeypatch.setenv("ADOPTION_DASHBOARD_USERS", str(users))
    if hours is not None:
        monkeypatch.setenv("ADOPTION_DASHBOARD_SESSION_HOURS", str(hours))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _everything(at) -> str:
    """Every text the script put on the page (main area and sidebar)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error",
                 "success", "metric", "text", "code", "selectbox", "radio", "tabs", "expander"):
        for e in getattr(at, kind, []):
            parts += [str(getattr(e, a, "")) for a in ("value", "label", "options") if hasattr(e, a)]
    return "\n".join(parts)


def _sign_in(at, name, password):
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


def test_nothing_of_a_run_before_sign_in_and_the_run_after(served, monkeypatch):
    root, users, labels = served
    at = _app(monkeypatch, root, users)
    before = _everything(at)
    assert [t.value for t in at.title] == ["Sign in"]
    assert not re.search(r"\d", before), before          # no number of any kind
    for text in ["Habit", "Willingness", "first", "second", "Key findings", *labels]:
        assert text not in before
    assert not at.get("plotly_chart") and not at.dataframe and not at.table
    _sign_in(at, "ana", PASSWORD)
    assert not at.exception, [e.value for e in at.exception]
    after = _everything(at)
    assert "Signed in as ana" in after and re.search(r"\d", after)
    assert [[o.rsplit(" · ", 1)[-1] for o in s.options] for s in at.selectbox] == [["first", "second"]]
    # the password is nowhere in the session state
    state = {k: at.session_state[k] for k in at.session_state.filtered_state} \
        if hasattr(at.session_state, "filtered_state") else {}
    assert PASSWORD not in repr(state) and PASSWORD not in repr(at.session_state)
    assert [t.value for t in at.text_input if t.value] == []


def test_run_list_per_account(served, monkeypatch):
    root, users, _ = served
    at = _sign_in(_app(monkeypatch, root, users), "ben", PASSWORD)
    assert [[o.rsplit(" · ", 1)[-1] for o in s.options] for s in at.selectbox] == [["second"]]
    at.query_params["run"] = "first"
    at.run()
    assert at.selectbox[0].value == "second"
    assert "not a run under the dashboard's folder" in _everything(at)


def test_wrong_password_is_logged_without_it_and_rate_limited(served, monkeypatch, caplog):
    root, users, _ = served
    at = _app(monkeypatch, root, users)
    with caplog.at_level(logging.WARNING, logger="adoption.dashboard.auth"):
        for _ in range(5):
            _sign_in(at, "limited", "wrong password 1")
            assert "wrong" in " ".join(e.value for e in at.error)
        _sign_in(at, "limited", "wrong password 2")
    assert "Too many failed sign-ins" in " ".join(e.value for e in at.error)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged.count("failed sign-in for 'limited'") == 5 and "refused for 'limited'" in logged
    assert "wrong password" not in logged
    assert [t.value for t in at.title] == ["Sign in"]


def test_session_expires(served, monkeypatch):
    root, users, _ = served
    at = _sign_in(_app(monkeypatch, root, users, hours=8), "ana", PASSWORD)
    assert "Signed in as ana" in _everything(at)
    at.session_state["auth_since"] = time.time() - 8 * 3600 - 1
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert "session has ended" in _everything(at)
    assert not re.search(r"\d", _everything(at))
