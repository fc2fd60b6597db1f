"""Small building blocks the pages are written with: a table, a figure, a missing part.

Every table comes with a CSV download of what is shown (and, where the run has it, of the
unrounded numbers); every figure with PNG and SVG downloads drawn by ``adoption.figures``'
matplotlib renderers when the button is clicked (no browser, no kaleido).
"""

from __future__ import annotations

import re
from typing import Callable

import pandas as pd
import streamlit as st

from adoption.report.content import NOT_COMPUTED, Cell, Table
from adoption.rundir import safe_csv_frame

#: Background of a marked cell: the cut-off judgements and privacy suppression.
MARK_STYLE = {
    "good": "background-color: #d9f2d9; color: #1b5e20",
    "acceptable": "background-color: #fff1cc; color: #7a5300",
    "poor": "background-color: #f9d6d5; color: #8b1a1a",
    "suppressed": "color: #777777; font-style: italic",
    "strong": "font-weight: bold",
}
#: The three judgements as words with a colour (Streamlit markdown).
VERDICT = {"good": ":green[● good]", "acceptable": ":orange[● acceptable]",
           "poor": ":red[● poor]", None: ":gray[● –]"}


#: Characters with a meaning in Streamlit's markdown (CommonMark, GitHub extensions,
#: Streamlit's ``:color[...]`` and ``:material/...:`` directives, ``$`` for LaTeX).
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=])")


def plain(text) -> str:
    r"""Text from the spec or the data, escaped so that Streamlit's markdown shows it as
    written: ``![t](http://x/t.png)`` stays those characters, never an image the
    browser fetches; line breaks become spaces (no heading or list can start).

    >>> plain("![t](http://x/t.png)")
    '\\!\\[t\\]\\(http\\://x/t\\.png\\)'
    """
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).splitlines()))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "table"


def frame_of(table: Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table's text and the mark of each cell, as two DataFrames of the same shape."""
    cols = _unique(table.columns)
    text = pd.DataFrame([[str(c) for c in row] for row in table.rows], columns=cols)
    marks = pd.DataFrame([[c.mark if isinstance(c, Cell) else None for c in row]
                          for row in table.rows], columns=cols)
    return text, marks


def _unique(cols) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in cols:
        c = str(c) or " "
        seen[c] = seen.get(c, 0) + 1
        out.append(c if seen[c] == 1 else c + " " * (seen[c] - 1))
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV (UTF-8 with BOM, so spreadsheets read the signs) with formula cells escaped."""
    return safe_csv_frame(df).to_csv(index=False).encode("utf-8-sig")


def not_in_run(what: str) -> None:
    st.info(f"{plain(what)}: {NOT_COMPUTED}.", icon=":material/info:")


def table(t: Table | None, what: str, raw: pd.DataFrame | None = None, *, key: str | None = None) -> None:
    """An APA table: title, the cells (marked cells coloured), note, CSV download(s)."""
    if t is None:
        not_in_run(what)
        return
    key = key or t.key
    text, marks = frame_of(t)
    st.markdown(f"**{plain(t.title)}**")
    styled = text.style.apply(lambda _: marks.map(lambda m: MARK_STYLE.get(m, "")), axis=None)
    st.dataframe(styled, hide_index=True, width="stretch", key=f"df-{key}",
                 height=min(38 + 35 * len(text), 600) if len(text) else "auto")
    if t.note:
        st.caption("*Note.* " + plain(t.note))
    with st.container(horizontal=True, gap="small"):
        st.download_button("CSV (as shown)", csv_bytes(text), f"{slug(t.key)}.csv", "text/csv",
                           key=f"csv-{key}", on_click="ignore", icon=":material/download:")
        if raw is not None and not raw.empty:
            st.download_button("CSV (unrounded)", csv_bytes(raw), f"{slug(t.key)}_unrounded.csv",
                               "text/csv", key=f"raw-{key}", on_click="ignore",
                               icon=":material/download:")


def dataframe(df: pd.DataFrame, title: str, key: str, *, note: str = "",
              marks: pd.DataFrame | None = None) -> None:
    """A plain table of text (already formatted) with its CSV download."""
    st.markdown(f"**{plain(title)}**")
    data = df if marks is None else df.style.apply(
        lambda _: marks.map(lambda m: MARK_STYLE.get(m, "")), axis=None)
    st.dataframe(data, hide_index=True, width="stretch", key=f"df-{key}")
    if note:
        st.caption("*Note.* " + plain(note))
    st.download_button("CSV", csv_bytes(df), f"{slug(key)}.csv", "text/csv", key=f"csv-{key}",
                       on_click="ignore", icon=":material/download:")


def figure(fig, name: str, png: Callable[[], bytes], svg: Callable[[], bytes], *,
           title: str = "", note: str = "", key: str | None = None) -> None:
    """An interactive plotly figure with PNG and SVG downloads drawn on click."""
    key = key or name
    if title:
        st.markdown(f"**{plain(title)}**")
    st.plotly_chart(fig, key=f"fig-{key}", config={"displaylogo": False,
                                                   "toImageButtonOptions": {"filename": name}})
    if note:
        st.caption("*Note.* " + plain(note))
    with st.container(horizontal=True, gap="small"):
        st.download_button("PNG", png, f"{name}.png", "image/png", key=f"png-{key}",
                           on_click="ignore", icon=":material/image:")
        st.download_button("SVG", svg, f"{name}.svg", "image/svg+xml", key=f"svg-{key}",
                           on_click="ignore", icon=":material/image:")


def image(png: bytes, name: str, svg: Callable[[], bytes], *, title: str = "",
          caption: str = "", width: int | None = None) -> None:
    """A static figure (PNG shown) with PNG and SVG downloads."""
    if title:
        st.markdown(f"**{plain(title)}**")
    st.image(png, caption=plain(caption) if caption else None, width=width or "content")
    with st.container(horizontal=True, gap="small"):
        st.download_button("PNG", png, f"{name}.png", "image/png", key=f"png-{name}",
                           on_click="ignore", icon=":material/image:")
        st.download_button("SVG", svg, f"{name}.svg", "image/svg+xml", key=f"svg-{name}",
                           on_click="ignore", icon=":material/image:")


def run_or_stop():
    """The selected run, or a message and the end of the page when there is none."""
    from rundata import current

    run = current()
    if run is None:
        st.warning("No run directory to show. Run `adoption run --out reports/NAME` first, "
                   "then start the dashboard again.")
        st.stop()
    return run
