"""Writing a simulated export as the file a survey tool would give: SPSS, Google Forms
CSV or Excel (:func:`write_export`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.simulate.draw import SimulatedExport
from adoption.spec import Survey

__all__ = ["write_export"]


_MISSING_LABELS = {99: "No answer", -9: "Not shown / skipped"}


def _google_timestamps(sim: SimulatedExport, rng: np.random.Generator) -> list[str]:
    """Submission times as Google Forms writes them (``2026/03/02 8:15:42 AM GMT+8``),
    increasing down the file; a duplicated submission carries its original's time."""
    gaps = rng.exponential(20 * 60, len(sim.data)).round()
    t = pd.Timestamp("2026-03-02 08:00:00") + pd.to_timedelta(np.cumsum(gaps), unit="s")
    stamps = [f"{x:%Y/%m/%d} {x.hour % 12 or 12}:{x:%M:%S} {'AM' if x.hour < 12 else 'PM'} GMT+8"
              for x in t]
    for dup, orig in sim.truth.duplicate_of.items():
        stamps[dup - 1] = stamps[orig - 1]
    return stamps


def _google_forms_frame(sim: SimulatedExport, survey: Survey,
                        answer_cols: list[str]) -> pd.DataFrame:
    """The export as Google Forms writes it (see :func:`write_export`)."""
    df = sim.data
    codes = tuple(survey.missing.codes)
    rng = np.random.default_rng(sim.seed + 1)
    out = df.copy().astype(object)
    for c in out.columns:
        lab = sim.value_labels.get(c)
        if not lab:
            continue
        vals = []
        for v in df[c]:
            if isinstance(v, (float, np.floating)) and (np.isnan(v) or v in codes):
                vals.append("")
                continue
            text = lab.get(float(v) if not isinstance(v, str) else v, str(v))
            if c in answer_cols and rng.random() < 0.01:
                text = rng.choice([text.lower(), text.upper(), f" {text}", f"{text} ",
                                   text.replace(" ", "  ")])
            vals.append(text)
        out[c] = vals
    if survey.screening.time_column in out:
        out[survey.screening.time_column] = df[survey.screening.time_column].astype("int64")
    out.insert(0, "Timestamp", _google_timestamps(sim, rng))
    wording = {it: survey.constructs[survey.construct_of(it)].items[it] for it in survey.items}
    out = out.rename(columns={c: w for c, w in wording.items() if w.strip()})
    return out


def write_export(sim: SimulatedExport, survey: Survey, path: str | Path) -> Path:
    """Write a simulated export in the format its extension names.

    Parameters
    ----------
    sim : SimulatedExport
        From :func:`simulate`.
    survey : Survey
        The spec it was simulated from (missing codes, items).
    path : str or Path
        ``.sav``: SPSS, numeric answer codes with value labels (the scale's and the
        groups'), variable labels (item wording), the spec's missing codes declared as
        user-missing values (written where a coded non-answer was given).
        ``.csv``: as Google Forms writes it: a ``Timestamp`` first column, the item
        columns headed by their wording (the question text), answers as label text
        ("Strongly agree"), demographics as label text, about 1 % of answer labels with
        odd case or spacing, non-answers blank (Google Forms has no missing codes),
        UTF-8. Other columns keep the spec's names.
        ``.xlsx``: one sheet ``responses``, numeric codes as in the .sav (missing codes
        included), no labels.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        An extension other than .sav, .csv or .xlsx.
    """
    p = Path(path)
    ext = p.suffix.lower()
    df = sim.data
    codes = tuple(survey.missing.codes)
    answer_cols = [c for c in df.columns if c in set(survey.items)
                   or c in {a.column for a in survey.screening.attention_checks}]
    if ext == ".sav":
        import pyreadstat

        vlabels = {}
        for c, lab in sim.value_labels.items():
            lab = dict(lab)
            if c in answer_cols:
                lab.update({float(k): v for k, v in _MISSING_LABELS.items() if k in codes})
            vlabels[c] = lab
        missing_ranges = {c: [float(x) for x in codes] for c in answer_cols} if codes else None
        out = df.copy()
        for c in survey.pii:
            if c in out:
                out[c] = out[c].astype(str)
        pyreadstat.write_sav(out, str(p), column_labels={c: sim.column_labels.get(c, "") for c in out.columns},
                             variable_value_labels=vlabels, missing_ranges=missing_ranges,
                             variable_measure={c: "ordinal" for c in answer_cols})
    elif ext == ".csv":
        _google_forms_frame(sim, survey, answer_cols).to_csv(p, index=False, encoding="utf-8")
    elif ext == ".xlsx":
        df.to_excel(p, sheet_name="responses", index=False)
    else:
        raise InputError(f"{p}: cannot write '{p.suffix}' files; use .sav, .csv or .xlsx.")
    return p
