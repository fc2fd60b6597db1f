"""What a path diagram's layout takes and returns: the arrows asked for, the placed
boxes and routed arrows, and the style (every length the layout uses).

All lengths are in inches, with *y pointing down* (screen and SVG convention).
"""

from __future__ import annotations

from dataclasses import dataclass

from adoption.figures.geometry import Box

__all__ = ["KINDS", "LayoutStyle", "STYLE", "Node", "EdgeSpec", "Edge", "DiagramLayout"]

#: The kinds of arrow a diagram draws.
KINDS = ("regression", "covariance", "loading")


@dataclass(frozen=True)
class LayoutStyle:
    """Every length and count of the layout in one place (inches unless said otherwise).

    Attributes
    ----------
    margin : blank border around the drawing.
    node_pad_x, node_pad_y : space between a construct's text and its border.
    item_pad_x, item_pad_y : the same for an item's box.
    port_spacing : distance between two arrows leaving or entering one side of a box
        (also between loadings to items above or below their factor).
    cov_port_spacing : the same for covariance arcs.
    side_loading_spacing : the same for loadings to items left or right of their factor.
    port_share : share of a side that its arrows may be spread over.
    max_port_height : the tallest a box grows to give its arrows room.
    item_gap_above, item_gap_beside : gap between a factor and its items above/below or
        left/right, as multiples of the layout's item gap (which grows on retries).
    item_sep : gap between two items of one factor (twice this side by side).
    dummy_height, dummy_sep : height of the slot an arrow crossing a column takes, and
        the gap next to it.
    dummy_weight : weight of a crossing arrow's slot when heights are averaged
        (a box weighs 1).
    min_column_width : the narrowest column (one holding only crossing arrows).
    arc_base, arc_clearance : the smallest bulge of a covariance arc, and the room left
        beyond the widest arc.
    order_sweeps, height_sweeps : sweeps of the ordering and of the height assignment.
    clear_pad : how far an arrow keeps from boxes other than its ends.
    bend_radius : how far before and after a bend its rounding starts.
    curve_points, bend_points : points sampled on a covariance arc and on a rounded bend.
    label_pad_w, label_pad_h, label_height_share : a label box is its text's width plus
        ``label_pad_w`` by ``label_height_share`` of its text's height plus ``label_pad_h``.
    label_box_pad, label_label_pad, label_arrow_pad : the least room between a label and
        a box, another label, an arrow it is counted as crossing.
    crossing_cost, rank_cost : a label position's score, per arrow crossed and per step
        away from the preferred position (the lowest score wins).
    regression_label_at, loading_label_at, covariance_label_at : positions tried for a
        label, as fractions of its arrow's length, best first.
    attempts : layouts tried, moving things apart, before the best one is returned.
    arc_step, item_gap : starting growth of an arc's bulge per box it spans, and the
        starting factor-to-items gap.
    column_growth, item_gap_growth, arc_growth : how much the column gap, the item gap
        and the arc step grow when an arrow or label of that kind did not fit.
    """

    margin: float = 0.15
    node_pad_x: float = 0.14
    node_pad_y: float = 0.08
    item_pad_x: float = 0.08
    item_pad_y: float = 0.05
    port_spacing: float = 0.12
    cov_port_spacing: float = 0.075
    side_loading_spacing: float = 0.09
    port_share: float = 0.8
    max_port_height: float = 1.8
    item_gap_above: float = 0.5
    item_gap_beside: float = 0.7
    item_sep: float = 0.08
    dummy_height: float = 0.14
    dummy_sep: float = 0.08
    dummy_weight: float = 0.3
    min_column_width: float = 0.3
    arc_base: float = 0.25
    arc_clearance: float = 0.3
    order_sweeps: int = 8
    height_sweeps: int = 10
    clear_pad: float = 0.07
    bend_radius: float = 0.35
    curve_points: int = 28
    bend_points: int = 8
    label_pad_w: float = 0.06
    label_pad_h: float = 0.02
    label_height_share: float = 0.9
    label_box_pad: float = 0.03
    label_label_pad: float = 0.05
    label_arrow_pad: float = 0.03
    crossing_cost: int = 3
    rank_cost: float = 0.25
    regression_label_at: tuple[float, ...] = (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2,
                                              0.8, 0.46, 0.54, 0.38, 0.62, 0.3, 0.7, 0.23,
                                              0.77, 0.16, 0.84, 0.12, 0.88)
    loading_label_at: tuple[float, ...] = (0.62, 0.7, 0.55, 0.78, 0.48, 0.85, 0.4, 0.33)
    covariance_label_at: tuple[float, ...] = (0.5, 0.44, 0.56, 0.38, 0.62, 0.32, 0.68, 0.26,
                                              0.74, 0.2, 0.8)
    attempts: int = 8
    arc_step: float = 0.4
    item_gap: float = 1.0
    column_growth: float = 1.25
    item_gap_growth: float = 1.3
    arc_growth: float = 1.25

    def label_positions(self, kind: str) -> tuple[float, ...]:
        """Where a label of an arrow of ``kind`` is tried, best first."""
        return {"regression": self.regression_label_at, "loading": self.loading_label_at,
                "covariance": self.covariance_label_at}[kind]


#: The style the diagrams of a run are laid out with.
STYLE = LayoutStyle()


@dataclass(frozen=True)
class Node:
    """A variable's box.

    Attributes
    ----------
    name : str
        The variable's code, as in the parameter table.
    kind : str
        ``"exogenous"``, ``"mediator"``, ``"outcome"`` or ``"item"``.
    layer : int
        Its column (0 = leftmost column of constructs; items get -1 or last + 1, or the
        column of their factor when drawn above or below it).
    box : Box
        Its rectangle.
    lines : tuple of str
        The text inside the box, top to bottom.
    font_size : float
        The size in points the box was sized for.
    """

    name: str
    kind: str
    layer: int
    box: Box
    lines: tuple[str, ...]
    font_size: float


@dataclass(frozen=True)
class EdgeSpec:
    """An arrow to draw: what the caller asks :func:`layout_diagram` for.

    Attributes
    ----------
    source, target : str
        For ``"regression"`` the predictor and the outcome (``rhs`` and ``lhs`` of
        ``lhs ~ rhs``); for ``"loading"`` the factor and the item; for ``"covariance"``
        the two variables (two-headed, order does not matter).
    kind : str
        ``"regression"``, ``"covariance"`` or ``"loading"``.
    label : str
        The text to show on the arrow ('' for none).
    key : object
        Anything that identifies the row the arrow stands for (returned unchanged).
    """

    source: str
    target: str
    kind: str = "regression"
    label: str = ""
    key: object = None


@dataclass(frozen=True)
class Edge:
    """A routed arrow.

    Attributes
    ----------
    source, target, kind, label, key
        As in the :class:`EdgeSpec` it was made from.
    points : tuple of (x, y)
        The polyline from the source's border to the target's border (a curve is given
        by many points); the head (or heads, for a covariance) sits at the end(s).
    label_box : Box or None
        Where the label's text box is centred and how big it is; ``None`` if no label.
    curved : bool
        Whether ``points`` samples a smooth curve (covariance arcs) rather than
        straight segments with bends.
    label_font_size : float
        The size in points the label box was sized for.
    """

    source: str
    target: str
    kind: str
    label: str
    key: object
    points: tuple[tuple[float, float], ...]
    label_box: Box | None
    curved: bool = False
    label_font_size: float = 9.0


@dataclass(frozen=True)
class DiagramLayout:
    """A placed diagram: boxes, routed arrows, label boxes, and the drawing's size.

    Attributes
    ----------
    nodes : tuple of Node
    edges : tuple of Edge
    width, height : float
        The drawing's size in inches; every box, arrow and label lies within
        ``[0, width] x [0, height]``.
    label_font_size : float
        The size in points edge labels were sized for.
    complete : bool
        False when some label could not be placed without a collision even after the
        columns were moved apart (the best attempt is returned).
    """

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float
    label_font_size: float
    complete: bool = True

    def node(self, name: str) -> Node:
        """The node called ``name`` (KeyError if absent)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)
