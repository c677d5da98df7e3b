"""`dockyard init`: scan a repository for Dockerfiles and write a starter dockyard.toml.

    result = init_project(Path("."), registries=(), platforms=(), force=False)
    result.path, result.targets        # the file written and its targets

What is found: every `Dockerfile`, `Containerfile`, `Dockerfile.<name>` and
`<name>.Dockerfile` under the directory (hidden, vendored and build-output
directories skipped); compose files at the top name the targets after their
services; bake and compose files found (buildx's default names) go in a
`[bake] files` table (commented out, with the reason, when they do not
resolve) and the Dockerfiles their default group builds get no [targets]
table; with an HCL or JSON file the other tables are written commented out,
since a target outside its default group may build one of them. Each Dockerfile is
parsed and linted so the [policy] written is one the images already meet.
The text is validated as dockyard.toml before anything is written, and an
existing file is never replaced without `force` (InputError, exit 2).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from dockyard.bake import find_default_files, resolve
from dockyard.bake.convert import convert
from dockyard.config.loader import CONFIG_NAME
from dockyard.config.model import Policy
from dockyard.config.native import config_from_dict
from dockyard.config.starter import DEFAULT_PLATFORMS, Starter, StarterTarget, render, target_names
from dockyard.dockerfile.parse import parse_dockerfile
from dockyard.errors import InputError
from dockyard.lint.rules import lint_dockerfile
from dockyard.platform import parse_platform, parse_platforms

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
# Never Dockerfiles of this project's images: dependencies, virtualenvs, build output.
_SKIP_DIRS = frozenset({"node_modules", "vendor", "dist", "target", "__pycache__", "venv"})
_DOCKERFILE = re.compile(r"(?i)(dockerfile|containerfile)(\.[^/]+)?|[^/]+\.(dockerfile|containerfile)")
_REMOTE = re.compile(r"(?:git@|https?://|ssh://git@)(github\.com|gitlab\.com)[:/]([^/]+)/([^/]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class InitResult:
    path: Path
    text: str
    targets: dict[str, str]  # name -> its Dockerfile, relative to the directory
    skipped: tuple[str, ...]  # Dockerfiles that do not parse, with the reason
    bake_files: tuple[str, ...] = ()  # the [bake] files written (relative to the directory)


def init_project(
    directory: Path,
    *,
    registries: Sequence[str] = (),
    platforms: Sequence[str] = (),
    force: bool = False,
) -> InitResult:
    """Write `directory`/dockyard.toml for the Dockerfiles under it; see the module docstring."""
    directory = Path(os.path.abspath(directory))
    if not directory.is_dir():
        raise InputError(f"--dir {directory}: not a directory")
    path = directory / CONFIG_NAME
    if path.exists() and not force:
        raise InputError(f"{path} already exists (use --force to replace it)")
    for text in platforms:
        try:
            parse_platform(text)
        except InputError as exc:
            raise InputError(f"--platform {text}: {exc}") from None
    found, skipped = _scan(directory)
    if not found:
        raise InputError(
            f"no Dockerfile or Containerfile under {directory} (expected e.g. services/api/Dockerfile)"
        )
    project = _project_name(directory)
    starter = Starter(
        project=project,
        targets=tuple(found),
        platforms=tuple(platforms) or DEFAULT_PLATFORMS,
        registries=tuple(registries),
        registry_default=_default_registry(directory, project),
        checked=tuple(found),
    )
    starter = _with_bake(starter, directory)
    text = render(starter)
    # The file plan will read, checked before it exists: the environment must not change
    # the verdict, so [variables] defaults alone.
    config_from_dict(tomllib.loads(text), path, {}, display=str(path))
    _write(path, text)
    names = target_names(starter.targets, project, starter.bake_names)
    targets = {
        name: _posix(Path(t.context) / t.dockerfile)
        for name, t in zip(names, starter.targets, strict=True)
        if not starter.targets_commented
    }
    return InitResult(
        path=path, text=text, targets=targets, skipped=tuple(skipped),
        bake_files=starter.bake_files if not starter.bake_error else (),
    )  # fmt: skip


def _with_bake(starter: Starter, directory: Path) -> Starter:
    """The bake/compose files buildx would read here, and the Dockerfiles their targets build
    taken out of `starter.targets` (resolved as `plan` resolves them, with no environment)."""
    files = find_default_files(directory)
    if not files:
        return starter
    names = tuple(_posix(f.relative_to(directory)) for f in files)
    try:
        resolved = resolve(files, env={})
        converted = convert(
            resolved.targets, resolved.groups, root=directory,
            platforms=parse_platforms(starter.platforms), policy=Policy(), source=", ".join(names),
            tag_rules=True,
        )  # fmt: skip
    except InputError as exc:
        return replace(starter, bake_files=names, bake_error=str(exc))
    built = {t.dockerfile for t in converted.targets.values()}
    own = tuple(
        t for t in starter.targets
        if Path(os.path.normpath(directory / t.context / t.dockerfile)) not in built
    )  # fmt: skip
    # A compose file's default group is every service it builds; an HCL or JSON file's may
    # leave targets out, which could build the Dockerfiles left here or share their names.
    complete = all(name.lower().endswith((".yml", ".yaml")) for name in names)
    return replace(
        starter, targets=own, bake_files=names, targets_commented=not complete,
        bake_names=(*converted.targets, *converted.groups),
    )  # fmt: skip


def _scan(directory: Path) -> tuple[list[StarterTarget], list[str]]:
    services = _compose_services(directory)
    found: list[StarterTarget] = []
    skipped: list[str] = []
    for dockerfile in sorted(_dockerfiles(directory)):
        context = dockerfile.parent
        target = StarterTarget(
            context=_posix(context.relative_to(directory)),
            dockerfile=dockerfile.name,
            name=services.get(dockerfile, ""),
        )
        try:
            found.append(_checked(target, dockerfile, directory))
        except (InputError, OSError, UnicodeDecodeError) as exc:
            skipped.append(f"{_posix(dockerfile.relative_to(directory))}: {exc}")
    return found, skipped


def _dockerfiles(directory: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS]
        for name in files:
            if _DOCKERFILE.fullmatch(name) and not name.lower().endswith(".dockerignore"):
                yield Path(root) / name


def _checked(target: StarterTarget, dockerfile: Path, directory: Path) -> StarterTarget:
    """`target` with what its Dockerfile satisfies (lint DY005/DY006) and the ARGs it needs."""
    shown = _posix(dockerfile.relative_to(directory))
    df = parse_dockerfile(dockerfile.read_text(encoding="utf-8"), path=shown)
    rules = {finding.rule for finding in lint_dockerfile(df)}
    used_in_from = " ".join(stage.from_.base_raw for stage in df.stages)
    unset = tuple(
        name for name, default in df.global_args.items()
        if default is None and re.search(rf"\$\{{?{re.escape(name)}\b", used_in_from)
    )  # fmt: skip
    return replace(
        target, non_root="DY005" not in rules, healthcheck="DY006" not in rules, unset_args=unset
    )


def _compose_services(directory: Path) -> dict[Path, str]:
    """Dockerfile -> the compose service that builds it (the first compose file found).

    Only the names are taken: a compose file's build args, platforms and tags
    are the compose reader's to resolve (`dockyard plan -f compose.yaml`).
    """
    for name in COMPOSE_FILES:
        file = directory / name
        if not file.is_file():
            continue
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError(f"{file}: not a compose file ({exc})".splitlines()[0]) from None
        services = document.get("services") if isinstance(document, dict) else None
        found: dict[Path, str] = {}
        for service, spec in (services or {}).items():
            build = spec.get("build") if isinstance(spec, dict) else None
            if isinstance(build, str):
                build = {"context": build}
            if not isinstance(build, dict) or "$" in str(build.get("context", ".")):
                continue
            context = file.parent / str(build.get("context", "."))
            dockerfile = Path(os.path.normpath(context / str(build.get("dockerfile", "Dockerfile"))))
            found.setdefault(dockerfile, re.sub(r"[^a-z0-9_-]+", "-", str(service).lower()))
        return found
    return {}


def _project_name(directory: Path) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", directory.name.lower()).strip("-_") or "project"


def _default_registry(directory: Path, project: str) -> str:
    """ghcr.io/OWNER (registry.gitlab.com/OWNER/REPO) for a GitHub (GitLab) origin, else a
    local registry: a placeholder that works on a laptop and says where images go."""
    try:
        url = subprocess.run(
            ["git", "-C", str(directory), "config", "--get", "remote.origin.url"],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        url = ""
    match = _REMOTE.match(url)
    if match is None:
        return f"localhost:5000/{project}"
    host, owner, repo = match.groups()
    if host == "github.com":
        return f"ghcr.io/{owner.lower()}"
    return f"registry.gitlab.com/{owner.lower()}/{repo.lower()}"


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a temp file beside it, renamed over."""
    fd, tmp = tempfile.mkstemp(prefix=".dockyard-init-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _posix(path: Path) -> str:
    return path.as_posix() or "."


def summary(result: InitResult) -> Mapping[str, object]:
    """The --json document."""
    return {
        "ok": True,
        "file": str(result.path),
        "targets": result.targets,
        "skipped": list(result.skipped),
        "bake_files": list(result.bake_files),
    }
