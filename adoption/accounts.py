"""Dashboard accounts: a file of salted password hashes, a sign-in rate limiter, session expiry.

``adoption dashboard-user add NAME --users FILE`` writes an account;
``adoption dashboard RUNS --users FILE`` serves the dashboard behind a sign-in form
(``dashboard/auth.py``) that checks names and passwords against the file. Nothing here
imports Streamlit.

The file is JSON, written atomically and readable by its owner only::

    {"format": "adoption-dashboard-users 1",
     "accounts": {"ana": {"hash": "$argon2id$v=19$...", "runs": null},
                  "ben": {"hash": "$argon2id$...", "runs": ["study1"]}}}

``hash`` is argon2id (argon2-cffi's defaults: a random 16-byte salt per hash, RFC 9106's
low-memory parameters). ``runs`` is null (every run under the dashboard's folder) or the
list of run names (as the dashboard's run selector shows them) the account may open.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from adoption.errors import InputError

FORMAT = "adoption-dashboard-users 1"
#: Account names: letters, digits and . _ @ - (1 to 64 characters).
NAME_RE = re.compile(r"[A-Za-z0-9._@-]{1,64}")
#: Shortest password accepted by ``dashboard-user add``.
MIN_PASSWORD = 10
#: Default session lifetime of the dashboard, in hours.
SESSION_HOURS = 8.0

_HASHER = PasswordHasher()
# verified against when the name is unknown, so that an unknown name costs as much time
# as a wrong password (no timing difference tells which names exist)
_DUMMY = _HASHER.hash("not a password of any account")


@dataclass(frozen=True)
class Account:
    """One account: its name, argon2 hash and the runs it may open (None: every run)."""

    name: str
    hash: str
    runs: tuple[str, ...] | None = None


def check_name(name: str) -> str:
    """``name`` if it is a valid account name, else :class:`InputError`."""
    if not NAME_RE.fullmatch(name or ""):
        raise InputError(f"account name {name!r}: use 1 to 64 letters, digits or . _ @ -")
    return name


def hash_password(password: str) -> str:
    """A salted argon2id hash of ``password`` (PHC string, salt and parameters included)."""
    return _HASHER.hash(password)


def read_users(path: Path) -> dict[str, Account]:
    """The accounts in the users file ``path``, by name.

    Raises
    ------
    InputError
        When the file is missing, is not a users file, or an entry is malformed.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such users file; make one with "
                         f"'adoption dashboard-user add NAME --users {path}'.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a users file ({exc}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(
            data.get("accounts"), dict):
        raise InputError(f"{path}: not a users file written by 'adoption dashboard-user add'.")
    out = {}
    for name, entry in data["accounts"].items():
        ok = (NAME_RE.fullmatch(name) and isinstance(entry, dict)
              and isinstance(entry.get("hash"), str) and entry["hash"].startswith("$argon2")
              and (entry.get("runs") is None or (isinstance(entry["runs"], list) and all(
                  isinstance(r, str) for r in entry["runs"]))))
        if not ok:
            raise InputError(f"{path}: account {name!r} is malformed; remove it and add it "
                             "again with 'adoption dashboard-user add'.")
        runs = entry.get("runs")
        out[name] = Account(name, entry["hash"], None if runs is None else tuple(runs))
    return out


def write_users(path: Path, accounts: dict[str, Account]) -> None:
    """Write ``accounts`` to ``path`` atomically (a temporary file renamed), mode 0600."""
    path = Path(path)
    data = {"format": FORMAT, "accounts": {
        a.name: {"hash": a.hash, "runs": None if a.runs is None else list(a.runs)}
        for a in sorted(accounts.values(), key=lambda a: a.name)}}
    fd, tmp = tempfile.mkstemp(prefix=".users-", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_user(path: Path, name: str, password: str, runs: list[str] | None = None) -> Account:
    """Add (or replace) the account ``name`` in the users file ``path`` (created if missing)."""
    check_name(name)
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password is too short: use at least {MIN_PASSWORD} characters.")
    path = Path(path)
    accounts = read_users(path) if path.exists() else {}
    acc = Account(name, hash_password(password), None if runs is None else tuple(runs))
    accounts[name] = acc
    write_users(path, accounts)
    return acc


def verify(accounts: dict[str, Account], name: str, password: str) -> Account | None:
    """The account if ``password`` is its password, else None.

    argon2 recomputes the hash and compares in constant time; an unknown name is checked
    against a dummy hash, so it takes as long as a wrong password.
    """
    acc = accounts.get(name)
    try:
        _HASHER.verify(acc.hash if acc is not None else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return acc


def session_expired(signed_in_at: float | None, now: float, hours: float = SESSION_HOURS) -> bool:
    """True when a session signed in at ``signed_in_at`` (seconds) is ``hours`` old or older.

    A session with no sign-in time (None) counts as expired.
    """
    return signed_in_at is None or now - signed_in_at >= hours * 3600.0


class SignInLimiter:
    """Failed sign-ins per account name: after ``attempts`` failures within ``window``
    seconds the name is locked until the oldest of them is ``window`` seconds old.

    Shared by every session of one dashboard server (thread-safe). Times are passed in,
    so the rule is tested without waiting.
    """

    def __init__(self, attempts: int = 5, window: float = 900.0):
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str, now: float) -> deque[float]:
        q = self._failures.setdefault(name, deque())
        while q and now - q[0] >= self.window:
            q.popleft()
        return q

    def retry_after(self, name: str, now: float) -> float:
        """Seconds until ``name`` may try again (0 when it may try now)."""
        with self._lock:
            q = self._recent(name, now)
            return 0.0 if len(q) < self.attempts else q[0] + self.window - now

    def failed(self, name: str, now: float) -> int:
        """Record a failed sign-in of ``name``; return its failures within the window."""
        with self._lock:
            q = self._recent(name, now)
            q.append(now)
            return len(q)

    def succeeded(self, name: str) -> None:
        """Forget the failures of ``name`` after a successful sign-in."""
        with self._lock:
            self._failures.pop(name, None)


__all__ = ["Account", "FORMAT", "MIN_PASSWORD", "SESSION_HOURS", "SignInLimiter", "add_user",
           "check_name", "hash_password", "read_users", "session_expired", "verify", "write_users"]
