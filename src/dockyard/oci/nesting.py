"""How deep indexes may nest (an index whose entries are indexes), for every reader.

Real trees are one or two levels (an index of per-platform images; a bundle
of such indexes). A crafted tree ~1000 deep ended in a RecursionError; 16
levels leave room for any real layout and keep recursion far from Python's
limit.
"""

from __future__ import annotations

from dockyard.digest import Digest
from dockyard.errors import ManifestInvalid

MAX_INDEX_DEPTH = 16


def check_depth(depth: int, digest: Digest) -> None:
    """Refuse reading index `digest` found `depth` indexes below the root."""
    if depth > MAX_INDEX_DEPTH:
        raise ManifestInvalid(
            f"index {digest} is nested more than {MAX_INDEX_DEPTH} indexes deep "
            "(a real image has one or two levels)"
        )
