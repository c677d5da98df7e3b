"""The one dict of builder backends: lookup and what each backend answers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dockyard.builder.backends import get_backend
from dockyard.builder.backends.buildah import BuildahBackend
from dockyard.builder.backends.buildx import BuildxBackend
from dockyard.builder.backends.docker import DockerBackend
from dockyard.builder.backends.podman import PodmanBackend
from dockyard.builders import BACKENDS, DEFAULT_BACKEND
from dockyard.ref import parse_ref


def test_every_registered_name_loads_a_backend_of_that_name():
    # The dict names classes as "module:Class": a typo would only show at lookup.
    assert list(BACKENDS) == ["buildah", "buildx", "podman", "docker"]
    for name in BACKENDS:
        backend = get_backend(name)
        assert backend.name == name
        assert isinstance(backend.emulates_on_host, bool)
    assert isinstance(get_backend("buildah"), BuildahBackend)
    assert isinstance(get_backend("buildx"), BuildxBackend)
    assert isinstance(get_backend("podman"), PodmanBackend)
    assert isinstance(get_backend("docker"), DockerBackend)
    assert get_backend().name == DEFAULT_BACKEND


@pytest.mark.parametrize(
    ("name", "ref", "expected"),
    [
        # buildah ignores a cache tag (one tag per step): the repository is per platform.
        ("buildah", "ghcr.io/acme/api:cache", "ghcr.io/acme/api-cache-linux-arm64"),
        ("buildah", "ghcr.io/acme/api", "ghcr.io/acme/api-linux-arm64"),
        # buildx: the tag is.
        ("buildx", "ghcr.io/acme/api:cache", "ghcr.io/acme/api:cache-linux-arm64"),
        ("buildx", "ghcr.io/acme/api", "ghcr.io/acme/api:linux-arm64"),
        # podman is buildah inside; docker build's --cache-from names an image: the tag.
        ("podman", "ghcr.io/acme/api:cache", "ghcr.io/acme/api-cache-linux-arm64"),
        ("docker", "ghcr.io/acme/api:cache", "ghcr.io/acme/api:cache-linux-arm64"),
    ],
)
def test_each_backend_names_its_registry_cache_per_platform(name, ref, expected):
    parsed = parse_ref(ref, default_tag=None)
    assert get_backend(name).registry_cache(parsed, "linux-arm64") == expected


def test_the_cli_names_the_builders_without_importing_them():
    # --builder's metavar is built from dockyard.builders on every start-up; no backend loads.
    code = (
        "import sys\n"
        "from dockyard.cli.main import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('dockyard.builder.')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "build", "--help"], capture_output=True, text=True
    )
    assert "--builder buildah|buildx|podman|docker" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "[]"
