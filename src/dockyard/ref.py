"""Image references, parsed and normalised exactly as docker/distribution does.

Grammar (github.com/distribution/reference):

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [registry "/"] path
    registry   := host [":" port]          host: domain name or [IPv6]
    path       := component ("/" component)*
    component  := [a-z0-9]+ ((?:[._]|__|[-]+) [a-z0-9]+)*
    tag        := [\\w][\\w.-]{0,127}

Normalisation (ParseNormalizedNamed): the first path element is a registry only
if it contains '.' or ':' or is 'localhost'; otherwise the registry is
docker.io. index.docker.io and registry-1.docker.io are spelled docker.io, and a
one-component docker.io repository gets `library/`. The canonical form is
always the full `registry/repository[:tag][@digest]`, so `str()` round-trips.

Also here: skopeo's `oci:DIR[:TAG]` layout locations, and the loopback test
that decides when plain HTTP is allowed without asking.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace

from dockyard.digest import Digest, parse_digest
from dockyard.errors import InputError

DEFAULT_REGISTRY = "docker.io"
OFFICIAL_PREFIX = "library/"
# Docker Hub's historical names; docker rewrites them to docker.io.
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
# distribution/reference's NameTotalLengthMax, counted on the normalised name.
NAME_MAX_LENGTH = 255

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_REGISTRY = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
# docker refuses a bare 64-hex name: it is an image ID, not a repository.
_IMAGE_ID = re.compile(r"[a-f0-9]{64}")

_EXPECTED = "expected [registry/]repository[:tag][@digest], e.g. ghcr.io/acme/api:1.2"
_TAG_RULE = "1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"


@dataclass(frozen=True)
class Reference:
    """A normalised image reference; build one with parse_ref, not by hand."""

    registry: str
    repository: str
    tag: str | None = None
    digest: Digest | None = None

    def __str__(self) -> str:
        return self.name + _suffix(self.tag, self.digest)

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def familiar(self) -> str:
        """docker's short form: alpine:latest, user/app:1, host:5000/a/b:t."""
        return _familiar_name(self) + _suffix(self.tag, self.digest)

    @property
    def reference(self) -> str:
        """What goes in /v2/<repository>/manifests/<reference>: the digest wins."""
        if self.digest is not None:
            return str(self.digest)
        if self.tag is not None:
            return self.tag
        raise InputError(f"'{self}' names no tag or digest (expected e.g. {self.name}:latest)")

    @property
    def repository_ref(self) -> Reference:
        """The same repository with neither tag nor digest."""
        return replace(self, tag=None, digest=None)

    def with_tag(self, tag: str | None) -> Reference:
        """The same reference with this tag (validated); a digest is kept, as docker does."""
        if tag is not None and not _TAG.fullmatch(tag):
            raise InputError(f"'{tag}' is not a valid tag ({_TAG_RULE})")
        return replace(self, tag=tag)

    def with_digest(self, digest: Digest | str | None) -> Reference:
        """The same reference with this digest; the tag is kept, as docker does."""
        if isinstance(digest, str):
            digest = parse_digest(digest)
        return replace(self, digest=digest)


@dataclass(frozen=True)
class LayoutRef:
    """skopeo's `oci:DIR[:TAG]`: an OCI image layout directory and an optional tag."""

    path: str
    tag: str | None = None

    def __str__(self) -> str:
        return f"oci:{self.path}" + (f":{self.tag}" if self.tag is not None else "")


def parse_ref(text: str, *, default_tag: str | None = "latest") -> Reference:
    """Parse and normalise an image reference as docker does.

    With neither tag nor digest, the tag is `default_tag` (None keeps it empty);
    a digest-only reference never gets a default tag.
    """
    if not text:
        raise _invalid(text, f"it is empty ({_EXPECTED})")
    if _IMAGE_ID.fullmatch(text):
        raise _invalid(text, "a 64-character hex string is an image ID, not a repository name")
    name, digest = _split_digest(text)
    name, tag = _split_tag(text, name)
    registry, repository = _split_registry(name)
    _check_registry(text, registry)
    _check_repository(text, repository)
    full = f"{registry}/{repository}"
    if len(full) > NAME_MAX_LENGTH:
        raise _invalid(
            text, f"the name is {len(full)} characters long (at most {NAME_MAX_LENGTH})"
        )
    if tag is None and digest is None:
        tag = default_tag
    return Reference(registry, repository, tag, digest)


def parse_repository(text: str) -> Reference:
    """Parse `[registry/]repository` (no tag, no digest), normalised as docker does."""
    ref = parse_ref(text, default_tag=None)
    if ref.tag is not None or ref.digest is not None:
        what = "a digest" if ref.digest is not None else f"a tag (':{ref.tag}')"
        raise InputError(
            f"'{text}' is not a repository: it has {what} "
            "(expected [registry/]repository, e.g. ghcr.io/acme/api)"
        )
    return ref


def join_image(registry_prefix: str, image: str) -> Reference:
    """A registry namespace (`ghcr.io/acme`, `127.0.0.1:5000`) joined with an image name.

    The result is normalised like any docker name (`docker.io` + `alpine` ->
    docker.io/library/alpine) and carries no tag.
    """
    prefix = registry_prefix.rstrip("/")
    if not image or image.startswith("/"):
        raise InputError(
            f"'{image}' is not a valid image name (expected a repository path, e.g. acme-api)"
        )
    if not prefix:
        return parse_repository(image)
    # Joined, then parsed whole: a prefix without '.' or ':' (e.g. 'acme') is a
    # Docker Hub namespace, exactly as docker reads 'acme/api'.
    return parse_repository(f"{prefix}/{image}")


def parse_location(text: str) -> Reference | LayoutRef:
    """A store location: `oci:DIR[:TAG]` is a layout, anything else a registry reference.

    skopeo's `docker://` transport prefix is accepted and dropped.
    """
    if text.startswith("oci:"):
        return parse_layout(text)
    return parse_ref(text.removeprefix("docker://"))


def parse_layout(text: str) -> LayoutRef:
    """Parse `oci:DIR[:TAG]`; the tag is after the last ':' if it is a valid tag."""
    rest = text.removeprefix("oci:")
    if rest == text:
        raise InputError(f"'{text}' is not an OCI layout location (expected oci:DIR[:TAG])")
    if not rest:
        raise InputError(
            f"'{text}' is not an OCI layout location: the directory is empty "
            "(expected oci:DIR[:TAG], e.g. oci:dist/oci/api:latest)"
        )
    path, sep, tag = rest.rpartition(":")
    if sep and path and _TAG.fullmatch(tag):
        return LayoutRef(path, tag)
    return LayoutRef(rest, None)


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1, with or without a port ([::1]:5000)."""
    name = _strip_port(host)
    if name is None:
        return False
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _strip_port(host: str) -> str | None:
    """The host part of host[:port]; None if the port is not a number."""
    if host.startswith("["):
        inner, sep, port = host[1:].partition("]")
        if not sep or (port and not (port.startswith(":") and port[1:].isdigit())):
            return None
        return inner
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name if port.isdigit() else None
    return host  # no port, or a bare IPv6 address such as ::1


def _familiar_name(ref: Reference) -> str:
    if ref.registry != DEFAULT_REGISTRY:
        return ref.name
    short = ref.repository
    rest = short.removeprefix(OFFICIAL_PREFIX)
    if rest != short and "/" not in rest and not _IMAGE_ID.fullmatch(rest):
        return rest
    # docker would print 'a.b/c' for docker.io/a.b/c, which reads back as
    # registry a.b; keep the registry whenever dropping it changes the meaning.
    if _split_registry(short)[0] != DEFAULT_REGISTRY:
        return ref.name
    return short


def _suffix(tag: str | None, digest: Digest | None) -> str:
    return (f":{tag}" if tag is not None else "") + (f"@{digest}" if digest is not None else "")


def _invalid(text: str, why: str) -> InputError:
    return InputError(f"'{text}' is not a valid image reference: {why}")


def _split_digest(text: str) -> tuple[str, Digest | None]:
    name, sep, digest_text = text.partition("@")
    if not sep:
        return name, None
    try:
        return name, parse_digest(digest_text)
    except InputError as exc:
        raise _invalid(text, str(exc)) from None


def _split_tag(text: str, name: str) -> tuple[str, str | None]:
    """A ':' after the last '/' starts a tag; before it, it is a registry port."""
    colon = name.rfind(":")
    if colon <= name.rfind("/"):
        return name, None
    tag = name[colon + 1 :]
    if not _TAG.fullmatch(tag):
        raise _invalid(text, f"tag '{tag}' is not valid ({_TAG_RULE})")
    return name[:colon], tag


def _split_registry(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DEFAULT_REGISTRY, name
    if registry in _DOCKER_HUB_ALIASES:
        registry = DEFAULT_REGISTRY
        if "/" not in repository:
            repository = OFFICIAL_PREFIX + repository
    return registry, repository


def _check_registry(text: str, registry: str) -> None:
    if not _REGISTRY.fullmatch(registry):
        raise _invalid(
            text,
            f"registry '{registry}' is not a valid host[:port] "
            "(letters, digits, '-' and '.', or [IPv6], then an optional :port)",
        )


def _check_repository(text: str, repository: str) -> None:
    if repository.lower() != repository:
        raise _invalid(text, "repository names must be lower-case")
    for component in repository.split("/"):
        if not _COMPONENT.fullmatch(component):
            shown = f"path component '{component}'" if component else "an empty path component"
            raise _invalid(
                text,
                f"{shown} is not valid (lower-case letters and digits, "
                "separated by '.', '_', '__' or '-')",
            )
