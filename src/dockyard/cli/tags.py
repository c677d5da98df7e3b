"""`dockyard tags`: metadata-action's tags, version and labels for a git context."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import JsonFlag


@app.command("tags")
def tags(
    image: Annotated[
        list[str] | None,
        typer.Option(
            "--image",
            metavar="IMG",
            help="Image to tag (repeat; a multi-line value is one image a line).",
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            metavar="RULE",
            help="metadata-action tag rule, e.g. type=semver,pattern={{version}} (repeat).",
        ),
    ] = None,
    flavor: Annotated[
        list[str] | None,
        typer.Option("--flavor", metavar="FLAVOR", help="Flavor entry, e.g. latest=auto (repeat)."),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label", metavar="KEY=VALUE", help="Extra label/annotation KEY=VALUE (repeat)."
        ),
    ] = None,
    event: Annotated[
        str | None,
        typer.Option(
            "--event",
            metavar="EVENT",
            help="Event name as GitHub names it (push, pull_request, …).",
        ),
    ] = None,
    ref: Annotated[
        str | None,
        typer.Option(
            "--ref",
            metavar="REF",
            help="Git ref (refs/tags/v1.2.3, refs/heads/main, a tag or branch).",
        ),
    ] = None,
    sha: Annotated[str | None, typer.Option("--sha", metavar="SHA", help="Commit SHA.")] = None,
    default_branch: Annotated[
        str | None,
        typer.Option("--default-branch", metavar="BRANCH", help="The repository's default branch."),
    ] = None,
    timestamp: Annotated[
        str | None,
        typer.Option(
            "--timestamp", metavar="TIME", help="Commit time, ISO-8601 (for {{commit_date}})."
        ),
    ] = None,
    require_semver: Annotated[
        bool,
        typer.Option("--require-semver", help="Refuse a tag ref that is not vX.Y.Z[-pre][+build]."),
    ] = False,
    latest_only_stable: Annotated[
        bool,
        typer.Option(
            "--latest-only-stable",
            help="Under latest=auto, no latest for a pre-release tag (v2.0.0-rc.1, 1.0rc1); the action gives one.",
        ),
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Compute image tags, version and OCI labels the way docker/metadata-action does.

    Without --ref/--sha the context comes from GitHub Actions' environment or
    the local git repository; flags override what was found.
    """
    import dataclasses
    import sys

    from dockyard.cli.output import emit_json, say
    from dockyard.gitinfo import detect
    from dockyard.tags import compute_tags

    context = detect(ref=ref, sha=sha, event=event)
    overrides = {"default_branch": default_branch, "timestamp": timestamp}
    context = dataclasses.replace(context, **{k: v for k, v in overrides.items() if v is not None})
    result = compute_tags(
        context,
        images=image or (),
        rules=tag or (),
        flavor=flavor or (),
        labels=label or (),
        require_semver=require_semver,
        latest_only_stable=latest_only_stable,
    )
    if json_out:
        emit_json(result.as_dict())
        return
    if not result.tags:
        say("warning: no tag was generated for this context (check the --tag rules)")
    sys.stdout.write("".join(t + "\n" for t in result.tags))
