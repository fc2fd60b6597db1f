"""The report as data: sections of paragraphs, tables and figures, rendered twice.

:mod:`adoption.report.build` turns ``results.json`` into a :class:`Report`;
:mod:`adoption.report.html` and :mod:`adoption.report.docx` render the same
:class:`Report`, so the web page and the Word file always show the same tables with the
same numbers. Everything here is already text: numbers were formatted (APA style) by the
table builders in :mod:`adoption.report.tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

#: Shown wherever a part of the results is absent from the run.
NOT_COMPUTED = "not computed in this run"
#: Widest table printed on a portrait page; wider tables go on landscape pages (Word and
#: the printed web page).
PORTRAIT_MAX_COLUMNS = 11


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
    def wide(self) -> bool:
        """Whether the table is printed on a landscape page."""
        return len(self.columns) > PORTRAIT_MAX_COLUMNS


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
