"""A target's live health check keys -> HealthCheck (pure; native.py calls it).

    [targets.api]
    health         = true          # start each platform's image and wait until it is healthy
    health-http    = "/health"     # also GET this path on the published port; 2xx passes
    health-port    = 8080          # the container's port health-http probes (default: the image's
                                   # one EXPOSEd TCP port)
    health-timeout = "2m"          # per platform, from start until healthy (default 120 s)

Any of health-http, health-port or health-timeout turns the check on; with
`health = false` they are refused rather than silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockyard.config.durations import parse_duration
from dockyard.config.fields import Fields, key_path
from dockyard.config.model import DEFAULT_HEALTH_TIMEOUT, HealthCheck
from dockyard.errors import InputError

HEALTH_KEYS = ("health", "health-http", "health-port", "health-timeout")
# A deadline beyond an hour is a hung service, not a slow one.
MAX_HEALTH_TIMEOUT = 3600.0
VALID_HTTP_PATH = "a path starting with '/', e.g. /health"


def health_check(fields: Fields, table: Mapping[str, Any], path: str) -> HealthCheck | None:
    """The target's HealthCheck, or None when it asks for none."""
    given = [key for key in HEALTH_KEYS[1:] if key in table]
    enabled = bool(given)
    if "health" in table:
        enabled = fields.boolean(table["health"], key_path(path, "health"))
        if not enabled and given:
            raise fields.error(
                key_path(path, given[0]),
                "set while health = false (remove it, or set health = true)",
            )
    if not enabled:
        return None
    http = ""
    if "health-http" in table:
        http = check_http_path(fields.string(table["health-http"], key_path(path, "health-http")))
        if not http:
            raise fields.error(
                key_path(path, "health-http"),
                f"{table['health-http']!r} is not an HTTP path (expected {VALID_HTTP_PATH})",
            )
    port = None
    if "health-port" in table:
        port = fields.integer(
            table["health-port"], key_path(path, "health-port"), low=1, high=65535
        )
        if not http:
            raise fields.error(
                key_path(path, "health-port"),
                "set without health-http (the port is where health-http is probed)",
            )
    timeout = DEFAULT_HEALTH_TIMEOUT
    if "health-timeout" in table:
        timeout = _timeout(fields, table["health-timeout"], key_path(path, "health-timeout"))
    return HealthCheck(http=http, port=port, timeout=timeout)


def check_http_path(text: str) -> str:
    """`text` if it is an absolute request path (query allowed), else ""."""
    if not text.startswith("/") or text.startswith("//"):
        return ""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in text) or "#" in text:
        return ""
    return text


def _timeout(fields: Fields, value: object, path: str) -> float:
    seconds = fields.duration(value, path, shape="a duration such as 90s, 2m or 1m30s")
    if seconds > MAX_HEALTH_TIMEOUT:
        raise fields.error(
            path, f"{seconds:g} s is too long (expected at most {MAX_HEALTH_TIMEOUT:g} s, 1h)"
        )
    return seconds


def health_from_flags(
    on: bool, http: str | None, port: int | None, timeout: str | None
) -> HealthCheck | None:
    """`verify --health --health-http --health-port --health-timeout` as a HealthCheck (None:
    no live check); the same rules as the config keys, errors naming the flag (exit 2)."""
    if not (on or http is not None or port is not None or timeout is not None):
        return None
    if http is not None and not check_http_path(http):
        raise InputError(f"--health-http {http!r}: expected {VALID_HTTP_PATH}")
    if port is not None and not 1 <= port <= 65535:
        raise InputError(f"--health-port {port}: expected a port from 1 to 65535")
    if port is not None and http is None:
        raise InputError("--health-port: given without --health-http (the port is where it probes)")
    seconds = DEFAULT_HEALTH_TIMEOUT
    if timeout is not None:
        seconds = parse_duration(timeout, what="--health-timeout")
        if seconds > MAX_HEALTH_TIMEOUT:
            raise InputError(
                f"--health-timeout {timeout}: expected at most {MAX_HEALTH_TIMEOUT:g} s"
            )
    return HealthCheck(http=http or "", port=port, timeout=seconds)
