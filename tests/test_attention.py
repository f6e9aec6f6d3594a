"""AttentionDecoder against the spec (shared/spec/attention-decoder.md).

The NumPy reference below is written from the spec's equations, independently of
seqattn/attention.py, and the layer must reproduce it to 1e-5.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from seqattn.model.attention import AttentionDecoder

REPO = Path(__file__).resolve().parents[1]

SPEC_NAMES = [
    "V_a", "W_a", "U_a", "b_a",
    "C_r", "U_r", "W_r", "b_r",
    "C_z", "U_z", "W_z", "b_z",
    "C_p", "U_p", "W_p", "b_p",
    "C_o", "U_o", "W_o", "b_o",
    "W_s",
]


def spec_shapes(D: int, U: int, K: int) -> dict[str, tuple[int, ...]]:
    """The spec's weight table."""
    shapes = {"V_a": (U,), "W_a": (U, U), "U_a": (D, U), "b_a": (U,), "W_s": (D, U)}
    for g in "rzp":
        shapes.update({f"C_{g}": (D, U), f"U_{g}": (U, U), f"W_{g}": (K, U), f"b_{g}": (U,)})
    shapes.update({"C_o": (D, K), "U_o": (U, K), "W_o": (K, K), "b_o": (K,)})
    return shapes


def short_name(variable: object) -> str:
    """A variable's own name: ``.path`` is ``layer/name``, ``.name`` is ``name``."""
    path = getattr(variable, "path", None) or variable.name  # type: ignore[attr-defined]
    return path.split("/")[-1].split(":")[0]


# --------------------------------------------------------------------------- reference


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def reference(
    h: np.ndarray,
    w: dict[str, np.ndarray],
    steps: int | None = None,
    output_from: str = "previous_state",
    feed_back: str = "own_output",
) -> tuple[np.ndarray, np.ndarray]:
    """The spec's decoder in float64 NumPy.

    ``output_from="new_state"`` and ``feed_back="zeros"`` are deliberately wrong
    variants (y_t from s_t; no feedback of y_{t-1}) used to show the comparison
    can tell them apart.
    """
    h = h.astype(np.float64)
    w = {k: v.astype(np.float64) for k, v in w.items()}
    B, T, D = h.shape
    K = w["b_o"].shape[0]
    steps = T if steps is None else steps
    uh = h @ w["U_a"] + w["b_a"]  # (B, T, U)
    s = np.tanh(h[:, 0, :] @ w["W_s"])  # s_0
    y = np.zeros((B, K))  # y_0
    ys, attns = [], []
    for _ in range(steps):
        e = np.einsum("btu,u->bt", np.tanh((s @ w["W_a"])[:, None, :] + uh), w["V_a"])
        a = _softmax(e)
        c = np.einsum("bt,btd->bd", a, h)
        r = _sigmoid(y @ w["W_r"] + s @ w["U_r"] + c @ w["C_r"] + w["b_r"])
        z = _sigmoid(y @ w["W_z"] + s @ w["U_z"] + c @ w["C_z"] + w["b_z"])
        p = np.tanh(y @ w["W_p"] + (r * s) @ w["U_p"] + c @ w["C_p"] + w["b_p"])
        s_new = (1.0 - z) * s + z * p
        s_out = s if output_from == "previous_state" else s_new
        y_new = _softmax(y @ w["W_o"] + s_out @ w["U_o"] + c @ w["C_o"] + w["b_o"])
        s = s_new
        y = y_new if feed_back == "own_output" else np.zeros_like(y_new)
        ys.append(y_new)
        attns.append(a)
    return np.stack(ys, axis=1), np.stack(attns, axis=1)


B, T, D, U, K = 3, 4, 6, 5, 7


def randomized_layer(
    output_steps: int | None = None, seed: int = 0, t: int = T
) -> tuple[AttentionDecoder, np.ndarray, dict[str, np.ndarray]]:
    """A built layer whose every weight is random normal * 0.5, and an input."""
    rng = np.random.default_rng(seed)
    layer = AttentionDecoder(U, K, output_steps=output_steps)
    h = rng.normal(size=(B, t, D)).astype(np.float32)
    layer(h)  # build
    weights = [(rng.normal(size=v.shape) * 0.5).astype(np.float32) for v in layer.weights]
    layer.set_weights(weights)
    by_name = {short_name(v): np.asarray(v.numpy()) for v in layer.weights}
    return layer, h, by_name


def run(layer: AttentionDecoder, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    outputs, attention = layer(h, return_attention=True)
    return keras.ops.convert_to_numpy(outputs), keras.ops.convert_to_numpy(attention)


@pytest.fixture(scope="module")
def random_case() -> tuple[AttentionDecoder, np.ndarray, dict[str, np.ndarray]]:
    return randomized_layer()


# --------------------------------------------------------------------------- weights


def test_weight_names_and_count(random_case) -> None:
    layer, _, _ = random_case
    assert len(layer.weights) == 21
    assert len(layer.trainable_weights) == 21
    assert [short_name(v) for v in layer.weights] == SPEC_NAMES
    # Keras's own attributes end in exactly the spec's names.
    for variable, name in zip(layer.weights, SPEC_NAMES):
        assert variable.name == name or variable.name.endswith("/" + name)
        assert variable.path.endswith("/" + name)


@pytest.mark.parametrize("dims", [(6, 5, 7), (3, 9, 2), (1, 1, 4)])
def test_weight_shapes_follow_the_spec_table(dims: tuple[int, int, int]) -> None:
    d, u, k = dims
    layer = AttentionDecoder(u, k)
    layer.build((None, 4, d))
    shapes = {short_name(v): tuple(v.shape) for v in layer.weights}
    assert shapes == spec_shapes(d, u, k)


def test_initializers_follow_the_spec() -> None:
    keras.utils.set_random_seed(0)
    layer = AttentionDecoder(8, 8)
    layer.build((None, 4, 8))
    w = {short_name(v): np.asarray(v.numpy()) for v in layer.weights}
    for name in ("b_a", "b_r", "b_z", "b_p", "b_o"):
        np.testing.assert_array_equal(w[name], 0.0)
    # Square orthogonal matrices: Q^T Q = I.
    for name in ("U_r", "U_z", "U_p", "W_o", "C_r", "W_s", "C_o"):
        np.testing.assert_allclose(w[name].T @ w[name], np.eye(8), atol=1e-5)
    # Glorot uniform: bounded by sqrt(6 / (fan_in + fan_out)), not orthogonal.
    limit = np.sqrt(6 / 16)
    assert np.abs(w["W_a"]).max() <= limit and np.abs(w["U_a"]).max() <= limit
    assert not np.allclose(w["W_a"].T @ w["W_a"], np.eye(8), atol=1e-2)


@pytest.mark.parametrize(
    "kwargs",
    [{"units": 0, "output_dim": 3}, {"units": 3, "output_dim": 0}, {"units": 2.0, "output_dim": 3},
     {"units": 3, "output_dim": 3, "output_steps": 0}],
)
def test_constructor_rejects_bad_sizes(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        AttentionDecoder(**kwargs)


def test_unknown_input_length_needs_output_steps() -> None:
    with pytest.raises(ValueError, match="output_steps"):
        AttentionDecoder(4, 3).build((None, None, 5))
    layer = AttentionDecoder(4, 3, output_steps=2)
    layer.build((None, None, 5))
    assert len(layer.weights) == 21


# --------------------------------------------------------------------------- outputs


def test_outputs_are_probability_rows(random_case) -> None:
    layer, h, _ = random_case
    outputs, attention = run(layer, h)
    assert outputs.shape == (B, T, K)
    assert np.all(outputs >= 0)
    np.testing.assert_allclose(outputs.sum(axis=-1), 1.0, atol=1e-5)
    plain = keras.ops.convert_to_numpy(layer(h))
    np.testing.assert_allclose(plain, outputs, atol=1e-6)


def test_attention_rows_sum_to_one(random_case) -> None:
    layer, h, _ = random_case
    _, attention = run(layer, h)
    assert attention.shape == (B, T, T)
    assert np.all(attention >= 0)
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, atol=1e-5)


def test_matches_the_numpy_reference(random_case) -> None:
    layer, h, w = random_case
    outputs, attention = run(layer, h)
    want_y, want_a = reference(h, w)
    np.testing.assert_allclose(outputs, want_y, atol=1e-5, rtol=0)
    np.testing.assert_allclose(attention, want_a, atol=1e-5, rtol=0)
    # The random weights make a non-trivial case: outputs are far from uniform
    # and attention is not uniform, so the comparison has teeth.
    assert np.abs(want_y - 1.0 / K).max() > 0.1
    assert np.abs(want_a - 1.0 / T).max() > 0.1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_the_reference_on_other_random_weights(seed: int) -> None:
    layer, h, w = randomized_layer(seed=seed)
    outputs, attention = run(layer, h)
    want_y, want_a = reference(h, w)
    np.testing.assert_allclose(outputs, want_y, atol=1e-5, rtol=0)
    np.testing.assert_allclose(attention, want_a, atol=1e-5, rtol=0)


def test_output_uses_the_previous_state_not_the_new_one(random_case) -> None:
    layer, h, w = random_case
    outputs, _ = run(layer, h)
    wrong_y, _ = reference(h, w, output_from="new_state")
    right_y, _ = reference(h, w)
    # The wrong variant is far from the layer (and from the right reference),
    # while the right one matches it to 1e-5.
    assert np.abs(outputs - wrong_y).max() > 1e-2
    assert np.abs(right_y - wrong_y).max() > 1e-2
    assert np.abs(outputs - right_y).max() < 1e-5


def test_output_feeds_back_its_own_softmax(random_case) -> None:
    layer, h, w = random_case
    outputs, _ = run(layer, h)
    no_feedback, _ = reference(h, w, feed_back="zeros")
    # Step 1 is identical (y_0 = 0 either way); later steps must differ.
    np.testing.assert_allclose(outputs[:, 0], no_feedback[:, 0], atol=1e-5)
    assert np.abs(outputs[:, 1:] - no_feedback[:, 1:]).max() > 1e-2


def test_no_teacher_forcing_outputs_depend_only_on_h(random_case) -> None:
    layer, h, _ = random_case
    # The same h gives the same outputs, batch rows are independent.
    outputs, attention = run(layer, h)
    single, single_attention = run(layer, h[1:2])
    np.testing.assert_allclose(single[0], outputs[1], atol=1e-6)
    np.testing.assert_allclose(single_attention[0], attention[1], atol=1e-6)


@pytest.mark.parametrize("steps", [2, 1, 4, 7])
def test_output_steps(steps: int) -> None:
    layer, h, w = randomized_layer(output_steps=steps, seed=10 + steps)
    outputs, attention = run(layer, h)
    assert outputs.shape == (B, steps, K)
    assert attention.shape == (B, steps, T)
    np.testing.assert_allclose(outputs.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-5)
    want_y, want_a = reference(h, w, steps=steps)
    np.testing.assert_allclose(outputs, want_y, atol=1e-5, rtol=0)
    np.testing.assert_allclose(attention, want_a, atol=1e-5, rtol=0)
    assert layer.compute_output_shape((None, T, D)) == (None, steps, K)


def test_output_steps_prefix_agrees_with_full_run() -> None:
    # With the same weights, 2 steps are the first 2 of the full T-step decode.
    full, h, w = randomized_layer(seed=5)
    short = AttentionDecoder(U, K, output_steps=2)
    short(h)
    short.set_weights(full.get_weights())
    y_full, a_full = run(full, h)
    y_short, a_short = run(short, h)
    np.testing.assert_allclose(y_short, y_full[:, :2], atol=1e-6)
    np.testing.assert_allclose(a_short, a_full[:, :2], atol=1e-6)


def test_in_a_functional_model_with_symbolic_shapes() -> None:
    inputs = keras.Input(shape=(T, D))
    outputs = AttentionDecoder(U, K, name="decoder")(inputs)
    model = keras.Model(inputs, outputs)
    assert tuple(model.output_shape) == (None, T, K)
    inputs = keras.Input(shape=(T, D))
    outputs = AttentionDecoder(U, K, output_steps=6)(inputs)
    assert tuple(keras.Model(inputs, outputs).output_shape) == (None, 6, K)


# --------------------------------------------------------------------------- config and saving


@pytest.mark.parametrize("output_steps", [None, 3])
def test_get_config_round_trip(output_steps: int | None) -> None:
    layer = AttentionDecoder(9, 4, output_steps=output_steps, name="my_decoder")
    config = layer.get_config()
    assert config["units"] == 9 and config["output_dim"] == 4
    assert config["output_steps"] == output_steps and config["name"] == "my_decoder"
    json.dumps(config)
    clone = AttentionDecoder.from_config(config)
    assert (clone.units, clone.output_dim, clone.output_steps, clone.name) == (9, 4, output_steps, "my_decoder")
    assert clone.get_config() == config
    # Serialization through Keras's registry finds the class.
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(again, AttentionDecoder) and again.get_config() == config


def test_registered_name() -> None:
    assert keras.saving.get_registered_name(AttentionDecoder) == "seqattn>AttentionDecoder"


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    """A small encoder + decoder model with random weights, saved to x.keras."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input(shape=(T, K), name="tokens")
    states = keras.layers.LSTM(8, return_sequences=True, name="encoder")(inputs)
    outputs = AttentionDecoder(8, K, name="decoder")(states)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(7)
    model.set_weights([(rng.normal(size=w.shape) * 0.5).astype(np.float32) for w in model.get_weights()])
    x = rng.random((B, T, K)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(model(x))
    path = tmp_path_factory.mktemp("saved") / "x.keras"
    model.save(path)
    np.save(path.parent / "x.npy", x)
    np.save(path.parent / "expected.npy", expected)
    return path, x, expected


def test_save_and_load_in_process(saved_model) -> None:
    path, x, expected = saved_model
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.get_layer("decoder"), AttentionDecoder)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), expected)


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


LOAD_AFTER_IMPORT = """
import sys
import keras
import seqattn.model.attention  # registers AttentionDecoder with Keras
import numpy as np
model = keras.models.load_model(sys.argv[1] if len(sys.argv) > 1 else "x.keras")
np.save("loaded.npy", keras.ops.convert_to_numpy(model(np.load("x.npy"))))
print("LOADED", type(model.get_layer("decoder")).__module__)
"""


def test_load_in_a_fresh_process_after_importing_the_layer(saved_model) -> None:
    path, _, expected = saved_model
    done = _python(LOAD_AFTER_IMPORT, cwd=path.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "LOADED seqattn.model.attention" in done.stdout
    np.testing.assert_array_equal(np.load(path.parent / "loaded.npy"), expected)


def test_load_in_a_fresh_process_fails_without_the_layer(saved_model) -> None:
    # Control: importing the layer's module is what makes the previous test pass.
    path, _, _ = saved_model
    done = _python("import seqattn\nimport keras\nkeras.models.load_model('x.keras')\n", cwd=path.parent)
    assert done.returncode != 0
    assert "AttentionDecoder" in done.stderr


IMPORT_SIDE_EFFECTS = """
import os, sys
before_env, before_hooks = dict(os.environ), list(sys.meta_path)
import seqattn
assert dict(os.environ) == before_env, sorted(set(os.environ.items()) ^ set(before_env.items()))
assert sys.meta_path == before_hooks, sys.meta_path
heavy = ('tensorflow', 'keras', 'pandas', 'plotly', 'seqattn.model', 'seqattn.training', 'seqattn.runs')
print('HEAVY', sorted(m for m in heavy if m in sys.modules))
assert seqattn.__version__
"""


def test_import_seqattn_has_no_side_effects() -> None:
    # No environment variable set, no import hook installed, nothing heavy loaded.
    env_without_flags = {k: v for k, v in os.environ.items() if k not in ("TF_XLA_FLAGS", "TF_CPP_MIN_LOG_LEVEL")}
    done = subprocess.run([sys.executable, "-c", IMPORT_SIDE_EFFECTS], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**env_without_flags, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "HEAVY []" in done.stdout


# --------------------------------------------------------------------------- forced attention (what-if)


def forced_reference(h: np.ndarray, w: dict[str, np.ndarray], rows: np.ndarray, mask: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The spec's decoder with a_t replaced by ``rows[:, t]`` where ``mask[:, t]`` is 1 (float64 NumPy)."""
    h = h.astype(np.float64)
    w = {k: v.astype(np.float64) for k, v in w.items()}
    uh = h @ w["U_a"] + w["b_a"]
    s = np.tanh(h[:, 0, :] @ w["W_s"])
    y = np.zeros((h.shape[0], w["b_o"].shape[0]))
    ys, attns = [], []
    for t in range(h.shape[1]):
        a = _softmax(np.einsum("btu,u->bt", np.tanh((s @ w["W_a"])[:, None, :] + uh), w["V_a"]))
        a = np.where(mask[:, t, None] > 0.5, rows[:, t], a)
        c = np.einsum("bt,btd->bd", a, h)
        r = _sigmoid(y @ w["W_r"] + s @ w["U_r"] + c @ w["C_r"] + w["b_r"])
        z = _sigmoid(y @ w["W_z"] + s @ w["U_z"] + c @ w["C_z"] + w["b_z"])
        p = np.tanh(y @ w["W_p"] + (r * s) @ w["U_p"] + c @ w["C_p"] + w["b_p"])
        y = _softmax(y @ w["W_o"] + s @ w["U_o"] + c @ w["C_o"] + w["b_o"])
        s = (1.0 - z) * s + z * p
        ys.append(y)
        attns.append(a)
    return np.stack(ys, axis=1), np.stack(attns, axis=1)


def _one_hot_rows(step: int, position: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.zeros((B, T, T), dtype=np.float32)
    rows[:, step, position] = 1.0
    mask = np.zeros((B, T), dtype=np.float32)
    mask[:, step] = 1.0
    return rows, mask


def run_forced(layer: AttentionDecoder, h: np.ndarray, rows: np.ndarray, mask: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray]:
    outputs, attention = layer(h, return_attention=True, forced_attention=rows, forced_mask=mask)
    return keras.ops.convert_to_numpy(outputs), keras.ops.convert_to_numpy(attention)


def test_no_override_is_exactly_the_plain_call(random_case) -> None:
    layer, h, _ = random_case
    plain_y, plain_a = run(layer, h)
    outputs, attention = layer(h, return_attention=True, forced_attention=None, forced_mask=None)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(outputs), plain_y)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(attention), plain_a)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(h, forced_attention=None)),
                                  keras.ops.convert_to_numpy(layer(h)))


def test_an_all_zero_mask_is_no_override(random_case) -> None:
    layer, h, _ = random_case
    plain_y, plain_a = run(layer, h)
    rows = np.random.default_rng(4).dirichlet(np.ones(T), size=(B, T)).astype(np.float32)
    outputs, attention = run_forced(layer, h, rows, np.zeros((B, T), dtype=np.float32))
    np.testing.assert_array_equal(outputs, plain_y)
    np.testing.assert_array_equal(attention, plain_a)


@pytest.mark.parametrize("step, position", [(0, 3), (1, 0), (3, 2)])
def test_a_forced_one_hot_row_is_the_returned_attention(random_case, step: int, position: int) -> None:
    layer, h, w = random_case
    plain_y, plain_a = run(layer, h)
    rows, mask = _one_hot_rows(step, position)
    outputs, attention = run_forced(layer, h, rows, mask)
    np.testing.assert_array_equal(attention[:, step], rows[:, step])
    # Earlier steps are untouched; the forced step and later ones follow the equations with a_t replaced.
    np.testing.assert_allclose(outputs[:, :step], plain_y[:, :step], atol=1e-6)
    np.testing.assert_allclose(attention[:, :step], plain_a[:, :step], atol=1e-6)
    want_y, want_a = forced_reference(h, w, rows, mask)
    np.testing.assert_allclose(outputs, want_y, atol=1e-5, rtol=0)
    np.testing.assert_allclose(attention, want_a, atol=1e-5, rtol=0)
    assert np.abs(outputs[:, step] - plain_y[:, step]).max() > 1e-3


def test_forced_attention_without_a_mask_forces_every_step(random_case) -> None:
    layer, h, w = random_case
    rows = np.random.default_rng(8).dirichlet(np.ones(T), size=(B, T)).astype(np.float32)
    outputs, attention = run_forced(layer, h, rows, None)
    np.testing.assert_array_equal(attention, rows)
    want_y, _ = forced_reference(h, w, rows, np.ones((B, T)))
    np.testing.assert_allclose(outputs, want_y, atol=1e-5, rtol=0)


def test_a_mask_without_rows_is_refused(random_case) -> None:
    layer, h, _ = random_case
    with pytest.raises(ValueError, match="forced_mask needs forced_attention"):
        layer(h, forced_mask=np.ones((B, T), dtype=np.float32))


def test_forcing_works_inside_a_traced_function(random_case) -> None:
    import tensorflow as tf

    layer, h, w = random_case
    rows, mask = _one_hot_rows(1, 2)
    traced = tf.function(lambda x, r, m: layer(x, return_attention=True, forced_attention=r, forced_mask=m))
    outputs, attention = traced(tf.constant(h), tf.constant(rows), tf.constant(mask))
    want_y, want_a = forced_reference(h, w, rows, mask)
    np.testing.assert_allclose(outputs.numpy(), want_y, atol=1e-5, rtol=0)
    np.testing.assert_allclose(attention.numpy(), want_a, atol=1e-5, rtol=0)
