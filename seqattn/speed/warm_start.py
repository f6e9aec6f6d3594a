"""A training made ready ahead of time: models built, update step and predictors traced.

The first update of a fresh training costs seconds before any loss exists:
tracing the update step and compiling it with XLA (less when
:mod:`seqattn.speed.xla_cache` holds the program), then tracing the predictors at the
first evaluation (docs/performance.md has the figures). A warm training process (:mod:`seqattn.speed.warm_pool`) pays this
while it waits, for the job it expects (the Train form's defaults), with
:func:`prepare`; the job then takes it with :func:`take` and its first update
is a plain update.

Running the step once to compile it changes the weights and the optimizer, so
:func:`prepare` snapshots every variable of the models and their optimizers
first and assigns the snapshot back after: the job starts from exactly the
weights :func:`seqattn.training.setup.build_models` gives for its seed, with a fresh
optimizer (step 0, zero moments). Nothing else carries state between the
warm-up call and the job (the data stream and held-out set are made by
:func:`seqattn.training.session.train` from the seed), so a prepared training gives
the same numbers, bit for bit, as a cold one (``tests/test_warm_worker.py``).
"""

from __future__ import annotations

import gc
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import numpy as np

from seqattn.model.config import ModelConfig
from seqattn.model.registry import MODEL_NAMES, check_names
from seqattn.problem.config import ProblemConfig
from seqattn.problem.batches import make_batch
from seqattn.training.budget import GIB, estimate_peak_bytes
from seqattn.training.setup import TrainingSetup, build_models, build_setup

__all__ = ["Abandoned", "PreparedTraining", "job_key", "prepare", "prepare_in_background", "reseed", "shape_key",
           "small_enough", "take"]


@dataclass
class PreparedTraining(TrainingSetup):
    """A :class:`~seqattn.training.setup.TrainingSetup` made before its job, step compiled and predictors traced.

    Attributes (beyond the setup's):
        key: the job it was made for (:func:`job_key`).
        seconds: how long preparing took.
        ahead: True when made before the job arrived (a warm process's); False when
            reseeded from another job's setup of the same shapes.
    """

    key: str = ""
    seconds: float = 0.0
    ahead: bool = True


# What a preparation depends on, of a TrainConfig: the weights (seed), the optimizer (rate) and the
# compiled step (batch shape, XLA). How long a job trains or how often it evaluates does not matter.
PREPARED_FIELDS = ("seed", "batch_size", "learning_rate", "jit_compile")


def job_key(problem: ProblemConfig, config: Any, model: ModelConfig | None = None,
            names: tuple[str, ...] = MODEL_NAMES) -> str:
    """A string equal for two jobs exactly when a preparation made for one serves the other.

    They have the same problem, models and names, and agree on ``PREPARED_FIELDS``
    of their recipe (``config``, a :class:`seqattn.training.config.TrainConfig`).
    """
    settings = config.to_dict()
    recipe = {name: settings[name] for name in PREPARED_FIELDS}
    return json.dumps([problem.to_dict(), recipe, (model or ModelConfig()).to_dict(), list(names)], sort_keys=True)


# A preparation is held, idle, until its job comes: its models and compiled step stay resident, more the
# bigger the job (docs/performance.md#memory). Only a job estimated about as small as the Train form's
# defaults is worth holding; after a bigger one the next warm process prepares the defaults.
PREPARE_AT_MOST_BYTES = 2.0 * GIB


def small_enough(problem: ProblemConfig, config: Any, model: ModelConfig | None = None) -> bool:
    """Whether a job is worth preparing ahead: its estimated peak (:func:`seqattn.training.budget.estimate_peak_bytes`,
    ``config`` a :class:`seqattn.training.config.TrainConfig`) is at most ``PREPARE_AT_MOST_BYTES``."""
    return estimate_peak_bytes(problem, config, model) <= PREPARE_AT_MOST_BYTES


def _state(models: dict[str, Any], names: tuple[str, ...]) -> list[Any]:
    """Every variable that training changes: the models' and their optimizers', in a fixed order."""
    return [v for name in names for v in (*models[name].variables, *models[name].optimizer.variables)]


class Abandoned(Exception):
    """A preparation stopped between two of its stages because its job is no longer wanted."""


def prepare(problem: ProblemConfig, config: Any, model: ModelConfig | None = None,
            names: tuple[str, ...] = MODEL_NAMES, *,
            keep_going: Callable[[], bool] | None = None) -> PreparedTraining:
    """Build the job's models and trace its update step and predictors, leaving every variable as built.

    Args:
        problem, config, model, names: the job, as :func:`seqattn.training.session.train` takes it
            (``config`` a :class:`seqattn.training.config.TrainConfig`).
        keep_going: asked between the stages (building, tracing the step, compiling it,
            tracing each predictor); ``False`` stops the preparation there.

    Returns:
        A :class:`PreparedTraining` for ``train(..., setup=...)``.

    Raises:
        Abandoned: ``keep_going()`` said ``False``; nothing is left prepared.
    """
    # TensorFlow loads here: a warm process imports this module before the job it follows has ended.
    import tensorflow as tf

    def checkpoint() -> None:
        # A stage once begun runs to its end (TensorFlow cannot interrupt a trace or an XLA compile).
        if keep_going is not None and not keep_going():
            raise Abandoned("the job it was for is no longer wanted")

    started = time.perf_counter()
    names = check_names(names)
    built = build_setup(problem, config, names, model)
    models, step, predictors = built.models, built.step, built.predictors

    variables = _state(models, names)
    snapshot = [np.array(v.numpy(), copy=True) for v in variables]
    # Any batch of the job's shape compiles the step; a private generator keeps the job's own streams untouched.
    batch = make_batch(problem, config.batch_size, np.random.default_rng(0))
    x, y = tf.constant(batch.x), tf.constant(batch.y)
    checkpoint()
    step.get_concrete_function(x, y)  # tracing: the call below finds it and only compiles
    checkpoint()
    step(x, y).numpy()
    for v, value in zip(variables, snapshot):
        v.assign(value)
    for predictor in predictors.values():  # one trace serves every batch size (Predictor's input signature)
        checkpoint()
        predictor(np.zeros((1, problem.n_in), dtype=np.int32))
    return PreparedTraining(models, step, predictors, key=job_key(problem, config, model, names),
                            seconds=time.perf_counter() - started)


def reseed(prepared: PreparedTraining, problem: ProblemConfig, config: Any, model: ModelConfig | None = None,
           names: tuple[str, ...] = MODEL_NAMES, *, ahead: bool = False) -> PreparedTraining:
    """Make a used preparation ready for another job of the same shapes, keeping its traced step.

    The job may differ from the one ``prepared`` was made for only in its
    seed (and in fields outside ``PREPARED_FIELDS``). Every variable of the
    prepared models and optimizers is set to what :func:`seqattn.training.setup.build_models`
    gives for ``config.seed`` (weights as built, optimizers at step 0), so
    training with the result gives the same numbers, bit for bit, as a cold
    training; only the tracing and compiling are saved. ``prepared`` is used
    up: its models now belong to the returned preparation. ``ahead`` is the result's
    :attr:`PreparedTraining.ahead` (True for a warm process's preparation, made before its job).

    Raises:
        ValueError: the job needs another shape of models or step.
    """
    started = time.perf_counter()
    names = check_names(names)
    key = job_key(problem, config, model, names)
    if shape_key(key) != shape_key(prepared.key):
        raise ValueError("a preparation serves only jobs of its own shapes (problem, models, batch, rate, XLA)")
    source, target = _state(build_models(problem, config, names, model), names), _state(prepared.models, names)
    if [v.shape for v in source] != [v.shape for v in target]:
        raise ValueError("the models' variables do not match their preparation's")
    for v, value in zip(target, source):
        v.assign(value)
    return PreparedTraining(prepared.models, prepared.step, prepared.predictors, key=key,
                            seconds=time.perf_counter() - started, ahead=ahead)


def shape_key(key: str) -> str:
    """A :func:`job_key` without the seed: equal for the jobs one :func:`reseed` can serve."""
    problem, recipe, model, names = json.loads(key)
    recipe.pop("seed")
    return json.dumps([problem, recipe, model, names], sort_keys=True)


_lock = threading.Lock()
_ready = threading.Event()
_prepared: PreparedTraining | None = None
_thread: threading.Thread | None = None
_pending_key: str | None = None  # the job the running or last preparation is for


def prepare_in_background(problem: ProblemConfig, config: Any, model: ModelConfig | None = None,
                          names: tuple[str, ...] = MODEL_NAMES,
                          before: Callable[[], None] | None = None,
                          still_wanted: Callable[[str], bool] | None = None) -> threading.Thread:
    """Run :func:`prepare` in a daemon thread; :func:`take` waits for it.

    ``before()`` runs first (e.g. waiting for a core, loading TensorFlow). Then
    and between the preparation's stages, ``still_wanted(key)`` is asked: once
    it says the job is no longer wanted (another job arrived meanwhile), the
    preparation stops at the next stage, so it does not take the CPU from
    the job that did arrive. A failure is printed and leaves nothing prepared:
    the job then builds its models itself.

    A second call (the Train form changed) makes its preparation after the first one's
    thread has ended (it stops at its next stage once no longer wanted) and drops what the
    first one made, Keras' session included, before building anew.
    """
    global _thread, _pending_key, _ready
    previous = _thread
    done = threading.Event()

    def work() -> None:
        global _prepared
        try:
            if previous is not None:
                previous.join()
                with _lock:
                    dropped, _prepared = _prepared, None
                if dropped is not None:
                    del dropped
                    _clear_keras()
            if before is not None:
                before()
            key = job_key(problem, config, model, check_names(names))
            if still_wanted is not None and not still_wanted(key):
                return
            made = prepare(problem, config, model, names,
                           keep_going=None if still_wanted is None else lambda: still_wanted(key))
            with _lock:
                _prepared = made
        except Abandoned:
            pass  # another job arrived: it starts cold, and at once
        except Exception as exc:  # a failed preparation only costs the job its head start
            print(f"warm start: preparing failed ({exc.__class__.__name__}: {exc}); the job starts cold", flush=True)
        finally:
            done.set()

    _pending_key = job_key(problem, config, model, check_names(names))
    _ready = done
    _thread = threading.Thread(target=work, name="seqattn-warm-start", daemon=True)
    _thread.start()
    return _thread


def _clear_keras() -> None:
    """Free a dropped preparation's models and graphs (Keras holds reference cycles and a global session)."""
    import keras

    keras.backend.clear_session()
    gc.collect()


def take(problem: ProblemConfig, config: Any, model: ModelConfig | None = None,
         names: tuple[str, ...] = MODEL_NAMES, *, reseeding: bool = False) -> PreparedTraining | None:
    """The prepared training if it was made for exactly this job, else None; either way it is used up.

    With ``reseeding``, a preparation made for the same shapes but another seed (the
    Train form's seed changed after it was prepared) is :func:`reseed`-ed for this job
    instead of dropped: same numbers as a cold training, without the tracing and compiling.

    Waits for a preparation of this job (or, with ``reseeding``, of its shapes) still running in this
    process; another job's preparation is not waited for (the job starts cold at once).
    """
    global _prepared
    key = job_key(problem, config, model, check_names(names))
    if _thread is not None and _pending_key is not None and (
            _pending_key == key or (reseeding and shape_key(_pending_key) == shape_key(key))):
        _ready.wait()
    with _lock:
        made, _prepared = _prepared, None
    if made is not None and made.key != key:
        if reseeding and shape_key(made.key) == shape_key(key):
            return reseed(made, problem, config, model, names, ahead=True)
        del made  # another job's models and step: freed before this job builds its own (Keras holds cycles)
        gc.collect()
        return None
    return made
