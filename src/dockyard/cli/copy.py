"""`dockyard copy SRC DST`: an image or index between layouts and registries."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import CaCert, ForceOrder, InsecureRegistries, JsonFlag, Timeout


@app.command("copy")
def copy_command(
    source: Annotated[str, typer.Argument(metavar="SRC", help="oci:DIR[:TAG] or a registry reference.")],
    destination: Annotated[
        str, typer.Argument(metavar="DST", help="oci:DIR[:TAG] or a registry reference.")
    ],
    all_: Annotated[
        # skopeo copies one platform unless told --all; dockyard copies the whole index by
        # default, and takes --all so that a skopeo command line keeps its meaning here.
        bool, typer.Option("--all", help="Copy the whole index: the default, spelled as skopeo's --all.")
    ] = False,
    platform: Annotated[
        str | None,
        typer.Option("--platform", metavar="P", help="Copy only this platform's image (e.g. linux/arm64)."),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", metavar="N", help="Parallel blob transfers.")] = 4,
    no_referrers: Annotated[
        # Carried by default (oras cp needs -r, regctl --referrers --digest-tags): a promotion
        # that drops its signatures and SBOMs is the surprise, not the other way round.
        bool,
        typer.Option(
            "--no-referrers",
            help="Leave the evidence behind: the OCI referrers and cosign .sig/.att/.sbom tags.",
        ),
    ] = False,
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    retry_attempts: Annotated[
        int, typer.Option("--retry-attempts", metavar="N", help="Tries per request or blob transfer.")
    ] = 3,
    timeout: Timeout = None,
    force: ForceOrder = False,
    json_: JsonFlag = False,
) -> None:
    """Copy an image or a multi-platform index: blobs, children, their evidence, then the tag."""
    from dockyard.cli.output import emit_json, say
    from dockyard.cli.settings import copy_settings
    from dockyard.config.sizes import round_size
    from dockyard.errors import InputError
    from dockyard.pipeline.locations import copy_location
    from dockyard.workspace import Workspace

    if all_ and platform:
        raise InputError("--all and --platform exclude each other (--all copies every platform)")
    given = copy_settings(
        insecure_registry=insecure_registry, ca_cert=ca_cert, retry_attempts=retry_attempts, jobs=jobs,
        timeout=timeout,
    )
    with Workspace(given) as ws, _progress() as progress:
        result = copy_location(
            ws, source, destination, platform=platform, jobs=jobs, progress=progress,
            referrers=not no_referrers, force=force,
        )  # fmt: skip
    if json_:
        emit_json(result.to_json())
        return
    if result.up_to_date:
        say(f"{result.destination} is up to date ({result.digest})")
        return
    b = result.blobs
    say(
        f"{result.destination}  {result.digest}  blobs: {b.copied} copied ({round_size(b.bytes)}), "
        f"{b.mounted} mounted, {b.skipped} present{_evidence(result.evidence)}; {result.seconds:.2f} s"
    )


def _evidence(e) -> str:
    """`, evidence: 2 referrers, 1 cosign tags carried (1 present)`, or "" when none was seen."""
    if e is None or not (e.copied or e.referrers_skipped or e.tags_skipped or e.tags_diverged):
        return ""
    text = f", evidence: {e.referrers_copied} referrers, {e.tags_copied} cosign tags carried"
    present = e.referrers_skipped + e.tags_skipped
    text += f" ({present} present)" if present else ""
    return text + (f", {e.tags_diverged} cosign tags left as they were" if e.tags_diverged else "")


class _Silent:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None


def _progress():
    """A rich progress display on stderr when it is a terminal, else nothing."""
    if not sys.stderr.isatty():
        return _Silent()
    return _RichProgress()


class _RichProgress:
    """Total bytes and rate, plus one bar per blob in flight (the Progress protocol of oci.copyresult)."""

    def __enter__(self):
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        from dockyard.cli.output import console

        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console(),
            transient=True,
        )
        self._bars.__enter__()
        self._total = self._bars.add_task("total", total=0)
        self._tasks: dict = {}
        return self

    def __exit__(self, *exc) -> None:
        self._bars.__exit__(*exc)

    def blob_started(self, digest, size: int) -> None:
        if digest in self._tasks:  # a retry: start the bar over, take its bytes off the total
            task = self._tasks[digest]
            done = next(t.completed for t in self._bars.tasks if t.id == task)
            self._bars.advance(self._total, -done)
            self._bars.reset(task, total=size)
            return
        self._tasks[digest] = self._bars.add_task(digest.hex[:12], total=size)
        total = self._bars.tasks[self._total].total or 0
        self._bars.update(self._total, total=total + size)

    def blob_advanced(self, digest, n: int) -> None:
        self._bars.advance(self._tasks[digest], n)
        self._bars.advance(self._total, n)

    def blob_done(self, digest, outcome: str) -> None:
        task = self._tasks.pop(digest, None)
        if task is not None:
            self._bars.remove_task(task)
