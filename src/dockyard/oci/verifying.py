"""A stream that checks what passes through it against a digest and a size.

Every blob read in dockyard goes through one of these, whether its bytes come
from a file in a layout or from a registry's HTTP response.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from typing import IO

from dockyard.digest import Digest
from dockyard.errors import DigestMismatch


class VerifyingReader(io.RawIOBase):
    """A read-only stream that hashes what passes and checks digest and size at the end.

    Raises DigestMismatch as soon as more than `size` bytes arrive, and at EOF
    when the count or the hash is wrong: a caller never sees a clean EOF on
    bad content.
    """

    def __init__(self, raw: IO[bytes], digest: Digest, size: int | None, *, name: str) -> None:
        super().__init__()
        self._raw = raw
        self._digest = digest
        self._size = size
        self._name = name
        self._hash = hashlib.new(digest.algorithm)
        self._count = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._account(data)
        return len(data)

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read() if n is None or n < 0 else self._raw.read(n)
        self._account(data)
        if n is None or n < 0:
            self._account(b"")  # read-all reached EOF: check now
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def _account(self, data: bytes) -> None:
        if data:
            self._hash.update(data)
            self._count += len(data)
            if self._size is not None and self._count > self._size:
                raise DigestMismatch(
                    f"{self._name}: more than the expected {self._size} bytes"
                )
            return
        if self._done:
            return
        self._done = True
        if self._size is not None and self._count != self._size:
            raise DigestMismatch(
                f"{self._name}: {self._count} bytes, expected {self._size}"
            )
        got = self._hash.hexdigest()
        if got != self._digest.hex:
            raise DigestMismatch(
                f"{self._name}: content hashes to {self._digest.algorithm}:{got}, "
                f"expected {self._digest}"
            )

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._raw.close()
        super().close()
