"""Read-after-write: a moved tag is read back until it serves our digest, for a bounded time.

Hosted registries serve the previous digest for a tag for a short while after
a write (reliability.md, scenario 14). The digest we report is always the one
computed from our own bytes; the read-back only confirms the move landed. A
tag that still names the old digest after `READBACK_DELAYS` is a failed move
(exit 1, "registry still serves the old digest"), and the caller rolls back.
"""

from __future__ import annotations

from collections.abc import Callable

from dockyard.digest import Digest
from dockyard.errors import RegistryError
from dockyard.oci.store import Store

# Waits between reads of a moved tag: 7.5 s in all, beyond the second or two
# registries are seen to lag, short enough not to stall a release.
READBACK_DELAYS = (0.5, 1.0, 2.0, 4.0)


def confirm_tag(
    store: Store,
    tag: str,
    digest: Digest,
    *,
    sleep: Callable[[float], None],
    delays: tuple[float, ...] = READBACK_DELAYS,
) -> int:
    """HEAD `tag` until it names `digest`; the number of reads it took. RegistryError past the bound."""
    seen: Digest | None = None
    for reads, delay in enumerate((0.0, *delays), start=1):
        if delay:
            sleep(delay)
        head = store.manifest_head(tag)
        seen = head[0] if head else None
        if seen == digest:
            return reads
    now = str(seen) if seen else "no manifest"
    raise RegistryError(
        f"{store}: registry still serves {now} for tag {tag} {sum(delays):g} s after our PUT of "
        f"{digest} (read-after-write lag past the bound)"
    )
