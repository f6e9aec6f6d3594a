"""A run's records by run id, for pages and the CLI (they never build a path to a run file).

Two kinds of readers:

- ``evals_of``, … raise :class:`RunError` on a damaged file (for
  scripts and the CLI, where stopping with the reason is right);
- the ``*_checked`` readers never raise for a damaged run: they return a
  :class:`Checked` with what could be read and, in ``problem``, one plain
  sentence saying what is damaged and what still works. Pages use these, so a
  damaged file of one run costs a warning, never the page (or a live fragment).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from seqattn.runs.files import describe_bad_lines, os_reason, scan_json_lines
from seqattn.runs.layout import EVALS_FILE, PROGRESS_FILE, RunError, run_dir, runs_root
from seqattn.runs.progress import PROGRESS_COLUMNS, ProgressTail, eval_record, read_evals
from seqattn.runs.saved_models import read_result_file
from seqattn.runs.listing import get_run
from seqattn.runs.summary import RunSummary

# pandas is imported when first used: the home page must render without pandas.
if TYPE_CHECKING:
    import pandas as pd

Root = str | os.PathLike[str] | None
T = TypeVar("T")


@dataclass(frozen=True)
class Checked(Generic[T]):
    """What a tolerant read found: ``value`` (possibly partial or empty) and ``problem`` (None if all was read)."""

    value: T
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RunError):
        return str(exc).rstrip(".")
    if isinstance(exc, OSError):
        return f"a file cannot be read ({os_reason(exc)})"
    return f"a file is corrupt ({exc.__class__.__name__})"


def checked(read: Callable[[], T], empty: T, still_works: str) -> Checked[T]:
    """Run ``read``; a damaged file gives ``empty`` and "<what is damaged>; <still_works>" instead of an error.

    Only errors of damaged data are caught (RunError, OSError, ValueError,
    TypeError, KeyError); a programming error still surfaces.
    """
    try:
        return Checked(read())
    except (RunError, OSError, ValueError, TypeError, KeyError) as exc:
        return Checked(empty, f"{_reason(exc)}; {still_works}")


def progress_reader(run_id: str, root: Root = None) -> ProgressTail:
    """An incremental reader of a training's progress (keep it to read only what is new)."""
    return ProgressTail(run_dir(run_id, root) / PROGRESS_FILE)


def evals_of(run_id: str, root: Root = None) -> list[dict[str, Any]]:
    """A training's evaluation records, oldest first (see :func:`seqattn.runs.read_evals`)."""
    return read_evals(run_dir(run_id, root))


# --- tolerant readers ----------------------------------------------------------------------------


def run_checked(run_id: str, root: Root = None) -> Checked[RunSummary | None]:
    """A run's summary, or None with the reason (a bad id, or a folder that is gone).

    A damaged run comes back as a summary with ``broken`` set (see :func:`get_run`).
    """
    try:
        return Checked(get_run(run_id, root))
    except ValueError as exc:
        return Checked(None, str(exc))
    except RunError:
        return Checked(None, f"The run folder {run_id} is no longer in {runs_root(root)} (deleted or moved)")
    except OSError as exc:
        return Checked(None, f"The run folder {run_id} cannot be read ({os_reason(exc)})")


def progress_checked(tail: ProgressTail) -> Checked[pd.DataFrame]:
    """A training's loss history so far; corrupt rows are skipped and reported."""
    import pandas as pd

    try:
        history = tail.read()
    except (RunError, OSError, ValueError) as exc:
        columns = list(tail.columns or PROGRESS_COLUMNS)
        return Checked(pd.DataFrame(columns=columns),
                       f"{_reason(exc)}; the loss history cannot be shown, the rest of the run is unaffected")
    if tail.problem:
        return Checked(history, f"{tail.problem} and was skipped; the other rows of the loss history are shown")
    return Checked(history)


def evals_checked(run_id: str, root: Root = None) -> Checked[list[dict[str, Any]]]:
    """A training's evaluation records; corrupt lines are skipped and reported."""
    path = run_dir(run_id, root) / EVALS_FILE
    try:
        records, problems = scan_json_lines(path, eval_record)
    except RunError as exc:
        return Checked([], f"{exc}; the evaluation charts and the replay are missing, "
                           "the loss history and the models are unaffected")
    if problems:
        shown = "the other evaluations are shown" if records else "no evaluation can be shown"
        return Checked(records, f"{describe_bad_lines(EVALS_FILE, problems)}: skipped; {shown}, "
                                "the loss history and the models are unaffected")
    return Checked(records)


def result_checked(run_id: str, root: Root = None) -> Checked[dict[str, Any]]:
    """A finished training's result.json (an empty dict with the reason if it cannot be read)."""
    def read() -> dict[str, Any]:
        result = read_result_file(run_dir(run_id, root))
        if not isinstance(result, dict):
            raise RunError("result.json is not an object")
        return result

    return checked(read, {}, "the accuracy by position cannot be shown")


def per_position_accuracy(result: dict[str, Any]) -> dict[str, list[float]]:
    """Model name -> held-out accuracy at each output step, from a result.json (models without it left out)."""
    return {name: entry["per_position"] for name, entry in (result.get("accuracy") or {}).items()
            if isinstance(entry, dict) and isinstance(entry.get("per_position"), list)}
