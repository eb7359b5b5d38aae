"""The long-integer scan of ``parse_json`` against the regular expression it replaces."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from processors.parse import has_long_digit_run, parse_json

LONG_RUN_PATTERN = re.compile(rb"\d{20}|-\d{19}")
# Digits, near-digits (ASCII neighbours, non-ASCII digits in UTF-8) and JSON punctuation.
NEAR_DIGITS = st.lists(
    st.sampled_from([b"0", b"9", b"5", b"/", b":", b" ", b"-", b".", b"e", "٣".encode(), b"\xff"]),
    max_size=80,
).map(b"".join)


# Runs of digits around the threshold, separated by one non-digit.
DIGIT_RUNS = st.lists(
    st.tuples(st.integers(0, 25), st.sampled_from([b" ", b".", b"a", b"/", b":", b"\xd9", b"-"])),
    max_size=6,
).map(lambda runs: b"".join(b"7" * n + sep for n, sep in runs))


@given(st.one_of(NEAR_DIGITS, DIGIT_RUNS, st.binary(max_size=200)))
def test_scan_agrees_with_the_regular_expression(body: bytes) -> None:
    assert has_long_digit_run(body) == bool(LONG_RUN_PATTERN.search(body))


def test_nineteen_digits_are_not_a_long_run_and_twenty_are() -> None:
    assert not has_long_digit_run(b'{"n": 1234567890123456789}')
    assert has_long_digit_run(b'{"n": 12345678901234567890}')


def test_below_the_smallest_64_bit_integer_stays_exact() -> None:
    """orjson made -2**63 - 1 (a minus sign and 19 digits) a lossy float."""
    assert has_long_digit_run(b'{"n": -1234567890123456789}')
    assert parse_json(b'{"n": -9223372036854775809}') == {"n": -9223372036854775809}
    assert parse_json(b'{"n": [-9223372036854775808]}') == {"n": [-(2**63)]}


def test_an_integer_beyond_64_bits_stays_exact() -> None:
    assert parse_json(b'{"n": 123456789012345678901234567890}') == {
        "n": 123456789012345678901234567890
    }
