"""``python -m seqattn talk {check,prepare} <file or name>``: a talk's scenes checked, its runs trained.

``check`` prints one line per scene that would not open ("scene 3 (Title): why") and exits 1 if any,
else "all N scenes open"; ``prepare`` trains the runs its scenes name that are missing, one line per
run, and ends "N trained, M already there". A malformed file is one line naming its line (exit 2:
:class:`~seqattn.talks.model.TalkError` is a ValueError, which :func:`seqattn.cli.commands.main` reports).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seqattn.runs.listing import find_named_run
from seqattn.talks import check_talk, load_talk, prepare_talk, recipe_configs, talk_runs
from seqattn.talks.prepare import is_there

STATUS_SECONDS = 5.0


def cmd_talk_check(args: argparse.Namespace) -> int:
    talk = load_talk(args.talk)
    bad = check_talk(talk, args.runs_dir)
    for number, problem in bad:
        print(f"scene {number} ({talk.scenes[number - 1].title}): {problem}")
    if not bad:
        print(f"all {len(talk.scenes)} scenes open")
    return 1 if bad else 0


def _status_printer(quiet: bool) -> Callable[[str, Any], None]:
    """A line on stderr every ``STATUS_SECONDS`` while a run trains (updates done, phase)."""
    last: dict[str, float] = {}

    def show(name: str, status: Any) -> None:
        now = time.monotonic()
        last.setdefault(name, now)  # the first line after STATUS_SECONDS: a short wait says nothing
        if quiet or now - last[name] < STATUS_SECONDS:
            return
        last[name] = now
        where = (f"update {status.update:,}/{status.total:,}" if status.total and status.phase != "preparing"
                 else "loading TensorFlow and compiling" if status.state == "running" else status.state)
        print(f"  {name}: {where}", file=sys.stderr, flush=True)

    return show


def cmd_talk_prepare(args: argparse.Namespace, launcher: Callable[[Path], int] | None = None) -> int:
    talk = load_talk(args.talk)

    def announce(name: str) -> None:
        problem, train, model = recipe_configs(talk.recipe(name), args.quick)  # type: ignore[arg-type]
        print(f"training {name}: {problem.task_spec.describe(problem)}, {model.units} units"
              f"{', bidirectional encoder' if model.encoder == 'bidirectional' else ''}, "
              f"{train.updates:,} updates of {train.batch_size}", flush=True)

    trained = prepare_talk(talk, args.runs_dir, quick=args.quick, on_run=announce, launcher=launcher,
                           on_status=_status_printer(args.quiet))
    there, missing = 0, 0
    for name in talk_runs(talk):
        found = find_named_run(name, args.runs_dir)
        if name in trained and found is not None:
            accuracy = ", ".join(f"{k} {v:.1%}" for k, v in found.accuracy.items())
            print(f"{name}: run {found.id}, exact match {accuracy}")
        elif name not in trained and is_there(name, args.runs_dir, args.quick):
            there += 1
            print(f"{name}: already there (run {found.id if found else '?'})")
        elif name not in trained:  # prepare_talk trains every recipe that is missing: this one has none
            missing += 1
            print(f"{name}: no run of that name, and no [[run]] recipe for it in {talk.path.name}: "
                  "its scenes will not open")
    print(f"{len(trained)} trained, {there} already there" + (f", {missing} without a recipe" if missing else ""))
    return 1 if missing else 0
