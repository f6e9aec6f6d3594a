"""The ``SEQATTN_*`` environment settings: each declared once here, read and checked in one place.

Every module that reads one of these variables calls :func:`read`, which returns the value
(or the default when the variable is unset or blank) and raises :class:`SettingError` for a
value that is not accepted: a one-line message naming the variable, what it means, its
accepted range and its default. Nothing is replaced silently, because a bad value was
either a typo (``abc``) or harmful (``SEQATTN_STALL_SECONDS=0`` would call every healthy
job stalled between two heartbeats).

The entry points check every setting up front (:func:`check_all`): the command line exits
2 with the line, a job's process ends ``failed`` with it. The dashboard shows
:func:`problems` as a warning on every page and then draws its pages with the defaults
(:func:`bad_values_fall_back`), so a page never breaks over a setting, while any job it
starts is still refused with the message.

``SEQATTN_DASK_SCHEDULER`` (an address, checked where a sweep needs it) and
``SEQATTN_XLA_CACHE`` (a folder, checked by the XLA cache) are not declared here.
This module imports nothing of seqattn.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

SWITCH_ON = ("1", "on", "yes", "true")
SWITCH_OFF = ("0", "off", "no", "false")
# Values longer than this are cut in messages (a message stays one readable line).
SHOWN_CHARS = 40

Value = int | float | bool | str | None


class SettingError(ValueError):
    """A ``SEQATTN_*`` variable holds a value that is not accepted; the message is one line for users."""


@dataclass(frozen=True)
class EnvSetting:
    """One environment variable: its name, meaning, accepted values and default.

    Attributes:
        name: the variable (``SEQATTN_...``).
        meaning: what it sets, as a short phrase (messages and the docs' table use it).
        kind: ``int`` (a whole number in ``[low, high]``), ``float`` (a finite number in
            ``[low, high]``), ``switch`` (on or off) or ``path`` (any text).
        low, high: the accepted range of a number.
        default: the value when unset; None where the reader computes it (e.g. from the machine).
        default_text: the default in words, for messages and docs.
    """

    name: str
    meaning: str
    kind: Literal["int", "float", "switch", "path"]
    low: float | None = None
    high: float | None = None
    default: Value = None
    default_text: str = ""

    def accepted(self) -> str:
        """The accepted values in words, e.g. ``a whole number from 1 to 64``."""
        if self.kind == "int":
            return f"a whole number from {number_text(self.low)} to {number_text(self.high)}"
        if self.kind == "float":
            return f"a number from {number_text(self.low)} to {number_text(self.high)}"
        if self.kind == "switch":
            pairs = [f"{on}/{off}" for on, off in zip(SWITCH_ON, SWITCH_OFF)]
            return f"on or off: {', '.join(pairs[:-1])} or {pairs[-1]}"
        return "a folder path"

    def default_words(self) -> str:
        """The default as the docs and messages say it."""
        if self.default_text:
            return self.default_text
        if isinstance(self.default, bool):
            return "on" if self.default else "off"
        return number_text(self.default) if isinstance(self.default, (int, float)) else str(self.default)

    def refusal(self, raw: str) -> str:
        """The one-line message for ``raw``, a value this setting does not accept."""
        shown = raw if raw.isprintable() and len(raw) <= SHOWN_CHARS else repr(raw[:SHOWN_CHARS])
        return (f"{self.name}={shown} is not accepted: {self.meaning}, {self.accepted()} "
                f"(default {self.default_words()}). Unset it or fix it.")

    def parse(self, raw: str) -> Value:
        """The value of ``raw`` (blank: the default).

        Raises:
            SettingError: ``raw`` is not accepted (:meth:`refusal` says why).
        """
        text = raw.strip()
        if not text:
            return self.default
        if self.kind == "path":
            return raw
        if self.kind == "switch":
            if text.lower() in SWITCH_ON:
                return True
            if text.lower() in SWITCH_OFF:
                return False
            raise SettingError(self.refusal(raw))
        try:
            number: int | float = int(text) if self.kind == "int" else float(text)
        except (ValueError, OverflowError):
            raise SettingError(self.refusal(raw)) from None
        assert self.low is not None and self.high is not None
        # A NaN or an infinity fails this comparison too.
        if not (math.isfinite(number) and self.low <= number <= self.high):
            raise SettingError(self.refusal(raw))
        return number


def number_text(value: float | None) -> str:
    """A bound or default as typed: ``30.0`` -> ``30``, ``0.25`` -> ``0.25``, ``None`` -> ``?``."""
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)


SETTINGS: dict[str, EnvSetting] = {s.name: s for s in (
    EnvSetting("SEQATTN_RUNS_DIR", "the folder where runs are stored", "path", default="runs",
               default_text="./runs"),
    EnvSetting("SEQATTN_MAX_JOBS", "how many jobs train at once", "int", 1, 64, default=1),
    EnvSetting("SEQATTN_MAX_QUEUED", "how many jobs may wait for a slot (more are refused)", "int", 1, 1000,
               default=5),
    # The heartbeat comes every 2 s (jobs/slots.py); a few missed beats under load must not end a healthy job.
    EnvSetting("SEQATTN_STALL_SECONDS", "seconds of silence before a job is called stalled", "float", 10, 86400,
               default=30.0),
    # A job whose estimate is above the budget is refused with a message, so a small budget is safe;
    # 0 or less would refuse everything for no reason the user would guess.
    EnvSetting("SEQATTN_MEMORY_BUDGET_GB", "the peak memory in GiB one job may be estimated to need", "float",
               0.25, 4096, default_text="half the machine's memory"),
    EnvSetting("SEQATTN_TIME_BUDGET_S", "the seconds one training (or sweep cell) may be estimated to take",
               "float", 1, 30 * 86400, default_text="1800 (30 min)"),
    EnvSetting("SEQATTN_DASK_WORKERS", "the worker processes of the local Dask cluster", "int", 1, 256,
               default_text="the machine's cores"),
    EnvSetting("SEQATTN_WORKER_NICE", "the niceness a Dask worker sets itself to", "int", 0, 19,
               default_text="unset: unchanged"),
    EnvSetting("SEQATTN_WARM_WORKER", "the dashboard's warm training process", "switch", default=True),
    EnvSetting("SEQATTN_WARMUP", "the server's Explore warm-up", "switch", default=True),
)}

_fall_back: contextvars.ContextVar[bool] = contextvars.ContextVar("seqattn_settings_fall_back", default=False)


def read(name: str, environ: Mapping[str, str] | None = None) -> Value:
    """The value of setting ``name`` from ``environ`` (default ``os.environ``); its default when unset or blank.

    Inside :func:`bad_values_fall_back` a bad value reads as the default too.

    Raises:
        SettingError: the value is not accepted (one line: name, meaning, range, default).
        KeyError: ``name`` is not a declared setting.
    """
    setting = SETTINGS[name]
    raw = (os.environ if environ is None else environ).get(name, "")
    try:
        return setting.parse(raw)
    except SettingError:
        if _fall_back.get():
            return setting.default
        raise


def problems(environ: Mapping[str, str] | None = None) -> list[str]:
    """The one-line message of every declared setting whose value in ``environ`` is not accepted (empty: all good)."""
    found = []
    env = os.environ if environ is None else environ
    for setting in SETTINGS.values():
        try:
            setting.parse(env.get(setting.name, ""))
        except SettingError as exc:
            found.append(str(exc))
    return found


def check_all(environ: Mapping[str, str] | None = None) -> None:
    """Check every declared setting at once (also inside :func:`bad_values_fall_back`).

    Raises:
        SettingError: one line with the message of each bad setting.
    """
    found = problems(environ)
    if found:
        raise SettingError(" ".join(found))


@contextlib.contextmanager
def bad_values_fall_back() -> Iterator[None]:
    """Within the block (this thread or task only), a bad value reads as its setting's default.

    For the dashboard, which has shown :func:`problems` as a warning and must keep drawing
    its pages; jobs it starts are still checked with :func:`check_all`.
    """
    token = _fall_back.set(True)
    try:
        yield
    finally:
        _fall_back.reset(token)
