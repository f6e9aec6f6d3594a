"""Creating a run: its folder, ``run.json`` (what it is, and the name a speaker gave it) and ``status.json`` (queued)."""

from __future__ import annotations

import os
import shutil
import time
from typing import TYPE_CHECKING, Any

from seqattn.model.registry import MODEL_NAMES
from seqattn.runs.files import is_no_space, write_json
from seqattn.runs.layout import RUN_FILE, STATUS_FILE, RunError, ensure_root, new_run_id, validate_run_name
from seqattn.runs.space import NotEnoughSpace, check_free_space, no_space_message

if TYPE_CHECKING:  # the runs package loads no NumPy: the dashboard's first page draws before it needs it
    from seqattn.problem.config import ProblemConfig


def create_run(
    problem: ProblemConfig,
    train: dict[str, Any],
    *,
    model: dict[str, Any] | None = None,
    kind: str = "train",
    names: tuple[str, ...] = MODEL_NAMES,
    extra: dict[str, Any] | None = None,
    root: str | os.PathLike[str] | None = None,
    needed_bytes: float = 0,
    name: str | None = None,
) -> str:
    """Create a run directory in state ``queued`` and return its id.

    ``train`` and ``model`` are the recipe's and the models' settings as dicts;
    ``needed_bytes`` the run's estimated size on disk (:mod:`seqattn.training.run_size`),
    checked against the free space of the runs folder's device before anything is made;
    ``name`` (optional) is what a speaker calls the run (``dates-demo``), stored in run.json
    so :func:`~seqattn.runs.listing.find_named_run` finds it (several runs may share a name:
    the newest wins).
    A run whose files cannot be written leaves no folder behind.

    Raises:
        ValueError: ``name`` is not a valid run name (:func:`~seqattn.runs.layout.validate_run_name`).
        NotEnoughSpace (a RunError): too little free space, or the disk filled up while
            the run's first files were written; nothing was created.
        RunError: the runs folder cannot be written. OSError: another write error
            (the half-made folder is removed first).
    """
    if name is not None:
        validate_run_name(name)  # before anything is made
    base = ensure_root(root)
    if needed_bytes > 0:
        check_free_space(needed_bytes, base)
    for _ in range(5):
        run_id = new_run_id()
        directory = base / run_id
        try:
            directory.mkdir()
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - five collisions of 24 random bits in one second
        raise RunError("could not allocate a run id")
    meta = {
        "id": run_id,
        "kind": kind,
        "created": time.time(),
        "problem": problem.to_dict(),
        "train": train,
        "model": dict(model or {}),
        "names": list(names),
        **(extra or {}),
    }
    if name is not None:
        meta["name"] = name
    try:
        write_json(directory / RUN_FILE, meta)
        write_json(directory / STATUS_FILE, {"state": "queued", "pid": None, "update": 0, "total": None,
                                             "updated": time.time()})
    except BaseException as exc:
        # A folder without its run.json would be listed as a broken run forever: take it back.
        shutil.rmtree(directory, ignore_errors=True)
        if is_no_space(exc):
            raise NotEnoughSpace(no_space_message(base)) from None
        raise
    return run_id
