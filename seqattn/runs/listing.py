"""Finding runs: every run under the runs root, one run by id or by name, its problem and result; loading its models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqattn.runs.layout import RUN_ID_PATTERN, RunError, existing_run_dir, run_dir, runs_root
from seqattn.runs.saved_models import load_model_files, load_predictor_files, read_result_file
from seqattn.runs.summary import RunSummary, checked_meta, safe_mtime, summarize

if TYPE_CHECKING:
    from seqattn.problem.config import ProblemConfig


def _summarize_safely(directory: Path) -> RunSummary:
    """:func:`summarize`, but any failure is that run's problem, never the listing's."""
    try:
        return summarize(directory)
    except Exception as exc:  # noqa: BLE001
        return RunSummary(id=directory.name, created=safe_mtime(directory), state="broken",
                          broken=f"it could not be read ({exc.__class__.__name__}: {str(exc)[:120]})")


def list_runs(root: str | os.PathLike[str] | None = None, kind: str | None = None) -> list[RunSummary]:
    """Every run under the root, newest first; unreadable ones marked ``broken``.

    A missing root gives an empty list. Hidden entries and files are skipped; a
    folder whose name is not a run id is listed as broken. With ``kind``, only
    readable runs of that kind (a broken run's kind is unknown).
    """
    base = runs_root(root)
    try:
        entries = [p for p in base.iterdir() if not p.name.startswith(".") and p.is_dir()]
    except OSError:
        return []
    summaries = [
        _summarize_safely(entry) if RUN_ID_PATTERN.fullmatch(entry.name)
        else RunSummary(id=entry.name, created=safe_mtime(entry), state="broken",
                        broken="not a seqattn run folder (unexpected name)")
        for entry in entries
    ]
    if kind is not None:
        summaries = [s for s in summaries if s.kind == kind and not s.broken]
    summaries.sort(key=lambda s: (s.created, s.id), reverse=True)
    return summaries


def get_run(run_id: str, root: str | os.PathLike[str] | None = None) -> RunSummary:
    """Summary of one run by id.

    Raises:
        ValueError: the id is malformed.
        RunError: no such run.
    """
    return summarize(existing_run_dir(run_id, root))


def find_named_run(name: str, root: str | os.PathLike[str] | None = None, kind: str = "train") -> RunSummary | None:
    """The newest run called ``name`` (``--name``) that can be shown, or None.

    For trainings (``kind="train"``) a usable run (models saved, :attr:`RunSummary.usable`);
    for another kind (``sweep``, ``compare``) any run of it that is not broken. A finished
    (``done``) run is preferred to a newer one that is still training or ended early: a talk
    should show the models its recipe meant, not a checkpoint of an interrupted try.
    """
    named = [s for s in list_runs(root, kind=kind) if s.name == name and (s.usable or kind != "train")]
    done = [s for s in named if s.state == "done"]
    return (done or named or [None])[0]  # list_runs is newest first


def read_problem(run_id: str, root: str | os.PathLike[str] | None = None) -> ProblemConfig:
    """A run's problem, from its run.json alone (so a damaged status or result does not hide it).

    Raises:
        ValueError: malformed id. RunError: no such run, or run.json is damaged (the message says how).
    """
    meta, _ = checked_meta(existing_run_dir(run_id, root))
    from seqattn.problem.config import ProblemConfig

    return ProblemConfig.from_dict(meta["problem"])


def read_result(run_id: str, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The final ``result.json`` of a finished run."""
    return read_result_file(run_dir(run_id, root))


def _usable_models(run_id: str, root: str | os.PathLike[str] | None) -> RunSummary:
    summary = get_run(run_id, root)
    if summary.broken:
        raise RunError(f"Run {run_id} cannot be used: {summary.broken}.")
    if not summary.has_models:
        raise RunError(f"Run {run_id} has no saved models (state: {summary.state}).")
    return summary


def load_models(run_id: str, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Load a finished run's models with Keras, by name (``baseline``, ``attention``).

    Raises:
        RunError: the run is broken, still training, or has no models.
    """
    summary = _usable_models(run_id, root)
    return load_model_files(run_dir(run_id, root), summary.names, run_id)


def load_predictors(run_id: str, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """A finished run's predictors by name, answering in NumPy (:func:`~seqattn.runs.saved_models.load_predictor_files`).

    Raises:
        RunError: the run is broken, still training, has no models, or a model file cannot be read.
    """
    summary = _usable_models(run_id, root)
    return load_predictor_files(run_dir(run_id, root), summary.names, run_id)
