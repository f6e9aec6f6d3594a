"""The Explore page's core (seqattn.explore) and the page-logic helpers moved out of pages, without TensorFlow."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from seqattn.sweeps.compare import TUTORIAL_REFERENCE, results_table
from seqattn.explore import answers_table, attention_frame, explain, export_bundle, wrong_cells
from seqattn.figures import probe_heatmap
from seqattn.model.builders import Prediction
from seqattn.problem.config import ProblemConfig

PROBLEM = ProblemConfig(cardinality=10, n_in=4, n_out=2)


class FakePredictor:
    """Answers fixed tokens with a fixed confidence; attends like the real attention model when asked."""

    def __init__(self, tokens: list[int], attends: bool) -> None:
        self.tokens = tokens
        self.attends = attends

    def __call__(self, inputs: np.ndarray) -> Prediction:
        steps = len(self.tokens)
        probabilities = np.full((1, steps, PROBLEM.cardinality), 0.01, dtype=np.float32)
        probabilities[0, np.arange(steps), self.tokens] = 0.91
        attention = np.eye(steps, PROBLEM.n_in, dtype=np.float32)[None] if self.attends else None
        return Prediction(tokens=np.asarray([self.tokens], dtype=np.int32),
                          confidence=np.full((1, steps), 0.91, dtype=np.float32),
                          probabilities=probabilities, attention=attention)


@pytest.fixture()
def explanation():
    predictors = {"baseline": FakePredictor([3, 9, 0, 0], False), "attention": FakePredictor([3, 7, 0, 0], True)}
    return explain("3 7 1 2", PROBLEM, predictors)


def test_explain_scores_each_model_and_names_the_attending_one(explanation):
    assert explanation.inputs == [3, 7, 1, 2]
    assert explanation.expected == [3, 7, 0, 0]
    assert explanation.answers["attention"].exact
    assert not explanation.answers["baseline"].exact
    assert explanation.answers["baseline"].correct == [True, False, True, True]
    assert explanation.attending == "attention"
    assert explanation.attention.shape == (4, 4)


def test_explain_rejects_bad_input_with_the_parser_message():
    with pytest.raises(ValueError, match="not a whole number"):
        explain("3 x 1 2", PROBLEM, {})


def test_answers_table_and_wrong_cells_line_up(explanation):
    table = answers_table(explanation, {"baseline": "Baseline", "attention": "Attention"})
    assert list(table.index) == ["Input", "Expected", "Baseline", "Attention"]
    assert table.loc["Baseline", "step 2"] == "9 (91%)"
    wrong = wrong_cells(explanation, {"baseline": "Baseline", "attention": "Attention"})
    assert wrong.shape == table.shape
    assert wrong.loc["Baseline", "step 2"] and wrong.to_numpy().sum() == 1


def test_attention_frame_and_export_bundle(explanation):
    frame = attention_frame(explanation)
    assert list(frame.columns) == ["input 1 (3)", "input 2 (7)", "input 3 (1)", "input 4 (2)"]
    assert frame.iloc[1, 1] == 1.0
    with zipfile.ZipFile(io.BytesIO(export_bundle(explanation, {"run": "x"}))) as archive:
        config = json.loads(archive.read("config.json"))
        matrix = pd.read_csv(io.StringIO(archive.read("attention.csv").decode()), index_col=0)
    assert config["run"] == "x" and config["predictions"]["baseline"] == [3, 9, 0, 0]
    np.testing.assert_allclose(matrix.to_numpy(), explanation.attention, atol=1e-6)


def test_results_table_has_a_row_per_repeat_then_mean_and_reference():
    results = pd.DataFrame({"repeat": [0, 0, 1, 1], "model": ["baseline", "attention"] * 2,
                            "exact_match": [0.2, 0.9, 0.4, 1.0]})
    table = results_table(results, TUTORIAL_REFERENCE)
    assert list(table.index) == ["repeat 1", "repeat 2", "mean ± std", "tutorial (reported)"]
    assert table.loc["repeat 2", "attention"] == "100.0%"
    assert table.loc["mean ± std", "baseline"].startswith("30.0% ± ")
    assert table.loc["tutorial (reported)", "attention"] == "95.7%"
    assert "tutorial (reported)" not in results_table(results, None).index


def test_probe_heatmap_uses_the_recorded_probe_or_falls_back_to_positions():
    record = {"attention": np.eye(4, 4).tolist(), "probe": [5, 6, 7, 8], "probe_tokens": [5, 6, 0, 0]}
    fig = probe_heatmap(record, PROBLEM.to_dict(), title="probe")
    assert np.asarray(fig.data[0].z).shape == (4, 4)
    assert any("5" in str(t) for t in fig.layout.xaxis.ticktext)
    old = probe_heatmap({"attention": np.eye(4, 4).tolist()}, PROBLEM.to_dict())
    assert np.asarray(old.data[0].z).shape == (4, 4)
