"""Predictions from a saved ``.keras`` file with NumPy alone: no TensorFlow in the dashboard.

Opening Explore on a fresh server used to wait seconds for TensorFlow's import,
Keras's model loading and the tracing of a ``tf.function``; the models are tiny
and the inputs a handful of tokens, so NumPy answers a keystroke in well under a
millisecond once the weights are read. :class:`ArrayPredictor` reads the archive
Keras wrote (``config.json`` for the layers, ``model.weights.h5`` for the weights,
through h5py) and runs the same forward pass:

- ``LSTM`` layers (Keras's gates ``i, f, c, o``; tanh and sigmoid activations),
  alone or in a ``Bidirectional`` wrapper (concatenated forward and backward states);
- ``RepeatVector``, ``Dense`` and ``TimeDistributed(Dense)`` with a softmax;
- :class:`seqattn.model.attention.AttentionDecoder`, through the very function the Keras
  layer calls (:func:`seqattn.model.decoding.decode`), given NumPy instead of ``keras.ops``;
  with a ``pad_token`` it reads the model's input (the only other input the decoder takes).

Anything else raises :class:`UnsupportedModel`; callers then load the model with
Keras. The weights are read by Keras's own layout of the file: each layer of
the model under ``layers/<snake_case class name>`` (``_1``, ``_2`` for repeats, in
the model's order), its variables as ``vars/0, 1, ...`` in creation order. Tests
compare every prediction with Keras's own for each model this project builds.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from seqattn.model.decoding import WEIGHT_NAMES, decode
from seqattn.model.prediction import NO_ATTENTION, Prediction, forced_rows, one_hot_inputs

Layer = Callable[[np.ndarray], np.ndarray]


class UnsupportedModel(ValueError):
    """The archive holds a layer or setting this module cannot run (load it with Keras instead)."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


# The array functions :func:`seqattn.model.decoding.decode` needs, as NumPy gives them.
NUMPY_OPS = SimpleNamespace(
    matmul=np.matmul, tanh=np.tanh, sigmoid=_sigmoid, softmax=_softmax,
    sum=np.sum, zeros_like=np.zeros_like, stack=np.stack,
)


def _snake_case(name: str) -> str:
    # As keras.src.utils.naming.to_snake_case: how the weights file names a layer's group.
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _variables(group: Any) -> list[np.ndarray]:
    """A layer's ``vars/0, 1, ...`` in order, as float32 arrays."""
    if group is None or "vars" not in group:
        return []
    stored = group["vars"]
    return [np.asarray(stored[str(i)], dtype=np.float32) for i in range(len(stored))]


def _lstm(config: dict[str, Any], group: Any) -> Layer:
    """An LSTM (return_sequences or last state) over (batch, T, F) -> (batch, [T,] units)."""
    if (config.get("activation"), config.get("recurrent_activation")) != ("tanh", "sigmoid") or \
            config.get("return_state") or not config.get("use_bias", True):
        raise UnsupportedModel(f"LSTM {config.get('name')!r} has settings NumPy inference does not run")
    kernel, recurrent, bias = _variables(group["cell"])
    units = recurrent.shape[0]
    sequences = bool(config.get("return_sequences"))
    backwards = bool(config.get("go_backwards"))

    def run(x: np.ndarray) -> np.ndarray:
        batch, steps = x.shape[0], x.shape[1]
        inputs = x @ kernel + bias  # (B, T, 4U): the input's part of every gate, for all steps at once
        h = np.zeros((batch, units), dtype=np.float32)
        c = np.zeros((batch, units), dtype=np.float32)
        order = range(steps - 1, -1, -1) if backwards else range(steps)
        states = []
        for t in order:
            z = inputs[:, t] + h @ recurrent
            i, f, g, o = np.split(z, 4, axis=-1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            states.append(h)
        # As Keras: with go_backwards the sequence comes out in the order it was read.
        return np.stack(states, axis=1) if sequences else h

    return run


def _dense(config: dict[str, Any], group: Any) -> Layer:
    if config.get("activation") != "softmax" or not config.get("use_bias", True):
        raise UnsupportedModel(f"Dense {config.get('name')!r} has settings NumPy inference does not run")
    kernel, bias = _variables(group)
    return lambda x: _softmax(x @ kernel + bias)


def _layer(entry: dict[str, Any], group: Any) -> tuple[Layer | None, Any]:
    """One layer of the archive's model as a function, and its decoder settings if it is one."""
    kind, config = entry["class_name"], entry["config"]
    if kind == "InputLayer":
        return None, None
    if kind == "LSTM":
        return _lstm(config, group), None
    if kind == "Bidirectional":
        inner = config["layer"]
        if inner["class_name"] != "LSTM" or config.get("merge_mode") != "concat":
            raise UnsupportedModel("only a Bidirectional LSTM with concatenated states runs without TensorFlow")
        forward = _lstm(inner["config"], group["forward_layer"])
        backward_config = config.get("backward_layer", inner)["config"]
        backward = _lstm(backward_config, group["backward_layer"])
        # As Keras's Bidirectional: the backward sequence is flipped back into input order.
        flip = (lambda y: y[:, ::-1]) if backward_config.get("return_sequences") else (lambda y: y)
        return (lambda x: np.concatenate([forward(x), flip(backward(x))], axis=-1)), None
    if kind == "RepeatVector":
        n = int(config["n"])
        return (lambda x: np.repeat(x[:, None, :], n, axis=1)), None
    if kind == "Dense":
        return _dense(config, group), None
    if kind == "TimeDistributed" and config["layer"]["class_name"] == "Dense":
        return _dense(config["layer"]["config"], group["layer"]), None
    if kind == "AttentionDecoder":
        weights = dict(zip(WEIGHT_NAMES, _variables(group), strict=True))
        return None, SimpleNamespace(weights=weights, output_steps=config.get("output_steps"),
                                     pad_token=config.get("pad_token"))
    raise UnsupportedModel(f"a {kind} layer does not run without TensorFlow")


class ArrayPredictor:
    """A saved model's forward pass in NumPy, with :class:`seqattn.model.builders.Predictor`'s interface.

    Attributes:
        cardinality: K; n_in: input length; steps: output steps;
        with_attention: True for a model with an attention decoder; name: the model's name.
    """

    def __init__(self, name: str, n_in: int, cardinality: int, encoder: list[Layer],
                 decoder: SimpleNamespace | None, head: list[Layer]) -> None:
        self.name = name
        self.n_in = n_in
        self.cardinality = cardinality
        self.with_attention = decoder is not None
        self._encoder = encoder
        self._decoder = decoder
        self._head = head
        # The layers decide the output length (a RepeatVector's n, the decoder's steps): one pass tells.
        self.steps = int(self._run(np.zeros((1, n_in, cardinality), np.float32))[0].shape[1])

    @classmethod
    def from_file(cls, path: str | Path) -> ArrayPredictor:
        """Read a ``.keras`` archive written by Keras 3.

        Raises:
            UnsupportedModel: a layer or setting not listed in this module's docstring.
            OSError, KeyError, ValueError, zipfile.BadZipFile: a damaged archive.
        """
        import h5py  # only a load needs it: pages import this module before any run is chosen

        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            weights = io.BytesIO(archive.read("model.weights.h5"))
        if config.get("class_name") != "Functional":
            raise UnsupportedModel(f"a {config.get('class_name')} model does not run without TensorFlow")
        model = config["config"]
        used: dict[str, int] = {}
        before: list[Layer] = []
        after: list[Layer] = []
        decoder = None
        n_in = cardinality = None
        with h5py.File(weights, "r") as stored:
            for entry in model["layers"]:
                if entry["class_name"] == "InputLayer":
                    _, n_in, cardinality = entry["config"]["batch_shape"]
                key = _snake_case(entry["class_name"])
                group_name = key if key not in used else f"{key}_{used[key]}"
                used[key] = used.get(key, 0) + 1
                layer, decoder_here = _layer(entry, stored["layers"].get(group_name))
                if decoder_here is not None:
                    if decoder is not None:
                        raise UnsupportedModel("a model with two attention decoders")
                    decoder = decoder_here
                elif layer is not None:
                    (after if decoder is not None else before).append(layer)
        if n_in is None or cardinality is None:
            raise UnsupportedModel("the model has no input layer with a known shape")
        return cls(model.get("name", Path(path).stem), int(n_in), int(cardinality), before, decoder, after)

    def _run(self, x: np.ndarray, forced: tuple[np.ndarray, np.ndarray] | None = None
             ) -> tuple[np.ndarray, np.ndarray | None]:
        tokens = x
        for layer in self._encoder:
            x = layer(x)
        attention = None
        if self._decoder is not None:
            steps = self._decoder.output_steps or x.shape[1]
            rows, mask = forced if forced is not None else (None, None)
            pad = self._decoder.pad_token
            # As the Keras layer: padded positions (the model's one-hot input says which) get no attention.
            input_mask = None if pad is None else 1.0 - tokens[:, :, pad]
            x, attention = decode(NUMPY_OPS, self._decoder.weights, x, steps, rows, mask, input_mask)
        for layer in self._head:
            x = layer(x)
        return x, attention

    def __call__(self, inputs: np.ndarray) -> Prediction:
        """Predict for int inputs (n_in,) or (batch, n_in) with values in [0, K)."""
        probabilities, attention = self._run(one_hot_inputs(inputs, self.n_in, self.cardinality))
        return Prediction.of(probabilities, attention)

    def force(self, inputs: np.ndarray, step: int, row: np.ndarray) -> Prediction:
        """As :meth:`seqattn.model.builders.Predictor.force`: output ``step``'s attention replaced by ``row`` (n_in,).

        Raises:
            ValueError: a model without attention, a step out of range, or a bad row.
        """
        if self._decoder is None:
            raise ValueError(NO_ATTENTION)
        x = one_hot_inputs(inputs, self.n_in, self.cardinality)
        probabilities, attention = self._run(x, forced_rows(x.shape[0], self.steps, self.n_in, step, row))
        return Prediction.of(probabilities, attention)
