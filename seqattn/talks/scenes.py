"""Opening a scene: its page's query parameters, the run its name stands for, and why it would not open.

A scene names its run by name; the newest usable run of that name under the runs root is the one
shown (:func:`~seqattn.runs.listing.find_named_run`), so training a run again (``talk prepare``)
needs no edit of the talk. Whatever is wrong with a scene (an unknown page, a run not trained yet,
a sequence of the wrong length) is a sentence from :func:`scene_problem`, never an exception: the
speaker sees it and moves on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from seqattn.problem.config import ProblemConfig
from seqattn.runs.layout import runs_root
from seqattn.runs.listing import find_named_run, list_runs
from seqattn.runs.summary import RunSummary
from seqattn.talks.model import PAGES, RUN_KINDS, VIEWS, Scene, SceneOpening, SceneState, Talk
from seqattn.talks.recipes import recipe_configs, recipe_problem

Root = str | os.PathLike[str] | None
_TRUE = ("true", "1", "yes", "on")


def scene_query(state: SceneState, run_id: str | None) -> dict[str, str]:
    """The query parameters that show ``state``: ``run=<id>``, ``seq``, ``second``, ``step``, ``force``,
    ``overlay=true``, ``view``, only those set (a page ignores the ones it does not read)."""
    query = {"run": run_id, "seq": state.sequence, "second": state.second,
             "step": None if state.step is None else str(state.step),
             "force": None if state.force is None else str(state.force),
             "overlay": "true" if state.overlay else None, "view": state.view}
    return {key: value for key, value in query.items() if value is not None}


def state_from_query(page: str, params: Mapping[str, str], run_name: str | None) -> SceneState:
    """The state a page's query parameters show (the inverse of :func:`scene_query`).

    ``run_name`` is the name of the run ``params["run"]`` stands for (a state names runs by name),
    None if it has none. A number that does not read as one is left out (None); other keys
    (``talk``, ``scene``, ``present``) are ignored.
    """
    def number(key: str) -> int | None:
        try:
            return int(str(params.get(key, "")).strip())
        except ValueError:
            return None

    return SceneState(page=page, run=run_name, sequence=params.get("seq"), second=params.get("second"),
                      step=number("step"), force=number("force"),
                      overlay=str(params.get("overlay", "")).strip().lower() in _TRUE, view=params.get("view"))


@dataclass(frozen=True)
class _Resolved:
    """A scene's run as found under the root (or None), the problem to check its inputs against, and what is wrong."""

    run: RunSummary | None
    problem: ProblemConfig | None
    problems: tuple[str, ...]


def shown_path(path: Path) -> str:
    """A talk's file as a command would name it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _missing_run(name: str, kind: str, talk: Talk, root: Root) -> str:
    """Why no run called ``name`` can be shown, and what to do about it."""
    where, file = runs_root(root), shown_path(talk.path)
    others = [s for s in list_runs(root) if s.name == name]
    if others:  # there is one, but it cannot be shown (yet)
        newest = others[0]
        why = newest.broken or (f"it is still {newest.state}" if newest.state in ("queued", "running")
                                else f"it ended {newest.state} without models" if newest.kind == kind
                                else f"it is a {newest.kind} run, and this page shows a {kind} run")
        lead = f"run `{name}` ({newest.id}) cannot be shown: {why}"
    else:
        lead = f"there is no {'' if kind == 'train' else kind + ' '}run named `{name}` in {where}"
    recipe = talk.recipe(name)
    if kind != "train":
        return (f"{lead}; make it with `python -m seqattn {kind} --name {name} ...`, or leave out run = to show "
                f"the {kind} page's form.")
    if recipe is None:
        return (f"{lead}, and the talk has no [[run]] recipe for it: add one and run "
                f"`python -m seqattn talk prepare {file}`, or train it with `python -m seqattn train --name {name}`.")
    refused = recipe_problem(recipe)
    if refused:
        return f"{lead}, and its [[run]] recipe (line {recipe.line}) cannot be trained: {refused}"
    return f"{lead}: run `python -m seqattn talk prepare {file}`."


def _resolve(scene: Scene, talk: Talk, root: Root) -> _Resolved:
    state = scene.state
    problems: list[str] = []
    if state.page not in PAGES:
        problems.append(f"page {state.page!r} is not a page of the dashboard: use one of {', '.join(PAGES)}.")
    if state.view is not None and state.view not in VIEWS:
        problems.append(f"view {state.view!r} is not one of Explore's tabs: {', '.join(VIEWS)}.")
    kind = RUN_KINDS.get(state.page, "train")
    run, problem = None, None
    if state.run is not None and state.page != "home":  # Home shows the latest run, whatever the scene names
        run = find_named_run(state.run, root, kind)
        if run is None:
            problems.append(_missing_run(state.run, kind, talk, root))
            recipe = talk.recipe(state.run)
            if kind == "train" and recipe is not None and recipe_problem(recipe) is None:
                problem = recipe_configs(recipe)[0]  # the inputs can be checked before the run is trained
        else:
            try:
                problem = ProblemConfig.from_dict(run.problem)
            except (TypeError, ValueError):  # a listing vouched for it; stay quiet rather than guess
                problem = None
    problems += _input_problems(state, problem)
    return _Resolved(run, problem, tuple(problems))


def _input_problems(state: SceneState, problem: ProblemConfig | None) -> list[str]:
    """What in the scene's sequences, step and forced position the run's problem refuses."""
    problems: list[str] = []
    tokens = None
    if problem is not None:
        task = problem.task_spec
        for label, text in (("sequence", state.sequence), ("second sequence", state.second)):
            if text is None:
                continue
            try:
                parsed = task.parse(text, problem)
            except ValueError as exc:
                problems.append(f"{label} {text!r}: {exc}")
                continue
            tokens = parsed if label == "sequence" else tokens
    steps = problem.target_len if problem is not None else None
    positions = problem.n_in if problem is not None else None
    for label, value, high, what in (("step", state.step, steps, "output steps"),
                                     ("force", state.force, positions, "input positions")):
        if value is None:
            continue
        if value < 1 or (high is not None and value > high):
            limit = f"from 1 to {high}: the run has {high} {what}" if high is not None else "from 1 up"
            problems.append(f"{label} = {value} is out of range: it counts {limit}.")
    pad = problem.pad_token if problem is not None else None
    if tokens is not None and pad is not None and state.force is not None and 1 <= state.force <= len(tokens) \
            and tokens[state.force - 1] == pad:
        typed = sum(1 for t in tokens if t != pad)
        problems.append(f"force = {state.force} is padding, never attended to: the sequence fills positions 1 to {typed}.")
    return problems


def scene_problem(scene: Scene, talk: Talk, root: Root = None) -> str | None:
    """Why ``scene`` would not open as written, else None.

    Checks its page and view, that its run (by name) can be shown under ``root`` (or, when the talk's
    recipe would make it, says to run ``talk prepare``), and that its sequence, second sequence, step
    and forced position fit that run's problem (the task's own parse message). Several reasons are
    joined in one line.
    """
    problems = _resolve(scene, talk, root).problems
    return " ".join(problems) if problems else None


def open_scene(talk: Talk, index: int, root: Root = None) -> SceneOpening:
    """What to show for scene ``index`` (0-based): its page, the page's query with ``talk=<name>`` and
    ``scene=<index + 1>``, and :func:`scene_problem`'s answer. An unknown page opens Home; a run that
    cannot be found is left out of the query (the page then shows its own choice).

    Raises:
        IndexError: there is no such scene.
    """
    if not 0 <= index < len(talk.scenes):
        raise IndexError(f"talk {talk.name!r} has {len(talk.scenes)} scenes; there is no scene {index + 1}.")
    scene = talk.scenes[index]
    resolved = _resolve(scene, talk, root)
    page = scene.state.page if scene.state.page in PAGES else "home"
    query = {"talk": talk.name, "scene": str(index + 1),
             **scene_query(scene.state, resolved.run.id if resolved.run is not None else None)}
    return SceneOpening(page=page, query=query, problem=" ".join(resolved.problems) or None)


def check_talk(talk: Talk, root: Root = None) -> list[tuple[int, str]]:
    """(scene number from 1, why it would not open) for each scene that would not open as written."""
    found = ((number, scene_problem(scene, talk, root)) for number, scene in enumerate(talk.scenes, start=1))
    return [(number, problem) for number, problem in found if problem is not None]
