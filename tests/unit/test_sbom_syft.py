"""Which syft runs, how a failing one is reported, and the one-image layout it reads."""

from __future__ import annotations

import io
import json
import os

import pytest

from dockyard.errors import InputError, SbomFailed
from dockyard.evidence.sbom.syft import OFFLINE, find_syft, run_syft, write_one_image_layout
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import build_manifest, descriptor_of, parse_manifest


def script(path, body: str):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("off", ["0", "off", "FALSE", "no"])
def test_dockyard_syft_off_means_the_own_readers(off):
    assert find_syft({"DOCKYARD_SYFT": off}) is None


def test_dockyard_syft_names_the_binary(tmp_path):
    binary = script(tmp_path / "my-syft", "exit 0\n")
    assert find_syft({"DOCKYARD_SYFT": str(binary)}) == str(binary)
    (tmp_path / "plain").write_text("")
    with pytest.raises(InputError, match=r"^DOCKYARD_SYFT=.*plain: not an executable file"):
        find_syft({"DOCKYARD_SYFT": str(tmp_path / "plain")})


def test_syft_on_path_comes_before_the_bundled_one(tmp_path):
    binary = script(tmp_path / "syft", "exit 0\n")
    assert find_syft({"PATH": str(tmp_path)}) == str(binary)


def test_syft_runs_offline_and_its_failure_is_one_line(tmp_path):
    env_dump = tmp_path / "env.json"
    ok = script(tmp_path / "ok", f"env > {env_dump}\necho '{{\"artifacts\": []}}'\n")
    assert json.loads(run_syft(str(ok), tmp_path, environ={"PATH": os.environ["PATH"]})) == {"artifacts": []}
    seen = dict(line.split("=", 1) for line in env_dump.read_text().splitlines() if "=" in line)
    assert all(seen[k] == v for k, v in OFFLINE.items())
    bad = script(tmp_path / "bad", "printf '\\033[31mcould not determine source\\033[0m\\n' >&2\nexit 1\n")
    with pytest.raises(SbomFailed) as failed:
        run_syft(str(bad), tmp_path, environ={})
    message = str(failed.value)
    assert message.startswith("syft exited 1: could not determine source")
    assert "\x1b" not in message and "DOCKYARD_SYFT=0" in message


def test_the_one_image_layout_holds_only_that_image(tmp_path):
    source = LayoutStore(tmp_path / "src")
    layer = b"layer bytes"
    layer_desc = descriptor_of(layer, mt.OCI_LAYER)
    config = b'{"architecture":"arm64","os":"linux"}'
    config_desc = descriptor_of(config, mt.OCI_CONFIG)
    for desc, data in ((layer_desc, layer), (config_desc, config)):
        source.blob_put(desc.digest, desc.size, io.BytesIO(data))
    raw, _ = build_manifest(config_desc, [layer_desc])
    source.manifest_put(raw, mt.OCI_MANIFEST, tag="other")  # the source holds other roots too
    write_one_image_layout(source, parse_manifest(raw), tmp_path / "one")
    one = LayoutStore(tmp_path / "one")
    assert [e.digest for e in one.roots()] == [parse_manifest(raw).digest]
    # the layer is the source's file (a hard link), the config a copy
    assert one.blob_path(layer_desc.digest).stat().st_ino == source.blob_path(layer_desc.digest).stat().st_ino
    assert one.blob_path(config_desc.digest).read_bytes() == config
