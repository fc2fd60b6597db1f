"""What every module of the load stage shares: the stage name of its log entries, and how
codes, labels and question texts are written and compared."""

from __future__ import annotations

import re
import unicodedata

#: the stage named in every log entry of loading
STAGE = "load"

#: control characters (C0, DEL, C1) and the Unicode line and paragraph separators
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(s: str) -> str:
    """``s`` with control characters written as escapes ('\\x0b'), fit for one line.

    Examples
    --------
    >>> escape_controls("PE\\t1")
    'PE\\\\t1'
    """
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), s)


def has_controls(s: str) -> bool:
    """Whether ``s`` holds a control character (see :func:`escape_controls`)."""
    return bool(_CONTROL.search(s))


def fmt_code(v) -> str:
    """A code as a message shows it: 5.0 -> '5', 2.5 -> '2.5', 'a' -> 'a'.

    Examples
    --------
    >>> [fmt_code(v) for v in (5.0, 2.5, "a")]
    ['5', '2.5', 'a']
    """
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def norm_text(s: str) -> str:
    """Case, whitespace and punctuation-insensitive form of a question text.

    Examples
    --------
    >>> norm_text("AI tools help me  work faster.")
    'ai tools help me work faster'
    """
    s = unicodedata.normalize("NFKC", str(s)).casefold()
    s = re.sub(r"[^\w\s]", " ", s)
    return " ".join(s.split())


def norm_label(s: str) -> str:
    """An answer label compared ignoring case and spacing: ' Strongly  Agree' ->
    'strongly agree'."""
    return " ".join(str(s).split()).casefold()


def is_number(k) -> bool:
    """Whether ``k`` reads as a number (a value-label code 1.0 or '1', not 'a')."""
    try:
        float(k)
        return True
    except (TypeError, ValueError):
        return False
