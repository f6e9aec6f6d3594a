"""The headline of a sweep: held-out exact match of each model against a swept setting (input length).

The shape of Bahdanau et al. (2015), Fig. 2: one line per model through the
mean over seeds inside a min-max band, the chance level, and the attention
model's alignment score on a secondary axis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from seqattn.figures.style import (
    BASE_FONT_SIZE,
    DEFAULT_HEIGHT,
    UNIT_TICKS,
    chance_line,
    model_color,
    model_label,
    mean_in_band,
    note,
    ordered_models,
    percent_axis,
    sparse_ticks,
    spread,
    styled,
)
from seqattn.figures.learning_speed import learning_speed_figure
from seqattn.model.registry import attending_names

# pandas is imported when first used: the home page must render without pandas.
if TYPE_CHECKING:
    import pandas as pd


def _seeds(counts: pd.Series) -> list[str]:
    return [f"{n} seed" if n == 1 else f"{n} seeds" for n in counts.astype(int)]


def _done_cells(cells: pd.DataFrame | None, axis: str) -> pd.DataFrame:
    """The rows to draw: status "done" (when there is a status), a value on ``axis``, numeric scores."""
    import pandas as pd

    if cells is None or cells.empty:
        return pd.DataFrame(columns=[axis, "model", "exact_match", "alignment"])
    missing = {axis, "model", "exact_match"} - set(cells.columns)
    if missing:
        raise ValueError(f"cells is missing column(s): {', '.join(sorted(missing))}")
    frame = cells
    if "status" in frame.columns:
        frame = frame[frame["status"].astype(str) == "done"]
    alignment = frame["alignment"] if "alignment" in frame.columns else np.nan
    return frame.assign(
        model=frame["model"].astype(str),
        exact_match=pd.to_numeric(frame["exact_match"], errors="coerce"),
        alignment=pd.to_numeric(alignment, errors="coerce"),
    ).dropna(subset=[axis])


def sweep_figure(
    cells: pd.DataFrame,
    axis: str = "n_in",
    chance: float | None = None,
    axis_label: str | None = None,
    *,
    title: str | None = None,
    caption: str | None = None,
) -> go.Figure:
    """Held-out exact match of each model against the swept setting, mean over seeds inside a min-max band.

    Cells trained to a threshold (a non-empty ``until`` column, sweeps since thresholds exist)
    get :func:`~seqattn.figures.learning_speed.learning_speed_figure` instead: updates to the
    threshold, exact match at the end and alignment, in three panels, ``caption`` under the title.

    Args:
        cells: long format, one row per (cell, model): columns ``axis`` (the
            swept value, e.g. ``n_in``), ``model`` (``"baseline"``/``"attention"``;
            other names are drawn too, in a fallback colour), ``exact_match``
            (0..1), and optionally ``seed``, ``alignment`` (0..1, read on the rows
            of attending models, see :mod:`seqattn.model.registry`) and ``status``
            (rows whose status is not ``"done"`` are ignored). NaN scores are
            dropped.
        axis: the column swept along x.
        chance: the exact match of guessing, drawn as a dashed grey line (a
            layout shape named ``"chance"``); None draws none.
        axis_label: the x axis title; default ``"input length"`` for ``n_in``,
            else ``axis``.
        title: the figure title; default ``"Exact match against <x axis title>"``.

    Returns:
        Per model in registry order, three traces: the band's lower and upper
        edge (min and max over seeds, no legend, no hover) and the mean as
        lines+markers named with the model label, whose hover gives x, mean,
        min, max and the number of seeds (``customdata`` rows ``[min, max,
        "n seeds"]``). Then per attending model with an alignment score, a
        dotted line ``"<label> alignment"`` (mean over seeds) on the right-hand
        axis ``y2`` (0..1, "alignment score"). The exact-match axis is 0..100 %.
        No done rows give a "No results yet" note.

    Raises:
        ValueError: if a non-empty ``cells`` lacks ``axis``, ``model`` or ``exact_match``.
    """
    if cells is not None and "until" in cells.columns and cells["until"].notna().any():
        return learning_speed_figure(cells, axis, chance, axis_label, caption=caption, title=title)
    x_title = axis_label or ("input length" if axis == "n_in" else axis)
    fig = go.Figure()
    styled(fig, x_title=x_title, y_title="held-out exact match", height=DEFAULT_HEIGHT + 40,
           title=title or f"Exact match against {x_title}")
    percent_axis(fig)
    if chance is not None:
        chance_line(fig, float(chance), "chance")
    frame = _done_cells(cells, axis)
    scored = frame.dropna(subset=["exact_match"])
    if scored.empty:
        return note(fig, "No results yet")

    x_hover = f"{x_title} %{{x}}"
    for k, model in enumerate(ordered_models(list(scored["model"]))):
        color, label = model_color(model, k), model_label(model)
        stats = spread(scored[scored["model"] == model], axis, "exact_match")
        seeds = _seeds(stats["count"])
        fig.add_traces(
            mean_in_band(
                stats, axis, model=model, color=color, name=label,
                mode="lines+markers",
                marker=dict(size=9, color=color),
                # Points at exactly 0 % or 100 % would be half cut off by the fixed range.
                cliponaxis=False,
                customdata=[[lo, hi, n] for lo, hi, n in zip(stats["min"], stats["max"], seeds, strict=True)],
                hovertemplate=f"{label}<br>{x_hover}<br>mean %{{y:.1%}}"
                "<br>min %{customdata[0]:.1%}, max %{customdata[1]:.1%}<br>%{customdata[2]}<extra></extra>",
            )
        )

    aligned = frame.dropna(subset=["alignment"])
    for model in attending_names(ordered_models(list(aligned["model"]))):
        color, label = model_color(model), model_label(model)
        stats = spread(aligned[aligned["model"] == model], axis, "alignment")
        fig.add_trace(
            go.Scatter(
                x=stats[axis].to_numpy(),
                y=stats["mean"].to_numpy(),
                mode="lines+markers",
                name=f"{label} alignment",
                legendgroup=f"{model} alignment",
                yaxis="y2",
                line=dict(color=color, width=2.5, dash="dot"),
                marker=dict(size=9, color=color, symbol="diamond-open"),
                cliponaxis=False,
                customdata=_seeds(stats["count"]),
                hovertemplate=f"{label} alignment<br>{x_hover}<br>score %{{y:.2f}}"
                " (mean of %{customdata})<extra></extra>",
            )
        )
        fig.update_layout(
            yaxis2=dict(
                title=dict(text="alignment score", font=dict(size=BASE_FONT_SIZE + 1)),
                tickfont=dict(size=BASE_FONT_SIZE - 2),
                overlaying="y",
                side="right",
                range=[0, 1],
                # The same ticks as the left axis, so both share its grid lines.
                tickmode="array",
                tickvals=UNIT_TICKS,
                tickformat=".1f",
                showgrid=False,
                zeroline=False,
                automargin=True,
            )
        )

    values = sorted(frame.loc[frame["exact_match"].notna() | frame["alignment"].notna(), axis].unique())
    tickvals, ticktext = sparse_ticks(values, [str(v) for v in values])
    fig.update_xaxes(tickmode="array", tickvals=tickvals, ticktext=ticktext)
    return fig
