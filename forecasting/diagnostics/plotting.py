"""Figures for the diagnostics, drawn without pyplot's global state and saved as PNG by Agg.

Using ``matplotlib.figure.Figure`` directly leaves the caller's backend alone (a notebook
keeps its inline plots) and needs no display; ``savefig`` renders PNGs with the Agg canvas.
"""

from __future__ import annotations

from matplotlib.figure import Figure

__all__ = ["figure", "save"]


def figure(
    nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] = (8.0, 4.5), **subplots_kw
):
    """A new figure and its axes (as ``Figure.subplots`` returns them)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **subplots_kw)


def save(fig: Figure, path, tight: bool = True) -> None:
    """Write ``fig`` as a PNG at ``path``."""
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
