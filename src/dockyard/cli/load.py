"""`dockyard load TARGET|REF`: one platform's image into podman's or Docker's image store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import (
    CaCert,
    ConfigFile,
    EventOpt,
    InsecureRegistries,
    JsonFlag,
    OutputDir,
    RefOpt,
    ShaOpt,
)


@app.command("load")
def load_command(
    what: Annotated[
        str,
        typer.Argument(metavar="TARGET|REF", help="A target of dockyard.toml (its built image), oci:DIR[:TAG] or a registry reference."),
    ],
    engine: Annotated[
        str,
        typer.Option("--engine", metavar="podman|docker", help="The engine whose image store receives it (docker: /usr/bin/docker, DOCKER_HOST)."),
    ] = "podman",
    platform: Annotated[
        str | None,
        typer.Option("--platform", metavar="P", help="The platform's image to load (default: this host's)."),
    ] = None,
    output: OutputDir = Path("dist"),
    file: ConfigFile = None,
    ref: RefOpt = None,
    sha: ShaOpt = None,
    event: EventOpt = None,
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    json_: JsonFlag = False,
) -> None:
    """Load an image into a local engine under its tags, runnable with podman/docker run."""
    from dockyard.cli.output import emit_json, say
    from dockyard.cli.settings import settings
    from dockyard.pipeline.load import load
    from dockyard.workspace import Workspace

    given = settings(
        file=file, ref=ref, sha=sha, event=event, output=output,
        insecure_registry=insecure_registry, ca_cert=ca_cert,
    )  # fmt: skip
    with Workspace(given) as ws:
        result = load(ws, what, engine=engine, platform=platform, progress=say)
    if json_:
        emit_json(result.to_json())
        return
    say(f"loaded {result.platform} {result.image_id} into {result.engine}: {', '.join(result.tags) or 'untagged'}")
