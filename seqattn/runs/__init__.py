"""Saved runs: one directory per job, readable while it is written. This package owns every file of a run.

- :mod:`~seqattn.runs.layout`: the runs root, run ids, file names.
- :mod:`~seqattn.runs.files`: atomic writes, JSON reads, the status lock.
- :mod:`~seqattn.runs.progress`: a training's ``progress.csv`` and ``evals.jsonl``.
- :mod:`~seqattn.runs.saved_models`: ``<model>.keras`` and ``result.json``.
- :mod:`~seqattn.runs.cell_log`: appends the finished cells of comparisons and sweeps
  (:mod:`seqattn.sweeps.records` reads them back).
- :mod:`~seqattn.runs.creating`: a new run's folder and files.
- :mod:`~seqattn.runs.summary`: :class:`RunSummary`, a run read and checked (and whether its process lives).
- :mod:`~seqattn.runs.listing`: every run, one run by id or by name, its problem, result and models.
- :mod:`~seqattn.runs.reading`: a run's records by id; the ``*_checked`` readers
  are the one tolerant path for pages: a damaged file becomes a sentence saying
  what is damaged and what still works, never an exception.

May import: :mod:`seqattn.problem` and :mod:`seqattn.model` (to check a run's settings and
load its models) and :mod:`seqattn.processes`; it knows nothing of training, sweeps, jobs or
the speed machinery (``tests/test_structure.py`` checks).

Whole files are written to a temporary name and renamed, so a crash never leaves
a half-written file that looks valid. Appended files may end in a partial line
while a job writes; readers ignore a line until its newline is written.
"""

from seqattn.runs.cell_log import CellLogWriter, append_cell
from seqattn.runs.files import (
    append_line,
    cancel_requested,
    open_log,
    read_json,
    read_status,
    request_cancel,
    update_status,
    write_atomic,
    write_json,
)
from seqattn.runs.layout import (
    ACTIVE_STATES,
    CANCEL_FILE,
    LOG_FILE,
    RUN_ID_PATTERN,
    RUN_NAME_PATTERN,
    RUNS_DIR_ENV,
    STATES,
    RunError,
    ensure_root,
    existing_run_dir,
    model_path,
    new_run_id,
    run_dir,
    runs_root,
    validate_run_id,
    validate_run_name,
)
from seqattn.runs.progress import PROGRESS_COLUMNS, ProgressTail, RunWriter, progress_columns, read_evals, read_progress
from seqattn.runs.reading import (
    Checked,
    checked,
    evals_checked,
    evals_of,
    progress_checked,
    per_position_accuracy,
    progress_reader,
    result_checked,
    run_checked,
)
from seqattn.runs.saved_models import check_keras_file, save_model_atomic, save_models_atomic, save_result
from seqattn.runs.creating import create_run
from seqattn.runs.listing import find_named_run, get_run, list_runs, load_models, load_predictors, read_problem, read_result
from seqattn.runs.summary import RunSummary, current_state, read_meta, summarize

__all__ = [
    "ACTIVE_STATES", "CANCEL_FILE", "CellLogWriter", "Checked", "LOG_FILE", "PROGRESS_COLUMNS",
    "ProgressTail", "RUNS_DIR_ENV", "RUN_ID_PATTERN", "RUN_NAME_PATTERN", "RunError", "RunSummary", "RunWriter", "STATES",
    "append_cell", "append_line", "cancel_requested",
    "check_keras_file", "checked", "create_run", "current_state",
    "ensure_root", "evals_checked", "evals_of", "existing_run_dir", "find_named_run",
    "get_run", "list_runs", "load_models", "load_predictors",
    "model_path", "new_run_id", "open_log", "progress_checked", "progress_columns", "progress_reader",
    "read_evals", "read_json", "read_meta", "read_problem", "read_progress", "read_result",
    "read_status", "request_cancel", "per_position_accuracy", "result_checked", "run_checked", "run_dir", "runs_root",
    "save_model_atomic", "save_models_atomic", "save_result", "summarize", "update_status", "validate_run_id",
    "validate_run_name", "write_atomic",
    "write_json",
]
