"""Issue 17 items 1 and 4: a layout's blob or index.json that is not a regular file.

Real files: a FIFO made with os.mkfifo (no writer: a plain open or read
blocks for ever), a symlink to /dev/zero (never ends), a 50 MB index.json.
Each command ends with one line naming the file, in bounded memory.
"""

from __future__ import annotations

import os

import pytest

from dockyard.oci.layout import LayoutStore
from tests.helpers.images import make_image, push_image
from tests.integration.hostile import dockyard, one_error_line

pytestmark = pytest.mark.integration

RSS_CAP_MB = 300  # generous: the interpreter and its imports take ~60 MB


def _layout(tmp_path):
    path = tmp_path / "src"
    image = make_image((2000, 3000))
    push_image(LayoutStore(path), image, tag="v1")
    return path, image


def _layer_path(path, image):
    layer = [d for d in image.blobs if d != image.digest][-1]
    return path / "blobs" / "sha256" / layer.hex


@pytest.mark.parametrize("command", ["inspect", "verify", "copy"])
def test_a_blob_that_is_a_fifo_is_refused_not_waited_on(tmp_path, command):
    path, image = _layout(tmp_path)
    # Every blob a FIFO: whichever one the command opens first is refused.
    for digest in image.blobs:
        blob = path / "blobs" / "sha256" / digest.hex
        blob.unlink()
        os.mkfifo(blob)
    args = {
        "inspect": ["inspect", f"oci:{path}:v1"],
        "verify": ["verify", f"oci:{path}:v1"],
        "copy": ["copy", f"oci:{path}:v1", f"oci:{tmp_path / 'dst'}:v1"],
    }[command]
    result = dockyard(*args, timeout=60)
    line = one_error_line(result)
    assert result.returncode == 1
    assert str(path / "blobs" / "sha256") in line
    assert "is a FIFO, not a regular file" in line


def test_a_blob_symlinked_to_dev_zero_is_refused(tmp_path):
    path, image = _layout(tmp_path)
    blob = _layer_path(path, image)
    blob.unlink()
    blob.symlink_to("/dev/zero")
    result = dockyard("inspect", f"oci:{path}:v1", timeout=60)
    line = one_error_line(result)
    assert result.returncode == 1
    assert f"{blob}: is a symlink" in line
    assert result.max_rss_mb < RSS_CAP_MB


def test_index_json_that_is_a_fifo_is_refused(tmp_path):
    path, _ = _layout(tmp_path)
    (path / "index.json").unlink()
    os.mkfifo(path / "index.json")
    result = dockyard("verify", f"oci:{path}:v1", timeout=60)
    assert result.returncode == 1
    assert f"{path / 'index.json'}: is a FIFO" in one_error_line(result)


def test_index_json_symlinked_to_dev_zero_ends_in_one_line_not_memory_error(tmp_path):
    path, _ = _layout(tmp_path)
    (path / "index.json").unlink()
    (path / "index.json").symlink_to("/dev/zero")
    result = dockyard("inspect", f"oci:{path}:v1", timeout=60)
    line = one_error_line(result)
    assert result.returncode == 1
    assert f"{path / 'index.json'}: is a symlink" in line
    assert "MemoryError" not in result.stderr
    assert result.max_rss_mb < RSS_CAP_MB


def test_a_50mb_index_json_is_refused_by_name_without_reading_it_whole(tmp_path):
    path, _ = _layout(tmp_path)
    with (path / "index.json").open("wb") as f:
        f.write(b'{"schemaVersion":2,"manifests":[],"annotations":{"x":"')
        f.write(b"a" * (50 * 1024 * 1024))
        f.write(b'"}}')
    result = dockyard("inspect", f"oci:{path}:v1", timeout=60)
    line = one_error_line(result)
    assert result.returncode == 1
    assert f"{path / 'index.json'}: index.json exceeds the 4194304 byte limit" in line
    # Reading 50 MB whole and parsing it as JSON costs well over 100 MB more.
    assert result.max_rss_mb < 150
