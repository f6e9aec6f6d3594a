"""Turning typed text into input tokens: integers such as ``12, 20, 36, 40, 12`` here, any task's through it.

Every failure is a ``ValueError`` whose message says what is wrong and what is
accepted, in words fit for a form on a projector (no traceback text).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seqattn.problem.config import ProblemConfig

MAX_TEXT_CHARS = 2000
_SEPARATORS = re.compile(r"[\s,;]+")
_INTEGER = re.compile(r"[+-]?\d+")


def _shorten(token: str, limit: int = 20) -> str:
    return token if len(token) <= limit else token[: limit - 1] + "…"


def parse_sequence(text: str, config: ProblemConfig) -> list[int]:
    """What a user typed, as the ``n_in`` input tokens of ``config``'s task (its :meth:`~seqattn.problem.task.Task.parse`).

    Raises:
        ValueError: naming what is wrong and what is accepted.
    """
    return config.task_spec.parse(text, config)


def example_sequence(config: ProblemConfig) -> list[int]:
    """A readable example input of ``config``'s task."""
    return config.task_spec.example(config)


def accepted_forms(config: ProblemConfig) -> str:
    """One sentence describing what :func:`parse_sequence` accepts for ``config``."""
    return config.task_spec.accepted(config)


def parse_integers(text: str, n_in: int, cardinality: int, hint: str) -> list[int]:
    """Parse a typed sequence of integers.

    Accepts ``12 20 36 40 12``, ``12,20,36,40,12``, ``12, 20, 36, 40, 12`` and
    ``[12, 20, 36, 40, 12]`` (also parentheses, semicolons, extra spaces).

    Args:
        text: what the user typed.
        n_in: the expected count; cardinality: values must be in ``[0, cardinality)``.
        hint: the sentence saying what is accepted, appended to every message.

    Returns:
        A list of ``n_in`` ints, each in ``[0, cardinality)``.

    Raises:
        ValueError: with a message naming the offending token and its position,
            the value out of range, or the expected and given counts.
    """
    if text is None:
        raise ValueError(f"The input is empty. {hint}")
    if not isinstance(text, str):
        raise ValueError(f"The input must be text; got {type(text).__name__}. {hint}")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(
            f"The input is too long ({len(text):,} characters; at most {MAX_TEXT_CHARS:,}). {hint}"
        )
    body = text.strip()
    if not body:
        raise ValueError(f"The input is empty. {hint}")
    brackets = sum(body.count(c) for c in "[]()")
    if brackets:
        pairs = {"[": "]", "(": ")"}
        for left, right in pairs.items():
            if body.count(left) != body.count(right):
                raise ValueError(f"Unbalanced brackets: '{left}' and '{right}' do not pair up. {hint}")
        if brackets > 2:
            raise ValueError(f"Nested or repeated brackets are not accepted. {hint}")
        if pairs.get(body[0]) != body[-1]:
            raise ValueError(f"Brackets must enclose the whole sequence. {hint}")
        body = body[1:-1].strip()
    tokens = [t for t in _SEPARATORS.split(body) if t]
    if not tokens:
        raise ValueError(f"The input has no numbers. {hint}")
    values: list[int] = []
    for position, token in enumerate(tokens, start=1):
        if not _INTEGER.fullmatch(token):
            kind = "a decimal number" if re.fullmatch(r"[+-]?\d*\.\d*", token) else "not a whole number"
            raise ValueError(f"Value {position} ('{_shorten(token)}') is {kind}. {hint}")
        value = int(token)
        if not 0 <= value < cardinality:
            raise ValueError(
                f"Value {position} ({_shorten(token)}) is outside 0..{cardinality - 1} "
                f"(cardinality {cardinality}). {hint}"
            )
        values.append(value)
    if len(values) != n_in:
        raise ValueError(
            f"Expected {n_in} values, got {len(values)}. {hint}"
        )
    return values


def parse_whole_numbers(text: str, name: str, *, distinct: bool = True, example: str = "5, 10, 15") -> list[int]:
    """Parse a typed list of whole numbers such as ``5, 10, 15`` (commas, semicolons or spaces between them).

    ``name`` is what one value is called in the messages (``input length``); with
    ``distinct`` a value given twice is refused.

    Raises:
        ValueError: empty, too long, a token that is not a whole number, or (``distinct``)
            a repeated value; the message names it and says what is accepted.
    """
    hint = f"Type {'distinct ' if distinct else ''}whole numbers separated by commas, e.g. {example}."
    if not isinstance(text, str):
        raise ValueError(f"the values must be text; got {type(text).__name__}. {hint}")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"the values are too long ({len(text):,} characters; at most {MAX_TEXT_CHARS:,}). {hint}")
    tokens = [t for t in _SEPARATORS.split(text.strip()) if t]
    if not tokens:
        raise ValueError(f"give at least one {name}. {hint}")
    for token in tokens:
        if not _INTEGER.fullmatch(token):
            raise ValueError(f"'{_shorten(token)}' is not a whole number. {hint}")
    values = [int(t) for t in tokens]
    seen: set[int] = set()
    repeated: set[int] = set()
    for value in values:
        (repeated if value in seen else seen).add(value)
    if distinct and repeated:
        raise ValueError(f"{', '.join(map(str, sorted(repeated)))} appear{'s' if len(repeated) == 1 else ''} more than once; "
                         f"give each value once. {hint}")
    return values
