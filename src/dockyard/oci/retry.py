"""When to retry a registry request, and how long to wait (pure: no I/O, no clock).

One classifier for every request the registry client makes (reliability.md,
"What this means for publish"):

- retried: transport errors (connection refused/reset, timeouts, truncated
  bodies) and HTTP 408, 429, 500, 502, 503, 504;
- never retried: 501 (not implemented), 507, 4xx other than 408/429 (401 gets
  one re-authentication from the auth flow, not from here);
- `Retry-After` (delta-seconds or an HTTP-date) is honoured up to a cap; a
  registry asking for a longer wait makes us fail fast, naming the wait;
- otherwise exponential backoff with jitter, so parallel transfers that failed
  together do not come back together.

The caller supplies the clock (`now`) and the randomness (`rand` in [0, 1)),
which keeps this module deterministic under test.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.config.model import Retry

# Statuses a registry or a proxy in front of it uses for "try again".
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# Upload-session errors: the session is gone or confused; the whole upload
# restarts with a new session (POST) rather than retrying the same request.
RESTART_UPLOAD_CODES = frozenset({"BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID", "RANGE_INVALID"})

# Spec error codes that mean "overloaded, come back later" whatever the status.
RETRYABLE_CODES = frozenset({"TOOMANYREQUESTS"})


@dataclass(frozen=True)
class RetryPolicy:
    """How persistent the client is. `attempts` comes from config `[retry] attempts`."""

    # Total tries of one request (or one whole blob upload), first one included:
    # 3 is what go-containerregistry and containers/common settle on.
    attempts: int = 3
    # First backoff; doubles per attempt (1 s, 2 s, 4 s, ...).
    base_delay: float = 1.0
    # No single backoff sleep exceeds this.
    max_delay: float = 30.0
    # A Retry-After above this is not waited for: fail fast and say how long
    # the registry wanted (containers/image caps each sleep at 60 s).
    max_retry_after: float = 60.0
    # +/- this fraction of the delay, drawn from `rand`.
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")

    @classmethod
    def from_config(cls, retry: Retry) -> RetryPolicy:
        """dockyard.toml's [retry] table as a policy."""
        return cls(attempts=retry.attempts, base_delay=retry.backoff, max_delay=retry.max_delay)


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt: retry after `delay` seconds, or stop."""

    retry: bool
    delay: float
    # Human reason, for the log line and for the final error message.
    reason: str


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None if absent/invalid.

    A date in the past means 0. Negative or garbage values are ignored (None):
    a broken header must not turn into an unbounded or negative sleep.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def waited(seconds: float | None, header: str | None, policy: RetryPolicy, who: str) -> str:
    """`; the registry asks to wait 3600 s (more than ...)` for a final error, or "".

    A 503 or 429 that gave up should say the wait, so the user knows whether to
    re-run now or in an hour.
    """
    if seconds is None:
        return f"; the {who} asks to wait {header.strip()[:40]}" if header and header.strip() else ""
    text = f"; the {who} asks to wait {seconds:.0f} s (Retry-After)"
    if seconds > policy.max_retry_after:
        text += f", more than the {policy.max_retry_after:.0f} s this client waits"
    return text


def is_retryable(status: int | None, codes: Iterable[str] = ()) -> bool:
    """True for the statuses/codes that mean "temporary". `status=None` is a transport error."""
    if status is None:
        return True
    if status in RETRYABLE_STATUSES:
        return True
    return any(code in RETRYABLE_CODES for code in codes)


def restarts_upload(status: int | None, codes: Iterable[str] = ()) -> bool:
    """True when an upload session is lost and the upload must start over with a new POST."""
    return status == 416 or any(code in RESTART_UPLOAD_CODES for code in codes)


def backoff_delay(attempt: int, policy: RetryPolicy, rand: float) -> float:
    """Sleep before attempt `attempt + 1` (attempt is 1-based): base * 2^(n-1), capped, jittered."""
    raw = min(policy.max_delay, policy.base_delay * (2 ** (attempt - 1)))
    spread = raw * policy.jitter * (2.0 * rand - 1.0)
    return max(0.0, raw + spread)


def decide(
    *,
    attempt: int,
    policy: RetryPolicy,
    status: int | None = None,
    codes: Iterable[str] = (),
    retry_after: float | None = None,
    rand: float = 0.5,
) -> Decision:
    """Whether to try again after failed attempt number `attempt` (1-based).

    `status=None` means the request never got an HTTP answer (transport error).
    """
    codes = tuple(codes)
    what = "connection error" if status is None else f"HTTP {status}"
    if not is_retryable(status, codes):
        return Decision(False, 0.0, f"{what} is not temporary")
    if attempt >= policy.attempts:
        return Decision(False, 0.0, f"{what} after {attempt} attempt(s)")
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            return Decision(
                False,
                0.0,
                f"{what}: registry asks to retry after {retry_after:.0f} s "
                f"(more than the {policy.max_retry_after:.0f} s this client waits)",
            )
        return Decision(True, retry_after, f"{what}: Retry-After {retry_after:.0f} s")
    delay = backoff_delay(attempt, policy, rand)
    return Decision(True, delay, f"{what}: backing off {delay:.1f} s")
