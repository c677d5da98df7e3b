"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigFile = Annotated[
    Path | None,
    typer.Option("-f", "--file", help="dockyard.toml to use (default: found by walking up from here)."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
RefOpt = Annotated[
    str | None, typer.Option("--ref", help="Git ref (refs/tags/v1.2.3, a branch or tag name).")
]
ShaOpt = Annotated[str | None, typer.Option("--sha", help="Commit sha.")]
EventOpt = Annotated[
    str | None, typer.Option("--event", help="Event name as GitHub names it (push, pull_request, …).")
]
PlatformOpt = Annotated[
    list[str] | None,
    typer.Option("--platform", help="Only these platforms (repeat or comma-separate)."),
]
Selection = Annotated[
    list[str] | None, typer.Argument(help="Targets or groups (default: the 'default' group).")
]
