"""The columns of a simulated export besides the answers: id, PII, demographics, layout
(questionnaire order) and labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.spec import Survey

__all__ = ["pii_column", "layout", "demographic_columns", "demographics", "export_frame",
           "column_labels"]


_FIRST = ["Maria", "Jose", "Juan", "Angelica", "Mark", "Kristine", "John Paul", "Mary Joy",
          "Christian", "Jasmine", "Paolo", "Nicole", "Miguel", "Patricia", "Carlo", "Andrea",
          "Joshua", "Camille", "Rafael", "Bea", "Gabriel", "Kimberly", "Francis", "Trisha",
          "Renz", "Jericho", "Althea", "Lance", "Princess", "Aldrin"]


_LAST = ["Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Torres",
         "Tomas", "Andrada", "Castillo", "Flores", "Villanueva", "Ramos", "Castro", "Rivera",
         "Aquino", "Navarro", "Salazar", "Mercado", "Dela Cruz", "De Leon", "Gonzales",
         "Lopez", "Manalo", "Pascual", "Soriano", "Valdez", "Domingo", "Fernandez"]


def pii_column(name: str, rng, n: int, first: np.ndarray, last: np.ndarray) -> list[str]:
    low = name.lower()
    if "mail" in low:
        return [f"{f.lower().replace(' ', '')}.{l.lower().replace(' ', '')}{int(d)}@{dom}"
                for f, l, d, dom in zip(first, last, rng.integers(1, 99, n),
                                        rng.choice(["gmail.com", "yahoo.com", "up.edu.ph",
                                                    "student.example.edu.ph"], n))]
    if "name" in low:
        return [f"{f} {l}" for f, l in zip(first, last)]
    if any(t in low for t in ("no", "num", "id", "phone")):
        year = rng.integers(2019, 2026, n)
        return [f"{y}{int(r):06d}" for y, r in zip(year, rng.integers(0, 1_000_000, n))]
    return [f"{f[0]}{l[0]}-{int(r):04d}" for f, l, r in zip(first, last, rng.integers(0, 10_000, n))]


def layout(survey: Survey) -> list[str]:
    """Items and attention checks in questionnaire order: each attention check is placed
    after the first fifth of the items (so break-offs have answered it)."""
    items = survey.items
    attn = [a.column for a in survey.screening.attention_checks]
    at = max(1, len(items) // 5)
    return items[:at] + attn + items[at:]


def demographics(rng: np.random.Generator, survey: Survey, n: int) -> dict[str, np.ndarray]:
    """Codes of every demographic and grouping column, from the population's shares or
    uniformly over the group's labels."""
    group_labels = {g.column: g for g in survey.groups}
    demo: dict[str, np.ndarray] = {}
    for d in demographic_columns(survey):
        shares = survey.population.demographics.get(d)
        if shares:
            codes_d = [int(c) if str(c).lstrip("-").isdigit() else c for c in shares]
            prob = np.array(list(shares.values()), float)
            demo[d] = rng.choice(np.array(codes_d, dtype=object), n, p=prob / prob.sum())
        elif d in group_labels and group_labels[d].labels:
            demo[d] = rng.choice(np.array(list(group_labels[d].labels), dtype=object), n)
        else:
            raise InputError(f"population.demographics has no shares for '{d}' and the spec "
                             "gives no labels for it; add 'population.demographics."
                             f"{d}: {{1: 0.5, 2: 0.5}}'.")
    return demo


def demographic_columns(survey: Survey) -> list[str]:
    return list(dict.fromkeys([*survey.demographics, *survey.group_columns]))


def export_frame(rng: np.random.Generator, survey: Survey, n: int, demo: dict,
                  Xout: np.ndarray, A: np.ndarray, secs: np.ndarray) -> pd.DataFrame:
    """One row per respondent: id, PII, demographics, items and attention checks in
    questionnaire order, completion time."""
    items = survey.items
    attn_cols = [a.column for a in survey.screening.attention_checks]
    first = rng.choice(_FIRST, n)
    last = rng.choice(_LAST, n)
    cols: dict[str, object] = {}
    if survey.id:
        cols[survey.id] = np.arange(1, n + 1)
    for p in survey.pii:
        cols[p] = pii_column(p, rng, n, first, last)
    cols.update(demo)
    for c in layout(survey):
        cols[c] = Xout[:, items.index(c)] if c in items else A[:, attn_cols.index(c)]
    if survey.screening.time_column:
        cols[survey.screening.time_column] = secs.astype("int64")
    respondents = pd.DataFrame(cols)
    for d in demographic_columns(survey):
        if all(isinstance(v, (int, np.integer)) for v in respondents[d]):
            respondents[d] = respondents[d].astype("int64")
    return respondents


def column_labels(survey: Survey) -> tuple[dict[str, str], dict[str, dict]]:
    """Variable labels (item wording, group labels, PII names) and value labels."""
    items = survey.items
    group_labels = {g.column: g for g in survey.groups}
    demo_cols = demographic_columns(survey)
    labels = {**{it: survey.constructs[survey.construct_of(it)].items[it] for it in items}}
    extra = (survey.population.model_extra or {}).get("column_labels", {}) or {}
    labels.update({str(k): str(v) for k, v in extra.items()})
    for d in demo_cols:
        if d in group_labels and group_labels[d].label:
            labels.setdefault(d, group_labels[d].label)
    if survey.id:
        labels.setdefault(survey.id, "Respondent id")
    for p in survey.pii:
        labels.setdefault(p, p.replace("_", " ").capitalize())
    vlabels: dict[str, dict[float, str]] = {}
    for c in layout(survey):
        s = survey.scale_of(c) if c in items else survey.scale
        if s.labels:
            vlabels[c] = {float(k): v for k, v in s.labels.items()}
    for d in demo_cols:
        if d in group_labels and group_labels[d].labels:
            vlabels[d] = {(float(k) if isinstance(k, int) else k): v
                          for k, v in group_labels[d].labels.items()}
    return labels, vlabels
