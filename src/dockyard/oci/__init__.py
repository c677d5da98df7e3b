"""OCI models (pure), the Store protocol, and its two implementations.

Pure: mediatypes, models. I/O edges: layout (disk), registry (HTTP).
"""

import sys as _sys

# httpx imports its own command-line client (rich + click, ~0.1 s) unless that
# import fails, which httpx tolerates; dockyard never uses it, and start-up
# time of every registry command pays for it.
_sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
