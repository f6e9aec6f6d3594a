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
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

CACHE_ENV = "SEQATTN_XLA_CACHE"
FLAG = "--tf_xla_persistent_cache_directory"


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


def enable(env: MutableMapping[str, str] | None = None) -> Path | None:
    """Add the cache flag to ``TF_XLA_FLAGS`` in ``env`` (default ``os.environ``); returns the folder.

    Flags the user already set are kept, and so is a cache folder they chose
    in ``TF_XLA_FLAGS`` themselves. Nothing is added (None returned) when the
    cache is off or its folder cannot be created (a read-only home): XLA then
    compiles as usual.
    """
    env = os.environ if env is None else env
    flags = env.get("TF_XLA_FLAGS", "")
    if FLAG in flags:
        return None
    folder = cache_dir(env)
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    env["TF_XLA_FLAGS"] = f"{flags} {FLAG}={folder}".strip()
    return folder
