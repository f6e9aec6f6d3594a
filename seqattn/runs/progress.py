"""A training's progress files: ``progress.csv`` (loss reports) and ``evals.jsonl`` (evaluations).

``progress.csv`` starts with a version line, then a CSV header whose per-model
columns follow the run's models (``loss_<model>``, ``smoothed_<model>``,
``accuracy_<model>``), so a new model kind never breaks older runs, and files
written before the version line (v1, the two models of the first release) still
read the same.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Sequence

from seqattn.model.registry import MODEL_NAMES
from seqattn.runs.files import (append_line, open_regular, os_reason, read_json_lines, read_regular_bytes, update_status,
                                write_atomic)
from seqattn.runs.layout import EVALS_FILE, PROGRESS_FILE, RunError

# pandas is imported when first used: the home page must render without pandas.
if TYPE_CHECKING:
    import pandas as pd

PROGRESS_VERSION = 2
VERSION_PREFIX = "# seqattn progress v"
BASE_COLUMNS = ("update", "total", "samples", "elapsed")
PER_MODEL = ("loss", "smoothed", "accuracy")
TAIL_COLUMNS = ("alignment", "final")
_MODEL_COLUMN = re.compile(r"^(loss|smoothed|accuracy)_[a-z][a-z0-9_]*$")


def progress_columns(names: Sequence[str] = MODEL_NAMES) -> tuple[str, ...]:
    """The CSV columns of a run that trains ``names``."""
    per_model = tuple(f"{kind}_{name}" for kind in PER_MODEL for name in names)
    return BASE_COLUMNS + per_model + TAIL_COLUMNS


PROGRESS_COLUMNS = progress_columns()


def _check_header(columns: tuple[str, ...]) -> None:
    missing = [c for c in BASE_COLUMNS + TAIL_COLUMNS if c not in columns]
    odd = [c for c in columns if c not in BASE_COLUMNS + TAIL_COLUMNS and not _MODEL_COLUMN.fullmatch(c)]
    if missing or odd or len(set(columns)) != len(columns):
        raise RunError("progress.csv has an unknown header")


class RunWriter:
    """Appends a training's progress to its run directory.

    ``on_progress`` takes a :class:`seqattn.training.progress.Progress`; status.json is
    rewritten at most every ``status_interval`` seconds (and at final reports).
    """

    def __init__(self, directory: Path, names: Sequence[str] = MODEL_NAMES, status_interval: float = 0.25) -> None:
        self.directory = directory
        self.names = tuple(names)
        self.columns = progress_columns(self.names)
        self.status_interval = status_interval
        self._last_status = 0.0
        self._pace_origin: tuple[int, float] | None = None
        progress = directory / PROGRESS_FILE
        if not progress.exists():
            write_atomic(progress, f"{VERSION_PREFIX}{PROGRESS_VERSION}\n" + ",".join(self.columns) + "\n")
        self._progress = open(progress, "a", buffering=1)
        self._evals = directory / EVALS_FILE

    def on_progress(self, progress: Any) -> None:
        row = {
            "update": progress.update,
            "total": progress.total,
            "samples": progress.samples,
            "elapsed": round(progress.elapsed, 4),
            "final": int(progress.final),
            "alignment": progress.alignment,
        }
        for name in self.names:
            row[f"loss_{name}"] = progress.loss.get(name)
            row[f"smoothed_{name}"] = progress.smoothed.get(name)
            row[f"accuracy_{name}"] = (progress.accuracy or {}).get(name)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow("" if row[c] is None else row[c] for c in self.columns)
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
            append_line(self._evals, json.dumps(record))
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


def _split_header(text: str) -> tuple[int, str, tuple[str, ...]] | None:
    """(lines consumed, rest, columns) once the version and header lines of ``text`` are complete."""
    first, sep, rest = text.partition("\n")
    if not sep:
        return None
    consumed = 1
    if first.startswith("#"):
        match = re.fullmatch(r"# seqattn progress v(\d+)", first.strip())
        if not match:
            raise RunError("progress.csv has an unknown header")
        if int(match.group(1)) > PROGRESS_VERSION:
            raise RunError("progress.csv was written by a newer seqattn; update seqattn to read it")
        first, sep, rest = rest.partition("\n")
        if not sep:
            return None
        consumed += 1
    columns = tuple(first.strip().split(","))
    _check_header(columns)
    return consumed, rest, columns


def _row_of(line: str, width: int) -> list[float] | None:
    """The numbers of one data line (a blank field is NaN), or None if the line is corrupt."""
    try:
        fields = next(csv.reader([line]))
        if len(fields) != width:
            raise ValueError("wrong number of fields")
        row = [float(f) if f.strip() else float("nan") for f in fields]
        if row[0] != row[0]:  # no update number
            raise ValueError("no update")
    except (ValueError, csv.Error, StopIteration):
        return None
    return row


def _corrupt_lines(bad: Sequence[int]) -> str | None:
    """What is wrong, naming the first corrupt line (None when there is none)."""
    if not bad:
        return None
    more = len(bad) - 1
    return (f"progress.csv line {bad[0]} is corrupt" +
            (f" (and {more} more corrupt line{'s' if more > 1 else ''})" if more else ""))


class ProgressTail:
    """Incremental reader of a growing ``progress.csv``.

    Each :meth:`read` parses only the bytes appended since the previous call
    (complete lines only) and returns the whole history as a DataFrame. A
    corrupt row is skipped and remembered in :attr:`problem` (the good rows are
    kept); a file that cannot be read at all, or whose header is unknown, raises.
    """

    def __init__(self, path: Path) -> None:
        import pandas as pd

        self.path = path
        self._offset = 0
        self._lines = 0  # complete lines consumed, for naming a corrupt one
        self.columns: tuple[str, ...] | None = None
        self._frame = pd.DataFrame(columns=list(PROGRESS_COLUMNS))
        self._bad: list[int] = []

    @property
    def problem(self) -> str | None:
        """What is wrong with rows read so far (None when every row was good)."""
        return _corrupt_lines(self._bad)

    def _read_header(self, text: str) -> tuple[int, str] | None:
        """(lines consumed, rest) once the version and header lines are complete."""
        import pandas as pd

        header = _split_header(text)
        if header is None:
            return None
        consumed, rest, columns = header
        self.columns = columns
        self._frame = pd.DataFrame(columns=list(columns))
        return consumed, rest

    def _parse(self, text: str, first_line: int) -> pd.DataFrame:
        """The rows of ``text`` (line ``first_line`` onward); corrupt rows are skipped and remembered."""
        import pandas as pd

        names = list(self.columns or ())
        try:
            frame = pd.read_csv(io.StringIO(text), header=None, names=names, skip_blank_lines=False)
            if len(frame) == text.count("\n") and all(pd.api.types.is_numeric_dtype(frame[c]) for c in names) \
                    and frame["update"].notna().all():
                return frame
        except (ValueError, pd.errors.ParserError):
            pass
        good = []
        for number, line in enumerate(text.split("\n")[:-1], start=first_line):
            if _row_of(line, len(names)) is None:
                self._bad.append(number)
                continue
            good.append(line + "\n")
        if not good:
            return pd.DataFrame(columns=names)
        return pd.read_csv(io.StringIO("".join(good)), header=None, names=names)

    def read(self) -> pd.DataFrame:
        import pandas as pd

        try:
            with open_regular(self.path) as fh:  # never a FIFO: it would block this reader
                fh.seek(self._offset)
                chunk = fh.read()
        except FileNotFoundError:
            return self._frame
        except OSError as exc:
            raise RunError(f"progress.csv cannot be read ({os_reason(exc)})") from None
        end = chunk.rfind(b"\n")
        if end < 0:
            return self._frame
        complete = chunk[: end + 1]
        text = complete.decode("utf-8", errors="replace")
        if self.columns is None:
            header = self._read_header(text)
            if header is None:
                return self._frame
            consumed, text = header
            self._lines += consumed
        self._offset += len(complete)
        first_line = self._lines + 1
        self._lines += text.count("\n")
        if text.strip():
            new = self._parse(text, first_line)
            if not new.empty:
                self._frame = new if self._frame.empty else pd.concat([self._frame, new], ignore_index=True)
        return self._frame


def read_progress(directory: Path) -> pd.DataFrame:
    """The whole progress history of a run (one row per report).

    Raises:
        RunError: the file cannot be read, its header is unknown, or a row is corrupt.
    """
    tail = ProgressTail(directory / PROGRESS_FILE)
    history = tail.read()
    if tail.problem:
        raise RunError(tail.problem)
    return history


def final_reported(directory: Path) -> bool:
    """Whether a run's ``progress.csv`` ends with its final report; plain Python, no pandas.

    The run listing checks every finished run with this, and the home page lists
    runs. The rows are checked as :func:`read_progress` checks them.

    Raises:
        RunError: the file cannot be read, its header is unknown, or a row is corrupt.
    """
    try:
        chunk = read_regular_bytes(directory / PROGRESS_FILE)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise RunError(f"progress.csv cannot be read ({os_reason(exc)})") from None
    header = _split_header(chunk[: chunk.rfind(b"\n") + 1].decode("utf-8", errors="replace"))
    if header is None:
        return False
    consumed, text, columns = header
    if not text.strip():
        return False
    rows = [_row_of(line, len(columns)) for line in text.split("\n")[:-1]]
    problem = _corrupt_lines([number for number, row in enumerate(rows, start=consumed + 1) if row is None])
    if problem:
        raise RunError(problem)
    return bool(rows[-1][columns.index("final")])


def eval_record(record: Any) -> dict[str, Any]:
    """An evaluation record as pages use it, checked: an object with an update and accuracies.

    Raises:
        ValueError: anything else.
    """
    if not isinstance(record, dict):
        raise ValueError("not an evaluation record")
    if not isinstance(record.get("update"), int) or not isinstance(record.get("accuracy"), dict):
        raise ValueError("no update or accuracy")
    return record


def read_evals(directory: Path) -> list[dict[str, Any]]:
    """Every complete evaluation record of a run, oldest first.

    Raises:
        RunError: unreadable, or a corrupt line (the message names it).
    """
    return read_json_lines(directory / EVALS_FILE, eval_record)
