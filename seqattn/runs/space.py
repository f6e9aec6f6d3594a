"""Free space on the device holding the runs folder.

A run is refused before its folder is made when its estimated size does not fit
(:func:`check_free_space`; the estimate is the caller's, :mod:`seqattn.training.run_size`),
and a full disk met mid-run is named in words (:func:`no_space_message`) instead of
``OSError: [Errno 28]``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from seqattn.runs.layout import RUNS_DIR_ENV, RunError


class NotEnoughSpace(RunError):
    """The runs folder's device has too little free space for a run; nothing was created."""


def format_bytes(count: float) -> str:
    """``512 KiB``, ``3.7 MiB``, ``1.2 GiB``: a size in words."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count:.0f} bytes"


def _shown(root: Path) -> str:
    return os.path.abspath(root)


def free_bytes(root: Path) -> int:
    """Bytes free for this user on the device holding ``root`` (an existing folder)."""
    return shutil.disk_usage(root).free


def check_free_space(needed: float, root: Path) -> None:
    """Refuse a run of about ``needed`` bytes when the device holding ``root`` has less free.

    Raises:
        NotEnoughSpace: the message names the folder, the free space and the run's need, and what to do.
    """
    free = free_bytes(root)
    if free < needed:
        raise NotEnoughSpace(
            f"not enough free space on the device holding {_shown(root)}: {format_bytes(free)} free, this run "
            f"needs about {format_bytes(needed)}. Free some space there or point {RUNS_DIR_ENV} at another disk."
        )


def no_space_message(root: Path) -> str:
    """What a run says when a write fails because its disk is full."""
    return (f"no space left on the device holding {_shown(root)}; free some space there (or point {RUNS_DIR_ENV} "
            "at another disk) and start the run again")
