"""Tests for seqattn.figures.sweep_figure: exact match against a swept setting, from plain frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqattn import figures as F

LENGTHS = [5, 10, 20]
SEEDS = [0, 1, 2]


def _cells() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for n_in in LENGTHS:
        for seed in SEEDS:
            rows.append(dict(n_in=n_in, seed=seed, model="baseline", exact_match=rng.random() * 0.5,
                             alignment=np.nan, status="done"))
            rows.append(dict(n_in=n_in, seed=seed, model="attention", exact_match=0.5 + rng.random() * 0.5,
                             alignment=rng.random(), status="done"))
    return pd.DataFrame(rows)


def _by_name(fig):
    return {t.name: t for t in fig.data}


def _stats(cells: pd.DataFrame, model: str, column: str = "exact_match") -> pd.DataFrame:
    rows = cells[cells["model"] == model]
    return rows.groupby("n_in", sort=True)[column].agg(["mean", "min", "max", "count"])


def test_sweep_traces_per_model_then_alignment():
    fig = F.sweep_figure(_cells())
    assert [t.name for t in fig.data] == [
        "Baseline (no attention) min",
        "Baseline (no attention) max",
        "Baseline (no attention)",
        "Attention min",
        "Attention max",
        "Attention",
        "Attention alignment",
    ]
    for model in ("baseline", "attention"):
        mean = _by_name(fig)[F.MODEL_LABELS[model]]
        assert mean.mode == "lines+markers"
        assert mean.line.color == F.MODEL_COLORS[model]
        assert mean.showlegend is not False
    assert fig.layout.title.text == "Exact match against input length"
    assert fig.layout.xaxis.title.text == "input length"
    assert fig.layout.yaxis.title.text == "held-out exact match"
    assert fig.layout.yaxis.tickformat.endswith("%") and tuple(fig.layout.yaxis.range) == (0, 1)
    assert list(fig.layout.xaxis.tickvals) == LENGTHS


def test_sweep_mean_and_band_are_mean_min_max_over_seeds():
    cells = _cells()
    fig = F.sweep_figure(cells)
    for model in ("baseline", "attention"):
        label = F.MODEL_LABELS[model]
        by_name = _by_name(fig)
        low, high, mean = by_name[f"{label} min"], by_name[f"{label} max"], by_name[label]
        stats = _stats(cells, model)
        assert list(mean.x) == LENGTHS
        np.testing.assert_allclose(mean.y, stats["mean"])
        np.testing.assert_allclose(low.y, stats["min"])
        np.testing.assert_allclose(high.y, stats["max"])
        assert high.fill == "tonexty" and low.fill in (None, "none")
        assert low.hoverinfo == "skip" and high.hoverinfo == "skip"
        assert low.showlegend is False and high.showlegend is False
        assert low.legendgroup == high.legendgroup == mean.legendgroup == model
        assert float(high.fillcolor.rstrip(")").split(",")[-1]) < 0.5
        # Hover: x, mean, min, max and how many seeds.
        assert "%{x}" in mean.hovertemplate and "%{y" in mean.hovertemplate
        assert "customdata[0]" in mean.hovertemplate and "customdata[1]" in mean.hovertemplate
        assert "customdata[2]" in mean.hovertemplate
        first = list(mean.customdata[0])
        assert first[0] == pytest.approx(stats["min"].iloc[0]) and first[1] == pytest.approx(stats["max"].iloc[0])
        assert first[2] == "3 seeds"


def test_sweep_alignment_only_for_the_attention_model_on_a_secondary_axis():
    cells = _cells()
    cells.loc[cells["model"] == "baseline", "alignment"] = 0.123  # ignored: the baseline does not attend
    fig = F.sweep_figure(cells)
    aligned = [t for t in fig.data if "alignment" in t.name]
    assert [t.name for t in aligned] == ["Attention alignment"]
    trace = aligned[0]
    assert trace.yaxis == "y2" and trace.line.dash == "dot"
    assert trace.line.color == F.MODEL_COLORS["attention"]
    np.testing.assert_allclose(trace.y, _stats(cells, "attention", "alignment")["mean"])
    assert all(t.yaxis in (None, "y") for t in fig.data if t is not trace)
    assert fig.layout.yaxis2.title.text == "alignment score"
    assert tuple(fig.layout.yaxis2.range) == (0, 1) and fig.layout.yaxis2.overlaying == "y"


def test_sweep_without_alignment_has_no_secondary_axis():
    cells = _cells().drop(columns=["alignment"])
    fig = F.sweep_figure(cells)
    assert not any("alignment" in t.name for t in fig.data)
    assert "yaxis2" not in fig.to_plotly_json()["layout"]


def test_sweep_chance_line_only_when_given():
    fig = F.sweep_figure(_cells(), chance=0.05)
    chance = [s for s in fig.layout.shapes if s.name == "chance"]
    assert len(chance) == 1
    assert chance[0].y0 == pytest.approx(0.05) and chance[0].y1 == pytest.approx(0.05)
    assert chance[0].yref == "y" and chance[0].line.dash == "dash"
    assert chance[0].label.text == "chance"
    assert not F.sweep_figure(_cells()).layout.shapes


def test_sweep_ignores_rows_not_done_and_nan_scores():
    cells = _cells()
    done = cells.copy()
    cells.loc[0, "status"] = "failed"
    cells.loc[1, "status"] = "running"
    cells.loc[2, "exact_match"] = np.nan
    # A whole length that is still running must not appear at all.
    extra = _cells().query("n_in == 5").assign(n_in=40, status="running", exact_match=1.0)
    fig = F.sweep_figure(pd.concat([cells, extra], ignore_index=True))
    expected = done.drop(index=[0, 1, 2])
    for model in ("baseline", "attention"):
        mean = _by_name(fig)[F.MODEL_LABELS[model]]
        assert 40 not in list(mean.x)
        np.testing.assert_allclose(mean.y, _stats(expected, model)["mean"])
    # Length 5 kept one baseline seed (rows 0 and 2 dropped) and two attention seeds (row 1 dropped).
    assert list(_by_name(fig)["Baseline (no attention)"].customdata[0])[2] == "1 seed"
    assert list(_by_name(fig)["Attention"].customdata[0])[2] == "2 seeds"
    assert list(fig.layout.xaxis.tickvals) == LENGTHS


def test_sweep_single_seed_band_collapses_onto_the_mean():
    cells = _cells().query("seed == 0")
    fig = F.sweep_figure(cells)
    low, high, mean = fig.data[3:6]
    np.testing.assert_allclose(low.y, mean.y)
    np.testing.assert_allclose(high.y, mean.y)
    assert list(mean.customdata[0])[2] == "1 seed"


def test_sweep_other_axis_and_labels():
    cells = _cells().rename(columns={"n_in": "cardinality"})
    fig = F.sweep_figure(cells, axis="cardinality")
    assert fig.layout.xaxis.title.text == "cardinality"
    assert fig.layout.title.text == "Exact match against cardinality"
    fig = F.sweep_figure(_cells(), axis_label="input length n", title="Fig. 2")
    assert fig.layout.xaxis.title.text == "input length n" and fig.layout.title.text == "Fig. 2"


@pytest.mark.parametrize(
    "cells",
    [
        None,
        pd.DataFrame(),
        pd.DataFrame(columns=["n_in", "seed", "model", "exact_match", "alignment", "status"]),
        _cells().assign(status="running"),
        _cells().assign(exact_match=np.nan),
    ],
)
def test_sweep_nothing_done_gives_a_note(cells):
    fig = F.sweep_figure(cells, chance=0.1)
    assert len(fig.data) == 0
    assert "No results yet" in [a.text for a in fig.layout.annotations]
    assert [s.name for s in fig.layout.shapes] == ["chance"]


def test_sweep_rejects_missing_columns():
    with pytest.raises(ValueError, match="exact_match"):
        F.sweep_figure(pd.DataFrame({"n_in": [5], "model": ["attention"], "score": [0.2]}))
    with pytest.raises(ValueError, match="n_out"):
        F.sweep_figure(_cells(), axis="n_out")


def test_sweep_presentation_mode_enlarges_both_y_axes():
    fig = F.apply_presentation(F.sweep_figure(_cells()), True)
    assert fig.layout.yaxis.title.font.size == fig.layout.yaxis2.title.font.size > F.BASE_FONT_SIZE + 1
