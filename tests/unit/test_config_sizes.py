"""Sizes: table of accepted and refused spellings, and a format -> parse round trip."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.config.sizes import format_size, parse_size
from dockyard.errors import InputError

VALID = "a number of bytes, or a number with kB, MB, GB, TB, KiB, MiB, GiB or TiB, e.g. 500MB or 1.5GiB"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500MB", 500_000_000),
        ("1.5GiB", 1_610_612_736),
        ("100 MiB", 104_857_600),
        ("2kB", 2000),
        ("2KB", 2000),
        ("3KiB", 3072),
        ("1TB", 10**12),
        ("1TiB", 1024**4),
        ("7GB", 7 * 10**9),
        ("500mb", 500_000_000),
        ("1.5gib", 1_610_612_736),
        ("42", 42),
        ("42B", 42),
        ("0", 0),
        (" 12 MB ", 12_000_000),
        (".5kB", 500),
        ("1.0005kB", 1000),  # fractions of a byte are dropped
        (123, 123),
        (0, 0),
    ],
)
def test_parse_size_accepts(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("500M", "'500M'"),
        ("1.5 G", "'1.5 G'"),
        ("MB", "'MB'"),
        ("", "''"),
        ("-1MB", "'-1MB'"),
        ("1,5GB", "'1,5GB'"),
        ("1e3", "'1e3'"),
        ("5 bytes", "'5 bytes'"),
        ("1.MB", "'1.MB'"),
        (-1, "-1"),
        (True, "True"),
    ],
)
def test_parse_size_refuses(text, shown):
    with pytest.raises(InputError) as info:
        parse_size(text)
    assert str(info.value) == f"{shown} is not a size (expected {VALID})"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0B"),
        (999, "999B"),
        (1000, "1kB"),
        (1024, "1KiB"),
        (1536, "1.5KiB"),
        (500_000_000, "500MB"),
        (1_610_612_736, "1.5GiB"),
        (10**12, "1TB"),
        (1001, "1.001kB"),
        (1_000_001, "1000.001kB"),
    ],
)
def test_format_size(size, text):
    assert format_size(size) == text


@given(st.integers(min_value=0, max_value=10**18))
def test_format_then_parse_round_trips(size):
    assert parse_size(format_size(size)) == size


@given(st.text(max_size=12))
def test_parse_size_returns_int_or_input_error(text):
    with contextlib.suppress(InputError):
        assert parse_size(text) >= 0
