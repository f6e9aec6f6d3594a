"""Whole-file writes that never leave a half-written file, JSON reads, the status lock."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO
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


class NotRegularFileError(OSError):
    """A FIFO, socket or device where a run file should be (its ``strerror`` says which)."""


def os_reason(exc: OSError) -> str:
    """Why a file could not be opened, in words (permission denied is not corruption)."""
    if isinstance(exc, NotRegularFileError):
        return str(exc.strerror)
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "a folder is where the file should be"
    return (exc.strerror or exc.__class__.__name__).lower()


# What a non-regular file is, by the file type bits of its mode.
_ODD_FILE_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                   (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def _require_regular(mode: int, path: Path) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "a folder is where the file should be", str(path))
    kind = next((name for test, name in _ODD_FILE_KINDS if test(mode)), "not a regular file")
    raise NotRegularFileError(errno.EINVAL, f"{kind} is where the file should be", str(path))


def open_regular(path: Path) -> BinaryIO:
    """Open a run file for reading in binary, only if it is a regular file.

    A FIFO would block the reader until some process writes into it (a stuck
    listing, a stuck server thread per page view) and a device may never end,
    so anything but a regular file is refused before it is read: checked with
    ``stat`` before opening (a socket cannot even be opened), and again with
    ``fstat`` on what was opened, without blocking, in case the file was swapped.

    Raises:
        FileNotFoundError: it does not exist. IsADirectoryError: a folder is there.
        NotRegularFileError: a FIFO, socket or device is there. OSError: it cannot be opened.
    """
    _require_regular(os.stat(path).st_mode, path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        _require_regular(os.fstat(fd).st_mode, path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_bytes(path: Path) -> bytes:
    """The bytes of a run file that is a regular file (:func:`open_regular`; raises as it does)."""
    with open_regular(path) as fh:
        return fh.read()


def require_regular_file(path: Path) -> None:
    """Check that a run file is a regular file before a library (zipfile, Keras) opens it by name.

    Raises:
        RunError: it is missing, or something else is in its place (the message names the file and what is there).
    """
    try:
        _require_regular(os.stat(path).st_mode, path)
    except FileNotFoundError:
        raise RunError(f"{path.name} is missing") from None
    except OSError as exc:
        raise RunError(f"{path.name} cannot be read ({os_reason(exc)})") from None


def read_bytes(path: Path) -> bytes | None:
    """A run file's bytes; None if it does not exist.

    Raises:
        RunError: it exists but cannot be read, or is not a regular file (the message says why).
    """
    try:
        return read_regular_bytes(path)
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
            status = json.loads(read_regular_bytes(path))
        except (OSError, ValueError):  # missing, unreadable, corrupt or not a file: start afresh
            status = {}
        if not isinstance(status, dict):
            status = {}
        status.update(changes)
        status["updated"] = time.time()
        try:
            write_json(path, status)
        except OSError as exc:
            if not is_no_space(exc):
                raise
            _rewrite_in_place(path, json.dumps(status, indent=1, allow_nan=True).encode())
        return status


NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def is_no_space(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an error it was raised from, is a full disk (or a full quota)."""
    seen = 0
    while exc is not None and seen < 20:  # a bounded walk: a chain may loop
        if isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS:
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _rewrite_in_place(path: Path, payload: bytes) -> None:
    """Overwrite a small file in the blocks it already has: the last resort on a full disk.

    A new temporary file needs a free block and there is none, but status.json
    (a few hundred bytes) fits in the block it holds, so a job can still say why
    it ended. Not atomic: a reader at that instant may see it half-written, once.
    """
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        _require_regular(os.fstat(fd).st_mode, path)
        os.pwrite(fd, payload, 0)
        os.ftruncate(fd, len(payload))
    finally:
        os.close(fd)


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
