"""XLA's persistent compilation cache, shared by every process that trains.

Compiling one training step with XLA takes seconds, paid again by every new
process (a training job, a sweep cell on a Dask worker, a test) for the same
shapes. TensorFlow can keep compiled programs on disk
(``--tf_xla_persistent_cache_directory`` in ``TF_XLA_FLAGS``): the next process
with the same program loads it instead, in a fraction of the time
(docs/performance.md). The cached program is the one XLA would compile, so
results do not change.

:func:`enable` must run before TensorFlow is imported (TensorFlow reads
``TF_XLA_FLAGS`` once); the entry points call it (the dashboard, the CLI, the
processes :mod:`seqattn.speed` starts, the test session), and the processes they
start inherit the flag. ``SEQATTN_XLA_CACHE``
names the folder (default ``$XDG_CACHE_HOME/seqattn/xla``, else
``~/.cache/seqattn/xla``); ``SEQATTN_XLA_CACHE=off`` turns the cache off.

The cache is an optimisation that never fails a run:

- a folder this process cannot write in (read-only, a file in its place) leaves the cache off,
  with one line on stderr (in a job's ``worker.log``) saying so and what to set;
- any folder name works, spaces, quotes or `` --foo`` included: it goes into ``TF_XLA_FLAGS``
  double-quoted, as TensorFlow reads it back (:func:`seqattn.training.xla_disk_cache.quote`),
  so a setting never becomes a flag; if the user's own ``TF_XLA_FLAGS`` cannot take one more
  flag (it names a file, or leaves a quote open), the cache stays off, with one line saying so;
- a corrupt file in it costs the training that meets it one compile, not the run: the update
  step sets the file aside and compiles afresh (:class:`seqattn.training.xla_disk_cache.UpdateStep`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

from seqattn.training.xla_disk_cache import CACHE_FLAG, cache_folder, quote

CACHE_ENV = "SEQATTN_XLA_CACHE"
FLAG = CACHE_FLAG
_said: set[str] = set()  # the warnings this process has printed (the dashboard reruns its script often)


def cache_dir(env: MutableMapping[str, str] | None = None) -> Path | None:
    """The cache folder the settings in ``env`` (default ``os.environ``) ask for, or None when off."""
    env = os.environ if env is None else env
    chosen = env.get(CACHE_ENV, "").strip()
    if chosen.lower() in {"off", "0", "no", "false"}:
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "seqattn" / "xla"


def _say_once(message: str) -> None:
    if message not in _said:
        _said.add(message)
        print(message, file=sys.stderr, flush=True)


def repeat_warnings() -> None:
    """Print again what :func:`enable` said in this process: a warm process's job has its own log."""
    for message in sorted(_said):
        print(message, file=sys.stderr, flush=True)


def _cannot_write(folder: Path) -> str | None:
    """Why no file can be made in ``folder`` (created if missing), or None when one can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Why a real file: a read-only mount or a full quota passes os.access, and root passes every mode bit.
        handle, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        return error.strerror or str(error)
    return None


def enable(env: MutableMapping[str, str] | None = None) -> Path | None:
    """Add the cache flag to ``TF_XLA_FLAGS`` in ``env`` (default ``os.environ``); returns the folder.

    Flags the user already set are kept, and so is a cache folder they chose
    in ``TF_XLA_FLAGS`` themselves. Nothing is added (None returned) when the
    cache is off, when no file can be written in its folder (a read-only home or
    mount), or when ``TF_XLA_FLAGS`` cannot take another flag: XLA then compiles
    as usual, and the last two say so once on stderr.
    """
    env = os.environ if env is None else env
    flags = env.get("TF_XLA_FLAGS", "")
    if FLAG in flags:
        return None
    folder = cache_dir(env)
    if folder is None:
        return None
    reason = _cannot_write(folder)
    if reason is not None:
        _say_once(f"XLA cache off: cannot write in {folder} ({reason}); training compiles without it. "
                  f"Set {CACHE_ENV} to a writable folder, or to off.")
        return None
    combined = f"{flags} {FLAG}={quote(str(folder))}".strip()
    if cache_folder({"TF_XLA_FLAGS": combined}) != folder:  # read back as TensorFlow will
        _say_once(f"XLA cache off: TF_XLA_FLAGS ({flags.strip()!r}) cannot take the cache folder after it (it must "
                  f"be --flags, quotes closed); training compiles without it. Fix TF_XLA_FLAGS, or set {CACHE_ENV}=off.")
        return None
    env["TF_XLA_FLAGS"] = combined
    return folder
