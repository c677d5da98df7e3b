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


def test_the_layout_section_names_only_what_exists():
    text = README.read_text()
    block = text[text.index("```\nsrc/dockyard/\n") :].split("```", 2)[1]
    src = README.parent / "src" / "dockyard"
    names = re.findall(r"(?<![\w/.])([a-z_]+(?:/|\.py))(?=\s)", block.split("tests/unit")[0])
    assert "pipeline/" in names and "errors.py" in names
    missing = [n for n in names if n != "src/dockyard/" and not (src / n.rstrip("/")).exists()]
    assert missing == []


def test_the_layout_section_names_every_package_and_top_level_module():
    text = README.read_text()
    block = text[text.index("```\nsrc/dockyard/\n") :].split("```", 2)[1].split("tests/unit")[0]
    src = README.parent / "src" / "dockyard"
    present = {f"{p.name}/" for p in src.iterdir() if (p / "__init__.py").exists()}
    present |= {p.name for p in src.glob("*.py") if not p.name.startswith("__")}
    unnamed = sorted(n for n in present if not re.search(rf"(?<![\w/.]){re.escape(n)}(?=\s)", block))
    assert unnamed == []


def test_dockyard_debug_shows_a_traceback_instead_of_the_one_line(tmp_path):
    import os
    import subprocess
    import sys

    argv = [sys.executable, "-m", "dockyard", "plan", "-f", str(tmp_path / "nope.toml")]
    env = {k: v for k, v in os.environ.items() if k != "DOCKYARD_DEBUG"}
    quiet = subprocess.run(argv, capture_output=True, text=True, env=env)
    loud = subprocess.run(argv, capture_output=True, text=True, env={**env, "DOCKYARD_DEBUG": "1"})
    assert quiet.returncode == 2 and quiet.stderr.count("\n") == 1
    assert "Traceback (most recent call last)" not in quiet.stderr
    assert loud.returncode != 0 and "Traceback (most recent call last)" in loud.stderr
    assert "nope.toml" in loud.stderr
