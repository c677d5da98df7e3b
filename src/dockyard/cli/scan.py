"""`dockyard scan REF`: each platform image's packages against advisories; exit 1 at the threshold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import CaCert, ConfigFile, InsecureRegistries, JsonFlag


@app.command("scan")
def scan_command(
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="oci:DIR[:TAG] or a registry reference.")
    ],
    osv_db: Annotated[
        Path | None,
        typer.Option(
            "--osv-db",
            metavar="DIR",
            help="A directory of OSV advisories (*.json); default: [scan] osv-db, else grype or trivy on PATH.",
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            metavar="SEVERITY",
            help="Exit 1 on a finding at or above: critical, high, medium, low, unknown (default: [scan] fail-on, else high).",
        ),
    ] = None,
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform",
            metavar="P",
            help="Only these platforms of an index (repeat or comma-separate).",
        ),
    ] = None,
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    file: ConfigFile = None,
    json_: JsonFlag = False,
) -> None:
    """Match each platform image's packages against an OSV directory (or run grype / trivy)."""
    from dockyard.cli.output import emit_json, say
    from dockyard.cli.settings import settings
    from dockyard.errors import ScanFailed
    from dockyard.oci.retry import RetryPolicy
    from dockyard.pipeline.scan import scan_location
    from dockyard.workspace import Workspace

    given = settings(
        file=file, insecure_registry=insecure_registry, ca_cert=ca_cert, retry=RetryPolicy()
    )
    with Workspace(given) as ws:
        result = scan_location(
            ws, ref, osv_db=osv_db, fail_on=fail_on, platforms=platform or (),
            say=None if json_ else say,
        )  # fmt: skip
    if json_:
        emit_json(result.to_json())
    _render(result, table=not json_)
    if not result.ok:
        raise ScanFailed(f"{result.reference}: {result.verdict()}")


_STYLE = {"critical": "red", "high": "red", "medium": "yellow", "low": "green", "unknown": "dim"}


def _render(result, *, table: bool) -> None:
    """The findings table (not with --json), then on stderr always: the ignored findings,
    expired ignores, what was not judged, and the verdict."""
    from rich.markup import escape
    from rich.table import Table

    from dockyard.cli.output import console

    out = console()
    if table and result.findings:
        grid = Table(box=None, pad_edge=False, show_edge=False)
        for column in ("platform", "package", "installed", "fixed", "advisory", "severity"):
            grid.add_column(column, overflow="fold")
        for f in result.findings:
            style = _STYLE[f.severity.level]
            advisory = f.advisory + (f" ({', '.join(f.aliases)})" if f.aliases else "")
            grid.add_row(
                f.platform or "-", escape(f.package), escape(f.installed), escape(f.fixed or "-"),
                escape(advisory), f"[{style}]{f.severity.level}[/{style}]",
            )  # fmt: skip
        out.print(grid)
    for i in result.ignored:
        out.print(
            f"ignored: {escape(i.finding.advisory)} in {escape(i.finding.package)} on "
            f"{i.finding.platform or 'the image'} until {i.rule.until} ({escape(i.rule.reason)})"
        )
    for rule in result.expired:
        out.print(
            f"[yellow]warning: {escape('[scan]')} ignore {escape(rule.id)} expired on {rule.until}: "
            f"it no longer ignores anything ({escape(rule.reason)})[/yellow]"
        )
    for note in result.notes:
        out.print(f"note: {escape(note)}")
    verdict = "[green]ok[/green]" if result.ok else "[red]failed[/red]"
    out.print(
        f"{escape(result.reference)}  {result.scanner}  {escape(result.verdict())}  {verdict}"
    )
