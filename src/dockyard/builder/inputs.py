"""The input hash of one build job: unchanged inputs, unchanged image (issue 6 item 6).

`input_hash` digests everything a builder run depends on: the context files
the builder would see (after .containerignore/.dockerignore), the Dockerfile
text as built (the pinned copy, so every base digest is in it), the build
args, the platform, the builder and its version, the target stage, and the
base digests. The build records it on images under INPUT_HASH_ANNOTATION and
skips a job whose hash an image already carries.

It must be the same on every machine for the same inputs, so it hashes no
mtimes, no owners, no absolute paths and no permission bits but the
executable bit: git keeps only that one, and a checkout's other bits follow
the umask of whoever cloned it. A context entry is recorded as its path
relative to the context (bytes, `/`-separated), its type (file, directory,
symlink, other), for a file the executable bit and the sha256 of its
content (streamed, never read whole), for a symlink its target text (never
followed). Entries are visited depth first, names sorted by their bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockyard.digest import Digest
from dockyard.dockerfile.ignore import IgnoreRules, parse_dockerignore
from dockyard.errors import InputError
from dockyard.platform import Platform

INPUT_HASH_ANNOTATION = "dev.dockyard.input-hash"
# The ignore file the builder reads, in its order: buildah (>= 1.28) and BuildKit
# first look beside the Dockerfile (`<Dockerfile>.containerignore`, then
# `<Dockerfile>.dockerignore`; BuildKit only the latter), then in the context
# (`.containerignore`, then `.dockerignore`). Honour the one the builder will,
# or the hash misses files it sends.
IGNORE_SUFFIXES = (".containerignore", ".dockerignore")
IGNORE_FILES = (".containerignore", ".dockerignore")
# Bump when the recorded form changes, or when the same inputs now make a
# different image, so old hashes never match new ones (and an old image is not
# skipped or reused as if this version had built it). 2: the config no longer
# carries the build run's ids (build.reproducible).
FORMAT_VERSION = 2
CHUNK = 1 << 20  # read size when hashing a file: bounded memory for any file size


@dataclass(frozen=True)
class InputHash:
    """The hash and what went into it (for metrics and the build's --json)."""

    digest: Digest
    files: int  # regular files hashed
    bytes: int  # their content, in bytes
    ignore_file: str | None = None  # the ignore file honoured (relative to the context if in it)

    def __str__(self) -> str:
        return str(self.digest)


def input_hash(
    *,
    context: Path,
    dockerfile_text: str,
    args: Mapping[str, str],
    platform: Platform,
    base_digests: Sequence[Digest | str],
    builder: str,
    target_stage: str | None,
    extra: Mapping[str, Any] | None = None,
    dockerfile: Path | None = None,
    ignore: IgnoreRules | None = None,
) -> InputHash:
    """The input hash of one (target, platform) job.

    `builder` is the builder's name and version ("buildah 1.28.2"); `extra`
    holds anything else the caller's output depends on (JSON values). The
    ignore rules default to the ignore file the builder reads (load_ignore,
    with `dockerfile` the Dockerfile's path as given to the builder).
    """
    if ignore is None:
        ignore, ignore_name = load_ignore(context, dockerfile=dockerfile)
    else:
        ignore_name = None
    tree, files, size = context_digest(context, ignore)
    document = {
        "version": FORMAT_VERSION,
        "context": str(tree),
        "dockerfile": dockerfile_text,
        "args": {str(k): str(v) for k, v in args.items()},
        "platform": str(platform),
        "bases": [str(d) for d in base_digests],
        "builder": builder,
        "target": target_stage,
        "extra": dict(extra or {}),
    }
    try:
        raw = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    except (TypeError, ValueError) as exc:
        raise InputError(f"input hash: an extra value is not plain JSON data ({exc})") from None
    digest = Digest("sha256", hashlib.sha256(raw.encode()).hexdigest())
    return InputHash(digest, files, size, ignore_name)


def load_ignore(context: Path, *, dockerfile: Path | None = None) -> tuple[IgnoreRules, str | None]:
    """The ignore rules the builder applies, and the file they came from (None: no file).

    The name is relative to the context when the file is inside it.
    """
    candidates = [Path(f"{dockerfile}{suffix}") for suffix in IGNORE_SUFFIXES] if dockerfile else []
    candidates += [context / name for name in IGNORE_FILES]
    for path in candidates:
        try:
            text = path.read_bytes().decode("utf-8", errors="surrogateescape")
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
        return parse_dockerignore(text, path=str(path)), _shown(path, context)
    return IgnoreRules(), None


def _shown(path: Path, context: Path) -> str:
    try:
        return path.relative_to(context).as_posix()
    except ValueError:
        return str(path)


def context_digest(context: Path, ignore: IgnoreRules) -> tuple[Digest, int, int]:
    """(digest of the context's entries that survive `ignore`, files hashed, bytes hashed)."""
    if not context.is_dir():
        raise InputError(f"{context}: the build context is not a directory")
    hasher = hashlib.sha256()
    files = size = 0
    for record, file_bytes in _records(context, ignore):
        hasher.update(record)
        if file_bytes is not None:
            files += 1
            size += file_bytes
    return Digest("sha256", hasher.hexdigest()), files, size


# ---------------------------------------------------------------- the walk


def _records(context: Path, ignore: IgnoreRules) -> Iterator[tuple[bytes, int | None]]:
    """One NUL-separated record per entry: type, path, then type-specific fields."""
    for relative, entry in _walk(context, "", ignore):
        name = os.fsencode(relative)
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            raise _unreadable(context, relative, exc) from None
        if stat.S_ISDIR(st.st_mode):
            yield b"d\0" + name + b"\0\0", None
        elif stat.S_ISLNK(st.st_mode):
            target = _readlink(context, relative)
            yield b"l\0" + name + b"\0" + target + b"\0\0", None
        elif stat.S_ISREG(st.st_mode):
            executable = b"x" if st.st_mode & 0o111 else b"-"
            content, length = _file_digest(context, relative)
            yield b"f\0" + name + b"\0" + executable + b"\0" + content + b"\0\0", length
        else:
            # fifos, sockets, devices: never opened (a fifo would block); the type is the content
            yield b"o\0" + name + b"\0" + _kind(st.st_mode) + b"\0\0", None


def _walk(root: Path, prefix: str, ignore: IgnoreRules) -> Iterator[tuple[str, os.DirEntry]]:
    directory = root / prefix if prefix else root
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: os.fsencode(e.name))
    except OSError as exc:
        raise _unreadable(root, prefix or ".", exc) from None
    for entry in entries:
        relative = f"{prefix}/{entry.name}" if prefix else entry.name
        excluded = ignore.excludes(relative)
        if not excluded:
            yield relative, entry
        if entry.is_dir(follow_symlinks=False) and (
            not excluded or ignore.may_include_below(relative)
        ):
            yield from _walk(root, relative, ignore)


def _file_digest(root: Path, relative: str) -> tuple[bytes, int]:
    hasher = hashlib.sha256()
    length = 0
    try:
        # O_NOFOLLOW: the entry was a regular file when listed; never follow a swapped-in link.
        fd = os.open(root / relative, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb", buffering=0) as f:
            while chunk := f.read(CHUNK):
                hasher.update(chunk)
                length += len(chunk)
    except OSError as exc:
        raise _unreadable(root, relative, exc) from None
    return hasher.hexdigest().encode(), length


def _readlink(root: Path, relative: str) -> bytes:
    try:
        return os.fsencode(os.readlink(root / relative))
    except OSError as exc:
        raise _unreadable(root, relative, exc) from None


def _kind(mode: int) -> bytes:
    if stat.S_ISFIFO(mode):
        return b"fifo"
    if stat.S_ISSOCK(mode):
        return b"socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return b"device"
    return b"unknown"


def _unreadable(root: Path, relative: str, exc: OSError) -> InputError:
    reason = exc.strerror or str(exc)
    return InputError(
        f"{root / relative}: cannot read it for the input hash ({reason}); "
        "make it readable or list it in .dockerignore"
    )
