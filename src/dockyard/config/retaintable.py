"""dockyard.toml's [retain] table -> RetainConfig (pure; native.py calls it).

    [retain]
    keep  = 10              # the newest 10 matching tags stay (and the release's own tags)
    match = '^\\d+\\.\\d+\\.\\d+$'   # only these tags are candidates (re.search); default: every tag
    api   = "auto"          # auto | registry | github | dockerhub (publish/hosted.py)

After a successful (not dry-run) release, every repository it published to
is pruned as `dockyard retain REPO --keep N --match R --api A` would, with
the release's tags protected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dockyard.config.fields import Fields
from dockyard.config.model import RETAIN_APIS, RetainConfig

RETAIN_KEYS = ("keep", "match", "api")
# More than this many tags per repository is not retention any more.
MAX_KEEP = 100_000


def retain_config(fields: Fields, table: Mapping[str, Any]) -> RetainConfig:
    if "keep" not in table:
        raise fields.error(
            "retain.keep", "missing (expected the number of tags to keep, e.g. keep = 10)"
        )
    keep = fields.integer(table["keep"], "retain.keep", low=0, high=MAX_KEEP)
    match = None
    if "match" in table:
        match = fields.string(table["match"], "retain.match")
        try:
            re.compile(match)
        except re.error as exc:
            raise fields.error(
                "retain.match", f"{match!r} is not a regular expression ({exc})"
            ) from None
    api = "auto"
    if "api" in table:
        api = fields.string(table["api"], "retain.api")
        if api not in RETAIN_APIS:
            raise fields.error(
                "retain.api", f"{api!r} is not an API (valid: {', '.join(RETAIN_APIS)})"
            )
    return RetainConfig(keep=keep, match=match, api=api)
