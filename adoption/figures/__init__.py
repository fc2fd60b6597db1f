"""Figures built from result tables: pure functions from DataFrames to figures.

Each chart has a ``prepare_*`` step (the data and geometry, no drawing library) and
renderers: a plotly figure for the dashboard and the HTML report, SVG and PNG bytes
(matplotlib) for the report's images. Numbers are formatted with
:mod:`adoption.format`; plotly and matplotlib are imported only when a figure is drawn.

Modules and their public names:

    pathdiagram.py   path diagram of a structural model: prepare_path_diagram,
                     path_figure, path_svg, path_png, path_drawings, EdgeStyle,
                     PreparedDiagram
    pathdraw.py      drawing a prepared path diagram: draw_plotly, draw_matplotlib
    groupdiagram.py  one path diagram per group, differing paths marked: differing_paths,
                     group_paths, group_path_figure, group_path_svg, group_path_png
    layout.py        path-diagram geometry, no drawing: layout_diagram (boxes, routed
                     arrows, label boxes), and the types below
    diagram.py       EdgeSpec, Node, Edge, DiagramLayout; LayoutStyle (every length of
                     the layout), STYLE, KINDS
    geometry.py      text_size, Box, segment_hits_box, segments_hit_box,
                     polyline_hits_box, bezier, point_at, LINE_SPACING
    layering.py      longest_path_layers, order_layers, count_crossings,
                     isotonic_positions
    placement.py     layout steps 1-3: read_graph, place (DiagramGraph, Footprint,
                     Placement)
    routing.py       layout steps 4-5: route_regressions, route_loadings,
                     route_covariances, place_labels, ports, round_bends, obstacles,
                     clearance
    likert.py        diverging stacked bars of Likert answers: prepare_likert,
                     likert_figure, likert_svg, likert_png, likert_colors
    forest.py        forest plot of effects: prepare_forest, forest_figure, forest_svg,
                     forest_png
    heatmap.py       HTMT heat map: prepare_htmt, htmt_figure, htmt_svg, htmt_png
    ipma.py          importance-performance map: ipma_figure, ipma_svg, ipma_png
    scree.py         scree plot with parallel analysis: scree_image
    moderation.py    interaction plot and Johnson-Neyman plot: moderated_paths,
                     prepare_interaction, prepare_jn, interaction_figure, jn_figure,
                     interaction_image, jn_image
    save.py          every matplotlib figure saved here: figure_bytes, SVG_RC

Importable from the package itself: path_figure, path_svg, path_png.
"""

from adoption.figures.pathdiagram import path_figure, path_png, path_svg

__all__ = ["path_figure", "path_png", "path_svg"]
