"""The workspace: where a command's settings become a plan, one registry client, a builder, caches.

    with Workspace(Settings(config_file=Path("dockyard.toml"), registries=("ghcr.io/acme",))) as ws:
        result = release(ws)        # dockyard.pipeline.release

Every command opens one workspace and makes one call on it; the drivers in
`dockyard.pipeline` take it. Nothing is read until asked for: `ws.config`
loads dockyard.toml, `ws.plan` plans it with the git context, `ws.registry`
opens the run's one RegistryClient (one retry policy, one connection pool,
one token cache), `ws.backend` finds the builder. Closing the workspace
closes the client, once.

Commands that name images directly (copy, inspect, verify, retain) read no
dockyard.toml: they pass a `retry` policy in their Settings, so the client
never asks for the config's [retry].
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

from dockyard.bake.project import load_project
from dockyard.builder.backends import Backend, get_backend
from dockyard.builder.run import TargetCache
from dockyard.config.model import Config, chosen_builder
from dockyard.errors import InputError
from dockyard.oci.open import open_store
from dockyard.oci.registry import RegistryClient
from dockyard.oci.retry import RetryPolicy
from dockyard.oci.session import RegistryOptions, Timeouts
from dockyard.oci.store import Store
from dockyard.plan.load import plan_from_config, with_registries
from dockyard.plan.model import Plan
from dockyard.ref import LayoutRef, Reference, parse_location


@dataclass(frozen=True)
class Settings:
    """What a command line (or a program) says, before anything is read."""

    # the project: which dockyard.toml, which targets, which git context
    config_file: Path | None = None
    bake_files: tuple[Path, ...] = ()  # -f docker-bake.hcl / compose.yaml…, in buildx's merge order
    bake_set: tuple[str, ...] = ()  # --set TARGET.KEY=VALUE, after dockyard.toml's [bake] set
    select: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    ref: str | None = None
    sha: str | None = None
    event: str | None = None
    registries: tuple[str, ...] = ()  # replace [project] registries when given
    # the build
    builder: str | None = None  # replaces [project] builder when given
    output: Path = Path("dist")
    jobs: int | None = None  # None: one per core
    no_cache: bool = False
    cache_from: tuple[str, ...] = ()  # replace every target's own when given
    cache_to: tuple[str, ...] = ()
    # the registries
    insecure_registries: frozenset[str] = frozenset()
    ca_cert: str | None = None
    retry: RetryPolicy | None = None  # None: the project's [retry]
    timeouts: Timeouts | None = None  # None: the client's defaults
    max_connections: int | None = None  # None: the client's default
    deadline: float | None = None  # seconds (--timeout); None: [retry] deadline, else the default

    def __post_init__(self) -> None:
        if self.jobs is not None and self.jobs < 1:
            raise InputError(f"--jobs {self.jobs}: expected at least 1")


class Workspace:
    """One command's config, plan, registry client, builder and caches; see the module docstring."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        cwd: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.cwd = cwd or Path.cwd()
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self._closed = False

    # ------------------------------------------------------------ what is read on demand

    @cached_property
    def config(self) -> Config:
        """dockyard.toml and/or bake files (dockyard.bake.project), with --registry applied."""
        s = self.settings
        config = load_project(
            config_file=s.config_file, bake_files=s.bake_files, overrides=s.bake_set,
            select=s.select, cwd=self.cwd, env=self.environ,
        )  # fmt: skip
        return with_registries(config, self.settings.registries)

    @cached_property
    def plan(self) -> Plan:
        s = self.settings
        return plan_from_config(
            self.config, select=s.select, platforms=s.platforms, ref=s.ref, sha=s.sha, event=s.event
        )

    @cached_property
    def backend(self) -> Backend:
        return get_backend(chosen_builder(self.settings.builder, self.config.project))

    @cached_property
    def caches(self) -> dict[str, TargetCache]:
        """Each target's layer cache: --cache-from/--cache-to replace every target's own."""
        s = self.settings
        return {
            name: TargetCache(
                cache_from=s.cache_from or target.cache_from,
                cache_to=s.cache_to or target.cache_to,
            )
            for name, target in self.config.targets.items()
        }

    @cached_property
    def registry_options(self) -> RegistryOptions:
        s = self.settings
        extra: dict[str, Any] = {}
        if s.timeouts is not None:
            extra["timeouts"] = s.timeouts
        if s.max_connections is not None:
            extra["max_connections"] = s.max_connections
        retry = s.retry if s.retry is not None else RetryPolicy.from_config(self.config.retry)
        if s.deadline is not None:
            extra["deadline"] = s.deadline
        elif s.retry is None:  # a command that reads dockyard.toml: its [retry] deadline
            extra["deadline"] = self.config.retry.deadline
        return RegistryOptions(
            insecure_registries=s.insecure_registries, ca_cert=s.ca_cert, retry=retry, **extra
        )

    @cached_property
    def registry(self) -> RegistryClient:
        """The run's one registry client (every registry, one policy); closed with the workspace."""
        if self._closed:
            raise RuntimeError("the workspace is closed")
        return RegistryClient(options=self.registry_options, environ=self.environ)

    # ------------------------------------------------------------ locations

    def open(self, location: str | Reference | LayoutRef, *, push: bool = False) -> tuple[Store, str]:
        """The store a location (`oci:DIR[:TAG]` or a registry reference) names, and the
        reference within it; a registry's store shares the workspace's client."""
        parsed = parse_location(location) if isinstance(location, str) else location
        if isinstance(parsed, LayoutRef):
            return open_store(parsed)
        return open_store(parsed, client=self.registry, push=push)

    # ------------------------------------------------------------ lifetime

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        client = self.__dict__.get("registry")
        if client is not None:
            client.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
