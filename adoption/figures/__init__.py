"""Figures built from result tables: pure functions from DataFrames to figures.

    layout.py       path-diagram geometry (boxes, routed arrows, label boxes); no drawing
    pathdiagram.py  path diagrams: plotly figure, and SVG / PNG bytes via matplotlib
    scree.py        scree plot with parallel analysis (SVG / PNG)
    save.py         every matplotlib figure saved here (SVG text kept as text)

plotly and matplotlib are imported only when a figure is drawn.
"""

from adoption.figures.pathdiagram import path_figure, path_png, path_svg

__all__ = ["path_figure", "path_png", "path_svg"]
