"""Live health checks, the pure part: the image's HEALTHCHECK, the plan, the verdict per round,
the findings; and the config keys and CLI options that ask for it."""

from __future__ import annotations

import json

import pytest

from dockyard.config.model import HealthCheck
from dockyard.errors import InputError
from dockyard.oci.models import parse_config
from dockyard.verify import health
from dockyard.verify.health import ContainerState, Round, decide, plan_health
from dockyard.verify.report import HealthResult

SECOND = 1_000_000_000


def config(healthcheck=None, exposed=None) -> bytes:
    run = {}
    if healthcheck is not None:
        run["Healthcheck"] = healthcheck
    if exposed is not None:
        run["ExposedPorts"] = {p: {} for p in exposed}
    doc = {
        "os": "linux",
        "architecture": "amd64",
        "config": run,
        "rootfs": {"type": "layers", "diff_ids": []},
    }
    return json.dumps(doc).encode()


CMD = {
    "Test": ["CMD", "/app/api", "-healthcheck"],
    "Timeout": 3 * SECOND,
    "Retries": 2,
    "StartPeriod": 40 * SECOND,
}


def test_the_images_healthcheck_with_dockers_defaults():
    hc = health.image_healthcheck(CMD)
    assert (hc.argv, hc.timeout, hc.start_period, hc.retries) == (
        ("/app/api", "-healthcheck"),
        3.0,
        40.0,
        2,
    )
    shell = health.image_healthcheck({"Test": ["CMD-SHELL", "wget -q localhost"]})
    assert (shell.argv, shell.timeout, shell.retries) == (
        ("/bin/sh", "-c", "wget -q localhost"),
        30.0,
        3,
    )
    assert health.image_healthcheck({"Test": ["NONE"]}).argv == ()
    assert health.image_healthcheck(None).argv == ()


def test_exposed_tcp_ports():
    assert health.exposed_tcp_ports(config(exposed=["8080/tcp", "53/udp", "9090"])) == (8080, 9090)
    assert health.exposed_tcp_ports(config()) == ()
    assert health.exposed_tcp_ports(b"not json") == ()


def test_the_plan_takes_the_only_exposed_port_and_the_longer_grace():
    plan, problem = plan_health(
        HealthCheck(http="/health"), parse_config(config(CMD, ["8080/tcp"])), emulated=False
    )
    assert problem == ""
    assert (plan.port, plan.http, plan.retries, plan.grace) == (
        8080,
        "/health",
        2,
        40.0,
    )  # StartPeriod 40 s
    plan, _ = plan_health(
        HealthCheck(), parse_config(config({"Test": ["CMD", "true"]})), emulated=True
    )
    assert (plan.port, plan.grace) == (
        None,
        health.EMULATED_START_GRACE,
    )  # no probe, nothing published
    plan, _ = plan_health(
        HealthCheck(timeout=5), parse_config(config({"Test": ["CMD", "true"]})), emulated=False
    )
    assert plan.grace == 5  # never past the deadline


def test_nothing_to_check_or_no_port_is_said():
    plan, problem = plan_health(HealthCheck(), parse_config(config()), emulated=False)
    assert plan is None and "no HEALTHCHECK and no health-http" in problem
    plan, problem = plan_health(
        HealthCheck(http="/h"), parse_config(config(exposed=["1/tcp", "2/tcp"])), emulated=False
    )
    assert (
        plan is None
        and problem == "health-http needs one port and the image EXPOSEs 1, 2 (set health-port)"
    )
    plan, _ = plan_health(
        HealthCheck(http="/h", port=3),
        parse_config(config(exposed=["1/tcp", "2/tcp"])),
        emulated=False,
    )
    assert plan.port == 3


RUNNING = ContainerState(running=True, exit_code=None)


def _plan(**kw):
    check = HealthCheck(**{"http": "/health", "port": 80, "timeout": 60.0, **kw})
    plan, _ = plan_health(check, parse_config(config({"Test": ["CMD", "check"]})), emulated=False)
    return plan


def test_healthy_needs_the_healthcheck_and_the_probe_in_one_round():
    plan = _plan()
    assert decide(plan, []) == health.PENDING
    assert decide(plan, [Round(0.5, RUNNING, True, None)]) == health.PENDING  # no HTTP answer yet
    assert decide(plan, [Round(0.5, RUNNING, False, 200)]) == health.PENDING
    assert decide(plan, [Round(0.5, RUNNING, True, 503)]) == health.PENDING
    assert decide(plan, [Round(0.5, RUNNING, True, 204)]) == health.HEALTHY


def test_failures_count_only_after_the_grace_and_in_a_row():
    plan = _plan()  # grace START_GRACE (10 s), retries 3
    early = [Round(t, RUNNING, False, None) for t in (1, 2, 3, 4, 5)]
    assert decide(plan, early) == health.PENDING
    late = [*early, Round(11, RUNNING, False, None), Round(12, RUNNING, False, None)]
    assert decide(plan, late) == health.PENDING
    assert decide(plan, [*late, Round(13, RUNNING, False, None)]) == health.UNHEALTHY
    # A round counts as failed when either part fails (here the probe got no answer).
    half = [*late, Round(13, RUNNING, True, None)]
    assert decide(plan, half) == health.UNHEALTHY


def test_an_exited_container_and_the_deadline():
    plan = _plan(timeout=5.0)
    gone = ContainerState(running=False, exit_code=2)
    assert decide(plan, [Round(1, gone, None, None)]) == health.EXITED
    # The grace is the whole deadline here: the failures never count, the deadline ends it.
    assert decide(plan, [Round(4, RUNNING, False, None)]) == health.PENDING
    assert (
        decide(plan, [Round(4, RUNNING, False, None), Round(5, RUNNING, False, None)])
        == health.TIMEOUT
    )


def test_failure_messages_name_the_check_and_the_probe():
    plan = _plan()
    failing = ContainerState(True, None, check_output="connecting...\nconnection refused\n")
    rounds = [Round(t, failing, False, 500) for t in (11, 12, 13)]
    message = health.failure_message(plan, health.UNHEALTHY, rounds, "http://127.0.0.1:1/health")
    assert message == (
        "unhealthy after 3 failed rounds past the start grace: HEALTHCHECK 'check' failed: "
        "connection refused; GET http://127.0.0.1:1/health: HTTP 500"
    )
    exited = [Round(1, ContainerState(False, 3), None, None)]
    assert (
        health.failure_message(plan, health.EXITED, exited, "")
        == "the container exited with status 3"
    )


def test_parse_state_reads_podmans_inspect():
    doc = [
        {
            "State": {
                "Status": "running",
                "ExitCode": 0,
                "Health": {"Log": [{"ExitCode": 1, "Output": "nope"}]},
            }
        }
    ]
    assert health.parse_state(json.dumps(doc).encode()) == ContainerState(True, None, "nope")
    doc = [{"State": {"Status": "exited", "ExitCode": 7}}]
    assert health.parse_state(json.dumps(doc).encode()) == ContainerState(False, 7, "")
    assert health.parse_state(b"[]") == ContainerState(False, None)


def test_findings_carry_the_log_tail():
    bad = HealthResult(
        "exited", 1.0, message="the container exited with status 3", logs="a\nb\nc\nd\n"
    )
    (finding,) = health.health_findings("linux/amd64", bad)
    assert (finding.rule, finding.severity) == ("health.exited", "error")
    assert finding.message == "the container exited with status 3; container log: b | c | d"
    assert finding.detail["logs"] == "a\nb\nc\nd\n"
    good = HealthResult(
        "healthy", 2.0, emulated=True, http_url="http://127.0.0.1:9/health", http_status=200
    )
    (finding,) = health.health_findings("linux/arm64", good)
    assert (finding.rule, finding.severity) == ("health.ok", "info")
    assert (
        finding.message
        == "healthy after 2.0 s under emulation, http://127.0.0.1:9/health answered 200"
    )
    assert (
        health.health_findings("p", HealthResult("error", 0, message="x"))[0].rule
        == "health.failed"
    )
    assert (
        health.health_findings("p", HealthResult("timeout", 0, message="x"))[0].rule
        == "health.timeout"
    )


# ------------------------------------------------------------------ config and CLI


def _load(tmp_path, target_lines: str):
    from dockyard.config.loader import load_config

    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "dockyard.toml").write_text(
        '[project]\nname = "p"\n[targets.api]\ncontext = "."\n' + target_lines
    )
    return load_config(tmp_path / "dockyard.toml")


def test_config_keys(tmp_path):
    assert _load(tmp_path, "").targets["api"].health is None
    assert _load(tmp_path, "health = true\n").targets["api"].health == HealthCheck()
    got = _load(tmp_path, 'health-http = "/health"\nhealth-port = 8080\nhealth-timeout = "2m"\n')
    assert got.targets["api"].health == HealthCheck(http="/health", port=8080, timeout=120.0)
    assert _load(tmp_path, "health-timeout = 45\n").targets["api"].health == HealthCheck(
        timeout=45.0
    )
    assert _load(tmp_path, "health = false\n").targets["api"].health is None


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ('health = "yes"\n', "targets.api.health: expected true or false, got a string"),
        (
            'health-http = "health"\n',
            "targets.api.health-http: 'health' is not an HTTP path (expected a path starting with '/', e.g. /health)",
        ),
        (
            "health-port = 0\n",
            "targets.api.health-port: 0 is out of range (expected an integer from 1 to 65535)",
        ),
        (
            'health-http = "/h"\nhealth-port = "80"\n',
            "targets.api.health-port: expected an integer from 1 to 65535, got a string",
        ),
        (
            "health-port = 80\n",
            "targets.api.health-port: set without health-http (the port is where health-http is probed)",
        ),
        (
            'health-timeout = "soon"\n',
            "targets.api.health-timeout: 'soon' is not a duration (expected a duration such as 90s, 30m, 1h or 1h30m (a bare number is seconds))",
        ),
        (
            'health-timeout = "2h"\n',
            "targets.api.health-timeout: 7200 s is too long (expected at most 3600 s, 1h)",
        ),
        (
            'health = false\nhealth-http = "/h"\n',
            "targets.api.health-http: set while health = false (remove it, or set health = true)",
        ),
        ("helth = true\n", "targets.api.helth: unknown key (did you mean 'health'?)"),
    ],
)
def test_config_errors_are_one_line_naming_the_field(tmp_path, lines, error):
    with pytest.raises(InputError) as caught:
        _load(tmp_path, lines)
    message = str(caught.value)
    assert message.endswith(error), message
    assert "\n" not in message


def test_cli_options():
    from dockyard.config.healthtable import health_from_flags as health_option

    assert health_option(False, None, None, None) is None
    assert health_option(True, None, None, None) == HealthCheck()
    assert health_option(False, "/health", 8080, "90s") == HealthCheck(
        http="/health", port=8080, timeout=90.0
    )
    with pytest.raises(InputError, match=r"^--health-http 'x': expected a path starting with '/'"):
        health_option(False, "x", None, None)
    with pytest.raises(InputError, match=r"^--health-port: given without --health-http"):
        health_option(True, None, 80, None)
    with pytest.raises(InputError, match=r"^--health-timeout: 'later' is not a duration"):
        health_option(True, None, None, "later")


def test_release_verifies_a_target_with_its_health_check_and_the_plan_shows_it(tmp_path):
    from datetime import UTC, datetime

    from dockyard.context import GitContext
    from dockyard.plan.model import make_plan
    from dockyard.platform import parse_platform
    from dockyard.publish.records import target_settings, verify_options

    cfg = _load(tmp_path, 'health-http = "/health"\nhealth-timeout = "90s"\n')
    plan = make_plan(
        cfg, GitContext(), build_platform=parse_platform("linux/amd64"), now=datetime.now(UTC)
    )
    (target,) = plan.targets
    assert verify_options(target).health == HealthCheck(http="/health", timeout=90.0)
    assert target_settings(target)["verify"]["health"] == {
        "http": "/health",
        "port": None,
        "timeout": 90.0,
    }
    assert plan.to_json()["targets"][0]["health"] == {
        "http": "/health",
        "port": None,
        "timeout": 90.0,
    }


def test_a_bad_health_flag_exits_2_with_one_line(tmp_path):
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dockyard",
            "verify",
            f"oci:{tmp_path}/none:t",
            "--health-http",
            "health",
        ],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: --health-http 'health': expected a path starting with '/', e.g. /health"
    ]
