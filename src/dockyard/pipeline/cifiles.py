"""`dockyard ci …`: load the config, render a CI file (cigen, pure), write it whole or print it.

    text = github_workflow(None, runners=["linux/arm64=ubuntu-24.04-arm"])
    write_text(Path(".github/workflows/dockyard.yml"), text)

The config's directory relative to the git top level (else to the current
directory) is where the generated jobs run dockyard, so a config in a
subdirectory (examples/fleet) works from the repository root.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dockyard import __version__
from dockyard.cigen.github import DEFAULT_REGISTRY, GithubSpec, check_action, workflow
from dockyard.cigen.gitlab import GITLAB_REGISTRY, GitlabSpec, gitlab_ci
from dockyard.cigen.make import makefile
from dockyard.cigen.matrix import matrix, parse_runners
from dockyard.config.loader import load_config
from dockyard.errors import InputError, OperationError
from dockyard.plan.load import plan_from_config
from dockyard.plan.model import Plan
from dockyard.ref import is_loopback_host


def _load(config_file: Path | None, targets: Sequence[str], platforms: Sequence[str] = ()):
    config = load_config(config_file, cwd=Path.cwd(), env=os.environ)
    return config, plan_from_config(config, select=targets, platforms=platforms)


def _directory(root: Path) -> str:
    """The config's directory relative to the git top level (the CI checkout's root)."""
    try:
        top = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        top = ""
    base = Path(top) if top else Path.cwd()
    try:
        return Path(os.path.relpath(root.resolve(), base.resolve())).as_posix()
    except ValueError:
        return "."


def github_workflow(
    config_file: Path | None,
    *,
    targets: Sequence[str] = (),
    runners: Sequence[str] = (),
    qemu: bool = False,
    registries: Sequence[str] = (),
    staging: str = "",
    branch: str = "main",
    action: str = "./",
) -> str:
    config, plan = _load(config_file, targets)
    key = config.sign.key
    spec = GithubSpec(
        project=plan.project,
        directory=_directory(config.root),
        config=config.path.name,
        targets=tuple(targets),
        registries=tuple(registries) or ci_registries(config.project.registries),
        staging=staging,
        runners=parse_runners(runners),
        qemu=qemu,
        branch=branch,
        action=check_action(action),
        version=__version__,
        sign_env=key.value if key is not None and key.kind == "env" else "",
    )
    return workflow(spec)


def ci_registries(configured: Sequence[str], default: str = DEFAULT_REGISTRY) -> tuple[str, ...]:
    """The config's registries, unless one is on loopback (a laptop's, unreachable from a
    hosted runner): then the CI's own (GHCR under the repository's owner, GitLab's project registry)."""
    hosts = [r.split("/", 1)[0] for r in configured]
    if configured and not any(is_loopback_host(h) for h in hosts):
        return tuple(configured)
    return (default,)


def gitlab_file(
    config_file: Path | None, *, targets: Sequence[str] = (), registries: Sequence[str] = ()
) -> str:
    config, plan = _load(config_file, targets)
    spec = GitlabSpec(
        directory=_directory(config.root),
        config=config.path.name,
        registries=tuple(registries) or ci_registries(config.project.registries, GITLAB_REGISTRY),
    )
    return gitlab_ci(plan, spec, generated_from=_shown(config.path))


def make_file(config_file: Path | None, *, targets: Sequence[str] = ()) -> str:
    config, plan = _load(config_file, targets)
    return makefile(plan, config=config.path.name, generated_from=_shown(config.path))


def build_matrix(
    config_file: Path | None,
    *,
    targets: Sequence[str] = (),
    platforms: Sequence[str] = (),
    runners: Sequence[str] = (),
    qemu: bool = False,
) -> dict[str, Any]:
    _, plan = _load(config_file, targets, platforms)
    return plan_matrix(plan, runners=runners, qemu=qemu)


def plan_matrix(plan: Plan, *, runners: Sequence[str] = (), qemu: bool = False) -> dict[str, Any]:
    return matrix(plan, runners=parse_runners(runners), qemu=qemu)


def _shown(path: Path) -> str:
    return Path(_directory(path.parent), path.name).as_posix()


def write_text(path: Path, text: str) -> None:
    """Whole or not at all: a temp file beside it, renamed over; parent directories made."""
    if path.is_dir():
        raise InputError(f"--output {path}: is a directory (expected a file path)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    except OSError as exc:
        raise OperationError(f"--output {path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
