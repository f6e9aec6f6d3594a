"""The two encoder-decoder models of the experiment, and fast batched prediction.

Both follow the seed's architectures (spec): every layer is named explicitly so
that names never depend on Keras's global counters (Streamlit clears the Keras
session between script runs, which would otherwise make names collide).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import keras
import numpy as np
import tensorflow as tf

from seqattn.model.attention import SEEDED_WEIGHTS, AttentionDecoder
from seqattn.configuration import check_choice, check_int_range
from seqattn.model.prediction import NO_ATTENTION, Prediction, forced_rows, one_hot_inputs
from seqattn.model.registry import model_kind
from seqattn.model.config import ENCODERS, MAX_UNITS


class ProblemShape(Protocol):
    """What a builder needs of a problem (a :class:`seqattn.problem.config.ProblemConfig` has it)."""

    n_in: int

    @property
    def target_len(self) -> int: ...

    @property
    def input_size(self) -> int: ...

    @property
    def output_size(self) -> int: ...

    @property
    def pad_token(self) -> int | None: ...


# Unrolling short LSTMs lets XLA fuse the steps (faster updates, docs/performance.md);
# long inputs would make the compiled graph too large.
MAX_UNROLL = 20


def _compile(model: keras.Model, learning_rate: float) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
    )
    return model


Seeds = Callable[[], int]
"""A source of seeds: each call gives the seed of the next random initializer (or LSTM)."""


def seeded(seeds: Seeds | None) -> dict[str, Any]:
    """An LSTM's seeded initializers and dropout seed, drawn from ``seeds`` in the order Keras draws them.

    Returns keyword arguments for ``keras.layers.LSTM`` (empty without ``seeds``: Keras draws them).
    """
    if seeds is None:
        return {}
    return {"kernel_initializer": keras.initializers.GlorotUniform(seed=seeds()),
            "recurrent_initializer": keras.initializers.Orthogonal(seed=seeds()), "seed": seeds()}


def build_baseline(problem: ProblemShape, units: int = 150, learning_rate: float = 1e-3,
                   seeds: Seeds | None = None) -> keras.Model:
    """Encoder-decoder without attention (the seed's baseline).

    LSTM(units) -> RepeatVector(steps) -> LSTM(units, return_sequences) ->
    TimeDistributed(Dense(K_out, softmax)). Input (batch, n_in, K_in) one-hot
    (K_in = ``problem.input_size``); output (batch, target_len, K_out) probabilities
    (K_out = ``problem.output_size``). Compiled with Adam and categorical
    cross-entropy. ``seeds`` seeds every random initializer (default: Keras draws them).
    """
    check_int_range("units", units, 1, MAX_UNITS)
    unroll = problem.n_in <= MAX_UNROLL
    inputs = keras.Input(shape=(problem.n_in, problem.input_size), name="tokens")
    encoded = keras.layers.LSTM(units, unroll=unroll, name="encoder", **seeded(seeds))(inputs)
    repeated = keras.layers.RepeatVector(problem.target_len, name="repeat")(encoded)
    decoded = keras.layers.LSTM(units, unroll=unroll, return_sequences=True, name="decoder", **seeded(seeds))(repeated)
    dense = {"kernel_initializer": keras.initializers.GlorotUniform(seed=seeds())} if seeds is not None else {}
    outputs = keras.layers.TimeDistributed(
        keras.layers.Dense(problem.output_size, activation="softmax", name="dense", **dense), name="output"
    )(decoded)
    return _compile(keras.Model(inputs, outputs, name="baseline"), learning_rate)


def build_attention(problem: ProblemShape, units: int = 150, learning_rate: float = 1e-3,
                    encoder: str = "unidirectional", seeds: Seeds | None = None) -> keras.Model:
    """Encoder-decoder with the attention decoder (the seed's attention model).

    ``encoder="unidirectional"`` (the seed's): LSTM(units, return_sequences) ->
    AttentionDecoder(units, K), the decoder attending over D = units states.
    ``encoder="bidirectional"`` (Bahdanau et al. 2015's): Bidirectional(LSTM(units,
    return_sequences), concat) -> AttentionDecoder(units, K), the decoder attending
    over D = 2 * units states (forward and backward side by side). Either way the
    encoder layer is named ``encoder``. Input (batch, n_in, K_in) one-hot; output
    (batch, target_len, K_out) probabilities. A problem with a ``pad_token`` gets a
    decoder that gives padded positions zero attention. ``seeds`` seeds every random initializer (default:
    Keras draws them).

    Raises:
        ValueError: bad ``units`` or an unknown ``encoder`` (the message lists the choices).
    """
    check_int_range("units", units, 1, MAX_UNITS)
    check_choice("encoder", encoder, ENCODERS)
    unroll = problem.n_in <= MAX_UNROLL
    inputs = keras.Input(shape=(problem.n_in, problem.input_size), name="tokens")
    if encoder == "bidirectional":
        # The inner layer's name stays fixed too (Bidirectional derives the
        # forward and backward names from it).
        if seeds is None:
            lstm = keras.layers.LSTM(units, unroll=unroll, return_sequences=True, name="encoder_lstm")
            encoder_layer = keras.layers.Bidirectional(lstm, merge_mode="concat", name="encoder")
        else:
            # Bidirectional trains copies of the layer it wraps, so Keras drew that layer's three
            # seeds for nothing; skipping three keeps every run's weights as they always were.
            for _ in range(3):
                seeds()
            lstm = keras.layers.LSTM(units, unroll=unroll, return_sequences=True, name="encoder_lstm",
                                     **seeded(seeds))
            backward = keras.layers.LSTM(units, unroll=unroll, return_sequences=True, go_backwards=True,
                                         name="backward_encoder_lstm", **seeded(seeds))
            encoder_layer = keras.layers.Bidirectional(lstm, merge_mode="concat", backward_layer=backward,
                                                       name="encoder")
    else:
        encoder_layer = keras.layers.LSTM(units, unroll=unroll, return_sequences=True, name="encoder",
                                          **seeded(seeds))
    states = encoder_layer(inputs)
    # As many steps as inputs is the tutorial's layer (output_steps None); other lengths are set.
    steps = None if problem.target_len == problem.n_in else problem.target_len
    decoder_seeds = None if seeds is None else [seeds() for _ in range(SEEDED_WEIGHTS)]
    decoder = AttentionDecoder(units, problem.output_size, output_steps=steps, initializer_seeds=decoder_seeds,
                               pad_token=problem.pad_token, name="decoder")
    outputs = decoder(states) if problem.pad_token is None else decoder(states, tokens=inputs)
    return _compile(keras.Model(inputs, outputs, name="attention"), learning_rate)


def build_model(kind: str, problem: ProblemShape, units: int = 150, learning_rate: float = 1e-3,
                encoder: str = "unidirectional", seeds: Seeds | None = None) -> keras.Model:
    """The model of a registered kind (:mod:`seqattn.model.registry`), built by its builder here.

    ``encoder`` goes to attending models only; the baseline keeps the tutorial's
    encoder whatever it says. ``seeds`` seeds its random initializers (default: Keras draws them).

    Raises:
        ValueError: an unknown kind (the message lists the registered ones), or
            an unknown encoder.
    """
    spec = model_kind(kind)
    builder = globals()[spec.builder]
    if spec.attends:
        return builder(problem, units, learning_rate, encoder=encoder, seeds=seeds)
    check_choice("encoder", encoder, ENCODERS)
    return builder(problem, units, learning_rate, seeds=seeds)


def has_attention(model: keras.Model) -> bool:
    """True if the model's decoder is an :class:`AttentionDecoder`."""
    return any(isinstance(layer, AttentionDecoder) for layer in model.layers)


class Predictor:
    """A model's forward pass compiled once, for many fast predictions.

    ``model.predict`` costs tens of milliseconds per call even for one
    sequence; a traced ``tf.function`` costs about a millisecond, which keeps
    the dashboard's answer to each keystroke instant. For the attention model
    :meth:`force` reruns the decoder with one step's attention overridden.

    Attributes:
        model: the Keras model; cardinality: K; n_in: input length;
        steps: output steps; with_attention: True for an attending model.
    """

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        self.cardinality = int(model.input_shape[-1])
        self.n_in = int(model.input_shape[1])
        self.steps = int(model.output_shape[1])
        self.with_attention = has_attention(model)
        self._forced: Any = None
        if self.with_attention:
            encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")

            def forward(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                return decoder(encoder(x), tokens=x, return_attention=True)

            def forced(x: tf.Tensor, rows: tf.Tensor, mask: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                return decoder(encoder(x), tokens=x, return_attention=True, forced_attention=rows, forced_mask=mask)

            self._forced = tf.function(forced, reduce_retracing=True)

        else:

            def forward(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                probabilities = model(x)
                return probabilities, tf.zeros((tf.shape(x)[0], 0, 0))

        # One trace for every batch size (the held-out slices, a single input): without the signature the
        # first two sizes traced twice, about 0.2 s each in a warm process's preparation.
        signature = [tf.TensorSpec((None, self.n_in, self.cardinality), tf.float32)]
        self._forward = tf.function(forward, input_signature=signature)

    def _one_hot(self, inputs: np.ndarray) -> tf.Tensor:
        """Checked int inputs (n_in,) or (batch, n_in) -> one-hot (batch, n_in, K)."""
        return tf.constant(one_hot_inputs(inputs, self.n_in, self.cardinality))

    @staticmethod
    def _prediction(probabilities: tf.Tensor, attention: tf.Tensor | None) -> Prediction:
        return Prediction.of(probabilities.numpy(), None if attention is None else attention.numpy())

    def __call__(self, inputs: np.ndarray) -> Prediction:
        """Predict for int inputs (batch, n_in) with values in [0, K)."""
        probabilities, attention = self._forward(self._one_hot(inputs))
        return self._prediction(probabilities, attention if self.with_attention else None)

    def force(self, inputs: np.ndarray, step: int, row: np.ndarray) -> Prediction:
        """Predict with output ``step``'s attention replaced by ``row`` (a what-if).

        The decoder runs again from the start; at ``step`` it reads the context
        of ``row`` instead of its own attention, and every later step follows
        from there (its state and fed-back output changed), with attention of
        its own. Earlier steps are unchanged.

        Args:
            inputs: int (n_in,) or (batch, n_in) with values in [0, K); every
                sequence of a batch gets the same override.
            step: the output step to override, 0 .. steps - 1.
            row: float (n_in,) attention weights, non-negative, summing to 1.

        Returns:
            A :class:`Prediction` whose ``attention[:, step]`` is ``row``.

        Raises:
            ValueError: a model without attention, a step out of range, or a
                row of the wrong length, with negative weights or not summing to 1.
        """
        if self._forced is None:
            raise ValueError(NO_ATTENTION)
        x = self._one_hot(inputs)
        rows, mask = forced_rows(int(x.shape[0]), self.steps, self.n_in, step, row)
        probabilities, attention = self._forced(x, tf.constant(rows), tf.constant(mask))
        return self._prediction(probabilities, attention)


def predict(model: keras.Model, inputs: np.ndarray) -> Prediction:
    """One-off batched prediction; use :class:`Predictor` for repeated calls."""
    return Predictor(model)(inputs)
