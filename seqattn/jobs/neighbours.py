"""Our live processes under one runs root, and the memory they hold: a job starts only if it fits beside them.

The memory budget (``$SEQATTN_MEMORY_BUDGET_GB``) covers everything of ours that
exists at once: the job about to train, jobs still running (with
``$SEQATTN_MAX_JOBS`` above 1) or stalled, queued jobs (small processes) and
helper processes that are not jobs, such as the dashboard's warm training
process (:mod:`seqattn.speed.warm_pool`). Jobs are found through their runs'
status files; a helper registers itself in ``<runs root>/.helpers/<pid>.json``
(pid, start time, role) and is forgotten once its process is gone.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqattn.processes import process_alive, process_start_time
from seqattn.runs import ACTIVE_STATES, RUN_ID_PATTERN, RunError, ensure_root, read_json, read_status, write_json
from seqattn.jobs.slots import stalled_for
from seqattn.training.budget import process_tree_rss

HELPERS_DIR = ".helpers"


@dataclass(frozen=True)
class Neighbour:
    """A live process of ours beside the one asking.

    Attributes:
        pid: its process id.
        role: what it is, in words (``running job``, ``queued job``, ``warm training process``).
        memory: resident memory of it and its children, in bytes, but mapped files' pages (shared by all of ours).
    """

    pid: int
    role: str
    memory: int


def register_helper(root: str | os.PathLike[str] | None, role: str, pid: int | None = None) -> Path:
    """Record process ``pid`` (default this one) as a helper holding memory beside the jobs; returns its file."""
    pid = os.getpid() if pid is None else pid
    folder = ensure_root(root) / HELPERS_DIR
    folder.mkdir(exist_ok=True)
    path = folder / f"{pid}.json"
    write_json(path, {"pid": pid, "pid_start": process_start_time(pid), "role": role})
    return path


def unregister_helper(root: str | os.PathLike[str] | None, pid: int | None = None) -> None:
    """Forget helper ``pid`` (default this one), e.g. once it has become a job's process."""
    with contextlib.suppress(OSError, RunError):
        (ensure_root(root) / HELPERS_DIR / f"{os.getpid() if pid is None else pid}.json").unlink(missing_ok=True)


def run_statuses(root: str | os.PathLike[str] | None) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every run folder under ``root`` with its written status (runs whose status cannot be read are skipped)."""
    for entry in ensure_root(root).iterdir():
        if RUN_ID_PATTERN.fullmatch(entry.name):
            try:
                yield entry, read_status(entry)
            except RunError:
                continue


def live_jobs(root: str | os.PathLike[str] | None) -> list[tuple[Path, dict[str, Any]]]:
    """The runs under ``root`` that are queued or running in a live process (stalled ones too), with their status."""
    return [(entry, status) for entry, status in run_statuses(root)
            if status.get("state") in ACTIVE_STATES and process_alive(status.get("pid"), status.get("pid_start"))]


def another_job_active(root: str | os.PathLike[str] | None, directory: Path | None = None,
                       also: Mapping[Path, int] | None = None) -> bool:
    """Whether a job under ``root`` other than the one in ``directory`` (if given) holds or waits for a slot: queued or
    running in a live process that is not stalled. ``also`` maps run directories to the pids of jobs just
    started, whose status may not name their process yet."""
    active = {other.resolve(): status for other, status in live_jobs(root)}
    for other, pid in (also or {}).items():
        if process_alive(pid):
            with contextlib.suppress(RunError):
                active.setdefault(other.resolve(), read_status(other))
    mine = directory.resolve() if directory is not None else None
    return any(other != mine and status.get("state") in ACTIVE_STATES and stalled_for(status) is None
               for other, status in active.items())


def _helpers(root: str | os.PathLike[str] | None) -> list[tuple[int, str]]:
    folder = ensure_root(root) / HELPERS_DIR
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            helper = read_json(path)
            pid, role = int(helper["pid"]), str(helper.get("role") or "helper process")
        except (RunError, KeyError, TypeError, ValueError):
            continue
        if process_alive(pid, helper.get("pid_start")):
            found.append((pid, role))
        else:  # a helper killed without tidying up: its memory is gone with it
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
    return found


def neighbours(root: str | os.PathLike[str] | None, me: int | None = None) -> list[Neighbour]:
    """Every live process of ours under ``root`` but ``me`` (default this process), with its resident memory."""
    me = os.getpid() if me is None else me
    roles = {status["pid"]: f"{status['state']} job" for _, status in live_jobs(root)}
    for pid, role in _helpers(root):
        roles.setdefault(pid, role)  # a warm process that took a job counts once, as the job
    roles.pop(me, None)
    return [Neighbour(pid, role, process_tree_rss(pid, file_pages=False)) for pid, role in sorted(roles.items())]


def describe(processes: list[Neighbour]) -> str:
    """``2 queued jobs, 1 warm training process``: what the processes are, counted by role."""
    counts = Counter(process.role for process in processes)
    return ", ".join(f"{n} {role}{'es' if n > 1 and role.endswith('process') else 's' if n > 1 else ''}"
                     for role, n in sorted(counts.items()))
