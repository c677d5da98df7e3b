"""doctor's engine rows: version, runtime, rootless readiness and the fix (pure)."""

from __future__ import annotations

import pytest

from dockyard.builder.enginecheck import RootlessCheck, check_engine
from dockyard.builder.engines import EngineFacts, docker_facts, podman_facts
from dockyard.builder.rootless import RootlessUser

CI = RootlessUser("ci", 1001)
READY = RootlessCheck(CI, (), current=True)
MISSING = RootlessCheck(CI, ("newuidmap not found: apt-get install uidmap",), current=True)
PODMAN = EngineFacts(version="4.3.1", runtime="runc")


def test_a_ready_podman_says_version_runtime_and_rootless():
    verdict = check_engine("podman", PODMAN, rootless=READY, runc=True, chosen=True)
    assert (verdict.status, verdict.detail) == (
        "ok",
        "podman 4.3.1, runtime runc; rootless ready for ci",
    )


@pytest.mark.parametrize(
    "current,chosen,status", [(True, True, "fail"), (True, False, "warn"), (False, True, "warn")]
)
def test_rootless_problems_fail_only_the_running_users_chosen_builder(current, chosen, status):
    check = RootlessCheck(CI, MISSING.problems, current=current)
    verdict = check_engine("buildah", PODMAN, rootless=check, runc=True, chosen=chosen)
    assert verdict.status == status
    assert verdict.detail.endswith("; rootless for ci: newuidmap not found: apt-get install uidmap")


def test_podman_without_runc_names_the_package():
    verdict = check_engine("podman", PODMAN, rootless=None, runc=False, chosen=True)
    assert verdict.status == "fail"
    assert (
        "runc not found: dockyard builds with --runtime runc (apt-get install runc)"
        in verdict.detail
    )
    assert verdict.detail.endswith(
        "as root; rootless not checked (--rootless-user NAME checks a user)"
    )


def test_an_engine_that_cannot_be_asked_warns_unless_chosen():
    facts = EngineFacts(error="no Docker engine answers: Cannot connect")
    assert check_engine("docker", facts, rootless=None, runc=True, chosen=False).status == "warn"
    chosen = check_engine("docker", facts, rootless=None, runc=True, chosen=True)
    assert (chosen.status, chosen.detail) == ("fail", "no Docker engine answers: Cannot connect")


def test_docker_reports_rootful_or_rootless_dockerd():
    rootful = docker_facts(
        {
            "ServerVersion": "20.10.24",
            "DefaultRuntime": "runc",
            "SecurityOptions": ["name=seccomp,profile=default"],
        }
    )
    assert (rootful.version, rootful.runtime, rootful.rootless) == ("20.10.24", "runc", False)
    rootless = docker_facts(
        {"ServerVersion": "24.0", "DefaultRuntime": "runc", "SecurityOptions": ["name=rootless"]}
    )
    assert rootless.rootless
    verdict = check_engine("docker", rootful, rootless=READY, runc=True, chosen=False)
    assert verdict.detail == (
        "docker 20.10.24, runtime runc; rootful dockerd (rootless Docker needs Docker's rootless "
        "kit, not in Debian's docker.io)"
    )


def test_docker_info_without_a_daemon_is_an_error():
    facts = docker_facts(
        {"ServerErrors": ["Cannot connect to the Docker daemon at unix:///x.sock"]}
    )
    assert (
        facts.error
        == "no Docker engine answers: Cannot connect to the Docker daemon at unix:///x.sock"
    )


def test_podman_info_fields():
    facts = podman_facts(
        {
            "version": {"Version": "4.3.1"},
            "host": {"ociRuntime": {"name": "crun"}, "security": {"rootless": True}},
        }
    )
    assert facts == EngineFacts(version="4.3.1", runtime="crun", rootless=True)
