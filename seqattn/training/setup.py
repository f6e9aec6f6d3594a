"""A training setup: the models, their traced update step and their predictors, ready to train.

:func:`build_setup` makes one from scratch; a caller may hand :func:`seqattn.training.session.train`
one made earlier instead (``setup=``), which is how :mod:`seqattn.speed` prepares a job ahead of
its click or reuses the last cell's traced step. Either way the loop sees the same object.

TensorFlow and Keras are imported inside the functions that build or run models: a queued
job, a warm process waiting for the job before it, and the dashboard's pages import this
module, and none of them may pay TensorFlow's seconds-long import (or take the CPU) early.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Mapping

import numpy as np

from seqattn.model.config import ModelConfig
from seqattn.model.registry import check_names
from seqattn.problem.config import ProblemConfig
from seqattn.training.config import TrainConfig
from seqattn.training.xla_disk_cache import UpdateStep


@dataclass
class TrainingSetup:
    """What a training needs before its first update.

    Attributes:
        models: the Keras models by name, each compiled with its optimizer.
        step: the traced update step, ``step(x, y) -> losses`` on tensors (one loss per model).
        predictors: a :class:`~seqattn.model.builders.Predictor` per model, for held-out evaluation.
    """

    models: dict[str, Any]
    step: Callable[..., Any]
    predictors: dict[str, Any]
    _constant: Callable[[np.ndarray], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        import tensorflow as tf  # once per setup, not in every update

        self._constant = tf.constant

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.models)

    def update(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """One update of every model on the same batch: x (B, n_in, K), y (B, steps, K) -> losses (n_models,)."""
        return self.step(self._constant(x), self._constant(y)).numpy()

    def step_of(self, names: tuple[str, ...], jit_compile: bool) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """An update of the named models only (the others keep their weights): x, y -> losses (len(names),).

        A new traced step (the models, their optimizers and their state are these), for a training
        whose other models have stopped.
        """
        models = {name: self.models[name] for name in names}
        step = make_update_step(models, {name: m.optimizer for name, m in models.items()}, jit_compile)
        return lambda x, y: step(self._constant(x), self._constant(y)).numpy()


def make_update_step(models: Mapping[str, Any], optimizers: Mapping[str, Any], jit_compile: bool) -> Callable[..., Any]:
    """One compiled optimizer update of every model on the same (x, y) batch.

    Returns a function ``step(x, y) -> losses`` with losses a (n_models,) tensor: a ``tf.function``
    (jit-compiled as asked) in an :class:`~seqattn.training.xla_disk_cache.UpdateStep`.
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

    return UpdateStep(step, jit_compile)  # a tf.function that survives a corrupt XLA cache file


def build_models(problem: ProblemConfig, config: TrainConfig, names: tuple[str, ...],
                 model: ModelConfig | None = None) -> dict[str, Any]:
    """Fresh models by name, seeded by ``config.seed``, each compiled with Adam at the config's rate (optimizer built, step 0).

    ``model`` gives their size and the attention model's encoder (default
    :class:`ModelConfig`'s); the baseline keeps the tutorial's encoder.

    Every random initializer gets its seed from a generator of its own, ``random.Random(seed)``,
    drawn in the order Keras would draw its default seeds from Python's global ``random``
    after ``keras.utils.set_random_seed(seed)``: the weights are those of every run before,
    and no other thread drawing from the global generator (a Dask worker's event loop does)
    can change them.
    """
    import keras

    from seqattn.model.builders import build_model

    keras.utils.set_random_seed(config.seed)
    draws = random.Random(config.seed)

    def seeds() -> int:
        return draws.randint(1, int(1e9))  # the range of Keras's own default seeds

    settings = model or ModelConfig()
    models = {name: build_model(name, problem, settings.units, config.learning_rate, encoder=settings.encoder,
                                seeds=seeds) for name in names}
    for built in models.values():
        built.optimizer.build(built.trainable_variables)
    return models


def build_setup(problem: ProblemConfig, config: TrainConfig, names: tuple[str, ...],
                model: ModelConfig | None = None) -> TrainingSetup:
    """Fresh models (:func:`build_models`), the update step and predictors (traced on first use)."""
    from seqattn.model.builders import Predictor

    names = check_names(names)
    models = build_models(problem, config, names, model)
    predictors = {name: Predictor(models[name]) for name in names}
    optimizers = {name: models[name].optimizer for name in names}
    return TrainingSetup(models, make_update_step(models, optimizers, config.jit_compile), predictors)
