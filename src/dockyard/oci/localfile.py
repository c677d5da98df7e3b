"""Opening a file of an OCI layout: regular files only, read with a cap.

A blob or index.json that is a FIFO would block the first read forever, a
symlink to /dev/zero would never end, and a huge index.json would be read
whole. So every layout reader opens through here: O_NOFOLLOW (a symlink as
the last component is refused), O_NONBLOCK (opening a FIFO without a writer
returns at once instead of waiting), then fstat on the descriptor we hold
(no race with a rename) and anything but a regular file is refused with one
line naming the path. Small files are read with a cap, never whole.

And the layout's temp files: a writer names them `.tmp-<pid>-...`, and
`sweep_stale` removes those whose writer is gone (killed mid-write).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from dockyard.errors import LayoutInvalid, OperationError

_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def _refuse(path: Path | str, mode: int) -> LayoutInvalid:
    kind = next((name for test, name in _KINDS if test(mode)), "not a plain file")
    return LayoutInvalid(
        f"{path}: is {kind}, not a regular file (a layout's blobs and index.json must be "
        "plain files)"
    )


def open_regular(path: Path | str) -> BinaryIO:
    """`path` opened for binary reading; FileNotFoundError passes through.

    LayoutInvalid when it is a symlink or not a regular file; OperationError
    for any other OS error.
    """
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink
            raise LayoutInvalid(
                f"{path}: is a symlink (a layout's blobs and index.json must be plain files)"
            ) from None
        raise OperationError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(path, st.st_mode)
        # Back to blocking reads: O_NONBLOCK was only for the open itself.
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def stat_regular(path: Path | str) -> os.stat_result:
    """lstat of `path`, refused unless a regular file; FileNotFoundError passes through."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise LayoutInvalid(
            f"{path}: is a symlink (a layout's blobs and index.json must be plain files)"
        )
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(path, st.st_mode)
    return st


def read_capped(path: Path | str, limit: int, *, what: str) -> bytes:
    """The whole of a small regular file, refused (LayoutInvalid) when over `limit` bytes."""
    with open_regular(path) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise LayoutInvalid(f"{path}: {what} exceeds the {limit} byte limit")
    return data


_TEMP = re.compile(r"\.tmp-(\d+)-.+")


def sweep_stale(path: Path) -> None:
    """Remove `.tmp-<pid>-*` files whose writer is gone (killed mid-write: kill -9 of a
    copy left ~190 MB behind). A live pid keeps its file, whoever it is now: a
    pid reused by another process costs a leftover, never a live writer's file.
    (A layout written from another pid namespace at the same time is not supported.)
    """
    try:
        names = [e.name for e in os.scandir(path)]
    except FileNotFoundError:
        return
    for name in names:
        match = _TEMP.fullmatch(name)
        if match is None or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True
