"""The task seam: the registry, Echo unchanged, Reverse and Sort by hand, masking, run files, a fifth task.

Dates has its own file (tests/test_dates.py); the Explore side of every task is in
tests/test_explore.py and tests/test_explore_page.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

from seqattn.evaluation.scoring import alignment_score
from seqattn.model.decoding import decode
from seqattn.model.inference import NUMPY_OPS
from seqattn.problem import registry
from seqattn.problem.batches import draw_pairs, make_batch, targets_for
from seqattn.problem.config import ProblemConfig
from seqattn.problem.parsing import parse_sequence
from seqattn.problem.task import IntegerTask, one_position_alignment
from seqattn.runs import create_run, read_problem
from seqattn.training.data import held_out_set

# --------------------------------------------------------------------------- registry and config


def test_the_registry_holds_the_four_tasks_with_echo_the_default() -> None:
    assert registry.task_names()[:4] == ("echo", "reverse", "sort", "dates")
    assert ProblemConfig().task == "echo"
    assert [registry.task_named(n).label for n in ("echo", "reverse", "sort", "dates")] == \
        ["Echo", "Reverse", "Sort", "Dates"]


def test_an_unknown_task_is_refused_naming_the_tasks() -> None:
    with pytest.raises(ValueError, match="task must be one of echo, reverse, sort, dates.*'nope'"):
        ProblemConfig(task="nope")


@pytest.mark.parametrize("task", ["reverse", "sort"])
def test_reverse_and_sort_set_their_own_output_length(task: str) -> None:
    config = ProblemConfig(cardinality=10, n_in=7, n_out=2, pad_target=False, task=task)
    assert (config.n_out, config.target_len, config.pad_target) == (7, 7, True)
    assert config.input_size == config.output_size == 10 and config.pad_token is None


def test_dates_fixes_every_size_and_has_its_own_vocabularies() -> None:
    config = ProblemConfig(cardinality=3, n_in=2, task="dates")
    assert (config.n_in, config.target_len, config.output_size) == (29, 10, 11)
    assert config.input_size == config.cardinality == 42 and config.pad_token == 0


def test_a_run_json_round_trip_keeps_the_task_and_an_old_run_loads_as_echo(tmp_path) -> None:
    for task in ("reverse", "dates"):
        config = ProblemConfig(cardinality=6, n_in=4, task=task)
        run_id = create_run(config, {"protocol": "batched"}, root=tmp_path)
        assert read_problem(run_id, tmp_path) == config
    old = ProblemConfig(cardinality=7, n_in=4, n_out=3)
    run_id = create_run(old, {"protocol": "batched"}, root=tmp_path)
    meta_path = tmp_path / run_id / "run.json"
    meta = json.loads(meta_path.read_text())
    del meta["problem"]["task"]  # as written before tasks existed
    meta_path.write_text(json.dumps(meta))
    assert read_problem(run_id, tmp_path) == old and read_problem(run_id, tmp_path).task == "echo"


# --------------------------------------------------------------------------- Echo: the same numbers as before tasks


def test_echo_draws_and_held_out_sets_are_the_numbers_they_always_were() -> None:
    config = ProblemConfig(cardinality=13, n_in=6, n_out=3)
    batch = make_batch(config, 9, np.random.default_rng(4))
    before = np.random.default_rng(4).integers(0, 13, size=(9, 6), dtype=np.int32)  # the draw before the seam
    assert np.array_equal(batch.inputs, before)
    assert np.array_equal(batch.targets[:, :3], before[:, :3]) and not batch.targets[:, 3:].any()
    inputs, targets = held_out_set(config, 50, seed=7)
    assert np.array_equal(inputs, np.random.default_rng([7, 1]).integers(0, 13, size=(50, 6), dtype=np.int32))
    assert np.array_equal(targets, targets_for(inputs, config))


def test_echo_expected_alignment_is_the_diagonal_and_scores_as_before() -> None:
    config = ProblemConfig(cardinality=9, n_in=5, n_out=2)
    expected = config.task_spec.expected_alignment(config, np.zeros((3, 5), dtype=np.int32))
    assert expected.shape == (3, 5, 5)
    assert expected[0, 0, 0] == expected[0, 1, 1] == 1.0 and expected[0, 2:].sum() == 0.0
    attention = np.random.default_rng(0).dirichlet(np.ones(5), size=(3, 5)).astype(np.float32)
    assert alignment_score(attention, expected) == pytest.approx(alignment_score(attention, 2), abs=1e-6)


# --------------------------------------------------------------------------- Reverse and Sort by hand


def test_reverse_targets_and_the_anti_diagonal() -> None:
    config = ProblemConfig(cardinality=10, n_in=4, task="reverse")
    assert targets_for(np.array([[1, 2, 3, 9]]), config).tolist() == [[9, 3, 2, 1]]
    expected = config.task_spec.expected_alignment(config, np.array([[1, 2, 3, 9]]))[0]
    assert expected.tolist() == np.eye(4)[::-1].tolist()


def test_sort_targets_and_ties_share_the_weight() -> None:
    config = ProblemConfig(cardinality=10, n_in=4, task="sort")
    inputs = np.array([[3, 1, 3, 0]])
    assert targets_for(inputs, config).tolist() == [[0, 1, 3, 3]]
    expected = config.task_spec.expected_alignment(config, inputs)[0]
    assert expected.tolist() == [[0, 0, 0, 1], [0, 1, 0, 0], [0.5, 0, 0.5, 0], [0.5, 0, 0.5, 0]]
    # Attention split over both 3s counts in full; all of it on one 3 counts too.
    attention = np.array([[[0, 0, 0, 1], [0, 1, 0, 0], [0.5, 0, 0.5, 0], [1, 0, 0, 0]]], dtype=np.float32)
    assert alignment_score(attention, expected[None]) == pytest.approx(1.0)


@pytest.mark.parametrize("task", ["reverse", "sort"])
def test_drawn_pairs_are_seeded_and_targets_follow_the_inputs(task: str) -> None:
    config = ProblemConfig(cardinality=5, n_in=6, task=task)
    inputs, targets = draw_pairs(config, 40, np.random.default_rng(1))
    again, _ = draw_pairs(config, 40, np.random.default_rng(1))
    assert np.array_equal(inputs, again) and inputs.min() >= 0 and inputs.max() < 5
    assert np.array_equal(targets, targets_for(inputs, config))


@pytest.mark.parametrize("task, text, message", [
    ("reverse", "1 2 3", "Expected 4 values, got 3"),
    ("sort", "1 2 x 3", "Value 3 ('x') is not a whole number"),
    ("sort", "1 2 3 10", "Value 4 (10) is outside 0..9"),
])
def test_integer_tasks_parse_with_the_same_messages(task: str, text: str, message: str) -> None:
    config = ProblemConfig(cardinality=10, n_in=4, task=task)
    assert parse_sequence("9, 0, 3, 3", config) == [9, 0, 3, 3]
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        parse_sequence(text, config)
    assert "Type 4 whole numbers from 0 to 9" in str(caught.value)


def test_chance_per_task() -> None:
    assert ProblemConfig(cardinality=10, n_in=5, n_out=2).task_spec.chance(ProblemConfig(10, 5, 2)) == \
        pytest.approx(0.01)
    reverse = ProblemConfig(cardinality=10, n_in=3, task="reverse")
    assert reverse.task_spec.chance(reverse) == pytest.approx(1e-3)
    dates = ProblemConfig(task="dates")
    assert dates.task_spec.chance(dates) == pytest.approx(1e-8)


# --------------------------------------------------------------------------- padding gets no attention


def test_the_decoder_gives_padding_exactly_zero_weight_and_rows_still_sum_to_one() -> None:
    rng = np.random.default_rng(0)
    d, u, k, t = 6, 5, 4, 7
    sizes = {"D": d, "U": u, "K": k}
    from seqattn.model.decoding import WEIGHT_SPECS

    weights = {name: rng.normal(size=tuple(sizes[s] for s in shape)).astype(np.float32)
               for name, shape, _ in WEIGHT_SPECS}
    h = rng.normal(size=(2, t, d)).astype(np.float32)
    mask = np.ones((2, t), dtype=np.float32)
    mask[0, 4:] = 0.0
    mask[1, 2:] = 0.0
    _, attention = decode(NUMPY_OPS, weights, h, 3, input_mask=mask)
    assert np.all(attention[0, :, 4:] == 0.0) and np.all(attention[1, :, 2:] == 0.0)
    assert np.allclose(attention.sum(axis=-1), 1.0, atol=1e-6)
    _, unmasked = decode(NUMPY_OPS, weights, h, 3)
    assert np.all(unmasked > 0.0)  # without a mask every position gets some weight


# --------------------------------------------------------------------------- a fifth task: its module and one registry line


class RotateTask(IntegerTask):
    """A throwaway task: the target is the input rotated left by one."""

    name = "rotate"
    label = "Rotate"
    summary = "The target is the input rotated left by one."

    def targets(self, config: Any, inputs: np.ndarray) -> np.ndarray:
        return np.roll(np.asarray(inputs, dtype=np.int32), -1, axis=1)

    def expected_alignment(self, config: Any, inputs: np.ndarray) -> np.ndarray:
        positions = (np.arange(config.n_in) + 1) % config.n_in
        return one_position_alignment(np.tile(positions, (len(inputs), 1)), config.n_in)


@pytest.fixture
def rotate(monkeypatch):
    monkeypatch.setattr(registry, "TASKS", dict(registry.TASKS))
    registry.register(RotateTask())  # the registry line
    return "rotate"


def test_a_fifth_task_trains_saves_and_answers_with_nothing_else_changed(rotate, tmp_path) -> None:
    from seqattn.cli.options import build_parser
    from seqattn.explore import explain
    from seqattn.model.config import ModelConfig
    from seqattn.runs import load_predictors
    from seqattn.training.config import TrainConfig
    from seqattn.jobs.worker import Worker
    from seqattn.runs import run_dir

    config = ProblemConfig(cardinality=6, n_in=4, task=rotate)
    assert config.target_len == 4 and build_parser().parse_args(["train", "--task", rotate]).task == rotate
    train = TrainConfig(protocol="batched", updates=40, batch_size=16, eval_every=20, eval_size=50, jit_compile=False)
    run_id = create_run(config, train.to_dict(), model=ModelConfig(units=8).to_dict(), root=tmp_path)
    Worker(run_dir(run_id, tmp_path)).run()
    assert read_problem(run_id, tmp_path).task == rotate
    explanation = explain("1 2 3 4", config, load_predictors(run_id, str(tmp_path)))
    assert explanation.expected == [2, 3, 4, 1]
    assert explanation.attention is not None and explanation.attention.shape == (4, 4)


# --------------------------------------------------------------------------- every task learns


@pytest.mark.parametrize("task", ["echo", "reverse", "sort", "dates"])
def test_a_tiny_training_of_every_task_learns_above_chance(task: str) -> None:
    from seqattn.model.config import ModelConfig
    from seqattn.training.config import TrainConfig
    from seqattn.training.session import train

    config = ProblemConfig(cardinality=6, n_in=5, task=task)
    recipe = TrainConfig(protocol="batched", updates=150, batch_size=32, learning_rate=1e-2, eval_every=50,
                         eval_size=200, jit_compile=False)
    result = train(config, recipe, model=ModelConfig(units=16))
    for name, accuracy in result.accuracy.items():
        # Guessing gets each step right 1 time in output_size; both models do far better per step.
        assert np.mean(accuracy.per_position) > 2.0 / config.output_size, (name, accuracy)
    assert result.accuracy["attention"].exact_match > config.task_spec.chance(config)
