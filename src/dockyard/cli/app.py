"""The Typer application every command module registers on.

Command modules import library code inside their functions, so that
`dockyard --version` and `--help` do not pay for httpx, pydantic or rich.
"""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard import __version__

app = typer.Typer(
    name="dockyard",
    help="Build, verify and publish multi-architecture container images.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"dockyard {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Build, verify and publish multi-architecture container images."""
