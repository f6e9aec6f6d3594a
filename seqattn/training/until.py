"""Train until a threshold: each model stops once its held-out exact match reaches it, within a cap.

:class:`ModelsInTraining` is the loop's update function: one traced step of the models still
training, and NaN as the loss of a model that has stopped (its weights no longer change).
:class:`UntilThreshold` is the loop callback that stops them: after every evaluation, each model
at or above the threshold stops; once every model has stopped, the loop is finished. A model
that never gets there trains to the cap (the recipe's ``updates``) and is recorded as not reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import numpy as np

from seqattn.evaluation.held_out import HeldOutScores
from seqattn.training.loop import LoopState


@dataclass(frozen=True)
class ModelStop:
    """How one model's training to a threshold ended.

    Attributes:
        reached: the update of the first evaluation at or above the threshold, or None
            (not reached within the cap, or the run was cancelled first).
        updates: updates this model trained (``reached``, or the cap, or where a cancel stopped it).
        seconds: wall seconds of training until this model stopped (the models train side by
            side in one step until one stops, so this counts the other models' work too).
    """

    reached: int | None
    updates: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"reached": self.reached, "updates": self.updates, "seconds": round(self.seconds, 3)}


class ModelsInTraining:
    """The update of the models still training, for :func:`~seqattn.training.loop.run_loop`.

    Args:
        setup: the :class:`~seqattn.training.setup.TrainingSetup` (its step trains every model).
        jit_compile: compile the narrower step traced once a model stops, as the recipe says.
    """

    def __init__(self, setup: Any, jit_compile: bool) -> None:
        self.setup = setup
        self.names: tuple[str, ...] = setup.names
        self.active: list[str] = list(self.names)
        self.jit_compile = jit_compile
        self._step: Callable[[np.ndarray, np.ndarray], np.ndarray] = setup.update
        self._columns = list(range(len(self.names)))

    def update(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """One update of the active models: losses (n_models,) float32, NaN for a stopped model."""
        losses = np.full(len(self.names), np.nan, dtype=np.float32)
        if self.active:
            losses[self._columns] = self._step(x, y)
        return losses

    def stop(self, name: str) -> None:
        """Stop training ``name``; the others go on with a step of their own (traced on its first use)."""
        self.active.remove(name)
        self._columns = [self.names.index(n) for n in self.active]
        if self.active:
            self._step = self.setup.step_of(tuple(self.active), self.jit_compile)


class UntilThreshold:
    """A loop callback: stop each model once its held-out exact match reaches ``threshold``.

    Args:
        scores: the run's held-out scores (evaluated by the progress reporter, which the loop
            must call before this callback).
        models: the :class:`ModelsInTraining` whose models it stops.
        threshold: exact match in (0, 1].

    After the loop, :attr:`stops` holds a :class:`ModelStop` per model.
    """

    def __init__(self, scores: HeldOutScores, models: ModelsInTraining, threshold: float) -> None:
        self.scores = scores
        self.models = models
        self.threshold = threshold
        self.stops: dict[str, ModelStop] = {}
        self._seen = scores.evaluations

    def _check(self, state: LoopState) -> None:
        if self.scores.evaluations == self._seen:
            return  # no evaluation since the last look
        self._seen = self.scores.evaluations
        for name in list(self.models.active):
            accuracy = self.scores.accuracy.get(name)
            if accuracy is not None and accuracy.exact_match >= self.threshold:
                self.stops[name] = ModelStop(state.update, state.update, state.elapsed)
                self.models.stop(name)
                self.scores.freeze(name)

    def on_update(self, state: LoopState) -> None:
        self._check(state)
        if not self.models.active:
            state.finished = True

    def on_end(self, state: LoopState) -> None:
        if not state.cancelled:
            self._check(state)  # the final evaluation, at the cap, counts too
        for name in list(self.models.active):
            self.stops[name] = ModelStop(None, state.update, state.elapsed)
        self.stops = {name: self.stops[name] for name in self.models.names}
