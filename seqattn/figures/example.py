"""An illustration of the echo task: one input sequence above its target."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from seqattn.figures.style import BASE_FONT_SIZE, ECHO_COLOR, PAD_COLOR, _note, _style


def example_pair_figure(input_tokens: Sequence[int], target_tokens: Sequence[int], n_out: int) -> go.Figure:
    """One echo pair drawn as two rows of boxes: the input, and the target below it.

    The first ``n_out`` positions are highlighted in both rows and joined by
    arrows (input position t -> target position t); the target's padding zeros
    are greyed.

    Args:
        input_tokens: the n_in input ints.
        target_tokens: the target ints (the first n_out inputs, then zeros).
        n_out: how many leading inputs the target echoes.

    Returns:
        Three text traces (position numbers, ``"input"``, ``"target"``), one
        rectangle shape per token and one arrow annotation per echoed position;
        no axes.
    """
    inputs = [int(t) for t in input_tokens]
    targets = [int(t) for t in target_tokens]
    fig = go.Figure()
    _style(fig, height=260)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, range=[-0.55, 1.75], fixedrange=True)
    fig.update_layout(showlegend=False, margin=dict(l=10, r=10, t=10, b=10))
    width = max(len(inputs), len(targets))
    if width == 0:
        return _note(fig, "No example")
    # Room on the left for the row names.
    fig.update_xaxes(range=[-0.9, width + 0.6], fixedrange=True)
    half_w, half_h = 0.42, 0.3

    def row(tokens: list[int], y: float, kind: str) -> None:
        text_colors = []
        for t in range(len(tokens)):
            echoed = t < n_out
            padding = kind == "target" and not echoed
            fill = ECHO_COLOR if echoed else ("#FAFAFA" if padding else "#EEEEEE")
            fig.add_shape(
                type="rect",
                name=f"{kind} {t + 1}",
                x0=t + 1 - half_w,
                x1=t + 1 + half_w,
                y0=y - half_h,
                y1=y + half_h,
                fillcolor=fill,
                line=dict(color=PAD_COLOR if padding else "#666666", width=1.5, dash="dot" if padding else "solid"),
                layer="below",
            )
            text_colors.append(PAD_COLOR if padding else "#111111")
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(tokens) + 1),
                y=np.full(len(tokens), y),
                mode="text",
                name=kind,
                text=[str(tok) for tok in tokens],
                textfont=dict(size=BASE_FONT_SIZE + 4, color=text_colors),
                hovertemplate=f"{kind} position %{{x}}: token %{{text}}<extra></extra>",
            )
        )
        fig.add_annotation(
            x=0.4, y=y, xref="x", yref="y", text=f"<b>{kind}</b>", showarrow=False, xanchor="right",
            font=dict(size=BASE_FONT_SIZE + 2),
        )

    fig.add_trace(
        go.Scatter(
            x=np.arange(1, width + 1),
            y=np.full(width, 1.52),
            mode="text",
            name="position",
            text=[str(p) for p in range(1, width + 1)],
            textfont=dict(size=BASE_FONT_SIZE - 2, color=PAD_COLOR),
            hoverinfo="skip",
        )
    )
    row(inputs, 1.0, "input")
    row(targets, 0.0, "target")
    for t in range(min(n_out, len(inputs), len(targets))):
        fig.add_annotation(
            x=t + 1,
            y=half_h + 0.03,
            ax=t + 1,
            ay=1 - half_h - 0.03,
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            text="",
            showarrow=True,
            arrowhead=2,
            arrowsize=1.3,
            arrowwidth=2,
            arrowcolor="#333333",
        )
    return fig

