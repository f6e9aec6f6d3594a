"""One training of the named models on one shared stream of echo pairs: :func:`train`.

It puts the pieces together: a training setup (made here, or handed in ready), the data
stream, the loop, and the callbacks that evaluate on the held-out set, probe the attention
and report progress. The update is one traced (optionally XLA-compiled) ``tf.function``
doing an optimizer step of every model on the same batch, so the models race on identical data.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol
from collections.abc import Callable

import numpy as np

from seqattn.evaluation.held_out import AttentionProbe, HeldOutScores
from seqattn.evaluation.scoring import Accuracy
from seqattn.model.config import ModelConfig
from seqattn.model.registry import MODEL_NAMES
from seqattn.problem.config import ProblemConfig
from seqattn.training.config import TrainConfig
from seqattn.training.data import DataStream, held_out_set
from seqattn.training.loop import Callback, run_loop
from seqattn.training.progress import Progress, ProgressReporter
from seqattn.training.setup import TrainingSetup, build_setup
from seqattn.training.until import ModelsInTraining, ModelStop, UntilThreshold

class SetupSource(Protocol):
    """Where a job's training setup may come from, other than building it (:mod:`seqattn.speed` has two).

    ``take`` returns a setup made for exactly this job (fresh weights for its seed, optimizers at
    step 0) or None (build it yourself); ``give_back`` hands a finished job's setup back, which a
    source may reuse for the next job of the same shapes. Sources are picklable, so one can travel
    with a sweep cell to a Dask worker.
    """

    def take(self, problem: ProblemConfig, config: TrainConfig, model: ModelConfig,
             names: tuple[str, ...]) -> TrainingSetup | None: ...

    def give_back(self, setup: TrainingSetup) -> None: ...


# About this many loss reports per run unless the caller asks otherwise.
REPORTS_PER_RUN = 400


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
        models: the trained Keras models by name.
        losses: float32 (updates_done, n_models), the loss of every update, columns
            in the order of ``names``.
        names: model names, the column order of ``losses``.
        reports: every :class:`Progress` sent to the callback.
        accuracy: final held-out :class:`Accuracy` per model.
        cancelled: True if a stop request ended training early.
        elapsed: training seconds.
        probe: the probe input sequence (n_in ints) of the attention snapshots.
        setup: the :class:`~seqattn.training.setup.TrainingSetup` trained (its models are ``models``).
        stops: with a threshold (``TrainConfig.until``), how each model's training ended
            (:class:`~seqattn.training.until.ModelStop`); empty without one.
    """

    models: dict[str, Any]
    losses: np.ndarray
    names: tuple[str, ...]
    reports: list[Progress] = field(default_factory=list)
    accuracy: dict[str, Accuracy] = field(default_factory=dict)
    cancelled: bool = False
    elapsed: float = 0.0
    probe: list[int] = field(default_factory=list)
    setup: TrainingSetup | None = None
    stops: dict[str, ModelStop] = field(default_factory=dict)

    @property
    def updates_done(self) -> int:
        return int(self.losses.shape[0])


def train(
    problem: ProblemConfig,
    config: TrainConfig,
    *,
    model: ModelConfig | None = None,
    names: tuple[str, ...] = MODEL_NAMES,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | Callable[[], bool] | None = None,
    report_every: int | None = None,
    setup: TrainingSetup | None = None,
    callbacks: tuple[Callback, ...] = (),
) -> TrainResult:
    """Train the named models on one shared stream of echo pairs.

    With ``config.until`` set, each model stops once its held-out exact match reaches that
    percentage (:mod:`seqattn.training.until`), and the run ends when every model has stopped
    or at ``config.updates``, the cap.

    Args:
        problem: the echo problem.
        config: the training recipe.
        model: the models' settings (default :class:`ModelConfig`'s).
        names: which models to train (names from :mod:`seqattn.model.registry`).
        on_progress: called with a :class:`Progress` now and then, at every
            evaluation and once at the end (``final=True``).
        stop: a ``threading.Event`` or a callable; when it becomes true the run
            ends after the current update and returns what it has.
        report_every: updates between loss reports; default aims at about 400 reports per run.
        setup: a :class:`TrainingSetup` made for this very job (fresh weights for its seed,
            optimizers at step 0); default: :func:`~seqattn.training.setup.build_setup`'s.
        callbacks: more loop callbacks, told after every update (:class:`~seqattn.training.loop.Callback`).

    Returns:
        A :class:`TrainResult` with the models, per-update losses, reports and
        the final held-out accuracy.
    """
    setup = setup if setup is not None else build_setup(problem, config, names, model)
    names = setup.names  # checked by build_setup, or those the setup was made for
    inputs, targets = held_out_set(problem, config.eval_size, config.seed)
    stream = DataStream(problem, config.batch_size, seed=config.seed)
    scores = HeldOutScores(setup.predictors, inputs, targets, problem.task_spec.expected_alignment(problem, inputs))
    evaluations = (scores, AttentionProbe(setup.predictors, inputs[0]))
    reporter = ProgressReporter(names, config.updates, config.batch_size, config.eval_every, evaluations, on_progress,
                                report_every or max(1, config.updates // REPORTS_PER_RUN))

    def next_batch() -> tuple[np.ndarray, np.ndarray]:
        _, x, y = stream.next()
        return x, y

    update, until = setup.update, None
    if config.threshold is not None:
        training = ModelsInTraining(setup, config.jit_compile)
        # After the reporter, which evaluates: the threshold is checked on fresh scores.
        update, until = training.update, UntilThreshold(scores, training, config.threshold)
    loop_callbacks = (reporter, *((until,) if until else ()), *callbacks)
    state = run_loop(update, next_batch, config.updates, len(names), loop_callbacks, stop)
    return TrainResult(models=setup.models, losses=state.losses, names=names, reports=reporter.reports,
                       accuracy=dict(scores.accuracy), cancelled=state.cancelled,
                       elapsed=reporter.reports[-1].elapsed, probe=inputs[0].tolist(), setup=setup,
                       stops=until.stops if until else {})
