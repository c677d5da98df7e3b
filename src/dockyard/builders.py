"""The one list of builder backends: each name and where its class is ("module:Class").

A leaf (it imports nothing) so that every layer can read it: the config
refuses an unknown `project.builder` as the file loads, the CLI spells
`--builder`'s metavar from it, and `builder.backends.get_backend` imports a
class only when it is asked for (the backends' modules cost ~50 ms of
start-up). A new builder is a module under builder/backends/ and one line here.
"""

BACKENDS: dict[str, str] = {
    "buildah": "dockyard.builder.backends.buildah:BuildahBackend",  # daemonless
    "buildx": "dockyard.builder.backends.buildx:BuildxBackend",  # a Docker engine + buildx
    "podman": "dockyard.builder.backends.podman:PodmanBackend",  # daemonless, buildah inside
    "docker": "dockyard.builder.backends.docker:DockerBackend",  # a Docker engine's BuildKit
}
DEFAULT_BACKEND = "buildah"
