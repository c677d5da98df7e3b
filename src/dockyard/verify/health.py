"""Live health checks, the decisions (pure): what to start, when a container is healthy.

verify starts each platform's image (healthrun.py does the I/O with podman),
then polls in rounds: the image's own HEALTHCHECK command, run by the engine
(`podman healthcheck run`; no systemd timer here), and, with `health-http`,
GET http://127.0.0.1:<published port><path> from the host. After each round
`decide` says healthy, unhealthy, exited, timed out, or "keep polling":

- healthy: in one round the HEALTHCHECK passed (or the image has none) and
  the HTTP probe answered 2xx (or none is configured);
- exited: the container stopped (its exit code and log tail are reported);
- unhealthy: `retries` rounds in a row failed after the start grace (the
  image's HEALTHCHECK --retries, default 3, as docker counts them; failures
  during the grace do not count, as docker ignores them in --start-period);
- timeout: the deadline (`health-timeout`) passed without a verdict.

The image's own --interval is not used: it spaces checks of a long-running
service (30 s by default), while verify wants an answer within its deadline,
so rounds are POLL_INTERVAL apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.config.model import HealthCheck
from dockyard.findings import Finding
from dockyard.oci.models import ImageConfig
from dockyard.verify.checks import healthcheck_argv
from dockyard.verify.report import HealthResult

# Seconds between rounds: quick enough to pass a fast service in about a second.
POLL_INTERVAL = 1.0
# Failures before this many seconds do not count (a server is still binding its port);
# the image's --start-period when longer. Under qemu a service starts ~10x slower.
START_GRACE = 10.0
EMULATED_START_GRACE = 30.0
# docker's HEALTHCHECK defaults, used where the image's config leaves a field at 0.
DEFAULT_RETRIES = 3
DEFAULT_CHECK_TIMEOUT = 30.0
# Log lines of a failed container quoted in the finding's one-line message.
MESSAGE_LOG_LINES = 3

HEALTHY, UNHEALTHY, EXITED, TIMEOUT, ERROR, PENDING = (
    "healthy", "unhealthy", "exited", "timeout", "error", "pending",
)  # fmt: skip

_NANOSECONDS = 1e9


@dataclass(frozen=True)
class ImageHealthcheck:
    """The image's HEALTHCHECK as docker stores it in config.Healthcheck (durations in ns)."""

    argv: tuple[str, ...] = ()  # () = none, or HEALTHCHECK NONE
    timeout: float = DEFAULT_CHECK_TIMEOUT  # seconds one check may run
    start_period: float = 0.0
    retries: int = DEFAULT_RETRIES


def image_healthcheck(healthcheck: Mapping[str, Any] | None) -> ImageHealthcheck:
    """The image's HEALTHCHECK, docker's defaults where a field is 0 or missing."""
    argv = healthcheck_argv(healthcheck) or ()
    if not argv:
        return ImageHealthcheck()
    assert healthcheck is not None
    return ImageHealthcheck(
        argv=argv,
        timeout=_seconds(healthcheck.get("Timeout")) or DEFAULT_CHECK_TIMEOUT,
        start_period=_seconds(healthcheck.get("StartPeriod")),
        retries=_count(healthcheck.get("Retries")) or DEFAULT_RETRIES,
    )


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return 0.0
    return value / _NANOSECONDS


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def exposed_tcp_ports(raw_config: bytes) -> tuple[int, ...]:
    """The TCP ports of config.ExposedPorts ("8080/tcp", "8080"), sorted."""
    try:
        doc = json.loads(raw_config)
        exposed = (doc.get("config") or {}).get("ExposedPorts") or {}
    except (ValueError, AttributeError):
        return ()
    ports = set()
    for key in exposed if isinstance(exposed, Mapping) else ():
        number, _, proto = str(key).partition("/")
        if proto in ("", "tcp") and number.isdigit() and 0 < int(number) < 65536:
            ports.add(int(number))
    return tuple(sorted(ports))


@dataclass(frozen=True)
class HealthPlan:
    """How one platform's container is checked."""

    healthcheck: ImageHealthcheck
    http: str  # the path probed; "" = no probe
    port: int | None  # the container port published on 127.0.0.1 (only with a probe)
    timeout: float  # the deadline, seconds from the container's start
    grace: float  # failures before this do not count
    retries: int
    poll: float = POLL_INTERVAL


def plan_health(
    check: HealthCheck, config: ImageConfig, *, emulated: bool
) -> tuple[HealthPlan | None, str]:
    """(plan, "") or (None, why nothing can be checked)."""
    healthcheck = image_healthcheck(config.healthcheck)
    if not healthcheck.argv and not check.http:
        return None, (
            "nothing to wait for: the image has no HEALTHCHECK and no health-http path is set"
        )
    port = None
    if check.http:
        port = check.port
        if port is None:
            exposed = exposed_tcp_ports(config.raw)
            if len(exposed) != 1:
                shown = ", ".join(map(str, exposed)) or "none"
                return None, (
                    f"health-http needs one port and the image EXPOSEs {shown} (set health-port)"
                )
            port = exposed[0]
    grace = max(healthcheck.start_period, EMULATED_START_GRACE if emulated else START_GRACE)
    return HealthPlan(
        healthcheck=healthcheck,
        http=check.http,
        port=port,
        timeout=check.timeout,
        grace=min(grace, check.timeout),
        retries=healthcheck.retries,
    ), ""


# ------------------------------------------------------------------ rounds


@dataclass(frozen=True)
class ContainerState:
    """What `podman inspect` says of the container (parse_state)."""

    running: bool
    exit_code: int | None  # when it is not running
    check_output: str = ""  # the last HEALTHCHECK run's output


def parse_state(inspect_json: bytes) -> ContainerState:
    """The state of `podman inspect --type container NAME` output (a list of one object)."""
    try:
        doc = json.loads(inspect_json)
        state = doc[0]["State"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ContainerState(running=False, exit_code=None)
    running = state.get("Status") == "running"
    code = state.get("ExitCode")
    # podman 4 names it Health (docker's name) and, in older releases, Healthcheck.
    health = state.get("Health") or state.get("Healthcheck") or {}
    log = health.get("Log") if isinstance(health, Mapping) else None
    last = log[-1] if isinstance(log, list) and log else {}
    output = last.get("Output", "") if isinstance(last, Mapping) else ""
    return ContainerState(
        running=running,
        exit_code=None if running or not isinstance(code, int) else code,
        check_output=output if isinstance(output, str) else "",
    )


@dataclass(frozen=True)
class Round:
    """One poll: the container's state, the HEALTHCHECK's result, the HTTP probe's status."""

    at: float  # seconds since the container started
    state: ContainerState
    check_ok: bool | None = None  # None: the image has no HEALTHCHECK
    http_status: int | None = None  # None: no answer (or no probe)

    def passed(self, plan: HealthPlan) -> bool:
        check = self.check_ok is not False if plan.healthcheck.argv else True
        http = _is_2xx(self.http_status) if plan.http else True
        return self.state.running and check and http


def _is_2xx(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def decide(plan: HealthPlan, rounds: Sequence[Round]) -> str:
    """HEALTHY, EXITED, UNHEALTHY, TIMEOUT, or PENDING (poll again) after `rounds`."""
    if not rounds:
        return PENDING
    last = rounds[-1]
    if not last.state.running:
        return EXITED
    if last.passed(plan):
        return HEALTHY
    failing = 0
    for one in reversed(rounds):
        if one.at < plan.grace or one.passed(plan):
            break
        failing += 1
    if failing >= plan.retries:
        return UNHEALTHY
    if last.at >= plan.timeout:
        return TIMEOUT
    return PENDING


def failure_message(plan: HealthPlan, status: str, rounds: Sequence[Round], url: str) -> str:
    """Why the check failed, one line (the log tail is added by health_findings)."""
    last = rounds[-1] if rounds else None
    if status == EXITED:
        code = last.state.exit_code if last else None
        return "the container exited" + (f" with status {code}" if code is not None else "")
    parts = []
    if plan.healthcheck.argv and last is not None and last.check_ok is False:
        said = _last_line(last.state.check_output)
        parts.append(
            f"HEALTHCHECK '{' '.join(plan.healthcheck.argv)}' failed"
            + (f": {said}" if said else "")
        )
    if plan.http and last is not None and not _is_2xx(last.http_status):
        got = "no answer" if last.http_status is None else f"HTTP {last.http_status}"
        parts.append(f"GET {url}: {got}")
    what = "; ".join(parts) or "not healthy"
    if status == UNHEALTHY:
        return f"unhealthy after {plan.retries} failed rounds past the start grace: {what}"
    return f"not healthy within {plan.timeout:g} s: {what}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


# ------------------------------------------------------------------ findings


def health_findings(platform: str, result: HealthResult) -> list[Finding]:
    """health.ok (info) or one error: health.unhealthy/.exited/.timeout/.failed."""
    detail = result.to_json()
    if result.ok:
        how = " under emulation" if result.emulated else ""
        probed = f", {result.http_url} answered {result.http_status}" if result.http_url else ""
        message = f"healthy after {result.seconds:.1f} s{how}{probed}"
        return [Finding("health.ok", "info", platform, "/", message, detail)]
    rule = {UNHEALTHY: "health.unhealthy", EXITED: "health.exited", TIMEOUT: "health.timeout"}.get(
        result.status, "health.failed"
    )
    message = result.message + _log_tail(result.logs)
    return [Finding(rule, "error", platform, "/", message, detail)]


def _log_tail(logs: str) -> str:
    lines = [line.strip() for line in logs.splitlines() if line.strip()]
    if not lines:
        return ""
    return "; container log: " + " | ".join(lines[-MESSAGE_LOG_LINES:])


def health_no_emulation(platform: str, problem: str) -> Finding:
    return Finding("health.no-emulation", "error", platform, "/", problem)
