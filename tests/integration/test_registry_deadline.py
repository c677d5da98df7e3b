"""The overall registry deadline against a registry that drips (fault proxy on the real registry).

A byte every 0.4 s never trips a 60 s read timeout, nor does an upload the
registry reads 16 KiB every 0.1 s trip a write timeout; only the deadline ends
the run, with one line naming the request and the bytes it had moved.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dockyard.oci.registry import RegistryClient
from tests.helpers.faultproxy import Fault, FaultProxy
from tests.helpers.images import make_image, push_image

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(registry):
    with FaultProxy(registry.host) as p:
        yield p


def dockyard(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, cwd=cwd, env=dict(os.environ), timeout=120, check=False,
    )  # fmt: skip


def test_a_dripping_blob_ends_at_the_deadline_naming_the_bytes_moved(registry, proxy, tmp_path):
    image = make_image((5000,))
    with RegistryClient(environ={}) as client:
        push_image(client.store(f"{registry.host}/deadline/drip", push=True), image, tag="v1")
    layer = next(d for d, b in image.blobs.items() if len(b) == 5000)
    proxy.add(Fault("GET", rf"/blobs/{layer}", action="drip", after_bytes=100, seconds=0.4, times=None))
    out = tmp_path / "out"
    proc = dockyard(
        "copy", f"{proxy.host}/deadline/drip:v1", f"oci:{out}:v1", "--timeout", "3s", cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    line = lines[0]
    assert f"blob {layer}: the 3s deadline for registry operations passed after " in line
    moved = int(line.split(" passed after ", 1)[1].split(" ", 1)[0])
    assert 100 <= moved < 5000  # the head and the first 100 bytes came, then the drip
    assert line.endswith(" of 5000; give it more time with --timeout or [retry] deadline")
    assert proxy.count("GET", rf"/blobs/{layer}") == 1  # not retried past the deadline
    index = out / "index.json"
    assert not index.exists() or '"v1"' not in index.read_text()  # no tag on a partial copy


def test_a_dripping_manifest_ends_inspect_at_the_deadline(registry, proxy, tmp_path):
    image = make_image((300,))
    with RegistryClient(environ={}) as client:
        push_image(client.store(f"{registry.host}/deadline/head", push=True), image, tag="v1")
    proxy.add(Fault("GET", r"/manifests/v1", action="drip", seconds=0.4, times=None))
    proc = dockyard("inspect", f"{proxy.host}/deadline/head:v1", "--timeout", "2s", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    line = proc.stderr.strip()
    assert f"{proxy.host}/deadline/head: manifest 'v1': the 2s deadline" in line
    moved = int(line.split(" passed after ", 1)[1].split(" ", 1)[0])
    assert 1 <= moved < len(image.manifest)  # dripped bytes are counted, not "0"


def test_an_upload_the_registry_sips_ends_at_the_deadline_and_tags_nothing(registry, proxy, tmp_path):
    image = make_image((32 * 1024 * 1024,))  # random: more than every socket buffer between
    with RegistryClient(environ={}) as client:
        push_image(client.store(f"{registry.host}/deadline/src", push=True), image, tag="v1")
    layout = tmp_path / "layout"
    fetched = dockyard("copy", f"{registry.host}/deadline/src:v1", f"oci:{layout}:v1", cwd=tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    layer = next(d for d, b in image.blobs.items() if len(b) > 1000)
    proxy.add(Fault("*", r"/blobs/uploads/", action="sip", after_bytes=16384, seconds=0.1, times=None))
    proc = dockyard("copy", f"oci:{layout}:v1", f"{proxy.host}/deadline/dst:v1", "--timeout", "4s", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    line = lines[0]
    assert f"{proxy.host}: " in line and "/deadline/dst/blobs/uploads/" in line, line
    assert ": the 4s deadline for registry operations passed after " in line, line
    moved = int(line.split(" passed after ", 1)[1].split(" ", 1)[0])
    assert 0 < moved < len(image.blobs[layer])
    assert line.endswith("; give it more time with --timeout or [retry] deadline")
    with RegistryClient(environ={}) as client:
        dst = client.store(f"{registry.host}/deadline/dst")
        assert dst.blob_exists(layer) is None  # the registry never got the whole layer
        assert dst.manifest_head("v1") is None  # and the tag points nowhere
