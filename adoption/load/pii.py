"""Personal data in the responses: columns dropped (the spec's ``pii`` and columns that
look like e-mail addresses, phone numbers or IP addresses) and an id column that looks
like that replaced by salted hashes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

import pandas as pd

from adoption.audit import LogEntry
from adoption.load.common import STAGE
from adoption.spec import Survey

#: text that means "no answer" in a numeric (item) column of a text export
NA_TOKENS = frozenset({"na", "n/a", "nan", "null", "none", "#n/a", ".", "<na>"})

_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,24}$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_IPV6 = re.compile(r"^[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}$")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")
_DATE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")

def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """Each id as ``"id-"`` and 16 hex digits of its HMAC-SHA-256 under ``key``.

    Equal ids get equal pseudonyms (duplicate ids are still found), missing stays
    missing; without ``key`` the original cannot be recovered, and 64 bits keep the
    chance that two of a million ids collide near 3e-8.

    Examples
    --------
    >>> pseudonymise(pd.Series(["a@x.org", None, "a@x.org"]), b"k").tolist()
    ['id-86666a4f916deac4', None, 'id-86666a4f916deac4']
    """
    def one(v) -> str:
        return "id-" + hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    return ids.map(one, na_action="ignore").astype(object).where(ids.notna(), None)


def pii_kind(values: pd.Series) -> str | None:
    """'e-mail addresses', 'IP addresses' or 'phone numbers' if most (more than half)
    of the non-empty text values look like that, else None. Numbers stored as numbers
    are not inspected (an id column of integers is not a phone list)."""
    vals = [v.strip() for v in values.dropna() if isinstance(v, str) and v.strip()]
    if not vals:
        return None
    for kind, test in (("e-mail addresses", lambda v: bool(_EMAIL.match(v))),
                       ("IP addresses", _looks_like_ip),
                       ("phone numbers", _looks_like_phone)):
        if sum(map(test, vals)) > len(vals) / 2:
            return kind
    return None


def _looks_like_ip(v: str) -> bool:
    if _IPV4.match(v):
        return True
    # IPv6: hex groups and colons, with '::' or all 8 groups (so that '10:05:00' is a time)
    return bool(_IPV6.match(v)) and ("::" in v or v.count(":") == 7)


def _looks_like_phone(v: str) -> bool:
    """A phone number: 7-15 digits with +, a leading 0, or separators between digit
    groups; not a date, an IPv4 address or a plain decimal number (a coordinate)."""
    if not _PHONE.match(v) or _DATE.match(v) or _IPV4.match(v) or _DECIMAL.match(v):
        return False
    if not 7 <= sum(ch.isdigit() for ch in v) <= 15:
        return False
    return v.startswith(("+", "(", "0")) or bool(re.search(r"\d[\s.\-/()]+\d", v))


def drop_pii(df: pd.DataFrame, survey: Survey, log: list[LogEntry]) -> pd.DataFrame:
    drop = []
    cols = set(df.columns)
    for name in survey.pii:
        if name in cols:
            drop.append(name)
            log.append(LogEntry(STAGE, "column dropped (PII)", column=name, count=len(df),
                                detail="listed under pii in the spec"))
        else:
            log.append(LogEntry(STAGE, "PII column not found", column=name, count=0,
                                detail="listed under pii in the spec but not in the file; check its name"))
    protected = set(survey.items) | {a.column for a in survey.screening.attention_checks}
    for col in df.columns:
        if col in drop or col in protected:
            continue
        kind = pii_kind(df[col])
        if kind is None:
            continue
        if col == survey.id:
            continue  # the id is pseudonymised by load_responses, never dropped
        drop.append(col)
        log.append(LogEntry(STAGE, "column dropped (PII)", column=col, count=len(df),
                            detail=f"most non-empty values look like {kind}"))
    return df.drop(columns=drop)


def pseudonymise_id(df: pd.DataFrame, id_column: str | None, log: list[LogEntry], *,
                    keep_id_map: bool = False) -> tuple[pd.DataFrame, pd.DataFrame | None, str | None]:
    """Replace the id column by salted hashes (:func:`pseudonymise`) when most of its
    values look like e-mail addresses, phone numbers or IP addresses (logged).

    Returns
    -------
    data, id_map, kind : the frame (the id column replaced in place), the map ``id,
        pseudonym`` when ``keep_id_map`` (else None), and what the ids looked like
        (None when they were left alone).
    """
    if not id_column or id_column not in df.columns:
        return df, None, None
    kind = pii_kind(df[id_column])
    if kind is None:
        return df, None, None
    key = secrets.token_bytes(32)  # random for this load, never stored
    hashed = pseudonymise(df[id_column], key)
    id_map = None
    if keep_id_map:
        id_map = pd.DataFrame({"id": df[id_column], "pseudonym": hashed}).dropna().drop_duplicates()
    df[id_column] = hashed
    log.append(LogEntry(STAGE, "id column pseudonymised", column=id_column,
                        count=int(hashed.notna().sum()),
                        detail=f"most values look like {kind}: each id replaced by a salted hash "
                               "(HMAC-SHA-256 with a key drawn at random for this run and not kept), "
                               "so that repeated ids are still found"
                               + ("; the map to the original ids is kept outside the run"
                                  if keep_id_map else "")))
    return df, id_map, kind
