"""Training to a threshold within a cap: each model stops once its held-out exact match reaches it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from seqattn.evaluation.held_out import HeldOutScores
from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.training.config import TrainConfig
from seqattn.training.loop import run_loop
from seqattn.training.progress import ProgressReporter
from seqattn.training.session import train
from seqattn.training.until import ModelsInTraining, ModelStop, UntilThreshold

TARGETS = np.array([[1, 2], [3, 4], [0, 1], [2, 2]])
EVAL_EVERY = 10


class Learner:
    """A predictor whose answers are right once its model has had ``learns_after`` updates (wrong before)."""

    def __init__(self, learns_after: float) -> None:
        self.learns_after = learns_after
        self.updates = 0
        self.calls = 0

    def __call__(self, inputs: np.ndarray) -> SimpleNamespace:
        self.calls += 1
        right = self.updates >= self.learns_after
        return SimpleNamespace(tokens=TARGETS[: len(inputs)] if right else (TARGETS[: len(inputs)] + 1) % 5,
                               attention=None)


class FakeSetup:
    """Two models whose update counts their updates; ``step_of`` narrows the step to some of them."""

    def __init__(self, learners: dict[str, Learner]) -> None:
        self.learners = learners
        self.names = tuple(learners)
        self.narrowed: list[tuple[str, ...]] = []

    def step_of(self, names: tuple[str, ...], jit_compile: bool):
        self.narrowed.append(names)

        def step(x, y):
            for name in names:
                self.learners[name].updates += 1
            return np.full(len(names), 0.5, dtype=np.float32)

        return step

    def update(self, x, y):
        return self.step_of(self.names, False)(x, y)


def run_until(learns: dict[str, float], cap: int, threshold: float = 0.95, stop=None):
    learners = {name: Learner(after) for name, after in learns.items()}
    setup = FakeSetup(learners)
    setup.update = setup.step_of(setup.names, False)  # the full step, as a TrainingSetup's
    setup.narrowed.clear()
    scores = HeldOutScores(learners, np.zeros((4, 3), dtype=int), TARGETS, 2)
    training = ModelsInTraining(setup, jit_compile=False)
    until = UntilThreshold(scores, training, threshold)
    reporter = ProgressReporter(setup.names, cap, 1, EVAL_EVERY, [scores], None, EVAL_EVERY)
    state = run_loop(training.update, lambda: (None, None), cap, len(learns), (reporter, until), stop)
    return state, until, learners, setup


def test_a_model_at_the_threshold_stops_and_the_run_ends_when_both_have():
    state, until, learners, setup = run_until({"baseline": 35, "attention": 12}, cap=100)
    # Attention is right from its 12th update, seen at the evaluation after update 20; the baseline at 40.
    assert until.stops["attention"].reached == 20 and until.stops["attention"].updates == 20
    assert until.stops["baseline"].reached == 40 and until.stops["baseline"].updates == 40
    assert state.update == 40 and not state.cancelled and state.finished, "both stopped: the run ends before the cap"
    assert learners["attention"].updates == 20, "a stopped model gets no more updates"
    assert learners["baseline"].updates == 40
    assert setup.narrowed == [("baseline",)], "once attention stopped, a step of the baseline alone"
    losses = state.losses
    assert np.isnan(losses[20:, 1]).all() and not np.isnan(losses[:20, 1]).any(), "no loss once stopped"
    assert not np.isnan(losses[:, 0]).any()
    assert list(until.stops) == ["baseline", "attention"], "in the models' order"


def test_a_stopped_model_is_not_evaluated_again():
    _, _, learners, _ = run_until({"baseline": 35, "attention": 12}, cap=100)
    # Evaluations at 10, 20 (attention stops), 30, 40 (the baseline stops) and the final one, which
    # reports both models' last scores again.
    assert learners["attention"].calls == 2
    assert learners["baseline"].calls == 4


def test_a_model_that_never_gets_there_is_recorded_as_not_reached_at_the_cap():
    state, until, learners, _ = run_until({"baseline": 1e9, "attention": 5}, cap=60)
    assert until.stops["baseline"] == ModelStop(None, 60, state.elapsed)
    assert until.stops["attention"].reached == 10
    assert state.update == 60 and not state.finished, "the baseline trained to the cap"


def test_reaching_it_on_the_last_update_counts():
    # Right from update 55: only the final evaluation, at the cap, sees it.
    _, until, _, _ = run_until({"baseline": 55, "attention": 55}, cap=55)
    assert until.stops["baseline"].reached == 55 and until.stops["attention"].reached == 55


def test_a_cancelled_run_records_no_model_as_reached():
    calls = iter(range(1000))
    state, until, _, _ = run_until({"baseline": 1e9, "attention": 1e9}, cap=100, stop=lambda: next(calls) >= 25)
    assert state.cancelled and state.update == 25
    assert {s.reached for s in until.stops.values()} == {None}
    assert {s.updates for s in until.stops.values()} == {25}


def test_until_is_optional_checked_and_stored():
    assert TrainConfig().until is None and TrainConfig().threshold is None
    config = TrainConfig(until=95)
    assert config.threshold == pytest.approx(0.95)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert TrainConfig.from_dict({k: v for k, v in config.to_dict().items() if k != "until"}).until is None
    for bad in (0, 101, 95.5, "95"):
        with pytest.raises(ValueError, match="until must be"):
            TrainConfig(until=bad)


TINY = ProblemConfig(cardinality=5, n_in=4, n_out=2)
TINY_MODEL = ModelConfig(units=16)


def tiny_config(**changes) -> TrainConfig:
    return TrainConfig(protocol="batched", updates=400, batch_size=32, learning_rate=2e-2, seed=1, eval_every=20,
                       eval_size=200, jit_compile=False, **changes)


@pytest.fixture(scope="module")
def both_ways():
    """The same tiny training with and without a threshold."""
    return train(TINY, tiny_config(), model=TINY_MODEL), train(TINY, tiny_config(until=90), model=TINY_MODEL)


def test_a_real_training_stops_each_model_at_the_threshold(both_ways):
    full, until = both_ways
    assert full.stops == {} and not np.isnan(full.losses).any()
    stops = until.stops
    assert set(stops) == {"baseline", "attention"}
    for i, name in enumerate(until.names):
        stop = stops[name]
        assert stop.reached is not None and stop.reached % 20 == 0, stop
        assert until.accuracy[name].exact_match >= 0.9, "it stopped because it got there"
        # Until then, the very updates of the run without a threshold; after, no loss.
        np.testing.assert_array_equal(until.losses[: stop.updates, i], full.losses[: stop.updates, i])
        assert np.isnan(until.losses[stop.updates :, i]).all()
    assert until.updates_done == max(s.updates for s in stops.values()) < 400
    final = until.reports[-1]
    assert final.final and set(final.accuracy) == {"baseline", "attention"}
