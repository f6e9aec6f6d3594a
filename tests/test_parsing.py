"""parse_sequence: the accepted forms, and a clear message for every bad input."""

from __future__ import annotations

import re

import pytest

from seqattn.problem.parsing import MAX_TEXT_CHARS, accepted_forms, parse_sequence
from seqattn.problem.config import ProblemConfig

K50 = ProblemConfig(cardinality=50, n_in=5, n_out=2)
EXPECTED = [12, 20, 36, 40, 12]


@pytest.mark.parametrize(
    "text",
    [
        "12 20 36 40 12",
        "12,20,36,40,12",
        "12, 20, 36, 40, 12",
        "[12, 20, 36, 40, 12]",
        "[12 20 36 40 12]",
        "(12, 20, 36, 40, 12)",
        "  12   20\t36\n40 12  ",
        "12; 20; 36; 40; 12",
        " [ 12,20 , 36,40,12 ] ",
        "12, 20, 36, 40, 12,",
        "012 20 36 40 12",
    ],
)
def test_accepted_forms(text: str) -> None:
    assert parse_sequence(text, K50) == EXPECTED


def test_returns_plain_ints() -> None:
    values = parse_sequence("0 49 1 48 2", K50)
    assert values == [0, 49, 1, 48, 2]
    assert all(type(v) is int for v in values)


def test_range_and_length_follow_the_config() -> None:
    small = ProblemConfig(cardinality=10, n_in=3, n_out=1)
    assert parse_sequence("9 0 5", small) == [9, 0, 5]
    with pytest.raises(ValueError, match=r"outside 0\.\.9"):
        parse_sequence("10 0 5", small)
    with pytest.raises(ValueError, match=r"Expected 3 values, got 5"):
        parse_sequence("1 2 3 4 5", small)


def test_accepted_forms_hint() -> None:
    hint = accepted_forms(K50)
    assert hint.startswith("Type 5 whole numbers from 0 to 49")
    assert "spaces or commas" in hint


@pytest.mark.parametrize("cardinality, n_in", [(50, 5), (15, 3), (2, 1), (10, 7)])
def test_accepted_forms_example_is_itself_accepted(cardinality: int, n_in: int) -> None:
    # The hint's example must be a valid input for the same problem.
    config = ProblemConfig(cardinality=cardinality, n_in=n_in, n_out=1)
    hint = accepted_forms(config)
    assert f"Type {n_in} whole numbers from 0 to {cardinality - 1}" in hint
    example = hint.split("e.g. ", 1)[1].rstrip(".")
    values = parse_sequence(example, config)
    assert len(values) == n_in and all(0 <= v < cardinality for v in values)


# Each bad input with a regex its message must match (the specific complaint).
BAD_INPUTS = [
    pytest.param("12 ab 36 40 12", r"^Value 2 \('ab'\) is not a whole number\.", id="letters"),
    pytest.param("twelve twenty", r"^Value 1 \('twelve'\) is not a whole number\.", id="words"),
    pytest.param("12 20 1.5 40 12", r"^Value 3 \('1\.5'\) is a decimal number\.", id="float"),
    pytest.param("12 20 36 40 12.", r"^Value 5 \('12\.'\) is a decimal number\.", id="trailing-dot"),
    pytest.param("12 -3 36 40 12", r"^Value 2 \(-3\) is outside 0\.\.49 \(cardinality 50\)\.", id="negative"),
    pytest.param("12 20 50 40 12", r"^Value 3 \(50\) is outside 0\.\.49 \(cardinality 50\)\.", id="equal-to-K"),
    pytest.param("12 20 36 40 99", r"^Value 5 \(99\) is outside 0\.\.49", id="above-K"),
    pytest.param("12 20 36", r"^Expected 5 values, got 3\.", id="too-few"),
    pytest.param("12 20 36 40 12 7", r"^Expected 5 values, got 6\.", id="too-many"),
    pytest.param("", r"^The input is empty\.", id="empty"),
    pytest.param("   \t\n  ", r"^The input is empty\.", id="whitespace"),
    pytest.param("[]", r"^The input has no numbers\.", id="empty-brackets"),
    pytest.param(", , ;", r"^The input has no numbers\.", id="only-separators"),
    pytest.param("[12, 20, 36, 40, 12", r"^Unbalanced brackets: '\[' and '\]' do not pair up\.", id="unbalanced-open"),
    pytest.param("12, 20, 36, 40, 12]", r"^Unbalanced brackets: '\[' and '\]' do not pair up\.", id="unbalanced-close"),
    pytest.param("(12 20 36 40 12", r"^Unbalanced brackets: '\(' and '\)' do not pair up\.", id="unbalanced-paren"),
    pytest.param("[[12, 20, 36, 40, 12]]", r"^Nested or repeated brackets are not accepted\.", id="nested"),
    pytest.param("[12, 20] [36, 40, 12]", r"^Nested or repeated brackets are not accepted\.", id="repeated"),
    pytest.param("12 [20 36] 40 12", r"^Brackets must enclose the whole sequence\.", id="mid-string"),
    pytest.param("[12 20 36] 40 12", r"^Brackets must enclose the whole sequence\.", id="prefix-only"),
    pytest.param("]12 20 36 40 12[", r"^Brackets must enclose the whole sequence\.", id="inverted"),
    pytest.param("1 " * 50_000, r"^The input is too long \(100,000 characters; at most 2,000\)\.", id="100kB"),
    pytest.param(None, r"^The input is empty\.", id="None"),
    pytest.param(12, r"^The input must be text; got int\.", id="int"),
    pytest.param(b"12 20 36 40 12", r"^The input must be text; got bytes\.", id="bytes"),
    pytest.param([12, 20, 36, 40, 12], r"^The input must be text; got list\.", id="list"),
    pytest.param(
        "123456789012345678901234567890 20 36 40 12",
        r"^Value 1 \(1234567890123456789…\) is outside 0\.\.49",
        id="huge-int",
    ),
    pytest.param("9" * 1999, r"^Value 1 \(9{19}…\) is outside 0\.\.49", id="1999-digit-int"),
    pytest.param("12 20 36 40 ☃", r"^Value 5 \('☃'\) is not a whole number\.", id="snowman"),
    pytest.param("12 20 🙂 40 12", r"^Value 3 \('🙂'\) is not a whole number\.", id="emoji"),
    pytest.param("12 20 36 40 ½", r"^Value 5 \('½'\) is not a whole number\.", id="vulgar-fraction"),
    pytest.param("12 20 36 40 1²", r"^Value 5 \('1²'\) is not a whole number\.", id="superscript"),
    pytest.param("12 20 36 40 1e3", r"^Value 5 \('1e3'\) is not a whole number\.", id="exponent"),
    pytest.param("12 20 36 40 0x1f", r"^Value 5 \('0x1f'\) is not a whole number\.", id="hex"),
    pytest.param("12 20 36 40 12\x00", r"^Value 5 \('12\x00'\) is not a whole number\.", id="nul"),
    pytest.param(
        "12 20 36 40 " + "x" * 200,
        r"^Value 5 \('x{19}…'\) is not a whole number\.",
        id="long-token-shortened",
    ),
]


@pytest.mark.parametrize("text, pattern", BAD_INPUTS)
def test_bad_inputs_give_a_specific_message(text: object, pattern: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_sequence(text, K50)  # type: ignore[arg-type]
    message = str(info.value)
    assert re.search(pattern, message), message
    # Every message ends with the hint on what is accepted.
    assert message.endswith(accepted_forms(K50)), message


@pytest.mark.parametrize("text, pattern", BAD_INPUTS)
def test_messages_are_short_and_free_of_traceback_text(text: object, pattern: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_sequence(text, K50)  # type: ignore[arg-type]
    message = str(info.value)
    assert "Traceback" not in message
    assert 'File "' not in message
    assert "\n" not in message
    # Short enough for a form: never echoes a huge input back.
    assert len(message) < 250, len(message)


def test_exactly_max_length_is_accepted() -> None:
    text = "12 20 36 40 12".ljust(MAX_TEXT_CHARS)
    assert len(text) == MAX_TEXT_CHARS
    assert parse_sequence(text, K50) == EXPECTED
    with pytest.raises(ValueError, match="too long"):
        parse_sequence(text + " ", K50)


def test_mixed_nested_brackets_are_rejected() -> None:
    # "Nested or repeated brackets are not accepted": "[[...]]" and "([...])" are
    # rejected, so a square-around-round nesting must be rejected too.
    with pytest.raises(ValueError, match="[Bb]rackets"):
        parse_sequence("([12, 20, 36, 40, 12])", K50)
    with pytest.raises(ValueError, match="[Bb]rackets"):
        parse_sequence("[(12, 20, 36, 40, 12)]", K50)
