"""Tests for seqattn.figures: what each builder draws, from plain data, without TensorFlow."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from seqattn import figures as F

ROOT = Path(__file__).resolve().parents[1]
K = 50
LN_K = math.log(K)


def _shape(fig: go.Figure, name: str):
    matches = [s for s in fig.layout.shapes if s.name == name]
    assert len(matches) == 1, f"expected one shape named {name!r}, got {[s.name for s in fig.layout.shapes]}"
    return matches[0]


def _annotation_texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def _history(n: int = 10) -> pd.DataFrame:
    update = np.arange(1, n + 1) * 10
    return pd.DataFrame(
        {
            "update": update,
            "loss_baseline": np.linspace(4.0, 2.0, n),
            "loss_attention": np.linspace(4.0, 0.1, n),
            "smoothed_baseline": np.linspace(3.9, 2.1, n),
            "smoothed_attention": np.linspace(3.9, 0.2, n),
        }
    )


def test_module_imports_no_heavy_frameworks():
    # A fresh interpreter: in this one other test files may already have loaded TensorFlow.
    code = (
        "import sys, seqattn.figures; "
        "bad = [m for m in ('tensorflow', 'keras', 'streamlit') if m in sys.modules]; "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# --------------------------------------------------------------------------- downsample


def test_downsample_small_frame_is_returned_unchanged():
    df = _history(5)
    assert F.downsample(df, 5) is df
    assert F.downsample(df, 100) is df


@pytest.mark.parametrize("n, max_points", [(1001, 600), (5000, 600), (601, 600), (10, 3), (7, 2)])
def test_downsample_keeps_at_most_max_points_including_first_and_last(n, max_points):
    df = pd.DataFrame({"update": np.arange(n) * 3, "v": np.arange(n)})
    out = F.downsample(df, max_points)
    assert len(out) <= max_points
    assert len(out) >= max_points - 1
    assert out["update"].iloc[-1] == df["update"].iloc[-1]
    assert out["update"].iloc[0] == df["update"].iloc[0]
    assert out["update"].is_unique and out["update"].is_monotonic_increasing
    # Evenly spaced: row gaps differ by at most one.
    gaps = np.diff(out["v"].to_numpy())
    assert gaps.max() - gaps.min() <= 1


def test_downsample_to_one_point_keeps_the_last_row():
    df = _history(10)
    out = F.downsample(df, 1)
    assert len(out) == 1 and out["update"].iloc[0] == 100


def test_downsample_rejects_nonpositive_max_points():
    with pytest.raises(ValueError, match="max_points"):
        F.downsample(_history(3), 0)


# --------------------------------------------------------------------------- loss race


def test_loss_race_draws_raw_and_smoothed_per_model_with_model_colours():
    fig = F.loss_race_figure(_history(), K)
    assert [t.type for t in fig.data] == ["scatter"] * 4
    names = [t.name for t in fig.data]
    assert names == ["Baseline (no attention) (raw)", "Baseline (no attention)", "Attention (raw)", "Attention"]
    for trace in fig.data:
        model = "baseline" if trace.name.startswith("Baseline") else "attention"
        assert trace.line.color == F.MODEL_COLORS[model]
        assert trace.legendgroup == model
        if trace.name.endswith("(raw)"):
            assert trace.opacity == pytest.approx(0.25)
            assert trace.showlegend is False
        else:
            assert trace.opacity is None or trace.opacity == 1
    np.testing.assert_allclose(fig.data[3].y, np.linspace(3.9, 0.2, 10))
    assert fig.layout.xaxis.title.text == "update"
    assert fig.layout.yaxis.title.text == "cross-entropy loss"
    assert fig.layout.template.layout.paper_bgcolor is not None  # a template is applied


def test_loss_race_chance_line_is_at_ln_k_and_labelled():
    fig = F.loss_race_figure(_history(), K)
    chance = _shape(fig, "chance")
    assert chance.y0 == pytest.approx(LN_K) and chance.y1 == pytest.approx(LN_K)
    assert chance.line.dash == "dash"
    assert "chance (ln K" in chance.label.text
    assert F.loss_race_figure(_history(), 10).layout.shapes[0].y0 == pytest.approx(math.log(10))


def test_loss_race_log_axis_toggle():
    assert F.loss_race_figure(_history(), K, log_y=True).layout.yaxis.type == "log"
    assert F.loss_race_figure(_history(), K, log_y=False).layout.yaxis.type != "log"


def test_loss_race_downsamples_long_history_and_keeps_last_update():
    history = _history(5000)
    history.loc[history.index[-1], "smoothed_attention"] = 0.0123
    fig = F.loss_race_figure(history, K, max_points=600)
    for trace in fig.data:
        assert len(trace.x) <= 600
        assert trace.x[-1] == 50000
    assert fig.data[3].y[-1] == pytest.approx(0.0123)


def test_loss_race_sorts_by_update_before_thinning():
    history = _history(20).iloc[::-1]
    fig = F.loss_race_figure(history, K, max_points=5)
    assert list(fig.data[1].x) == sorted(fig.data[1].x)
    assert fig.data[1].x[-1] == 200


def test_loss_race_drops_nan_rows_per_trace():
    history = _history(6)
    history.loc[2, "loss_attention"] = np.nan
    history.loc[4, "smoothed_baseline"] = np.nan
    fig = F.loss_race_figure(history, K)
    by_name = {t.name: t for t in fig.data}
    raw_attention = by_name["Attention (raw)"]
    assert 30 not in list(raw_attention.x) and len(raw_attention.x) == 5
    assert not np.isnan(np.asarray(raw_attention.y, dtype=float)).any()
    assert 50 not in list(by_name["Baseline (no attention)"].x)
    assert len(by_name["Attention"].x) == 6


def test_loss_race_draws_only_models_whose_columns_exist():
    history = _history().drop(columns=["loss_baseline", "smoothed_baseline"])
    fig = F.loss_race_figure(history, K)
    assert [t.name for t in fig.data] == ["Attention (raw)", "Attention"]
    only_smoothed = _history()[["update", "smoothed_baseline"]]
    assert [t.name for t in F.loss_race_figure(only_smoothed, K).data] == ["Baseline (no attention)"]


@pytest.mark.parametrize("empty", [pd.DataFrame(), pd.DataFrame(columns=["update", "loss_attention"])])
def test_loss_race_empty_history_shows_chance_line_and_note(empty):
    fig = F.loss_race_figure(empty, K, log_y=True)
    assert len(fig.data) == 0
    assert _shape(fig, "chance").y0 == pytest.approx(LN_K)
    assert "No progress yet" in _annotation_texts(fig)
    assert fig.layout.yaxis.type == "log"


def test_loss_race_rejects_bad_cardinality():
    with pytest.raises(ValueError, match="cardinality"):
        F.loss_race_figure(_history(), 0)


# --------------------------------------------------------------------------- accuracy race


def test_accuracy_race_drops_nan_rows_per_model_and_formats_percent():
    history = pd.DataFrame(
        {
            "update": [10, 20, 30, 40],
            "accuracy_baseline": [np.nan, 0.1, np.nan, 0.2],
            "accuracy_attention": [0.0, 0.5, np.nan, 1.0],
            "loss_attention": [3, 2, 1, 0.5],
        }
    )
    fig = F.accuracy_race_figure(history)
    assert [t.name for t in fig.data] == ["Baseline (no attention)", "Attention"]
    assert all(t.mode == "lines+markers" for t in fig.data)
    assert list(fig.data[0].x) == [20, 40] and list(fig.data[0].y) == [0.1, 0.2]
    assert list(fig.data[1].x) == [10, 20, 40]
    assert fig.data[1].line.color == F.MODEL_COLORS["attention"]
    assert fig.layout.yaxis.tickformat.endswith("%")
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    assert fig.layout.yaxis.title.text == "held-out exact match"


def test_accuracy_race_missing_model_and_empty():
    fig = F.accuracy_race_figure(pd.DataFrame({"update": [5], "accuracy_attention": [0.3]}))
    assert [t.name for t in fig.data] == ["Attention"]
    assert "No evaluation yet" in _annotation_texts(F.accuracy_race_figure(pd.DataFrame()))
    all_nan = pd.DataFrame({"update": [1, 2], "accuracy_baseline": [np.nan, np.nan]})
    assert "No evaluation yet" in _annotation_texts(F.accuracy_race_figure(all_nan))


# --------------------------------------------------------------------------- attention heatmap

INPUTS = [12, 20, 36, 40, 12]  # token 12 repeats
OUTPUTS = [12, 20, 0, 0, 7]


def _attention(steps: int = 5, n_in: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(n_in), size=steps)


def test_heatmap_data_scale_and_labels():
    att = _attention()
    att[0] = [0.05, 0.05, 0.8731, 0.0269, 0.0]
    fig = F.attention_heatmap(att, INPUTS, OUTPUTS, n_out=2)
    heat = fig.data[0]
    assert heat.type == "heatmap" and len(fig.data) == 1
    np.testing.assert_allclose(np.asarray(heat.z), att)
    assert np.asarray(heat.z).shape == (5, 5)
    assert heat.zmin == 0 and heat.zmax == 1
    assert heat.colorscale == go.Heatmap(colorscale=F.HEATMAP_COLORSCALE).colorscale
    assert F.HEATMAP_COLORSCALE == "Cividis"
    assert heat.colorbar.title.text == "attention"
    x_labels = list(fig.layout.xaxis.ticktext)
    assert x_labels == ["1: 12", "2: 20", "3: 36", "4: 40", "5: 12"]
    assert len(set(x_labels)) == len(x_labels)  # repeated token 12, still unique
    y_labels = list(fig.layout.yaxis.ticktext)
    assert y_labels[0] == "1 → 12" and y_labels[1] == "2 → 20"
    assert y_labels[4].startswith("5 → 7")
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.xaxis.title.text == "input position: token"
    assert fig.layout.yaxis.title.text == "output step → predicted token"
    # Hover carries the exact probability and both tokens.
    assert heat.text[0][2] == "output step 1 (predicts 12)<br>input position 3 (token 36)<br>p = 0.8731"


def test_heatmap_cell_text_only_on_small_matrices():
    small = F.attention_heatmap(_attention(15, 15), list(range(15)), list(range(15)), n_out=15)
    assert small.data[0].texttemplate == "%{z:.2f}"
    large = F.attention_heatmap(_attention(16, 16), list(range(16)), list(range(16)), n_out=16)
    assert large.data[0].texttemplate is None
    wide = F.attention_heatmap(_attention(3, 20), list(range(20)), [1, 2, 3], n_out=3)
    assert wide.data[0].texttemplate is None


def test_heatmap_marks_padding_rows():
    fig = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2)
    labels = list(fig.layout.yaxis.ticktext)
    assert ["(pad)" in label for label in labels] == [False, False, True, True, True]
    pad = _shape(fig, "padding (target 0)")
    # Covers exactly rows 3..5 (cells are unit squares centred on 1..5) and every column.
    assert (pad.y0, pad.y1) == (2.5, 5.5)
    assert (pad.x0, pad.x1) == (0.5, 5.5)
    assert pad.showlegend is True
    assert "padding" in fig.data[0].text[3][0]
    no_pad = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=5)
    assert not any("(pad)" in label for label in no_pad.layout.yaxis.ticktext)
    assert not any(s.name and "padding" in s.name for s in no_pad.layout.shapes)


def test_heatmap_expected_overlay_only_when_asked():
    plain = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2)
    assert not any(t.name == "expected" for t in plain.data)
    fig = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2, show_expected=True)
    expected = [t for t in fig.data if t.name == "expected"]
    assert len(expected) == 1
    xs = np.array([v for v in expected[0].x if v is not None], dtype=float)
    ys = np.array([v for v in expected[0].y if v is not None], dtype=float)
    # One outline per echoed step, around cell (t, t): centres 1 and 2 only.
    centres = sorted({(round(x), round(y)) for x, y in zip(xs.reshape(-1, 5).mean(1), ys.reshape(-1, 5).mean(1))})
    assert centres == [(1, 1), (2, 2)]
    assert np.all(np.abs(xs - ys) < 1)  # every outline sits on the diagonal


def test_heatmap_marks_wrong_predictions():
    fig = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2, expected_tokens=[12, 21, 0, 0, 0])
    labels = list(fig.layout.yaxis.ticktext)
    assert ["✗" in label for label in labels] == [False, True, False, False, True]
    unmarked = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2)
    assert not any("✗" in label for label in unmarked.layout.yaxis.ticktext)


def test_heatmap_height_grows_with_steps_and_is_capped():
    h5 = F.attention_heatmap(_attention(5, 5), INPUTS, OUTPUTS, n_out=2).layout.height
    h12 = F.attention_heatmap(_attention(12, 12), list(range(12)), list(range(12)), n_out=2).layout.height
    h100 = F.attention_heatmap(_attention(100, 100), list(range(100)), list(range(100)), n_out=2).layout.height
    assert h5 < h12 <= h100 <= F.MAX_HEATMAP_HEIGHT
    assert fig_square(F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2))


def fig_square(fig: go.Figure) -> bool:
    return fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1


@pytest.mark.parametrize(
    "attention, match",
    [
        (np.ones(5) / 5, "2-D"),
        (np.ones((1, 5, 5)) / 5, "2-D"),
        (np.ones((4, 5)) / 5, r"\(4, 5\).*\(5, 5\)"),
        (np.ones((5, 4)) / 4, "shape"),
    ],
)
def test_heatmap_rejects_bad_attention_shape(attention, match):
    with pytest.raises(ValueError, match=match):
        F.attention_heatmap(attention, INPUTS, OUTPUTS, n_out=2)


def test_heatmap_non_square_shape_must_match_tokens_not_transposed():
    att = _attention(3, 5)
    fig = F.attention_heatmap(att, INPUTS, [1, 2, 3], n_out=2)
    assert np.asarray(fig.data[0].z).shape == (3, 5)
    with pytest.raises(ValueError):
        F.attention_heatmap(att.T, INPUTS, [1, 2, 3], n_out=2)


def test_heatmap_rejects_bad_expected_tokens_and_n_out():
    with pytest.raises(ValueError, match="expected_tokens"):
        F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2, expected_tokens=[1, 2])
    with pytest.raises(ValueError, match="n_out"):
        F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=-1)


def test_heatmap_empty_tokens_gives_note():
    fig = F.attention_heatmap(np.zeros((0, 0)), [], [], n_out=0)
    assert len(fig.data) == 0 and "No attention to show" in _annotation_texts(fig)


def test_heatmap_title_is_optional():
    assert F.attention_heatmap(_attention(), INPUTS, OUTPUTS, 2, title="Example 3").layout.title.text == "Example 3"
    assert not F.attention_heatmap(_attention(), INPUTS, OUTPUTS, 2).layout.title.text


# --------------------------------------------------------------------------- accuracy by position


def test_accuracy_by_position_grouped_bars_and_padding():
    fig = F.accuracy_by_position_figure({"attention": [1.0, 0.9, 1, 1, 1], "baseline": [0.5, 0.4, 1, 1, 0.9]}, n_out=2)
    assert [t.type for t in fig.data] == ["bar", "bar"]
    # Baseline first whatever the mapping order, so colours and legend never swap.
    assert [t.name for t in fig.data] == ["Baseline (no attention)", "Attention"]
    assert [t.marker.color for t in fig.data] == [F.MODEL_COLORS["baseline"], F.MODEL_COLORS["attention"]]
    assert list(fig.data[0].x) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(fig.data[1].y, [1.0, 0.9, 1, 1, 1])
    assert fig.layout.barmode == "group"
    assert fig.layout.yaxis.tickformat.endswith("%")
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] >= 1
    assert fig.layout.xaxis.title.text == "output step"
    pad = _shape(fig, "padding")
    assert (pad.x0, pad.x1) == (2.5, 5.5)


def test_accuracy_by_position_no_padding_without_n_out_or_when_all_echoed():
    data = {"attention": [1.0, 0.9, 0.8]}
    assert len(F.accuracy_by_position_figure(data).layout.shapes) == 0
    assert len(F.accuracy_by_position_figure(data, n_out=3).layout.shapes) == 0


def test_accuracy_by_position_empty():
    for empty in ({}, {"baseline": []}):
        fig = F.accuracy_by_position_figure(empty, n_out=2)
        assert len(fig.data) == 0 and "No evaluation yet" in _annotation_texts(fig)


# --------------------------------------------------------------------------- comparison


def _results() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "repeat": list(range(1, 11)) * 2,
            "model": ["attention"] * 10 + ["baseline"] * 10,
            "exact_match": np.r_[0.9 + rng.random(10) * 0.1, rng.random(10) * 0.4],
        }
    )


def test_comparison_box_per_model_with_all_points():
    results = _results()
    fig = F.comparison_figure(results)
    assert [t.type for t in fig.data] == ["box", "box"]
    assert [t.name for t in fig.data] == ["Baseline (no attention)", "Attention"]
    for trace, model in zip(fig.data, ["baseline", "attention"]):
        assert trace.boxpoints == "all" and trace.jitter > 0
        expected = results.loc[results["model"] == model, "exact_match"].to_numpy()
        np.testing.assert_allclose(trace.y, expected)
        assert trace.line.color == F.MODEL_COLORS[model]
    assert fig.layout.yaxis.tickformat.endswith("%")
    assert len(fig.layout.shapes) == 0
    # The tick labels give each model's mean.
    assert f"{results.loc[results.model == 'attention', 'exact_match'].mean():.1%}" in fig.layout.xaxis.ticktext[1]


def test_comparison_reference_lines_span_their_box():
    fig = F.comparison_figure(_results(), reference={"baseline": 0.231, "attention": 0.957})
    positions = {t.name: t.x[0] for t in fig.data}
    for model, value, text in [("baseline", 0.231, "tutorial: 23.1%"), ("attention", 0.957, "tutorial: 95.7%")]:
        line = _shape(fig, f"reference {model}")
        assert line.y0 == pytest.approx(value) and line.y1 == pytest.approx(value)
        assert line.line.dash == "dash"
        assert line.label.text == text
        assert line.x0 < positions[F.MODEL_LABELS[model]] < line.x1


def test_comparison_reference_without_results_and_nan_handling():
    fig = F.comparison_figure(pd.DataFrame(columns=["repeat", "model", "exact_match"]), reference={"attention": 0.957})
    assert len(fig.data) == 0
    assert _shape(fig, "reference attention").y0 == pytest.approx(0.957)
    assert "No results yet" in _annotation_texts(fig)
    with_nan = _results()
    with_nan.loc[0, "exact_match"] = np.nan
    fig = F.comparison_figure(with_nan)
    assert len(fig.data[1].y) == 9 and not np.isnan(np.asarray(fig.data[1].y, dtype=float)).any()
    assert "No results yet" in _annotation_texts(F.comparison_figure(pd.DataFrame()))
    with pytest.raises(ValueError, match="exact_match"):
        F.comparison_figure(pd.DataFrame({"model": ["baseline"], "score": [0.2]}))


# --------------------------------------------------------------------------- mean loss band


def _losses(repeats: int = 3, updates: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = [
        (r, u, m, (3.0 if m == "baseline" else 1.0) + rng.random())
        for r in range(repeats)
        for u in range(1, updates + 1)
        for m in ("attention", "baseline")
    ]
    return pd.DataFrame(rows, columns=["repeat", "update", "model", "loss"])


def test_mean_loss_band_traces_per_model():
    fig = F.mean_loss_band_figure(_losses())
    assert len(fig.data) == 6
    for k, model in enumerate(["baseline", "attention"]):
        low, high, mean = fig.data[3 * k : 3 * k + 3]
        assert high.fill == "tonexty" and low.fill in (None, "none")
        assert low.hoverinfo == "skip" and high.hoverinfo == "skip"
        assert mean.fill in (None, "none") and mean.line.color == F.MODEL_COLORS[model]
        assert mean.name.startswith(F.MODEL_LABELS[model])
        assert high.fillcolor.startswith("rgba(") and float(high.fillcolor.rstrip(")").split(",")[-1]) < 0.5
        lo, hi, mu = (np.asarray(t.y, dtype=float) for t in (low, high, mean))
        assert np.all(lo <= mu) and np.all(mu <= hi) and np.any(lo < hi)
        assert fig.layout.xaxis.title.text == "update"
        assert fig.layout.yaxis.title.text == "cross-entropy loss"


def test_mean_loss_band_values_are_mean_min_max_over_repeats():
    losses = pd.DataFrame(
        {
            "repeat": [0, 1, 2, 0, 1, 2],
            "update": [1, 1, 1, 2, 2, 2],
            "model": ["attention"] * 6,
            "loss": [1.0, 2.0, 6.0, 0.5, np.nan, 1.5],
        }
    )
    low, high, mean = F.mean_loss_band_figure(losses).data
    np.testing.assert_allclose(low.y, [1.0, 0.5])
    np.testing.assert_allclose(high.y, [6.0, 1.5])
    np.testing.assert_allclose(mean.y, [3.0, 1.0])


def test_mean_loss_band_thins_after_aggregating_and_log_toggle():
    losses = _losses(repeats=2, updates=1000)
    fig = F.mean_loss_band_figure(losses, max_points=100, log_y=True)
    for trace in fig.data:
        assert len(trace.x) <= 100 and trace.x[-1] == 1000
    assert fig.layout.yaxis.type == "log"
    assert F.mean_loss_band_figure(losses).layout.yaxis.type != "log"


def test_mean_loss_band_empty_and_missing_columns():
    assert "No results yet" in _annotation_texts(F.mean_loss_band_figure(pd.DataFrame()))
    with pytest.raises(ValueError, match="loss"):
        F.mean_loss_band_figure(pd.DataFrame({"update": [1], "model": ["attention"]}))


# --------------------------------------------------------------------------- presentation


def test_apply_presentation_enlarges_fonts_and_height_once():
    fig = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2, title="t")
    before_height, before_font = fig.layout.height, fig.layout.font.size
    before_cell = fig.data[0].textfont.size
    out = F.apply_presentation(fig, True)
    assert out is fig
    assert fig.layout.font.size == 22 > before_font
    assert fig.layout.height == round(before_height * 1.4)
    assert fig.layout.xaxis.title.font.size > F.BASE_FONT_SIZE + 1
    assert fig.layout.yaxis.tickfont.size > F.BASE_FONT_SIZE - 2
    assert fig.layout.legend.font.size > F.BASE_FONT_SIZE
    assert fig.layout.title.font.size > F.BASE_FONT_SIZE + 4
    assert fig.data[0].colorbar.title.font.size > F.BASE_FONT_SIZE
    assert fig.data[0].textfont.size > before_cell
    # A dashboard rerun may apply it again to the same figure: no further growth.
    F.apply_presentation(fig, True)
    assert fig.layout.height == round(before_height * 1.4)
    assert fig.data[0].textfont.size == pytest.approx(before_cell * 1.4)


def test_apply_presentation_scales_annotations_and_shape_labels():
    fig = F.loss_race_figure(pd.DataFrame(), K)
    note_size = fig.layout.annotations[0].font.size
    label_size = fig.layout.shapes[0].label.font.size
    F.apply_presentation(fig, True)
    assert fig.layout.annotations[0].font.size > note_size
    assert fig.layout.shapes[0].label.font.size > label_size


def test_apply_presentation_false_leaves_figure_unchanged():
    fig = F.loss_race_figure(_history(), K)
    before = fig.to_plotly_json()
    assert F.apply_presentation(fig, False) is fig
    assert fig.to_plotly_json() == before


def test_loss_chart_keeps_the_users_zoom_across_refreshes_but_not_across_a_scale_switch():
    import pandas as pd

    from seqattn.figures import loss_race_figure

    early = pd.DataFrame({"update": [10, 20], "smoothed_baseline": [3.0, 2.5], "smoothed_attention": [3.0, 2.0]})
    later = pd.DataFrame({"update": [10, 20, 30], "smoothed_baseline": [3.0, 2.5, 2.4],
                          "smoothed_attention": [3.0, 2.0, 1.0]})
    first, second = loss_race_figure(early, 10, revision="run-a"), loss_race_figure(later, 10, revision="run-a")
    assert first.layout.uirevision is not None and first.layout.uirevision == second.layout.uirevision
    assert "run-a" in first.layout.uirevision
    assert loss_race_figure(later, 10, log_y=True, revision="run-a").layout.uirevision != second.layout.uirevision
    # Another run's chart starts from its own autorange, not from the zoom kept for this one.
    assert loss_race_figure(later, 10, revision="run-b").layout.uirevision != second.layout.uirevision
    # The empty chart before a run and the enlarged one of presentation mode keep it too.
    assert loss_race_figure(None, 10, revision="run-a").layout.uirevision == second.layout.uirevision
    assert F.apply_presentation(loss_race_figure(later, 10, revision="run-a"), True).layout.uirevision == \
        second.layout.uirevision


def test_figures_keep_the_house_template_when_streamlit_is_imported_after(monkeypatch):
    """Importing Streamlit makes its own Plotly template the default (placeholder colours its frontend
    replaces); a figure built afterwards, in a notebook or a test, still gets ours."""
    import plotly.io as pio
    import streamlit  # noqa: F401  (registers the "streamlit" template)

    monkeypatch.setattr(pio.templates, "default", "streamlit")  # as if Streamlit were imported last
    fig = F.loss_race_figure(_history(), K)
    assert fig.layout.template.layout.paper_bgcolor == "white"
    assert pio.templates.default == F.TEMPLATE
    heatmap = F.attention_heatmap(np.full((2, 3), 1 / 3), [1, 2, 3], [1, 2], 2)
    assert heatmap.layout.template.layout.paper_bgcolor == "white"


# --------------------------------------------------------------------------- task tokens (issue 23)

DATE = list("wednesday 9 may 2018".replace(" ", "␣")) + ["·"] * 9
DATE_PAD = [t == "·" for t in DATE]


def test_heatmap_draws_string_tokens_as_given():
    fig = F.attention_heatmap(_attention(3, 4), ["a", "␣", "-", "12"], ["2", "-", "0"], n_out=3,
                              expected_tokens=["2", "0", "0"])
    assert list(fig.layout.xaxis.ticktext) == ["1: a", "2: ␣", "3: -", "4: 12"]
    labels = list(fig.layout.yaxis.ticktext)
    assert labels[1].startswith("2 → -") and "✗" in labels[1] and "✗" not in labels[0]
    assert "input position 2 (token ␣)" in fig.data[0].text[0][1] and "wrong: expected 0" in fig.data[0].text[1][0]
    # Ints and their shown strings read the same: nothing is marked wrong.
    same = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2, expected_tokens=[str(t) for t in OUTPUTS])
    assert not any("✗" in label for label in same.layout.yaxis.ticktext)


def test_heatmap_outlines_every_cell_of_a_given_expected_alignment():
    alignment = np.zeros((5, 5))
    alignment[0, [1, 2]] = 0.5  # shared weight: both cells
    alignment[3, 4] = 1.0
    fig = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2, show_expected=True, expected_alignment=alignment)
    outline = next(t for t in fig.data if t.name == "expected")
    xs = np.array([v for v in outline.x if v is not None], dtype=float).reshape(-1, 5)[:, :4].mean(1)
    ys = np.array([v for v in outline.y if v is not None], dtype=float).reshape(-1, 5)[:, :4].mean(1)
    assert sorted(zip(np.round(xs).astype(int), np.round(ys).astype(int))) == [(2, 1), (3, 1), (5, 4)]
    hidden = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2, expected_alignment=alignment)
    assert not any(t.name == "expected" for t in hidden.data)
    with pytest.raises(ValueError, match="expected_alignment has shape"):
        F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=2, expected_alignment=np.zeros((5, 4)))


def test_heatmap_dims_padded_input_positions():
    padded = [False, True, False, True, True]
    fig = F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=5, pad_positions=padded)
    shapes = [s for s in fig.layout.shapes if s.name == "padding (input)"]
    assert [(s.x0, s.x1) for s in shapes] == [(1.5, 2.5), (3.5, 5.5)]  # one per run of padded positions
    assert all((s.y0, s.y1) == (0.5, 5.5) and s.layer == "above" for s in shapes)
    assert [s.showlegend for s in shapes] == [True, False]
    ticks = list(fig.layout.xaxis.ticktext)
    assert [F.PAD_COLOR in t for t in ticks] == padded
    assert "padding, no attention" in fig.data[0].text[0][1] and "padding" not in fig.data[0].text[0][0]
    with pytest.raises(ValueError, match="pad_positions has 2 entries"):
        F.attention_heatmap(_attention(), INPUTS, OUTPUTS, n_out=5, pad_positions=[True, False])


def test_a_dates_heatmap_is_wide_compact_and_unwritten():
    att = _attention(10, 29)
    fig = F.attention_heatmap(att, DATE, list("2018-05-09"), n_out=10, pad_positions=DATE_PAD, title="t")
    assert fig.data[0].texttemplate is None  # 29 columns: values would be cramped
    ticks = list(fig.layout.xaxis.ticktext)
    assert len(ticks) == 29 and ticks[:3] == ["w", "e", "d"] and ticks[9] == "␣" and "·" in ticks[-1]
    assert {"w", "m", "2"} <= set(ticks)
    assert fig.layout.xaxis.title.text == "input (one column per position)"
    assert "input position 1 (token w)" in fig.data[0].text[0][0]  # the position is in the hover
    # Square cells in about the plot's width: shorter than ten 60-pixel rows, still taller than the minimum.
    assert 320 <= fig.layout.height < F.attention_heatmap(att[:, :10], DATE[:10], list("2018-05-09"), 10).layout.height
    # Integer tokens keep "position: token" whatever the width.
    wide = F.attention_heatmap(_attention(3, 20), list(range(20)), [1, 2, 3], n_out=3)
    assert wide.layout.xaxis.ticktext[0] == "1: 0"
