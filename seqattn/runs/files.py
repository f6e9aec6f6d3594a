"""Whole-file writes that never leave a half-written file, JSON reads, the status lock."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any
from collections.abc import Iterator
from collections.abc import Callable

from seqattn.runs.layout import CANCEL_FILE, LOG_FILE, STATUS_FILE, RunError


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


def os_reason(exc: OSError) -> str:
    """Why a file could not be opened, in words (permission denied is not corruption)."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "a folder is where the file should be"
    return (exc.strerror or exc.__class__.__name__).lower()


def read_bytes(path: Path) -> bytes | None:
    """A run file's bytes; None if it does not exist.

    Raises:
        RunError: it exists but cannot be read (the message says why).
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RunError(f"{path.name} cannot be read ({os_reason(exc)})") from None


def read_json(path: Path) -> Any:
    """Read a JSON file, raising :class:`RunError` with the true reason on failure.

    A missing file, one that cannot be opened (permission denied) and one whose
    content is not JSON (corrupt) each say so.
    """
    data = read_bytes(path)
    if data is None:
        raise RunError(f"{path.name} is missing")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RunError(f"{path.name} is unreadable (corrupt: not UTF-8 text)") from None
    except (json.JSONDecodeError, RecursionError):
        raise RunError(f"{path.name} is unreadable (corrupt: not valid JSON)") from None


def append_line(path: Path, line: str) -> None:
    """Append one line with a single ``write``, so a reader sees all of it or none.

    Readers of appended files ignore a last line without its newline.
    """
    with open(path, "a") as fh:
        fh.write(line.rstrip("\n") + "\n")
        fh.flush()


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
        path = directory / STATUS_FILE
        try:
            status = json.loads(path.read_text())
        except (OSError, ValueError):  # missing, unreadable or corrupt: start afresh
            status = {}
        if not isinstance(status, dict):
            status = {}
        status.update(changes)
        status["updated"] = time.time()
        write_json(path, status)
        return status


def read_status(directory: Path) -> dict[str, Any]:
    """A run's ``status.json`` as written (no liveness check).

    Raises:
        RunError: missing, unreadable, or not an object.
    """
    status = read_json(directory / STATUS_FILE)
    if not isinstance(status, dict):
        raise RunError("status.json is not an object")
    return status


def request_cancel(directory: Path) -> None:
    """Leave the run's cancel request for its worker to see."""
    (directory / CANCEL_FILE).touch()


def cancel_requested(directory: Path) -> bool:
    """True once a cancel was requested for the run in ``directory``."""
    return (directory / CANCEL_FILE).exists()


def open_log(directory: Path) -> Any:
    """The run's worker log, opened for appending bytes (the worker's stdout and stderr)."""
    return open(directory / LOG_FILE, "ab")


def scan_json_lines(path: Path, parse: Callable[[Any], Any] = lambda record: record) -> tuple[list[Any], list[str]]:
    """(records, problems) of an appended JSON-lines file, skipping and naming each corrupt line.

    A missing file is empty; a last line without its newline is still being
    written and is skipped (not a problem).

    Raises:
        RunError: the file exists but cannot be read at all.
    """
    data = read_bytes(path)
    if data is None:
        return [], []
    records, problems = [], []
    for number, raw in enumerate(data.split(b"\n")[:-1], start=1):
        try:
            records.append(parse(json.loads(raw.decode("utf-8"))))
        except UnicodeDecodeError:
            problems.append(f"line {number} is corrupt (not UTF-8 text)")
        except (json.JSONDecodeError, RecursionError):
            problems.append(f"line {number} is corrupt (not valid JSON)")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            problems.append(f"line {number} is corrupt ({exc.__class__.__name__}: {str(exc)[:80]})")
    return records, problems


def describe_bad_lines(name: str, problems: list[str]) -> str:
    """One sentence for the corrupt lines of ``name`` (the first named, the rest counted)."""
    more = len(problems) - 1
    return f"{name} {problems[0]}" + (f" (and {more} more corrupt line{'s' if more > 1 else ''})" if more else "")


def read_json_lines(path: Path, parse: Callable[[Any], Any] = lambda record: record) -> list[Any]:
    """Every complete line of an appended JSON-lines file, each passed through ``parse``.

    A missing file is empty; a last line without its newline is still being
    written and is skipped.

    Raises:
        RunError: the file cannot be read, or a line is not JSON (or ``parse``
            rejects it with ``ValueError``/``TypeError``); the message names the line.
    """
    records, problems = scan_json_lines(path, parse)
    if problems:
        raise RunError(describe_bad_lines(path.name, problems))
    return records
