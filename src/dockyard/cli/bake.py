"""`dockyard bake --print`: the resolved bake definition, in `docker buildx bake --print`'s shape."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli.app import app


@app.command("bake")
def bake_command(
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[TARGET|GROUP]...", help="What to resolve (default: the default group)."
        ),
    ] = None,
    file: Annotated[
        list[Path] | None,
        typer.Option(
            "--file",
            "-f",
            metavar="FILE",
            help="Bake, bake JSON or compose file (repeat; merged in order).",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="TARGET.KEY=VALUE",
            help="Override a target attribute, as buildx --set (repeat).",
        ),
    ] = None,
    print_: Annotated[
        bool, typer.Option("--print", help="Print the resolved definition as JSON on stdout.")
    ] = False,
) -> None:
    """Resolve docker-bake.hcl / JSON / compose files exactly as buildx does and print the result."""
    from dockyard.bake import find_default_files, resolve
    from dockyard.cli.output import emit_json
    from dockyard.errors import InputError

    if not print_:
        raise InputError("dockyard bake only prints (--print); build with `dockyard build -f FILE`")
    files = list(file or []) or find_default_files(Path("."))
    if not files:
        raise InputError(
            "no bake file: give -f FILE, or run where docker-bake.hcl or compose.yaml is"
        )
    resolved = resolve(files, targets or [], set_ or [])
    emit_json(resolved.print_document())
