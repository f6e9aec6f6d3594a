"""Bahdanau-style attention decoder, written from ``shared/spec/attention-decoder.md``.

The equations, per output step t (``s`` the decoder state, ``y`` its own previous
softmax output, ``h`` the encoder states):

    e_tj = V_a . tanh(s_{t-1} W_a + h_j U_a + b_a)
    a_t  = softmax_j(e_tj);   c_t = sum_j a_tj h_j
    r_t  = sigmoid(y_{t-1} W_r + s_{t-1} U_r + c_t C_r + b_r)
    z_t  = sigmoid(y_{t-1} W_z + s_{t-1} U_z + c_t C_z + b_z)
    p_t  = tanh(y_{t-1} W_p + (r_t * s_{t-1}) U_p + c_t C_p + b_p)
    s_t  = (1 - z_t) * s_{t-1} + z_t * p_t
    y_t  = softmax(y_{t-1} W_o + s_{t-1} U_o + c_t C_o + b_o)

with ``s_0 = tanh(h_0 W_s)`` and ``y_0 = 0``.

A what-if override may replace ``a_t`` of chosen steps by given rows before the
context is formed (``forced_attention``, ``forced_mask``); without one the layer
is exactly the equations above.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

# (name, shape key, initializer). Shape keys: D encoder size, U units, K outputs.
_WEIGHT_SPECS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("V_a", ("U",), "glorot_uniform"),
    ("W_a", ("U", "U"), "glorot_uniform"),
    ("U_a", ("D", "U"), "glorot_uniform"),
    ("b_a", ("U",), "zeros"),
    ("C_r", ("D", "U"), "orthogonal"),
    ("U_r", ("U", "U"), "orthogonal"),
    ("W_r", ("K", "U"), "orthogonal"),
    ("b_r", ("U",), "zeros"),
    ("C_z", ("D", "U"), "orthogonal"),
    ("U_z", ("U", "U"), "orthogonal"),
    ("W_z", ("K", "U"), "orthogonal"),
    ("b_z", ("U",), "zeros"),
    ("C_p", ("D", "U"), "orthogonal"),
    ("U_p", ("U", "U"), "orthogonal"),
    ("W_p", ("K", "U"), "orthogonal"),
    ("b_p", ("U",), "zeros"),
    ("C_o", ("D", "K"), "orthogonal"),
    ("U_o", ("U", "K"), "orthogonal"),
    ("W_o", ("K", "K"), "orthogonal"),
    ("b_o", ("K",), "zeros"),
    ("W_s", ("D", "U"), "orthogonal"),
)

WEIGHT_NAMES: tuple[str, ...] = tuple(name for name, _, _ in _WEIGHT_SPECS)


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
        **kwargs: Base layer keyword arguments, such as ``name``.

    Call arguments:
        inputs: Encoder states ``h`` of shape ``(batch_size, T, D)``; ``T`` must
            be known when the layer is built.
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
        for name, shape_keys, initializer in _WEIGHT_SPECS:
            weight = self.add_weight(
                name=name,
                shape=tuple(sizes[key] for key in shape_keys),
                initializer=initializer,
                trainable=True,
            )
            setattr(self, name, weight)

    def _steps(self, timesteps: int | None) -> int:
        return self.output_steps if self.output_steps is not None else timesteps

    def call(
        self,
        inputs: Any,
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
        # Attention keys depend only on the encoder states: compute them once.
        keys = ops.matmul(h, self.U_a) + self.b_a  # (B, T, U)
        state = ops.tanh(ops.matmul(h[:, 0, :], self.W_s))  # s_0: (B, U)
        previous = ops.zeros_like(ops.matmul(h[:, 0, :], self.C_o))  # y_0: (B, K)
        outputs, attentions = [], []
        # T is small and static here, so an unrolled Python loop keeps every step
        # visible to XLA and matches the equations line for line.
        for t in range(steps):
            query = ops.matmul(state, self.W_a)  # (B, U)
            energy = ops.sum(ops.tanh(query[:, None, :] + keys) * self.V_a, axis=-1)  # (B, T)
            attention = ops.softmax(energy, axis=-1)
            if forced_attention is not None:
                # A mask of exactly 0 or 1 gives exactly the layer's row or the
                # forced one (0 * x + 1 * y == y in floating point).
                weight = forced_mask[:, t, None]  # (B, 1)
                attention = weight * forced_attention[:, t, :] + (1.0 - weight) * attention
            context = ops.sum(attention[:, :, None] * h, axis=1)  # (B, D)
            reset = ops.sigmoid(
                ops.matmul(previous, self.W_r) + ops.matmul(state, self.U_r)
                + ops.matmul(context, self.C_r) + self.b_r
            )
            update = ops.sigmoid(
                ops.matmul(previous, self.W_z) + ops.matmul(state, self.U_z)
                + ops.matmul(context, self.C_z) + self.b_z
            )
            proposal = ops.tanh(
                ops.matmul(previous, self.W_p) + ops.matmul(reset * state, self.U_p)
                + ops.matmul(context, self.C_p) + self.b_p
            )
            # y_t reads s_{t-1}, so it is computed before the state moves on.
            output = ops.softmax(
                ops.matmul(previous, self.W_o) + ops.matmul(state, self.U_o)
                + ops.matmul(context, self.C_o) + self.b_o,
                axis=-1,
            )
            state = (1.0 - update) * state + update * proposal
            previous = output
            outputs.append(output)
            attentions.append(attention)
        probabilities = ops.stack(outputs, axis=1)
        if return_attention:
            return probabilities, ops.stack(attentions, axis=1)
        return probabilities

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], self._steps(input_shape[1]), self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {"units": self.units, "output_dim": self.output_dim, "output_steps": self.output_steps}
        )
        return config
