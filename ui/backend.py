"""The job launcher the pages start jobs with: cold (a new process) unless the dashboard registered a warm one.

The dashboard's entry point decides (it may start :mod:`seqattn.speed`'s warm pool and
register its launcher); pages only pass :func:`launcher` to :func:`seqattn.jobs.control.start`,
so no page or widget imports the speed machinery, and a test can register a fake.
"""

from __future__ import annotations

from seqattn.jobs.control import Launcher

_launcher: Launcher | None = None


def use_launcher(launcher: Launcher | None) -> None:
    """Start every job from now on with ``launcher`` (None: the cold default)."""
    global _launcher
    _launcher = launcher


def launcher() -> Launcher | None:
    """The registered launcher, or None for :func:`seqattn.jobs.control.start`'s cold default."""
    return _launcher
