"""Plotly figure builders for the dashboard: loss and accuracy races, attention heatmaps, comparisons, sweeps.

Every builder takes plain data (pandas frames, numpy arrays, sequences of ints)
and returns a :class:`plotly.graph_objects.Figure`; nothing here trains or
predicts, and the package imports neither Streamlit nor TensorFlow, so figures
can be built and tested in milliseconds. May import: :mod:`seqattn.model.registry` (names,
labels, colours of the models), :mod:`seqattn.palette` and, when a training's probe is drawn,
:mod:`seqattn.problem` (its task's tokens); nothing of training, runs or jobs.

Tokens on axes and in hover text are ints or the strings a task shows (a date's
characters); figures draw them as given and never convert them.

Conventions shared by all figures (:mod:`~seqattn.figures.style`):

* each model always gets the same colour (Okabe-Ito, colour-blind safe):
  :data:`MODEL_COLORS`, and the same legend name: :data:`MODEL_LABELS`, both
  taken from :mod:`seqattn.model.registry`;
* template ``plotly_white`` and fonts large enough for a projector;
  :func:`apply_presentation` makes them larger still for presenting;
* drawn for the light page; :func:`apply_theme` rewrites a built figure for the
  dark one (:mod:`~seqattn.figures.theme`), so no builder knows of themes;
* an empty input gives a figure with a short "nothing yet" note rather than an
  error, because a live dashboard draws before the first result arrives.

Modules:

* :mod:`~seqattn.figures.style`: the house style and the helpers every figure shares;
* :mod:`~seqattn.figures.theme`: the dark theme, applied to any built figure;
* :mod:`~seqattn.figures.races`: the training races (loss, exact match);
* :mod:`~seqattn.figures.heatmap`: the attention heatmap figure, built from
  :mod:`~seqattn.figures.labels` (inputs checked, tick labels, hover text),
  :mod:`~seqattn.figures.panels` (the heatmap trace, its axes, one panel, the
  invisible click layer), :mod:`~seqattn.figures.overlays` (padding hatch, cell
  and row outlines) and :mod:`~seqattn.figures.panel_axes` (axis names of panel k);
* :mod:`~seqattn.figures.comparison`: models compared over repeats;
* :mod:`~seqattn.figures.sweep`: exact match against a swept setting;
* :mod:`~seqattn.figures.steps`: one output step: its attention bars and the
  models' top tokens;
* :mod:`~seqattn.figures.difference`: two attention matrices compared
  (difference map, forced attention).

A click on a clickable heatmap is read back in the dashboard
(:func:`ui.heatmap_clicks.clicked_cell`): parsing Streamlit's events is no
figure's job. The home page's static diagram of the task is SVG, in
:mod:`seqattn.diagrams`.
"""

from __future__ import annotations

from seqattn.figures.comparison import accuracy_by_position_figure, comparison_figure, mean_loss_band_figure
from seqattn.figures.difference import attention_difference, forced_attention_comparison, largest_moves
from seqattn.figures.heatmap import MAX_HEATMAP_HEIGHT, attention_heatmap, probe_heatmap  # noqa: F401
from seqattn.figures.panels import CLICK_LAYER_NAME, MAX_ANNOTATED_CELLS  # noqa: F401
from seqattn.figures.races import accuracy_race_figure, downsample, loss_race_figure
from seqattn.figures.style import (  # noqa: F401  (sizes and colours stay reachable as seqattn.figures.X)
    BASE_FONT_SIZE,
    CHANCE_COLOR,
    DEFAULT_HEIGHT,
    DIFFERENCE_COLORSCALE,
    ECHO_COLOR,
    EXPECTED_COLOR,
    HEATMAP_COLORSCALE,
    LARGE_FONT_SIZE,
    LARGE_SCALE,
    MAX_TICK_LABELS,
    MODEL_COLORS,
    MODEL_LABELS,
    PAD_COLOR,
    TEMPLATE,
    WRONG_COLOR,
    apply_presentation,
)
from seqattn.figures.steps import attention_step_bars, top_tokens_bars
from seqattn.figures.sweep import sweep_figure
from seqattn.figures.theme import DARK_DIFFERENCE_COLORSCALE, apply_theme, dark_color  # noqa: F401

__all__ = [
    "MODEL_COLORS",
    "MODEL_LABELS",
    "HEATMAP_COLORSCALE",
    "TEMPLATE",
    "downsample",
    "loss_race_figure",
    "accuracy_race_figure",
    "attention_heatmap",
    "probe_heatmap",
    "attention_step_bars",
    "top_tokens_bars",
    "attention_difference",
    "largest_moves",
    "forced_attention_comparison",
    "accuracy_by_position_figure",
    "comparison_figure",
    "mean_loss_band_figure",
    "sweep_figure",
    "apply_presentation",
    "apply_theme",
]
