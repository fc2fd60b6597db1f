"""Power curves: a plotly figure and static SVG/PNG (matplotlib). They only read
:class:`~adoption.power.results.PowerResults` (computing and showing are separate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adoption.power.results import PowerResults

__all__ = ['power_figure', 'power_svg', 'power_png']


_KIND_TITLES = {"direct": "Direct paths", "indirect": "Indirect effects",
                "total_indirect": "Total indirect effects", "total": "Total effects"}


def _curves(results: PowerResults) -> list[tuple[str, list[tuple[str, pd.DataFrame]]]]:
    t = results.power
    kinds = [k for k in _KIND_TITLES if k in set(t["effect"])]
    return [(k, [(nm, g.sort_values("n")) for nm, g in t[t["effect"] == k].groupby("name", sort=False)])
            for k in kinds]


def _label(g: pd.DataFrame) -> str:
    return g["path"].iloc[0]


def power_figure(results: PowerResults):
    """Power curves (plotly): one panel per kind of effect, one line per effect, the
    target power and alpha as reference lines; hover shows power, its Monte Carlo SE
    and the population value."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    panels = _curves(results)
    s = results.settings
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True,
                        subplot_titles=[_KIND_TITLES[k] for k, _ in panels])
    for c, (kind, lines) in enumerate(panels, 1):
        for nm, g in lines:
            fig.add_trace(go.Scatter(
                x=g["n"], y=g["power"], mode="lines+markers", name=_label(g),
                legendgroup=kind, legendgrouptitle_text=_KIND_TITLES[kind],
                customdata=np.c_[g["power.mcse"], g["population"], g["population.std"]],
                hovertemplate=(f"{_label(g)}<br>N = %{{x}}<br>power = %{{y:.3f}} "
                               "(MC SE %{customdata[0]:.3f})<br>population value "
                               "%{customdata[1]:.3f} (std %{customdata[2]:.3f})<extra></extra>")),
                row=1, col=c)
        fig.add_hline(y=s.get("target_power", 0.8), line_dash="dash", line_color="#555555",
                      row=1, col=c)
        fig.add_hline(y=s.get("alpha", 0.05), line_dash="dot", line_color="#999999", row=1, col=c)
        fig.update_xaxes(title_text="N (complete respondents)", row=1, col=c)
    fig.update_yaxes(title_text="Power", range=[0, 1.02], row=1, col=1)
    fig.update_layout(template="simple_white", height=520, width=560 * len(panels) + 260,
                      title=f"Monte Carlo power ({s.get('reps')} replicates per N, "
                            f"alpha = {s.get('alpha')})")
    return fig


def _draw_static(results: PowerResults, fmt: str, dpi: float) -> bytes:
    import io

    import matplotlib
    from matplotlib.figure import Figure

    panels = _curves(results)
    s = results.settings
    fig = Figure(figsize=(5.2 * len(panels) + 2.6, 4.6))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    cmap = matplotlib.colormaps["tab20"]
    styles = ["-", "--", "-.", ":"]
    for ax, (kind, lines) in zip(axes, panels):
        for i, (nm, g) in enumerate(lines):
            ax.plot(g["n"], g["power"], marker="o", markersize=3, linewidth=1.2,
                    linestyle=styles[(i // 20) % 4], color=cmap(i % 20), label=_label(g))
        ax.axhline(s.get("target_power", 0.8), color="#555555", linestyle="--", linewidth=0.8)
        ax.axhline(s.get("alpha", 0.05), color="#999999", linestyle=":", linewidth=0.8)
        ax.text(0.0, s.get("target_power", 0.8) + 0.01, f"target {s.get('target_power', 0.8)}",
                transform=ax.get_yaxis_transform(), fontsize=7, color="#555555")
        ax.text(0.0, s.get("alpha", 0.05) + 0.01, f"alpha {s.get('alpha', 0.05)}",
                transform=ax.get_yaxis_transform(), fontsize=7, color="#999999")
        ax.set_ylim(0, 1.02)
        ax.set_title(_KIND_TITLES[kind], fontsize=10)
        ax.set_xlabel("N (complete respondents)", fontsize=9)
        ax.tick_params(labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[0].set_ylabel("Power", fontsize=9)
    fig.suptitle(f"Monte Carlo power ({s.get('reps')} replicates per N, alpha = "
                 f"{s.get('alpha')})", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, facecolor="white", bbox_inches="tight")
    return buf.getvalue()


def power_svg(results: PowerResults) -> bytes:
    """The power curves as SVG bytes (matplotlib, no browser)."""
    return _draw_static(results, "svg", 72)


def power_png(results: PowerResults, dpi: float = 200) -> bytes:
    """The power curves as PNG bytes (matplotlib Agg)."""
    return _draw_static(results, "png", dpi)
