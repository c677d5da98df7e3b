"""Image references: docker's normalisation, refusals with exact messages, round-trips."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.digest import Digest
from dockyard.errors import InputError
from dockyard.ref import (
    LayoutRef,
    Reference,
    is_loopback_host,
    join_image,
    parse_layout,
    parse_location,
    parse_ref,
    parse_repository,
)

SHA = "sha256:" + "0123456789abcdef" * 4
SHA512 = "sha512:" + "f" * 128
D = Digest("sha256", "0123456789abcdef" * 4)

# (input, canonical str, familiar form)
ACCEPTED = [
    ("alpine", "docker.io/library/alpine:latest", "alpine:latest"),
    ("alpine:3.20", "docker.io/library/alpine:3.20", "alpine:3.20"),
    ("library/alpine", "docker.io/library/alpine:latest", "alpine:latest"),
    ("docker.io/alpine", "docker.io/library/alpine:latest", "alpine:latest"),
    ("docker.io/library/alpine:edge", "docker.io/library/alpine:edge", "alpine:edge"),
    ("index.docker.io/alpine", "docker.io/library/alpine:latest", "alpine:latest"),
    ("index.docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine:latest"),
    ("registry-1.docker.io/user/app:1", "docker.io/user/app:1", "user/app:1"),
    ("user/app", "docker.io/user/app:latest", "user/app:latest"),
    ("user/app:tag", "docker.io/user/app:tag", "user/app:tag"),
    ("library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"),
    ("ghcr.io/acme/api", "ghcr.io/acme/api:latest", "ghcr.io/acme/api:latest"),
    ("host:5000/a/b", "host:5000/a/b:latest", "host:5000/a/b:latest"),
    ("host:5000/a/b:t", "host:5000/a/b:t", "host:5000/a/b:t"),
    ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
    ("localhost:5000/app:1.0", "localhost:5000/app:1.0", "localhost:5000/app:1.0"),
    # No '/': the ':' is a tag, exactly as docker reads it.
    ("localhost:5000", "docker.io/library/localhost:5000", "localhost:5000"),
    ("127.0.0.1:5000/acme/api:v1", "127.0.0.1:5000/acme/api:v1", "127.0.0.1:5000/acme/api:v1"),
    ("[::1]:5000/a:t", "[::1]:5000/a:t", "[::1]:5000/a:t"),
    ("[fe80::1]/x", "[fe80::1]/x:latest", "[fe80::1]/x:latest"),
    ("a.b/c", "a.b/c:latest", "a.b/c:latest"),
    ("Registry.Example.COM:443/a", "Registry.Example.COM:443/a:latest", "Registry.Example.COM:443/a:latest"),
    (f"alpine:3.20@{SHA}", f"docker.io/library/alpine:3.20@{SHA}", f"alpine:3.20@{SHA}"),
    (f"alpine@{SHA}", f"docker.io/library/alpine@{SHA}", f"alpine@{SHA}"),
    (f"ghcr.io/acme/api@{SHA512}", f"ghcr.io/acme/api@{SHA512}", f"ghcr.io/acme/api@{SHA512}"),
    ("a/b/c/d/e", "docker.io/a/b/c/d/e:latest", "a/b/c/d/e:latest"),
    ("my-app_1__x/b--c.d", "docker.io/my-app_1__x/b--c.d:latest", "my-app_1__x/b--c.d:latest"),
    ("ubuntu.core", "docker.io/library/ubuntu.core:latest", "ubuntu.core:latest"),
    ("alpine:V1_X-y.z", "docker.io/library/alpine:V1_X-y.z", "alpine:V1_X-y.z"),
    ("alpine:_x", "docker.io/library/alpine:_x", "alpine:_x"),
    ("alpine:" + "t" * 128, "docker.io/library/alpine:" + "t" * 128, "alpine:" + "t" * 128),
    ("docker.io", "docker.io/library/docker.io:latest", "docker.io:latest"),
    # Short forms that would read back as a registry keep docker.io/.
    ("docker.io/a.b/c", "docker.io/a.b/c:latest", "docker.io/a.b/c:latest"),
    ("docker.io/localhost/c", "docker.io/localhost/c:latest", "docker.io/localhost/c:latest"),
    ("ghcr.io/" + "a" * 247, "ghcr.io/" + "a" * 247 + ":latest", "ghcr.io/" + "a" * 247 + ":latest"),
]


@pytest.mark.parametrize(("text", "canonical", "familiar"), ACCEPTED)
def test_accepted_references_normalise_like_docker(text, canonical, familiar):
    ref = parse_ref(text)
    assert str(ref) == canonical
    assert ref.familiar == familiar
    assert parse_ref(canonical) == ref


def test_fields_of_a_full_reference():
    ref = parse_ref(f"localhost:5000/acme/api:1.2@{SHA}")
    assert ref == Reference("localhost:5000", "acme/api", "1.2", D)
    assert ref.name == "localhost:5000/acme/api"
    assert ref.reference == SHA  # the digest wins over the tag


def test_reference_is_the_tag_without_a_digest():
    assert parse_ref("alpine:3").reference == "3"


def test_digest_only_gets_no_default_tag():
    ref = parse_ref(f"alpine@{SHA}")
    assert ref.tag is None
    assert ref.digest == D


def test_default_tag_can_be_changed_or_dropped():
    assert parse_ref("alpine", default_tag="edge").tag == "edge"
    assert parse_ref("alpine", default_tag=None).tag is None
    assert parse_ref("alpine:3", default_tag=None).tag == "3"


def test_reference_without_tag_or_digest_has_no_manifest_reference():
    ref = parse_ref("ghcr.io/acme/api", default_tag=None)
    with pytest.raises(InputError) as exc:
        _ = ref.reference
    assert str(exc.value) == (
        "'ghcr.io/acme/api' names no tag or digest (expected e.g. ghcr.io/acme/api:latest)"
    )


def test_with_tag_and_with_digest_keep_the_other_part():
    ref = parse_ref("ghcr.io/acme/api:1")
    pinned = ref.with_digest(SHA)
    assert str(pinned) == f"ghcr.io/acme/api:1@{SHA}"
    assert pinned.with_digest(D) == pinned
    assert str(pinned.with_tag("2")) == f"ghcr.io/acme/api:2@{SHA}"
    assert str(pinned.with_tag(None)) == f"ghcr.io/acme/api@{SHA}"
    assert str(pinned.repository_ref) == "ghcr.io/acme/api"


def test_with_tag_refuses_an_invalid_tag():
    with pytest.raises(InputError) as exc:
        parse_ref("alpine").with_tag("-x")
    assert str(exc.value) == (
        "'-x' is not a valid tag (1-128 letters, digits, '_', '.' or '-', "
        "not starting with '.' or '-')"
    )


def test_with_digest_refuses_an_invalid_digest():
    with pytest.raises(InputError) as exc:
        parse_ref("alpine").with_digest("sha256:abc")
    assert str(exc.value) == "'sha256:abc' is not a digest (expected sha256:<64 lower-case hex digits>)"


TAG_RULE = "1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
COMPONENT_RULE = "lower-case letters and digits, separated by '.', '_', '__' or '-'"
REGISTRY_RULE = "letters, digits, '-' and '.', or [IPv6], then an optional :port"
LONG = "ghcr.io/" + "a" * 248

REFUSED = [
    ("", "it is empty (expected [registry/]repository[:tag][@digest], e.g. ghcr.io/acme/api:1.2)"),
    ("Alpine", "repository names must be lower-case"),
    ("ALPINE:latest", "repository names must be lower-case"),
    ("docker.io/Library/alpine", "repository names must be lower-case"),
    ("UPPER/app", "repository names must be lower-case"),
    ("ghcr.io/Acme/api:1", "repository names must be lower-case"),
    ("alpine:.bad", f"tag '.bad' is not valid ({TAG_RULE})"),
    ("alpine:-x", f"tag '-x' is not valid ({TAG_RULE})"),
    ("alpine:", f"tag '' is not valid ({TAG_RULE})"),
    ("alpine:a+b", f"tag 'a+b' is not valid ({TAG_RULE})"),
    ("alpine:" + "t" * 129, f"tag '{'t' * 129}' is not valid ({TAG_RULE})"),
    ("alpine:tåg", f"tag 'tåg' is not valid ({TAG_RULE})"),
    ("a//b", f"an empty path component is not valid ({COMPONENT_RULE})"),
    ("/alpine", f"an empty path component is not valid ({COMPONENT_RULE})"),
    ("ghcr.io/acme/", f"an empty path component is not valid ({COMPONENT_RULE})"),
    ("a-_b", f"path component 'a-_b' is not valid ({COMPONENT_RULE})"),
    ("-alpine", f"path component '-alpine' is not valid ({COMPONENT_RULE})"),
    ("a___b", f"path component 'a___b' is not valid ({COMPONENT_RULE})"),
    ("alpine tag", f"path component 'alpine tag' is not valid ({COMPONENT_RULE})"),
    ("my_host.com/a", f"registry 'my_host.com' is not a valid host[:port] ({REGISTRY_RULE})"),
    ("-host.com/a", f"registry '-host.com' is not a valid host[:port] ({REGISTRY_RULE})"),
    ("host:abc/a", f"registry 'host:abc' is not a valid host[:port] ({REGISTRY_RULE})"),
    ("alpine@sha256:abc", "'sha256:abc' is not a digest (expected sha256:<64 lower-case hex digits>)"),
    ("alpine@" + SHA.upper().replace("SHA256", "sha256"),
     f"'{SHA.upper().replace('SHA256', 'sha256')}' is not a digest "
     "(expected sha256:<64 lower-case hex digits>)"),
    ("alpine@md5:" + "a" * 32,
     f"'md5:{'a' * 32}': unsupported digest algorithm 'md5' (expected sha256 or sha512)"),
    ("alpine:1@", "'' is not a digest (expected sha256:<64 hex digits>)"),
    (f"alpine@{SHA}@{SHA}",
     f"'{SHA}@{SHA}' is not a digest (expected sha256:<64 lower-case hex digits>)"),
    ("0123456789abcdef" * 4, "a 64-character hex string is an image ID, not a repository name"),
    (LONG, "the name is 256 characters long (at most 255)"),
]


@pytest.mark.parametrize(("text", "why"), REFUSED)
def test_refused_references_say_why(text, why):
    with pytest.raises(InputError) as exc:
        parse_ref(text)
    assert str(exc.value) == f"'{text}' is not a valid image reference: {why}"


# --- repositories and registry prefixes ---------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("ghcr.io/acme/api", "ghcr.io/acme/api"),
        ("alpine", "docker.io/library/alpine"),
        ("acme/api", "docker.io/acme/api"),
        ("127.0.0.1:5000/acme", "127.0.0.1:5000/acme"),
    ],
)
def test_parse_repository_has_no_tag(text, canonical):
    ref = parse_repository(text)
    assert ref.tag is None and ref.digest is None
    assert str(ref) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ghcr.io/acme/api:1", "'ghcr.io/acme/api:1' is not a repository: it has a tag (':1') "
         "(expected [registry/]repository, e.g. ghcr.io/acme/api)"),
        (f"acme/api@{SHA}", f"'acme/api@{SHA}' is not a repository: it has a digest "
         "(expected [registry/]repository, e.g. ghcr.io/acme/api)"),
        ("Acme/api", "'Acme/api' is not a valid image reference: repository names must be lower-case"),
    ],
)
def test_parse_repository_refuses_tags_and_digests(text, message):
    with pytest.raises(InputError) as exc:
        parse_repository(text)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("prefix", "image", "canonical"),
    [
        ("ghcr.io/acme", "fleet-api", "ghcr.io/acme/fleet-api"),
        ("ghcr.io/acme/", "fleet-api", "ghcr.io/acme/fleet-api"),
        ("127.0.0.1:5000/acme", "api", "127.0.0.1:5000/acme/api"),
        ("127.0.0.1:5000", "api", "127.0.0.1:5000/api"),
        ("localhost", "api", "localhost/api"),
        ("docker.io/acme", "fleet-api", "docker.io/acme/fleet-api"),
        ("docker.io", "alpine", "docker.io/library/alpine"),
        ("index.docker.io", "alpine", "docker.io/library/alpine"),
        ("acme", "api", "docker.io/acme/api"),
        ("", "api", "docker.io/library/api"),
        ("ghcr.io", "acme/sub/api", "ghcr.io/acme/sub/api"),
    ],
)
def test_join_image_normalises_like_docker(prefix, image, canonical):
    ref = join_image(prefix, image)
    assert str(ref) == canonical
    assert ref.tag is None


@pytest.mark.parametrize(
    ("prefix", "image", "message"),
    [
        ("ghcr.io/acme", "", "'' is not a valid image name (expected a repository path, e.g. acme-api)"),
        ("ghcr.io/acme", "/api", "'/api' is not a valid image name (expected a repository path, e.g. acme-api)"),
        ("ghcr.io/acme", "api:1", "'ghcr.io/acme/api:1' is not a repository: it has a tag (':1') "
         "(expected [registry/]repository, e.g. ghcr.io/acme/api)"),
        ("ghcr.io/acme", "Api", "'ghcr.io/acme/Api' is not a valid image reference: "
         "repository names must be lower-case"),
    ],
)
def test_join_image_refusals(prefix, image, message):
    with pytest.raises(InputError) as exc:
        join_image(prefix, image)
    assert str(exc.value) == message


# --- OCI layouts and locations ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "layout"),
    [
        ("oci:dist/oci/api", LayoutRef("dist/oci/api", None)),
        ("oci:dist/oci/api:latest", LayoutRef("dist/oci/api", "latest")),
        ("oci:/abs/path:v1.0", LayoutRef("/abs/path", "v1.0")),
        ("oci:a:b:c", LayoutRef("a:b", "c")),
        ("oci:a:.x", LayoutRef("a:.x", None)),  # '.x' is not a tag: part of the path
        ("oci:a:", LayoutRef("a:", None)),
        ("oci::tag", LayoutRef(":tag", None)),  # nothing before the ':' -> all path
        ("oci:.", LayoutRef(".", None)),
    ],
)
def test_layout_locations(text, layout):
    assert parse_layout(text) == layout
    assert parse_location(text) == layout
    assert str(layout) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("oci:", "'oci:' is not an OCI layout location: the directory is empty "
         "(expected oci:DIR[:TAG], e.g. oci:dist/oci/api:latest)"),
        ("dir:x", "'dir:x' is not an OCI layout location (expected oci:DIR[:TAG])"),
    ],
)
def test_layout_refusals(text, message):
    with pytest.raises(InputError) as exc:
        parse_layout(text)
    assert str(exc.value) == message


def test_location_is_a_reference_unless_oci_prefixed():
    assert parse_location("alpine") == parse_ref("alpine")
    assert parse_location("docker://ghcr.io/acme/api:1") == parse_ref("ghcr.io/acme/api:1")
    with pytest.raises(InputError):
        parse_location("oci:")


# --- loopback -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("localhost:5000", True),
        ("127.0.0.1", True),
        ("127.0.0.1:5000", True),
        ("127.255.1.2:80", True),
        ("::1", True),
        ("[::1]", True),
        ("[::1]:5000", True),
        ("128.0.0.1", False),
        ("10.0.0.1:5000", False),
        ("ghcr.io", False),
        ("localhost.example.com", False),
        ("127.0.0.1.nip.io:5000", False),
        ("localhost:abc", False),
        ("[::1]x", False),
        ("[::1", False),
        ("[fe80::1]:5000", False),
        ("::2", False),
        ("", False),
    ],
)
def test_is_loopback_host(host, loopback):
    assert is_loopback_host(host) is loopback


# --- properties ---------------------------------------------------------------

_component = st.from_regex(r"[a-z0-9]{1,6}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,6}){0,2}", fullmatch=True)
_port = st.integers(min_value=1, max_value=65535).map(lambda p: f":{p}")
_domain = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
_registry = st.one_of(
    st.just("localhost"),
    st.tuples(st.sampled_from(["localhost", "127.0.0.1", "[::1]", "[fe80::1]"]), _port).map("".join),
    # A dotted name is always a registry; with a port any single label is one.
    st.tuples(st.lists(_domain, min_size=2, max_size=3).map(".".join), st.one_of(st.just(""), _port)).map("".join),
    st.tuples(_domain, _port).map("".join),
)
_tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", fullmatch=True)
_digest = st.one_of(
    st.from_regex(r"[a-f0-9]{64}", fullmatch=True).map(lambda h: Digest("sha256", h)),
    st.from_regex(r"[a-f0-9]{128}", fullmatch=True).map(lambda h: Digest("sha512", h)),
)
_path = st.lists(_component, min_size=1, max_size=4).map("/".join)


@st.composite
def references(draw):
    if draw(st.booleans()):
        registry, repository = "docker.io", draw(_path)
        if "/" not in repository:
            repository = "library/" + repository  # docker's normal form for official images
    else:
        registry, repository = draw(_registry), draw(_path)
    tag = draw(st.one_of(st.none(), _tag))
    digest = draw(st.one_of(st.none(), _digest))
    ref = Reference(registry, repository, tag, digest)
    if len(ref.name) > 255:
        ref = Reference("docker.io", "library/x", tag, digest)
    return ref


@given(references())
def test_reference_round_trips(ref):
    text = str(ref)
    assert parse_ref(text, default_tag=None) == ref
    assert str(parse_ref(text, default_tag=None)) == text
    assert parse_ref(ref.familiar, default_tag=None) == ref


@given(references())
def test_default_tag_fills_only_a_bare_name(ref):
    parsed = parse_ref(str(ref))
    if ref.tag is None and ref.digest is None:
        assert parsed.tag == "latest"
    else:
        assert parsed == ref


_TAG_AT_END = re.compile(r".+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.DOTALL)


@st.composite
def layouts(draw):
    path = draw(st.text(min_size=1, max_size=40))
    tag = draw(st.one_of(st.none(), _tag))
    # skopeo's grammar cannot spell a tagless path that itself ends in ':<tag>'.
    if tag is None and _TAG_AT_END.fullmatch(path):
        tag = "latest"
    return LayoutRef(path, tag)


@given(layouts())
def test_layout_round_trips(layout):
    assert parse_layout(str(layout)) == layout
    assert parse_location(str(layout)) == layout
    assert str(parse_layout(str(layout))) == str(layout)


_REF_ALPHABET = "abcz09AZ:/@._-[]sha256 "


@given(st.one_of(st.text(), st.text(alphabet=_REF_ALPHABET), references().map(str).map(lambda s: s[:-1])))
def test_parse_ref_returns_a_reference_or_raises_input_error(text):
    try:
        assert isinstance(parse_ref(text), Reference)
    except InputError as exc:
        assert str(exc).startswith(f"'{text}'")


@given(st.one_of(st.text(), st.text(alphabet=_REF_ALPHABET)))
def test_parse_location_returns_a_location_or_raises_input_error(text):
    with contextlib.suppress(InputError):
        assert isinstance(parse_location(text), Reference | LayoutRef)
