"""The echo problem: ProblemConfig validation, batches, one-hot encoding and decoding."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from seqattn.problem.batches import (
    ProblemBatch,
    batch_from_inputs,
    decode,
    make_batch,
    make_pair,
    one_hot,
    targets_for,
)
from seqattn.problem.config import ProblemConfig

# --------------------------------------------------------------------------- config


def test_defaults_are_the_seed_problem() -> None:
    config = ProblemConfig()
    assert (config.cardinality, config.n_in, config.n_out, config.pad_target) == (50, 5, 2, True)


@pytest.mark.parametrize(
    "cardinality, n_in, n_out",
    [(2, 1, 1), (1000, 100, 100), (1000, 100, 1), (50, 5, 5), (10, 5, 2)],
)
def test_valid_bounds_are_accepted(cardinality: int, n_in: int, n_out: int) -> None:
    config = ProblemConfig(cardinality=cardinality, n_in=n_in, n_out=n_out)
    assert (config.cardinality, config.n_in, config.n_out) == (cardinality, n_in, n_out)


def test_numpy_integers_are_accepted() -> None:
    config = ProblemConfig(cardinality=np.int64(10), n_in=np.int32(5), n_out=np.int16(2))
    assert config.target_len == 5


@pytest.mark.parametrize(
    "kwargs, field, low, high, shown",
    [
        ({"cardinality": 1}, "cardinality", 2, 1000, "1"),
        ({"cardinality": 0}, "cardinality", 2, 1000, "0"),
        ({"cardinality": -5}, "cardinality", 2, 1000, "-5"),
        ({"cardinality": 1001}, "cardinality", 2, 1000, "1001"),
        ({"n_in": 0}, "n_in", 1, 100, "0"),
        ({"n_in": -1, "n_out": 1}, "n_in", 1, 100, "-1"),
        ({"n_in": 101}, "n_in", 1, 100, "101"),
        ({"n_out": 0}, "n_out", 1, 5, "0"),
        ({"n_out": 6}, "n_out", 1, 5, "6"),
        ({"n_in": 3, "n_out": 4}, "n_out", 1, 3, "4"),
    ],
)
def test_out_of_range_values_raise_naming_field_range_and_value(
    kwargs: dict, field: str, low: int, high: int, shown: str
) -> None:
    with pytest.raises(ValueError) as info:
        ProblemConfig(**kwargs)
    message = str(info.value)
    assert message.startswith(field + " ")
    assert f"from {low} to {high}" in message
    assert message.rstrip(".").endswith("got " + shown)


@pytest.mark.parametrize(
    "kwargs, field, low, high, shown",
    [
        ({"cardinality": 10.0}, "cardinality", 2, 1000, "10.0"),
        ({"cardinality": "10"}, "cardinality", 2, 1000, "'10'"),
        ({"cardinality": None}, "cardinality", 2, 1000, "None"),
        ({"cardinality": True}, "cardinality", 2, 1000, "True"),
        ({"n_in": 5.5}, "n_in", 1, 100, "5.5"),
        ({"n_in": "5"}, "n_in", 1, 100, "'5'"),
        ({"n_in": True, "n_out": 1}, "n_in", 1, 100, "True"),
        ({"n_in": np.float64(5.0)}, "n_in", 1, 100, "5.0"),
        ({"n_out": 2.0}, "n_out", 1, 5, "2.0"),
        ({"n_out": False}, "n_out", 1, 5, "False"),
        ({"n_out": True}, "n_out", 1, 5, "True"),
        ({"n_out": [2]}, "n_out", 1, 5, "[2]"),
    ],
)
def test_non_int_types_and_bools_raise_naming_field_range_and_value(
    kwargs: dict, field: str, low: int, high: int, shown: str
) -> None:
    with pytest.raises(ValueError) as info:
        ProblemConfig(**kwargs)
    message = str(info.value)
    assert message.startswith(field + " ")
    assert "whole number" in message
    assert f"from {low} to {high}" in message
    assert shown in message


@pytest.mark.parametrize("value", ["yes", 1, 0, None, "True"])
def test_pad_target_must_be_a_bool(value: object) -> None:
    with pytest.raises(ValueError, match=r"pad_target must be true or false; got") as info:
        ProblemConfig(pad_target=value)
    assert repr(value) in str(info.value)


def test_config_is_frozen() -> None:
    config = ProblemConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.n_in = 7  # type: ignore[misc]


@pytest.mark.parametrize(
    "pad_target, expected", [(True, 7), (False, 3)]
)
def test_target_len(pad_target: bool, expected: int) -> None:
    assert ProblemConfig(cardinality=9, n_in=7, n_out=3, pad_target=pad_target).target_len == expected


@pytest.mark.parametrize(
    "config",
    [ProblemConfig(), ProblemConfig(cardinality=7, n_in=3, n_out=3, pad_target=False)],
)
def test_to_dict_from_dict_round_trip(config: ProblemConfig) -> None:
    data = config.to_dict()
    assert data == {
        "cardinality": config.cardinality,
        "n_in": config.n_in,
        "n_out": config.n_out,
        "pad_target": config.pad_target,
        "task": "echo",
    }
    assert ProblemConfig.from_dict(data) == config
    # JSON-ready and still round-trips through text.
    assert ProblemConfig.from_dict(json.loads(json.dumps(data))) == config


def test_from_dict_partial_uses_defaults() -> None:
    assert ProblemConfig.from_dict({"cardinality": 12}) == ProblemConfig(cardinality=12)


def test_from_dict_unknown_key_raises_naming_the_keys() -> None:
    with pytest.raises(ValueError, match=r"unknown problem setting\(s\): colour, size"):
        ProblemConfig.from_dict({"cardinality": 10, "size": 3, "colour": "red"})


def test_from_dict_validates_values() -> None:
    with pytest.raises(ValueError, match=r"n_out must be from 1 to 5; got 9"):
        ProblemConfig.from_dict({"n_in": 5, "n_out": 9})


# --------------------------------------------------------------------------- batches


@pytest.mark.parametrize("pad_target", [True, False])
def test_make_batch_shapes_and_dtypes(pad_target: bool) -> None:
    config = ProblemConfig(cardinality=11, n_in=6, n_out=3, pad_target=pad_target)
    batch = make_batch(config, 17, np.random.default_rng(0))
    steps = 6 if pad_target else 3
    assert isinstance(batch, ProblemBatch)
    assert batch.inputs.shape == (17, 6) and batch.inputs.dtype == np.int32
    assert batch.targets.shape == (17, steps) and batch.targets.dtype == np.int32
    assert batch.x.shape == (17, 6, 11) and batch.x.dtype == np.float32
    assert batch.y.shape == (17, steps, 11) and batch.y.dtype == np.float32


def test_make_batch_values_cover_the_range_and_stay_in_it() -> None:
    config = ProblemConfig(cardinality=7, n_in=5, n_out=2)
    batch = make_batch(config, 2000, np.random.default_rng(1))
    assert batch.inputs.min() == 0
    assert batch.inputs.max() == 6
    assert set(np.unique(batch.inputs)) == set(range(7))
    # Roughly uniform: every token has about 1/7 of 10,000 draws.
    counts = np.bincount(batch.inputs.ravel(), minlength=7)
    assert counts.min() > 1100 and counts.max() < 1750


def test_make_batch_one_hot_is_correct() -> None:
    config = ProblemConfig(cardinality=13, n_in=5, n_out=2)
    batch = make_batch(config, 50, np.random.default_rng(2))
    for arr, ints in ((batch.x, batch.inputs), (batch.y, batch.targets)):
        assert set(np.unique(arr)) <= {0.0, 1.0}
        np.testing.assert_array_equal(arr.sum(axis=-1), 1.0)
        np.testing.assert_array_equal(arr.argmax(axis=-1), ints)
        b, t = np.indices(ints.shape)
        assert np.all(arr[b, t, ints] == 1.0)


def test_padded_targets_echo_the_prefix_then_zeros() -> None:
    config = ProblemConfig(cardinality=50, n_in=5, n_out=2, pad_target=True)
    batch = make_batch(config, 64, np.random.default_rng(3))
    np.testing.assert_array_equal(batch.targets[:, :2], batch.inputs[:, :2])
    np.testing.assert_array_equal(batch.targets[:, 2:], 0)
    # The padded steps are the one-hot of token 0.
    np.testing.assert_array_equal(batch.y[:, 2:, 0], 1.0)
    np.testing.assert_array_equal(batch.y[:, 2:, 1:], 0.0)


def test_unpadded_targets_are_exactly_the_prefix() -> None:
    config = ProblemConfig(cardinality=50, n_in=5, n_out=3, pad_target=False)
    batch = make_batch(config, 64, np.random.default_rng(4))
    assert batch.targets.shape == (64, 3)
    np.testing.assert_array_equal(batch.targets, batch.inputs[:, :3])


def test_the_spec_example() -> None:
    config = ProblemConfig()
    assert targets_for(np.array([[12, 20, 36, 40, 12]]), config).tolist() == [[12, 20, 0, 0, 0]]
    unpadded = ProblemConfig(pad_target=False)
    assert targets_for(np.array([[12, 20, 36, 40, 12]]), unpadded).tolist() == [[12, 20]]
    batch = batch_from_inputs(np.array([[12, 20, 36, 40, 12]]), config)
    assert decode(batch.y).tolist() == [[12, 20, 0, 0, 0]]


def test_same_seed_same_batches() -> None:
    config = ProblemConfig(cardinality=20, n_in=6, n_out=2)
    a, b = np.random.default_rng(42), np.random.default_rng(42)
    for _ in range(3):
        first, second = make_batch(config, 8, a), make_batch(config, 8, b)
        for name in ("inputs", "targets", "x", "y"):
            np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


def test_different_seeds_differ_and_successive_batches_differ() -> None:
    config = ProblemConfig(cardinality=20, n_in=6, n_out=2)
    rng = np.random.default_rng(0)
    first, second = make_batch(config, 8, rng), make_batch(config, 8, rng)
    other = make_batch(config, 8, np.random.default_rng(1))
    assert not np.array_equal(first.inputs, second.inputs)
    assert not np.array_equal(first.inputs, other.inputs)


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True])
def test_make_batch_rejects_bad_batch_size(batch_size: object) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        make_batch(ProblemConfig(), batch_size, np.random.default_rng(0))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- encoding


def test_one_hot_values() -> None:
    encoded = one_hot(np.array([[0, 3, 1]]), 4)
    assert encoded.dtype == np.float32 and encoded.shape == (1, 3, 4)
    np.testing.assert_array_equal(
        encoded[0], [[1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]]
    )


def test_decode_inverts_one_hot() -> None:
    values = np.random.default_rng(5).integers(0, 30, size=(7, 9))
    decoded = decode(one_hot(values, 30))
    assert decoded.dtype == np.int32
    np.testing.assert_array_equal(decoded, values)


def test_decode_takes_the_argmax_of_probabilities() -> None:
    probabilities = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    assert decode(probabilities).tolist() == [1, 0]


# --------------------------------------------------------------------------- pairs


@pytest.mark.parametrize("pad_target", [True, False])
def test_make_pair(pad_target: bool) -> None:
    config = ProblemConfig(cardinality=9, n_in=6, n_out=2, pad_target=pad_target)
    source, target = make_pair(config, np.random.default_rng(6))
    assert isinstance(source, list) and isinstance(target, list)
    assert all(type(v) is int for v in source + target)
    assert len(source) == 6 and all(0 <= v < 9 for v in source)
    expected = source[:2] + ([0] * 4 if pad_target else [])
    assert target == expected
    # Same seed, same pair.
    assert make_pair(config, np.random.default_rng(6)) == (source, target)
