"""Stage 1: export file -> :class:`LoadedResponses`.

:func:`load_responses` reads one export (SPSS .sav/.zsav/.por, Stata .dta, CSV in any
common encoding and delimiter, Excel .xlsx/.xls, LibreOffice .ods, Qualtrics and Google
Forms CSV exports), checks it against the survey spec and returns the responses with

* one row per data row of the file, index ``row`` = 1-based data row number (first
  respondent = 1); no row is ever dropped here;
* PII columns removed (the spec's ``pii`` plus columns that look like e-mail
  addresses, phone numbers or IP addresses); an id column that looks like that is
  replaced by salted hashes (:func:`pseudonymise`);
* item and attention-check answers as numbers on the spec's scale (text labels mapped,
  SPSS user-defined missing codes set to missing, value labels that run the other way
  recoded by their text);
* every change as a :class:`~adoption.audit.LogEntry`.

Spec missing codes (``missing.codes``) and out-of-range values are left as numbers:
they are the cleaning stage's job.

Modules, in the order :func:`load_responses` uses them (the per-format readers live in
:mod:`adoption.readers`)::

    responses.py  load_responses, LoadedResponses, SourceInfo: the steps in order
    columns.py    the path, the header, Qualtrics rows, spec columns by name or wording
    pii.py        PII columns dropped, a PII-like id pseudonymised
    answers.py    user-missing codes, answer text and numbered labels to numbers
    labels.py     value labels reconciled with the spec's scale and group labels
    common.py     the stage name and how codes and labels are compared
"""

from adoption.load.answers import NA_TOKENS, numbered_label
from adoption.load.common import STAGE
from adoption.load.labels import (
    DESCENDING_NOTE,
    DESCENDING_RECODE,
    category_key,
    label_recodes,
    recode_warnings,
)
from adoption.load.pii import pseudonymise
from adoption.load.responses import LoadedResponses, SourceInfo, load_responses

__all__ = [
    "DESCENDING_NOTE", "DESCENDING_RECODE", "NA_TOKENS", "STAGE", "LoadedResponses",
    "SourceInfo", "category_key", "label_recodes", "load_responses", "numbered_label",
    "pseudonymise", "recode_warnings",
]
