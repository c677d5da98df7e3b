"""verify.rootfile: one file of the final layer view, from in-memory layers (top layer decides)."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from dockyard.config.model import Policy
from dockyard.digest import sha256_digest
from dockyard.errors import DigestMismatch
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import Descriptor, build_manifest, parse_manifest
from dockyard.platform import parse_platforms
from dockyard.verify.image import VerifyOptions
from dockyard.verify.rootfile import read_final_file


class BlobStore:
    """Just enough of a Store for reading layers."""

    def __init__(self) -> None:
        self.blobs: dict = {}

    def blob_open(self, digest):
        return io.BytesIO(self.blobs[digest])


def _tar(entries) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.type, info.linkname = (tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE), data
                tar.addfile(info)
    return out.getvalue()


def _image(*layers, store=None, compress=True):
    store = store or BlobStore()
    descs = []
    for entries in layers:
        raw = _tar(entries)
        blob = gzip.compress(raw, mtime=0) if compress else raw
        media_type = mt.OCI_LAYER_GZIP if compress else mt.OCI_LAYER
        d = Descriptor(media_type, sha256_digest(blob), len(blob))
        store.blobs[d.digest] = blob
        descs.append(d)
    config = Descriptor(mt.OCI_CONFIG, sha256_digest(b"{}"), 2)
    raw, _ = build_manifest(config, descs)
    return store, parse_manifest(raw)


BASE = [("etc", "dir", None), ("etc/passwd", "file", b"base\n"), ("bin/sh", "file", b"x")]


@pytest.mark.parametrize(
    ("upper", "expected"),
    [
        ([], b"base\n"),
        ([[("usr/x", "file", b"1")]], b"base\n"),
        ([[("etc/passwd", "file", b"new\n")]], b"new\n"),
        ([[("etc/passwd", "file", b"new\n")], [("tmp/y", "file", b"")]], b"new\n"),
        ([[("etc/.wh.passwd", "file", b"")]], None),
        ([[("etc/.wh..wh..opq", "file", b"")]], None),
        ([[(".wh.etc", "file", b"")]], None),
        ([[("etc", "symlink", "usr/etc")]], None),
        ([[("etc/passwd", "symlink", "/usr/share/passwd")]], None),
        ([[("etc/passwd", "dir", None)]], None),
        # the same layer's own file wins over its whiteout (which hides lower layers only)
        ([[("etc/.wh..wh..opq", "file", b""), ("etc/passwd", "file", b"mine\n")]], b"mine\n"),
        ([[("etc/.wh.passwd", "file", b"")], [("etc/passwd", "file", b"again\n")]], b"again\n"),
        ([[("./etc/passwd", "file", b"dotted\n")]], b"dotted\n"),
        ([[("etc/.wh.group", "file", b"")]], b"base\n"),
    ],
)
def test_the_top_layer_that_mentions_it_decides(upper, expected):
    store, manifest = _image(BASE, *upper)
    assert read_final_file(store, manifest, "etc/passwd") == expected


def test_uncompressed_layers_and_no_file_at_all():
    store, manifest = _image([("bin/sh", "file", b"x")], compress=False)
    assert read_final_file(store, manifest, "etc/passwd") is None


def test_a_file_over_the_cap_is_not_read():
    store, manifest = _image([("etc/passwd", "file", b"x" * 100)])
    assert read_final_file(store, manifest, "etc/passwd", max_size=99) is None
    assert read_final_file(store, manifest, "etc/passwd", max_size=100) == b"x" * 100


def test_a_layer_that_is_not_its_digest_raises():
    store, manifest = _image(BASE, [("etc/passwd", "file", b"new\n")])
    top = manifest.layers[-1].digest
    store.blobs[top] = store.blobs[top][:-1] + bytes([store.blobs[top][-1] ^ 1])
    with pytest.raises(DigestMismatch) as err:
        read_final_file(store, manifest, "etc/passwd")
    assert str(top) in str(err.value)


def test_an_unreadable_top_layer_ends_the_search_with_nothing():
    store = BlobStore()
    blob = gzip.compress(b"not a tar" * 100, mtime=0)
    bad = Descriptor(mt.OCI_LAYER_GZIP, sha256_digest(blob), len(blob))
    store.blobs[bad.digest] = blob
    _, base = _image(BASE, store=store)
    raw, _ = build_manifest(base.config, [*base.layers, bad])
    assert read_final_file(store, parse_manifest(raw), "etc/passwd") is None


def test_options_from_a_target_policy():
    policy = Policy(
        max_size=100, non_root=True, healthcheck=True, require_labels=("a",), allow_foreign=("/x/*",)
    )
    options = VerifyOptions.from_policy(policy, platforms=parse_platforms("linux/arm64"), smoke=True)
    assert (options.max_size, options.non_root, options.healthcheck, options.require_labels) == (
        100, True, True, ("a",)
    )
    assert options.allow_foreign == ("/x/*",)
    assert options.platforms == parse_platforms("linux/arm64") and options.smoke
    assert VerifyOptions.from_policy(Policy()) == VerifyOptions()
