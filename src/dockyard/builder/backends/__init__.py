"""The builder backends: what one is (the Backend protocol), and how one is found.

    backend = get_backend("buildah")
    out = backend.build(BuildRequest(...))   # BuildFailed (exit 1) on failure
    out.digest                               # the image manifest in req.output, tagged req.tag

One (target, platform) job in, one image in a layout out: the request and
its output are in request.py; what the backends share (the logged run, the
one-line BuildFailed, the copy into the layout) in common.py.

Adding a builder: one module here with a class that implements `Backend`,
and one line in `dockyard.builders.BACKENDS` (the one list, a leaf the config
also reads). Everything else asks the backend: `--builder` and
`project.builder` accept the list's names, the build run asks it how to name a cache per
platform and whether foreign RUN steps need this host's emulation.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

from dockyard.builders import BACKENDS, DEFAULT_BACKEND
from dockyard.errors import InputError

if TYPE_CHECKING:
    from dockyard.builder.backends.request import BuildOutput, BuildRequest
    from dockyard.ref import Reference



class Backend(Protocol):
    name: str
    # True when a foreign platform's RUN steps run on this host under qemu, so
    # the build run checks binfmt_misc (dockyard.emulation) before building.
    emulates_on_host: bool

    def version(self) -> str:
        """The builder's version ("1.28.2"); OperationError when it is not usable here."""
        ...

    def registry_cache(self, ref: Reference, suffix: str) -> str:
        """A registry cache `REPO[:TAG]` as this builder names it for one platform.

        `suffix` is the platform's tag (`linux-arm64`): the caches of two
        platforms never mix. The rest of a cache spec's grammar is shared
        (builder.jobrules.platform_cache).
        """
        ...

    def build(self, req: BuildRequest) -> BuildOutput: ...


def get_backend(name: str = DEFAULT_BACKEND) -> Backend:
    """The backend called `name`; InputError naming the valid ones otherwise."""
    where = BACKENDS.get(name)
    if where is None:
        raise InputError(f"unknown builder '{name}' (valid: {', '.join(BACKENDS)})")
    module, _, cls = where.partition(":")
    return getattr(importlib.import_module(module), cls)()
