"""The house style every figure shares: colours, fonts, axes, the "nothing yet" note, presentation mode.

Model colours and legend names come from :mod:`seqattn.model.registry`, so every
figure agrees with the rest of the app. Importing this module makes
``plotly_white`` plotly's default template.

The helpers the figure modules share are public here:

* models: :func:`model_color`, :func:`model_label`, :func:`ordered_models`, :func:`rgba`;
* layout: :func:`style_layout` (the house style as a dict), :func:`styled` (applied to
  a figure), :func:`side_by_side_layout` (panels in a row, or in a column for wide
  panels), :func:`note` (the "nothing yet" message);
* axes and marks: :func:`percent_axis`, :func:`loss_axis`, :func:`sparse_ticks`,
  :data:`UNIT_TICKS`, :func:`chance_line`, :func:`spread` and :func:`mean_in_band`
  (a mean line in a min-max band);
* :func:`apply_presentation`, presentation mode.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from collections.abc import Sequence

import plotly.graph_objects as go
import plotly.io as pio

from seqattn.palette import (  # noqa: F401  (reachable as seqattn.figures.X)
    BASE_FONT_SIZE,
    CHANCE_COLOR,
    ECHO_COLOR,
    EXPECTED_COLOR,
    HALO_COLOR,
    HIGHLIGHT_COLOR,
    PAD_COLOR,
    WRONG_COLOR,
)
from seqattn.model.registry import MODEL_KINDS, MODEL_LABELS

if TYPE_CHECKING:  # pandas is for annotations only: the home page must render without pandas
    import pandas as pd

MODEL_COLORS: dict[str, str] = {kind.name: kind.color for kind in MODEL_KINDS}
# Cividis is perceptually uniform and readable with every common colour-vision deficiency.
HEATMAP_COLORSCALE = "Cividis"
TEMPLATE = "plotly_white"
# Set as plotly's default rather than assigned to every figure: assigning it makes plotly
# validate the whole template each time, on a page that redraws on every keystroke.
pio.templates.default = TEMPLATE

LARGE_FONT_SIZE = 22
LARGE_SCALE = 1.4
DEFAULT_HEIGHT = 420
# Beyond this many ticks the labels overlap, so only every k-th one is written.
MAX_TICK_LABELS = 30
# Ticks of a 0..1 axis (percent, score, weight or probability).
UNIT_TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1.0]

# Blue (less attention) - white (no change) - red (more attention), for differences centred at 0.
DIFFERENCE_COLORSCALE = "RdBu_r"
_FALLBACK_COLORS = ("#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")

# Stored in layout.meta so apply_presentation can tell it already ran on a figure.
_PRESENTATION_FLAG = "seqattn_presentation"


# --------------------------------------------------------------------------- models


def model_color(model: str, index: int = 0) -> str:
    """The colour of model ``model`` (a hex string); an unknown model gets fallback colour ``index`` (cycled)."""
    return MODEL_COLORS.get(model, _FALLBACK_COLORS[index % len(_FALLBACK_COLORS)])


def model_label(model: str) -> str:
    """The legend name of model ``model``; an unknown model is named by itself."""
    return MODEL_LABELS.get(model, str(model))


def rgba(hex_color: str, alpha: float) -> str:
    """``"#RRGGBB"`` with opacity ``alpha`` (0..1) as a CSS ``"rgba(r,g,b,alpha)"`` string, e.g. for a translucent fill."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def ordered_models(models: Sequence[str]) -> list[str]:
    """``models`` without repeats, the known ones in :data:`MODEL_COLORS` order first, then the others as given.

    So colours and legend order never swap between figures.
    """
    present = list(dict.fromkeys(models))
    known = [m for m in MODEL_COLORS if m in present]
    return known + [m for m in present if m not in MODEL_COLORS]


# --------------------------------------------------------------------------- layout


def style_layout(
    *,
    x_title: str | None = None,
    y_title: str | None = None,
    height: int = DEFAULT_HEIGHT,
    title: str | None = None,
) -> dict[str, Any]:
    """The house style as a layout dict: projector-size fonts, legend above the plot.

    Has ``xaxis`` and ``yaxis`` entries titled ``x_title``/``y_title``, ``height``
    and, when given, ``title``; pass it to ``go.Figure(layout=...)`` or merge into
    another layout.
    """
    axis_font = dict(size=BASE_FONT_SIZE - 2)
    layout: dict[str, Any] = dict(
        height=height,
        font=dict(size=BASE_FONT_SIZE),
        # The legend sits above the plot area so it never covers late training updates.
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, font=dict(size=BASE_FONT_SIZE)),
        margin=dict(l=20, r=20, t=90 if title else 50, b=20),
        hoverlabel=dict(font=dict(size=BASE_FONT_SIZE - 1)),
        # automargin lets long tick labels and titles push the margins out instead of being clipped.
        xaxis=dict(title=dict(text=x_title, font=dict(size=BASE_FONT_SIZE + 1)), tickfont=axis_font, automargin=True),
        yaxis=dict(title=dict(text=y_title, font=dict(size=BASE_FONT_SIZE + 1)), tickfont=axis_font, automargin=True),
    )
    if title:
        layout["title"] = dict(text=title, font=dict(size=BASE_FONT_SIZE + 4), x=0, xanchor="left")
    if pio.templates.default != TEMPLATE:
        # Importing Streamlit makes its own template the default (streamlit.elements.plotly_chart), with
        # placeholder colours only its frontend replaces: if that came after this module, ours wins again.
        pio.templates.default = TEMPLATE
        layout["template"] = TEMPLATE
    return layout


def styled(
    fig: go.Figure,
    *,
    x_title: str | None = None,
    y_title: str | None = None,
    height: int = DEFAULT_HEIGHT,
    title: str | None = None,
) -> go.Figure:
    """Apply the house style (:func:`style_layout`) to ``fig``, in one layout update; returns ``fig``."""
    fig.update_layout(style_layout(x_title=x_title, y_title=y_title, height=height, title=title))
    return fig


def side_by_side_layout(
    titles: Sequence[str], horizontal_spacing: float = 0.08, *, stacked: bool = False, **subplots: Any
) -> dict[str, Any]:
    """The axes (``xaxis``, ``xaxis2``, ...) and panel titles of ``len(titles)`` panels side by side, as a dict.

    Taken from :func:`plotly.subplots.make_subplots` (``subplots`` goes to it,
    e.g. ``shared_yaxes=True``) without its template, so the house default
    applies; merge the house style (:func:`style_layout`) over it. ``stacked``
    puts the panels one above the other instead (``horizontal_spacing`` is then
    the vertical gap), for panels too wide to share a row; the axis names are
    the same (panel k draws on ``x<k>``/``y<k>``).
    """
    from plotly.subplots import make_subplots  # slow to import; only side-by-side figures need it

    if stacked:
        shape = dict(rows=len(titles), cols=1, vertical_spacing=horizontal_spacing)
    else:
        shape = dict(rows=1, cols=len(titles), horizontal_spacing=horizontal_spacing)
    grid = make_subplots(subplot_titles=list(titles), **shape, **subplots)
    layout = grid.layout.to_plotly_json()
    layout.pop("template", None)
    return layout


def note(fig: go.Figure, text: str) -> go.Figure:
    """Centre a grey message ``text`` on an otherwise empty plot (an annotation); returns ``fig``."""
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font=dict(size=BASE_FONT_SIZE + 4, color=CHANCE_COLOR),
    )
    return fig


# --------------------------------------------------------------------------- axes and shared marks


def percent_axis(fig: go.Figure, top: float = 1.0) -> None:
    """Make ``fig``'s y axis 0..``top`` written as percent; ``top`` > 1 leaves headroom for labels, ticks stop at 100 %."""
    fig.update_yaxes(range=[0, top], tickformat=".0%", tickmode="array", tickvals=UNIT_TICKS)


def loss_axis(fig: go.Figure, log_y: bool) -> None:
    """Make ``fig``'s y axis a loss axis: logarithmic with 1-2-5 ticks when ``log_y``, else linear."""
    if log_y:
        # Only 1-2-5 ticks, written in full: every minor digit of each decade is noise on a projector.
        fig.update_yaxes(type="log", dtick="D2", minorloglabels="complete")
    else:
        fig.update_yaxes(type="linear")


def sparse_ticks(values: Sequence[Any], labels: Sequence[str]) -> tuple[list[Any], list[str]]:
    """``(tick values, tick labels)``: all of them if at most :data:`MAX_TICK_LABELS`, else every k-th (always the first)."""
    step = max(1, math.ceil(len(values) / MAX_TICK_LABELS))
    return list(values)[::step], list(labels)[::step]


def chance_line(fig: go.Figure, y: float, text: str, yref: str = "y", name: str = "chance") -> None:
    """A dashed grey line across the plot at ``y`` on the y axis ``yref``: a layout shape named ``name``.

    A shape, not an annotation: shape labels stay on the line on a log axis too,
    where annotation y positions would need log10 coordinates.
    """
    fig.add_shape(
        type="line",
        name=name,
        xref=f"x{yref[1:]} domain",
        x0=0,
        x1=1,
        yref=yref,
        y0=y,
        y1=y,
        line=dict(color=CHANCE_COLOR, width=2, dash="dash"),
        label=dict(
            text=text,
            textposition="end",
            yanchor="bottom",
            font=dict(size=BASE_FONT_SIZE - 2, color=CHANCE_COLOR),
        ),
    )


def spread(frame: pd.DataFrame, by: str, value: str) -> pd.DataFrame:
    """A frame with, per value of column ``by`` (sorted), the ``mean``, ``min``, ``max`` and ``count`` of column ``value``.

    ``by`` stays a column (not the index), ready for :func:`mean_in_band`.
    """
    return frame.groupby(by, sort=True)[value].agg(["mean", "min", "max", "count"]).reset_index()


def mean_in_band(
    stats: pd.DataFrame, by: str, *, model: str, color: str, name: str, **mean_line: Any
) -> list[go.Scatter]:
    """A mean line inside a translucent min-max band, as three traces in drawing order.

    ``stats`` has columns ``by`` (x), ``mean``, ``min`` and ``max`` (see
    :func:`spread`). The band's lower edge (``"<label> min"``) and upper edge
    (``"<label> max"``, filled down to the lower one in ``color`` at low
    opacity) have no line, no legend entry and no hover; the mean is a solid
    line named ``name``. All three share the legend group ``model``, so they
    toggle together. ``mean_line`` adds to or overrides the mean trace's
    settings (``mode``, ``customdata``, ``hovertemplate``, ...).
    """
    label = model_label(model)
    x = stats[by].to_numpy()
    edge = dict(mode="lines", legendgroup=model, line=dict(width=0, color=color), showlegend=False, hoverinfo="skip")
    line = dict(mode="lines", legendgroup=model, line=dict(color=color, width=3)) | mean_line
    return [
        go.Scatter(x=x, y=stats["min"].to_numpy(), name=f"{label} min", **edge),
        go.Scatter(x=x, y=stats["max"].to_numpy(), name=f"{label} max", fill="tonexty", fillcolor=rgba(color, 0.2),
                   **edge),
        go.Scatter(x=x, y=stats["mean"].to_numpy(), name=name, **line),
    ]


# --------------------------------------------------------------------------- presentation mode


def _scaled(size: float | None, default: float) -> float:
    """A font size (``default`` when unset) enlarged for presentation mode."""
    return round((size if size is not None else default) * LARGE_SCALE, 1)


def apply_presentation(fig: go.Figure, large: bool) -> go.Figure:
    """Enlarge a figure's text and height for a projector ("presentation mode").

    With ``large`` the global font becomes 22 px, titles, axis titles, tick
    labels, legend, colour bars, annotations, shape labels, cell and marker
    text grow by about 1.4x, and the height by 1.4x. Applying it twice has no
    further effect (a flag is kept in ``layout.meta``). With ``large`` False the
    figure is left unchanged.

    Args:
        fig: any figure from this package (others work too).
        large: whether to enlarge.

    Returns:
        ``fig`` itself, modified in place, for chaining.
    """
    if not large:
        return fig
    meta = fig.layout.meta
    if isinstance(meta, dict) and meta.get(_PRESENTATION_FLAG):
        return fig

    layout = fig.layout
    fig.update_layout(
        font=dict(size=LARGE_FONT_SIZE),
        height=round((layout.height or 450) * LARGE_SCALE),
        legend=dict(font=dict(size=LARGE_FONT_SIZE - 2)),
        hoverlabel=dict(font=dict(size=LARGE_FONT_SIZE - 2)),
    )
    if layout.title.text:
        fig.update_layout(title=dict(font=dict(size=LARGE_FONT_SIZE + 6)))
    fig.update_xaxes(title=dict(font=dict(size=LARGE_FONT_SIZE + 2)), tickfont=dict(size=LARGE_FONT_SIZE - 2))
    fig.update_yaxes(title=dict(font=dict(size=LARGE_FONT_SIZE + 2)), tickfont=dict(size=LARGE_FONT_SIZE - 2))
    for annotation in layout.annotations:
        annotation.font.size = _scaled(annotation.font.size, BASE_FONT_SIZE)
    for shape in layout.shapes:
        if shape.label.text:
            shape.label.font.size = _scaled(shape.label.font.size, BASE_FONT_SIZE)
    for trace in fig.data:
        if "colorbar" in trace and trace.colorbar is not None:
            trace.colorbar.title.font.size = LARGE_FONT_SIZE
            trace.colorbar.tickfont.size = LARGE_FONT_SIZE - 2
        if "textfont" in trace and trace.textfont.size is not None:
            trace.textfont.size = _scaled(trace.textfont.size, BASE_FONT_SIZE)
        if trace.type == "scatter" and isinstance(trace.marker.size, (int, float)):
            trace.marker.size = _scaled(trace.marker.size, 6)
    new_meta = dict(meta) if isinstance(meta, dict) else {}
    if meta is None or isinstance(meta, dict):
        new_meta[_PRESENTATION_FLAG] = True
        fig.layout.meta = new_meta
    return fig
