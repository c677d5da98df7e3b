"""Live health checks, the I/O: start a platform's image with podman, poll it, remove it.

One HealthSession is one private podman store (`--root`, `--runroot`,
`--tmpdir` in a fresh /tmp/dockyard-health-<hex>, vfs driver): the user's
images and containers are never touched, and the directory is removed at the
end. Per platform, `run`:

1. `podman pull --platform P IMAGE` (a layout through smoke's name-safe
   link, or a registry by digest) and checks that the image id is the config
   digest verify read: checking another image proves nothing;
2. `podman run -d` under runc, in its own network namespace on podman's
   bridge (not the host's network: the host's 127.0.0.1 is not the
   container's), the probed port published on 127.0.0.1 only, no proxy
   variables, memory/CPU/pids limits, and a `--timeout` past the deadline so
   even a killed dockyard leaves no container running for long; the image's
   HEALTHCHECK is passed as --health-cmd (podman reads it only from
   Docker-format configs) with no timer (there is no systemd here);
3. rounds (health.decide): `podman healthcheck run`, `podman inspect`, and
   the HTTP probe from the host, until a verdict or the deadline;
4. on failure, `podman logs --tail`; ALWAYS `podman rm -f` (also on a
   timeout or Ctrl-C), and the session's exit removes anything left.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import resource
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from dockyard.config.model import HealthCheck
from dockyard.digest import Digest, sha256_digest
from dockyard.emulation import binfmt_status
from dockyard.errors import OperationError
from dockyard.findings import Finding
from dockyard.oci.certdir import write_cert_dir
from dockyard.oci.models import ImageConfig
from dockyard.platform import Platform
from dockyard.verify import health
from dockyard.verify.health import HealthPlan, Round
from dockyard.verify.report import HealthResult, cap_output
from dockyard.verify.smoke import SESSION_ROOT, name_safe

# pull/run/rm/inspect on a private store take a second; a registry pull longer.
SETUP_TIMEOUT = 600.0
# Limits of the container: a service that needs more to answer a health check is broken
# (qemu itself counts against the memory).
MEMORY = "512m"
CPUS = "1"
PIDS = 512
# The most one HTTP probe waits for an answer (qemu is slow, a probe is not a benchmark).
PROBE_TIMEOUT = 5.0
# Bytes of a probe's body read (and dropped): the status is the answer.
PROBE_BODY_CAP = 64 * 1024
# The container stops itself this long after the deadline if dockyard could not remove it.
SELF_STOP_SLACK = 60
LOG_LINES = 50
# ulimits of the container, at most this process's hard limits. Checked here: runc refused
# nproc at this host's hard limit (96362: "error setting rlimit type 6") and took 32768.
MAX_FILES = 65536
MAX_PROCS = 32768
# Attempts at publishing on a free loopback port (another process may take the one we found).
PORT_ATTEMPTS = 3


@dataclass(frozen=True)
class HealthOptions:
    tls_verify: bool = True  # False for a loopback or --insecure-registry registry
    ca_cert: str | None = None  # --ca-cert: trusted by podman's pull too (--cert-dir)
    podman: str = "podman"
    runtime: str = "runc"  # crun fails on this host's hybrid cgroups
    storage_driver: str = "vfs"


Clock = Callable[[], float]
Sleep = Callable[[float], None]


class HealthSession:
    """A private podman store for one verify run; use as a context manager."""

    def __init__(
        self,
        options: HealthOptions = HealthOptions(),
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.options = options
        self._clock = clock
        self._sleep = sleep
        self._dir: Path | None = None
        self._links: dict[str, Path] = {}
        self._certs: Path | None = None

    def __enter__(self) -> HealthSession:
        for tool, package in ((self.options.podman, "podman"), (self.options.runtime, "runc")):
            if shutil.which(tool) is None:
                raise OperationError(
                    f"live health checks need {tool}, not on PATH (apt-get install {package})"
                )
        self._dir = SESSION_ROOT / f"dockyard-health-{secrets.token_hex(8)}"
        self._dir.mkdir(mode=0o700)
        if self.options.ca_cert:
            self._certs = write_cert_dir(self.options.ca_cert, self._dir / "certs")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._dir is None:
            return
        # run() removes its container; this catches any an interruption left.
        self._podman("rm", "--all", "--force", "--time", "0", check=False)
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None

    @property
    def root(self) -> Path:
        """The session's directory (its podman store is under it)."""
        assert self._dir is not None, "HealthSession used outside 'with'"
        return self._dir

    def podman_args(self) -> list[str]:
        """podman with the session's private store: `podman_args() + ["ps", "-a"]`."""
        return [
            self.options.podman,
            "--root", str(self.root / "root"),
            "--runroot", str(self.root / "run"),
            "--tmpdir", str(self.root / "tmp"),
            "--storage-driver", self.options.storage_driver,
            "--runtime", self.options.runtime,
            "--cgroup-manager", "cgroupfs",
            "--events-backend", "none",
        ]  # fmt: skip

    # ------------------------------------------------------------ one platform

    def run(
        self,
        image: str,
        *,
        platform: Platform,
        config: ImageConfig,
        check: HealthCheck,
        expected: Digest | None = None,
        emulated: bool = False,
    ) -> HealthResult:
        """Start `platform`'s image of `image` (`oci:DIR[:TAG]` or `docker://...`) and check it."""
        plan, problem = health.plan_health(check, config, emulated=emulated)
        if plan is None:
            return HealthResult(health.ERROR, 0.0, emulated=emulated, message=problem)
        started = self._clock()

        def failed(message: str) -> HealthResult:
            return HealthResult(
                health.ERROR, self._clock() - started, emulated=emulated,
                healthcheck=plan.healthcheck.argv, message=message,
            )  # fmt: skip

        image_id, problem = self._pull(image, platform, expected)
        if not image_id:
            return failed(problem)
        name = f"dockyard-health-{secrets.token_hex(6)}"
        try:
            host_port, problem = self._start(name, image_id, plan)
            if problem:
                return failed(problem)
            return self._poll(name, plan, host_port, emulated)
        finally:
            self._podman("rm", "--force", "--time", "0", name, check=False)

    def _pull(self, image: str, platform: Platform, expected: Digest | None) -> tuple[str, str]:
        """(image id, "") or ("", why)."""
        pull = ["pull", "--quiet", "--platform", str(platform)]
        if not self.options.tls_verify:
            pull.append("--tls-verify=false")
        if self._certs is not None:
            pull += ["--cert-dir", str(self._certs)]
        done = self._podman(*pull, name_safe(image, self.root, self._links), check=False)
        if done.returncode != 0:
            return "", f"podman pull {image} failed: {_last_line(done.stderr)}"
        image_id = done.stdout.decode().strip().splitlines()[-1]
        if expected is not None and image_id != expected.hex:
            return "", f"podman pulled image {image_id}, not the verified config {expected}"
        return image_id, ""

    def _start(self, name: str, image_id: str, plan: HealthPlan) -> tuple[int | None, str]:
        """(host port published or None, "") once the container runs, or (None, why not)."""
        for _ in range(PORT_ATTEMPTS):
            host_port = _free_port() if plan.port is not None else None
            done = self._podman(*_run_args(name, image_id, plan, host_port), check=False)
            if done.returncode == 0:
                return host_port, ""
            self._podman("rm", "--force", "--time", "0", name, check=False)
            if b"address already in use" not in done.stderr:
                break
        return None, f"podman run failed: {_last_line(done.stderr)}"

    def _poll(
        self, name: str, plan: HealthPlan, host_port: int | None, emulated: bool
    ) -> HealthResult:
        url = f"http://127.0.0.1:{host_port}{plan.http}" if host_port is not None else ""
        started = self._clock()
        rounds: list[Round] = []
        status = health.PENDING
        while status == health.PENDING:
            if rounds:
                self._sleep(plan.poll)
            check_ok = self._check(name, plan) if plan.healthcheck.argv else None
            state = health.parse_state(
                self._podman("inspect", "--type", "container", name, check=False).stdout
            )
            code = _probe(host_port, plan.http) if host_port is not None and state.running else None
            rounds.append(Round(self._clock() - started, state, check_ok, code))
            status = health.decide(plan, rounds)
        last = rounds[-1]
        logs, truncated = ("", False) if status == health.HEALTHY else self._logs(name)
        return HealthResult(
            status=status,
            seconds=last.at,
            emulated=emulated,
            healthcheck=plan.healthcheck.argv,
            healthcheck_runs=sum(r.check_ok is not None for r in rounds),
            healthcheck_output=last.state.check_output,
            http_url=url,
            http_status=last.http_status,
            exit_code=last.state.exit_code,
            logs=logs,
            logs_truncated=truncated,
            message=""
            if status == health.HEALTHY
            else health.failure_message(plan, status, rounds, url),
        )

    def _check(self, name: str, plan: HealthPlan) -> bool:
        # rc 0 healthy, 1 unhealthy; anything else (125: no such container) is no pass either.
        done = self._podman(
            "healthcheck", "run", name, check=False, timeout=plan.healthcheck.timeout + 30
        )
        return done.returncode == 0

    def _logs(self, name: str) -> tuple[str, bool]:
        done = self._podman("logs", "--tail", str(LOG_LINES), name, check=False, merge=True)
        return cap_output(done.stdout)

    def _podman(
        self, *args: str, check: bool, timeout: float = SETUP_TIMEOUT, merge: bool = False
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            done = subprocess.run(
                [*self.podman_args(), *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merge else subprocess.PIPE,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            return subprocess.CompletedProcess(e.cmd, -1, e.stdout or b"", b"timed out")
        except OSError as e:
            raise OperationError(f"podman {args[0]}: {e}") from e
        if check and done.returncode != 0:
            raise OperationError(f"podman {args[0]} failed: {_last_line(done.stderr)}")
        return done


def _run_args(name: str, image_id: str, plan: HealthPlan, host_port: int | None) -> list[str]:
    files = _limit(resource.RLIMIT_NOFILE, MAX_FILES)
    procs = _limit(resource.RLIMIT_NPROC, MAX_PROCS)
    args = [
        "run", "--detach", "--name", name, "--pull", "never",
        "--network", "bridge",  # its own namespace; never "host"
        "--http-proxy=false",  # no host proxy variables: the probe is local
        "--memory", MEMORY, "--cpus", CPUS, "--pids-limit", str(PIDS),
        # podman's defaults exceed the hard limits of a process without CAP_SYS_RESOURCE
        # ("error setting rlimit"): the container gets ours.
        "--ulimit", f"nofile={files}:{files}", "--ulimit", f"nproc={procs}:{procs}",
        "--timeout", str(int(plan.timeout) + SELF_STOP_SLACK),
        "--log-driver", "k8s-file",
    ]  # fmt: skip
    if host_port is not None:
        args += ["--publish", f"127.0.0.1:{host_port}:{plan.port}/tcp"]
    if plan.healthcheck.argv:
        args += [
            "--health-cmd", json.dumps(list(plan.healthcheck.argv)),
            "--health-interval", "disable",
            "--health-timeout", f"{plan.healthcheck.timeout:g}s",
        ]  # fmt: skip
    else:
        args.append("--no-healthcheck")
    return [*args, image_id]


def _limit(which: int, most: int) -> int:
    _, hard = resource.getrlimit(which)
    return most if hard == resource.RLIM_INFINITY else min(hard, most)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _probe(host_port: int, path: str) -> int | None:
    """GET `path` on 127.0.0.1:`host_port` directly (never through a proxy): its status, or None."""
    conn = http.client.HTTPConnection("127.0.0.1", host_port, timeout=PROBE_TIMEOUT)
    try:
        conn.request("GET", path, headers={"User-Agent": "dockyard-health"})
        response = conn.getresponse()
        response.read(PROBE_BODY_CAP)
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        with contextlib.suppress(OSError):
            conn.close()


def _last_line(data: bytes) -> str:
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def check_platforms(
    images: Sequence[tuple[str, Platform, ImageConfig]],
    image: str,
    check: HealthCheck,
    options: HealthOptions,
    say: Callable[[str], None],
) -> tuple[dict[str, HealthResult], list[Finding]]:
    """Each (label, platform, config) of `image` checked in turn (qemu is memory-hungry):
    {label: result} and the findings, health.no-emulation where qemu is missing."""
    results: dict[str, HealthResult] = {}
    findings: list[Finding] = []
    with HealthSession(options) as session:
        for label, platform, config in images:
            status = binfmt_status(platform)
            if not status.ok:
                findings.append(health.health_no_emulation(label, status.problem or ""))
                continue
            say(f"health {label}: starting its container" + (" (qemu)" if status.needed else ""))
            result = session.run(
                image, platform=platform, config=config, check=check,
                expected=sha256_digest(config.raw), emulated=status.needed,
            )  # fmt: skip
            results[label] = result
            findings += health.health_findings(label, result)
    return results, findings
