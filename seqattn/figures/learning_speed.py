"""The headline of a sweep trained to a threshold: how fast each model learns, and how well, against a setting.

Three panels share the x axis (the swept setting, input length by default):

a. **updates to reach the threshold** (log scale): per model the mean over seeds in a min-max
   band; a seed that did not reach it within the cap counts at the cap, so such a point is a
   lower bound and gets its own marker (a triangle where some seeds reached it, a cross at
   the cap where none did); the cap is a dashed line;
b. **exact match at the end** of each model's training, with the chance line;
c. the attention model's **alignment score** (how much of its attention lands where the answer is).

The caption (the title's subtitle) is the caller's: it should say the threshold, the cap, the
protocol and the seeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from seqattn.figures.style import (
    BASE_FONT_SIZE,
    UNIT_TICKS,
    chance_line,
    mean_in_band,
    model_color,
    model_label,
    note,
    ordered_models,
    sparse_ticks,
    spread,
    styled,
)
from seqattn.model.registry import attending_names

if TYPE_CHECKING:  # pandas is for annotations only
    import pandas as pd

PANEL_TITLES = ("Updates to reach {threshold} exact match (log scale)", "Held-out exact match at the end",
                "Alignment score of the attention model")
REACHED_SYMBOLS = {"all": "circle", "some": "triangle-up", "none": "x"}
HEIGHT = 760


def wrapped(text: str, width: int = 100) -> str:
    """``text`` broken into lines of about ``width`` characters at its ``"; "`` separators (``<br>``)."""
    lines: list[str] = []
    for part in text.split("; "):
        if lines and len(lines[-1]) + len(part) + 2 <= width:
            lines[-1] += "; " + part
        else:
            lines.append(part)
    return ";<br>".join(lines)


def _panel_layout(x_title: str, threshold: str) -> dict[str, Any]:
    """Three stacked panels sharing x (``xaxis``..``xaxis3``, ``yaxis``..``yaxis3``), their titles as annotations."""
    from plotly.subplots import make_subplots  # slow to import; only stacked figures need it

    grid = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.42, 0.36, 0.22],
                         subplot_titles=[t.format(threshold=threshold) for t in PANEL_TITLES])
    layout = grid.layout.to_plotly_json()
    layout.pop("template", None)
    layout["xaxis3"]["title"] = dict(text=x_title, font=dict(size=BASE_FONT_SIZE + 1))
    return layout


def _reached_group(reached: int, seeds: int) -> str:
    return "all" if reached == seeds else ("none" if reached == 0 else "some")


def _updates_panel(fig: go.Figure, frame: pd.DataFrame, axis: str, cap: float, x_hover: str) -> None:
    """Panel (a): updates to the threshold, a seed that missed it counted at the cap."""
    frame = frame.assign(to_threshold=frame["reached"].fillna(cap), hit=frame["reached"].notna())
    for k, model in enumerate(ordered_models(list(frame["model"]))):
        color, label = model_color(model, k), model_label(model)
        rows = frame[frame["model"] == model]
        stats = spread(rows, axis, "to_threshold")
        hits = rows.groupby(axis, sort=True)["hit"].sum().to_numpy().astype(int)
        groups = [_reached_group(h, n) for h, n in zip(hits, stats["count"].astype(int), strict=True)]
        texts = [f"{h} of {n} seeds reached it" + ("" if g == "all" else
                 f"; {n - h} did not, counted at the cap ({cap:,.0f}): a lower bound")
                 for h, n, g in zip(hits, stats["count"].astype(int), groups, strict=True)]
        traces = mean_in_band(
            stats, axis, model=model, color=color, name=label, mode="lines+markers",
            marker=dict(size=[13 if g != "all" else 9 for g in groups], color=color,
                        symbol=[REACHED_SYMBOLS[g] for g in groups], line=dict(width=2, color=color)),
            cliponaxis=False,
            customdata=[[lo, hi, t] for lo, hi, t in zip(stats["min"], stats["max"], texts, strict=True)],
            hovertemplate=f"{label}<br>{x_hover}<br>updates to threshold: mean %{{y:,.0f}}"
            "<br>min %{customdata[0]:,.0f}, max %{customdata[1]:,.0f}<br>%{customdata[2]}<extra></extra>",
        )
        for trace in traces:
            trace.update(xaxis="x", yaxis="y")
        fig.add_traces(traces)
    chance_line(fig, cap, f"cap: {cap:,.0f} updates", yref="y", name="cap")
    fig.layout.shapes[-1].label.textposition = "start"  # the right end is where "not reached" markers sit
    # Legend entries for the markers of seeds that missed the threshold.
    for group, text in (("some", "some seeds did not reach it (lower bound)"), ("none", "no seed reached it (at the cap)")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=text, legendgroup=group, xaxis="x", yaxis="y",
                                 marker=dict(size=12, symbol=REACHED_SYMBOLS[group], color="#555555")))
    top = max(float(frame["to_threshold"].max()), cap)
    bottom = max(1.0, float(frame["to_threshold"].min()))
    fig.update_layout(yaxis=dict(type="log", range=[np.log10(bottom) - 0.15, np.log10(top) + 0.25], dtick="D2",
                                 minorloglabels="complete", title=dict(text="updates"), automargin=True))


def _end_panel(fig: go.Figure, frame: pd.DataFrame, axis: str, chance: float | None, x_hover: str) -> None:
    """Panel (b): exact match at the end of each model's training, with the chance line."""
    scored = frame.dropna(subset=["exact_match"])
    for k, model in enumerate(ordered_models(list(scored["model"]))):
        color, label = model_color(model, k), model_label(model)
        stats = spread(scored[scored["model"] == model], axis, "exact_match")
        traces = mean_in_band(
            stats, axis, model=model, color=color, name=label, mode="lines+markers", showlegend=False,
            marker=dict(size=9, color=color), cliponaxis=False,
            customdata=[[lo, hi] for lo, hi in zip(stats["min"], stats["max"], strict=True)],
            hovertemplate=f"{label}<br>{x_hover}<br>exact match at the end: mean %{{y:.1%}}"
            "<br>min %{customdata[0]:.1%}, max %{customdata[1]:.1%}<extra></extra>",
        )
        traces[-1].name = f"{label} exact match"
        for trace in traces:
            trace.update(xaxis="x2", yaxis="y2")
        fig.add_traces(traces)
    if chance is not None:
        chance_line(fig, float(chance), "chance", yref="y2")
    fig.update_layout(yaxis2=dict(range=[0, 1.05], tickformat=".0%", tickmode="array", tickvals=UNIT_TICKS,
                                  title=dict(text="exact match"), automargin=True))


def _alignment_panel(fig: go.Figure, frame: pd.DataFrame, axis: str, x_hover: str) -> None:
    """Panel (c): the attending models' alignment score at the end (mean over seeds)."""
    aligned = frame.dropna(subset=["alignment"])
    for model in attending_names(ordered_models(list(aligned["model"]))):
        color, label = model_color(model), model_label(model)
        stats = spread(aligned[aligned["model"] == model], axis, "alignment")
        fig.add_trace(go.Scatter(
            x=stats[axis].to_numpy(), y=stats["mean"].to_numpy(), mode="lines+markers", name=f"{label} alignment",
            xaxis="x3", yaxis="y3", showlegend=False, line=dict(color=color, width=2.5, dash="dot"),
            marker=dict(size=9, color=color, symbol="diamond-open"), cliponaxis=False,
            hovertemplate=f"{label} alignment<br>{x_hover}<br>score %{{y:.2f}}<extra></extra>",
        ))
    fig.update_layout(yaxis3=dict(range=[0, 1.05], tickmode="array", tickvals=[0, 0.5, 1.0], tickformat=".1f",
                                  title=dict(text="score"), automargin=True))


def learning_speed_figure(
    cells: pd.DataFrame,
    axis: str = "n_in",
    chance: float | None = None,
    axis_label: str | None = None,
    *,
    caption: str | None = None,
    title: str | None = None,
) -> go.Figure:
    """How many updates each model needs to reach the threshold, and where it ends, against a swept setting.

    Args:
        cells: long format, one row per (cell, model) as :func:`seqattn.sweeps.grid.results_frame`
            writes it: columns ``axis``, ``model``, ``exact_match`` (0..1, at the end),
            ``reached`` (the update at which the model first reached the threshold; NaN:
            not within the cap), ``until`` (the threshold in percent), ``cap`` (updates), and
            optionally ``alignment`` and ``status`` (rows not ``"done"`` are ignored).
        axis: the column swept along x; axis_label: its title (default "input length" for ``n_in``).
        chance: the exact match of guessing (a dashed line named ``"chance"`` in panel b).
        caption: a line under the title: what was measured (threshold, cap, protocol, seeds).
        title: default "How fast and how well each model learns, against <x axis title>".

    Returns:
        A figure of three panels sharing x (axes ``x``/``y``, ``x2``/``y2``, ``x3``/``y3``):
        per model a band and mean of the updates to the threshold on a log axis (marker symbol
        per point: ``circle`` every seed reached it, ``triangle-up`` some did, ``x`` none did),
        a dashed line ``"cap"``, two legend-only entries for the symbols; per model a band and
        mean ``"<label> exact match"`` of the final exact match; per attending model its
        alignment score. No done rows give a "No results yet" note.

    Raises:
        ValueError: a non-empty ``cells`` without ``axis``, ``model``, ``exact_match``, ``reached`` or ``cap``.
    """
    import pandas as pd

    x_title = axis_label or ("input length" if axis == "n_in" else axis)
    if cells is not None and not cells.empty:
        missing = {axis, "model", "exact_match", "reached", "cap"} - set(cells.columns)
        if missing:
            raise ValueError(f"cells is missing column(s): {', '.join(sorted(missing))}")
    frame = cells if cells is not None else pd.DataFrame(columns=[axis, "model", "exact_match", "reached", "cap"])
    if "status" in frame.columns:
        frame = frame[frame["status"].astype(str) == "done"]
    frame = frame.assign(
        model=frame["model"].astype(str),
        exact_match=pd.to_numeric(frame["exact_match"], errors="coerce"),
        reached=pd.to_numeric(frame["reached"], errors="coerce"),
        alignment=pd.to_numeric(frame["alignment"], errors="coerce") if "alignment" in frame else np.nan,
    ).dropna(subset=[axis])
    until = pd.to_numeric(frame.get("until", pd.Series(dtype=float)), errors="coerce").dropna()
    threshold = f"{until.iloc[0]:.0f} %" if len(until) else "the threshold"
    fig = go.Figure(layout=_panel_layout(x_title, threshold))
    styled(fig, height=HEIGHT, title=title or f"How fast and how well each model learns, against {x_title}")
    fig.update_layout(xaxis3=dict(title=dict(text=x_title)), yaxis=dict(title=dict(text="updates")))
    # Title and caption at the top of the canvas, the legend under them, then the panels.
    lines = wrapped(caption).count("<br>") + 1 if caption else 0
    fig.update_layout(title=dict(yref="container", y=0.985, yanchor="top"), margin=dict(t=120 + 22 * lines),
                      legend=dict(yref="container", y=0.985 - 0.04 - 0.025 * lines, yanchor="top"))
    if caption:
        fig.update_layout(title=dict(subtitle=dict(text=wrapped(caption), font=dict(size=BASE_FONT_SIZE - 2))))
    if frame.empty:
        return note(fig, "No results yet")
    x_hover = f"{x_title} %{{x}}"
    cap = float(pd.to_numeric(frame["cap"], errors="coerce").max())
    _updates_panel(fig, frame, axis, cap, x_hover)
    _end_panel(fig, frame, axis, chance, x_hover)
    _alignment_panel(fig, frame, axis, x_hover)
    values = sorted(frame[axis].unique())
    tickvals, ticktext = sparse_ticks(values, [str(v) for v in values])
    fig.update_xaxes(tickmode="array", tickvals=tickvals, ticktext=ticktext)
    return fig
