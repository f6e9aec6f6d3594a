"""Creating a run: its folder, ``run.json`` (what it is) and ``status.json`` (queued)."""

from __future__ import annotations

import os
import time
from typing import Any

from seqattn.model.registry import MODEL_NAMES
from seqattn.problem.echo import ProblemConfig
from seqattn.runs.files import write_json
from seqattn.runs.layout import RUN_FILE, STATUS_FILE, RunError, ensure_root, new_run_id


def create_run(
    problem: ProblemConfig,
    train: dict[str, Any],
    *,
    model: dict[str, Any] | None = None,
    kind: str = "train",
    names: tuple[str, ...] = MODEL_NAMES,
    extra: dict[str, Any] | None = None,
    root: str | os.PathLike[str] | None = None,
) -> str:
    """Create a run directory in state ``queued`` and return its id.

    ``train`` and ``model`` are the recipe's and the models' settings as dicts.
    """
    base = ensure_root(root)
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
    write_json(directory / RUN_FILE, meta)
    write_json(directory / STATUS_FILE, {"state": "queued", "pid": None, "update": 0, "total": None, "updated": time.time()})
    return run_id
