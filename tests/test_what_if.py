"""Forced attention (issue 12): the row arithmetic, Predictor.force, and a what-if on a trained model."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from seqattn.model.config import ModelConfig
from seqattn.model.builders import Predictor, build_attention, build_baseline
from seqattn.problem.config import ProblemConfig
from seqattn.training.config import TrainConfig
from seqattn.training.session import train
from seqattn.model.what_if import WhatIf, force_attention, forced_row

PROBLEM = ProblemConfig(cardinality=7, n_in=5, n_out=2)


# --------------------------------------------------------------------------- forced_row


def test_one_hot_by_default() -> None:
    row = forced_row(np.array([0.1, 0.2, 0.3, 0.4]), 2)
    np.testing.assert_array_equal(row, [0.0, 0.0, 1.0, 0.0])
    assert row.dtype == np.float32


def test_weight_is_respected_and_the_rest_renormalised_in_proportion() -> None:
    original = np.array([0.1, 0.3, 0.2, 0.4])
    row = forced_row(original, 3, weight=0.5)
    assert row.sum() == pytest.approx(1.0, abs=1e-6)
    assert row[3] == pytest.approx(0.5)
    # The others keep their proportions 1 : 3 : 2 and share the remaining 0.5.
    np.testing.assert_allclose(row[:3], np.array([0.1, 0.3, 0.2]) / 0.6 * 0.5, atol=1e-6)


def test_weight_zero_moves_all_attention_off_the_position() -> None:
    row = forced_row(np.array([0.7, 0.2, 0.1]), 0, weight=0.0)
    np.testing.assert_allclose(row, [0.0, 2 / 3, 1 / 3], atol=1e-6)


def test_rest_spread_evenly_when_the_other_positions_had_nothing() -> None:
    row = forced_row(np.array([0.0, 1.0, 0.0, 0.0, 0.0]), 1, weight=0.6)
    np.testing.assert_allclose(row, [0.1, 0.6, 0.1, 0.1, 0.1], atol=1e-6)
    assert row.sum() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_random_rows_stay_probability_rows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    original = rng.dirichlet(np.ones(6))
    position, weight = int(rng.integers(6)), float(rng.random())
    row = forced_row(original, position, weight)
    assert np.all(row >= 0) and row.sum() == pytest.approx(1.0, abs=1e-6)
    assert row[position] == pytest.approx(weight, abs=1e-6)


@pytest.mark.parametrize(
    "position, weight, message",
    [
        (5, 1.0, "position must be an input position from 0 to 4; got 5"),
        (-1, 1.0, "position must be an input position from 0 to 4; got -1"),
        (1.5, 1.0, "position must be an input position"),
        (0, 1.5, "weight must be a number from 0 to 1"),
        (0, -0.1, "weight must be a number from 0 to 1"),
        (0, float("nan"), "weight must be a number from 0 to 1"),
    ],
)
def test_forced_row_rejects_bad_position_or_weight(position, weight, message) -> None:
    with pytest.raises(ValueError, match=message):
        forced_row(np.full(5, 0.2), position, weight)


def test_forced_row_rejects_a_bad_row() -> None:
    with pytest.raises(ValueError, match="one weight per input position"):
        forced_row(np.ones((2, 2)) / 4, 0)
    with pytest.raises(ValueError, match="non-negative"):
        forced_row(np.array([1.5, -0.5]), 0)


# --------------------------------------------------------------------------- Predictor.force


@pytest.fixture(scope="module")
def attention_predictor() -> Predictor:
    keras.utils.set_random_seed(0)
    return Predictor(build_attention(PROBLEM, units=8))


def test_force_shows_the_forced_row_and_keeps_earlier_steps(attention_predictor) -> None:
    inputs = np.array([1, 2, 3, 4, 5])
    original = attention_predictor(inputs)
    row = np.array([0.0, 0.0, 0.0, 1.0, 0.0], dtype=np.float32)
    forced = attention_predictor.force(inputs, 2, row)
    assert forced.tokens.shape == (1, 5) and forced.attention.shape == (1, 5, 5)
    np.testing.assert_array_equal(forced.attention[0, 2], row)
    # Steps before the forced one are the model's own; later ones follow from it.
    np.testing.assert_allclose(forced.probabilities[0, :2], original.probabilities[0, :2], atol=1e-6)
    np.testing.assert_allclose(forced.attention[0, :2], original.attention[0, :2], atol=1e-6)
    assert np.abs(forced.probabilities[0, 2:] - original.probabilities[0, 2:]).max() > 1e-6
    np.testing.assert_allclose(forced.attention.sum(-1), 1.0, atol=1e-5)


def test_forcing_the_models_own_row_changes_nothing(attention_predictor) -> None:
    inputs = np.array([[6, 0, 3, 3, 1]])
    original = attention_predictor(inputs)
    again = attention_predictor.force(inputs, 1, original.attention[0, 1])
    np.testing.assert_allclose(again.probabilities, original.probabilities, atol=1e-6)
    np.testing.assert_array_equal(again.tokens, original.tokens)


def test_force_is_fast_once_traced(attention_predictor) -> None:
    inputs, row = np.array([1, 2, 3, 4, 5]), np.eye(5, dtype=np.float32)[0]
    attention_predictor.force(inputs, 0, row)  # traces
    started = time.perf_counter()
    for step in range(5):
        attention_predictor.force(inputs, step, np.eye(5, dtype=np.float32)[step])
    # A few ms each on the reference machine; generous for a shared CI box.
    assert (time.perf_counter() - started) / 5 < 0.1


@pytest.mark.parametrize(
    "step, row, message",
    [
        (5, np.full(5, 0.2), "step must be an output step from 0 to 4; got 5"),
        (-1, np.full(5, 0.2), "step must be an output step from 0 to 4; got -1"),
        (0, np.full(4, 0.25), r"one weight per input position \(5\); got shape \(4,\)"),
        (0, np.full(5, 0.3), "summing to 1"),
        (0, np.array([1.2, -0.2, 0, 0, 0]), "non-negative"),
    ],
)
def test_force_rejects_bad_steps_and_rows(attention_predictor, step, row, message) -> None:
    with pytest.raises(ValueError, match=message):
        attention_predictor.force([1, 2, 3, 4, 5], step, row)


def test_force_on_a_model_without_attention_says_so() -> None:
    predictor = Predictor(build_baseline(PROBLEM, units=4))
    with pytest.raises(ValueError, match="only a model with attention"):
        predictor.force([1, 2, 3, 4, 5], 0, np.full(5, 0.2))
    with pytest.raises(ValueError, match="only a model with attention"):
        force_attention(predictor, [1, 2, 3, 4, 5], 0, 1)


def test_force_attention_validates_before_running(attention_predictor) -> None:
    with pytest.raises(ValueError, match="step must be an output step from 0 to 4; got 7"):
        force_attention(attention_predictor, [1, 2, 3, 4, 5], 7, 0)
    with pytest.raises(ValueError, match="position must be an input position from 0 to 4; got 9"):
        force_attention(attention_predictor, [1, 2, 3, 4, 5], 0, 9)
    with pytest.raises(ValueError, match="one input sequence at a time"):
        force_attention(attention_predictor, [[1, 2, 3, 4, 5]] * 2, 0, 0)


def test_force_attention_result(attention_predictor) -> None:
    what = force_attention(attention_predictor, [1, 2, 3, 4, 5], 1, 4, weight=0.8)
    assert isinstance(what, WhatIf)
    assert (what.step, what.position, what.weight) == (1, 4, 0.8)
    assert what.forced.attention[0, 1, 4] == pytest.approx(0.8, abs=1e-6)
    np.testing.assert_array_equal(what.original.tokens, attention_predictor([1, 2, 3, 4, 5]).tokens)
    changed = [t for t in range(5) if what.original.tokens[0, t] != what.forced.tokens[0, t]]
    assert what.changed_steps == changed
    with pytest.raises(AttributeError):
        what.step = 2  # type: ignore[misc]  (frozen)


# --------------------------------------------------------------------------- trained model

TRAINED_PROBLEM = ProblemConfig(cardinality=10, n_in=5, n_out=2)


@pytest.fixture(scope="module")
def trained() -> Predictor:
    """A small bidirectional attention model at 100 % exact match, with a near-perfect diagonal (~10 s)."""
    result = train(TRAINED_PROBLEM, TrainConfig(protocol="batched", seed=0, updates=200, eval_size=200, jit_compile=False),
                   model=ModelConfig(units=32, encoder="bidirectional"), names=("attention",))
    assert result.accuracy["attention"].exact_match >= 0.95, result.accuracy
    return Predictor(result.models["attention"])


def test_trained_model_attends_the_diagonal(trained) -> None:
    inputs = np.random.default_rng(3).integers(0, 10, size=(50, 5))
    attention = trained(inputs).attention
    assert attention[:, 1, 1].mean() > 0.8


def test_forcing_attention_elsewhere_changes_the_echoed_token(trained) -> None:
    # Step 1 (the second echoed token) is where the context is the decoder's
    # only route to the token: step 0 can also read it from s_0 = tanh(h_0 W_s),
    # built from the first encoder state, and its token rarely moves.
    # Measured with this seed: forcing step 1 onto position 2 changes its token
    # for 5 inputs in 10, each time into the token at position 2.
    rng = np.random.default_rng(5)
    changed = copied = 0
    for _ in range(10):
        inputs = rng.integers(0, 10, size=5)
        if inputs[2] == inputs[1]:
            inputs[2] = (inputs[1] + 1) % 10  # the forced position must hold a different token
        what = force_attention(trained, inputs, step=1, position=2)
        assert what.original.tokens[0, 1] == inputs[1]
        np.testing.assert_array_equal(what.forced.attention[0, 1], np.eye(5)[2])
        changed += 1 in what.changed_steps
        copied += what.forced.tokens[0, 1] == inputs[2]
    assert changed >= 3 and copied >= 3, (changed, copied)


# --------------------------------------------------------------------------- one input position


def test_nothing_to_move_with_a_single_input_position() -> None:
    from seqattn.model.what_if import nothing_to_move

    message = nothing_to_move(1)
    assert message is not None and "nowhere else to look" in message and "input length of 2 or more" in message
    assert "\n" not in message
    assert nothing_to_move(2) is None and nothing_to_move(100) is None


def test_a_single_position_row_can_only_be_forced_with_weight_one() -> None:
    np.testing.assert_array_equal(forced_row(np.array([1.0]), 0, 1.0), [1.0])
    with pytest.raises(ValueError, match="single input position"):
        forced_row(np.array([1.0]), 0, 0.95)


# --------------------------------------------------------------------------- padded inputs (issue 23)

PADDED = [False, False, False, True, True]


def test_forcing_onto_padding_is_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="input position 4 is padding.*pick a position that holds part of the input"):
        forced_row(np.array([0.2, 0.3, 0.5, 0.0, 0.0]), 3, padded=PADDED)
    with pytest.raises(ValueError, match="one flag per input position"):
        forced_row(np.array([0.2, 0.3, 0.5, 0.0, 0.0]), 0, padded=[False, True])


def test_the_rest_is_never_spread_onto_padding() -> None:
    # In proportion: padding has no weight of its own, and any it had is not kept.
    row = forced_row(np.array([0.2, 0.3, 0.4, 0.1, 0.0]), 0, weight=0.5, padded=PADDED)
    np.testing.assert_allclose(row, [0.5, 0.5 * 3 / 7, 0.5 * 4 / 7, 0.0, 0.0], atol=1e-6)
    # Evenly, when the other real positions had nothing.
    row = forced_row(np.array([1.0, 0.0, 0.0, 0.0, 0.0]), 0, weight=0.4, padded=PADDED)
    np.testing.assert_allclose(row, [0.4, 0.3, 0.3, 0.0, 0.0], atol=1e-6)


def test_a_single_real_position_can_only_be_forced_with_weight_one() -> None:
    padded = [False, True, True]
    np.testing.assert_array_equal(forced_row(np.array([1.0, 0.0, 0.0]), 0, 1.0, padded=padded), [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="single input position"):
        forced_row(np.array([1.0, 0.0, 0.0]), 0, 0.5, padded=padded)


def test_force_attention_refuses_padding_before_running_the_model() -> None:
    class Untouchable:
        with_attention = True
        steps = 5

        def __call__(self, inputs):
            raise AssertionError("the model must not run for a refused position")

    with pytest.raises(ValueError, match="input position 5 is padding"):
        force_attention(Untouchable(), np.array([3, 1, 4, 0, 0]), 0, 4, padded=PADDED)
