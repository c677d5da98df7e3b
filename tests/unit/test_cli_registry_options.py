"""Every command that talks to a registry takes --ca-cert and --insecure-registry (README)."""

import subprocess
import sys

import pytest

REGISTRY_COMMANDS = (
    "build", "release", "merge", "copy", "import", "inspect", "verify", "retain", "doctor",
)  # fmt: skip


@pytest.mark.parametrize("command", REGISTRY_COMMANDS)
def test_registry_commands_take_the_tls_options(command):
    proc = subprocess.run(
        [sys.executable, "-m", "dockyard", command, "--help"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "TERM": "dumb", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--ca-cert" in proc.stdout and "--insecure-registry" in proc.stdout
