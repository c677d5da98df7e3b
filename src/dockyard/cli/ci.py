"""`dockyard ci github|gitlab|make|matrix`: CI files generated from dockyard.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import ConfigFile, JsonFlag, PlatformOpt, Registries, Selection

ci_app = typer.Typer(
    help="Generate CI files (GitHub Actions, GitLab CI, Make) from dockyard.toml.",
    no_args_is_help=True,
)
app.add_typer(ci_app, name="ci")

Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", metavar="PATH", help="Write the file here (default: print it)."),
]
Runners = Annotated[
    list[str] | None,
    typer.Option(
        "--runner", metavar="PLATFORM=LABEL",
        help="The runner that builds PLATFORM natively (repeat); defaults: linux/amd64=ubuntu-24.04, "
        "linux/arm64=ubuntu-24.04-arm. Other platforms build on the amd64 runner under qemu.",
    ),
]  # fmt: skip
Qemu = Annotated[
    bool, typer.Option("--qemu", help="Build every platform on the linux/amd64 runner, under qemu.")
]


def _emit(text: str, output: Path | None) -> None:
    from dockyard.cli.output import say

    if output is None:
        typer.echo(text, nl=False)
        return
    from dockyard.pipeline.cifiles import write_text

    write_text(output, text)
    say(f"wrote {output}")


@ci_app.command("github")
def github_command(
    targets: Selection = None,
    output: Output = None,
    runner: Runners = None,
    qemu: Qemu = False,
    registry: Registries = None,
    staging: Annotated[
        str,
        typer.Option(
            "--staging",
            metavar="REPO",
            help="Where build jobs push by digest (default: <registry>/<project>-staging).",
        ),
    ] = "",
    branch: Annotated[
        str,
        typer.Option("--branch", metavar="NAME", help="The default branch: pushes to it publish."),
    ] = "main",
    action: Annotated[
        str,
        typer.Option(
            "--action",
            metavar="REF",
            help="The dockyard action the jobs use: ./ (this repository) or OWNER/REPO@<40-hex sha>.",
        ),
    ] = "./",
    file: ConfigFile = None,
) -> None:
    """A GitHub Actions workflow: plan -> a native build per target x platform -> merge."""
    from dockyard.pipeline.cifiles import github_workflow

    text = github_workflow(
        file, targets=targets or (), runners=runner or (), qemu=qemu, registries=registry or (),
        staging=staging, branch=branch, action=action,
    )  # fmt: skip
    _emit(text, output)


@ci_app.command("gitlab")
def gitlab_command(
    targets: Selection = None,
    output: Output = None,
    registry: Registries = None,
    file: ConfigFile = None,
) -> None:
    """A .gitlab-ci.yml: a parallel matrix of native builds, then a merge stage."""
    from dockyard.pipeline.cifiles import gitlab_file

    _emit(gitlab_file(file, targets=targets or (), registries=registry or ()), output)


@ci_app.command("make")
def make_command(targets: Selection = None, output: Output = None, file: ConfigFile = None) -> None:
    """A Makefile: release, release-local, build-<target>[-<arch>], container-*, verify, clean, setup-builder."""
    from dockyard.pipeline.cifiles import make_file

    _emit(make_file(file, targets=targets or ()), output)


@ci_app.command("matrix")
def matrix_command(
    targets: Selection = None,
    platform: PlatformOpt = None,
    runner: Runners = None,
    qemu: Qemu = False,
    file: ConfigFile = None,
    json_: JsonFlag = True,
) -> None:
    """The plan's target x platform matrix for a workflow's build job, as JSON (always)."""
    from dockyard.cli.output import emit_json
    from dockyard.pipeline.cifiles import build_matrix

    emit_json(
        build_matrix(
            file, targets=targets or (), platforms=platform or (), runners=runner or (), qemu=qemu
        )
    )
