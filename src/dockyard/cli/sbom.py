"""`dockyard sbom REF`: an SBOM per platform image on stdout, optionally attached by digest."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import CaCert, InsecureRegistries


@app.command("sbom")
def sbom_command(
    ref: Annotated[str, typer.Argument(metavar="REF", help="oci:DIR[:TAG] or a registry reference.")],
    format_: Annotated[
        str, typer.Option("--format", metavar="spdx|cyclonedx", help="SPDX 2.3 JSON or CycloneDX 1.6 JSON.")
    ] = "spdx",
    platform: Annotated[
        str | None,
        typer.Option("--platform", metavar="P", help="Only this platform: print its document alone, not a list."),
    ] = None,
    attach: Annotated[
        bool,
        typer.Option("--attach", help="Also attach each document to its platform image as an OCI referrer."),
    ] = False,
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
) -> None:
    """Print the SBOM of each platform image (syft when found, else dockyard's own readers)."""
    from dockyard.cli.output import say
    from dockyard.cli.settings import settings
    from dockyard.oci.retry import RetryPolicy
    from dockyard.pipeline.sbom import sbom_location
    from dockyard.workspace import Workspace

    given = settings(insecure_registry=insecure_registry, ca_cert=ca_cert, retry=RetryPolicy())
    with Workspace(given) as ws:
        result = sbom_location(ws, ref, fmt=format_, platform=platform, attach=attach, progress=say)
    sys.stdout.buffer.write(result.output())
    sys.stdout.flush()
    for doc in result.documents:
        where = f", attached as {doc.attached}" if doc.attached else ""
        say(f"{doc.image.platform}  {doc.image.descriptor.digest}  {len(doc.packages)} packages{where}")
