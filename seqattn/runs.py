"""Saved runs: one directory per training job, readable while it is written.

Layout of ``<root>/<run id>/``:

- ``run.json``: kind, problem and training configs, model names, creation time.
- ``status.json``: state, pid, progress counters, error message (rewritten whole).
- ``progress.csv``: one row per progress report, appended (``pandas.read_csv`` reads it).
- ``evals.jsonl``: one JSON object per evaluation, with the probe's attention matrix.
- ``result.json``: final metrics; ``baseline.keras`` and ``attention.keras``: the models.

Whole files are written to a temporary name and renamed, so a crash never leaves
a half-written file that looks valid. Appended files may end in a partial line
while a job writes; readers ignore a line until its newline is written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import csv
import datetime as dt
import fcntl
import io
import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from seqattn.problem import ProblemConfig

RUNS_DIR_ENV = "SEQATTN_RUNS_DIR"
RUN_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
STATES = ("queued", "running", "done", "cancelled", "failed", "interrupted")
ACTIVE_STATES = ("queued", "running")
PROGRESS_COLUMNS = (
    "update", "total", "samples", "elapsed",
    "loss_baseline", "loss_attention", "smoothed_baseline", "smoothed_attention",
    "accuracy_baseline", "accuracy_attention", "alignment", "final",
)


class RunError(Exception):
    """A run that cannot be read or written; the message is meant for users."""


def runs_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The runs root: ``root`` if given, else ``$SEQATTN_RUNS_DIR``, else ``./runs``."""
    return Path(root if root is not None else os.environ.get(RUNS_DIR_ENV) or "runs")


def ensure_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Create the runs root if needed and check it is writable.

    Raises:
        RunError: naming the directory and what to do about it.
    """
    path = runs_root(root)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError as exc:
        raise RunError(
            f"Cannot write to the runs folder '{path}' ({exc.strerror or exc}). "
            f"Make it writable or point {RUNS_DIR_ENV} at a folder you can write to."
        ) from None
    return path


def validate_run_id(run_id: Any) -> str:
    """Return ``run_id`` if it has the run id format ``YYYYMMDD-HHMMSS-xxxxxx``.

    Ids come from URLs, so nothing else (no ``..``, no slashes) may reach the
    file system.

    Raises:
        ValueError: if the id is not of that format.
    """
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        shown = repr(run_id)[:40]
        raise ValueError(f"{shown} is not a run id (expected the form 20261123-195700-a1b2c3).")
    return run_id


def new_run_id(now: dt.datetime | None = None) -> str:
    """A fresh run id: UTC timestamp plus 6 random hex digits."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def run_dir(run_id: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Directory of a run (validated id; the directory may not exist)."""
    return runs_root(root) / validate_run_id(run_id)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a whole file via a temporary file and a rename."""
    payload = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json(path: Path, data: Any) -> None:
    """Atomically write ``data`` as JSON."""
    write_atomic(path, json.dumps(data, indent=1, allow_nan=True))


def read_json(path: Path) -> Any:
    """Read a JSON file, raising :class:`RunError` with a plain reason on failure."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"{path.name} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path.name} is unreadable ({exc.__class__.__name__})") from None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with open(directory / ".status.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def update_status(directory: Path, **changes: Any) -> dict[str, Any]:
    """Read-modify-write ``status.json`` under a lock; returns the new status."""
    with _locked(directory):
        path = directory / "status.json"
        try:
            status = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            status = {}
        status.update(changes)
        status["updated"] = time.time()
        write_json(path, status)
        return status


def process_start_ticks(pid: int) -> int | None:
    """Start time of a live, non-zombie process in clock ticks, else None.

    Comparing it with the recorded value tells a live worker from an unrelated
    process that reused its pid.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def process_alive(pid: Any, start_ticks: Any = None) -> bool:
    """True if ``pid`` runs and (when given) started at ``start_ticks``."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    ticks = process_start_ticks(pid)
    if ticks is None:
        return False
    return start_ticks is None or ticks == start_ticks


def create_run(
    problem: ProblemConfig,
    train: dict[str, Any],
    *,
    kind: str = "train",
    names: tuple[str, ...] = ("baseline", "attention"),
    extra: dict[str, Any] | None = None,
    root: str | os.PathLike[str] | None = None,
) -> str:
    """Create a run directory in state ``queued`` and return its id."""
    base = ensure_root(root)
    for _ in range(5):
        run_id = new_run_id()
        directory = base / run_id
        try:
            directory.mkdir()
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - five collisions of 24 random bits in one second
        raise RunError("could not allocate a run id")
    meta = {
        "id": run_id,
        "kind": kind,
        "created": time.time(),
        "problem": problem.to_dict(),
        "train": train,
        "names": list(names),
        **(extra or {}),
    }
    write_json(directory / "run.json", meta)
    write_json(directory / "status.json", {"state": "queued", "pid": None, "update": 0, "total": None, "updated": time.time()})
    return run_id


class RunWriter:
    """Appends a job's progress to its run directory.

    ``on_progress`` takes a :class:`seqattn.training.Progress`; status.json is
    rewritten at most every ``status_interval`` seconds (and at final reports).
    """

    def __init__(self, directory: Path, status_interval: float = 0.25) -> None:
        self.directory = directory
        self.status_interval = status_interval
        self._last_status = 0.0
        self._pace_origin: tuple[int, float] | None = None
        progress = directory / "progress.csv"
        if not progress.exists():
            write_atomic(progress, ",".join(PROGRESS_COLUMNS) + "\n")
        self._progress = open(progress, "a", buffering=1)
        self._evals = open(directory / "evals.jsonl", "a", buffering=1)

    def on_progress(self, progress: Any) -> None:
        row = {
            "update": progress.update,
            "total": progress.total,
            "samples": progress.samples,
            "elapsed": round(progress.elapsed, 4),
            "final": int(progress.final),
            "alignment": progress.alignment,
        }
        for name in ("baseline", "attention"):
            row[f"loss_{name}"] = progress.loss.get(name)
            row[f"smoothed_{name}"] = progress.smoothed.get(name)
            row[f"accuracy_{name}"] = (progress.accuracy or {}).get(name)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(
            "" if row[c] is None else row[c] for c in PROGRESS_COLUMNS
        )
        self._progress.write(buffer.getvalue())
        if progress.accuracy is not None:
            record = {
                "update": progress.update,
                "accuracy": progress.accuracy,
                "per_position": progress.per_position,
                "alignment": progress.alignment,
                "attention": progress.attention,
                "probe": progress.probe,
                "probe_tokens": progress.probe_tokens,
            }
            self._evals.write(json.dumps(record) + "\n")
        # The first report comes after compilation; pace is measured from it.
        if self._pace_origin is None:
            self._pace_origin = (progress.update, progress.elapsed)
        now = time.monotonic()
        if progress.final or now - self._last_status >= self.status_interval:
            self._last_status = now
            first_update, first_elapsed = self._pace_origin
            eta = None
            if progress.update > first_update and not progress.final:
                pace = (progress.elapsed - first_elapsed) / (progress.update - first_update)
                eta = round(pace * (progress.total - progress.update), 2)
            update_status(
                self.directory, update=progress.update, total=progress.total,
                elapsed=progress.elapsed, eta=eta, phase="training",
            )

    def close(self) -> None:
        self._progress.close()
        self._evals.close()


class ProgressTail:
    """Incremental reader of a growing ``progress.csv``.

    Each :meth:`read` parses only the bytes appended since the previous call
    (complete lines only) and returns the whole history as a DataFrame.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._frames: list[pd.DataFrame] = []
        self._frame = pd.DataFrame(columns=list(PROGRESS_COLUMNS))
        self._header_ok = False

    def read(self) -> pd.DataFrame:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
        except FileNotFoundError:
            return self._frame
        end = chunk.rfind(b"\n")
        if end < 0:
            return self._frame
        complete = chunk[: end + 1]
        self._offset += len(complete)
        text = complete.decode("utf-8", errors="replace")
        if not self._header_ok:
            header, _, text = text.partition("\n")
            if tuple(header.split(",")) != PROGRESS_COLUMNS:
                raise RunError("progress.csv has an unknown header")
            self._header_ok = True
        if text.strip():
            try:
                new = pd.read_csv(io.StringIO(text), header=None, names=list(PROGRESS_COLUMNS))
            except (ValueError, pd.errors.ParserError) as exc:
                raise RunError(f"progress.csv is unreadable ({exc.__class__.__name__})") from None
            self._frame = new if self._frame.empty else pd.concat([self._frame, new], ignore_index=True)
        return self._frame


def read_progress(directory: Path) -> pd.DataFrame:
    """The whole progress history of a run (one row per report)."""
    return ProgressTail(directory / "progress.csv").read()


def read_evals(directory: Path) -> list[dict[str, Any]]:
    """Every complete evaluation record of a run, oldest first."""
    try:
        text = (directory / "evals.jsonl").read_text()
    except FileNotFoundError:
        return []
    records = []
    for line in text.split("\n")[:-1]:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise RunError("evals.jsonl has a corrupt line") from None
    return records


@dataclass
class RunSummary:
    """What a listing shows of one run.

    ``broken`` is None for a readable run, else the reason it cannot be used.
    """

    id: str
    created: float
    state: str
    kind: str = "train"
    problem: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
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

    @property
    def usable(self) -> bool:
        """True if the run can be loaded for prediction."""
        return self.broken is None and self.has_models and self.kind == "train"


    def label(self) -> str:
        """Short human label for pickers: id, problem, state, accuracy."""
        p = self.problem
        text = f"{self.id} · K={p.get('cardinality')} n_in={p.get('n_in')} n_out={p.get('n_out')} · {self.state}"
        if self.accuracy:
            text += " · " + ", ".join(f"{k} {v:.0%}" for k, v in self.accuracy.items())
        return text


def current_state(directory: Path, status: dict[str, Any]) -> str:
    """The status's state, with a dead worker's queued/running turned into ``interrupted``.

    The change is written back so every reader agrees.
    """
    state = status.get("state")
    if state in ACTIVE_STATES and status.get("pid") is not None:
        if not process_alive(status.get("pid"), status.get("pid_start")):
            state = "interrupted"
            with contextlib.suppress(OSError):
                update_status(directory, state=state, error="The training process stopped unexpectedly.")
    elif state in ACTIVE_STATES and time.time() - float(status.get("updated") or 0) > 120:
        state = "interrupted"  # never picked up by a worker
    return state


_TERMINAL_SUMMARIES: dict[Path, tuple[tuple[Any, ...], RunSummary]] = {}
_WATCHED_FILES = ("run.json", "status.json", "result.json", "progress.csv", "baseline.keras", "attention.keras")


def _files_signature(directory: Path) -> tuple[Any, ...]:
    signature = []
    for name in _WATCHED_FILES:
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
    signature = _files_signature(directory)
    cached = _TERMINAL_SUMMARIES.get(directory)
    if cached is not None and cached[0] == signature:
        return dataclasses.replace(cached[1])
    summary = _read_summary(directory)
    if summary.state not in ACTIVE_STATES:
        _TERMINAL_SUMMARIES[directory] = (signature, dataclasses.replace(summary))
    return summary


def _read_summary(directory: Path) -> RunSummary:
    run_id = directory.name
    try:
        meta = read_json(directory / "run.json")
        status = read_json(directory / "status.json")
        if not isinstance(meta, dict) or not isinstance(status, dict):
            raise RunError("run.json or status.json is not an object")
        state = current_state(directory, status)
        if state not in STATES:
            raise RunError(f"status.json has an unknown state {state!r}")
        ProblemConfig.from_dict(meta["problem"])
        names = list(meta.get("names", []))
        summary = RunSummary(
            id=run_id,
            created=float(meta["created"]),
            state=state,
            kind=meta.get("kind", "train"),
            problem=meta["problem"],
            train=meta.get("train", {}),
            names=names,
            update=int(status.get("update") or 0),
            total=status.get("total"),
            elapsed=status.get("elapsed"),
            error=status.get("error"),
            eta=status.get("eta") if state == "running" else None,
            phase=status.get("phase") if state == "running" else None,
            extra={k: v for k, v in meta.items() if k not in ("id", "kind", "created", "problem", "train", "names")},
        )
        if summary.kind == "train" and (state == "done" or (directory / "result.json").exists()):
            result = read_json(directory / "result.json")
            summary.accuracy = {k: float(v["exact_match"]) for k, v in result.get("accuracy", {}).items()}
            summary.has_models = result.get("updates_done", 0) > 0
            for name in names if summary.has_models else ():
                check_keras_file(directory / f"{name}.keras")
            history = read_progress(directory)
            if history.empty or not bool(history["final"].iloc[-1]):
                raise RunError("progress.csv is truncated (its final row is missing)")
        return summary
    except RunError as exc:
        reason = str(exc)
    except (KeyError, TypeError, ValueError) as exc:
        reason = f"run.json is not a seqattn run ({exc.__class__.__name__}: {exc})"
    created = _safe_mtime(directory)
    return RunSummary(id=run_id, created=created, state="broken", broken=reason)


def _safe_mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def check_keras_file(path: Path) -> None:
    """Cheap integrity check of a ``.keras`` archive (a zip with a config).

    Raises:
        RunError: if the file is not a readable Keras archive.
    """
    import zipfile

    if not path.is_file():
        raise RunError(f"{path.name} is missing")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names or archive.testzip() is not None:
                raise RunError(f"{path.name} is not a complete Keras model file")
    except (OSError, zipfile.BadZipFile):
        raise RunError(f"{path.name} is corrupt (not a Keras model archive)") from None


def list_runs(root: str | os.PathLike[str] | None = None) -> list[RunSummary]:
    """Every run under the root, newest first; unreadable ones marked ``broken``.

    A missing root gives an empty list. Hidden entries and files are skipped.
    """
    base = runs_root(root)
    try:
        entries = [p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return []
    summaries = []
    for entry in entries:
        if not RUN_ID_PATTERN.fullmatch(entry.name):
            summaries.append(RunSummary(id=entry.name, created=_safe_mtime(entry), state="broken",
                                        broken="not a seqattn run folder (unexpected name)"))
            continue
        summaries.append(summarize(entry))
    summaries.sort(key=lambda s: (s.created, s.id), reverse=True)
    return summaries


def get_run(run_id: str, root: str | os.PathLike[str] | None = None) -> RunSummary:
    """Summary of one run by id.

    Raises:
        ValueError: the id is malformed.
        RunError: no such run.
    """
    directory = run_dir(run_id, root)
    if not directory.is_dir():
        raise RunError(f"There is no run {run_id} in {runs_root(root)}.")
    return summarize(directory)


def read_result(run_id: str, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The final ``result.json`` of a finished run."""
    return read_json(run_dir(run_id, root) / "result.json")


def save_model_atomic(model: Any, path: Path) -> None:
    """``model.save`` to a temporary ``.keras`` name, then rename into place."""
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def load_models(run_id: str, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Load a finished run's models by name (``baseline``, ``attention``).

    Raises:
        RunError: the run is broken, still training, or has no models.
    """
    import keras

    import seqattn.attention  # noqa: F401  (registers the layer for loading)

    summary = get_run(run_id, root)
    if summary.broken:
        raise RunError(f"Run {run_id} cannot be used: {summary.broken}.")
    if not summary.has_models:
        raise RunError(f"Run {run_id} has no saved models (state: {summary.state}).")
    directory = run_dir(run_id, root)
    models = {}
    for name in summary.names:
        try:
            models[name] = keras.models.load_model(directory / f"{name}.keras", compile=False)
        except Exception as exc:  # Keras raises many types for a damaged archive
            raise RunError(f"{name}.keras in run {run_id} could not be loaded ({exc.__class__.__name__}).") from None
    return models


def save_result(directory: Path, result: Any) -> None:
    """Save a :class:`seqattn.training.TrainResult`: models first, then result.json."""
    if result.updates_done > 0:
        for name, model in result.models.items():
            save_model_atomic(model, directory / f"{name}.keras")
    write_json(
        directory / "result.json",
        {
            "accuracy": {k: v.to_dict() for k, v in result.accuracy.items()},
            "elapsed": result.elapsed,
            "updates_done": result.updates_done,
            "cancelled": result.cancelled,
            "probe": result.probe,
        },
    )


