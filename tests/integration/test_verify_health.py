"""Live health checks with real podman (runc) on real busybox images: a failing HEALTHCHECK
with its log tail, /health served on arm64 under qemu, nothing left behind (also on a
timeout and on Ctrl-C), and no way from the container to the host's 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dockyard.config.model import HealthCheck
from dockyard.digest import sha256_digest
from dockyard.emulation import binfmt_status
from dockyard.oci.fetch import child_manifest, read_config
from dockyard.oci.imports import ImageSettings
from dockyard.platform import parse_platform
from dockyard.verify.healthrun import HealthSession
from tests.helpers.verifyimages import import_busybox

pytestmark = pytest.mark.integration

BB = "/bin/busybox"
# A web server on the container's port 8080 whose /health is a file; busybox httpd, the
# image's only program. Its HEALTHCHECK fetches /health from inside, over the container's
# own loopback.
SERVE = ImageSettings(
    entrypoint=(BB, "sh", "-c", f"{BB} mkdir -p /tmp/www && echo ok > /tmp/www/health && "
                f"echo serving on $({BB} uname -m) && exec {BB} httpd -f -v -p 8080 -h /tmp/www"),
    user="1000",
    healthcheck=f"{BB} wget -q -O- http://127.0.0.1:8080/health",
)  # fmt: skip
# Runs, logs a line, and its HEALTHCHECK always fails.
FAILING = ImageSettings(
    entrypoint=(BB, "sh", "-c", f"echo service up on $({BB} uname -m); echo cannot reach the db; "
                f"while :; do {BB} sleep 1; done"),
    user="1000",
    healthcheck="echo probe says no; exit 1",
)  # fmt: skip


def _needs_qemu(platform: str) -> None:
    # make test enables binfmt (scripts/setup-system.sh): a missing interpreter is a
    # broken machine, said out loud rather than skipped.
    status = binfmt_status(parse_platform(platform))
    assert status.ok, status.problem


def _dockyard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, env=os.environ.copy(), timeout=600, check=False,
    )  # fmt: skip


def _containers(session: HealthSession) -> list[str]:
    done = subprocess.run(
        [*session.podman_args(), "ps", "--all", "--format", "{{.Names}}"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout.split()


def _config(store, result, platform: str):
    image = next(i for i in result.images if str(i.platform) == platform)
    manifest = child_manifest(store, image.manifest)
    return read_config(store, manifest)


@pytest.fixture(scope="module")
def serving(tmp_path_factory):
    return import_busybox(tmp_path_factory.mktemp("health"), (("linux/amd64", "amd64"), ("linux/arm64", "arm64")),
                          settings=SERVE)  # fmt: skip


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    return import_busybox(tmp_path_factory.mktemp("failing"), (("linux/amd64", "amd64"),), settings=FAILING)


def test_an_image_serving_health_passes_natively_and_on_arm64_under_qemu(serving):
    _needs_qemu("linux/arm64")
    location, _, _ = serving
    done = _dockyard("verify", location, "--health-http", "/health", "--health-port", "8080", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    results = {p["platform"]: p["health"] for p in doc["platforms"]}
    assert {p: (r["status"], r["emulated"], r["http_status"]) for p, r in results.items()} == {
        "linux/amd64": ("healthy", False, 200),
        "linux/arm64": ("healthy", True, 200),
    }
    assert all(r["healthcheck"] == ["/bin/sh", "-c", f"{BB} wget -q -O- http://127.0.0.1:8080/health"]
               for r in results.values())  # fmt: skip
    assert all(r["http_url"].startswith("http://127.0.0.1:") for r in results.values())
    assert [f["rule"] for f in doc["findings"] if f["rule"].startswith("health.")] == ["health.ok"] * 2


def test_a_failing_healthcheck_exits_1_with_its_log_tail(failing):
    location, _, _ = failing
    done = _dockyard("verify", location, "--health", "--health-timeout", "2m")
    assert done.returncode == 1
    # The one error line names the rule; the table row gives the check's output and the log tail.
    assert "health.unhealthy" in done.stderr
    flat = " ".join(done.stderr.split())
    assert "HEALTHCHECK '/bin/sh -c echo probe says no; exit 1' failed: probe says no" in flat
    assert "container log: service up on x86_64 | cannot reach the db" in flat


def test_no_container_is_left_behind_after_a_failure_or_a_timeout(failing):
    _, store, result = failing
    config = _config(store, result, "linux/amd64")
    with HealthSession() as session:
        location = f"oci:{store.path}:t"
        failed = session.run(location, platform=parse_platform("linux/amd64"), config=config,
                             check=HealthCheck(timeout=3.0), expected=sha256_digest(config.raw))  # fmt: skip
        assert failed.status == "timeout", failed
        assert failed.message.startswith("not healthy within 3 s: HEALTHCHECK")
        assert "cannot reach the db" in failed.logs
        assert _containers(session) == []
        root = session.root
    assert not root.exists()  # the private store went with the session


def test_ctrl_c_during_the_wait_still_removes_the_container(failing, monkeypatch):
    _, store, result = failing
    config = _config(store, result, "linux/amd64")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")  # must not reach the container

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    with HealthSession(sleep=interrupt) as session:
        seen: list[dict] = []
        with pytest.raises(KeyboardInterrupt):
            # The first round ran (the container existed then), then the wait was interrupted.
            original = session._check

            def check_and_look(name, plan):
                shown = subprocess.run([*session.podman_args(), "inspect", name], capture_output=True, check=True)
                seen.extend(json.loads(shown.stdout))
                return original(name, plan)

            session._check = check_and_look  # type: ignore[method-assign]
            session.run(f"oci:{store.path}:t", platform=parse_platform("linux/amd64"), config=config,
                        check=HealthCheck(http="/health", port=8080, timeout=60.0))  # fmt: skip
        (running,) = seen
        assert running["Name"].startswith("dockyard-health-")
        host = running["HostConfig"]
        # Its own network namespace, the port on loopback only, the limits and the self-stop.
        assert host["NetworkMode"] == "bridge"
        assert [b["HostIp"] for b in host["PortBindings"]["8080/tcp"]] == ["127.0.0.1"]
        assert (host["Memory"], host["NanoCpus"], host["PidsLimit"]) == (512 * 1024 * 1024, 10**9, 512)
        assert running["Config"]["Timeout"] == 60 + 60
        assert not [e for e in running["Config"]["Env"] if "proxy" in e.lower()]
        assert _containers(session) == []


def test_the_image_started_must_be_the_one_verified(failing):
    _, store, result = failing
    config = _config(store, result, "linux/amd64")
    other = sha256_digest(b"another config")
    with HealthSession() as session:
        got = session.run(f"oci:{store.path}:t", platform=parse_platform("linux/amd64"), config=config,
                          check=HealthCheck(), expected=other)  # fmt: skip
        assert got.status == "error"
        assert got.message == f"podman pulled image {config.digest.hex}, not the verified config {other}"
        assert _containers(session) == []


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"host says hi\n")

    def log_message(self, *args) -> None:
        pass


def test_the_container_cannot_reach_the_hosts_loopback(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # Reachable from here: the server works.
        assert subprocess.run(["curl", "-fs", "--noproxy", "*", f"http://127.0.0.1:{port}/probe"],
                              capture_output=True, check=False).returncode == 0  # fmt: skip
        _Recorder.hits.clear()
        settings = ImageSettings(
            entrypoint=(BB, "sh", "-c", f"while :; do {BB} sleep 1; done"),
            user="1000",
            healthcheck=f"{BB} wget -q -T 2 -O- http://127.0.0.1:{port}/from-the-container",
        )
        location, _, _ = import_busybox(tmp_path, (("linux/amd64", "amd64"),), settings=settings)
        done = _dockyard("verify", location, "--health", "--health-timeout", "4", "--json")
        assert done.returncode == 1
        (platform,) = json.loads(done.stdout)["platforms"]
        assert platform["health"]["status"] == "timeout"
        assert platform["health"]["healthcheck_runs"] >= 1
        assert _Recorder.hits == []  # not one request from the container arrived
    finally:
        server.shutdown()


def test_smoke_runs_have_no_network(tmp_path):
    location, _, _ = import_busybox(tmp_path, (("linux/amd64", "amd64"),))
    done = _dockyard("verify", location, "--smoke-cmd", f'["{BB}", "cat", "/proc/net/dev"]', "--json")
    assert done.returncode == 0, done.stderr
    (platform,) = json.loads(done.stdout)["platforms"]
    interfaces = [line.split(":")[0].strip() for line in platform["smoke"]["output"].splitlines()[2:]]
    assert interfaces == ["lo"]


def test_the_session_store_is_private(tmp_path):
    with HealthSession() as session:
        assert session.root.parent == Path("/tmp") and session.root.name.startswith("dockyard-health-")
        assert Path(session.podman_args()[2]).is_relative_to(session.root)
        assert _containers(session) == []
        root = session.root
    assert not root.exists()


def test_an_image_in_a_registry_is_pulled_by_digest_and_checked(serving, registry):
    _needs_qemu("linux/arm64")
    from dockyard.verify.image import VerifyOptions
    from tests.helpers.locations import copy_location, verify_location

    location, _, _ = serving
    copy_location(location, f"{registry.host}/verify/health:1")
    report = verify_location(
        f"{registry.host}/verify/health:1", expect=VerifyOptions(health=HealthCheck(http="/health", port=8080))
    )
    assert report.ok, report.findings
    assert [(p.platform, p.health.status, p.health.http_status) for p in report.platforms] == [
        ("linux/amd64", "healthy", 200),
        ("linux/arm64", "healthy", 200),
    ]


def test_a_container_that_exits_is_reported_with_its_status_and_log(tmp_path):
    settings = ImageSettings(
        entrypoint=(BB, "sh", "-c", "echo missing DATABASE_URL; exit 3"), user="1000", healthcheck="true"
    )
    location, _, _ = import_busybox(tmp_path, (("linux/amd64", "amd64"),), settings=settings)
    done = _dockyard("verify", location, "--health", "--json")
    assert done.returncode == 1
    (platform,) = json.loads(done.stdout)["platforms"]
    assert (platform["health"]["status"], platform["health"]["exit_code"]) == ("exited", 3)
    assert "missing DATABASE_URL" in platform["health"]["logs"]
    (finding,) = [f for f in json.loads(done.stdout)["findings"] if f["rule"].startswith("health.")]
    assert finding["message"] == "the container exited with status 3; container log: missing DATABASE_URL"
