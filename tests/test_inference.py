"""NumPy predictions from saved models (seqattn.model.inference) give Keras's numbers, refuse what Keras refuses,
and keep TensorFlow out of the dashboard's process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from seqattn.model.inference import ArrayPredictor, UnsupportedModel
from seqattn.model.builders import Predictor, build_model
from seqattn.model.prediction import NO_ATTENTION
from seqattn.problem.config import ProblemConfig
from seqattn.runs import RunError
from seqattn.runs.saved_models import load_predictor_files, save_model_atomic
from seqattn.model.what_if import force_attention

PROJECT = Path(__file__).resolve().parent.parent
MODELS = [("baseline", "unidirectional"), ("attention", "unidirectional"), ("attention", "bidirectional")]
PROBLEMS = {
    "padded": ProblemConfig(cardinality=7, n_in=5, n_out=2),
    "n_out steps": ProblemConfig(cardinality=7, n_in=5, n_out=3, pad_target=False),
    "long, not unrolled": ProblemConfig(cardinality=5, n_in=24, n_out=2),
}


def saved(tmp_path: Path, kind: str, encoder: str, problem: ProblemConfig, seed: int = 3) -> tuple[Path, keras.Model]:
    keras.utils.set_random_seed(seed)
    model = build_model(kind, problem, units=12, encoder=encoder)
    path = tmp_path / f"{kind}.keras"
    save_model_atomic(model, path)
    return path, model


def inputs_for(problem: ProblemConfig, batch: int = 9) -> np.ndarray:
    return np.random.default_rng(0).integers(0, problem.cardinality, (batch, problem.n_in))


@pytest.mark.parametrize("problem_name", PROBLEMS)
@pytest.mark.parametrize(("kind", "encoder"), MODELS)
def test_numpy_predictions_match_keras(tmp_path, kind, encoder, problem_name):
    problem = PROBLEMS[problem_name]
    path, model = saved(tmp_path, kind, encoder, problem)
    numpy_side, keras_side = ArrayPredictor.from_file(path), Predictor(model)
    assert (numpy_side.n_in, numpy_side.cardinality, numpy_side.steps, numpy_side.with_attention) == (
        keras_side.n_in, keras_side.cardinality, keras_side.steps, keras_side.with_attention)
    x = inputs_for(problem)
    ours, theirs = numpy_side(x), keras_side(x)
    np.testing.assert_allclose(ours.probabilities, theirs.probabilities, atol=1e-6)
    np.testing.assert_array_equal(ours.tokens, theirs.tokens)
    np.testing.assert_allclose(ours.confidence, theirs.confidence, atol=1e-6)
    if kind == "baseline":
        assert ours.attention is None and theirs.attention is None
    else:
        np.testing.assert_allclose(ours.attention, theirs.attention, atol=1e-6)
    # One sequence, as Explore asks, gives the batch's first row.
    np.testing.assert_allclose(numpy_side(x[0]).probabilities[0], ours.probabilities[0], atol=1e-7)


@pytest.mark.parametrize("encoder", ["unidirectional", "bidirectional"])
def test_forced_attention_matches_keras(tmp_path, encoder):
    problem = PROBLEMS["padded"]
    path, model = saved(tmp_path, "attention", encoder, problem)
    numpy_side, keras_side = ArrayPredictor.from_file(path), Predictor(model)
    x = inputs_for(problem, 4)
    row = np.array([0.1, 0.0, 0.6, 0.3, 0.0], dtype=np.float32)
    ours, theirs = numpy_side.force(x, 1, row), keras_side.force(x, 1, row)
    np.testing.assert_allclose(ours.probabilities, theirs.probabilities, atol=1e-6)
    np.testing.assert_allclose(ours.attention, theirs.attention, atol=1e-6)
    np.testing.assert_allclose(ours.attention[:, 1], np.broadcast_to(row, (4, 5)), atol=1e-7)
    # The what-if of the Explore page on both gives the same answer.
    a, b = force_attention(numpy_side, x[0], 0, 3), force_attention(keras_side, x[0], 0, 3)
    assert a.forced.tokens.tolist() == b.forced.tokens.tolist() and a.changed_steps == b.changed_steps
    np.testing.assert_allclose(a.forced.attention, b.forced.attention, atol=1e-6)


def test_trained_weights_are_read_not_just_initial_ones(tmp_path):
    """After an update the file's weights differ from a fresh model's, and the NumPy side follows the file."""
    problem = PROBLEMS["padded"]
    path, model = saved(tmp_path, "attention", "unidirectional", problem)
    before = ArrayPredictor.from_file(path)(inputs_for(problem)).probabilities
    for variable in model.trainable_variables:
        variable.assign(variable + 0.05)
    save_model_atomic(model, path)
    after = ArrayPredictor.from_file(path)(inputs_for(problem)).probabilities
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, Predictor(model)(inputs_for(problem)).probabilities, atol=1e-6)


@pytest.mark.parametrize("kind", ["baseline", "attention"])
def test_bad_inputs_are_refused_as_keras_refuses_them(tmp_path, kind):
    problem = PROBLEMS["padded"]
    path, model = saved(tmp_path, kind, "unidirectional", problem)
    for predictor in (ArrayPredictor.from_file(path), Predictor(model)):
        with pytest.raises(ValueError, match=r"shape \(batch, 5\)"):
            predictor(np.zeros((1, 4), dtype=int))
        with pytest.raises(ValueError, match=r"in 0\.\.6"):
            predictor(np.array([0, 1, 2, 3, 7]))
        if kind == "baseline":
            with pytest.raises(ValueError, match=NO_ATTENTION[:30]):
                predictor.force(np.zeros(5, dtype=int), 0, np.full(5, 0.2))
        else:
            with pytest.raises(ValueError, match="summing to 1"):
                predictor.force(np.zeros(5, dtype=int), 0, np.full(5, 0.5))
            with pytest.raises(ValueError, match="step must be an output step from 0 to 4"):
                predictor.force(np.zeros(5, dtype=int), 5, np.full(5, 0.2))


def test_a_layer_numpy_does_not_run_falls_back_to_keras(tmp_path):
    inputs = keras.Input(shape=(4, 6), name="tokens")
    outputs = keras.layers.Dense(6, activation="softmax", name="dense")(keras.layers.GRU(8, return_sequences=True)(inputs))
    model = keras.Model(inputs, outputs, name="baseline")
    save_model_atomic(model, tmp_path / "baseline.keras")
    with pytest.raises(UnsupportedModel, match="GRU"):
        ArrayPredictor.from_file(tmp_path / "baseline.keras")
    predictors = load_predictor_files(tmp_path, ["baseline"], "test-run")
    assert isinstance(predictors["baseline"], Predictor)
    assert predictors["baseline"](np.array([0, 1, 2, 3])).tokens.shape == (1, 4)


@pytest.mark.parametrize("damage", ["truncated", "no weights", "not a zip", "missing"])
def test_a_damaged_model_file_is_a_run_error(tmp_path, damage):
    path, _ = saved(tmp_path, "attention", "unidirectional", PROBLEMS["padded"])
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "no weights":
        with zipfile.ZipFile(path) as archive:
            config = archive.read("config.json")
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", config)
    elif damage == "not a zip":
        path.write_text("hello")
    else:
        path.unlink()
    with pytest.raises(RunError, match=r"attention\.keras in run test-run could not be loaded"):
        load_predictor_files(tmp_path, ["attention"], "test-run")


def test_predicting_from_a_saved_run_imports_no_tensorflow(tmp_path):
    """The dashboard's server answers Explore without TensorFlow (checked in a fresh interpreter)."""
    problem = PROBLEMS["padded"]
    for kind, encoder in MODELS[:2]:
        saved(tmp_path, kind, encoder, problem)
    shutil.copy(tmp_path / "attention.keras", tmp_path / "bidirectional.keras")
    probe = (
        "import sys\n"
        "import numpy as np\n"
        "from seqattn.runs.saved_models import load_predictor_files\n"
        "from seqattn.model.what_if import force_attention\n"
        f"p = load_predictor_files(__import__('pathlib').Path({str(tmp_path)!r}), ['baseline', 'attention'], 'r')\n"
        "x = np.array([1, 2, 3, 4, 5])\n"
        "assert p['baseline'](x).tokens.shape == (1, 5) and p['attention'](x).attention.shape == (1, 5, 5)\n"
        "force_attention(p['attention'], x, 0, 2)\n"
        "print([m for m in ('tensorflow', 'keras') if m in sys.modules])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(PROJECT))
    done = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


# --------------------------------------------------------------------------- every task (issue 23)

TASK_PROBLEMS = {
    "echo": ProblemConfig(task="echo", cardinality=7, n_in=5, n_out=2),
    "reverse": ProblemConfig(task="reverse", cardinality=7, n_in=6),
    "sort": ProblemConfig(task="sort", cardinality=7, n_in=6),
    "dates": ProblemConfig(task="dates"),
}


@pytest.mark.parametrize("kind", ["baseline", "attention"])
@pytest.mark.parametrize("task", TASK_PROBLEMS)
def test_numpy_and_keras_agree_on_every_task(tmp_path, task, kind):
    """Explore answers every task without TensorFlow: the NumPy predictor gives Keras's numbers to 1e-5."""
    from seqattn.problem.batches import draw_pairs

    problem = TASK_PROBLEMS[task]
    keras.utils.set_random_seed(5)
    model = build_model(kind, problem, units=8)
    path = tmp_path / f"{kind}.keras"
    save_model_atomic(model, path)
    numpy_side, keras_side = ArrayPredictor.from_file(path), Predictor(model)
    assert (numpy_side.n_in, numpy_side.cardinality, numpy_side.steps) == (
        problem.n_in, problem.input_size, problem.target_len)
    inputs, _ = draw_pairs(problem, 6, np.random.default_rng(1))
    ours, theirs = numpy_side(inputs), keras_side(inputs)
    assert ours.probabilities.shape == (6, problem.target_len, problem.output_size)
    np.testing.assert_allclose(ours.probabilities, theirs.probabilities, atol=1e-5)
    np.testing.assert_array_equal(ours.tokens, theirs.tokens)
    if kind == "baseline":
        assert ours.attention is None and theirs.attention is None
        return
    np.testing.assert_allclose(ours.attention, theirs.attention, atol=1e-5)
    for attention in (ours.attention, theirs.attention):
        np.testing.assert_allclose(attention.sum(axis=-1), 1.0, atol=1e-5)
    if problem.pad_token is not None:
        padded = inputs == problem.pad_token  # (batch, n_in): a date's characters end in padding
        assert padded.any() and (~padded).any()
        for attention in (ours.attention, theirs.attention):
            assert np.all(attention[np.broadcast_to(padded[:, None, :], attention.shape)] == 0.0)


def test_forcing_onto_a_padded_position_is_refused_and_the_rest_avoids_padding(tmp_path):
    from seqattn.problem.batches import draw_pairs

    problem = TASK_PROBLEMS["dates"]
    keras.utils.set_random_seed(5)
    save_model_atomic(build_model("attention", problem, units=8), tmp_path / "attention.keras")
    predictor = ArrayPredictor.from_file(tmp_path / "attention.keras")
    inputs = draw_pairs(problem, 1, np.random.default_rng(2))[0][0]
    padded = (inputs == problem.pad_token).tolist()
    last = len(padded) - 1
    assert padded[last]
    with pytest.raises(ValueError, match=f"input position {last + 1} is padding"):
        force_attention(predictor, inputs, 0, last, padded=padded)
    what = force_attention(predictor, inputs, 0, 0, 0.5, padded=padded)
    row = what.forced.attention[0, 0]
    assert row[0] == pytest.approx(0.5) and row.sum() == pytest.approx(1.0, abs=1e-5)
    assert np.all(row[np.asarray(padded)] == 0.0)
