"""`dockyard init`: write a starter dockyard.toml for the Dockerfiles of a repository."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import JsonFlag


@app.command("init")
def init_command(
    directory: Annotated[
        Path, typer.Option("--dir", metavar="DIR", help="The repository to scan and write dockyard.toml in.")
    ] = Path("."),
    registry: Annotated[
        list[str] | None,
        typer.Option(
            "--registry", metavar="R",
            help="Registry prefix for the images (repeat); default: ${REGISTRY}, from the git remote.",
        ),
    ] = None,
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform", metavar="PLATFORM",
            help="Platforms to build (repeat or comma-separate; default linux/amd64,linux/arm64).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing dockyard.toml.")] = False,
    json_: JsonFlag = False,
) -> None:
    """Scan for Dockerfiles (and compose/bake files) and write a starter dockyard.toml."""
    from dockyard.cli.output import emit_json, say
    from dockyard.pipeline.init import init_project, summary

    platforms = [p.strip() for item in platform or () for p in item.split(",") if p.strip()]
    result = init_project(directory, registries=registry or (), platforms=platforms, force=force)
    if json_:
        emit_json(summary(result))
        return
    say(f"wrote {result.path} ({len(result.targets)} targets)")
    for name, dockerfile in result.targets.items():
        say(f"  {name:<20} {dockerfile}")
    if result.bake_files:
        say(f"  and the targets of {', '.join(result.bake_files)} ([bake] files)")
    for line in result.skipped:
        say(f"  skipped {line}")
    say("next: dockyard plan   (then dockyard build, dockyard ci github)")
