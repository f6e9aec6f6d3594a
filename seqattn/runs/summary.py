"""What a listing shows of a run: :class:`RunSummary`, read and checked without writing anything.

A queued or running run whose process is gone reads as ``interrupted`` (:func:`current_state`);
finished runs' summaries are kept until one of their files changes.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqattn.runs.files import read_json
from seqattn.runs.layout import (
    ACTIVE_STATES,
    EVALS_FILE,
    PROGRESS_FILE,
    RESULT_FILE,
    RUN_FILE,
    RUN_NAME_PATTERN,
    STATES,
    STATUS_FILE,
    RunError,
    model_path,
)
from seqattn.runs.progress import final_reported
from seqattn.runs.saved_models import check_keras_file, read_result_file
from seqattn.model.registry import MODEL_NAMES

# A queued run that no worker picked up for this long was lost with its server.
UNCLAIMED_SECONDS = 120
CELL_KINDS = ("compare", "sweep")


@dataclass
class RunSummary:
    """What a listing shows of one run.

    ``broken`` is None for a readable run, else the reason it cannot be used; ``name`` is the
    name a speaker gave it (``--name dates-demo``), None for a run without one (all older runs).
    """

    id: str
    created: float
    state: str
    kind: str = "train"
    problem: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    accuracy: dict[str, float] = field(default_factory=dict)
    update: int = 0
    total: int | None = None
    elapsed: float | None = None
    error: str | None = None
    eta: float | None = None
    phase: str | None = None
    broken: str | None = None
    has_models: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    cells_done: int = 0
    cells_total: int | None = None
    checkpoint: int | None = None
    name: str | None = None

    @property
    def usable(self) -> bool:
        """True if the run can be loaded for prediction."""
        return self.broken is None and self.has_models and self.kind == "train"

    def label(self) -> str:
        """Short human label for pickers: id, name, kind, problem, state, a bidirectional encoder, accuracy."""
        # The name right after the id: it is what a speaker looks for in a picker.
        head = self.id if self.name is None else f"{self.id} · {self.name}"
        if self.broken:
            return f"{head} · broken: {self.broken}"
        try:
            return self._label(head)
        except (TypeError, ValueError, AttributeError):  # odd but readable settings: the plain facts
            return f"{head} · {self.kind} · {self.state}"

    def _label(self, head: str) -> str:
        p = self.problem
        kind = "" if self.kind == "train" else f"{self.kind} · "
        from seqattn.problem.config import ProblemConfig

        problem = ProblemConfig.from_dict(p)
        text = f"{head} · {kind}{problem.task_spec.describe(problem)} · {self.state}"
        if self.kind == "sweep":
            sweep = self.extra.get("sweep", {})
            values = ",".join(str(v) for v in sweep.get("values", []))
            text = f"{head} · sweep {sweep.get('axis')} = {values} · {self.cells_done}/{self.cells_total} cells · {self.state}"
        if self.model.get("encoder") == "bidirectional":
            # Only the non-default encoder is named, so older labels read as before.
            text += " · bidirectional encoder"
        if self.checkpoint is not None:
            text += f" · models as at update {self.checkpoint:,}"
        if self.accuracy:
            text += " · " + ", ".join(f"{k} {v:.0%}" for k, v in self.accuracy.items())
        return text


def current_state(status: dict[str, Any]) -> tuple[str, str | None]:
    """(state, error) of a status, a dead worker's queued/running read as ``interrupted``.

    Nothing is written: every reader derives the same answer.
    """
    state = status.get("state")
    error = status.get("error")
    if state in ACTIVE_STATES and status.get("pid") is not None:
        from seqattn.processes import process_alive  # psutil: only for a run that may be training

        if not process_alive(status.get("pid"), status.get("pid_start")):
            if state == "queued":  # e.g. the dashboard server was stopped while it waited for its turn
                return "interrupted", ("Its process stopped unexpectedly while it waited for its turn (was the "
                                       "dashboard server stopped?); nothing was trained. Start it again.")
            return "interrupted", "The training process stopped unexpectedly."
    elif state in ACTIVE_STATES and time.time() - float(status.get("updated") or 0) > UNCLAIMED_SECONDS:
        return "interrupted", "No training process picked this run up."
    return state, error


def planned_cells(meta: dict[str, Any]) -> int | None:
    """How many cells a comparison or sweep will run, from its run.json (None for a training)."""
    if meta.get("kind") == "compare":
        return int(meta.get("repeats", 1))
    if meta.get("kind") == "sweep":
        sweep = meta.get("sweep") or {}
        return max(1, len(sweep.get("values") or ())) * int(sweep.get("seeds", 1))
    return None


def read_meta(directory: Path) -> dict[str, Any]:
    """A run's ``run.json`` (kind, configs, names)."""
    return read_json(directory / RUN_FILE)


_TERMINAL_SUMMARIES: dict[Path, tuple[tuple[Any, ...], RunSummary]] = {}


def _files_signature(directory: Path, names: tuple[str, ...]) -> tuple[Any, ...]:
    signature = []
    for name in (RUN_FILE, STATUS_FILE, RESULT_FILE, PROGRESS_FILE, EVALS_FILE) + names:
        try:
            info = (directory / name).stat()
            signature.append((info.st_mtime_ns, info.st_size))
        except OSError:
            signature.append(None)
    return tuple(signature)


def summarize(directory: Path) -> RunSummary:
    """Read a run's summary; a damaged run comes back with ``broken`` set.

    Finished runs never change, so their summary (which checks the model
    archives) is cached until one of their files does.
    """
    signature = _files_signature(directory, tuple(model_path(directory, n).name for n in MODEL_NAMES))
    cached = _TERMINAL_SUMMARIES.get(directory)
    if cached is not None and cached[0] == signature:
        return dataclasses.replace(cached[1])
    summary = _read_summary(directory)
    if summary.state not in ACTIVE_STATES:
        _TERMINAL_SUMMARIES[directory] = (signature, dataclasses.replace(summary))
    return summary


def checked_meta(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run.json, its model settings), checked; every complaint names run.json."""
    from seqattn.model.config import model_config_of
    from seqattn.problem.config import ProblemConfig

    meta = read_meta(directory)
    if not isinstance(meta, dict):
        raise RunError("run.json is not an object")
    if "problem" not in meta or "created" not in meta:
        raise RunError(f"run.json is not a seqattn run (no {'problem' if 'problem' not in meta else 'created'})")
    try:
        ProblemConfig.from_dict(meta["problem"])
    except (TypeError, ValueError, AttributeError) as exc:
        raise RunError(f"run.json has an invalid problem ({str(exc)[:120] or exc.__class__.__name__})") from None
    try:
        float(meta["created"])
    except (TypeError, ValueError):
        raise RunError("run.json has an invalid creation time") from None
    try:
        model = model_config_of(meta).to_dict()
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise RunError(f"run.json has invalid model settings ({str(exc)[:120] or exc.__class__.__name__})") from None
    if not isinstance(meta.get("names", []), list) or not all(isinstance(n, str) for n in meta.get("names", [])):
        raise RunError("run.json has invalid model names")
    if not isinstance(meta.get("train", {}), dict):
        raise RunError("run.json has invalid training settings")
    if meta.get("kind", "train") == "sweep" and not isinstance(meta.get("sweep"), dict):
        raise RunError("run.json of a sweep has no sweep settings")
    return meta, model


def _number(status: dict[str, Any], key: str, kind: type = float, default: Any = None) -> Any:
    """A number field of status.json (``default`` when absent); a bad value is blamed on status.json."""
    value = status.get(key)
    if value is None:
        return default
    try:
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        raise RunError(f"status.json has an invalid {key} ({str(value)[:40]!r})") from None


def _state_of(status: dict[str, Any]) -> tuple[str, str | None]:
    try:
        state, error = current_state(status)
    except (TypeError, ValueError, OverflowError):
        raise RunError("status.json has an invalid time of its last update") from None
    if state not in STATES:
        raise RunError(f"status.json has an unknown state {str(state)[:40]!r}")
    return state, None if error is None else str(error)


def _check_result(directory: Path, summary: RunSummary) -> None:
    """Accuracy and models of a finished training, from result.json; every complaint names its file."""
    result = read_result_file(directory)
    if not isinstance(result, dict):
        raise RunError("result.json is not an object")
    try:
        summary.accuracy = {k: float(v["exact_match"]) for k, v in (result.get("accuracy") or {}).items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        raise RunError("result.json has no readable accuracy") from None
    try:
        summary.has_models = float(result.get("updates_done") or 0) > 0
    except (TypeError, ValueError):
        raise RunError("result.json has an invalid updates_done") from None
    for name in summary.names if summary.has_models else ():
        check_keras_file(model_path(directory, name))
    if not final_reported(directory):
        raise RunError("progress.csv is truncated (its final row is missing)")


def _check_checkpoint(directory: Path, summary: RunSummary, checkpoint: dict[str, Any]) -> None:
    """A run that ended without result.json (killed, frozen, failed) keeps the models of its last evaluation."""
    try:
        summary.checkpoint = int(checkpoint["update"])
        summary.accuracy = {k: float(v) for k, v in (checkpoint.get("accuracy") or {}).items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        raise RunError("status.json has an unreadable checkpoint") from None
    for name in summary.names:
        check_keras_file(model_path(directory, name))
    summary.has_models = True


def name_of(meta: dict[str, Any]) -> str | None:
    """The run's name from its run.json, None without one; a hand-damaged name is dropped, not fatal
    (it only serves to find the run, and the run itself is fine)."""
    name = meta.get("name")
    return name if isinstance(name, str) and RUN_NAME_PATTERN.fullmatch(name) else None


def _read_summary(directory: Path) -> RunSummary:
    run_id = directory.name
    meta: dict[str, Any] | None = None
    try:
        meta, model = checked_meta(directory)
        status = read_json(directory / STATUS_FILE)
        if not isinstance(status, dict):
            raise RunError("status.json is not an object")
        state, error = _state_of(status)
        summary = RunSummary(
            id=run_id,
            created=float(meta["created"]),
            state=state,
            kind=str(meta.get("kind", "train")),
            problem=meta["problem"],
            train=meta.get("train", {}),
            model=model,
            names=list(meta.get("names", [])),
            update=_number(status, "update", int, 0),
            total=_number(status, "total", int),
            elapsed=_number(status, "elapsed"),
            error=error,
            eta=_number(status, "eta") if state == "running" else None,
            phase=status.get("phase") if state == "running" else None,
            extra={k: v for k, v in meta.items()
                   if k not in ("id", "kind", "created", "problem", "train", "model", "names", "name")},
            cells_done=_number(status, "cells_done", int, 0),
            cells_total=_number(status, "cells_total", int) or _planned(meta),
            name=name_of(meta),
        )
        if summary.kind == "train" and (state == "done" or (directory / RESULT_FILE).exists()):
            _check_result(directory, summary)
        elif summary.kind == "train" and state not in ACTIVE_STATES and isinstance(status.get("checkpoint"), dict):
            _check_checkpoint(directory, summary, status["checkpoint"])
        return summary
    except RunError as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - one odd run must never take a listing down
        reason = f"it could not be read ({exc.__class__.__name__}: {str(exc)[:120]})"
    broken = RunSummary(id=run_id, created=safe_mtime(directory), state="broken", broken=reason)
    if meta is not None:  # run.json is fine: say what the run was, for listings and the CLI
        broken.created = float(meta["created"])
        broken.kind = str(meta.get("kind", "train"))
        broken.problem = meta["problem"]
        broken.names = list(meta.get("names", []))
        broken.name = name_of(meta)
    return broken


def _planned(meta: dict[str, Any]) -> int | None:
    try:
        return planned_cells(meta)
    except (TypeError, ValueError, AttributeError):
        raise RunError("run.json has invalid repeats or sweep settings") from None


def safe_mtime(path: Path) -> float:
    """A file's modification time, 0 if it cannot be read (a listing sorts by it)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
