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


# --------------------------------------------------------------------------- every task (issue 23)

DATES = ProblemConfig(task="dates")
REVERSE = ProblemConfig(task="reverse", cardinality=10, n_in=5)


class TaskPredictor:
    """Answers the task's own targets (right every time), attending by the task's expected alignment or evenly."""

    def __init__(self, problem: ProblemConfig, attends: bool) -> None:
        self.problem, self.attends = problem, attends

    def __call__(self, inputs: np.ndarray) -> Prediction:
        from seqattn.problem.batches import one_hot, targets_for

        probabilities = one_hot(targets_for(inputs, self.problem), self.problem.output_size) * 0.9 + 0.1 / (
            self.problem.output_size)
        attention = None
        if self.attends:
            real = (inputs != self.problem.pad_token) if self.problem.pad_token is not None else np.ones_like(inputs)
            attention = np.broadcast_to((real / real.sum(axis=1, keepdims=True))[:, None, :],
                                        (len(inputs), self.problem.target_len, self.problem.n_in)).astype(np.float32)
        return Prediction.of(probabilities, attention)


def both(problem: ProblemConfig) -> dict:
    return {"baseline": TaskPredictor(problem, False), "attention": TaskPredictor(problem, True)}


def test_a_date_is_explained_with_characters_to_show_and_ints_to_compute():
    explanation = explain("Wednesday, May 9, 2018", DATES, both(DATES))
    assert explanation.text == "wednesday, may 9, 2018"  # the task's typed form, commas and spaces kept
    assert explanation.shown_inputs[:4] == ["w", "e", "d", "n"] and explanation.shown_inputs[10] == "␣"
    assert explanation.shown_inputs[-1] == "·" and all(isinstance(t, int) for t in explanation.inputs)
    assert explanation.padded == [t == DATES.pad_token for t in explanation.inputs]
    assert sum(explanation.padded) == DATES.n_in - len("wednesday, may 9, 2018")
    assert explanation.shown_expected == list("2018-05-09") and explanation.expected_text == "2018-05-09"
    assert explanation.joined(explanation.answers["attention"].shown) == "2018-05-09"
    assert explanation.answers["attention"].exact
    assert explanation.expected_alignment.shape == (10, DATES.n_in)
    # The year's digits look at the year's characters (positions 18..21), the dashes at nothing.
    assert set(np.flatnonzero(explanation.expected_alignment[0])) == {18, 19, 20, 21}
    assert not explanation.expected_alignment[4].any()
    assert explanation.real_positions == list(range(len("wednesday, may 9, 2018")))


def test_a_date_reads_as_characters_in_the_table_the_frame_and_the_bundle():
    explanation = explain("9 may 2018", DATES, both(DATES))
    table = answers_table(explanation, {"baseline": "Baseline", "attention": "Attention"})
    assert list(table.loc["Input"])[:5] == ["9", "␣", "m", "a", "y"] and table.loc["Input", "step 11"] == "·"
    assert list(table.loc["Expected"])[:10] == list("2018-05-09") and table.loc["Expected", "step 11"] == ""
    assert table.loc["Attention", "step 5"] == "- (91%)"  # 0.9 + 0.1 / 11
    assert list(attention_frame(explanation).columns[:3]) == ["input 1 (9)", "input 2 (␣)", "input 3 (m)"]
    with zipfile.ZipFile(io.BytesIO(export_bundle(explanation, {"run": "d"}))) as archive:
        config = json.loads(archive.read("config.json"))
    assert config["text"] == "9 may 2018" and config["expected_text"] == "2018-05-09"
    assert config["answers"] == {"baseline": "2018-05-09", "attention": "2018-05-09"}
    assert config["sequence"] == explanation.inputs  # the ints stay, for computing


@pytest.mark.parametrize("text", ["9 may 2018 #", "x" * 40, "30 february 2018", "9 mai 2018", ""])
def test_a_bad_date_is_refused_with_what_is_accepted(text):
    with pytest.raises(ValueError, match="Type a date from 1950 to 2049"):
        explain(text, DATES, both(DATES))


def test_an_answer_is_joined_as_its_task_writes_a_sequence():
    dates = explain("9 may 2018", DATES, both(DATES))
    assert dates.expected_text == "2018-05-09"  # characters: no space between them
    integers = explain("3 7 1 2", PROBLEM, both(PROBLEM))
    assert integers.expected_text == "3 7 0 0" and integers.shown_inputs == ["3", "7", "1", "2"]


def test_typed_text_round_trips_and_keeps_the_old_address_form_for_integers():
    from seqattn.explore import typed_text

    assert typed_text(PROBLEM, [3, 7, 1, 2]) == "3,7,1,2"
    for text in ["wednesday, may 9, 2018", "9 may 2018", "09.05.18", "wed, 9 may 2018"]:
        tokens = DATES.task_spec.parse(text, DATES)
        assert typed_text(DATES, tokens) == text and DATES.task_spec.parse(typed_text(DATES, tokens), DATES) == tokens


def test_reverse_expects_the_anti_diagonal_and_the_heatmap_outlines_it():
    from seqattn.figures import attention_heatmap

    explanation = explain("3 1 4 1 5", REVERSE, both(REVERSE))
    np.testing.assert_array_equal(explanation.expected_alignment, np.eye(5)[::-1])
    fig = attention_heatmap(explanation.attention, explanation.shown_inputs, explanation.answers["attention"].shown,
                            REVERSE.n_out, show_expected=True, expected_alignment=explanation.expected_alignment)
    outline = next(t for t in fig.data if t.name == "expected")
    xs = np.array([v for v in outline.x if v is not None], dtype=float).reshape(-1, 5)[:, :4].mean(1)
    ys = np.array([v for v in outline.y if v is not None], dtype=float).reshape(-1, 5)[:, :4].mean(1)
    assert sorted(zip(np.round(ys).astype(int), np.round(xs).astype(int))) == [(t, 6 - t) for t in range(1, 6)]


def test_probe_heatmap_shows_a_dates_probe_as_characters_with_padding_dimmed():
    inputs = DATES.task_spec.parse("9 may 2018", DATES)
    record = {"attention": np.full((10, DATES.n_in), 1 / DATES.n_in).tolist(), "probe": inputs,
              "probe_tokens": [2, 0, 1, 8, 10, 0, 5, 10, 0, 9]}
    fig = probe_heatmap(record, DATES.to_dict())
    ticks = list(fig.layout.xaxis.ticktext)
    assert ticks[:3] == ["9", "␣", "m"] and "·" in ticks[-1] and "#9A9A9A" in ticks[-1]
    assert list(fig.layout.yaxis.ticktext)[4] == "5 → -"
    assert any(s.name == "padding (input)" for s in fig.layout.shapes)
    # A problem that does not load (a future task): the ints, as before.
    broken = probe_heatmap({**record, "probe": [1, 2, 3, 4], "probe_tokens": [5, 6, 0, 0],
                            "attention": np.eye(4).tolist()}, {**PROBLEM.to_dict(), "task": "no such task"})
    assert list(broken.layout.xaxis.ticktext) == ["1: 1", "2: 2", "3: 3", "4: 4"]
