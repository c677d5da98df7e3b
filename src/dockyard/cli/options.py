"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# The registry is a dict of names (the backends' modules load when used): cheap at start-up.
from dockyard.builders import BACKENDS

ConfigFile = Annotated[
    Path | None,
    typer.Option("-f", "--file", metavar="FILE", help="dockyard.toml to use (default: found by walking up from here)."),
]
ProjectFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "-f", "--file", metavar="FILE",
        help="dockyard.toml, or a bake/compose file (docker-bake.hcl, .json, compose.yaml; repeat: "
        "merged in order as buildx does). Default: dockyard.toml found walking up.",
    ),
]  # fmt: skip
BakeSet = Annotated[
    list[str] | None,
    typer.Option(
        "--set", metavar="TARGET.KEY=VALUE",
        help="Override a bake target's attribute as `docker buildx bake --set` does (repeat).",
    ),
]  # fmt: skip
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
RefOpt = Annotated[
    str | None, typer.Option("--ref", metavar="REF", help="Git ref (refs/tags/v1.2.3, a branch or tag name).")
]
ShaOpt = Annotated[str | None, typer.Option("--sha", metavar="SHA", help="Commit sha.")]
EventOpt = Annotated[
    str | None, typer.Option("--event", metavar="EVENT", help="Event name as GitHub names it (push, pull_request, …).")
]
PlatformOpt = Annotated[
    list[str] | None,
    typer.Option("--platform", metavar="PLATFORM", help="Only these platforms (repeat or comma-separate)."),
]
Selection = Annotated[
    list[str] | None, typer.Argument(metavar="TARGET|GROUP", help="Targets or groups (default: the 'default' group).")
]
InsecureRegistries = Annotated[
    list[str] | None,
    typer.Option(
        "--insecure-registry", metavar="HOST",
        help="Allow plain HTTP / unverified TLS for this host[:port] (repeat).",
    ),
]  # fmt: skip
CaCert = Annotated[
    str | None, typer.Option("--ca-cert", metavar="FILE", help="Extra CA certificate (PEM) to trust.")
]
OutputDir = Annotated[
    Path,
    typer.Option("--output", "-o", metavar="DIR", help="Where layouts and logs go (DIR/oci/<target>, DIR/logs)."),
]
NoCache = Annotated[
    bool, typer.Option("--no-cache", help="Build everything: no skip, no registry reuse, no layer cache.")
]
BuildJobs = Annotated[
    int | None,
    typer.Option("--jobs", "-j", metavar="N", help="Build jobs run at once (default: the core count)."),
]
Registries = Annotated[
    list[str] | None,
    typer.Option(
        "--registry", metavar="R",
        help="Registry prefix for the images (host[:port][/path]; repeat); replaces [project] registries.",
    ),
]  # fmt: skip
BuilderOpt = Annotated[
    str | None,
    typer.Option(
        "--builder", metavar="|".join(BACKENDS),
        help="Builder backend (default: the config's [project] builder, else buildah).",
    ),
]  # fmt: skip
Timeout = Annotated[
    str | None,
    typer.Option(
        "--timeout", metavar="DURATION",
        help="Deadline for all registry work, e.g. 90s, 30m, 1h (default: [retry] deadline, else 30m).",
    ),
]  # fmt: skip
# Ordered releases (publish/order.py): a tag at a newer release is refused unless forced.
ForceOrder = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Move tags even when they now point at a newer release (semver, else creation time).",
    ),
]
