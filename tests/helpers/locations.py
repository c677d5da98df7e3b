"""The location commands as the tests call them: one workspace per call, as the CLI opens it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.cli.settings import copy_settings
from dockyard.oci.copy import DEFAULT_JOBS, CopyResult
from dockyard.oci.retry import RetryPolicy
from dockyard.pipeline import locations
from dockyard.workspace import Settings, Workspace


def copy_location(
    source: str,
    destination: str,
    *,
    platform: str | None = None,
    jobs: int = DEFAULT_JOBS,
    insecure_registries: Iterable[str] = (),
    ca_cert: str | None = None,
    retry_attempts: int = 3,
    progress=None,
    environ: Mapping[str, str] | None = None,
    referrers: bool = True,
) -> CopyResult:
    """`dockyard copy SOURCE DESTINATION` with these options, in-process."""
    given = copy_settings(
        insecure_registry=insecure_registries, ca_cert=ca_cert, retry_attempts=retry_attempts, jobs=jobs
    )
    with Workspace(given, environ=environ) as ws:
        return locations.copy_location(
            ws, source, destination, platform=platform, jobs=jobs, progress=progress, referrers=referrers
        )


def verify_location(location: str, *, expect=None, smoke_image: str | None = None):
    """`dockyard verify LOCATION` in-process: a registry image opened through a workspace."""
    with Workspace(Settings(retry=RetryPolicy())) as ws:
        return locations.verify_location(ws, location, expect=expect, smoke_image=smoke_image)
