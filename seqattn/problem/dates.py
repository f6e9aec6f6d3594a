"""Dates: a date as people write it (``wednesday 9 may 2018``) to ISO ``2018-05-09``.

An input is a day drawn uniformly from 1950-01-01 to 2049-12-31, written lower-case in one
of :data:`FORMATS` (chosen uniformly), as indices into :data:`INPUT_CHARS`, padded at the
end with :data:`PAD` to :data:`DATE_WIDTH`. The target is the ten characters of
``YYYY-MM-DD`` as indices into :data:`OUTPUT_CHARS`. The generator knows where the year,
month and day sit in the text, so a perfect alignment puts each year digit on the year's
characters, each month digit on the month's and each day digit on the day's (its digits,
not an ordinal's suffix); the dashes and the weekday name read nothing. Month and weekday
names are spelled here: the machine's locale never enters (no ``strftime``).
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from seqattn.problem.parsing import MAX_TEXT_CHARS
from seqattn.problem.task import Task

if TYPE_CHECKING:
    from seqattn.problem.config import ProblemConfig

PAD = 0
# Index 0 is the pad; every character any format writes is here (tests check), plus the
# rest of the alphabet so a typed stray letter reads as "not a date", not as a bad character.
INPUT_CHARS = "\0 0123456789abcdefghijklmnopqrstuvwxyz,./-"
OUTPUT_CHARS = "0123456789-"
FIRST_DAY = datetime.date(1950, 1, 1)
LAST_DAY = datetime.date(2049, 12, 31)
ISO_LEN = 10
PARTS = ("year", "month", "day")
# The output steps each field's digits fill in YYYY-MM-DD (steps 4 and 7 are the dashes).
STEPS = {"year": slice(0, 4), "month": slice(5, 7), "day": slice(8, 10)}

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # date.weekday() order
SHORT_MONTHS = tuple(m[:3] for m in MONTHS)
SHORT_WEEKDAYS = tuple(w[:3] for w in WEEKDAYS)
MONTH_NUMBER = {name: i + 1 for names in (MONTHS, SHORT_MONTHS) for i, name in enumerate(names)}


def ordinal_suffix(day: int) -> str:
    """The English ordinal suffix of a day of the month: 1 -> ``st``, 12 -> ``th``, 22 -> ``nd``."""
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _choice(group: str, names: Sequence[str]) -> str:
    return f"(?P<{group}>{'|'.join(names)})"


@dataclass(frozen=True)
class _Field:
    """One field code of a template: how it writes a day, its widest text, the regex reading it back."""

    write: Callable[[datetime.date], str]
    widest: int
    pattern: str


# A day of the month has at most two digits; its ordinal two more ("30th").
_FIELDS = {
    "W": _Field(lambda d: WEEKDAYS[d.weekday()], max(map(len, WEEKDAYS)), _choice("weekday", WEEKDAYS)),
    "w": _Field(lambda d: SHORT_WEEKDAYS[d.weekday()], max(map(len, SHORT_WEEKDAYS)),
                _choice("weekday", SHORT_WEEKDAYS)),
    "D": _Field(lambda d: str(d.day), 2, r"(?P<day>[1-9]\d?)"),
    "DD": _Field(lambda d: f"{d.day:02d}", 2, r"(?P<day>\d\d)"),
    "Do": _Field(lambda d: f"{d.day}{ordinal_suffix(d.day)}", 4, r"(?P<day>[1-9]\d?)(?P<suffix>st|nd|rd|th)"),
    "M": _Field(lambda d: str(d.month), 2, r"(?P<month>[1-9]\d?)"),
    "MM": _Field(lambda d: f"{d.month:02d}", 2, r"(?P<month>\d\d)"),
    "MMM": _Field(lambda d: SHORT_MONTHS[d.month - 1], max(map(len, SHORT_MONTHS)), _choice("month", SHORT_MONTHS)),
    "MMMM": _Field(lambda d: MONTHS[d.month - 1], max(map(len, MONTHS)), _choice("month", MONTHS)),
    "YYYY": _Field(lambda d: f"{d.year:04d}", 4, r"(?P<year>\d{4})"),
    "YY": _Field(lambda d: f"{d.year % 100:02d}", 2, r"(?P<year>\d\d)"),
}


@dataclass(frozen=True)
class DateFormat:
    """One way of writing a date.

    Args:
        name: 2018-05-09 written in this format (what a reader sees, e.g. ``9 may 2018``).
        template: literal text with field codes in braces: ``{W}``/``{w}`` weekday full/short,
            ``{D}`` ``{DD}`` ``{Do}`` day as 9, 09, 9th, ``{M}`` ``{MM}`` ``{MMM}`` ``{MMMM}`` month
            as 5, 05, sep, september, ``{YYYY}`` ``{YY}`` year as 2018, 18.
    """

    name: str
    template: str
    pieces: tuple[tuple[str, bool], ...] = field(init=False, repr=False, compare=False)  # (text or code, is a code)
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    width: int = field(init=False, repr=False, compare=False)  # the longest text this format writes

    def __post_init__(self) -> None:
        parts = re.split(r"\{(\w+)\}", self.template)  # literal, code, literal, code, ...
        pieces = tuple((part, i % 2 == 1) for i, part in enumerate(parts) if part)
        object.__setattr__(self, "pieces", pieces)
        object.__setattr__(self, "regex", re.compile("".join(
            _FIELDS[p].pattern if code else re.escape(p) for p, code in pieces)))
        object.__setattr__(self, "width", sum(_FIELDS[p].widest if code else len(p) for p, code in pieces))

    def write(self, day: datetime.date) -> str:
        """``day`` written in this format (lower-case)."""
        return "".join(_FIELDS[p].write(day) if code else p for p, code in self.pieces)

    def spans(self, day: datetime.date) -> dict[str, tuple[int, int]]:
        """The (start, end) character positions of the year, month and day fields of :meth:`write`."""
        spans, at = {}, 0
        for p, code in self.pieces:
            text = _FIELDS[p].write(day) if code else p
            if code and p[0] in "YMD":
                # An ordinal's field is its digits: the suffix says nothing about the day's value.
                digits = len(str(day.day)) if p == "Do" else len(text)
                spans[{"Y": "year", "M": "month", "D": "day"}[p[0]]] = (at, at + digits)
            at += len(text)
        return spans


# No two formats read one text with different field positions (the tests check): the parser's
# match must give the spans the generator used. Day/month order is fixed: day first, or the year.
FORMATS: tuple[DateFormat, ...] = (
    DateFormat("9 may 2018", "{D} {MMMM} {YYYY}"),
    DateFormat("wednesday 9 may 2018", "{W} {D} {MMMM} {YYYY}"),
    DateFormat("wednesday, may 9, 2018", "{W}, {MMMM} {D}, {YYYY}"),
    DateFormat("may 9, 2018", "{MMMM} {D}, {YYYY}"),
    DateFormat("may 9th 2018", "{MMMM} {Do} {YYYY}"),
    DateFormat("9th of may 2018", "{Do} of {MMMM} {YYYY}"),
    DateFormat("2018 may 09", "{YYYY} {MMM} {DD}"),
    DateFormat("09.05.18", "{DD}.{MM}.{YY}"),
    DateFormat("09.05.2018", "{DD}.{MM}.{YYYY}"),
    DateFormat("9/5/2018", "{D}/{M}/{YYYY}"),
    DateFormat("9 may 18", "{D} {MMM} {YY}"),
    DateFormat("wed, 9 may 2018", "{w}, {D} {MMM} {YYYY}"),
    DateFormat("09-may-2018", "{DD}-{MMM}-{YYYY}"),
    DateFormat("2018/05/09", "{YYYY}/{MM}/{DD}"),
    DateFormat("wed may 09 2018", "{w} {MMM} {DD} {YYYY}"),
)
DATE_WIDTH = max(f.width for f in FORMATS)
EXAMPLE_TEXT = "wednesday 9 may 2018"

_INDEX = {c: i for i, c in enumerate(INPUT_CHARS)}
_TYPABLE = frozenset(INPUT_CHARS[1:])  # the pad is never typed
_INPUT_CODES = np.frombuffer(INPUT_CHARS.encode("ascii"), dtype=np.uint8)  # token -> ASCII code
_TO_INPUT = np.zeros(128, dtype=np.int32)  # ASCII code -> token (the pad is code 0)
_TO_INPUT[_INPUT_CODES] = np.arange(len(INPUT_CHARS), dtype=np.int32)
_TO_OUTPUT = np.zeros(128, dtype=np.int32)
_TO_OUTPUT[np.frombuffer(OUTPUT_CHARS.encode("ascii"), dtype=np.uint8)] = np.arange(len(OUTPUT_CHARS))


def render(day: datetime.date, format_index: int) -> str:
    """``day`` written in ``FORMATS[format_index]``, lower-case, unpadded."""
    return FORMATS[format_index].write(day)


def iso(day: datetime.date) -> str:
    """``day`` as ``YYYY-MM-DD`` (the target text)."""
    return day.isoformat()


def read(text: str) -> tuple[datetime.date, int, tuple[tuple[int, int], ...]]:
    """Read a date written in one of :data:`FORMATS` (already lower-case, single spaces, unpadded).

    Returns:
        (the day, the index of its format, the (start, end) spans of its year, month and day).

    Raises:
        ValueError: one sentence naming what is wrong (no format fits, a day that does not
            exist, a year out of range, a wrong weekday or ordinal), without the accepted forms.
    """
    return _read(text)


@lru_cache(maxsize=1 << 16)  # alignment and targets of an evaluation set read the same texts again
def _read(text: str) -> tuple[datetime.date, int, tuple[tuple[int, int], ...]]:
    for index, fmt in enumerate(FORMATS):
        match = fmt.regex.fullmatch(text)
        if match:
            return _checked(text, match), index, tuple(match.span(part) for part in PARTS)
    raise ValueError(f"'{text}' is not written in any of the accepted date formats.")


def _checked(text: str, match: re.Match[str]) -> datetime.date:
    year = int(match["year"])
    if len(match["year"]) == 2:  # 50..99 -> 1950..1999, 00..49 -> 2000..2049: one century each
        year += 1900 if year >= 50 else 2000
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise ValueError(f"'{text}' is in {year}, but the year must be from {FIRST_DAY.year} to {LAST_DAY.year}.")
    month = MONTH_NUMBER.get(match["month"]) or int(match["month"])
    if not 1 <= month <= 12:
        raise ValueError(f"'{text}' has no month {month}: numbers are written day/month/year, months 1 to 12.")
    day, length = int(match["day"]), calendar.monthrange(year, month)[1]
    if not 1 <= day <= length:
        why = "days start at 1" if day == 0 else f"{MONTHS[month - 1]} {year} has {length} days"
        raise ValueError(f"'{text}' is not a real day: {why}.")
    date = datetime.date(year, month, day)
    suffix = match.groupdict().get("suffix")
    if suffix and suffix != ordinal_suffix(day):
        raise ValueError(f"'{text}' has the wrong ordinal suffix: write {day}{ordinal_suffix(day)}.")
    weekday = match.groupdict().get("weekday")
    if weekday and not WEEKDAYS[date.weekday()].startswith(weekday):
        raise ValueError(f"'{text}' does not add up: {day} {MONTHS[month - 1]} {year} is a "
                         f"{WEEKDAYS[date.weekday()]}, not a {WEEKDAYS[SHORT_WEEKDAYS.index(weekday[:3])]}.")
    return date


def _texts(inputs: np.ndarray) -> list[str]:
    """Token rows (n, DATE_WIDTH) -> their texts with the trailing pads stripped."""
    inputs = np.asarray(inputs)
    if inputs.ndim != 2 or inputs.shape[1] != DATE_WIDTH:
        raise ValueError(f"Date inputs must have shape (n, {DATE_WIDTH}); got {inputs.shape}.")
    if inputs.size and (inputs.min() < 0 or inputs.max() >= len(INPUT_CHARS)):
        raise ValueError(f"Date input tokens must be from 0 to {len(INPUT_CHARS) - 1}.")
    codes = _INPUT_CODES[inputs.astype(np.intp)]
    return [row.tobytes().decode("ascii").rstrip("\0") for row in codes]


def _read_row(row: int, text: str) -> tuple[datetime.date, int, tuple[tuple[int, int], ...]]:
    if "\0" in text:
        raise ValueError(f"Input row {row} has padding before its end; pads may only follow the date.")
    try:
        return _read(text)
    except ValueError as error:
        raise ValueError(f"Input row {row} is not a valid date: {error}") from None


def _encode(texts: Sequence[str], width: int, table: np.ndarray) -> np.ndarray:
    """ASCII texts (each at most ``width`` long) -> int32 (len(texts), width) via ``table``, padded with code 0."""
    joined = "".join(t.ljust(width, "\0") for t in texts).encode("ascii")
    return table[np.frombuffer(joined, dtype=np.uint8).reshape(len(texts), width)]


class DatesTask(Task):
    """Write a human date (one of :data:`FORMATS`, 1950..2049) as ISO ``YYYY-MM-DD``; every size is fixed."""

    name = "dates"
    label = "Dates"
    summary = "The input is a date written by hand (e.g. 9 may 2018); the target is 2018-05-09."
    settings = ()
    input_label = "Input date"
    pad_token = PAD
    separator = ""
    # A live demo on 2 cores, chosen by measurement (bench/tasks.py, README "Tasks").
    defaults = {"units": 64, "protocol": "batched", "updates": 1500, "batch_size": 64, "learning_rate": 5e-3}

    def fixed(self, config: ProblemConfig) -> dict[str, Any]:
        return {"cardinality": len(INPUT_CHARS), "n_in": DATE_WIDTH, "n_out": ISO_LEN, "pad_target": False}

    def output_size(self, config: ProblemConfig) -> int:
        return len(OUTPUT_CHARS)

    def target_len(self, config: ProblemConfig) -> int:
        return ISO_LEN

    def draw(self, config: ProblemConfig, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` days uniform over 1950..2049, each in a uniform format: (inputs int32 (n, DATE_WIDTH), targets int32 (n, 10))."""
        ordinals = rng.integers(FIRST_DAY.toordinal(), LAST_DAY.toordinal() + 1, size=n)
        formats = rng.integers(0, len(FORMATS), size=n)
        days = [datetime.date.fromordinal(o) for o in ordinals.tolist()]
        texts = [FORMATS[f].write(d) for d, f in zip(days, formats.tolist())]
        return _encode(texts, DATE_WIDTH, _TO_INPUT), _encode([d.isoformat() for d in days], ISO_LEN, _TO_OUTPUT)

    def targets(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        """Int inputs (n, DATE_WIDTH) -> int32 targets (n, 10); ValueError naming a row that is not a date."""
        days = [_read_row(i, text)[0] for i, text in enumerate(_texts(inputs))]
        return _encode([d.isoformat() for d in days], ISO_LEN, _TO_OUTPUT)

    def expected_alignment(self, config: ProblemConfig, inputs: np.ndarray) -> np.ndarray:
        """Int inputs (n, DATE_WIDTH) -> float32 (n, 10, DATE_WIDTH): each digit spread over its field's characters."""
        texts = _texts(inputs)
        rows = np.zeros((len(texts), ISO_LEN, DATE_WIDTH), dtype=np.float32)
        for i, text in enumerate(texts):
            for part, (start, end) in zip(PARTS, _read_row(i, text)[2]):
                rows[i, STEPS[part], start:end] = 1.0 / (end - start)
        return rows

    def chance(self, config: ProblemConfig) -> float:
        # The dashes are free; the eight digits are each a one-in-ten guess.
        return 0.1 ** 8

    def show_input(self, config: ProblemConfig, token: int) -> str:
        token = int(token)
        if not 0 <= token < len(INPUT_CHARS):
            return "?"
        return {PAD: "·", _INDEX[" "]: "␣"}.get(token, INPUT_CHARS[token])

    def show_output(self, config: ProblemConfig, token: int) -> str:
        token = int(token)
        return OUTPUT_CHARS[token] if 0 <= token < len(OUTPUT_CHARS) else "?"

    def parse(self, text: str, config: ProblemConfig) -> list[int]:
        """A typed date -> DATE_WIDTH tokens (padded at the end); case and extra spaces are forgiven.

        Raises:
            ValueError: one sentence naming what is wrong, followed by :meth:`accepted`.
        """
        hint = self.accepted(config)
        if text is None:
            raise ValueError(f"The input is empty. {hint}")
        if not isinstance(text, str):
            raise ValueError(f"The input must be text; got {type(text).__name__}. {hint}")
        if len(text) > MAX_TEXT_CHARS:  # before any other work, so a pasted book costs nothing
            raise ValueError(f"The input is far too long for a date ({len(text):,} characters). {hint}")
        body = " ".join(text.split()).lower()
        if not body:
            raise ValueError(f"The input is empty. {hint}")
        if len(body) > DATE_WIDTH:
            raise ValueError(f"The input is {len(body)} characters long; a date has at most {DATE_WIDTH}. {hint}")
        for position, char in enumerate(text, start=1):
            if not char.isspace() and char.lower() not in _TYPABLE:
                shown = f"'{char}'" if char.isprintable() else f"U+{ord(char):04X}"
                raise ValueError(f"Character {position} ({shown}) is not used in any date. {hint}")
        try:
            _read(body)
        except ValueError as error:
            raise ValueError(f"{error} {hint}") from None
        return [_INDEX[c] for c in body] + [PAD] * (DATE_WIDTH - len(body))

    def typed(self, config: ProblemConfig, tokens: Sequence[int]) -> str:
        return "".join(INPUT_CHARS[int(t)] for t in tokens if int(t) != PAD)

    def example(self, config: ProblemConfig) -> list[int]:
        return self.parse(EXAMPLE_TEXT, config)

    def accepted(self, config: ProblemConfig) -> str:
        return (f"Type a date from {FIRST_DAY.year} to {LAST_DAY.year} such as {EXAMPLE_TEXT}, may 9th 2018, "
                f"09.05.18 or 9/5/2018 (day/month/year), at most {DATE_WIDTH} characters.")

    def describe(self, config: ProblemConfig) -> str:
        return "dates (human → ISO)"
