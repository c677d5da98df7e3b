"""Where a signing or verifying key comes from: `env:NAME` or `file:PATH` (pure).

    source = parse_key_source("env:COSIGN_KEY")           # the PEM is in $COSIGN_KEY
    source = parse_key_source("file:keys/cosign.key", base=root)
    source = parse_key_source("cosign.pub", base=cwd, bare="file")   # the CLI's --key

`[sign] key` in dockyard.toml must say which (`env:` or `file:`): a bare
string could be either, and guessing wrong would read a file named like a
variable or the other way round. On the command line a bare value is a file,
as cosign's `--key` is. The key itself is read only when it is used
(evidence/sign/keys.py), never by the config: an env variable may be set by
the CI step that runs the release, not by the one that lints the config.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dockyard.errors import InputError

ENV, FILE = "env", "file"
KINDS = (ENV, FILE)
# POSIX shell's variable names: what a CI system can export.
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VALID = 'expected "env:NAME" (the PEM key is in that environment variable) or "file:PATH"'


@dataclass(frozen=True)
class KeySource:
    """A key's place: an environment variable's name, or a file's path (absolute once parsed)."""

    kind: Literal["env", "file"]
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


def parse_key_source(text: str, *, base: Path | None = None, bare: str | None = None) -> KeySource:
    """`env:NAME` or `file:PATH` (relative to `base`); `bare="file"` reads a plain value as a path.

    InputError (the message names the text and what is valid; the caller adds where it was).
    """
    kind, sep, value = text.partition(":")
    if not sep or kind not in KINDS:
        if bare == FILE and text:
            kind, value = FILE, text
        else:
            raise InputError(f"{text!r} does not say where the key is ({VALID})")
    if kind == ENV:
        if not _VARIABLE.fullmatch(value):
            raise InputError(
                f"{text!r}: {value!r} is not an environment variable name "
                "(expected letters, digits and _, not starting with a digit)"
            )
        return KeySource(ENV, value)
    if not value:
        raise InputError(f"{text!r}: the path is empty ({VALID})")
    # normpath, not resolve(): keep the user's symlinks and stay a string operation.
    path = value if os.path.isabs(value) else os.path.normpath((base or Path()) / value)
    return KeySource(FILE, str(path))
