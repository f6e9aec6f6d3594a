"""A training run's saved models (``<model>.keras``) and its final ``result.json``.

The dashboard reads the models as NumPy predictors (:func:`load_predictor_files`,
no TensorFlow in the server); the CLI and tests load them with Keras
(:func:`load_model_files`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from seqattn.runs.files import open_regular, read_json, require_regular_file, write_json
from seqattn.runs.layout import RESULT_FILE, RunError, model_path


def check_keras_file(path: Path) -> None:
    """Cheap integrity check of a ``.keras`` archive (a zip with a config).

    Raises:
        RunError: if the file is not a readable Keras archive.
    """
    require_regular_file(path)  # missing, a folder, a FIFO: said before zipfile opens it (a FIFO would block)
    try:
        with open_regular(path) as fh, zipfile.ZipFile(fh) as archive:
            names = set(archive.namelist())
            if "config.json" not in names or archive.testzip() is not None:
                raise RunError(f"{path.name} is not a complete Keras model file")
    except PermissionError:
        raise RunError(f"{path.name} cannot be read (permission denied)") from None
    except (OSError, zipfile.BadZipFile):
        raise RunError(f"{path.name} is corrupt (not a Keras model archive)") from None


def save_model_atomic(model: Any, path: Path) -> None:
    """``model.save`` to a temporary ``.keras`` name, then rename into place."""
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def save_models_atomic(models: Mapping[str, Any], directory: Path) -> None:
    """Save every model of a run (by name) as one set: all to temporary names first, then renamed into place.

    A save that fails (a full disk, say) removes every temporary file it made and
    renames nothing, so the run keeps its previous set whole: no partial file, and
    never one model from a later evaluation than the other.

    Raises:
        OSError (or Keras's error): a model could not be written; nothing was replaced.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for name, model in models.items():
            path = model_path(directory, name)
            staged.append((path.with_name(f".{path.stem}.{secrets.token_hex(4)}.keras"), path))
            model.save(staged[-1][0])
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()


def save_result(directory: Path, result: Any) -> None:
    """Save a :class:`seqattn.training.session.TrainResult`: models first (as one set), then result.json."""
    if result.updates_done > 0:
        save_models_atomic(result.models, directory)
    write_json(
        directory / RESULT_FILE,
        {
            "accuracy": {k: v.to_dict() for k, v in result.accuracy.items()},
            "elapsed": result.elapsed,
            "updates_done": result.updates_done,
            "cancelled": result.cancelled,
            "probe": result.probe,
            # Trained to a threshold: per model, where it got there (or not) and how long it trained.
            "stops": {name: stop.to_dict() for name, stop in getattr(result, "stops", {}).items()},
        },
    )


def read_result_file(directory: Path) -> dict[str, Any]:
    """The ``result.json`` of a run directory."""
    return read_json(directory / RESULT_FILE)


def load_model_files(directory: Path, names: list[str], run_id: str) -> dict[str, Any]:
    """Load the named models of a run directory with Keras (TensorFlow is imported here).

    Raises:
        RunError: a model file that Keras cannot load.
    """
    # TensorFlow loads here, for a load that needs Keras: listing and reading runs must stay light.
    import keras

    import seqattn.model.attention  # noqa: F401  (registers the layer for loading)

    models = {}
    for name in names:
        _refuse_odd_file(directory, name, run_id)
        try:
            models[name] = keras.models.load_model(model_path(directory, name), compile=False)
        except Exception as exc:  # Keras raises many types for a damaged archive
            raise _unloadable(name, run_id, exc) from None
    return models


def _refuse_odd_file(directory: Path, name: str, run_id: str) -> None:
    """Refuse a model file that is not a regular file before zipfile or Keras opens it (a FIFO would block them)."""
    try:
        require_regular_file(model_path(directory, name))
    except RunError as exc:
        raise RunError(f"{name}.keras in run {run_id} could not be loaded ({exc}).") from None


def _unloadable(name: str, run_id: str, exc: Exception) -> RunError:
    return RunError(f"{name}.keras in run {run_id} could not be loaded ({exc.__class__.__name__}).")


def load_predictor_files(directory: Path, names: list[str], run_id: str) -> dict[str, Any]:
    """Predictors of the named models of a run directory, by name, without TensorFlow when possible.

    Each is a :class:`seqattn.model.inference.ArrayPredictor` (NumPy, reads the
    ``.keras`` archive itself); a model with a layer NumPy does not run is
    loaded with Keras into a :class:`seqattn.model.builders.Predictor` instead. Both
    answer the same calls with the same numbers (to float32 rounding).

    Raises:
        RunError: a model file that cannot be read.
    """
    from seqattn.model.inference import ArrayPredictor, UnsupportedModel  # with h5py: only when a run is opened

    predictors: dict[str, Any] = {}
    for name in names:
        _refuse_odd_file(directory, name, run_id)
        try:
            predictors[name] = ArrayPredictor.from_file(model_path(directory, name))
        except UnsupportedModel:
            from seqattn.model.builders import Predictor  # TensorFlow, only for a model NumPy cannot run

            predictors[name] = Predictor(load_model_files(directory, [name], run_id)[name])
        except Exception as exc:  # zipfile, h5py and json raise many types for a damaged archive
            raise _unloadable(name, run_id, exc) from None
    return predictors
