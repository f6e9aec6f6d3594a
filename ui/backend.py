"""What the pages start jobs with: a launcher, and a preparer told what the Train form shows.

The dashboard's entry point decides (it may start :mod:`seqattn.speed`'s warm pool and
register its launcher and its preparer); pages only pass :func:`launcher` to
:func:`seqattn.jobs.control.start` and tell :func:`form_shows` the job their form would start,
so no page or widget imports the speed machinery, and a test can register a fake.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

# Plain callables, not the jobs code's types: the entry point imports this module before its first
# page, which must not wait for the jobs code (seqattn.jobs.control.Launcher is the same signature).
Launcher = Callable[[Path], int]
Preparer = Callable[[Any, Any, Any], None]
"""Told the job a form would start (problem, training recipe, model configs); may prepare it ahead."""

_launcher: Launcher | None = None
_preparer: Preparer | None = None


def use_launcher(launcher: Launcher | None) -> None:
    """Start every job from now on with ``launcher`` (None: the cold default)."""
    global _launcher
    _launcher = launcher


def launcher() -> Launcher | None:
    """The registered launcher, or None for :func:`seqattn.jobs.control.start`'s cold default."""
    return _launcher


def use_preparer(preparer: Preparer | None) -> None:
    """Tell ``preparer`` from now on what the Train form shows (None: nobody listens)."""
    global _preparer
    _preparer = preparer


def form_shows(problem: Any, train: Any, model: Any) -> None:
    """The Train form would start this job now (called on every redraw of a valid form)."""
    if _preparer is not None:
        _preparer(problem, train, model)
