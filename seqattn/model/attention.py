"""Bahdanau-style attention decoder, written from ``shared/spec/attention-decoder.md``.

The equations, and the one function that runs them (:func:`seqattn.model.decoding.decode`,
shared with the NumPy predictor of :mod:`seqattn.model.inference`), are in
:mod:`seqattn.model.decoding`; this module is the Keras layer around them: weights,
configuration, saving.

A what-if override may replace ``a_t`` of chosen steps by given rows before the
context is formed (``forced_attention``, ``forced_mask``); without one the layer
is exactly the equations.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import keras
from keras import ops

from seqattn.model.decoding import WEIGHT_NAMES, WEIGHT_SPECS, decode

# The random initializers of WEIGHT_SPECS, and how many weights use one (each takes one seed).
SEEDED_INITIALIZERS = {"glorot_uniform": keras.initializers.GlorotUniform, "orthogonal": keras.initializers.Orthogonal}
SEEDED_WEIGHTS = sum(1 for _, _, initializer in WEIGHT_SPECS if initializer in SEEDED_INITIALIZERS)


@keras.saving.register_keras_serializable(package="seqattn")
class AttentionDecoder(keras.layers.Layer):
    """Recurrent decoder that attends over encoder states at every output step.

    Bahdanau et al. (2015) additive attention feeding a GRU-like state update;
    the decoder feeds back its own softmax output (no teacher forcing).

    Args:
        units: Positive int, size U of the decoder state and attention space.
        output_dim: Positive int, size K of each output distribution.
        output_steps: Positive int or ``None``. Number of decoding steps; ``None``
            means as many steps as the input has (the tutorial's layer).
        initializer_seeds: Optional sequence of ``SEEDED_WEIGHTS`` ints, the seeds of the
            randomly initialised weights in ``WEIGHT_SPECS`` order; ``None`` (the default)
            lets Keras draw them. Not saved with the layer (a loaded layer has its weights).
        pad_token: Optional int, the input token that only pads. With it the call needs
            ``tokens`` and the attention gives padded positions exactly zero weight.
        **kwargs: Base layer keyword arguments, such as ``name``.

    Call arguments:
        inputs: Encoder states ``h`` of shape ``(batch_size, T, D)``; ``T`` must
            be known when the layer is built.
        tokens: The model's one-hot input ``(batch_size, T, vocabulary)``; needed (and only
            read) with ``pad_token``: position j is padding where ``tokens[:, j, pad_token]`` is 1.
        return_attention: bool. If ``True``, also return the attention
            probabilities. Defaults to ``False``.
        forced_attention: Optional float tensor ``(batch_size, steps, T)``:
            attention rows to use instead of the layer's own (each row should
            sum to 1). ``None`` (the default) runs the equations unchanged.
        forced_mask: Optional float tensor ``(batch_size, steps)``, used with
            ``forced_attention``: 1.0 where a step's attention is replaced by
            the forced row, 0.0 where the layer's own softmax is kept (values
            between blend the two). ``None`` with ``forced_attention`` given
            means every step is forced. The forced step's context, and so its
            output, state and everything after, follow from the forced row;
            the returned attention shows the row actually used.

    Output:
        Output probabilities of shape ``(batch_size, steps, output_dim)``, each
        row summing to 1, and, when ``return_attention=True``, attention
        probabilities of shape ``(batch_size, steps, T)``: row t is output step
        t, column j input position j, each row summing to 1.
    """

    def __init__(
        self,
        units: int,
        output_dim: int,
        output_steps: int | None = None,
        initializer_seeds: Sequence[int] | None = None,
        pad_token: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for name, value in (("units", units), ("output_dim", output_dim)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int; got {value!r}")
        if output_steps is not None and (not isinstance(output_steps, int) or output_steps < 1):
            raise ValueError(f"output_steps must be None or a positive int; got {output_steps!r}")
        self.units = units
        self.output_dim = output_dim
        self.output_steps = output_steps
        if pad_token is not None and (not isinstance(pad_token, int) or pad_token < 0):
            raise ValueError(f"pad_token must be None or a token index; got {pad_token!r}")
        self.pad_token = pad_token
        if initializer_seeds is not None and len(initializer_seeds) != SEEDED_WEIGHTS:
            raise ValueError(f"initializer_seeds must hold {SEEDED_WEIGHTS} seeds, one per randomly "
                             f"initialised weight; got {len(initializer_seeds)}")
        self.initializer_seeds = None if initializer_seeds is None else [int(s) for s in initializer_seeds]
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        timesteps, features = input_shape[1], input_shape[2]
        if features is None:
            raise ValueError("AttentionDecoder needs the encoder state size (last axis) to be known.")
        if self.output_steps is None and timesteps is None:
            raise ValueError(
                "AttentionDecoder with output_steps=None needs a known input length; "
                "give the Input a fixed number of timesteps or set output_steps."
            )
        sizes = {"D": features, "U": self.units, "K": self.output_dim}
        seeds = iter(self.initializer_seeds or ())
        for name, shape_keys, initializer in WEIGHT_SPECS:
            weight = self.add_weight(
                name=name,
                shape=tuple(sizes[key] for key in shape_keys),
                initializer=self.initializer(initializer, seeds),
                trainable=True,
            )
            setattr(self, name, weight)

    def initializer(self, name: str, seeds: Iterator[int]) -> Any:
        """The initializer called ``name`` (a Keras name), seeded with the next of ``seeds`` if it is random.

        Without seeds (``initializer_seeds=None``) Keras draws each random initializer's seed itself.
        """
        if name not in SEEDED_INITIALIZERS or self.initializer_seeds is None:
            return name
        return SEEDED_INITIALIZERS[name](seed=next(seeds))

    def _steps(self, timesteps: int | None) -> int:
        return self.output_steps if self.output_steps is not None else timesteps

    def call(
        self,
        inputs: Any,
        tokens: Any = None,
        return_attention: bool = False,
        forced_attention: Any = None,
        forced_mask: Any = None,
    ) -> Any:
        h = inputs
        steps = self._steps(h.shape[1])
        if forced_attention is None and forced_mask is not None:
            raise ValueError("forced_mask needs forced_attention (the rows to force).")
        if forced_attention is not None:
            forced_attention = ops.convert_to_tensor(forced_attention, dtype=h.dtype)
            if forced_mask is None:
                forced_mask = ops.ones_like(forced_attention[:, :, 0])
            forced_mask = ops.convert_to_tensor(forced_mask, dtype=h.dtype)
        input_mask = None
        if self.pad_token is not None:
            if tokens is None:
                raise ValueError("an AttentionDecoder with pad_token needs the one-hot input tokens (tokens=...).")
            input_mask = 1.0 - ops.convert_to_tensor(tokens, dtype=h.dtype)[:, :, self.pad_token]
        weights = {name: getattr(self, name) for name in WEIGHT_NAMES}
        probabilities, attention = decode(ops, weights, h, steps, forced_attention, forced_mask, input_mask)
        if return_attention:
            return probabilities, attention
        return probabilities

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], self._steps(input_shape[1]), self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {"units": self.units, "output_dim": self.output_dim, "output_steps": self.output_steps}
        )
        if self.pad_token is not None:  # absent otherwise, so models saved before it read the same
            config["pad_token"] = self.pad_token
        return config
