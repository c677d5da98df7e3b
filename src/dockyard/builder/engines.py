"""The local container engines dockyard loads images into and reports on: podman and Docker.

    load_archive("docker", Path("api.tar"))     # `docker load -i`: the image in dockerd's store
    engine_facts("podman")                      # version, runtime, rootless, from `podman info`

Both engines read a docker-archive (oci/dockersave.py writes it): Docker
20.10 cannot `docker load` an OCI archive, and podman reads both. Each engine
is asked through its own CLI and keeps its own configuration: podman its
storage.conf / CONTAINERS_STORAGE_CONF (rootless: the user's own storage),
docker its DOCKER_HOST or context. Debian's `/usr/bin/docker` is used, not
the first docker on PATH (another CLI may come first; see backends/docker.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dockyard.builder.backends.buildah import engine_version
from dockyard.errors import InputError, OperationError

# Engine -> its command. One list: `load --engine` and doctor read it.
ENGINES: dict[str, tuple[str, ...]] = {
    "podman": ("podman",),
    "docker": ("/usr/bin/docker",),
}
DEFAULT_ENGINE = "podman"  # daemonless: nothing has to be running to load into it
PACKAGES = {"podman": "podman", "docker": "docker.io", "buildah": "buildah"}
LOAD_TIMEOUT = 1800  # seconds: a multi-GB image into a slow disk


def engine_command(name: str) -> tuple[str, ...]:
    """The command of engine `name`; InputError naming the valid ones otherwise."""
    command = ENGINES.get(name)
    if command is None:
        raise InputError(f"unknown engine '{name}' (valid: {', '.join(ENGINES)})")
    return command


def load_archive(engine: str, archive: Path) -> str:
    """`<engine> load -i archive`; what the engine said it loaded (its last output line)."""
    command = engine_command(engine)
    if shutil.which(command[0]) is None:
        raise OperationError(f"{command[0]} is not installed (apt-get install {PACKAGES[engine]})")
    argv = [*command, "load", "-i", str(archive)]
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=LOAD_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OperationError(f"cannot run '{' '.join(argv)}': {exc}") from None
    said = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    if proc.returncode != 0:
        last = said[-1] if said else "no output"
        raise OperationError(f"{engine} load failed (exit {proc.returncode}): {last[:300]}")
    return said[-1] if said else ""


@dataclass(frozen=True)
class EngineFacts:
    """What an engine says about itself; `error` when it could not be asked."""

    version: str = ""
    runtime: str = ""  # the OCI runtime it runs containers with (runc, crun)
    rootless: bool = False  # the engine runs without root (podman as a user, rootless dockerd)
    error: str = ""


def engine_facts(name: str) -> EngineFacts:
    """What `podman info` / `docker info` say, or buildah's version; never raises."""
    if name == "buildah":
        return _buildah_facts()
    command = engine_command(name)
    if shutil.which(command[0]) is None:
        return EngineFacts(error=f"{command[0]} not found (apt-get install {PACKAGES[name]})")
    argv = [*command, "info", "--format", _INFO_FORMAT[name]]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return EngineFacts(error=f"cannot run '{' '.join(argv)}': {exc}")
    if proc.returncode != 0:
        said = (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return EngineFacts(error=f"'{' '.join(argv)}' failed (exit {proc.returncode}): {said}")
    try:
        return _READ[name](json.loads(proc.stdout))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return EngineFacts(error=f"'{' '.join(argv)}' answered unreadable JSON ({exc})")


_INFO_FORMAT = {"podman": "json", "docker": "{{json .}}"}


def podman_facts(doc: dict) -> EngineFacts:
    host = doc["host"]
    return EngineFacts(
        version=doc["version"]["Version"],
        runtime=host["ociRuntime"]["name"],
        rootless=bool(host["security"]["rootless"]),
    )


def docker_facts(doc: dict) -> EngineFacts:
    if doc.get("ServerErrors"):  # the CLI answers (exit 0) even when no dockerd does
        said = " ".join(str(doc["ServerErrors"][-1]).split())[:200]
        return EngineFacts(error=f"no Docker engine answers: {said}")
    options = doc.get("SecurityOptions") or []
    return EngineFacts(
        version=doc["ServerVersion"],
        runtime=doc["DefaultRuntime"],
        rootless=any("name=rootless" in option for option in options),
    )


_READ = {"podman": podman_facts, "docker": docker_facts}


def _buildah_facts() -> EngineFacts:
    try:
        version = engine_version("buildah", "buildah")
    except OperationError as exc:
        return EngineFacts(error=str(exc))
    # dockyard runs buildah's RUN steps with --isolation chroot, not with an OCI runtime.
    return EngineFacts(version=version, runtime="chroot", rootless=os.geteuid() != 0)
