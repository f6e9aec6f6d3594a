"""Where a heatmap's pieces go in a figure of panels side by side: axis names, layout keys, placing a trace.

Panel k of ``make_subplots(rows=1, cols=n)`` draws on axes ``x<k>``/``y<k>``
(plain ``x``/``y`` for panel 1). Every trace and shape builder of the heatmap
takes those names (:func:`axis_refs`), so several heatmaps can share one figure
(:mod:`~seqattn.figures.difference`).
"""

from __future__ import annotations

from typing import Any


def axis_refs(panel: int) -> tuple[str, str]:
    """The x and y axis names of panel ``panel`` (1-based) of ``make_subplots(rows=1, cols=n)``: ``("x2", "y2")``.

    Trace dicts take them as ``xaxis``/``yaxis``, shapes as ``xref``/``yref``;
    the layout keys are :func:`layout_axis_keys`.
    """
    if panel < 1:
        raise ValueError(f"panel numbers start at 1; got {panel}")
    suffix = "" if panel == 1 else str(panel)
    return f"x{suffix}", f"y{suffix}"


def layout_axis_keys(panel: int) -> tuple[str, str]:
    """The layout keys of panel ``panel``'s axes: ``("xaxis", "yaxis")``, ``("xaxis2", "yaxis2")``, ..."""
    x, y = axis_refs(panel)
    return f"xaxis{x[1:]}", f"yaxis{y[1:]}"


def place_on_axes(trace: dict[str, Any], xaxis: str, yaxis: str) -> None:
    """Put a trace dict on the axes ``xaxis``/``yaxis`` (from :func:`axis_refs`), in place.

    Keys are only added off the first axes, so a trace of a plain figure stays as it was.
    """
    if xaxis != "x":
        trace["xaxis"] = xaxis
    if yaxis != "y":
        trace["yaxis"] = yaxis
