"""verify.checks: index, config-vs-descriptor and policy decisions over parsed models."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.digest import sha256_digest
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import (
    ATTESTATION_ANNOTATION,
    Descriptor,
    build_index,
    build_manifest,
    parse_config,
    parse_manifest,
)
from dockyard.platform import KNOWN_PLATFORMS, Platform, parse_platform
from dockyard.verify.checks import (
    check_config_platform,
    check_healthcheck,
    check_labels,
    check_non_root,
    check_size,
    healthcheck_argv,
    select_children,
)
from dockyard.verify.passwd import resolve_user


def _digest(seed: str):
    return sha256_digest(seed.encode())


def _entry(platform: str | None, seed: str, **annotations) -> Descriptor:
    p = None
    if platform is not None:
        os_, arch, *variant = platform.split("/")
        p = Platform(os_, arch, variant[0] if variant else "")
    return Descriptor(mt.OCI_MANIFEST, _digest(seed), 400, p, annotations)


def _index(*entries: Descriptor):
    raw, _ = build_index(entries)
    return parse_manifest(raw)


def _manifest():
    config = Descriptor(mt.OCI_CONFIG, _digest("config"), 100)
    raw, _ = build_manifest(config, [Descriptor(mt.OCI_LAYER_GZIP, _digest("layer"), 1000)])
    return parse_manifest(raw)


def _platforms(*texts: str):
    return tuple(parse_platform(t) for t in texts)


def _rules(findings):
    return [(f.rule, f.severity, f.platform) for f in findings]


AMD64, ARM64 = _entry("linux/amd64", "a"), _entry("linux/arm64", "b")


@pytest.mark.parametrize(
    ("entries", "expected", "rules"),
    [
        ((AMD64, ARM64), ("linux/amd64", "linux/arm64"), []),
        ((AMD64, ARM64), (), []),
        ((ARM64, AMD64), ("linux/amd64", "linux/arm64"), []),
        ((AMD64,), ("linux/amd64", "linux/arm64"),
         [("index.missing-platform", "error", "linux/arm64")]),
        ((AMD64, ARM64), ("linux/amd64",),
         [("index.unexpected-platform", "error", "linux/arm64")]),
        ((AMD64, ARM64, _entry("linux/arm64/v8", "c")), ("linux/amd64", "linux/arm64"),
         [("index.duplicate-platform", "error", "linux/arm64")]),
        ((_entry("linux/arm", "d"),), ("linux/arm/v7",), []),
        ((_entry("linux/arm/v6", "d"),), ("linux/arm/v7",),
         [("index.missing-platform", "error", "linux/arm/v7"),
          ("index.unexpected-platform", "error", "linux/arm/v6")]),
        ((AMD64, _entry(None, "e")), ("linux/amd64",),
         [("index.no-platform", "warning", "")]),
        ((), ("linux/amd64",), [("index.missing-platform", "error", "linux/amd64")]),
    ],
)
def test_index_checks(entries, expected, rules):
    _, findings = select_children(_index(*entries), _platforms(*expected))
    assert _rules(findings) == rules


def test_attestations_are_not_platforms():
    attestation = _entry("unknown/unknown", "att", **{ATTESTATION_ANNOTATION: "attestation-manifest"})
    children, findings = select_children(_index(AMD64, attestation), _platforms("linux/amd64"))
    assert findings == ()
    assert [c.descriptor for c in children] == [AMD64]


def test_children_carry_the_normalised_claimed_platform():
    children, _ = select_children(_index(_entry("linux/arm", "x"), _entry("linux/arm64/v8", "y")), ())
    assert [str(c.platform) for c in children] == ["linux/arm/v7", "linux/arm64"]


def test_missing_platform_message_names_what_is_there():
    _, (finding,) = select_children(_index(AMD64), _platforms("linux/amd64", "linux/s390x"))
    assert finding.message == "linux/s390x is not in the index (it has: linux/amd64)"
    assert finding.path == ""


def test_duplicate_message_names_both_digests():
    dup = _entry("linux/arm64", "c")
    _, (finding,) = select_children(_index(ARM64, dup), ())
    assert finding.message == (
        f"linux/arm64 appears twice in the index ({ARM64.digest} and {dup.digest}): a pull gets either"
    )
    assert finding.path == str(dup.digest)


@pytest.mark.parametrize(
    ("expected", "platform", "rules"),
    [
        ((), None, []),
        (("linux/arm64",), "linux/arm64", []),
        (("linux/amd64", "linux/arm64"), None, [("index.not-an-index", "error", "")]),
    ],
)
def test_a_single_manifest(expected, platform, rules):
    manifest = _manifest()
    (child,), findings = select_children(manifest, _platforms(*expected))
    assert child.descriptor.digest == manifest.digest
    assert (str(child.platform) if child.platform else None) == platform
    assert _rules(findings) == rules


def test_not_an_index_message():
    _, (finding,) = select_children(_manifest(), _platforms("linux/amd64", "linux/arm64"))
    assert finding.message == (
        "a single image manifest, not an index: 2 platforms expected (linux/amd64, linux/arm64)"
    )
    assert dict(finding.detail) == {
        "expected": ["linux/amd64", "linux/arm64"],
        "media_type": mt.OCI_MANIFEST,
    }


def _config(**fields) -> bytes:
    doc = {"os": "linux", "architecture": "amd64", "config": {}}
    run = fields.pop("run", {})
    doc.update(fields)
    doc["config"] = run
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("claimed", "config", "mismatch"),
    [
        ("linux/amd64", {}, False),
        ("linux/arm64", {"architecture": "arm64"}, False),
        ("linux/arm64", {"architecture": "arm64", "variant": "v8"}, False),
        ("linux/arm/v7", {"architecture": "arm"}, False),
        ("linux/arm/v7", {"architecture": "arm", "variant": "v7"}, False),
        ("linux/arm64", {}, True),
        ("linux/arm/v7", {"architecture": "arm", "variant": "v6"}, True),
        ("linux/amd64", {"os": "windows"}, True),
    ],
)
def test_config_platform(claimed, config, mismatch):
    findings = check_config_platform(parse_platform(claimed), parse_config(_config(**config)), path="p")
    assert bool(findings) is mismatch
    if mismatch:
        assert findings[0].rule == "config.platform-mismatch"


def test_config_platform_message():
    (finding,) = check_config_platform(parse_platform("linux/arm64"), parse_config(_config()), path="sha256:c")
    assert finding.message == "the index entry says linux/arm64 but the image config says linux/amd64"
    assert (finding.platform, finding.path) == ("linux/arm64", "sha256:c")


@pytest.mark.parametrize(
    ("compressed", "uncompressed", "max_c", "max_u", "kinds"),
    [
        (100, 300, None, None, []),
        (100, 300, 100, 300, []),
        (101, 300, 100, None, ["compressed"]),
        (100, 301, None, 300, ["uncompressed"]),
        (101, 301, 100, 300, ["compressed", "uncompressed"]),
        (100, 10**9, 1000, None, []),  # the default budget is on compressed bytes only
        (100, None, None, 300, []),  # not measured: nothing to judge
    ],
)
def test_size_budget(compressed, uncompressed, max_c, max_u, kinds):
    findings = check_size(
        "linux/amd64", compressed=compressed, uncompressed=uncompressed, max_compressed=max_c,
        max_uncompressed=max_u,
    )
    assert [f.detail["kind"] for f in findings] == kinds
    assert all(f.rule == "policy.max-size" and f.is_error for f in findings)


def test_size_message():
    (finding,) = check_size(
        "linux/amd64", compressed=2_500_000, uncompressed=None, max_compressed=1_000_000,
        max_uncompressed=None,
    )
    assert finding.message == (
        "compressed size 2500000 bytes (2.5MB) is over the budget of 1000000 bytes (1.0MB)"
    )


@pytest.mark.parametrize(
    ("user", "passwd", "fails", "message"),
    [
        ("", None, True, "the image runs as root: no User set: the container runs as root "
         "(set USER to a non-root uid or name)"),
        ("0", None, True, "the image runs as root: uid 0 (set USER to a non-root uid or name)"),
        ("0:1000", None, True, None),
        ("root", None, True, "the image runs as root: user root (set USER to a non-root uid or name)"),
        ("toor", "toor:x:0:0::/:/bin/sh\n", True, "the image runs as root: user 'toor' is uid 0 "
         "in the image's /etc/passwd (set USER to a non-root uid or name)"),
        ("ghost", "", True, "the image cannot be shown to run as non-root: user 'ghost' is not in "
         "the image's /etc/passwd (set USER to a non-root uid or name)"),
        ("1000", None, False, None),
        ("1000:0", None, False, None),
        ("app", "app:x:1000:1000::/:/bin/sh\n", False, None),
    ],
)
def test_non_root(user, passwd, fails, message):
    findings = check_non_root("linux/amd64", resolve_user(user, passwd))
    assert bool(findings) is fails
    if fails:
        assert findings[0].rule == "policy.non-root" and findings[0].is_error
    if message:
        assert findings[0].message == message


@pytest.mark.parametrize(
    ("healthcheck", "argv"),
    [
        (None, None),
        ({}, None),
        ({"Test": ["NONE"]}, None),
        ({"Test": []}, None),
        ({"Test": ["CMD"]}, None),
        ({"Test": ["CMD", "/bin/true"]}, ("/bin/true",)),
        ({"Test": ["CMD", "wget", "-q", "http://x/"]}, ("wget", "-q", "http://x/")),
        ({"Test": ["CMD-SHELL", "curl -f localhost || exit 1"]},
         ("/bin/sh", "-c", "curl -f localhost || exit 1")),
        ({"Test": "CMD-SHELL true"}, None),
    ],
)
def test_healthcheck(healthcheck, argv):
    assert healthcheck_argv(healthcheck) == argv
    findings = check_healthcheck("linux/amd64", healthcheck)
    assert bool(findings) is (argv is None)


@pytest.mark.parametrize(
    ("healthcheck", "message"),
    [
        (None, "the image has no HEALTHCHECK (add HEALTHCHECK CMD ... to the Dockerfile)"),
        ({"Test": ["NONE"]}, "the image has HEALTHCHECK NONE (add HEALTHCHECK CMD ... to the Dockerfile)"),
    ],
)
def test_healthcheck_message(healthcheck, message):
    (finding,) = check_healthcheck("linux/amd64", healthcheck)
    assert (finding.rule, finding.message) == ("policy.healthcheck", message)


@pytest.mark.parametrize(
    ("labels", "required", "failing"),
    [
        ({}, (), []),
        ({"a": "1"}, ("a",), []),
        ({}, ("a",), [("a", "missing")]),
        ({"a": ""}, ("a",), [("a", "empty")]),
        ({"a": "  "}, ("a",), [("a", "empty")]),
        ({"a": "1"}, ("a", "b"), [("b", "missing")]),
    ],
)
def test_labels(labels, required, failing):
    findings = check_labels("linux/amd64", labels, required)
    assert [(f.path, f.detail["state"]) for f in findings] == failing
    for f in findings:
        assert f.message == f"required label {f.path} is {f.detail['state']}"


_platform = st.sampled_from([p for p in KNOWN_PLATFORMS if p.os == "linux"])


@given(present=st.sets(_platform, max_size=6), expected=st.sets(_platform, max_size=6))
def test_index_findings_are_the_set_differences(present, expected):
    entries = [_entry(str(p), str(p)) for p in sorted(present)]
    children, findings = select_children(_index(*entries), tuple(sorted(expected)))
    missing = {f.platform for f in findings if f.rule == "index.missing-platform"}
    unexpected = {f.platform for f in findings if f.rule == "index.unexpected-platform"}
    assert missing == {str(p) for p in expected - present}
    assert unexpected == (set() if not expected else {str(p) for p in present - expected})
    assert {c.platform for c in children} == present


def _smoke(**fields):
    from dockyard.verify.report import SmokeResult

    base = {"argv": ("/bin/sh", "-c", "true"), "exit_code": 0, "seconds": 1.25, "output": ""}
    return SmokeResult(**(base | fields))


@pytest.mark.parametrize(
    ("fields", "rule", "severity", "message"),
    [
        ({}, "smoke.ok", "info", "'/bin/sh -c true' exited 0 in 1.2 s"),
        ({"emulated": True}, "smoke.ok", "info", "'/bin/sh -c true' exited 0 in 1.2 s under emulation"),
        ({"exit_code": 3, "output": "boom\nsubprocess exited with status 3\nError: exit status 3\n"},
         "smoke.failed", "error", "'/bin/sh -c true' exited with status 3: boom"),
        ({"exit_code": 1}, "smoke.failed", "error", "'/bin/sh -c true' exited with status 1"),
        ({"exit_code": None, "timed_out": True, "seconds": 60.2}, "smoke.timeout", "error",
         "'/bin/sh -c true' did not finish within 60 s"),
        ({"exit_code": None, "error": "buildah from x failed: no such image"}, "smoke.failed", "error",
         "smoke run of '/bin/sh -c true' did not start: buildah from x failed: no such image"),
    ],
)
def test_smoke_findings(fields, rule, severity, message):
    from dockyard.verify.checks import check_smoke

    (finding,) = check_smoke("linux/arm64", _smoke(**fields))
    assert (finding.rule, finding.severity, finding.message) == (rule, severity, message)
    assert finding.detail["argv"] == ["/bin/sh", "-c", "true"]
    assert (finding.detail["exit_code"], finding.detail["timed_out"]) == (
        fields.get("exit_code", 0),
        fields.get("timed_out", False),
    )


@pytest.mark.parametrize(
    ("data", "text", "truncated"),
    [(b"", "", False), (b"ok\n", "ok\n", False), (b"x" * 4096, "x" * 4096, False),
     (b"a" + b"x" * 4096, "x" * 4096, True), (b"\xff ok", "\ufffd ok", False)],
)
def test_smoke_output_keeps_the_tail(data, text, truncated):
    from dockyard.verify.report import cap_output

    assert cap_output(data) == (text, truncated)
