"""TrainConfig validation, and train(): progress, learning, cancel, determinism, shared data."""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pytest

from seqattn.training import setup as training
from seqattn.model.config import ModelConfig, model_config_of
from seqattn.problem.config import ProblemConfig
from seqattn.problem.batches import make_batch, targets_for
from seqattn.evaluation.scoring import alignment_score
from seqattn.training.config import PROTOCOL_DEFAULTS, TrainConfig
from seqattn.training.data import DataStream
from seqattn.training.progress import Progress
from seqattn.training.session import train

TINY = ProblemConfig(cardinality=6, n_in=4, n_out=2)
SMALL_MODEL = ModelConfig(units=16)

# --------------------------------------------------------------------------- TrainConfig


@pytest.mark.parametrize("protocol", ["tutorial", "batched"])
def test_defaults_resolved_per_protocol(protocol: str) -> None:
    config = TrainConfig(protocol=protocol)
    updates, batch_size, learning_rate, eval_every = PROTOCOL_DEFAULTS[protocol]
    assert config.updates == updates
    assert config.batch_size == batch_size
    assert config.learning_rate == learning_rate and isinstance(config.learning_rate, float)
    assert config.eval_every == eval_every


def test_protocol_defaults_are_the_documented_ones() -> None:
    assert PROTOCOL_DEFAULTS["tutorial"] == (5000, 1, 1e-3, 250)
    assert set(PROTOCOL_DEFAULTS) == {"tutorial", "batched"}
    assert TrainConfig().protocol == "tutorial"
    assert TrainConfig().batch_size == 1


def test_explicit_values_override_defaults() -> None:
    config = TrainConfig(protocol="batched", updates=7, batch_size=3, learning_rate=0.5, eval_every=2)
    assert (config.updates, config.batch_size, config.learning_rate, config.eval_every) == (7, 3, 0.5, 2)
    # An int learning rate becomes a float.
    assert TrainConfig(learning_rate=1).learning_rate == 1.0


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"protocol": "fast"}, r"^protocol must be one of tutorial, batched; got 'fast'"),
        ({"protocol": None}, r"^protocol must be one of tutorial, batched; got None"),
        ({"protocol": "tutorial", "batch_size": 2}, r"^batch_size must be 1 with the tutorial protocol.*got 2"),
        ({"learning_rate": 0}, r"^learning_rate must be a number above 0 and at most 1; got 0"),
        ({"learning_rate": 0.0}, r"^learning_rate must be a number above 0 and at most 1; got 0\.0"),
        ({"learning_rate": -0.01}, r"^learning_rate must be a number above 0 and at most 1; got -0\.01"),
        ({"learning_rate": float("nan")}, r"^learning_rate must be a number above 0 and at most 1; got nan"),
        ({"learning_rate": float("inf")}, r"^learning_rate must be a number above 0 and at most 1; got inf"),
        ({"learning_rate": 1.5}, r"^learning_rate must be a number above 0 and at most 1; got 1\.5"),
        ({"learning_rate": "0.01"}, r"^learning_rate must be a number.*got '0\.01'"),
        ({"learning_rate": True}, r"^learning_rate must be a number.*got True"),
        ({"updates": 0}, r"^updates must be from 1 to 1000000; got 0"),
        ({"updates": -5}, r"^updates must be from 1 to 1000000; got -5"),
        ({"updates": 2.5}, r"^updates must be a whole number from 1 to 1000000; got 2\.5"),
        ({"eval_size": 0}, r"^eval_size must be from 1 to 100000; got 0"),
        ({"eval_every": 0}, r"^eval_every must be from 1 to 1000000; got 0"),
        ({"protocol": "batched", "batch_size": 0}, r"^batch_size must be from 1 to 4096; got 0"),
        ({"protocol": "batched", "batch_size": 5000}, r"^batch_size must be from 1 to 4096; got 5000"),
        ({"seed": -1}, r"^seed must be from 0 to 2147483647; got -1"),
    ],
)
def test_invalid_values_raise_clear_messages(kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        TrainConfig(**kwargs)


@pytest.mark.parametrize(
    "units, pattern",
    [(0, r"^units must be from 1 to 1024; got 0"), (2048, r"^units must be from 1 to 1024; got 2048"),
     (8.5, r"^units must be a whole number from 1 to 1024; got 8\.5")],
)
def test_model_size_lives_in_model_config_with_its_range(units, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        ModelConfig(units=units)
    with pytest.raises(TypeError):
        TrainConfig(units=16)  # type: ignore[call-arg]  (the recipe no longer holds the model's size)


def test_runs_saved_before_model_config_still_load() -> None:
    legacy = {"kind": "train", "train": {"protocol": "batched", "units": 32, "updates": 10}}
    assert TrainConfig.from_dict(legacy["train"]) == TrainConfig(protocol="batched", updates=10)
    assert model_config_of(legacy) == ModelConfig(units=32)
    assert model_config_of({"train": {}}) == ModelConfig()
    assert model_config_of({"model": {"units": 8}, "train": {"units": 32}}) == ModelConfig(units=8)
    with pytest.raises(ValueError, match="unknown model setting"):
        model_config_of({"model": {"layers": 3}})


def test_batched_accepts_any_batch_size_tutorial_only_one() -> None:
    assert TrainConfig(protocol="batched", batch_size=1).batch_size == 1
    assert TrainConfig(protocol="tutorial", batch_size=1).batch_size == 1


@pytest.mark.parametrize(
    "config",
    [TrainConfig(), TrainConfig(protocol="batched", updates=10, seed=3, eval_size=5, jit_compile=False)],
)
def test_to_dict_from_dict_round_trip(config: TrainConfig) -> None:
    data = config.to_dict()
    assert data["updates"] is not None and data["batch_size"] is not None  # resolved
    assert TrainConfig.from_dict(data) == config
    assert TrainConfig.from_dict(json.loads(json.dumps(data))) == config


def test_from_dict_unknown_key() -> None:
    with pytest.raises(ValueError, match=r"unknown training setting\(s\): epochs"):
        TrainConfig.from_dict({"protocol": "batched", "epochs": 3})


# --------------------------------------------------------------------------- alignment_score


def test_alignment_score_perfect_diagonal_is_one() -> None:
    attention = np.zeros((3, 5, 5))
    attention[:, np.arange(5), np.arange(5)] = 1.0
    assert alignment_score(attention, 2) == pytest.approx(1.0)
    assert alignment_score(attention, 5) == pytest.approx(1.0)


def test_alignment_score_uniform_is_one_over_n_in() -> None:
    attention = np.full((2, 5, 5), 1 / 5)
    assert alignment_score(attention, 2) == pytest.approx(1 / 5)
    attention = np.full((2, 2, 8), 1 / 8)  # unpadded target: 2 steps over 8 inputs
    assert alignment_score(attention, 2) == pytest.approx(1 / 8)


def test_alignment_score_only_counts_echoed_steps() -> None:
    attention = np.full((1, 4, 4), 0.25)
    attention[0, 0] = [1, 0, 0, 0]
    attention[0, 1] = [0, 0.5, 0.5, 0]
    attention[0, 3] = [1, 0, 0, 0]  # padded step: ignored with n_out=2
    assert alignment_score(attention, 2) == pytest.approx(0.75)
    # Anti-diagonal attention scores 0.
    anti = np.zeros((1, 3, 3))
    anti[0, np.arange(3), 2 - np.arange(3)] = 1
    assert alignment_score(anti, 1) == 0.0


# --------------------------------------------------------------------------- DataStream


def _drain(stream: DataStream, n: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    return [tuple(a.copy() for a in stream.next()) for _ in range(n)]


def test_data_stream_is_deterministic_and_consistent() -> None:
    first = _drain(DataStream(TINY, 3, seed=5, chunk=4), 10)  # crosses chunk boundaries
    second = _drain(DataStream(TINY, 3, seed=5, chunk=4), 10)
    other = _drain(DataStream(TINY, 3, seed=6, chunk=4), 10)
    for (i1, x1, y1), (i2, x2, y2) in zip(first, second):
        np.testing.assert_array_equal(i1, i2)
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(first, other))
    for inputs, x, y in first:
        assert inputs.shape == (3, 4) and x.shape == (3, 4, 6) and y.shape == (3, 4, 6)
        np.testing.assert_array_equal(x.argmax(-1), inputs)
        np.testing.assert_array_equal(y.argmax(-1), targets_for(inputs, TINY))
    # Successive batches are fresh pairs.
    assert len({a[0].tobytes() for a in first}) == 10


def test_data_stream_chunking_does_not_change_the_stream() -> None:
    chunked = np.concatenate([b[0] for b in _drain(DataStream(TINY, 2, seed=1, chunk=3), 6)])
    whole = np.concatenate([b[0] for b in _drain(DataStream(TINY, 2, seed=1, chunk=6), 6)])
    np.testing.assert_array_equal(chunked, whole)
    # ... and it is the seeded generator's own sequence of pairs.
    np.testing.assert_array_equal(whole, make_batch(TINY, 12, np.random.default_rng(1)).inputs)


def test_data_stream_memory_is_bounded_for_the_largest_problem() -> None:
    # ProblemConfig allows K=1000, n_in=100 and TrainConfig batch sizes up to 4096.
    # One batch of one pair is 0.8 MB of one-hot x and y; drawing it must not
    # allocate hundreds of MB (the stream pre-draws a fixed 256 batches, so at
    # batch_size=32 this would be ~6.7 GB, at 4096 ~850 GB).
    import tracemalloc

    stream = DataStream(ProblemConfig(cardinality=1000, n_in=100, n_out=2), 1, seed=0)
    tracemalloc.start()
    try:
        _, x, y = stream.next()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert x.nbytes + y.nbytes == 800_000
    assert peak < 64e6, f"one next() of a 0.8 MB batch allocated {peak / 1e6:.0f} MB"


# --------------------------------------------------------------------------- train()


def small_config(**overrides) -> TrainConfig:
    values = dict(protocol="batched", updates=120, eval_every=40, eval_size=64, seed=0)
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def batched_run():
    """Default XLA path, both models, a report every 10 updates."""
    events: list[Progress] = []
    result = train(TINY, model=SMALL_MODEL, config=small_config(learning_rate=1e-2), on_progress=events.append, report_every=10)
    return result, events


@pytest.fixture(scope="module")
def tutorial_run():
    events: list[Progress] = []
    # Without XLA: batched_run covers the XLA path, and compiling another step costs seconds.
    config = TrainConfig(protocol="tutorial", updates=400, eval_every=100, eval_size=64, seed=0, jit_compile=False)
    result = train(TINY, config, model=SMALL_MODEL, on_progress=events.append)
    return result, events


def _check_events(events: list[Progress], result: training.TrainResult, config_total: int) -> None:
    assert events, "no progress reported"
    assert events == result.reports
    assert events[-1].final and not any(e.final for e in events[:-1])
    updates = [e.update for e in events]
    # Non-final reports come at strictly increasing updates; the final one is last.
    assert all(a < b for a, b in zip(updates[:-1], updates[1:-1]))
    assert len(updates) == 1 or updates[-1] >= updates[-2]
    assert updates[-1] == result.updates_done
    elapsed = [e.elapsed for e in events]
    assert all(a <= b for a, b in zip(elapsed, elapsed[1:]))
    assert elapsed[0] >= 0
    names = set(result.names)
    for e in events:
        assert e.total == config_total
        assert 0 < e.update <= e.total
        assert set(e.loss) == names and set(e.smoothed) == names
        assert all(math.isfinite(v) and v >= 0 for v in list(e.loss.values()) + list(e.smoothed.values()))
        if e.accuracy is not None:
            assert set(e.accuracy) == names
            assert all(0.0 <= v <= 1.0 for v in e.accuracy.values())
            assert all(len(v) == TINY.target_len and all(0 <= p <= 1 for p in v) for v in e.per_position.values())
            if "attention" in names:
                assert 0.0 <= e.alignment <= 1.0
                matrix = np.array(e.attention)
                assert matrix.shape == (TINY.target_len, TINY.n_in)
                np.testing.assert_allclose(matrix.sum(-1), 1.0, atol=1e-4)
                assert np.all(matrix >= 0)
        json.dumps(e.to_dict())
    assert events[-1].accuracy is not None


def test_progress_events_in_order_with_sane_values(batched_run) -> None:
    result, events = batched_run
    _check_events(events, result, 120)
    # Reports every 10 updates, an evaluation every 40 (not at the very end: the
    # final report carries it), then the final report.
    assert [e.update for e in events[:-1]] == list(range(10, 121, 10))
    assert [e.update for e in events if e.accuracy is not None and not e.final] == [40, 80]
    assert all(e.samples == e.update * 32 for e in events)
    # A report's loss is the mean over the updates since the previous report.
    np.testing.assert_allclose(
        [events[1].loss[n] for n in result.names], result.losses[10:20].mean(axis=0), rtol=1e-5
    )


def test_result_fields(batched_run) -> None:
    result, events = batched_run
    assert result.names == ("baseline", "attention")
    assert set(result.models) == {"baseline", "attention"}
    assert result.losses.shape == (120, 2) and result.losses.dtype == np.float32
    assert np.all(np.isfinite(result.losses))
    assert result.updates_done == 120 and not result.cancelled
    assert result.elapsed == events[-1].elapsed > 0
    assert set(result.accuracy) == {"baseline", "attention"}
    assert all(a.n == 64 for a in result.accuracy.values())
    assert events[-1].accuracy == {n: a.exact_match for n, a in result.accuracy.items()}
    assert len(result.probe) == TINY.n_in and all(0 <= v < TINY.cardinality for v in result.probe)


def _first_vs_last(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fifth = len(losses) // 5
    return losses[:fifth].mean(axis=0), losses[-fifth:].mean(axis=0)


def test_loss_falls_batched(batched_run) -> None:
    result, _ = batched_run
    first, last = _first_vs_last(result.losses)
    # Measured: first ~[1.32, 1.31], last ~[0.73, 0.13] (baseline, attention).
    assert np.all(last < 0.8 * first), (first, last)


def test_loss_falls_tutorial(tutorial_run) -> None:
    result, events = tutorial_run
    assert result.losses.shape == (400, 2)
    _check_events(events, result, 400)
    assert all(e.samples == e.update for e in events)  # batch size 1
    first, last = _first_vs_last(result.losses)
    # Measured: first ~[1.53, 1.69], last ~[0.97, 0.81].
    assert np.all(last < 0.8 * first), (first, last)


def test_same_seed_identical_loss_history() -> None:
    # Without XLA (a second XLA run costs a compile); the same holds with XLA: tests/test_warm_worker.py
    # pins a cold XLA training against a prepared one, bit for bit.
    config = small_config(learning_rate=1e-2, updates=40, jit_compile=False)
    first, again = (train(TINY, model=SMALL_MODEL, config=config) for _ in range(2))
    np.testing.assert_allclose(again.losses, first.losses, rtol=0, atol=1e-6)
    assert again.probe == first.probe
    assert {n: a.exact_match for n, a in again.accuracy.items()} == {n: a.exact_match for n, a in first.accuracy.items()}


def test_different_seed_different_loss_history(batched_run) -> None:
    first, _ = batched_run
    other = train(TINY, model=SMALL_MODEL, config=small_config(learning_rate=1e-2, updates=20, seed=1, jit_compile=False))
    assert not np.allclose(other.losses, first.losses[:20], atol=1e-3)


@pytest.mark.parametrize("use_event", [True, False], ids=["event", "callable"])
def test_cancel_stops_within_one_update(use_event: bool) -> None:
    stop = threading.Event()
    requested_at: list[int] = []
    events: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        events.append(progress)
        if progress.update >= 7 and not stop.is_set():
            requested_at.append(progress.update)
            stop.set()

    result = train(
        TINY,
        small_config(updates=200, eval_every=50, jit_compile=False),
        model=SMALL_MODEL,
        on_progress=on_progress,
        stop=stop if use_event else stop.is_set,
        report_every=1,
    )
    assert requested_at == [7]
    assert result.cancelled is True
    assert requested_at[0] <= result.updates_done <= requested_at[0] + 1
    assert result.losses.shape == (result.updates_done, 2)
    assert np.all(np.isfinite(result.losses)) and np.all(result.losses > 0)
    assert events[-1].final and events[-1].update == result.updates_done
    assert events[-1].total == 200
    assert sum(e.final for e in events) == 1
    assert set(result.accuracy) == {"baseline", "attention"}


def test_stop_before_start_gives_empty_history() -> None:
    stop = threading.Event()
    stop.set()
    events: list[Progress] = []
    result = train(TINY, model=SMALL_MODEL, config=small_config(updates=50, jit_compile=False), stop=stop,
                   on_progress=events.append)
    assert result.cancelled and result.updates_done == 0
    assert result.losses.shape == (0, 2)
    assert len(events) == 1 and events[0].final and events[0].update == 0


def test_train_rejects_unknown_model_names() -> None:
    with pytest.raises(ValueError, match="baseline, attention"):
        train(TINY, model=SMALL_MODEL, config=small_config(updates=1), names=("transformer",))
    with pytest.raises(ValueError):
        train(TINY, model=SMALL_MODEL, config=small_config(updates=1), names=())


# --------------------------------------------------------------------------- shared data


@pytest.fixture
def record_batches(monkeypatch: pytest.MonkeyPatch):
    """Record the (x, y) of every update the trainer runs."""
    fed: list[tuple[np.ndarray, np.ndarray]] = []
    original = training.make_update_step

    def recording_make_update_step(*args, **kwargs):
        step = original(*args, **kwargs)

        def recorded(x, y):
            fed.append((np.array(x), np.array(y)))
            return step(x, y)

        return recorded

    monkeypatch.setattr(training, "make_update_step", recording_make_update_step)
    return fed


def test_both_models_see_the_same_pairs(record_batches) -> None:
    config = small_config(updates=30, batch_size=8, jit_compile=False)
    runs = {}
    for names in (("baseline", "attention"), ("baseline",), ("attention",)):
        record_batches.clear()
        runs[names] = (train(TINY, config, model=SMALL_MODEL, names=names), [b for b in record_batches])
    joint_result, joint_fed = runs[("baseline", "attention")]
    # The joint run is fed exactly the seeded DataStream, batch after batch ...
    expected = DataStream(TINY, 8, seed=config.seed)
    for update, (x, y) in enumerate(joint_fed):
        _, want_x, want_y = expected.next()
        np.testing.assert_array_equal(x, want_x, err_msg=f"update {update}")
        np.testing.assert_array_equal(y, want_y, err_msg=f"update {update}")
    # ... and each model trained alone is fed the very same batches.
    for names, (result, fed) in runs.items():
        assert len(fed) == 30, names
        assert result.losses.shape == (30, len(names))
        for update, ((x, y), (jx, jy)) in enumerate(zip(fed, joint_fed)):
            np.testing.assert_array_equal(x, jx, err_msg=f"{names} update {update}")
            np.testing.assert_array_equal(y, jy, err_msg=f"{names} update {update}")
    # The baseline, trained alone or racing the attention model, follows the same
    # loss history: same data, same initial weights (it is built first either way).
    baseline_alone = runs[("baseline",)][0].losses[:, 0]
    np.testing.assert_allclose(joint_result.losses[:, 0], baseline_alone, rtol=0, atol=1e-5)


def test_weights_depend_on_the_seed_alone_whatever_other_threads_draw() -> None:
    # Each initializer has its seed from the training's own generator: a thread drawing from
    # Python's global `random` meanwhile (a Dask worker's event loop does) changes nothing.
    import random

    from seqattn.training.setup import build_models

    config = small_config(seed=4)
    quiet = build_models(TINY, config, ("baseline", "attention"), SMALL_MODEL)
    stop = threading.Event()

    def draw() -> None:
        while not stop.is_set():
            random.random()

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        busy = build_models(TINY, config, ("baseline", "attention"), SMALL_MODEL)
    finally:
        stop.set()
        thread.join()
    for name in quiet:
        assert all(np.array_equal(a, b) for a, b in zip(quiet[name].get_weights(), busy[name].get_weights())), name
    other = build_models(TINY, small_config(seed=5), ("attention",), SMALL_MODEL)["attention"].get_weights()
    assert not all(np.array_equal(a, b) for a, b in zip(quiet["attention"].get_weights(), other))
