"""XLA's compilation cache on disk as TensorFlow reads it, and an update step that survives a bad file in it.

:mod:`seqattn.speed.xla_cache` turns the cache on (the entry points call it); this module is the
core's side of it, with no TensorFlow import of its own:

- :func:`parse_flags` reads ``TF_XLA_FLAGS`` as TensorFlow does
  (``xla/parse_flags_from_env.cc``): whitespace separates flags; a value in double quotes may hold
  spaces, with a backslash escaping the next character (:func:`quote`); anything else ends at
  the next whitespace. :func:`cache_folder` is the folder the flags name.
- :class:`UpdateStep` is a traced update step. A corrupt, truncated or foreign file in the
  cache makes XLA's first compile of that shape fail (``DataLossError: Can't parse ... as
  binary proto``, ``OutOfRangeError``, ``InvalidArgumentError: Serialized cache key does not
  match``, ``InternalError: Failed to parse serialized CpuAotCompilationResult``) in every
  process, until the file goes. The step then moves the bad files aside (``<name>.corrupt``,
  which TensorFlow ignores), says so in one line on stderr and runs again on a fresh trace:
  TensorFlow remembers a failed compile under the trace's name, and a new name is also a new
  cache key. The failed call changed no weight (nothing runs before the compile). Files are
  found bad by their structure (:func:`entry_is_sound`), by name in the error, or, when the
  fresh trace succeeds where the first failed, as the entries of the function that failed.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

CACHE_FLAG = "--tf_xla_persistent_cache_directory"
_WHITESPACE = " \t\r\n"
_NAMED_FILE = re.compile(r"Can't parse (.+?) as binary proto")
_FAILED_OP = re.compile(r"\[Op:([\w.]+)\]")  # TensorFlow ends an op's error with the traced function's name


def quote(value: str) -> str:
    """``value`` as TensorFlow reads back exactly from a flag's ``=...`` (quoted only when it must be)."""
    if not value or any(c in value for c in _WHITESPACE + "\"'\\"):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def parse_flags(flags: str) -> list[tuple[str, str]] | None:
    """``TF_XLA_FLAGS`` as TensorFlow splits it: [(``--name``, value)] in order; None when it is no flag list.

    TensorFlow reads a value not starting with ``-`` as the name of a file holding the flags, and
    stops at the first word not starting with ``-`` (the words after it are ignored).
    """
    flags = flags.lstrip(_WHITESPACE)
    if not flags:
        return []
    if not flags.startswith("-"):
        return None
    parsed, i = [], 0
    while i < len(flags) and flags[i] == "-":
        end = i
        while end < len(flags) and flags[end].isascii() and (flags[end] in "-_" or flags[end].isalnum()):
            end += 1
        name = flags[i:end]
        if flags[end:end + 1] == "=" and flags[end + 1:end + 2] in ("'", '"'):
            quote_char, end, value = flags[end + 1], end + 2, []
            while end < len(flags) and flags[end] != quote_char:
                if quote_char == '"' and flags[end] == "\\" and end + 1 < len(flags):
                    end += 1
                value.append(flags[end])
                end += 1
            parsed.append((name, "".join(value)))
            end += 1  # the closing quote
        else:
            while end < len(flags) and flags[end] not in _WHITESPACE:
                end += 1
            word = flags[i:end]
            parsed.append((name, word[len(name) + 1:] if word[len(name):len(name) + 1] == "=" else ""))
        i = end
        while i < len(flags) and flags[i] in _WHITESPACE:
            i += 1
    return parsed


def cache_folder(env: Mapping[str, str] | None = None) -> Path | None:
    """The cache folder ``TF_XLA_FLAGS`` in ``env`` (default ``os.environ``) names, or None (no cache)."""
    env = os.environ if env is None else env
    folders = [value for name, value in parse_flags(env.get("TF_XLA_FLAGS", "")) or [] if name == CACHE_FLAG]
    return Path(folders[-1]) if folders and folders[-1] else None  # the last one wins, as in TensorFlow


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """The protobuf varint at ``at``: (value, index after it); IndexError when cut short."""
    value = shift = 0
    while True:
        byte = data[at]
        value, shift, at = value | (byte & 0x7F) << shift, shift + 7, at + 1
        if byte < 0x80:
            return value, at


def _fields(data: bytes) -> dict[int, int | bytes]:
    """The fields of one binary protobuf message by number (the last of each); ValueError if malformed."""
    fields: dict[int, int | bytes] = {}
    at = 0
    try:
        while at < len(data):
            tag, at = _varint(data, at)
            kind = tag & 7
            if kind == 0:
                fields[tag >> 3], at = _varint(data, at)
            elif kind == 2:
                size, at = _varint(data, at)
                if at + size > len(data):
                    raise ValueError("a field runs past the end")
                fields[tag >> 3], at = data[at:at + size], at + size
            elif kind in (1, 5):
                at += 8 if kind == 1 else 4
            else:
                raise ValueError(f"wire type {kind}")
    except IndexError:
        raise ValueError("cut short") from None
    if at != len(data):
        raise ValueError("cut short")
    return fields


def entry_is_sound(path: Path) -> bool:
    """True when the file is a whole XlaSerializedCacheEntry for the key its name says, with a program.

    Checks what TensorFlow checks before loading (``device_executable_persistor.h``): it parses,
    its key (signature and cluster fingerprints, device, prefix, PjRt) gives its file name,
    and the compiled program is not empty; and that the program's outer message parses.
    """
    try:
        entry = _fields(path.read_bytes())
        key = _fields(entry.get(1, b""))  # type: ignore[arg-type]
    except (OSError, ValueError, TypeError):
        return False
    prefix, device = key.get(4, b""), key.get(3, b"")
    if not isinstance(prefix, bytes) or not isinstance(device, bytes):
        return False
    name = "__".join([*([prefix.decode(errors="replace")] if prefix else []), str(key.get(1, 0)),
                      str(key.get(2, 0)), device.decode(errors="replace")]) + ("__pjrt" if key.get(5) else "") + ".pb"
    program = entry.get(3)
    if name != path.name or not isinstance(entry.get(2), bytes) or not isinstance(program, bytes) or not program:
        return False
    try:
        _fields(program)  # a serialized compilation result (a protobuf message) on CPU
    except ValueError:
        return False
    return True


def _set_aside(paths: list[Path]) -> None:
    """Rename each file to ``<name>.corrupt`` (TensorFlow reads only ``*.pb``)."""
    for path in paths:
        try:
            os.replace(path, path.with_name(path.name + ".corrupt"))
        except FileNotFoundError:
            pass  # another process set it aside first
        except OSError as failed:
            print(f"XLA cache: cannot move the bad file {path} aside ({failed.strerror}); delete it.",
                  file=sys.stderr, flush=True)


def set_aside_entries_of(function: str, folder: Path) -> list[Path]:
    """Set aside the cache's entries compiled for the traced function named ``function``; returns them.

    An entry's HLO module is named after the function (``__inference_step_1287[...]``).
    """
    found = []
    for path in sorted(folder.glob("*.pb")):
        try:
            name = _fields(_fields(path.read_bytes()).get(2, b"")).get(1, b"")  # type: ignore[arg-type]
        except (OSError, ValueError, TypeError):
            continue
        if isinstance(name, bytes) and name.startswith(function.encode() + b"["):
            found.append(path)
    _set_aside(found)
    return found


def set_aside_bad_entries(error: BaseException, folder: Path | None = None) -> list[Path]:
    """Move the cache's bad files aside (``<name>.corrupt``): those ``error`` names and those not sound.

    ``folder`` defaults to :func:`cache_folder`. Returns the files found bad (empty: the cache,
    if any, is not what failed). A file another process moved first counts as found.
    """
    folder = cache_folder() if folder is None else folder
    if folder is None or not folder.is_dir():
        return []
    named = {Path(m).name for m in _NAMED_FILE.findall(str(error))}  # TensorFlow read them from this folder
    bad = sorted(p for p in folder.glob("*.pb") if p.is_file() and (p.name in named or not entry_is_sound(p)))
    _set_aside(bad)
    return bad


class UpdateStep:
    """A traced update step (``tf.function``) that survives a bad file in XLA's disk cache.

    Called like the ``tf.function``, ``step(x, y) -> losses``; other attributes
    (``get_concrete_function``, ...) are the current trace's. When a call of an XLA step fails
    and the cache holds bad files (:func:`set_aside_bad_entries`), or when the first call of a
    trace fails (XLA compiles then, loading the cached program if any), the call is tried once
    more on a fresh trace, which TensorFlow compiles under a new cache key.
    """

    def __init__(self, python_step: Callable[..., Any], jit_compile: bool) -> None:
        self._python_step, self._jit_compile = python_step, jit_compile
        self._traced = self._trace()

    def _trace(self) -> Any:
        import tensorflow as tf

        self._ran = False
        return tf.function(self._python_step, jit_compile=self._jit_compile)

    def __call__(self, *args: Any) -> Any:
        try:
            result = self._traced(*args)
        except Exception as error:
            result = self._again(error, args)
        self._ran = True
        return result

    def _again(self, error: Exception, args: tuple[Any, ...]) -> Any:
        """The call tried once more after ``error``, if the cache may be what failed; else ``error`` raised."""
        import tensorflow as tf

        folder = cache_folder()
        if not self._jit_compile or not isinstance(error, tf.errors.OpError) or folder is None:
            raise error
        first = not self._ran
        bad = set_aside_bad_entries(error, folder)
        if not bad and not first:
            raise error  # compiled and ran before: the cache is not what failed
        failed = _FAILED_OP.findall(str(error))
        self._traced = self._trace()  # the old trace keeps its failed compile (and its cache key)
        result = self._traced(*args)  # if this fails too, the cache was not the cause: its error stands
        if not bad and failed:
            # The same program compiled under another name: the entry cached for the failed name was bad,
            # though its damage is deeper than the checks above see. Those entries are recompiled when next needed.
            bad = set_aside_entries_of(failed[-1], folder)
        what = f"set aside {len(bad)} bad file(s) in {folder}" if bad else "found no bad file"
        print(f"XLA cache: the update step failed to compile or load ({error.__class__.__name__}); {what} "
              "and compiled it afresh.", file=sys.stderr, flush=True)
        return result

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not set yet (while copying or unpickling): no trace to ask
            raise AttributeError(name)
        return getattr(self._traced, name)
