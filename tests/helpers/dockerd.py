"""A real Docker engine (Debian's dockerd 20.10) of the test session's own.

`start_dockerd()` runs /usr/sbin/dockerd with its own --data-root, --exec-root
and unix socket under a short /tmp dir (socket paths have at most 107 bytes),
on a bridge of its own (created here, removed at stop: the machine's docker0,
if any, is left alone), with --iptables=false (nothing is written to the
host's firewall; published ports go through docker-proxy). It returns when
`docker version` answers; `stop()` ends dockerd by its pid (dockerd stops
the containerd it started) and removes what it made.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"
READY_SECONDS = 60


@dataclass
class RunningDockerd:
    root: Path
    proc: subprocess.Popen
    bridge: str

    @property
    def host(self) -> str:
        """The DOCKER_HOST value that reaches this engine."""
        return f"unix://{self.root / 'docker.sock'}"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host}

    def docker(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [DOCKER, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True, check=False)
        # Mounts dockerd left (a crash): unmount before removing the tree.
        for line in reversed(Path("/proc/self/mounts").read_text().splitlines()):
            point = line.split()[1]
            if point.startswith(str(self.root) + "/"):
                subprocess.run(["umount", "-l", point], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _free_subnet() -> str:
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    for _ in range(50):
        prefix = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}"
        if f" {prefix}." not in used:
            return prefix
    raise RuntimeError("no free 10.x subnet for the test bridge")


def start_dockerd() -> RunningDockerd:
    root = Path(tempfile.mkdtemp(prefix="dy-dk-", dir="/tmp"))
    bridge = f"dybr{os.getpid() % 100000}"
    prefix = _free_subnet()
    subprocess.run(["ip", "link", "delete", bridge], capture_output=True, check=False)
    for cmd in (
        ["ip", "link", "add", bridge, "type", "bridge"],
        ["ip", "addr", "add", f"{prefix}.1/24", "dev", bridge],
        ["ip", "link", "set", bridge, "up"],
    ):
        subprocess.run(cmd, capture_output=True, check=True)
    log = (root / "dockerd.log").open("w")
    proc = subprocess.Popen(
        [DOCKERD, "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
         "--pidfile", str(root / "dockerd.pid"), "-H", f"unix://{root / 'docker.sock'}",
         "--bridge", bridge, "--iptables=false", "--ip-masq=false"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    running = RunningDockerd(root, proc, bridge)
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            running.stop()
            raise RuntimeError(f"dockerd exited ({proc.returncode}); see {root}/dockerd.log")
        if running.docker("version", "--format", "{{.Server.Version}}", timeout=10).returncode == 0:
            return running
        time.sleep(0.3)
    tail = (root / "dockerd.log").read_text()[-2000:]
    running.stop()
    raise RuntimeError(f"dockerd did not answer in {READY_SECONDS} s: {tail}")
