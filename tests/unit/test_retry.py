"""The retry classifier: which failures are retried, how long we wait, when we give up."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.oci.retry import (
    Decision,
    RetryPolicy,
    backoff_delay,
    decide,
    is_retryable,
    parse_retry_after,
    restarts_upload,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
POLICY = RetryPolicy(attempts=3, base_delay=1.0, max_delay=30.0, max_retry_after=60.0, jitter=0.1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("3", 3.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("Sun, 01 Mar 2026 12:00:03 GMT", 3.0),
        ("Sun, 01 Mar 2026 13:00:00 GMT", 3600.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    ("status", "codes", "expected"),
    [
        (None, (), True),
        (408, (), True),
        (429, (), True),
        (500, (), True),
        (502, (), True),
        (503, (), True),
        (504, (), True),
        (501, (), False),
        (507, (), False),
        (400, (), False),
        (401, ("UNAUTHORIZED",), False),
        (403, ("DENIED",), False),
        (404, ("MANIFEST_UNKNOWN",), False),
        (405, ("UNSUPPORTED",), False),
        (412, (), False),
        (400, ("TOOMANYREQUESTS",), True),
    ],
)
def test_is_retryable(status, codes, expected):
    assert is_retryable(status, codes) is expected


@pytest.mark.parametrize(
    ("status", "codes", "expected"),
    [
        (404, ("BLOB_UPLOAD_UNKNOWN",), True),
        (400, ("BLOB_UPLOAD_INVALID",), True),
        (416, ("RANGE_INVALID",), True),
        (416, (), True),
        (404, ("BLOB_UNKNOWN",), False),
        (500, (), False),
    ],
)
def test_restarts_upload(status, codes, expected):
    assert restarts_upload(status, codes) is expected


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (1, 0.5, 1.0),
        (2, 0.5, 2.0),
        (3, 0.5, 4.0),
        (1, 0.0, 0.9),
        (1, 1.0, 1.1),
        (10, 0.5, 30.0),  # capped at max_delay
        (10, 1.0, 33.0),  # jitter applies after the cap
    ],
)
def test_backoff_delay(attempt, rand, expected):
    assert backoff_delay(attempt, POLICY, rand) == pytest.approx(expected)


@given(attempt=st.integers(1, 40), rand=st.floats(0, 1, exclude_max=True))
def test_backoff_is_bounded_and_non_negative(attempt, rand):
    delay = backoff_delay(attempt, POLICY, rand)
    assert 0.0 <= delay <= POLICY.max_delay * (1 + POLICY.jitter)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"attempt": 1, "status": 503},
            Decision(True, 1.0, "HTTP 503: backing off 1.0 s"),
        ),
        (
            {"attempt": 2, "status": None},
            Decision(True, 2.0, "connection error: backing off 2.0 s"),
        ),
        (
            {"attempt": 3, "status": 500},
            Decision(False, 0.0, "HTTP 500 after 3 attempt(s)"),
        ),
        (
            {"attempt": 1, "status": 501},
            Decision(False, 0.0, "HTTP 501 is not temporary"),
        ),
        (
            {"attempt": 1, "status": 404, "codes": ("NAME_UNKNOWN",)},
            Decision(False, 0.0, "HTTP 404 is not temporary"),
        ),
        (
            {"attempt": 1, "status": 429, "retry_after": 3.0},
            Decision(True, 3.0, "HTTP 429: Retry-After 3 s"),
        ),
        (
            {"attempt": 1, "status": 429, "retry_after": 60.0},
            Decision(True, 60.0, "HTTP 429: Retry-After 60 s"),
        ),
        (
            {"attempt": 1, "status": 429, "retry_after": 3600.0},
            Decision(
                False,
                0.0,
                "HTTP 429: registry asks to retry after 3600 s "
                "(more than the 60 s this client waits)",
            ),
        ),
        (
            {"attempt": 3, "status": 429, "retry_after": 3.0},
            Decision(False, 0.0, "HTTP 429 after 3 attempt(s)"),
        ),
    ],
)
def test_decide(kwargs, expected):
    assert decide(policy=POLICY, rand=0.5, **kwargs) == expected


def test_single_attempt_policy_never_retries():
    assert decide(attempt=1, policy=RetryPolicy(attempts=1), status=503).retry is False


def test_policy_refuses_zero_attempts():
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(attempts=0)


@given(seconds=st.integers(0, 10**6))
def test_http_date_and_delta_agree(seconds):
    when = NOW + timedelta(seconds=seconds)
    date = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(date, now=NOW) == parse_retry_after(str(seconds), now=NOW)


def test_policy_from_the_config_retry_table():
    from dockyard.config.model import Retry

    policy = RetryPolicy.from_config(Retry(attempts=5, backoff=0.5, max_delay=10.0))
    assert (policy.attempts, policy.base_delay, policy.max_delay) == (5, 0.5, 10.0)
