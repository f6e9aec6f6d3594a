"""``talk prepare``: train, before the talk, every run its scenes name that is not there yet.

Each run is a job like any other, created under the recipe's name (so the scenes find it by that
name) and run to its end before the next starts: the budget, the training slot, the heartbeat and the
checkpoints all hold. Each runs in a job process of its own (the jobs' launcher seam, a cold
``python -m seqattn.jobs.worker`` by default), because a job holds its training slot until its
process exits: a second job in the same process would wait ``$SEQATTN_STALL_SECONDS`` for it.

A run counts as there when a finished run of that name exists; one trained with ``quick`` (a
rehearsal's tiny models) does not count for a real prepare.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seqattn.runs.creating import create_run
from seqattn.runs.files import update_status
from seqattn.runs.layout import RunError, run_dir
from seqattn.runs.listing import find_named_run
from seqattn.talks.model import RUN_KINDS, Talk
from seqattn.talks.recipes import checked_configs
from seqattn.talks.scenes import Root

POLL_SECONDS = 0.25


def talk_runs(talk: Talk) -> list[str]:
    """The names of the trainings the talk's scenes show (Train and Explore scenes), in scene order, once each."""
    names: list[str] = []
    for scene in talk.scenes:
        run = scene.state.run
        if run is not None and RUN_KINDS.get(scene.state.page) == "train" and run not in names:
            names.append(run)
    return names


def is_there(name: str, root: Root, quick: bool = False) -> bool:
    """True if a finished training called ``name`` is under ``root`` (for a real prepare, not a quick one)."""
    found = find_named_run(name, root)
    if found is None or found.state != "done":
        return False
    made_by = found.extra.get("talk")
    made_quick = isinstance(made_by, dict) and bool(made_by.get("quick"))
    return quick or not made_quick


def prepare_talk(talk: Talk, root: Root = None, quick: bool = False, on_run: Callable[[str], None] | None = None, *,
                 launcher: Callable[[Path], int] | None = None,
                 on_status: Callable[[str, Any], None] | None = None) -> list[str]:
    """Train every run the talk's scenes name that is missing under ``root``, with its recipe; return their names.

    A run is missing when no finished run of that name is there (:func:`is_there`); names without a
    ``[[run]]`` recipe are skipped (``talk check`` reports their scenes). Every recipe to train is
    checked first (its settings, the budget), so a bad one stops the prepare before anything trains.

    Args:
        talk: the talk. root: the runs root (default ``$SEQATTN_RUNS_DIR`` or ``./runs``).
        quick: train tiny models instead (:func:`~seqattn.talks.recipes.recipe_configs`), for rehearsals and tests.
        on_run: called with each run's name just before it trains.
        launcher: starts a run's job process (:data:`seqattn.jobs.control.Launcher`; default the cold
            :func:`~seqattn.jobs.control.launch_worker`).
        on_status: called about every ``POLL_SECONDS`` while a run trains, with its name and its
            :class:`~seqattn.jobs.control.JobStatus`.

    Returns:
        The names trained, in order (a second call, with nothing missing, returns []).

    Raises:
        TalkError: a recipe the configs refuse, at its ``[[run]]`` line. ValueError: a run over the budget,
            or a ``SEQATTN_*`` setting that is not accepted. RunError: a run that did not end ``done``
            (with its error), or a runs folder that cannot be written. KeyboardInterrupt: the run in
            training is asked to stop first (it keeps what it has, as ``cancelled``).
    """
    # The job machinery loads here, when something may be trained.
    from seqattn.jobs.control import cancel, check_job, disk_needed, launch_worker, status
    from seqattn.settings import check_all

    check_all()  # the job's process would refuse a bad setting; say so before a run is written
    wanted = [recipe for name in talk_runs(talk) if (recipe := talk.recipe(name)) is not None]
    missing = [recipe for recipe in wanted if not is_there(recipe.name, root, quick)]
    plans = [(recipe, *checked_configs(talk, recipe, quick)) for recipe in missing]
    for _, problem, train, model in plans:
        check_job(problem, train, model)  # over the budget: refused before any run is made
    trained: list[str] = []
    for recipe, problem, train, model in plans:
        if on_run is not None:
            on_run(recipe.name)
        run_id = create_run(problem, train.to_dict(), model=model.to_dict(), name=recipe.name, root=root,
                            extra={"talk": {"name": talk.name, "quick": quick}},
                            needed_bytes=disk_needed(problem, train, model))
        directory = run_dir(run_id, root)
        try:
            pid = (launcher or launch_worker)(directory)
        except OSError as exc:
            update_status(directory, state="failed", error=f"Could not start the training process ({exc.strerror or exc}).")
            raise RunError(f"run {recipe.name!r} ({run_id}): could not start its process ({exc.strerror or exc}).") from None
        update_status(directory, pid=pid)  # as jobs.control.start: a process that dies at once reads as such
        try:
            while (current := status(run_id, root)).active:
                if on_status is not None:
                    on_status(recipe.name, current)
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            cancel(run_id, root)
            raise
        if current.state != "done":
            raise RunError(f"run {recipe.name!r} ({run_id}) ended {current.state}: {current.error or 'no reason given'}")
        trained.append(recipe.name)
    return trained
