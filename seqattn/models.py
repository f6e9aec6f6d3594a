"""The two encoder-decoder models of the experiment, and fast batched prediction.

Both follow the seed's architectures (spec): every layer is named explicitly so
that names never depend on Keras's global counters (Streamlit clears the Keras
session between script runs, which would otherwise make names collide).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from seqattn.attention import AttentionDecoder
from seqattn.configuration import check_int_range
from seqattn.problem import ProblemConfig, one_hot
from seqattn.registry import model_kind
from seqattn.model_config import MAX_UNITS

# Unrolling short LSTMs lets XLA fuse the steps (about 1.6x faster updates on
# the seed problem); long inputs would make the compiled graph too large.
MAX_UNROLL = 20


def _compile(model: keras.Model, learning_rate: float) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
    )
    return model


def build_baseline(problem: ProblemConfig, units: int = 150, learning_rate: float = 1e-3) -> keras.Model:
    """Encoder-decoder without attention (the seed's baseline).

    LSTM(units) -> RepeatVector(steps) -> LSTM(units, return_sequences) ->
    TimeDistributed(Dense(K, softmax)). Input (batch, n_in, K) one-hot; output
    (batch, target_len, K) probabilities. Compiled with Adam and categorical
    cross-entropy.
    """
    check_int_range("units", units, 1, MAX_UNITS)
    unroll = problem.n_in <= MAX_UNROLL
    inputs = keras.Input(shape=(problem.n_in, problem.cardinality), name="tokens")
    encoded = keras.layers.LSTM(units, unroll=unroll, name="encoder")(inputs)
    repeated = keras.layers.RepeatVector(problem.target_len, name="repeat")(encoded)
    decoded = keras.layers.LSTM(units, unroll=unroll, return_sequences=True, name="decoder")(repeated)
    outputs = keras.layers.TimeDistributed(
        keras.layers.Dense(problem.cardinality, activation="softmax", name="dense"), name="output"
    )(decoded)
    return _compile(keras.Model(inputs, outputs, name="baseline"), learning_rate)


def build_attention(problem: ProblemConfig, units: int = 150, learning_rate: float = 1e-3) -> keras.Model:
    """Encoder-decoder with the attention decoder (the seed's attention model).

    LSTM(units, return_sequences) -> AttentionDecoder(units, K). Input
    (batch, n_in, K) one-hot; output (batch, target_len, K) probabilities.
    With ``problem.pad_target=False`` the decoder runs ``n_out`` steps.
    """
    check_int_range("units", units, 1, MAX_UNITS)
    unroll = problem.n_in <= MAX_UNROLL
    inputs = keras.Input(shape=(problem.n_in, problem.cardinality), name="tokens")
    states = keras.layers.LSTM(units, unroll=unroll, return_sequences=True, name="encoder")(inputs)
    steps = None if problem.pad_target else problem.n_out
    outputs = AttentionDecoder(units, problem.cardinality, output_steps=steps, name="decoder")(states)
    return _compile(keras.Model(inputs, outputs, name="attention"), learning_rate)


def build_model(kind: str, problem: ProblemConfig, units: int = 150, learning_rate: float = 1e-3) -> keras.Model:
    """The model of a registered kind (:mod:`seqattn.registry`), built by its builder here.

    Raises:
        ValueError: an unknown kind (the message lists the registered ones).
    """
    builder = globals()[model_kind(kind).builder]
    return builder(problem, units, learning_rate)


def has_attention(model: keras.Model) -> bool:
    """True if the model's decoder is an :class:`AttentionDecoder`."""
    return any(isinstance(layer, AttentionDecoder) for layer in model.layers)


@dataclass(frozen=True)
class Prediction:
    """What a model says about a batch of input sequences.

    Attributes:
        tokens: int32 (batch, steps), the argmax token at each output step.
        confidence: float32 (batch, steps), the probability of that token.
        probabilities: float32 (batch, steps, K).
        attention: float32 (batch, steps, n_in) for the attention model, else None.
    """

    tokens: np.ndarray
    confidence: np.ndarray
    probabilities: np.ndarray
    attention: np.ndarray | None


class Predictor:
    """A model's forward pass compiled once, for many fast predictions.

    ``model.predict`` costs tens of milliseconds per call even for one
    sequence; a traced ``tf.function`` costs about a millisecond, which keeps
    the dashboard's answer to each keystroke instant.
    """

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        self.cardinality = int(model.input_shape[-1])
        self.n_in = int(model.input_shape[1])
        self.with_attention = has_attention(model)
        if self.with_attention:
            encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")

            def forward(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                return decoder(encoder(x), return_attention=True)

        else:

            def forward(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                probabilities = model(x)
                return probabilities, tf.zeros((tf.shape(x)[0], 0, 0))

        self._forward = tf.function(forward, reduce_retracing=True)

    def __call__(self, inputs: np.ndarray) -> Prediction:
        """Predict for int inputs (batch, n_in) with values in [0, K)."""
        inputs = np.asarray(inputs, dtype=np.int32)
        if inputs.ndim == 1:
            inputs = inputs[None, :]
        if inputs.ndim != 2 or inputs.shape[1] != self.n_in:
            raise ValueError(f"inputs must have shape (batch, {self.n_in}); got {inputs.shape}")
        if inputs.size and (inputs.min() < 0 or inputs.max() >= self.cardinality):
            raise ValueError(f"input tokens must be in 0..{self.cardinality - 1}")
        probabilities, attention = self._forward(tf.constant(one_hot(inputs, self.cardinality)))
        probabilities = probabilities.numpy()
        tokens = np.argmax(probabilities, axis=-1).astype(np.int32)
        confidence = np.take_along_axis(probabilities, tokens[..., None], axis=-1)[..., 0]
        return Prediction(
            tokens=tokens,
            confidence=confidence.astype(np.float32),
            probabilities=probabilities,
            attention=attention.numpy() if self.with_attention else None,
        )


def predict(model: keras.Model, inputs: np.ndarray) -> Prediction:
    """One-off batched prediction; use :class:`Predictor` for repeated calls."""
    return Predictor(model)(inputs)
