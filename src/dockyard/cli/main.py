"""Entry point: run the Typer app and turn every error into one line and an exit code.

Exit codes (design.md): 0 done, 1 the operation failed or found problems,
2 bad input. A traceback reaches the user only with DOCKYARD_DEBUG=1.
"""

from __future__ import annotations

import os
import sys

from dockyard.errors import EXIT_FAILED, EXIT_INPUT, DockyardError

# Command -> the module that registers it on dockyard.cli.app.app when imported.
COMMANDS = {
    "plan": "plan", "import": "imports", "inspect": "inspect", "tags": "tags", "copy": "copy",
    "lint": "lint", "doctor": "doctor", "verify": "verify", "retain": "retain", "build": "build",
    "release": "release", "merge": "merge", "scan": "scan", "sign": "sign", "sbom": "sbom",
    "init": "init", "clean": "clean", "ci": "ci", "bake": "bake",
    "load": "load",
}  # fmt: skip


def _debug() -> bool:
    return os.environ.get("DOCKYARD_DEBUG", "") not in ("", "0")


def _json_mode(args: list[str]) -> bool:
    """--json was given (before any `--`): a failure still prints one JSON document."""
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options


def _fail(message: str, code: int, kind: str = "failed", *, as_json: bool = False) -> None:
    # One line, always: collapse any newline a message might carry.
    line = " ".join(str(message).split("\n"))
    sys.stderr.write("error: " + line + "\n")
    if as_json:
        from dockyard.cli.output import emit_failure

        emit_failure(kind, line, code)
    sys.exit(code)


def command_modules(args: list[str]) -> list[str]:
    """The command modules to register: the invoked command's alone, else all of them.

    Typer turns every registered command into a click command (signature and
    option inspection) on each run: ~0.1 s for all of them, a large part of a
    registry command's start-up (issue 11 wants <= 0.15 s for `inspect`). Root
    help, a root option first, or an unknown command (click's "No such
    command" and suggestions) still get every command.
    """
    if args and args[0] in COMMANDS:
        return [COMMANDS[args[0]]]
    return list(COMMANDS.values())


def main(argv: list[str] | None = None) -> None:
    # httpx imports its own command-line client (httpx._main: rich + click,
    # ~0.1 s) unless that import fails, which httpx tolerates; the dockyard
    # command never uses it, and every registry command's start-up would pay
    # for it. Done here, before any command module imports httpx, and not in
    # the library: importing dockyard must not alter a host program's sys.modules.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:  # fast path: no Typer import
        from dockyard import __version__

        print(f"dockyard {__version__}")
        return

    import importlib

    import click
    import typer

    from dockyard.cli.app import app

    for name in command_modules(args):
        importlib.import_module(f"dockyard.cli.{name}")
    as_json = _json_mode(args)
    try:
        # Without standalone mode, a command's `raise typer.Exit(n)` comes back
        # as the return value: it must still become the exit status.
        code = app(args=args, prog_name="dockyard", standalone_mode=False)
        if isinstance(code, int) and code:
            _exit(code, as_json)
    except DockyardError as exc:
        if _debug():
            raise
        _fail(str(exc), exc.exit_code, type(exc).__name__, as_json=as_json)
    except typer.Exit as exc:
        _exit(exc.exit_code, as_json)
    except typer.Abort:
        _fail("aborted", EXIT_FAILED, "Aborted", as_json=as_json)
    except click.ClickException as exc:  # usage errors
        if _debug():
            raise
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            sys.stderr.write(ctx.get_help() + "\n")
            sys.exit(EXIT_INPUT)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _fail(exc.format_message() + hint, EXIT_INPUT, "UsageError", as_json=as_json)
    except KeyboardInterrupt:
        _fail("interrupted", 130, "Interrupted", as_json=as_json)
    except BrokenPipeError:
        sys.exit(EXIT_FAILED)


def _exit(code: int, as_json: bool) -> None:
    """A command's own exit status; with --json and no document printed yet, one saying so."""
    if as_json and code:
        from dockyard.cli.output import emit_failure

        emit_failure("failed", f"exited with status {code}", code)
    sys.exit(code)


if __name__ == "__main__":
    main()
