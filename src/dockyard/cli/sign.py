"""`dockyard sign REF --key KEY`: cosign-compatible signatures of an index and every child."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import CaCert, InsecureRegistries, JsonFlag


@app.command("sign")
def sign_command(
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="A registry reference or oci:DIR[:TAG].")
    ],
    key: Annotated[
        str,
        typer.Option(
            "--key",
            metavar="KEY.pem",
            help="ECDSA P-256 private key: a PEM file (PKCS#8), file:PATH or env:NAME; an encrypted "
            "one takes its password from $DOCKYARD_KEY_PASSWORD or $COSIGN_PASSWORD.",
        ),
    ],
    identity: Annotated[
        str | None,
        typer.Option(
            "--identity",
            metavar="REPO",
            help="Repository the signature names (default: REF's; needed for an oci: layout).",
        ),
    ] = None,
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    json_: JsonFlag = False,
) -> None:
    """Sign an image, its index and every child, as cosign stores signatures (sha256-<hex>.sig)."""
    from dockyard.cli.output import emit_json, say
    from dockyard.cli.settings import settings
    from dockyard.oci.retry import RetryPolicy
    from dockyard.pipeline.sign import sign_location
    from dockyard.workspace import Workspace

    given = settings(insecure_registry=insecure_registry, ca_cert=ca_cert, retry=RetryPolicy())
    with Workspace(given) as ws:
        result = sign_location(ws, ref, key, identity=identity)
    if json_:
        emit_json(result.to_json())
        return
    for o in result.outcomes:
        what = o.subject.label
        say(f"{o.outcome:<8} {what:<20} {o.subject.digest}  -> {o.tag}")
    present = len(result.outcomes) - result.signed
    say(
        f"{result.reference}: {result.signed} manifest(s) signed as {result.identity}"
        + (f", {present} already signed with this key" if present else "")
    )
