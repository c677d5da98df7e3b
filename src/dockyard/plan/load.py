"""The I/O edge of planning: read the config, the git context, the clock, the host."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from dockyard import gitinfo
from dockyard.bake.project import load_project
from dockyard.config.model import Config
from dockyard.errors import InputError
from dockyard.plan.model import Plan, make_plan
from dockyard.platform import host_platform
from dockyard.ref import join_image


def plan_from_files(
    config_file: Path | None,
    *,
    select: Sequence[str] = (),
    platforms: Sequence[str] = (),
    ref: str | None = None,
    sha: str | None = None,
    event: str | None = None,
    registries: Sequence[str] = (),
    bake_files: Sequence[Path] = (),
    overrides: Sequence[str] = (),
) -> Plan:
    """Load dockyard.toml (or -f FILE) and/or bake files, detect the git context, and plan.

    `registries`, when given, replace the config's [project] registries
    (`release --registry R…`): every image is then `<R>/<target.image>`.
    `bake_files` and `overrides` (`--set`) are read as dockyard.bake.project reads them.
    """
    loaded = load_project(
        config_file=config_file, bake_files=bake_files, overrides=overrides, select=select,
        cwd=Path.cwd(), env=os.environ,
    )  # fmt: skip
    config = with_registries(loaded, registries)
    return plan_from_config(
        config, select=select, platforms=platforms, ref=ref, sha=sha, event=event
    )


def plan_from_config(
    config: Config,
    *,
    select: Sequence[str] = (),
    platforms: Sequence[str] = (),
    ref: str | None = None,
    sha: str | None = None,
    event: str | None = None,
) -> Plan:
    """Plan a config already loaded (build, release and merge also read its other tables)."""
    context = gitinfo.detect(env=os.environ, cwd=config.root, ref=ref, sha=sha, event=event)
    return make_plan(
        config,
        context,
        build_platform=host_platform(),
        now=datetime.now(UTC),
        select=select,
        platforms=platforms,
    )


def with_registries(config: Config, registries: Sequence[str]) -> Config:
    """The config with its project registries replaced by `registries` (none given: unchanged)."""
    if not registries:
        return config
    prefixes: list[str] = []
    for text in registries:
        prefix = _registry_prefix(text)
        if prefix not in prefixes:
            prefixes.append(prefix)
    return replace(config, project=replace(config.project, registries=tuple(prefixes)))


def _registry_prefix(text: str) -> str:
    prefix = text.strip().rstrip("/")
    problem = not prefix or "@" in prefix
    if not problem:
        try:
            join_image(prefix, "x")
        except InputError:
            problem = True
    if problem:
        raise InputError(
            f"--registry {text!r}: not a registry prefix (expected host[:port][/path] with a "
            "lower-case path, e.g. ghcr.io/acme or 127.0.0.1:5000/fleet)"
        )
    return prefix
