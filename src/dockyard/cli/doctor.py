"""`dockyard doctor`: builder, binfmt per platform, registries, credentials, free space."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.builders import BACKENDS
from dockyard.cli.app import app
from dockyard.cli.options import CaCert, ConfigFile, InsecureRegistries, JsonFlag

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


@app.command("doctor")
def doctor_command(
    file: ConfigFile = None,
    builder: Annotated[
        str | None,
        typer.Option(
            "--builder",
            metavar="|".join(BACKENDS),
            help="The builder you will use (default: the config's builder, else buildah).",
        ),
    ] = None,
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    rootless_user: Annotated[
        str | None,
        typer.Option(
            "--rootless-user",
            metavar="NAME",
            help="Check rootless readiness (subuid/subgid, uidmap) for this user (default: you, unless root).",
        ),
    ] = None,
    json_: JsonFlag = False,
) -> None:
    """Check this machine: builder, emulation per platform, registries, credentials, disk."""
    from dockyard.pipeline.doctor import run_doctor

    report = run_doctor(
        file, builder=builder, insecure_registries=insecure_registry or (), ca_cert=ca_cert,
        rootless_user=rootless_user,
    )
    if json_:
        from dockyard.cli.output import emit_json

        emit_json(report.to_json())
    else:
        _render(report)
    if not report.ok:
        from dockyard.errors import OperationError

        raise OperationError(report.summary())  # exit 1, after the report


def _render(report) -> None:
    from rich.table import Table
    from rich.text import Text

    from dockyard.cli.output import console

    table = Table(show_edge=False, pad_edge=False, box=None)
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for row in report.rows:
        # Text, not markup: a detail may hold brackets ("[::1]:5000").
        table.add_row(Text(row.check), Text(row.status, style=_STYLE[row.status]), Text(row.detail))
    console().print(table)
