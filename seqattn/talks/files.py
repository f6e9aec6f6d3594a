"""Talk files: where they are, their names, and reading one into a :class:`~seqattn.talks.model.Talk`.

A talk is a small TOML file (read with :mod:`tomllib`)::

    title = "Attention in a few scenes"

    [[run]]                      # how `python -m seqattn talk prepare` trains a run the scenes name
    name = "seed-race"
    problem = { task = "echo" }  # left-out settings take the task's demo defaults
    train = { updates = 500 }

    [[scene]]
    title = "The diagonal"
    note = "Each output looks where its answer is."
    page = "explore"
    run = "seed-race"
    sequence = "12, 20, 36, 40, 12"
    overlay = true

Only the file's form is checked here: TOML, a title, scenes that are tables, known keys, values of
the right type; anything else is one :class:`~seqattn.talks.model.TalkError` naming the file and
the line. Whether a scene can open (its page, its run, its sequence) depends on the runs there
are, and is :mod:`seqattn.talks.scenes`' question: a bad scene never stops a talk.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from seqattn.runs.layout import validate_run_name
from seqattn.talks.model import RunRecipe, Scene, SceneState, Talk, TalkError

TALKS_DIR_ENV = "SEQATTN_TALKS_DIR"
# The repository's talks/ folder: this file is seqattn/talks/files.py.
DEFAULT_TALKS_DIR = Path(__file__).resolve().parents[2] / "talks"
MAX_TALK_BYTES = 1_000_000  # a talk is a page of text; anything larger is not one
TALK_NAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,80}$")

# Each scene key and its type (what a wrong value is told to look like).
_SCENE_KEYS: dict[str, tuple[type, str]] = {
    "title": (str, 'text, e.g. title = "The diagonal"'),
    "note": (str, 'text, e.g. note = "Each output looks where its answer is."'),
    "page": (str, 'text, e.g. page = "explore"'),
    "run": (str, 'a run\'s name as text, e.g. run = "seed-race"'),
    "sequence": (str, 'text as typed in Explore, e.g. sequence = "12, 20, 36, 40, 12"'),
    "second": (str, 'text as typed in Explore, e.g. second = "12, 21, 36, 40, 12"'),
    "step": (int, "a whole number, e.g. step = 2"),
    "force": (int, "a whole number, e.g. force = 3"),
    "overlay": (bool, "true or false"),
    "view": (str, 'text, e.g. view = "whatif"'),
}
_RUN_KEYS: dict[str, tuple[type, str]] = {
    "name": (str, 'text, e.g. name = "seed-race"'),
    "problem": (dict, 'a table, e.g. problem = { task = "echo", n_in = 5 }'),
    "model": (dict, "a table, e.g. model = { units = 150 }"),
    "train": (dict, 'a table, e.g. train = { protocol = "batched", updates = 500 }'),
}
_TOP_KEYS = ("title", "run", "scene")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?")
_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def talks_folder() -> Path:
    """Where talks are: ``$SEQATTN_TALKS_DIR`` if set (and not blank), else the repository's ``talks/``."""
    given = os.environ.get(TALKS_DIR_ENV, "").strip()
    return Path(given) if given else DEFAULT_TALKS_DIR


def list_talks(folder: Path | None = None) -> list[str]:
    """The names (file stems) of the talks in ``folder`` (default :func:`talks_folder`), sorted; [] without one."""
    base = talks_folder() if folder is None else Path(folder)
    try:
        return sorted(p.stem for p in base.iterdir()
                      if p.suffix == ".toml" and p.is_file() and TALK_NAME_PATTERN.fullmatch(p.stem))
    except OSError:
        return []


def talk_path(name_or_path: str | Path, folder: Path | None = None) -> Path:
    """The file of a talk given by name (a file ``<name>.toml`` of the folder) or by path.

    A :class:`~pathlib.Path` is a file; text is a talk's name when the folder has it, else a file.
    Text from an address bar should be checked against :func:`list_talks` first: a path reads any
    TOML file.

    Raises:
        TalkError: neither names a file (the message lists the folder's talks).
    """
    base = talks_folder() if folder is None else Path(folder)
    if isinstance(name_or_path, str) and TALK_NAME_PATTERN.fullmatch(name_or_path) and "/" not in name_or_path:
        named = base / f"{name_or_path}.toml"
        if named.is_file():
            return named
    path = Path(name_or_path)
    if path.is_file():
        return path
    known = ", ".join(list_talks(base)) or "none"
    raise TalkError(path, None, f"there is no such talk file, nor a talk of that name in {base} (talks there: {known}).")


def load_talk(name_or_path: str | Path, folder: Path | None = None) -> Talk:
    """Read a talk (by name in ``folder``, default :func:`talks_folder`, or by path: :func:`talk_path`).

    Returns:
        The :class:`Talk`: its name is the file's stem, its scenes and run recipes in file order.

    Raises:
        TalkError: the file is missing, unreadable, not TOML, or has no title, a scene that is not a
            table, an unknown key or a value of the wrong type: one message naming the file and the line.
    """
    path = talk_path(name_or_path, folder)
    text = _read_text(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, text, exc) from None
    return _Reader(path, text).talk(document)


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TALK_BYTES + 1)
    except OSError as exc:
        raise TalkError(path, None, f"cannot be read ({exc.strerror or exc}).") from None
    if len(data) > MAX_TALK_BYTES:
        raise TalkError(path, None, f"is larger than {MAX_TALK_BYTES:,} bytes: not a talk.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TalkError(path, line, "is not UTF-8 text (save it as UTF-8).") from None


def _toml_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> TalkError:
    """tomllib says where in its message ("... (at line 3, column 9)"); the line moves to the front."""
    message = str(exc)
    where = _TOML_WHERE.search(message)
    if where:
        reason = message[: where.start()]
        return TalkError(path, int(where.group(1)), f"not valid TOML: {reason} (column {where.group(2)}).")
    # "(at end of document)": the last line.
    reason = message.replace("(at end of document)", "").strip()
    return TalkError(path, max(1, len(text.splitlines())), f"not valid TOML: {reason} (at the end of the file).")


class _Reader:
    """Checks a parsed document's form, with the text at hand to find the line of each complaint."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        # (line, table name) of every table header, in order: `[[scene]]` number k is scene k.
        self.headers = [(i, m.group(1).strip("\"' ")) for i, line in enumerate(self.lines, start=1)
                        if (m := _HEADER.match(line))]

    # ----------------------------------------------------------------- where

    def header_line(self, table: str, index: int) -> int:
        """The line of the ``index``-th (0-based) ``[[table]]`` header; 1 when it cannot be found."""
        found = [line for line, name in self.headers if name == table]
        if index < len(found):
            return found[index]
        return self.key_line(table, 1, self.top_end()) if table in ("scene", "run") else 1

    def block_end(self, start: int) -> int:
        """The line after a table's last: the next header's, or past the end."""
        return next((line for line, _ in self.headers if line > start), len(self.lines) + 1)

    def top_end(self) -> int:
        return self.headers[0][0] if self.headers else len(self.lines) + 1

    def key_line(self, key: str, start: int, end: int, fallback: int | None = None) -> int:
        """The line of ``key = ...`` within lines [start, end); ``fallback`` (default ``start``) if absent."""
        pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=")
        for number in range(start, min(end, len(self.lines) + 1)):
            if pattern.match(self.lines[number - 1]):
                return number
        return start if fallback is None else fallback

    def error(self, line: int, reason: str) -> TalkError:
        return TalkError(self.path, line, reason)

    # ----------------------------------------------------------------- what

    def talk(self, document: dict[str, Any]) -> Talk:
        for key in document:
            if key not in _TOP_KEYS:
                raise self.error(self.key_line(key, 1, self.top_end(), fallback=self.header_line(key, 0)),
                                 f"unknown key {key!r} at the top of the talk{_did_you_mean(key, _TOP_KEYS)} "
                                 "(a talk has a title, [[run]] tables and [[scene]] tables).")
        title = document.get("title")
        if title is None:
            raise self.error(1, 'the talk has no title: add a line such as title = "Attention in a few scenes" '
                                "at the top, before the first table.")
        if not isinstance(title, str) or not title.strip():
            raise self.error(self.key_line("title", 1, self.top_end()),
                             f"the talk's title must be text, e.g. title = \"My talk\"; got {_shown(title)}.")
        runs = self.tables(document, "run")
        scenes = self.tables(document, "scene")
        if not scenes:
            raise self.error(max(1, len(self.lines)), "the talk has no scenes: add [[scene]] tables, each with a title.")
        recipes = tuple(self.recipe(i, table) for i, table in enumerate(runs))
        for i, recipe in enumerate(recipes):
            if any(r.name == recipe.name for r in recipes[:i]):
                raise self.error(recipe.line, f"a second [[run]] named {recipe.name!r}: each run has one recipe.")
        return Talk(name=self.path.stem, title=title.strip(), scenes=tuple(self.scene(i, t) for i, t in enumerate(scenes)),
                    runs=recipes, path=self.path)

    def tables(self, document: dict[str, Any], key: str) -> list[dict[str, Any]]:
        """The ``[[key]]`` tables; anything else in their place is an error at its line."""
        value = document.get(key, [])
        if isinstance(value, dict):
            raise self.error(self.header_line(key, 0), f"write [[{key}]] (a list of tables), not [{key}].")
        if not isinstance(value, list):
            raise self.error(self.key_line(key, 1, self.top_end()),
                             f"{key} must be [[{key}]] tables; got {_shown(value)}.")
        for index, table in enumerate(value):
            if not isinstance(table, dict):
                raise self.error(self.header_line(key, index),
                                 f"{key} {index + 1} is not a table ({_shown(table)}); write each as a [[{key}]] table.")
        return value

    def checked(self, table: dict[str, Any], keys: dict[str, tuple[type, str]], what: str, line: int) -> None:
        """Unknown keys and values of the wrong type in one table, each at its own line."""
        end = self.block_end(line)
        for key, value in table.items():
            if key not in keys:
                raise self.error(self.key_line(key, line, end),
                                 f"unknown key {key!r} in {what}{_did_you_mean(key, keys)} "
                                 f"(known: {', '.join(keys)}).")
            kind, looks = keys[key]
            # bool is an int in Python, but `step = true` is a slip, not a step.
            ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
            if key == "sequence" or key == "second":  # a list of whole numbers is taken as typed with commas
                ok = ok or (isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool)
                                                            for v in value))
            if not ok:
                raise self.error(self.key_line(key, line, end),
                                 f"{key} of {what} must be {looks}; got {_shown(value)}.")

    def scene(self, index: int, table: dict[str, Any]) -> Scene:
        line = self.header_line("scene", index)
        what = f"scene {index + 1}"
        self.checked(table, _SCENE_KEYS, what, line)
        if not str(table.get("title", "")).strip():
            raise self.error(line, f"{what} has no title: add e.g. title = \"The diagonal\" under its [[scene]].")
        state = SceneState(
            page=table.get("page", SceneState.page), run=table.get("run"),
            sequence=_typed(table.get("sequence")), second=_typed(table.get("second")),
            step=table.get("step"), force=table.get("force"), overlay=table.get("overlay", False),
            view=table.get("view"),
        )
        return Scene(title=table["title"].strip(), note=table.get("note", "").strip(), state=state, line=line)

    def recipe(self, index: int, table: dict[str, Any]) -> RunRecipe:
        line = self.header_line("run", index)
        what = f"run {index + 1}"
        self.checked(table, _RUN_KEYS, what, line)
        if "name" not in table:
            raise self.error(line, f"{what} has no name: add e.g. name = \"seed-race\" under its [[run]].")
        try:
            validate_run_name(table["name"])
        except ValueError as exc:
            raise self.error(self.key_line("name", line, self.block_end(line)), f"{what}: {exc}") from None
        return RunRecipe(name=table["name"], problem=dict(table.get("problem", {})), model=dict(table.get("model", {})),
                         train=dict(table.get("train", {})), line=line)


def _typed(value: str | list[int] | None) -> str | None:
    """A sequence as the input box would hold it: a list of numbers becomes ``12, 20, 36``."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _shown(value: Any) -> str:
    """A value as the file wrote it, and what it is (``'2' (text)``)."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    kind = {str: "text", bool: "true/false", int: "a whole number", float: "a number", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)
    return f"{str(value if not isinstance(value, str) else repr(value))[:60]} ({kind})"


def _did_you_mean(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
