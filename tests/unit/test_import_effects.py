"""Importing the library leaves the host process alone; the CLI alone blocks httpx's CLI.

Each check runs in a fresh interpreter: this test process has long imported
httpx (and run the CLI in-process), so its sys.modules proves nothing.
"""

import os
import subprocess
import sys
from pathlib import Path

import dockyard

SRC = str(Path(dockyard.__file__).resolve().parents[1])


def fresh(code: str) -> str:
    """stdout of `code` in a new interpreter importing this checkout's dockyard."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout.strip()


def test_importing_the_registry_client_does_not_block_httpx_main():
    out = fresh(
        "import sys, dockyard.oci.registry\nprint(sys.modules.get('httpx._main', 'absent') is None)"
    )
    assert out == "False"


def test_the_cli_entry_point_blocks_httpx_main():
    out = fresh(
        "import sys\n"
        "from dockyard.cli.main import main\n"
        "main(['--version'])\n"
        "print(sys.modules.get('httpx._main', 'absent') is None)"
    )
    assert out.splitlines()[-1] == "True"
