"""The podman backend: buildah's steps through `podman build` and `podman push`.

podman 4.3 builds with buildah 1.28's library, so one job is the buildah
backend's, word for word, with podman as the program:

    podman [--root R --runroot RR --storage-driver D] build --runtime runc
        --platform P --layers --force-rm --build-arg K=V … (as buildah.py) -t localhost/dockyard/<key> CONTEXT
    podman push --format v2s2|oci <image id> oci:TMP/layout:<tag>

Facts checked with podman 4.3.1 here:
- `--runtime runc`: with crun (podman's default when installed) every RUN
  step fails on this host's hybrid cgroups; runc works, as root and rootless.
- It inherits buildah 1.28's cross-stage bug and does not predefine
  $BUILDPLATFORM either: dockyard's per-platform pinning and the BUILD*/TARGET*
  args it always passes make a `FROM --platform=$BUILDPLATFORM` stage run
  natively and the final stage use the target platform's base.
- `--format docker` keeps HEALTHCHECK, `push --format v2s2` keeps it in the
  layout (as with buildah).
- `podman images` answers JSON with `--format json` (capitalised keys).
- Rootless: as buildah, storage in ~/.local/share/containers, subordinate
  ids from /etc/subuid and /etc/subgid (builder.rootless says what is missing).
"""

from __future__ import annotations

from dockyard.builder.backends.buildah import BuildahBackend


class PodmanBackend(BuildahBackend):
    name = "podman"
    # RUN steps of a foreign platform run under this host's qemu binfmt entry.
    emulates_on_host = True
    package = "podman"
    run_flags = ("--runtime", "runc")
    images_json = ("--format", "json")

    def __init__(self, *, binary: str = "podman", **kwargs) -> None:
        super().__init__(binary=binary, **kwargs)

    def _env(self) -> dict[str, str]:
        # No BUILDAH_ISOLATION: podman's RUN steps run in the runtime named by --runtime.
        return {"STORAGE_DRIVER": self.storage.driver} if self.storage.driver else {}
