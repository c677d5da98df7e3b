"""`dockyard lint`: multi-arch Dockerfile rules, plus hadolint's when it is installed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import BakeSet, JsonFlag, ProjectFiles


@app.command("lint")
def lint_command(
    dockerfiles: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="DOCKERFILE",
            help="Dockerfiles to lint (default: every target's Dockerfile in dockyard.toml; with -f, a named one gets its target's build args).",
            show_default=False,
        ),
    ] = None,
    file: ProjectFiles = None,
    set_: BakeSet = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            metavar="RULE",
            help="Drop findings of this rule: DY003, or a hadolint code such as DL3008 (repeat).",
        ),
    ] = None,
    no_hadolint: Annotated[
        bool, typer.Option("--no-hadolint", help="Do not run hadolint even when installed.")
    ] = False,
    json_: JsonFlag = False,
) -> None:
    """Lint Dockerfiles for multi-arch traps; exit 1 when any finding is an error."""
    from dockyard.cli.output import emit_json
    from dockyard.cli.settings import split_files
    from dockyard.lint.files import lint_files
    from dockyard.lint.rules import parse_ignore

    config_file, bake_files = split_files(file)
    report = lint_files(
        dockerfiles or (),
        config_file=config_file,
        bake_files=bake_files,
        overrides=set_ or (),
        ignore=parse_ignore(ignore or ()),
        hadolint=not no_hadolint,
    )
    if json_:
        emit_json(report.to_json())
    else:
        _render(report)
    if report.has_errors:
        # Through the error tree (exit 1): main() drops the code of a typer.Exit raised here.
        from dockyard.errors import VerificationFailed

        raise VerificationFailed(
            f"lint found {report.count('error')} error findings in {len(report.files)} Dockerfiles"
        )


def _render(report) -> None:
    """Aligned rows (path:line, rule, severity, message), each hint below its message.

    One row a line, never wrapped: the output is meant to be grepped as well as read.
    """
    from rich.text import Text

    from dockyard.cli.output import console

    styles = {"error": "bold red", "warning": "yellow", "info": "cyan"}
    rows = [(f"{f.path}:{f.detail.get('line', '?')}", f.rule, f.severity, f) for f in report.findings]
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
    out = console()
    for where, rule, severity, finding in rows:
        line = Text(f"{where:<{widths[0]}}  {rule:<{widths[1]}}  ")
        line.append(f"{severity:<{widths[2]}}", style=styles[severity])
        line.append(f"  {finding.message}")
        out.print(line, soft_wrap=True)
        if finding.detail.get("hint"):
            indent = " " * (sum(widths) + 6)
            out.print(Text(f"{indent}{finding.detail['hint']}", style="dim"), soft_wrap=True)
    hadolint = "hadolint ran" if report.hadolint else "hadolint not installed"
    out.print(
        f"{report.count('error')} errors, {report.count('warning')} warnings, "
        f"{report.count('info')} infos in {len(report.files)} Dockerfiles ({hadolint})",
        markup=False,
        soft_wrap=True,
    )
