"""Training both models on one stream of echo pairs, fast, with live progress.

The tutorial calls ``model.fit`` once per pair, which costs tens of milliseconds
of Keras overhead per update. Here one XLA-compiled ``tf.function`` does one
optimizer update of every model on the same batch, so both models race on
identical data and an update costs about a millisecond.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from collections.abc import Callable, Iterator, Mapping

import numpy as np

from seqattn.evaluation.scoring import Accuracy, score
from seqattn.configuration import DictConfig, check_settings, setting
from seqattn.model.config import ModelConfig
from seqattn.problem.echo import ProblemConfig, make_batch, targets_for
from seqattn.model.registry import MODEL_NAMES, check_names

Protocol = Literal["tutorial", "batched"]
PROTOCOLS: tuple[Protocol, ...] = ("tutorial", "batched")

# Defaults per protocol: (updates, batch_size, learning_rate, eval_every).
# "tutorial" is the seed's recipe; "batched" was tuned (bench/train_speed.py) so
# the attention model passes 95 % exact match on the seed problem in seconds.
PROTOCOL_DEFAULTS: dict[str, tuple[int, int, float, int]] = {
    "tutorial": (5000, 1, 1e-3, 250),
    "batched": (500, 32, 5e-3, 50),
}
MAX_UPDATES = 1_000_000
MAX_BATCH = 4096
SMOOTHING = 0.98
EVAL_SLICE = 1000


@dataclass(frozen=True)
class TrainConfig(DictConfig):
    """How to train (the recipe): protocol, optimizer and evaluation cadence.

    The models' own settings (their size, the encoder) are a :class:`~seqattn.model.config.ModelConfig`.

    Leave ``updates``, ``batch_size``, ``learning_rate`` or ``eval_every`` as
    ``None`` to take the protocol's default (``PROTOCOL_DEFAULTS``).

    Args:
        protocol: ``"tutorial"`` (one fresh pair per update, batch size 1) or
            ``"batched"`` (a fresh batch per update).
        updates: optimizer updates per model (1..1,000,000).
        batch_size: pairs per update (1 for the tutorial protocol).
        learning_rate: Adam's step size, in (0, 1].
        seed: seeds the data stream, the weights and the held-out set.
        eval_every: evaluate on the held-out set every this many updates.
        eval_size: held-out pairs per evaluation (1..100,000).
        jit_compile: compile the update with XLA (faster on CPU).
    """

    KIND = "training"

    protocol: Protocol = setting("tutorial", "Protocol",
                                 "tutorial: one fresh pair per update; batched: a fresh batch per update.")
    updates: int | None = setting(None, "Updates", "Optimizer updates per model.", 1, MAX_UPDATES)
    batch_size: int | None = setting(None, "Batch size", "Pairs per update (1 with the tutorial protocol).", 1, MAX_BATCH)
    learning_rate: float | None = setting(None, "Learning rate", "Adam's step size, above 0 and at most 1.")
    seed: int = setting(0, "Seed", "Seeds the data stream, the weights and the held-out set.", 0, 2**31 - 1)
    eval_every: int | None = setting(None, "Evaluate every", "Updates between held-out evaluations.", 1, MAX_UPDATES)
    eval_size: int = setting(1000, "Held-out pairs", "Held-out pairs per evaluation.", 1, 100_000)
    jit_compile: bool = setting(True, "XLA", "Compile the update with XLA: seconds up front, then faster "
                                  "updates of small models and short sequences.")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """As :meth:`DictConfig.from_dict`; a ``units`` key (runs saved before
        :class:`ModelConfig` existed) belongs to the model and is left out here."""
        return super().from_dict({k: v for k, v in data.items() if k != "units"})

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}; got {self.protocol!r}.")
        updates, batch_size, learning_rate, eval_every = PROTOCOL_DEFAULTS[self.protocol]
        for name, default in (
            ("updates", updates),
            ("batch_size", batch_size),
            ("learning_rate", learning_rate),
            ("eval_every", eval_every),
        ):
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        check_settings(self)
        if self.protocol == "tutorial" and self.batch_size != 1:
            raise ValueError(
                f"batch_size must be 1 with the tutorial protocol (one pair per update); got {self.batch_size}. "
                "Choose the batched protocol for larger batches."
            )
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or not 0 < lr <= 1:
            raise ValueError(f"learning_rate must be a number above 0 and at most 1; got {lr!r}.")
        object.__setattr__(self, "learning_rate", float(lr))


@dataclass(frozen=True)
class Progress:
    """One progress report.

    Attributes:
        update: updates done so far (each model).
        total: updates planned.
        samples: pairs seen so far by each model.
        elapsed: seconds of training so far.
        loss: per model, mean loss over the updates since the previous report.
        smoothed: per model, exponential moving average of the per-update loss.
        accuracy: per model exact match on the held-out set, when this report
            carries an evaluation, else None.
        per_position: per model accuracy of each output step (length target_len), or None.
        alignment: attention model's alignment score, or None (see :func:`alignment_score`).
        attention: attention model's probe matrix (target_len, n_in) as lists, or None.
        probe: the probe input (n_in ints) and probe_tokens the attention model's
            prediction for it (target_len ints), with ``attention``; else None.
        final: True for the last report of a run (done or cancelled).
    """

    update: int
    total: int
    samples: int
    elapsed: float
    loss: dict[str, float]
    smoothed: dict[str, float]
    accuracy: dict[str, float] | None = None
    per_position: dict[str, list[float]] | None = None
    alignment: float | None = None
    attention: list[list[float]] | None = None
    probe: list[int] | None = None
    probe_tokens: list[int] | None = None
    final: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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
    """

    models: dict[str, Any]
    losses: np.ndarray
    names: tuple[str, ...]
    reports: list[Progress] = field(default_factory=list)
    accuracy: dict[str, Accuracy] = field(default_factory=dict)
    cancelled: bool = False
    elapsed: float = 0.0
    probe: list[int] = field(default_factory=list)

    @property
    def updates_done(self) -> int:
        return int(self.losses.shape[0])


def alignment_score(attention: np.ndarray, n_out: int) -> float:
    """Mean attention mass that echoed output step t puts on input position t.

    Args:
        attention: (batch, steps, n_in) attention probabilities.
        n_out: how many leading output steps echo an input.

    Returns:
        A float in [0, 1]; 1 means a perfect diagonal, 1/n_in is uniform attention.
    """
    attention = np.asarray(attention)
    steps = min(n_out, attention.shape[1], attention.shape[2])
    idx = np.arange(steps)
    return float(np.mean(attention[:, idx, idx]))


class DataStream:
    """The shared, seeded stream of training batches, drawn in chunks for speed."""

    def __init__(self, problem: ProblemConfig, batch_size: int, seed: int, chunk: int = 256,
                 max_bytes: int = 32 * 2**20) -> None:
        self.problem = problem
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        # Pre-drawing saves per-update overhead, but one-hot chunks of a large
        # problem get big: cap the chunk's memory, down to one batch.
        batch_bytes = 4 * batch_size * problem.cardinality * (problem.n_in + problem.target_len)
        self.chunk = max(1, min(chunk, max_bytes // batch_bytes))
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._inputs: np.ndarray | None = None
        self._i = self.chunk

    def next(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Next (inputs (B, n_in) int32, x (B, n_in, K), y (B, target_len, K))."""
        if self._i >= self.chunk:
            batch = make_batch(self.problem, self.chunk * self.batch_size, self.rng)
            shape = (self.chunk, self.batch_size)
            self._inputs = batch.inputs.reshape(shape + batch.inputs.shape[1:])
            self._x = batch.x.reshape(shape + batch.x.shape[1:])
            self._y = batch.y.reshape(shape + batch.y.shape[1:])
            self._i = 0
        i = self._i
        self._i += 1
        return self._inputs[i], self._x[i], self._y[i]


def _stop_requested(stop: threading.Event | Callable[[], bool] | None) -> bool:
    if stop is None:
        return False
    if isinstance(stop, threading.Event):
        return stop.is_set()
    return bool(stop())


def make_update_step(models: Mapping[str, Any], optimizers: Mapping[str, Any], jit_compile: bool) -> Callable[..., Any]:
    """One compiled optimizer update of every model on the same (x, y) batch.

    Returns a function ``step(x, y) -> losses`` with losses a (n_models,) tensor.
    """
    import keras
    import tensorflow as tf

    names = tuple(models)

    def step(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        losses = []
        for name in names:
            model, optimizer = models[name], optimizers[name]
            with tf.GradientTape() as tape:
                predicted = model(x, training=True)
                loss = keras.ops.mean(keras.losses.categorical_crossentropy(y, predicted))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            losses.append(loss)
        return tf.stack(losses)

    return tf.function(step, jit_compile=jit_compile)


@contextlib.contextmanager
def _private_initializer_seeds(seed: int) -> Iterator[None]:
    """Let Keras draw its default initializer seeds from a private ``random.Random(seed)``.

    Keras takes each unseeded initializer's seed from Python's *global*
    ``random``, which other threads of the process also draw from (a Dask
    worker's event loop does); a private generator seeded like the global one
    gives the same weights as before, whatever those threads do.
    """
    from keras.src.random import seed_generator

    shared = seed_generator.python_random
    seed_generator.python_random = random.Random(seed)  # type: ignore[assignment]
    try:
        yield
    finally:
        seed_generator.python_random = shared


def build_models(problem: ProblemConfig, config: TrainConfig, names: tuple[str, ...],
                 model: ModelConfig | None = None) -> dict[str, Any]:
    """Fresh models by name, seeded by ``config.seed``, each compiled with Adam at the config's rate.

    ``model`` gives their size and the attention model's encoder (default
    :class:`ModelConfig`'s); the baseline keeps the tutorial's encoder.
    """
    import keras

    from seqattn.model.builders import build_model

    keras.utils.set_random_seed(config.seed)
    with _private_initializer_seeds(config.seed):
        settings = model or ModelConfig()
        return {name: build_model(name, problem, settings.units, config.learning_rate, encoder=settings.encoder)
                for name in names}


def train(
    problem: ProblemConfig,
    config: TrainConfig,
    *,
    model: ModelConfig | None = None,
    names: tuple[str, ...] = MODEL_NAMES,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | Callable[[], bool] | None = None,
    report_every: int | None = None,
    models: dict[str, Any] | None = None,
    prepared: Any = None,
) -> TrainResult:
    """Train the named models on one shared stream of echo pairs.

    Args:
        problem: the echo problem.
        config: the training recipe.
        model: the models' settings (default :class:`ModelConfig`'s).
        names: which models to train (names from :mod:`seqattn.model.registry`).
        on_progress: called with a :class:`Progress` now and then, at every
            evaluation and once at the end (``final=True``).
        stop: a ``threading.Event`` or a callable; when it becomes true the run
            ends after the current update and returns what it has.
        report_every: updates between loss reports; default aims at about 400
            reports per run.
        models: already built models by name (default: fresh ones from ``config``).
        prepared: a :class:`seqattn.speed.warm_start.PreparedTraining` made for this very job
            (its models, traced step and predictors are used; ``models`` is then ignored).

    Returns:
        A :class:`TrainResult` with the models, per-update losses, reports and
        the final held-out accuracy.
    """
    import tensorflow as tf

    from seqattn.model.builders import Predictor

    names = check_names(names)
    if prepared is not None:
        models, step, predictors = prepared.models, prepared.step, prepared.predictors
    else:
        models = models if models is not None else build_models(problem, config, names, model)
        optimizers = {name: models[name].optimizer for name in names}
        for name in names:
            optimizers[name].build(models[name].trainable_variables)
        step = make_update_step(models, optimizers, config.jit_compile)
        predictors = {name: Predictor(models[name]) for name in names}

    held_out_inputs = np.random.default_rng([config.seed, 1]).integers(
        0, problem.cardinality, size=(config.eval_size, problem.n_in), dtype=np.int32)
    held_out_targets = targets_for(held_out_inputs, problem)
    probe = held_out_inputs[:1]
    stream = DataStream(problem, config.batch_size, seed=config.seed)
    report_every = report_every or max(1, config.updates // 400)
    losses = np.zeros((config.updates, len(names)), dtype=np.float32)
    result = TrainResult(models=models, losses=losses, names=tuple(names), probe=probe[0].tolist())
    smoothed = np.full(len(names), np.nan)
    last_report = 0

    def evaluate_now() -> dict[str, Any]:
        out: dict[str, Any] = {"accuracy": {}, "per_position": {}}
        for name in names:
            # Score in slices so the one-hot inputs of a large held-out set stay small.
            slices = [predictors[name](held_out_inputs[i : i + EVAL_SLICE]) for i in range(0, config.eval_size, EVAL_SLICE)]
            tokens = np.concatenate([p.tokens for p in slices])
            acc = score(tokens, held_out_targets)
            attention = np.concatenate([p.attention for p in slices]) if slices[0].attention is not None else None
            result.accuracy[name] = acc
            out["accuracy"][name] = acc.exact_match
            out["per_position"][name] = list(acc.per_position)
            if attention is not None:
                out["alignment"] = alignment_score(attention, problem.n_out)
                probe_prediction = predictors[name](probe)
                out["attention"] = probe_prediction.attention[0].round(5).tolist()
                out["probe"] = probe[0].tolist()
                out["probe_tokens"] = probe_prediction.tokens[0].tolist()
        return out

    def report(done: int, elapsed: float, final: bool, with_eval: bool) -> None:
        nonlocal last_report
        window = losses[last_report:done] if done > last_report else losses[max(done - 1, 0) : done]
        extra = evaluate_now() if with_eval else {}
        progress = Progress(
            update=done,
            total=config.updates,
            samples=done * config.batch_size,
            elapsed=elapsed,
            loss={n: float(v) for n, v in zip(names, window.mean(axis=0))} if len(window) else {},
            smoothed={n: float(v) for n, v in zip(names, smoothed)} if done else {},
            final=final,
            **extra,
        )
        last_report = done
        result.reports.append(progress)
        if on_progress is not None:
            on_progress(progress)

    started = time.perf_counter()
    done = 0
    for done in range(1, config.updates + 1):
        if _stop_requested(stop):
            done -= 1
            result.cancelled = True
            break
        _, x, y = stream.next()
        loss = step(tf.constant(x), tf.constant(y)).numpy()
        losses[done - 1] = loss
        smoothed = np.where(np.isnan(smoothed), loss, SMOOTHING * smoothed + (1 - SMOOTHING) * loss)
        evaluate_step = done % config.eval_every == 0 and done < config.updates
        if evaluate_step or done % report_every == 0:
            report(done, time.perf_counter() - started, final=False, with_eval=evaluate_step)
    result.losses = losses[:done]
    report(done, time.perf_counter() - started, final=True, with_eval=True)
    result.elapsed = result.reports[-1].elapsed
    return result
