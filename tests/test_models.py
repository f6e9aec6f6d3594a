"""The two models, batched prediction, scoring, and a short learning race."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from seqattn.model.attention import AttentionDecoder
from seqattn.evaluation.held_out import evaluate
from seqattn.evaluation.scoring import Accuracy, score
from seqattn.training.data import fresh_pairs
from seqattn.model.builders import Predictor, build_attention, build_baseline, build_model, has_attention
from seqattn.problem.config import ProblemConfig
from seqattn.problem.batches import make_batch
from seqattn.model.config import ModelConfig
from seqattn.training.config import TrainConfig
from seqattn.training.session import train

PADDED = ProblemConfig(cardinality=7, n_in=5, n_out=2, pad_target=True)
UNPADDED = ProblemConfig(cardinality=7, n_in=5, n_out=2, pad_target=False)


@pytest.fixture(scope="module")
def models() -> dict[tuple[str, bool], keras.Model]:
    keras.utils.set_random_seed(0)
    return {
        (kind, problem.pad_target): build_model(kind, problem, units=8)
        for kind in ("baseline", "attention")
        for problem in (PADDED, UNPADDED)
    }


# --------------------------------------------------------------------------- architecture


def test_baseline_layer_names(models) -> None:
    model = models[("baseline", True)]
    assert [layer.name for layer in model.layers] == ["tokens", "encoder", "repeat", "decoder", "output"]
    assert isinstance(model.get_layer("encoder"), keras.layers.LSTM)
    assert isinstance(model.get_layer("repeat"), keras.layers.RepeatVector)
    assert isinstance(model.get_layer("decoder"), keras.layers.LSTM)
    assert isinstance(model.get_layer("output"), keras.layers.TimeDistributed)
    assert model.get_layer("decoder").return_sequences
    assert not model.get_layer("encoder").return_sequences
    assert not has_attention(model)


def test_attention_layer_names(models) -> None:
    model = models[("attention", True)]
    assert [layer.name for layer in model.layers] == ["tokens", "encoder", "decoder"]
    assert isinstance(model.get_layer("encoder"), keras.layers.LSTM)
    assert model.get_layer("encoder").return_sequences
    assert isinstance(model.get_layer("decoder"), AttentionDecoder)
    assert has_attention(model)


def test_names_do_not_depend_on_global_counters() -> None:
    # Building twice in one session gives the same names (no "encoder_1").
    first, second = build_attention(PADDED, units=8), build_attention(PADDED, units=8)
    assert [layer.name for layer in first.layers] == [layer.name for layer in second.layers]


@pytest.mark.parametrize("kind", ["baseline", "attention"])
@pytest.mark.parametrize("problem", [PADDED, UNPADDED], ids=["padded", "unpadded"])
def test_output_shapes(models, kind: str, problem: ProblemConfig) -> None:
    model = models[(kind, problem.pad_target)]
    steps = 5 if problem.pad_target else 2
    assert tuple(model.input_shape) == (None, 5, 7)
    assert tuple(model.output_shape) == (None, steps, 7)
    x = make_batch(problem, 4, np.random.default_rng(0)).x
    y = keras.ops.convert_to_numpy(model(x))
    assert y.shape == (4, steps, 7)
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-5)


def test_models_are_compiled_with_adam_and_crossentropy() -> None:
    model = build_baseline(PADDED, units=8, learning_rate=0.01)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.01)
    assert model.loss == "categorical_crossentropy"


@pytest.mark.parametrize("units", [0, 1025, 8.0])
def test_bad_units_raise(units: object) -> None:
    with pytest.raises(ValueError, match="units"):
        build_attention(PADDED, units=units)  # type: ignore[arg-type]


def test_build_model_unknown_kind() -> None:
    with pytest.raises(ValueError, match="baseline, attention"):
        build_model("transformer", PADDED, units=8)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Predictor


@pytest.mark.parametrize("kind", ["baseline", "attention"])
@pytest.mark.parametrize("problem", [PADDED, UNPADDED], ids=["padded", "unpadded"])
def test_predictor_shapes_and_consistency(models, kind: str, problem: ProblemConfig) -> None:
    model = models[(kind, problem.pad_target)]
    predictor = Predictor(model)
    inputs = make_batch(problem, 6, np.random.default_rng(1)).inputs
    prediction = predictor(inputs)
    steps = problem.target_len
    assert prediction.tokens.shape == (6, steps) and prediction.tokens.dtype == np.int32
    assert prediction.confidence.shape == (6, steps) and prediction.confidence.dtype == np.float32
    assert prediction.probabilities.shape == (6, steps, 7)
    np.testing.assert_allclose(prediction.probabilities.sum(-1), 1.0, atol=1e-5)
    # Confidence is the max probability; tokens are its argmax.
    np.testing.assert_array_equal(prediction.confidence, prediction.probabilities.max(-1))
    np.testing.assert_array_equal(prediction.tokens, prediction.probabilities.argmax(-1))
    # Same numbers as the Keras model itself.
    direct = keras.ops.convert_to_numpy(model(make_batch(problem, 6, np.random.default_rng(1)).x))
    np.testing.assert_allclose(prediction.probabilities, direct, atol=1e-5)
    if kind == "baseline":
        assert prediction.attention is None
    else:
        assert prediction.attention.shape == (6, steps, 5)
        np.testing.assert_allclose(prediction.attention.sum(-1), 1.0, atol=1e-5)
        assert np.all(prediction.attention >= 0)


def test_predictor_accepts_one_sequence_and_rejects_wrong_length(models) -> None:
    predictor = Predictor(models[("attention", True)])
    one = predictor([1, 2, 3, 4, 5])
    assert one.tokens.shape == (1, 5) and one.attention.shape == (1, 5, 5)
    batch = predictor(np.array([[1, 2, 3, 4, 5], [0, 0, 0, 0, 0]]))
    np.testing.assert_allclose(batch.probabilities[0], one.probabilities[0], atol=1e-6)
    with pytest.raises(ValueError, match=r"shape \(batch, 5\)"):
        predictor([1, 2, 3])


# --------------------------------------------------------------------------- scoring


def test_score_on_a_hand_made_example() -> None:
    targets = np.array([[1, 2, 0], [3, 4, 0], [5, 6, 0], [1, 1, 0]])
    predicted = np.array([[1, 2, 0], [3, 9, 0], [5, 6, 1], [1, 1, 0]])
    acc = score(predicted, targets)
    assert isinstance(acc, Accuracy)
    assert acc.exact_match == pytest.approx(0.5)
    assert acc.per_position == pytest.approx((1.0, 0.75, 0.75))
    assert acc.n == 4
    assert acc.to_dict() == {"exact_match": 0.5, "per_position": [1.0, 0.75, 0.75], "n": 4}


def test_score_padded_steps_count_for_exact_match() -> None:
    # The tutorial's metric: a wrong padding step makes the pair wrong.
    acc = score(np.array([[4, 5, 3]]), np.array([[4, 5, 0]]))
    assert acc.exact_match == 0.0
    assert acc.per_position == (1.0, 1.0, 0.0)


def test_score_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError):
        score(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError):
        score(np.zeros(3), np.zeros(3))


@pytest.mark.parametrize("kind", ["baseline", "attention"])
def test_evaluate_on_a_model(models, kind: str) -> None:
    model = models[(kind, True)]
    inputs, targets = fresh_pairs(PADDED, 50, 9)
    acc = evaluate(Predictor(model), inputs, targets, batch_size=16)
    assert acc.n == 50
    assert len(acc.per_position) == 5
    assert 0.0 <= acc.exact_match <= min(acc.per_position) <= 1.0
    # Same as scoring the predictions by hand on the same fresh pairs.
    batch = make_batch(PADDED, 50, np.random.default_rng(9))
    np.testing.assert_array_equal(inputs, batch.inputs)
    manual = score(Predictor(model)(batch.inputs).tokens, batch.targets)
    assert acc == manual
    # Batch size does not matter.
    assert evaluate(Predictor(model), inputs, targets, batch_size=1000) == manual


# --------------------------------------------------------------------------- learning

LEARN_PROBLEM = ProblemConfig(cardinality=10, n_in=5, n_out=2)
# Measured (eval on 500 pairs): after 200 batched updates the attention model is at
# 0.99-1.00 exact match for seeds 0-3 while the baseline is at 0.17-0.24; by 500
# updates the baseline catches up (0.99), so 200 is where attention is clearly ahead.
LEARN_CONFIG = TrainConfig(protocol="batched", seed=0, updates=200, eval_size=500, jit_compile=False)
LEARN_MODEL = ModelConfig(units=32)


@pytest.fixture(scope="module")
def race():
    return train(LEARN_PROBLEM, LEARN_CONFIG, model=LEARN_MODEL)


def test_attention_learns_the_echo_problem(race) -> None:
    assert race.updates_done == 200 and not race.cancelled
    attention = race.accuracy["attention"].exact_match
    assert attention >= 0.9, race.accuracy
    # Every echoed position and every padded position is right too.
    assert min(race.accuracy["attention"].per_position) >= 0.95


def test_attention_clearly_beats_the_baseline(race) -> None:
    attention = race.accuracy["attention"].exact_match
    baseline = race.accuracy["baseline"].exact_match
    assert baseline <= 0.5, race.accuracy
    assert attention - baseline >= 0.4, race.accuracy


def test_trained_models_agree_with_evaluate(race) -> None:
    # The trainer's held-out accuracy is in line with a fresh evaluation.
    inputs, targets = fresh_pairs(LEARN_PROBLEM, 500, 77)
    fresh = evaluate(Predictor(race.models["attention"]), inputs, targets)
    assert fresh.exact_match >= 0.9
    fresh_baseline = evaluate(Predictor(race.models["baseline"]), inputs, targets)
    assert fresh.exact_match - fresh_baseline.exact_match >= 0.4


# --------------------------------------------------------------------------- encoder choice


@pytest.fixture(scope="module")
def bidirectional() -> dict[bool, keras.Model]:
    keras.utils.set_random_seed(0)
    return {problem.pad_target: build_attention(problem, units=8, encoder="bidirectional")
            for problem in (PADDED, UNPADDED)}


def test_bidirectional_encoder_layers(bidirectional) -> None:
    model = bidirectional[True]
    assert [layer.name for layer in model.layers] == ["tokens", "encoder", "decoder"]
    encoder = model.get_layer("encoder")
    assert isinstance(encoder, keras.layers.Bidirectional) and encoder.merge_mode == "concat"
    assert encoder.forward_layer.return_sequences and encoder.backward_layer.go_backwards
    # The decoder attends over forward and backward states side by side: D = 2 * units.
    assert tuple(encoder.output.shape) == (None, 5, 16)
    assert tuple(model.get_layer("decoder").C_o.shape) == (16, 7)
    assert has_attention(model)


@pytest.mark.parametrize("problem", [PADDED, UNPADDED], ids=["padded", "unpadded"])
def test_bidirectional_shapes(bidirectional, problem: ProblemConfig) -> None:
    model = bidirectional[problem.pad_target]
    steps = problem.target_len
    assert tuple(model.output_shape) == (None, steps, 7)
    inputs = make_batch(problem, 4, np.random.default_rng(0)).inputs
    prediction = Predictor(model)(inputs)
    assert prediction.probabilities.shape == (4, steps, 7)
    assert prediction.attention.shape == (4, steps, 5)
    np.testing.assert_allclose(prediction.attention.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(prediction.probabilities.sum(-1), 1.0, atol=1e-5)


def test_unidirectional_is_the_default_and_the_tutorials(models) -> None:
    assert isinstance(build_attention(PADDED, units=8).get_layer("encoder"), keras.layers.LSTM)
    assert isinstance(build_model("attention", PADDED, units=8, encoder="unidirectional").get_layer("encoder"),
                      keras.layers.LSTM)


def test_build_model_passes_the_encoder_to_attention_only() -> None:
    attention = build_model("attention", PADDED, units=8, encoder="bidirectional")
    assert isinstance(attention.get_layer("encoder"), keras.layers.Bidirectional)
    baseline = build_model("baseline", PADDED, units=8, encoder="bidirectional")
    assert isinstance(baseline.get_layer("encoder"), keras.layers.LSTM)  # the baseline stays the tutorial's


@pytest.mark.parametrize("kind", ["attention", "baseline"])
def test_unknown_encoder_raises(kind: str) -> None:
    with pytest.raises(ValueError, match="encoder must be one of unidirectional, bidirectional; got 'sideways'"):
        build_model(kind, PADDED, units=8, encoder="sideways")
