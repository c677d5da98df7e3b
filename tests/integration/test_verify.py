"""verify_image over real busybox images in OCI layouts: each check caught on a failing
image with its rule id, and quiet on a passing one."""

from __future__ import annotations

import pytest

from dockyard.oci.imports import ImageSettings
from dockyard.platform import parse_platforms
from dockyard.verify.image import VerifyOptions, verify_image
from tests.helpers.busybox import busybox_rootfs
from tests.helpers.verifyimages import (
    add_layers,
    import_busybox,
    layer,
    with_platform,
    write_index,
)

pytestmark = pytest.mark.integration

BOTH = (("linux/amd64", "amd64"), ("linux/arm64", "arm64"))
ALL_POLICY = VerifyOptions(
    platforms=parse_platforms("linux/amd64,linux/arm64"),
    max_size=10_000_000,
    max_size_uncompressed=10_000_000,
    non_root=True,
    healthcheck=True,
    require_labels=("org.opencontainers.image.source",),
)
PASSWD = "root:x:0:0:root:/root:/bin/sh\nadmin:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"


def errors(report):
    return sorted((f.rule, f.platform) for f in report.findings if f.is_error)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """(location, store, import result) of the clean two-platform image."""
    return import_busybox(tmp_path_factory.mktemp("clean"), BOTH)


def test_the_clean_image_passes_every_check(clean):
    location, _, result = clean
    report = verify_image(location, expect=ALL_POLICY)
    assert errors(report) == [] and report.ok
    assert report.digest == str(result.index.digest)
    assert [p.platform for p in report.platforms] == ["linux/amd64", "linux/arm64"]
    for p, imported in zip(report.platforms, result.images, strict=True):
        assert p.digest == str(imported.manifest.digest)
        assert p.compressed_size == imported.layer.size + imported.config.size
        assert p.uncompressed_size == imported.uncompressed_size
        assert p.elf_files == 1 and p.user == "1000"
        assert p.checks == (
            "config.platform-mismatch", "config.diff-ids", "arch.mismatch", "policy.max-size",
            "policy.non-root", "policy.healthcheck", "policy.label",
        )
    assert [f.rule for f in report.findings] == ["arch.checked", "arch.checked"]


def test_the_clean_image_through_store_and_reference(clean):
    _, store, _ = clean
    assert verify_image((store, "t"), expect=ALL_POLICY).ok


def test_an_arm64_entry_holding_x86_64_busybox(tmp_path):
    location, _, _ = import_busybox(tmp_path, (("linux/amd64", "amd64"), ("linux/arm64", "amd64")))
    report = verify_image(location, expect=ALL_POLICY)
    assert errors(report) == [("arch.mismatch", "linux/arm64")]
    (finding,) = report.errors
    assert finding.path == "/bin/busybox"
    assert finding.message == "1 of 1 ELF files are not aarch64: /bin/busybox (x86-64)"


def test_config_says_amd64_but_the_entry_says_arm64(tmp_path):
    # aarch64 content and an arm64 entry; only the config claims amd64.
    _, store, result = import_busybox(tmp_path, (("linux/amd64", "arm64"),))
    (image,) = result.images
    location = write_index(store, [with_platform(image.manifest, "linux/arm64")], tag="lie")
    report = verify_image(location, expect=VerifyOptions(platforms=parse_platforms("linux/arm64")))
    assert errors(report) == [("config.platform-mismatch", "linux/arm64")]
    assert report.errors[0].message == (
        "the index entry says linux/arm64 but the image config says linux/amd64"
    )
    assert report.errors[0].path == str(image.config.digest)


def test_missing_and_unexpected_platforms(clean):
    location, _, _ = clean
    expect = VerifyOptions(platforms=parse_platforms("linux/amd64,linux/arm/v7"))
    report = verify_image(location, expect=expect)
    assert errors(report) == [
        ("index.missing-platform", "linux/arm/v7"),
        ("index.unexpected-platform", "linux/arm64"),
    ]
    missing = next(f for f in report.errors if f.rule == "index.missing-platform")
    assert missing.message == "linux/arm/v7 is not in the index (it has: linux/amd64, linux/arm64)"


def test_a_duplicate_platform_entry(clean):
    _, store, result = clean
    amd64, arm64 = (i.manifest for i in result.images)
    location = write_index(store, [amd64, arm64, with_platform(amd64, "linux/arm64")], tag="dup")
    report = verify_image(location)
    assert ("index.duplicate-platform", "linux/arm64") in errors(report)


def test_a_single_manifest(clean):
    _, store, result = clean
    digest = str(result.images[1].manifest.digest)
    one = verify_image((store, digest), expect=VerifyOptions(platforms=parse_platforms("linux/arm64")))
    assert one.ok and [p.platform for p in one.platforms] == ["linux/arm64"]
    wrong = verify_image((store, digest), expect=VerifyOptions(platforms=parse_platforms("linux/amd64")))
    assert errors(wrong) == [("arch.mismatch", "linux/amd64"), ("config.platform-mismatch", "linux/amd64")]
    two = verify_image((store, digest), expect=ALL_POLICY)
    assert errors(two) == [("index.not-an-index", "")]


@pytest.mark.parametrize(
    ("user", "passwd", "failing"),
    [
        ("root", None, True),
        ("", None, True),
        ("0:1000", None, True),
        ("admin", PASSWD, True),  # a name /etc/passwd maps to uid 0
        ("ghost", PASSWD, True),  # a name /etc/passwd does not know
        ("app", PASSWD, False),
        ("1000", None, False),
    ],
)
def test_non_root(tmp_path, user, passwd, failing):
    settings = ImageSettings(user=user, healthcheck="true")
    location, _, _ = import_busybox(tmp_path, (("linux/arm64", "arm64"),), settings=settings, passwd=passwd)
    report = verify_image(location, expect=VerifyOptions(non_root=True))
    assert errors(report) == ([("policy.non-root", "linux/arm64")] if failing else [])


def test_non_root_reads_passwd_from_the_final_layer_view(tmp_path):
    settings = ImageSettings(user="app", healthcheck="true")
    lower = PASSWD.replace("app:x:1000", "app:x:0")
    _, store, result = import_busybox(tmp_path, (("linux/arm64", "arm64"),), settings=settings, passwd=lower)
    (image,) = result.images
    replaced = add_layers(store, image.manifest, [layer([("etc/passwd", PASSWD.encode())], mode=0o644)])
    deleted = add_layers(store, image.manifest, [layer([("etc/.wh.passwd", b"")])])
    opaque = add_layers(store, image.manifest, [layer([("etc/.wh..wh..opq", b"")])])
    expect = VerifyOptions(non_root=True)
    as_root = verify_image(write_index(store, [image.manifest], tag="lower"), expect=expect)
    assert "uid 0" in as_root.errors[0].message
    assert verify_image(write_index(store, [replaced], tag="replaced"), expect=expect).ok
    for name, child in (("deleted", deleted), ("opaque", opaque)):
        report = verify_image(write_index(store, [child], tag=name), expect=expect)
        (finding,) = report.errors
        assert finding.rule == "policy.non-root"
        assert "user 'app' cannot be resolved: no /etc/passwd in the image" in finding.message


def test_missing_healthcheck(tmp_path):
    location, _, _ = import_busybox(tmp_path, BOTH, settings=ImageSettings(user="1000"))
    report = verify_image(location, expect=VerifyOptions(healthcheck=True))
    assert errors(report) == [("policy.healthcheck", "linux/amd64"), ("policy.healthcheck", "linux/arm64")]
    assert report.errors[0].message == (
        "the image has no HEALTHCHECK (add HEALTHCHECK CMD ... to the Dockerfile)"
    )


def test_required_labels(clean):
    location, _, _ = clean
    expect = VerifyOptions(require_labels=("org.opencontainers.image.source", "org.opencontainers.image.revision"))
    report = verify_image(location, expect=expect)
    assert [(f.rule, f.path) for f in report.errors] == [
        ("policy.label", "org.opencontainers.image.revision")
    ] * 2


@pytest.mark.parametrize(
    ("budget", "uncompressed", "failing"),
    [
        (10_000_000, None, []),
        (500_000, None, ["compressed"] * 2),  # busybox is ~1.1 MB gzipped
        (None, 1_500_000, ["uncompressed"] * 2),  # ~1.9 MB of tar
        (1_500_000, 1_500_000, ["uncompressed"] * 2),
    ],
)
def test_size_budget(clean, budget, uncompressed, failing):
    location, _, _ = clean
    report = verify_image(location, expect=VerifyOptions(max_size=budget, max_size_uncompressed=uncompressed))
    assert [f.detail["kind"] for f in report.errors if f.rule == "policy.max-size"] == failing


def test_a_whiteout_removes_a_file_that_would_fail_the_scan(tmp_path):
    _, store, result = import_busybox(tmp_path, (("linux/arm64", "arm64"),))
    (image,) = result.images
    x86 = (busybox_rootfs("amd64", tmp_path / "x86") / "bin" / "busybox").read_bytes()
    stray = layer([("opt/x86/busybox", x86)])
    whiteout = layer([("opt/x86/.wh.busybox", b"")])
    kept = write_index(store, [add_layers(store, image.manifest, [stray])], tag="kept")
    removed = write_index(store, [add_layers(store, image.manifest, [stray, whiteout])], tag="removed")
    assert errors(verify_image(kept)) == [("arch.mismatch", "linux/arm64")]
    report = verify_image(removed)
    assert report.ok and report.platforms[0].elf_files == 1 and report.platforms[0].layers == 3


def test_an_arm_v7_image_passes(tmp_path):
    location, _, _ = import_busybox(tmp_path, (("linux/arm/v7", "armhf"),))
    report = verify_image(location, expect=VerifyOptions(platforms=parse_platforms("linux/arm/v7")))
    assert report.ok, report.findings
    assert report.findings[0].message == (
        "1 ELF executables and shared objects checked against arm (EABI5 hard-float)"
    )
    wrong, _, _ = import_busybox(tmp_path, (("linux/arm/v7", "arm64"),))
    assert errors(verify_image(wrong)) == [("arch.mismatch", "linux/arm/v7")]


def test_a_corrupt_layer_is_a_finding_and_other_platforms_are_still_verified(tmp_path):
    location, store, result = import_busybox(tmp_path, BOTH)
    blob = store.blob_path(result.images[1].layer.digest)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 1
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    report = verify_image(location)
    assert errors(report) == [("blob.invalid", "linux/arm64")]
    assert str(result.images[1].layer.digest) in report.errors[0].message
    assert [f.rule for f in report.findings if f.platform == "linux/amd64"] == ["arch.checked"]


def test_attestations_are_listed_not_verified(clean):
    from dockyard.oci.models import ATTESTATION_ANNOTATION, Descriptor
    from dockyard.platform import Platform

    _, store, result = clean
    amd64 = result.images[0].manifest
    attestation = Descriptor(
        amd64.media_type, amd64.digest, amd64.size, Platform("unknown", "unknown"),
        {ATTESTATION_ANNOTATION: "attestation-manifest"},
    )
    location = write_index(store, [*(i.manifest for i in result.images), attestation], tag="att")
    report = verify_image(location, expect=ALL_POLICY)
    assert report.ok and report.attestations == (str(amd64.digest),)
    assert len(report.platforms) == 2


def test_verify_a_registry_image(clean, registry):
    from tests.helpers.locations import copy_location, verify_location

    location, _, result = clean
    copy_location(location, f"{registry.host}/verify/clean:1")
    report = verify_location(f"{registry.host}/verify/clean:1", expect=ALL_POLICY)
    assert report.ok and report.digest == str(result.index.digest)
    assert [p.uncompressed_size for p in report.platforms] == [i.uncompressed_size for i in result.images]


def test_store_of_a_layout_is_left_unchanged(clean):
    location, store, _ = clean
    before = sorted(p.name for p in (store.path / "blobs" / "sha256").iterdir())
    verify_image(location, expect=ALL_POLICY)
    assert sorted(p.name for p in (store.path / "blobs" / "sha256").iterdir()) == before
