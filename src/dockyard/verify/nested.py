"""The platform images inside nested indexes (an index of indexes), read for verify.

An index entry may itself be an index (a multi-image bundle, an index of
per-variant indexes). verify reads each one and verifies the platform images
it holds, as a pull would find them. Bounded: nesting deeper than
MAX_INDEX_DEPTH is an error finding, as is an index that lists itself (a
cycle), so a crafted tree can neither recurse without end nor make verify
pass what it never read.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.digest import Digest
from dockyard.errors import DigestMismatch, ManifestInvalid, NotFound
from dockyard.findings import Finding
from dockyard.oci import mediatypes as mt
from dockyard.oci.fetch import child_index
from dockyard.oci.models import Descriptor, Index
from dockyard.oci.nesting import MAX_INDEX_DEPTH
from dockyard.oci.store import Store
from dockyard.verify.checks import Child, normalise


@dataclass
class _Walk:
    store: Store
    children: list[Child]
    findings: list[Finding]


def nested_children(store: Store, top: Index) -> tuple[list[Child], list[Finding]]:
    """The platform images of every index nested in `top` and the findings of the walk.

    Rules: `index.too-deep` (nesting beyond MAX_INDEX_DEPTH), `index.cycle`
    (an index under itself), `blob.invalid` (a nested index that cannot be read).
    """
    walk = _Walk(store, [], [])
    _walk(walk, top, (top.digest,))
    return walk.children, walk.findings


def _walk(walk: _Walk, index: Index, stack: tuple[Digest, ...]) -> None:
    for entry in index.manifests:
        if entry.media_type not in mt.INDEX_TYPES:
            continue
        if entry.digest in stack:
            walk.findings.append(_finding("index.cycle", entry, "lists itself (a cycle)"))
            continue
        if len(stack) >= MAX_INDEX_DEPTH:
            walk.findings.append(
                _finding(
                    "index.too-deep",
                    entry,
                    f"nested more than {MAX_INDEX_DEPTH} indexes deep: not read",
                )
            )
            continue
        try:
            nested = child_index(walk.store, entry)
        except (DigestMismatch, ManifestInvalid, NotFound) as exc:
            walk.findings.append(_finding("blob.invalid", entry, str(exc)))
            continue
        walk.children += [Child(d, normalise(d.platform)) for d in nested.platforms()]  # type: ignore[arg-type]
        _walk(walk, nested, (*stack, entry.digest))


def _finding(rule: str, entry: Descriptor, what: str) -> Finding:
    return Finding(
        rule=rule,
        severity="error",
        platform="",
        path=str(entry.digest),
        message=f"nested index {entry.digest}: {what}",
    )
