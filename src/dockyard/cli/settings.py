"""The command line's options -> one workspace Settings (the one place flags become settings).

Typer gives repeatable options as None or a list; Settings wants tuples and
sets. Imported inside commands: it pulls in the workspace (httpx, the
builders), which `dockyard tags` or `--help` need not pay for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from dockyard.config.durations import parse_duration
from dockyard.errors import InputError
from dockyard.oci.copy import MAX_JOBS
from dockyard.oci.retry import RetryPolicy
from dockyard.workspace import Settings


def settings(
    *,
    file: Path | Sequence[Path] | None = None,
    bake_set: Iterable[str] | None = None,
    targets: Iterable[str] | None = None,
    platform: Iterable[str] | None = None,
    ref: str | None = None,
    sha: str | None = None,
    event: str | None = None,
    registry: Iterable[str] | None = None,
    builder: str | None = None,
    output: Path = Path("dist"),
    jobs: int | None = None,
    no_cache: bool = False,
    cache_from: Iterable[str] | None = None,
    cache_to: Iterable[str] | None = None,
    insecure_registry: Iterable[str] | None = None,
    ca_cert: str | None = None,
    retry: RetryPolicy | None = None,
    timeout: str | None = None,
) -> Settings:
    """Settings from the options as Typer hands them over (each named as its flag)."""
    config_file, bake_files = split_files(file)
    return Settings(
        config_file=config_file,
        bake_files=bake_files,
        bake_set=tuple(bake_set or ()),
        select=tuple(targets or ()),
        platforms=tuple(platform or ()),
        ref=ref,
        sha=sha,
        event=event,
        registries=tuple(registry or ()),
        builder=builder,
        output=output,
        jobs=jobs,
        no_cache=no_cache,
        cache_from=tuple(cache_from or ()),
        cache_to=tuple(cache_to or ()),
        insecure_registries=frozenset(insecure_registry or ()),
        ca_cert=ca_cert,
        retry=retry,
        deadline=None if timeout is None else parse_duration(timeout, what="--timeout"),
    )


def split_files(file: Path | Sequence[Path] | None) -> tuple[Path | None, tuple[Path, ...]]:
    """`-f` values: the one `.toml` is dockyard's config, every other file a bake/compose file."""
    files = [file] if isinstance(file, Path) else list(file or ())
    tomls = [f for f in files if f.suffix == ".toml"]
    if len(tomls) > 1:
        raise InputError(
            f"-f {tomls[1]}: a second dockyard.toml (give one, plus any bake/compose files)"
        )
    return (tomls[0] if tomls else None), tuple(f for f in files if f.suffix != ".toml")


def copy_settings(
    *,
    insecure_registry: Iterable[str] | None,
    ca_cert: str | None,
    retry_attempts: int,
    jobs: int,
    timeout: str | None = None,
) -> Settings:
    """`dockyard copy`'s settings: its own retry count, and a pool wide enough for `jobs` transfers."""
    if retry_attempts < 1:
        raise InputError(f"--retry-attempts {retry_attempts}: expected at least 1")
    return replace(
        settings(insecure_registry=insecure_registry, ca_cert=ca_cert, timeout=timeout),
        retry=RetryPolicy(attempts=retry_attempts),
        max_connections=max(MAX_JOBS, 2 * jobs),
    )
