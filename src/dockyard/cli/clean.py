"""`dockyard clean`: remove dist/ layouts and logs and dockyard's builder images."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import ConfigFile, JsonFlag, OutputDir


@app.command("clean")
def clean_command(
    file: ConfigFile = None,
    output: OutputDir = Path("dist"),
    all_images: Annotated[
        bool,
        typer.Option("--all", help="Remove every localhost/dockyard/ builder image, not only this project's."),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")] = False,
    json_: JsonFlag = False,
) -> None:
    """Remove build outputs (DIR/oci layouts, DIR/logs) and dockyard's builder images and their layer cache."""
    from dockyard.cli.output import emit_json, say
    from dockyard.pipeline.clean import clean
    from dockyard.workspace import Settings, Workspace

    with Workspace(Settings(config_file=file, output=output)) as ws:
        result = clean(ws, all_images=all_images, dry_run=dry_run)
    if json_:
        emit_json(result.to_json())
        return
    verb = "would remove" if dry_run else "removed"
    for item in (*result.paths, *result.images):
        say(f"{verb} {item}")
    for note in result.notes:
        say(f"note: {note}")
    say(f"{verb} {len(result.paths)} outputs and {len(result.images)} builder images")
