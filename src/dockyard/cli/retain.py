"""`dockyard retain REPO --keep N`: delete a repository's old tags, never what a kept tag needs."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import CaCert, InsecureRegistries, JsonFlag, Timeout


@app.command("retain")
def retain_command(
    repository: Annotated[
        str, typer.Argument(metavar="REPO", help="Repository, no tag (e.g. ghcr.io/acme/api).")
    ],
    keep: Annotated[
        int, typer.Option("--keep", metavar="N", help="Keep the newest N matching tags (by image creation time).")
    ],
    match: Annotated[
        str | None,
        typer.Option("--match", metavar="REGEX", help="Only tags this regular expression finds are candidates."),
    ] = None,
    protect: Annotated[
        list[str] | None,
        typer.Option("--protect", metavar="TAG", help="Never delete this tag (repeat; e.g. the current release's)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be deleted; delete nothing.")] = False,
    api: Annotated[
        str,
        typer.Option(
            "--api",
            metavar="auto|registry|github|dockerhub",
            help="Where deletes go: OCI DELETE, the GitHub Packages API or the Docker Hub API "
            "(auto: by the registry host).",
        ),
    ] = "auto",
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    timeout: Timeout = None,
    json_: JsonFlag = False,
) -> None:
    """Delete old tags and their manifests; kept tags, protected tags and their children stay."""
    from dockyard.cli.output import emit_json, say
    from dockyard.cli.settings import settings
    from dockyard.oci.retry import RetryPolicy
    from dockyard.pipeline.locations import retain_repository
    from dockyard.workspace import Workspace

    given = settings(
        insecure_registry=insecure_registry, ca_cert=ca_cert, retry=RetryPolicy(), timeout=timeout
    )
    with Workspace(given) as ws:
        result = retain_repository(
            ws, repository, keep=keep, match=match, protect=protect or (), dry_run=dry_run, api=api
        )
    if json_:
        emit_json(result.to_json())
        return
    plan = result.plan
    verb = "would delete" if result.dry_run else "deleted"
    for t in plan.kept:
        say(f"keep    {t.tag:<24} {t.digest.hex[:12]}  {t.created or '-':<25} {t.reason}")
    for t in plan.deleted:
        say(f"{'delete':<7} {t.tag:<24} {t.digest.hex[:12]}  {t.created or '-'}")
    what = f"({len(plan.manifests)} manifests)"
    if result.api != "registry":
        what += f" through the {result.api} API"
    say(f"{result.repository}: kept {len(plan.kept)} tags, {verb} {len(plan.deleted)} tags {what}")
