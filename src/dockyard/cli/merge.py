"""`dockyard merge`: the CI fan-in: digest files from the build jobs -> verified indexes, published atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import (
    CaCert,
    ConfigFile,
    EventOpt,
    ForceOrder,
    InsecureRegistries,
    JsonFlag,
    RefOpt,
    Registries,
    Selection,
    ShaOpt,
    Timeout,
)


@app.command("merge")
def merge_command(
    digest_dir: Annotated[
        Path,
        typer.Option("--digest-dir", metavar="DIR", help="The build jobs' digest files (DIR/<target>/<os>-<arch>.json)."),
    ],
    targets: Selection = None,
    ref: RefOpt = None,
    sha: ShaOpt = None,
    event: EventOpt = None,
    registry: Registries = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and verify, then list every blob, manifest and tag that would move; move nothing.")
    ] = False,
    smoke: Annotated[
        bool, typer.Option("--smoke", help="Also run each image's smoke command (foreign platforms under qemu).")
    ] = False,
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    timeout: Timeout = None,
    file: ConfigFile = None,
    force: ForceOrder = False,
    json_: JsonFlag = False,
) -> None:
    """Check every planned platform has a digest file, verify the images, write each index, publish all or nothing."""
    from dockyard.cli.output import emit_json, say
    from dockyard.cli.settings import settings
    from dockyard.errors import OperationError, VerificationFailed
    from dockyard.pipeline.merge import VERIFY, merge
    from dockyard.workspace import Workspace

    given = settings(
        file=file, targets=targets, ref=ref, sha=sha, event=event, registry=registry,
        insecure_registry=insecure_registry, ca_cert=ca_cert, timeout=timeout,
    )  # fmt: skip
    with Workspace(given) as ws:
        result = merge(
            ws, digest_dir=digest_dir, dry_run=dry_run, smoke=smoke,
            progress=None if json_ else say, force=force,
        )  # fmt: skip
    if result.error is not None:
        if json_:  # exit 1 still gets its one document: what failed, and where each tag is
            emit_json(result.to_json())
        raise (VerificationFailed if result.stopped == VERIFY else OperationError)(result.error)
    if json_:
        emit_json(result.to_json())
        return
    _render(result)


def _render(result) -> None:
    from rich.markup import escape

    from dockyard.cli.output import console
    from dockyard.publish.summary import table

    out = console()
    for target in result.targets:
        for report in target.reports:
            for f in report.findings:
                if f.severity not in ("error", "warning"):
                    continue  # the checks that passed are in the table's Verify column
                out.print(f"{target.name}  {f.platform or '-'}  {f.rule}  {f.severity}  {escape(f.message)}")
    for action in result.publish.actions:
        out.print(escape(action.line()))
    rows = result.summary_rows()
    title = "dockyard merge" + (" (dry run: nothing moved)" if result.publish.dry_run else "")
    out.print(table(rows, title=title))
