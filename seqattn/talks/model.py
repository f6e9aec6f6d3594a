"""What a talk is: :class:`Talk`, its :class:`Scene`\\ s and their :class:`SceneState`, the runs it trains.

Plain frozen values, read from a talk's TOML file by :mod:`seqattn.talks.files`; nothing here
reads files or runs. A scene's state names a run by the NAME the speaker gave it
(``--name dates-demo``), never by id: ids change each time a run is trained again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The dashboard's pages, as keyed in ui/navigation.py's PAGES (tests/test_talks.py checks they agree).
PAGES: tuple[str, ...] = ("home", "train", "explore", "compare", "sweep")
# Explore's tabs: the answers, one output step, a second sequence, forced attention (what-if).
VIEWS: tuple[str, ...] = ("answer", "step", "two", "whatif")
# The pages that show one run named in the address (``?run=<id>``), and the kind of run each shows.
RUN_KINDS: dict[str, str] = {"train": "train", "explore": "train", "compare": "compare", "sweep": "sweep"}


@dataclass(frozen=True)
class SceneState:
    """What a scene shows: a page and what to set on it (None or False: leave it as the page has it).

    Attributes:
        page: one of :data:`PAGES`.
        run: a run's name (not its id).
        sequence: Explore's input, as typed (a date as text for Dates).
        second: Explore's second sequence, as typed.
        step: Explore's output step, 1-based.
        force: the what-if's forced input position, 1-based.
        overlay: Explore's "Show expected alignment".
        view: Explore's tab, one of :data:`VIEWS`.
    """

    page: str = "explore"
    run: str | None = None
    sequence: str | None = None
    second: str | None = None
    step: int | None = None
    force: int | None = None
    overlay: bool = False
    view: str | None = None


@dataclass(frozen=True)
class Scene:
    """One scene: its title, a one-line note for the audience, its state, and ``line``, the line of the
    talk's file where it starts (its ``[[scene]]`` header), for messages."""

    title: str
    note: str
    state: SceneState
    line: int


@dataclass(frozen=True)
class RunRecipe:
    """How ``talk prepare`` trains the run called ``name``: the settings of its problem, models and
    training as written in the file (a setting left out takes the task's demo default), and ``line``,
    where its ``[[run]]`` table starts."""

    name: str
    problem: dict[str, Any]
    model: dict[str, Any]
    train: dict[str, Any]
    line: int = 0


@dataclass(frozen=True)
class Talk:
    """A talk: ``name`` (the file's stem), its ``title``, its scenes in order, the runs it can train, its file."""

    name: str
    title: str
    scenes: tuple[Scene, ...]
    runs: tuple[RunRecipe, ...]
    path: Path

    def recipe(self, run_name: str | None) -> RunRecipe | None:
        """The recipe of the run called ``run_name``, None if the talk has none."""
        return next((r for r in self.runs if r.name == run_name), None)


@dataclass(frozen=True)
class SceneOpening:
    """What opening a scene means for the dashboard.

    Attributes:
        page: the page to show (a key of :data:`PAGES`; ``home`` when the scene names an unknown page).
        query: that page's query parameters, with ``talk=<name>`` and ``scene=<number>`` (1-based).
        problem: why the scene would not open as written, else None (the page opens anyway,
            with what could be set: a talk never stops on one bad scene).
    """

    page: str
    query: dict[str, str]
    problem: str | None


class TalkError(ValueError):
    """A talk file that cannot be read: one message naming the file and, where there is one, the line.

    Attributes:
        path: the file; line: the 1-based line (None when the file itself is missing);
        reason: the message without the file and line.
    """

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = Path(path), line, reason
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")
