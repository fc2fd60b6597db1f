"""Figures built from result tables: pure functions from DataFrames to figures.

    layout.py       path-diagram geometry (boxes, routes, label boxes), no drawing
    pathdiagram.py  path diagrams: plotly figure, and SVG / PNG bytes via matplotlib
"""
