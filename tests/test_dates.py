"""The Dates task: formats written by hand, the generator, targets, alignment and the typed-date parser."""

from __future__ import annotations

import datetime
import time

import numpy as np
import pytest

from seqattn.problem.config import ProblemConfig
from seqattn.problem.dates import (
    DATE_WIDTH,
    FIRST_DAY,
    FORMATS,
    INPUT_CHARS,
    LAST_DAY,
    OUTPUT_CHARS,
    PAD,
    DatesTask,
    iso,
    read,
    render,
)

CONFIG = ProblemConfig(task="dates")
TASK = CONFIG.task_spec
HINT = TASK.accepted(CONFIG)
MAY_9 = datetime.date(2018, 5, 9)  # a wednesday
SEP_30 = datetime.date(2018, 9, 30)  # a sunday: long month, short month differs, two-digit day

# Every format written by hand, for 2018-05-09 and 2018-09-30, in FORMATS order.
BY_HAND = [
    ("9 may 2018", "30 september 2018"),
    ("wednesday 9 may 2018", "sunday 30 september 2018"),
    ("wednesday, may 9, 2018", "sunday, september 30, 2018"),
    ("may 9, 2018", "september 30, 2018"),
    ("may 9th 2018", "september 30th 2018"),
    ("9th of may 2018", "30th of september 2018"),
    ("2018 may 09", "2018 sep 30"),
    ("09.05.18", "30.09.18"),
    ("09.05.2018", "30.09.2018"),
    ("9/5/2018", "30/9/2018"),
    ("9 may 18", "30 sep 18"),
    ("wed, 9 may 2018", "sun, 30 sep 2018"),
    ("09-may-2018", "30-sep-2018"),
    ("2018/05/09", "2018/09/30"),
    ("wed may 09 2018", "sun sep 30 2018"),
]


def tokens_of(text: str) -> list[int]:
    """``text`` as DATE_WIDTH input tokens, padded at the end (no checks: for rows parse would refuse)."""
    return [INPUT_CHARS.index(c) for c in text] + [PAD] * (DATE_WIDTH - len(text))


def target_text(targets: np.ndarray) -> list[str]:
    return ["".join(OUTPUT_CHARS[t] for t in row) for row in targets]


def refusal(text) -> str:
    with pytest.raises(ValueError) as info:
        TASK.parse(text, CONFIG)
    message = str(info.value)
    assert message.endswith(HINT) and "Traceback" not in message, message
    return message


# --------------------------------------------------------------------------- the config and the vocabularies


def test_the_task_fixes_every_size():
    assert isinstance(TASK, DatesTask)
    assert (CONFIG.cardinality, CONFIG.n_in, CONFIG.n_out, CONFIG.pad_target) == (len(INPUT_CHARS), DATE_WIDTH, 10, False)
    assert ProblemConfig(task="dates", cardinality=7, n_in=3).n_in == DATE_WIDTH
    assert (CONFIG.target_len, CONFIG.output_size, CONFIG.input_size, CONFIG.pad_token) == (10, 11, len(INPUT_CHARS), 0)
    assert TASK.settings == () and INPUT_CHARS[PAD] == "\0" and OUTPUT_CHARS == "0123456789-"
    assert TASK.chance(CONFIG) == pytest.approx(1e-8) and TASK.describe(CONFIG) == "dates (human → ISO)"


def test_the_width_is_the_longest_date_any_format_writes_and_every_character_is_in_the_vocabulary():
    year = [datetime.date(2018, 1, 1) + datetime.timedelta(days=i) for i in range(365)]
    for index, fmt in enumerate(FORMATS):
        texts = [render(day, index) for day in year]
        assert max(map(len, texts)) == fmt.width, fmt.name
        assert set("".join(texts)) <= set(INPUT_CHARS[1:]), fmt.name
    assert DATE_WIDTH == max(f.width for f in FORMATS) == len("wednesday, september 30, 2018")


# --------------------------------------------------------------------------- the formats, by hand


def test_there_are_at_least_twelve_formats_with_distinct_names():
    assert len(FORMATS) >= 12 and len({f.name for f in FORMATS}) == len(FORMATS) == len(BY_HAND)


@pytest.mark.parametrize("index", range(len(BY_HAND)))
def test_each_format_writes_the_hand_written_text_and_reads_it_back(index):
    for day, text in zip((MAY_9, SEP_30), BY_HAND[index]):
        assert render(day, index) == text
        assert FORMATS[index].name == BY_HAND[index][0]
        tokens = TASK.parse(text, CONFIG)
        assert tokens == tokens_of(text) and TASK.typed(CONFIG, tokens) == text
        assert target_text(TASK.targets(CONFIG, np.array([tokens]))) == [iso(day)]
        assert read(text)[:2] == (day, index)


@pytest.mark.parametrize("day, suffix", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
                                         (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (31, "31st")])
def test_ordinals(day, suffix):
    date = datetime.date(2018, 1, day)
    assert render(date, 4) == f"january {suffix} 2018" and render(date, 5) == f"{suffix} of january 2018"
    assert read(f"january {suffix} 2018")[0] == date


@pytest.mark.parametrize("text, right", [("may 2th 2018", "2nd"), ("11st of may 2018", "11th"), ("may 23th 2018", "23rd")])
def test_a_wrong_ordinal_suffix_is_refused_naming_the_right_one(text, right):
    assert f"write {right}" in refusal(text)


def test_leap_days():
    for day in (datetime.date(2000, 2, 29), datetime.date(2020, 2, 29)):
        for index in range(len(FORMATS)):
            assert target_text(TASK.targets(CONFIG, np.array([TASK.parse(render(day, index), CONFIG)]))) == [iso(day)]
    assert "february 2019 has 28 days" in refusal("29 february 2019")
    assert "february 2019 has 28 days" in refusal("29.02.19")
    assert "february 2018 has 28 days" in refusal("30 february 2018")
    assert "days start at 1" in refusal("00.05.18")
    assert "1900" in refusal("29 february 1900")  # outside the range, whatever its calendar


def test_the_range_bounds_and_two_digit_years():
    for text, expected in [("1 january 1950", "1950-01-01"), ("31 december 2049", "2049-12-31"),
                           ("01.01.50", "1950-01-01"), ("31.12.49", "2049-12-31"), ("9 may 99", "1999-05-09"),
                           ("9 may 00", "2000-05-09")]:
        assert target_text(TASK.targets(CONFIG, np.array([TASK.parse(text, CONFIG)]))) == [expected], text
    for text in ("31 december 1949", "1 january 2050", "2050/01/01"):
        assert "from 1950 to 2049" in refusal(text)


def test_day_month_order_is_fixed_and_a_month_past_twelve_is_named():
    assert read("5/9/2018")[0] == datetime.date(2018, 9, 5)
    assert "no month 13" in refusal("9/13/2018") and "day/month/year" in HINT


# --------------------------------------------------------------------------- the generator


def test_draw_is_deterministic_per_seed_with_pads_only_at_the_end():
    inputs, targets = TASK.draw(CONFIG, 500, np.random.default_rng(3))
    again, _ = TASK.draw(CONFIG, 500, np.random.default_rng(3))
    other, _ = TASK.draw(CONFIG, 500, np.random.default_rng(4))
    assert np.array_equal(inputs, again) and not np.array_equal(inputs, other)
    assert inputs.shape == (500, DATE_WIDTH) and targets.shape == (500, 10)
    assert inputs.dtype == np.int32 and targets.dtype == np.int32
    assert inputs.min() >= 0 and inputs.max() < len(INPUT_CHARS) and targets.max() < len(OUTPUT_CHARS)
    is_pad = inputs == PAD
    assert not is_pad[:, 0].any() and not (is_pad[:, :-1] & ~is_pad[:, 1:]).any(), "a pad before a character"
    assert np.array_equal(TASK.targets(CONFIG, inputs), targets)


def test_drawn_dates_cover_both_centuries_and_every_format():
    inputs, targets = TASK.draw(CONFIG, 1500, np.random.default_rng(0))
    years = {int(t[:4]) for t in target_text(targets)}
    assert min(years) < 1960 and max(years) > 2040 and {y // 100 for y in years} == {19, 20}
    formats = {read(TASK.typed(CONFIG, row))[1] for row in inputs}
    assert formats == set(range(len(FORMATS)))


class _Edges:
    """A stand-in generator that always draws the lowest (or highest) value: the range's ends."""

    def __init__(self, highest: bool):
        self.highest = highest

    def integers(self, low, high, size):
        return np.full(size, high - 1 if self.highest else low)


def test_draw_reaches_both_ends_of_the_range():
    assert target_text(TASK.draw(CONFIG, 2, _Edges(False))[1]) == ["1950-01-01"] * 2
    assert target_text(TASK.draw(CONFIG, 2, _Edges(True))[1]) == ["2049-12-31"] * 2


def test_draw_is_fast():
    start = time.perf_counter()
    TASK.draw(CONFIG, 16384, np.random.default_rng(1))
    assert time.perf_counter() - start < 0.5


def test_targets_refuse_a_row_that_is_not_a_date():
    with pytest.raises(ValueError, match="row 1 is not a valid date.*february 2018 has 28 days"):
        TASK.targets(CONFIG, np.array([tokens_of("9 may 2018"), tokens_of("30 february 2018")]))
    middle = tokens_of("9 may 2018")
    middle[1] = PAD
    with pytest.raises(ValueError, match="padding before its end"):
        TASK.targets(CONFIG, np.array([middle]))
    with pytest.raises(ValueError, match="shape"):
        TASK.targets(CONFIG, np.zeros((2, 5), dtype=int))


# --------------------------------------------------------------------------- expected alignment


def test_the_alignment_of_the_example_by_hand():
    rows = TASK.expected_alignment(CONFIG, np.array([TASK.example(CONFIG)]))[0]
    assert rows.shape == (10, DATE_WIDTH) and rows.dtype == np.float32
    for steps, start, end in [(range(0, 4), 16, 20), (range(5, 7), 12, 15), (range(8, 10), 10, 11)]:
        for step in steps:
            expected = np.zeros(DATE_WIDTH, dtype=np.float32)
            expected[start:end] = 1 / (end - start)
            assert np.allclose(rows[step], expected), step
    assert not rows[[4, 7]].any() and not rows[:, :10].any(), "the dashes and 'wednesday ' read nothing"


def test_drawn_alignments_sum_to_one_on_their_fields_only():
    inputs, _ = TASK.draw(CONFIG, 400, np.random.default_rng(7))
    rows = TASK.expected_alignment(CONFIG, inputs)
    sums = rows.sum(axis=2)
    assert np.allclose(sums[:, [0, 1, 2, 3, 5, 6, 8, 9]], 1) and not rows[:, [4, 7]].any()
    assert not (rows * (inputs == PAD)[:, None, :]).any(), "weight on a pad"
    chars = np.array(list(INPUT_CHARS))[inputs]
    assert set(chars[rows[:, 0] > 0]) <= set("0123456789") and set(chars[rows[:, 8] > 0]) <= set("0123456789")
    weekdays = [i for i, f in enumerate(FORMATS) if f.template.startswith(("{W}", "{w}"))]
    for row, text in zip(rows, (TASK.typed(CONFIG, r) for r in inputs)):
        if read(text)[1] in weekdays:
            assert not row[:, : text.index(" ")].any(), text


def test_a_typed_date_aligns_on_the_spans_the_generator_reports():
    rng = np.random.default_rng(11)
    ordinals = rng.integers(FIRST_DAY.toordinal(), LAST_DAY.toordinal() + 1, size=40)
    days = [datetime.date.fromordinal(int(o)) for o in ordinals] + [MAY_9, SEP_30]
    for day in days:
        for index, fmt in enumerate(FORMATS):
            text = render(day, index)
            spans = fmt.spans(day)
            assert read(text) == (day, index, tuple(spans[p] for p in ("year", "month", "day"))), text
            rows = TASK.expected_alignment(CONFIG, np.array([TASK.parse(text, CONFIG)]))[0]
            for step, part in [(0, "year"), (5, "month"), (8, "day")]:
                assert list(np.nonzero(rows[step])[0]) == list(range(*spans[part])), (text, part)


# --------------------------------------------------------------------------- words and the parser


def test_words():
    assert TASK.typed(CONFIG, TASK.example(CONFIG)) == "wednesday 9 may 2018"
    assert TASK.show_input(CONFIG, PAD) == "·" and TASK.show_input(CONFIG, INPUT_CHARS.index(" ")) == "␣"
    assert TASK.show_input(CONFIG, INPUT_CHARS.index("w")) == "w" and TASK.show_output(CONFIG, 10) == "-"
    assert str(DATE_WIDTH) in HINT and "wednesday 9 may 2018" in HINT
    for example in ("wednesday 9 may 2018", "may 9th 2018", "09.05.18", "9/5/2018"):
        assert example in HINT and read(example)[0] == MAY_9


def test_case_and_extra_spaces_are_forgiven():
    assert TASK.parse("  Wednesday \t 9   MAY 2018 ", CONFIG) == TASK.example(CONFIG)


def test_parse_messages_name_the_problem_and_say_what_is_accepted():
    assert "not written in any of the accepted date formats" in refusal("hello there")
    assert "Character 7 ('#')" in refusal("9 may #2018")
    assert "30 characters" in refusal("wednesday, september 30, 20188")
    assert "empty" in refusal("") and "empty" in refusal("   ") and "empty" in refusal(None)
    assert "must be text" in refusal(20180509)
    assert "9 may 2018 is a wednesday, not a tuesday" in refusal("tuesday 9 may 2018")
    assert "is a wednesday, not a thursday" in refusal("thu may 09 2018")
    assert "not written in any" in refusal("09 may 2018")  # the formats are exact: no leading zero here


def test_a_hundred_kilobytes_are_refused_fast():
    start = time.perf_counter()
    message = refusal("9 may 2018 " * 10_000)
    assert time.perf_counter() - start < 0.05 and "110,000 characters" in message
