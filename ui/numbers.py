"""Number fields the server checks itself: what was typed is what the settings get, or a message.

Streamlit's ``st.number_input`` checks its range in the browser only: a value it cannot hold
(``1e20``, or ``1e3`` that the browser reads as 1) shows a message there while the server keeps the
previous or a truncated value, and a start button stays enabled. These fields are text inputs that
our own code parses, so a value out of range or unreadable reaches the page as an error that
disables the start button.
"""

from __future__ import annotations

import math
import re
from typing import Any

import streamlit as st

_WHOLE = re.compile(r"[+-]?\d+")
_MAX_CHARS = 40  # longer than any number these fields hold; more is refused before parsing


def _shown(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 24 else text[:23] + "…"


def parse_whole(text: str, label: str, low: int, high: int) -> int:
    """The whole number typed in a field called ``label``, from ``low`` to ``high``.

    Args:
        text: what the user typed (surrounding spaces are ignored).
        label: the field's label, named in the message.
        low, high: the allowed range, both included.

    Returns:
        The number as an int.

    Raises:
        ValueError: empty, not written in digits (``1e3``, ``2.5``, ``abc``) or outside ``low..high``;
            the one-line message names the field and the range to type.
    """
    wanted = f"type a whole number from {low:,} to {high:,}"
    body = str(text).strip()
    if not body:
        raise ValueError(f"{label} is empty; {wanted}.")
    if len(body) > _MAX_CHARS or not _WHOLE.fullmatch(body):
        raise ValueError(f"{label}: '{_shown(body)}' is not a whole number in digits; {wanted}.")
    value = int(body)
    if not low <= value <= high:
        raise ValueError(f"{label}: {_shown(body)} is outside the allowed range; {wanted}.")
    return value


def parse_decimal(text: str, label: str, low: float, high: float) -> float:
    """The number (``0.005``, ``1e-4``) typed in a field called ``label``, from ``low`` to ``high``.

    Raises:
        ValueError: empty, not a finite number or outside ``low..high``; the message names the field
            and the range to type.
    """
    wanted = f"type a number from {low:g} to {high:g}, e.g. 0.005 or 1e-4"
    body = str(text).strip()
    if not body:
        raise ValueError(f"{label} is empty; {wanted}.")
    try:
        value = float(body) if len(body) <= _MAX_CHARS and "_" not in body else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{label}: '{_shown(body)}' is not a number; {wanted}.")
    if not low <= value <= high:
        raise ValueError(f"{label}: {_shown(body)} is outside the allowed range; {wanted}.")
    return value


def number_field(label: str, key: str, default: int | float, low: int | float, high: int | float, *,
                 whole: bool = True, container: Any = None, **kwargs: Any) -> tuple[Any, str | None]:
    """Draw a text field holding one number and read it back, checked.

    Args:
        label: the field's label; key: its widget key (tests find it by key);
        default: the value shown before anything is typed;
        low, high: the allowed range, both included (also in the help text);
        whole: a whole number (int) rather than a decimal one (float);
        container: where to draw it (``st`` by default, or a column);
        kwargs: passed on to ``st.text_input`` (``help``, ``disabled``, ...).

    Returns:
        ``(value, None)`` for a number in range, else ``(None, message)`` with the one-line message
        the page shows while it refuses to start.
    """
    where = container if container is not None else st
    shown = str(int(default)) if whole else f"{default:g}"
    text = where.text_input(label, value=shown, key=key, persist_state="session", **kwargs)
    try:
        if whole:
            return parse_whole(text, label, int(low), int(high)), None
        return parse_decimal(text, label, float(low), float(high)), None
    except ValueError as exc:
        return None, str(exc)
