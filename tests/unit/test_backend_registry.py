"""The one dict of builder backends: every name loads, and the CLI names them cheaply."""

from __future__ import annotations

import subprocess
import sys

from dockyard.builder.backends import BACKENDS, DEFAULT_BACKEND, get_backend
from dockyard.builder.backends.buildah import BuildahBackend
from dockyard.builder.backends.buildx import BuildxBackend


def test_every_registered_name_loads_a_backend_of_that_name():
    # The dict names classes as "module:Class": a typo would only show at lookup.
    assert list(BACKENDS) == ["buildah", "buildx"]
    for name in BACKENDS:
        backend = get_backend(name)
        assert backend.name == name
    assert isinstance(get_backend("buildah"), BuildahBackend)
    assert isinstance(get_backend("buildx"), BuildxBackend)
    assert get_backend().name == DEFAULT_BACKEND


def test_the_cli_names_the_builders_without_importing_them():
    # --builder's metavar is built from BACKENDS on every start-up.
    code = (
        "import sys\n"
        "from dockyard.cli.main import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('dockyard.builder.')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "build", "--help"], capture_output=True, text=True
    )
    assert "--builder buildah|buildx" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "['dockyard.builder.backends']"
