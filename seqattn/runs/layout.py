"""Where runs live: the runs root, run ids, and the name of every file in a run.

Layout of ``<root>/<run id>/`` (only this package opens these files):

- ``run.json``: kind, problem and training configs, model names, creation time.
- ``status.json``: state, pid, progress counters, error message (rewritten whole).
- ``progress.csv``: one row per progress report of a training, appended.
- ``evals.jsonl``: one JSON object per evaluation, with the probe's attention matrix.
- ``result.json``: final metrics; ``<model>.keras``: the trained models.
- ``cells.jsonl``: for runs of many trainings (comparisons, sweeps), one finished
  cell per line (older comparisons wrote ``results.csv`` and ``losses.csv``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from seqattn.settings import read

RUNS_DIR_ENV = "SEQATTN_RUNS_DIR"
RUN_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
# A name a speaker gives a run (``--name dates-demo``) to find it again; ids stay the runs' folder names.
RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
STATES = ("queued", "running", "done", "cancelled", "failed", "interrupted")
ACTIVE_STATES = ("queued", "running")

RUN_FILE = "run.json"
STATUS_FILE = "status.json"
PROGRESS_FILE = "progress.csv"
EVALS_FILE = "evals.jsonl"
RESULT_FILE = "result.json"
CELLS_FILE = "cells.jsonl"
CANCEL_FILE = "cancel.request"
LOG_FILE = "worker.log"
LEGACY_RESULTS_FILE = "results.csv"
LEGACY_LOSSES_FILE = "losses.csv"


class RunError(Exception):
    """A run that cannot be read or written; the message is meant for users."""


def runs_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The runs root: ``root`` if given, else ``$SEQATTN_RUNS_DIR``, else ``./runs``."""
    return Path(root if root is not None else str(read(RUNS_DIR_ENV)))


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


def validate_run_name(name: Any) -> str:
    """Return ``name`` if it can name a run: 1 to 40 letters, digits, ``-``, ``_`` or ``.``, and not an id.

    Raises:
        ValueError: what a name may hold, and the name received.
    """
    if not isinstance(name, str) or not RUN_NAME_PATTERN.fullmatch(name):
        shown = repr(name)[:60]
        raise ValueError(f"a run name is 1 to 40 letters, digits, '-', '_' or '.' (e.g. dates-demo); got {shown}.")
    if RUN_ID_PATTERN.fullmatch(name):  # a name that reads as an id would make "run X" ambiguous
        raise ValueError(f"a run name must not have the form of a run id; got {name!r}.")
    return name


def new_run_id(now: dt.datetime | None = None) -> str:
    """A fresh run id: UTC timestamp plus 6 random hex digits."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def run_dir(run_id: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Directory of a run (validated id; the directory may not exist)."""
    return runs_root(root) / validate_run_id(run_id)


def existing_run_dir(run_id: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Directory of a run that exists.

    Raises:
        ValueError: malformed id. RunError: no such run.
    """
    directory = run_dir(run_id, root)
    if not directory.is_dir():
        raise RunError(f"There is no run {run_id} in {runs_root(root)}.")
    return directory


def model_path(directory: Path, name: str) -> Path:
    """The saved Keras model of model ``name`` in a run directory."""
    return directory / f"{name}.keras"
