"""The CLI contract every command shares: exit codes, one-line errors, --version."""

import subprocess
import sys

from dockyard import __version__


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args], capture_output=True, text=True, env=env
    )


def test_version_prints_version_and_exits_zero():
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"dockyard {__version__}"


def test_unknown_option_is_one_line_exit_2():
    proc = run("--no-such-flag")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    # click's wording varies across versions; the option and the hint are ours to keep.
    assert lines[0].startswith("error: No such option")
    assert "--no-such-flag" in lines[0]
    assert lines[0].endswith("(see 'dockyard --help')")


def test_no_arguments_shows_help_exit_2():
    proc = run()
    assert proc.returncode == 2
    assert "Usage: dockyard" in proc.stderr


def test_a_command_exit_code_is_kept():
    # A command that ends with typer.Exit(n) must exit n, not 0.
    import typer

    from dockyard.cli.app import app
    from dockyard.cli.main import main

    @app.command("_exit3", hidden=True)
    def _exit3() -> None:
        raise typer.Exit(3)

    try:
        main(["_exit3"])
    except SystemExit as exc:
        assert exc.code == 3
    else:
        raise AssertionError("main() returned instead of exiting 3")


LOADED_COMMANDS = """
import sys
from dockyard.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
shared = ("dockyard.cli.main", "dockyard.cli.app", "dockyard.cli.options", "dockyard.cli.output")
print()
print("loaded:", *sorted(m for m in sys.modules if m.startswith("dockyard.cli.") and m not in shared))
"""


def loaded_command_modules(*args):
    proc = subprocess.run(
        [sys.executable, "-c", LOADED_COMMANDS, *args], capture_output=True, text=True
    )
    last = proc.stdout.splitlines()[-1]
    assert last.startswith("loaded:"), proc.stderr
    return set(last.split()[1:]), proc


def test_a_command_loads_only_its_own_module():
    # Start-up: Typer builds every registered command on each run (issue 11).
    loaded, proc = loaded_command_modules("tags", "--help")
    assert "Usage: " in proc.stdout and "--ref" in proc.stdout
    assert loaded == {"dockyard.cli.tags"}


def test_root_help_and_an_unknown_command_still_see_every_command():
    from dockyard.cli.main import COMMANDS

    proc = run("--help")
    assert proc.returncode == 0
    for command in COMMANDS:
        assert command in proc.stdout
    loaded, proc = loaded_command_modules("inspekt")
    assert {f"dockyard.cli.{m}" for m in COMMANDS.values()} <= loaded
    proc = run("inspekt")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: No such command")
