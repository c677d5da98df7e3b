"""What doctor says about one engine (buildah, podman, docker): version, runtime, rootless. Pure.

    verdict = check_engine("podman", facts, rootless=RootlessCheck(user, problems=[]),
                           runc=True, chosen=True)
    verdict.status, verdict.detail     # "ok", "podman 4.3.1, runtime runc; rootless ready for ci"

- An engine that cannot be asked fails when it is the chosen builder, else warns.
- podman and buildah: dockyard runs RUN steps with runc (podman --runtime runc)
  or a chroot (buildah): podman without runc fails (crun fails every RUN on
  hybrid cgroups, as on this host).
- Rootless (buildah, podman): for the user doctor checks (the current one, or
  --rootless-user as root), builder.rootless.problems with their fixes; a
  problem fails when that user is the one running (its builds will fail).
- Docker: a rootful dockerd is the norm; rootless Docker needs Docker's own
  rootless kit, which Debian's docker.io does not package: said, not failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dockyard.builder.engines import EngineFacts
from dockyard.builder.rootless import RootlessUser

Status = Literal["ok", "warn", "fail"]
_RANK = {"ok": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class RootlessCheck:
    user: RootlessUser
    problems: tuple[str, ...]
    current: bool  # the user running doctor (its builds run rootless now)


@dataclass(frozen=True)
class EngineVerdict:
    status: Status
    detail: str


def check_engine(
    name: str,
    facts: EngineFacts,
    *,
    rootless: RootlessCheck | None,
    runc: bool,
    chosen: bool,
) -> EngineVerdict:
    """The row's status and detail (see the module docstring)."""
    if facts.error:
        return EngineVerdict("fail" if chosen else "warn", facts.error)
    status: Status = "ok"
    parts = [f"{name} {facts.version}, runtime {facts.runtime}"]
    if name == "podman" and not runc:
        status = "fail" if chosen else "warn"
        parts.append("runc not found: dockyard builds with --runtime runc (apt-get install runc)")
    if name == "docker":
        parts.append(
            "rootless dockerd"
            if facts.rootless
            else "rootful dockerd (rootless Docker needs Docker's rootless kit, not in Debian's docker.io)"
        )
        return EngineVerdict(status, "; ".join(parts))
    if rootless is None:
        parts.append("as root; rootless not checked (--rootless-user NAME checks a user)")
    elif rootless.problems:
        worse: Status = "fail" if rootless.current and chosen else "warn"
        status = worse if _RANK[worse] > _RANK[status] else status
        parts.append(f"rootless for {rootless.user.name}: " + "; ".join(rootless.problems))
    else:
        parts.append(f"rootless ready for {rootless.user.name}")
    return EngineVerdict(status, "; ".join(parts))
