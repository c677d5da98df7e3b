"""`dockyard inspect`: an index's platforms and each image's config, like imagetools inspect."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import CaCert, InsecureRegistries, JsonFlag, Timeout


@app.command("inspect")
def inspect_command(
    ref: Annotated[str, typer.Argument(metavar="REF", help="What to inspect: a registry reference or oci:DIR[:TAG].")],
    json_: JsonFlag = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print the manifest's exact bytes on stdout.")] = False,
    uncompressed: Annotated[
        bool | None,
        typer.Option(
            "--uncompressed/--no-uncompressed",
            help="Stream every layer for its uncompressed size (default: on for layouts only).",
        ),
    ] = None,
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    timeout: Timeout = None,
) -> None:
    """Show an image or index: platforms, digests, sizes, user, healthcheck, labels, referrers."""
    from dockyard.cli.output import emit_json
    from dockyard.config.durations import parse_duration
    from dockyard.oci.inspect import inspect_location, raw_manifest

    registry = {"insecure_registries": frozenset(insecure_registry or ()), "ca_cert": ca_cert}
    if timeout is not None:
        registry["deadline"] = parse_duration(timeout, what="--timeout")
    if raw:
        sys.stdout.buffer.write(raw_manifest(ref, **registry))
        sys.stdout.flush()
        return
    result = inspect_location(ref, uncompressed=uncompressed, **registry)
    if json_:
        emit_json(result.to_json())
    else:
        _render(result)


def _render(result) -> None:
    from dockyard.cli.output import say

    say(f"Name:      {result.name}")
    say(f"MediaType: {result.descriptor.media_type}")
    say(f"Digest:    {result.descriptor.digest}")
    say(f"Size:      {result.descriptor.size}")
    if result.children:
        say("")
        say("Manifests:")
        for child in result.children:
            kind = "attestation" if child.is_attestation else str(child.platform or "-")
            say(f"  {kind:<16} {child.digest}  {child.size}")
    if result.is_index:
        _attached(say, result.attached, "")
    for image in result.images:
        c = image.config
        say("")
        say(f"Image {image.manifest.platform or c.platform}  {image.manifest.digest}")
        say(f"  os/arch:      {c.platform}")
        say(f"  user:         {c.user or '(root)'}")
        health = " ".join(c.healthcheck.get("Test", [])) if c.healthcheck else "(none)"
        say(f"  healthcheck:  {health}")
        say(f"  created:      {c.created or '-'}")
        say(f"  layers:       {len(image.layers)}")
        say(f"  compressed:   {image.compressed_size}")
        unc = image.uncompressed_size
        say(f"  uncompressed: {unc if unc is not None else '(not computed: --uncompressed)'}")
        for key, value in sorted(c.labels.items()):
            say(f"  label         {key}={value}")
        _attached(say, image.attached, "  ")


def _attached(say, found, indent: str) -> None:
    """What is attached to a manifest: its referrers by artifactType, and cosign's tags."""
    if found is None:
        return
    if indent == "" and (found.referrers or found.tags):
        say("")
        say("Attached to the index:")
        indent = "  "
    for r in found.referrers:
        created = r.annotations.get("org.opencontainers.image.created", "")
        say(f"{indent}referrer      {r.artifact_type or '-'}  {r.digest}  {created}".rstrip())
    for t in found.tags:
        say(f"{indent}cosign        {t.tag}  {t.kind}, {t.layers} layers  {t.digest}")
