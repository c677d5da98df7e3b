"""`dockyard verify REF`: prove each platform image is what its index entry claims."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import CaCert, InsecureRegistries, JsonFlag, Timeout


@app.command("verify")
def verify_command(
    ref: Annotated[str, typer.Argument(metavar="REF", help="oci:DIR[:TAG] or a registry reference.")],
    platforms: Annotated[
        list[str] | None,
        typer.Option(
            "--platforms", "--platform", metavar="P,…",
            help="Platforms the index must hold, no more, no fewer (repeat or comma-separate).",
        ),
    ] = None,
    max_size: Annotated[
        str | None,
        typer.Option("--max-size", metavar="SIZE", help="Budget per platform image, compressed (e.g. 100MB)."),
    ] = None,
    max_size_uncompressed: Annotated[
        str | None,
        typer.Option("--max-size-uncompressed", metavar="SIZE", help="Budget per platform image, uncompressed."),
    ] = None,
    non_root: Annotated[bool, typer.Option("--non-root", help="Fail images that run as root.")] = False,
    healthcheck: Annotated[bool, typer.Option("--healthcheck", help="Fail images without a HEALTHCHECK.")] = False,
    require_label: Annotated[
        list[str] | None,
        typer.Option("--require-label", metavar="KEY", help="A label that must be present and non-empty (repeat)."),
    ] = None,
    allow_foreign: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-foreign", metavar="GLOB",
            help="An absolute path glob of files allowed to be of another architecture, listed as info "
            "(repeat; * stays within one directory, /** spans any depth).",
        ),
    ] = None,
    smoke: Annotated[
        bool, typer.Option("--smoke", help="Run each platform's HEALTHCHECK command in its image (qemu if foreign).")
    ] = False,
    smoke_cmd: Annotated[
        str | None,
        typer.Option(
            "--smoke-cmd", metavar="CMD",
            help='Command to smoke-run instead of the HEALTHCHECK: a JSON array or shell words (implies --smoke).',
        ),
    ] = None,
    smoke_timeout: Annotated[
        float, typer.Option("--smoke-timeout", metavar="SECONDS", help="Time limit per smoke run.")
    ] = 60.0,
    health: Annotated[
        bool,
        typer.Option(
            "--health",
            help="Start each platform's image (qemu if foreign), isolated, and wait until its HEALTHCHECK "
            "passes (and --health-http answers 2xx); the container is always removed.",
        ),
    ] = False,
    health_http: Annotated[
        str | None,
        typer.Option(
            "--health-http", metavar="PATH",
            help="Also GET this path on the published port and expect 2xx, e.g. /health (implies --health).",
        ),
    ] = None,
    health_port: Annotated[
        int | None,
        typer.Option(
            "--health-port", metavar="N",
            help="The container port --health-http probes (default: the image's one EXPOSEd TCP port).",
        ),
    ] = None,
    health_timeout: Annotated[
        str | None,
        typer.Option(
            "--health-timeout", metavar="D",
            help="Per platform, from start until healthy: seconds or 90s, 2m, 1m30s (default 120 s).",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key", metavar="PUB.pem",
            help="Also check the cosign signatures of the index and every child with this public key "
            "(a PEM file, file:PATH or env:NAME); a manifest without a valid signature is an error.",
        ),
    ] = None,
    allow_empty: Annotated[
        bool,
        typer.Option("--allow-empty", help="Pass an index that holds no platform image (nothing to verify)."),
    ] = False,
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    timeout: Timeout = None,
    json_: JsonFlag = False,
) -> None:
    """Check an image or index: platforms, configs, ELF architectures, policy, smoke runs, live health, signatures."""
    from dockyard.cli.output import emit_json, say
    from dockyard.cli.settings import settings
    from dockyard.config.healthtable import health_from_flags
    from dockyard.config.sizes import parse_size
    from dockyard.errors import InputError, VerificationFailed
    from dockyard.oci.imports import parse_command
    from dockyard.oci.retry import RetryPolicy
    from dockyard.pipeline.locations import verify_location
    from dockyard.pipeline.sign import verifying_key
    from dockyard.platform import parse_platforms
    from dockyard.verify.image import VerifyOptions
    from dockyard.workspace import Workspace

    if smoke_timeout <= 0:
        raise InputError(f"--smoke-timeout {smoke_timeout:g}: expected a number of seconds above 0")
    command = parse_command(smoke_cmd, option="--smoke-cmd") if smoke_cmd is not None else ()
    globs = _globs(allow_foreign or ())
    options = VerifyOptions(
        platforms=parse_platforms(platforms or ()),
        max_size=parse_size(max_size) if max_size is not None else None,
        max_size_uncompressed=(
            parse_size(max_size_uncompressed) if max_size_uncompressed is not None else None
        ),
        non_root=non_root,
        healthcheck=healthcheck,
        require_labels=tuple(require_label or ()),
        allow_foreign=globs,
        smoke=smoke or bool(command),
        smoke_cmd=command,
        smoke_timeout=smoke_timeout,
        health=health_from_flags(health, health_http, health_port, health_timeout),
        allow_empty=allow_empty,
    )
    given = settings(
        insecure_registry=insecure_registry, ca_cert=ca_cert, retry=RetryPolicy(), timeout=timeout
    )
    with Workspace(given) as ws:
        public = verifying_key(ws, key) if key is not None else None  # bad key: exit 2 first
        report = verify_location(
            ws, ref, expect=options, key=public, progress=None if json_ else say
        )
    if json_:
        emit_json(report.to_json())
    else:
        _render(report)
    if not report.ok:
        # Through the error tree (exit 1): main() drops the code of a typer.Exit raised here.
        rules = sorted({f.rule for f in report.errors})
        # Signature failures name each manifest: which child, and why, in the one line.
        unsigned = [f.message for f in report.errors if f.rule.startswith("signature.")]
        raise VerificationFailed(
            f"{report.reference}: {len(report.errors)} error finding(s) ({', '.join(rules)})"
            + "".join(f"; {message}" for message in unsigned)
        )


def _globs(texts: list[str]) -> tuple[str, ...]:
    from dockyard.config.pathglob import check_path_glob
    from dockyard.errors import InputError

    try:
        return tuple(check_path_glob(text) for text in texts)
    except InputError as exc:
        raise InputError(f"--allow-foreign: {exc}") from None


_STYLE = {"error": "red", "warning": "yellow", "info": "green"}


def _render(report) -> None:
    from rich.table import Table

    from dockyard.cli.output import console

    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("platform", "check", "result", "path / message"):
        table.add_column(column, overflow="fold")
    for row in _rows(report):
        table.add_row(*row)
    out = console()
    out.print(table)
    errors = len(report.errors)
    verdict = "[green]ok[/green]" if report.ok else f"[red]{errors} error{'s' if errors != 1 else ''}[/red]"
    out.print(f"{report.reference}  {report.digest}  {verdict}")


def _rows(report):
    """Index findings, then per platform its findings and an 'ok' row per check that found nothing."""
    from rich.markup import escape

    by_platform = {p.platform for p in report.platforms}
    for f in report.findings:
        if f.platform not in by_platform:
            yield _finding_row(f, escape)
    for p in report.platforms:
        mine = [f for f in report.findings if f.platform == p.platform]
        for f in mine:
            yield _finding_row(f, escape)
        for check in p.checks:
            if not any(f.rule == check or f.rule.startswith(check + ".") for f in mine):
                yield (p.platform, check, "[green]ok[/green]", "")


def _finding_row(f, escape):
    style = _STYLE[f.severity]
    where = f"{f.path}: {f.message}" if f.path not in ("", "/") else f.message
    return (f.platform or "-", f.rule, f"[{style}]{f.severity}[/{style}]", escape(where))
