"""The tasks the models can learn: one line each.

A task is a :class:`~seqattn.problem.task.Task` in a module of its own; registering
it here is all the rest of the code needs (the form, the CLI's ``--task``, training,
Explore and sweeps all read :data:`TASKS`).
"""

from __future__ import annotations

from seqattn.problem.dates import DatesTask
from seqattn.problem.echo import EchoTask
from seqattn.problem.reverse import ReverseTask
from seqattn.problem.sort import SortTask
from seqattn.problem.task import Task

DEFAULT_TASK = "echo"
TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Add ``task`` under its name (a later task of the same name replaces it); returns it."""
    TASKS[task.name] = task
    return task


register(EchoTask())
register(ReverseTask())
register(SortTask())
register(DatesTask())


def task_named(name: str) -> Task:
    """The registered task called ``name``.

    Raises:
        ValueError: naming the registered tasks, if ``name`` is not one.
    """
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise ValueError(f"task must be one of {', '.join(TASKS)}; got {name!r}.") from None


def task_names() -> tuple[str, ...]:
    """The registered tasks' names, in registration order (Echo first)."""
    return tuple(TASKS)
