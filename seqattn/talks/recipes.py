"""A run recipe's settings: what ``talk prepare`` trains for a :class:`~seqattn.talks.model.RunRecipe`.

A recipe writes only what differs from the task's demo settings (``Task.defaults``, the ones the CLI's
``train --task`` takes too), and talks train with the batched protocol unless the recipe or the task
says otherwise: a speaker's runs must be ready in seconds. ``quick`` swaps in a tiny recipe on the same
problem, for rehearsals and tests.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from seqattn.model.config import ModelConfig
from seqattn.problem.config import ProblemConfig
from seqattn.problem.registry import DEFAULT_TASK, task_named
from seqattn.talks.model import RunRecipe, Talk, TalkError
from seqattn.training.config import TrainConfig

TALK_PROTOCOL = "batched"
# The task's recipe settings, which hold for its own protocol only (as on the command line).
_RECIPE_FIELDS = ("updates", "batch_size", "learning_rate")
# --quick: enough to make a run with models a page can open, in a few seconds, whatever the task.
QUICK_UNITS, QUICK_UPDATES, QUICK_BATCH, QUICK_EVAL_SIZE = 8, 30, 16, 200


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def recipe_configs(recipe: RunRecipe, quick: bool = False) -> tuple[ProblemConfig, TrainConfig, ModelConfig]:
    """The (problem, training, models) settings a recipe trains with.

    Each section takes the task's demo defaults for what it leaves out, and the batched protocol
    unless it or the task names one. With ``quick``, the models get ``QUICK_UNITS`` units and
    ``QUICK_UPDATES`` updates of ``QUICK_BATCH`` without XLA, on the same problem and seed.

    Raises:
        ValueError: a setting the configs refuse (their messages name it), or an unknown task.
    """
    task = task_named(recipe.problem.get("task", DEFAULT_TASK))
    defaults: dict[str, Any] = dict(task.defaults)
    problem = ProblemConfig.from_dict({**{k: v for k, v in defaults.items() if k in _fields(ProblemConfig)},
                                       **recipe.problem, "task": task.name})
    model = ModelConfig.from_dict({**{k: v for k, v in defaults.items() if k in _fields(ModelConfig)}, **recipe.model})
    protocol = recipe.train.get("protocol", defaults.get("protocol", TALK_PROTOCOL))
    own = {k: v for k, v in defaults.items() if k in _fields(TrainConfig) and k != "protocol"
           and (k not in _RECIPE_FIELDS or protocol == defaults.get("protocol"))}
    train = TrainConfig.from_dict({**own, **recipe.train, "protocol": protocol})
    if quick:
        model = dataclasses.replace(model, units=QUICK_UNITS)
        train = TrainConfig(protocol="batched", updates=QUICK_UPDATES, batch_size=QUICK_BATCH, seed=train.seed,
                            eval_size=QUICK_EVAL_SIZE, eval_every=QUICK_UPDATES // 3, jit_compile=False)
    return problem, train, model


def recipe_problem(recipe: RunRecipe) -> str | None:
    """Why a recipe cannot be trained (a setting its configs refuse), else None."""
    try:
        recipe_configs(recipe)
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def checked_configs(talk: Talk, recipe: RunRecipe, quick: bool = False) -> tuple[ProblemConfig, TrainConfig, ModelConfig]:
    """:func:`recipe_configs`, a refusal being a :class:`TalkError` at the recipe's ``[[run]]`` line."""
    try:
        return recipe_configs(recipe, quick)
    except (ValueError, TypeError) as exc:
        raise TalkError(talk.path, recipe.line, f"run {recipe.name!r} cannot be trained: {exc}") from None
