"""Every option the README's command table shows exists on that command (and `release --builder`)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import typer.main

from dockyard.cli.app import app
from dockyard.cli.main import COMMANDS

README = Path(__file__).resolve().parents[2] / "README.md"
# A table row: | `dockyard NAME SYNOPSIS` | what it does |
_ROW = re.compile(r"^\| `dockyard (\w+)([^`]*)` \|", re.MULTILINE)
_OPTION = re.compile(r"(?<![\w-])(--?[a-z][\w-]*)")


def readme_synopses() -> dict[str, set[str]]:
    rows = _ROW.findall(README.read_text())
    assert len(rows) >= 12, "README.md's command table not found"
    return {name: set(_OPTION.findall(synopsis)) for name, synopsis in rows}


def cli_options(name: str) -> set[str]:
    for module in COMMANDS.values():  # each registers its command on `app` when imported
        importlib.import_module(f"dockyard.cli.{module}")
    group = typer.main.get_command(app)
    command = group.commands[name]
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


@pytest.mark.parametrize(("name", "options"), sorted(readme_synopses().items()))
def test_every_option_in_the_readme_table_exists(name, options):
    assert options, name
    assert options <= cli_options(name), (
        f"{name}: README shows {sorted(options - cli_options(name))}"
    )


def test_release_and_build_take_the_same_builder_option():
    # The README's config: `builder = ...  --builder overrides` (build, release, doctor).
    for name in ("build", "release", "doctor"):
        assert "--builder" in cli_options(name), name
