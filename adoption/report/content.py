"""The report as data: sections of paragraphs, tables and figures, rendered twice.

:mod:`adoption.report.build` turns ``results.json`` into a :class:`Report`;
:mod:`adoption.report.html` and :mod:`adoption.report.docx` render the same
:class:`Report`, so the web page and the Word file always show the same tables with the
same numbers. Everything here is already text: numbers were formatted (APA style) by the
table builders of :mod:`adoption.report.tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

#: Shown wherever a part of the results is absent from the run.
NOT_COMPUTED = "not computed in this run"
#: Widest table printed on a portrait page, in characters (each column's longest text
#: plus two for padding, summed); wider tables go on landscape pages (Word and the printed
#: web page). A4 / Letter portrait holds about 130 characters of 7.5-9 pt table text.
PORTRAIT_MAX_CHARS = 130
#: A label or text column wraps to about this many characters.
WRAPPED_COLUMN_CHARS = 24


@dataclass(frozen=True)
class Cell:
    """A table cell with a mark: 'good', 'acceptable', 'poor', 'suppressed' or 'strong'."""

    text: str
    mark: str | None = None

    def __str__(self) -> str:
        return self.text


CellLike = Union[str, Cell]


@dataclass(frozen=True)
class Table:
    """An APA table: number and title above, column heads, body, note below.

    ``key`` is a stable identifier (the HTML id is ``tbl-<key>``); ``stub`` is the number
    of leading columns that hold labels rather than numbers, and ``text`` the indices of
    further text columns (both aligned left).
    """

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[CellLike, ...], ...]
    note: str = ""
    stub: int = 1
    text: tuple[int, ...] = ()

    def left(self, j: int) -> bool:
        """Whether column ``j`` is aligned left (labels and text)."""
        return j < self.stub or j in self.text

    @property
    def width_chars(self) -> int:
        """Estimated printed width: each column's longest text plus two, summed; label
        and text columns (aligned left) wrap, so they count at most
        :data:`WRAPPED_COLUMN_CHARS`."""
        total = 0
        for j, h in enumerate(self.columns):
            w = max([len(str(h))] + [len(str(r[j])) for r in self.rows if j < len(r)])
            total += (min(w, WRAPPED_COLUMN_CHARS) if self.left(j) else w) + 2
        return total

    @property
    def wide(self) -> bool:
        """Whether the table is printed on a landscape page (two-column key-value tables
        wrap instead)."""
        return len(self.columns) > 2 and self.width_chars > PORTRAIT_MAX_CHARS


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: str = "text"          # 'text', 'missing' (not computed), 'warning', 'lead'


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 3


@dataclass(frozen=True)
class Code:
    """Preformatted text (model syntax)."""

    text: str
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """A figure: an interactive plotly figure for the web page and static images.

    ``name`` is the file stem under ``figures/`` (``<name>.svg`` and ``<name>.png``).
    ``side``: set beside the neighbouring ``side`` figures (one diagram per group).
    """

    key: str
    title: str
    note: str
    name: str
    plotly: Any = None
    svg: bytes | None = None
    png: bytes | None = None
    alt: str = ""
    side: bool = False
    #: PNGs of the figure in parts (e.g. the Likert chart split by construct), for paper
    #: pages too short for the whole figure at a readable size; empty: use ``png``.
    png_parts: tuple[bytes, ...] = ()


Block = Union[Paragraph, Heading, Table, Figure, Code]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Report:
    title: str
    subtitle: str
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]
