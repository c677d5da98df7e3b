"""`dockyard import`: rootfs tarballs or directories -> one multi-arch image."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import CaCert, InsecureRegistries, JsonFlag


@app.command("import")
def import_command(
    destination: Annotated[str, typer.Argument(metavar="DEST", help="Where to write: oci:DIR[:TAG] or a registry reference (no tag: latest).")],
    platform: Annotated[
        list[str],
        typer.Option(
            "--platform",
            metavar="PLATFORM=ROOTFS",
            help="PLATFORM=ROOTFS (a .tar[.gz|.xz] or a directory); repeat per platform."
        ),
    ],
    entrypoint: Annotated[
        str | None, typer.Option(metavar="CMD", help="Entrypoint: shell words or a JSON array.")
    ] = None,
    cmd: Annotated[str | None, typer.Option(metavar="CMD", help="Cmd: shell words or a JSON array.")] = None,
    env: Annotated[list[str] | None, typer.Option(metavar="K=V", help="Environment variable (repeat).")] = None,
    user: Annotated[str, typer.Option(metavar="USER", help="User (name or uid[:gid]).")] = "",
    workdir: Annotated[str, typer.Option(metavar="DIR", help="Working directory.")] = "",
    label: Annotated[list[str] | None, typer.Option(metavar="K=V", help="Label (repeat).")] = None,
    healthcheck: Annotated[
        str, typer.Option(metavar="CMD", help="Healthcheck command, run with /bin/sh -c (CMD-SHELL).")
    ] = "",
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    json_: JsonFlag = False,
) -> None:
    """Turn per-platform rootfs trees into one image (layers reproducible: SOURCE_DATE_EPOCH)."""
    from dockyard.cli.output import emit_json, say
    from dockyard.oci.imports import import_to_location

    result = import_to_location(
        destination,
        platform,
        entrypoint=entrypoint,
        cmd=cmd,
        env=env or (),
        user=user,
        workdir=workdir,
        labels=label or (),
        healthcheck=healthcheck,
        insecure_registries=frozenset(insecure_registry or ()),
        ca_cert=ca_cert,
    )
    if json_:
        emit_json(result.to_json())
        return
    for image in result.images:
        say(f"{image.platform}  {image.manifest.digest}  layer {image.layer.size} bytes")
    say(f"{result.destination}  {result.index.digest}")
