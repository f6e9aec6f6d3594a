"""The attention decoder's equations, written once for any array library.

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

:func:`decode` runs them with the array functions it is given: ``keras.ops`` in
the Keras layer (:class:`seqattn.model.attention.AttentionDecoder`, trained and
compiled by TensorFlow) and NumPy in :mod:`seqattn.model.inference`, which answers the
dashboard's keystrokes without importing TensorFlow. One function for both means
the two can never drift apart. This module imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# (name, shape key, initializer). Shape keys: D encoder size, U units, K outputs.
WEIGHT_SPECS: tuple[tuple[str, tuple[str, ...], str], ...] = (
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

WEIGHT_NAMES: tuple[str, ...] = tuple(name for name, _, _ in WEIGHT_SPECS)


def decode(
    xp: Any,
    weights: Mapping[str, Any],
    h: Any,
    steps: int,
    forced_attention: Any = None,
    forced_mask: Any = None,
    input_mask: Any = None,
) -> tuple[Any, Any]:
    """Run the decoder over encoder states.

    Args:
        xp: the array functions: ``matmul``, ``tanh``, ``sigmoid``, ``softmax(x, axis)``,
            ``sum(x, axis)``, ``zeros_like`` and ``stack(xs, axis)`` (``keras.ops`` has them all).
        weights: the arrays named in ``WEIGHT_NAMES``.
        h: encoder states (batch, T, D).
        steps: output steps to decode.
        forced_attention: optional (batch, steps, T) rows to use instead of the
            decoder's own attention, where ``forced_mask`` (batch, steps) is 1
            (values between blend the two). Both or neither.
        input_mask: optional (batch, T), 1.0 at input positions that may be attended and 0.0
            at padding: the decoder's own attention gives padding exactly zero weight (each
            row still sums to 1 over the rest). None attends everywhere (the equations as written).

    Returns:
        (probabilities (batch, steps, K), attention (batch, steps, T)).
    """
    w = weights
    # Attention keys depend only on the encoder states: compute them once.
    keys = xp.matmul(h, w["U_a"]) + w["b_a"]  # (B, T, U)
    state = xp.tanh(xp.matmul(h[:, 0, :], w["W_s"]))  # s_0: (B, U)
    previous = xp.zeros_like(xp.matmul(h[:, 0, :], w["C_o"]))  # y_0: (B, K)
    # exp(-1e9) is exactly 0 in float32: padding gets no weight, the rest renormalises.
    masked = None if input_mask is None else (1.0 - input_mask) * -1e9  # (B, T)
    outputs, attentions = [], []
    # T is small and static here, so an unrolled Python loop keeps every step
    # visible to XLA and matches the equations line for line.
    for t in range(steps):
        query = xp.matmul(state, w["W_a"])  # (B, U)
        energy = xp.sum(xp.tanh(query[:, None, :] + keys) * w["V_a"], axis=-1)  # (B, T)
        if masked is not None:
            energy = energy + masked
        attention = xp.softmax(energy, axis=-1)
        if forced_attention is not None:
            # A mask of exactly 0 or 1 gives exactly the layer's row or the
            # forced one (0 * x + 1 * y == y in floating point).
            weight = forced_mask[:, t, None]  # (B, 1)
            attention = weight * forced_attention[:, t, :] + (1.0 - weight) * attention
        context = xp.sum(attention[:, :, None] * h, axis=1)  # (B, D)
        reset = xp.sigmoid(
            xp.matmul(previous, w["W_r"]) + xp.matmul(state, w["U_r"])
            + xp.matmul(context, w["C_r"]) + w["b_r"]
        )
        update = xp.sigmoid(
            xp.matmul(previous, w["W_z"]) + xp.matmul(state, w["U_z"])
            + xp.matmul(context, w["C_z"]) + w["b_z"]
        )
        proposal = xp.tanh(
            xp.matmul(previous, w["W_p"]) + xp.matmul(reset * state, w["U_p"])
            + xp.matmul(context, w["C_p"]) + w["b_p"]
        )
        # y_t reads s_{t-1}, so it is computed before the state moves on.
        output = xp.softmax(
            xp.matmul(previous, w["W_o"]) + xp.matmul(state, w["U_o"])
            + xp.matmul(context, w["C_o"]) + w["b_o"],
            axis=-1,
        )
        state = (1.0 - update) * state + update * proposal
        previous = output
        outputs.append(output)
        attentions.append(attention)
    return xp.stack(outputs, axis=1), xp.stack(attentions, axis=1)
