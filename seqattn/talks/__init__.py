"""Talks: a speaker's scenes, in order, each a page of the dashboard set up as it should be shown.

A talk is a small TOML file in ``talks/`` (or ``$SEQATTN_TALKS_DIR``): a title, the recipes of the runs
it shows (``[[run]]``) and its scenes (``[[scene]]``: a title, a note for the audience, a page and what
to set on it). No Streamlit here; the dashboard and the CLI (``python -m seqattn talk check|prepare``)
build on it.

- :mod:`~seqattn.talks.model`: :class:`Talk`, :class:`Scene`, :class:`SceneState`, :class:`RunRecipe`,
  :class:`SceneOpening`, :class:`TalkError`, the page and view names.
- :mod:`~seqattn.talks.files`: where talks are, their names, reading one (its form only; errors name the line).
- :mod:`~seqattn.talks.recipes`: the settings a recipe trains with (the task's demo defaults filled in).
- :mod:`~seqattn.talks.scenes`: a scene's query parameters and back, why one would not open, opening one.
- :mod:`~seqattn.talks.prepare`: training the runs a talk names that are missing.

May import: :mod:`seqattn.runs`, :mod:`seqattn.problem`, :mod:`seqattn.model` and
:mod:`seqattn.training` (configs), and :mod:`seqattn.jobs` in :func:`prepare_talk` alone, which
trains (never :mod:`seqattn.speed`: the CLI hands its setups in).
"""

import importlib
from typing import TYPE_CHECKING, Any

from seqattn.talks.files import TALKS_DIR_ENV, list_talks, load_talk, talk_path, talks_folder
from seqattn.talks.model import PAGES, VIEWS, RunRecipe, Scene, SceneOpening, SceneState, Talk, TalkError

if TYPE_CHECKING:
    from seqattn.talks.prepare import prepare_talk, talk_runs
    from seqattn.talks.recipes import recipe_configs
    from seqattn.talks.scenes import check_talk, open_scene, scene_problem, scene_query, state_from_query

# Imported when first asked for: they bring the problem, model and training configs (NumPy), which the
# dashboard's first page does without while it only lists the talks (ui.talk_control).
_LATER = {"prepare_talk": "prepare", "talk_runs": "prepare", "recipe_configs": "recipes", "check_talk": "scenes",
          "open_scene": "scenes", "scene_problem": "scenes", "scene_query": "scenes", "state_from_query": "scenes"}


def __getattr__(name: str) -> Any:
    if name in _LATER:
        return getattr(importlib.import_module(f"{__name__}.{_LATER[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PAGES", "TALKS_DIR_ENV", "VIEWS", "RunRecipe", "Scene", "SceneOpening", "SceneState", "Talk", "TalkError",
    "check_talk", "list_talks", "load_talk", "open_scene", "prepare_talk", "recipe_configs", "scene_problem",
    "scene_query", "state_from_query", "talk_path", "talk_runs", "talks_folder",
]
