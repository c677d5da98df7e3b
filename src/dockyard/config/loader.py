"""Find and read dockyard.toml (the file-system edge of the config package).

`find_config` walks up from the working directory as git does for .git;
`load_config` reads and parses the file with tomllib and hands the document
to `config_from_dict`, the one validation path. The file is named in errors as
the user would type it: relative to the working directory when under it,
else absolute.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from dockyard.config.model import Config
from dockyard.config.native import config_from_dict
from dockyard.errors import InputError

CONFIG_NAME = "dockyard.toml"
_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def find_config(start: Path) -> Path:
    """The nearest dockyard.toml in `start` or one of its parents."""
    start = Path(os.path.abspath(start))
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise InputError(f"no {CONFIG_NAME} found in {start} or any parent (use -f FILE)")


def load_config(
    path: Path | None = None,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    targets_elsewhere: bool = False,
) -> Config:
    """Load and validate a config: `path` (the -f FILE), else the one found from `cwd`.

    `env` (default: the process environment) overrides [variables];
    `targets_elsewhere`: bake files given on the command line define the targets.
    """
    cwd = Path(os.path.abspath(cwd if cwd is not None else Path.cwd()))
    env = os.environ if env is None else env
    found = find_config(cwd) if path is None else Path(os.path.abspath(cwd / path))
    shown = display_path(found, cwd)
    data = parse_toml(_read(found, shown), shown)
    return config_from_dict(
        data, found, env, display=shown, targets_elsewhere=targets_elsewhere
    )


def display_path(path: Path, cwd: Path) -> str:
    """`path` relative to `cwd` when under it, else absolute."""
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def parse_toml(text: str, shown: str) -> dict:
    """tomllib's document, or an InputError `<file>:<line>: <tomllib's message>`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _POSITION.search(message)
        if match is None:  # "(at end of document)": point at the last line
            line = text.count("\n") + 1
            message = message.replace(" (at end of document)", " at end of document")
        else:
            line = int(match.group(1))
            message = message[: match.start()] + f" (at column {match.group(2)})"
        raise InputError(f"{shown}:{line}: {message}") from None


def _read(path: Path, shown: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{shown}: file not found (give an existing file to -f)") from None
    except IsADirectoryError:
        raise InputError(f"{shown}: is a directory (expected a {CONFIG_NAME} file)") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    try:
        # A UTF-8 BOM (Windows editors write one) is not TOML: tomllib read it as "Invalid statement".
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{shown}: not UTF-8 text at byte {exc.start} (TOML files are UTF-8)"
        ) from None
