"""The sign-in gate: called first thing in ``app.py``, before anything of a run is read.

When ``adoption dashboard --users FILE`` started the server (``$ADOPTION_DASHBOARD_USERS``
names the users file of :mod:`adoption.accounts`), a session that has not signed in, or
whose sign-in is older than ``$ADOPTION_DASHBOARD_SESSION_HOURS``, sees only the sign-in
form and the script stops there. Failed sign-ins are limited per account name (shared by
every session of the server) and logged without the password. The session keeps the
account name and the sign-in time, never the password (the form clears on submit and its
fields have no session-state keys).

Without ``$ADOPTION_DASHBOARD_USERS`` (loopback only: the launcher refuses other hosts)
the gate lets every session through.
"""

from __future__ import annotations

import logging
import os
import time

import streamlit as st

from adoption.accounts import SESSION_HOURS, Account, SignInLimiter, read_users, session_expired, verify

ENV_USERS = "ADOPTION_DASHBOARD_USERS"
ENV_SESSION_HOURS = "ADOPTION_DASHBOARD_SESSION_HOURS"
USER_KEY, SINCE_KEY = "auth_user", "auth_since"

log = logging.getLogger("adoption.dashboard.auth")
if not log.handlers:
    _h = logging.StreamHandler()
    _h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(_h)
    log.setLevel(logging.INFO)


@st.cache_resource
def limiter() -> SignInLimiter:
    """The server's one rate limiter (shared by every session)."""
    return SignInLimiter()


def session_hours() -> float:
    try:
        return float(os.environ.get(ENV_SESSION_HOURS) or SESSION_HOURS)
    except ValueError:
        return SESSION_HOURS


def _sign_out() -> None:
    for key in (USER_KEY, SINCE_KEY):
        st.session_state.pop(key, None)


def _attempt(accounts: dict[str, Account], name: str, password: str) -> None:
    """Check one submitted sign-in; on success store the account name and time and rerun."""
    now = time.time()
    wait = limiter().retry_after(name, now)
    if wait > 0:
        log.warning("sign-in refused for %r: too many failed attempts (locked %.0f s more)", name, wait)
        st.error(f"Too many failed sign-ins for this name; try again in {wait / 60:.0f} min.")
        return
    acc = verify(accounts, name, password)
    if acc is None:
        n = limiter().failed(name, now)
        log.warning("failed sign-in for %r (%d within %.0f min)", name, n, limiter().window / 60)
        st.error("The name or the password is wrong.")
        return
    limiter().succeeded(name)
    log.info("signed in: %r", name)
    st.session_state[USER_KEY], st.session_state[SINCE_KEY] = acc.name, now
    st.rerun()


def gate() -> Account | None:
    """The signed-in account, or None when the dashboard runs without accounts.

    Shows the sign-in form and stops the script while no valid session exists.
    """
    path = os.environ.get(ENV_USERS)
    if not path:
        return None
    accounts = read_users(path)          # read each run: a removed account ends its sessions
    user = st.session_state.get(USER_KEY)
    if user in accounts and not session_expired(st.session_state.get(SINCE_KEY), time.time(),
                                                session_hours()):
        with st.sidebar:
            st.caption(f"Signed in as {user}")
            if st.button("Sign out", key="auth-sign-out"):
                _sign_out()
                st.rerun()
        return accounts[user]
    expired = user is not None
    _sign_out()
    st.title("Sign in")
    if expired:
        st.info("Your session has ended; sign in again.")
    with st.form("sign-in", clear_on_submit=True):
        name = st.text_input("Name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        _attempt(accounts, name.strip(), password)
    st.stop()


def allowed_runs(runs: list, account: Account | None) -> list:
    """The runs ``account`` may open (every run without accounts or without a run list)."""
    if account is None or account.runs is None:
        return runs
    return [r for r in runs if r.name in account.runs]
