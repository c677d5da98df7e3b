"""One job as a backend receives it (BuildRequest) and what it gives back (BuildOutput).

The request carries an already-pinned Dockerfile (dockerfile/parse.py) as
text; a backend writes it to a temporary file outside the context, so the
context (and the input hash over it) never changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from dockyard.digest import Digest
from dockyard.platform import Platform

Format = Literal["oci", "docker"]


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class BuildRequest:
    """Everything a backend needs for one job; nothing is read from the plan again."""

    target: str  # the target's name (Job.target): what a failure names
    job_key: str  # "api-linux-arm64", Job.key: names the log and the local image
    platform: Platform
    context: Path
    dockerfile_text: str  # the pinned Dockerfile, not a path: never written into the context
    args: Mapping[str, str] = field(default_factory=_frozen, hash=False)
    target_stage: str | None = None
    output: Path = Path("dist/oci")  # an OCI layout directory (shared by the target's platforms)
    tag: str = "latest"  # ref.name of the image in `output`, e.g. "linux-arm64"
    log_path: Path = Path("build.log")
    format: Format = "oci"  # "docker" keeps HEALTHCHECK (OCI configs have no such field)
    timestamp: int | None = None  # SOURCE_DATE_EPOCH: created time of the image and layers
    no_cache: bool = False
    labels: Mapping[str, str] = field(default_factory=_frozen, hash=False)
    cache_from: tuple[str, ...] = ()  # already per platform (jobrules.platform_cache)
    cache_to: tuple[str, ...] = ()
    insecure_registries: tuple[str, ...] = ()  # host[:port] reached over plain HTTP / no TLS check
    # Loopback registries dockyard reached over verified https: verified by the builder
    # too (a loopback registry is otherwise assumed to speak plain http).
    tls_registries: tuple[str, ...] = ()
    ca_cert: Path | None = None  # --ca-cert (PEM), trusted by the builder as well


@dataclass(frozen=True)
class BuildOutput:
    digest: Digest  # of the image manifest written to the layout (under BuildRequest.tag)
    log_path: Path
    seconds: float
    cache_hits: int  # steps the builder reused from its cache
    steps: int  # steps in the build (every stage)
