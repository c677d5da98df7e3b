"""The one exception tree of dockyard, and how it maps to exit codes.

    DockyardError                      base; never raised directly
    ├── InputError          exit 2     bad input: usage, config, reference, rule
    │   ├── UnsetVariable               a Dockerfile's ${X:?message} met an unset X
    │   ├── TemplateError               a tag template Handlebars would refuse
    │   ├── BakeError                   a bake/compose file buildx would refuse; the
    │   │                               message starts with FILE:LINE: and names the block
    │   └── VersionInvalid              a package version an ecosystem's rules cannot read
    │                                   (the scan's matcher notes it and goes on)
    └── OperationError      exit 1     the operation failed or found problems
        ├── RegistryError               an HTTP exchange with a registry failed, or a
        │   │                           token realm / redirect it named was refused
        │   │                           (the registry's configuration, not the user's input);
        │   │                           .status .codes .method .url .temporary .retry_after
        │   ├── UntrustedCertificate    a TLS certificate did not verify: a CA problem
        │   └── DeadlineExceeded        the run's registry deadline (--timeout) passed; never retried
        ├── NotFound                    a store has no such blob, manifest or tag
        ├── DigestMismatch              bytes did not hash to the expected digest
        ├── ManifestInvalid             a manifest, index, descriptor or config is malformed
        ├── LayoutInvalid               a directory is not a usable OCI image layout
        ├── InflateLimitReached         a layer decompresses past a cap (ratio, total): a bomb
        ├── ReferrersInvalid            a referrers fallback tag holds something else
        ├── RecordInvalid               a referrer claiming to be a verification record is not one
        ├── SignatureInvalid            a signature or DSSE envelope does not verify with the key,
        │                               is malformed, or names another image
        ├── Cancelled                   a transfer stopped because another one failed
        ├── BuildFailed                 a builder job failed; .log_tail
        ├── VerificationFailed          verify found error findings
        ├── PublishFailed               publish failed; .result says where every tag is
        ├── ScanFailed                  the vulnerability scan found a finding at or above
        │                               the threshold, or the scanner itself failed
        ├── SbomFailed                  an SBOM could not be made: syft failed, a layer
        │                               could not be read, a document did not validate
        └── Unsupported                 a store cannot do this; callers fall back

Library code raises only these; third-party exceptions (httpx, subprocess,
OSError) are translated at the module boundary that calls them. The CLI turns
any DockyardError into one line on stderr and its exit code; a traceback is
shown only with DOCKYARD_DEBUG=1.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT = 2


class DockyardError(Exception):
    """Base of every error dockyard raises on purpose."""

    exit_code = EXIT_FAILED


class InputError(DockyardError):
    """The user's input is wrong: nothing was done. Exit 2."""

    exit_code = EXIT_INPUT


class OperationError(DockyardError):
    """The operation was attempted and failed, or found problems. Exit 1."""

    exit_code = EXIT_FAILED


class RegistryError(OperationError):
    """A registry answered with an error, or could not be reached.

    `url` must already be redacted by the caller; `codes` are the OCI
    distribution error codes from the response body (e.g. MANIFEST_UNKNOWN).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        codes: tuple[str, ...] = (),
        method: str | None = None,
        url: str | None = None,
        temporary: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes
        self.method = method
        self.url = url
        self.temporary = temporary
        # Seconds the registry asked us to wait (Retry-After), for a caller that
        # retries a whole operation (an upload) rather than one request.
        self.retry_after = retry_after


class DeadlineExceeded(RegistryError):
    """The overall deadline for registry operations passed (`--timeout`, `[retry] deadline`).

    Never temporary: a retry would only run past the deadline again. The
    message names the request and the bytes it had moved.
    """


class UntrustedCertificate(RegistryError):
    """A registry's (or its token server's, or a redirect target's) certificate did not verify.

    `reason` is OpenSSL's verify message ("self-signed certificate in certificate
    chain"); `host` the host:port whose certificate it was. The fix is a CA
    (--ca-cert), so `doctor` reports it as a CA problem, not a dead registry.
    """

    def __init__(self, message: str, *, reason: str, host: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.host = host


class UnsetVariable(InputError):
    """`${X:?message}` met an unset X: the text is fine, the arguments are not."""


class BakeError(InputError):
    """A bake, bake-JSON or compose file (or a --set) that buildx would refuse: exit 2."""


class TemplateError(InputError):
    """An expression Handlebars would refuse (or that dockyard does not support)."""


class VersionInvalid(InputError):
    """A version string an ecosystem's ordering cannot read (`1.x`, a Debian version with a space).

    The scan's matcher catches it and notes the package or advisory it could not judge."""


class NotFound(OperationError):
    """The store has no such blob, manifest or tag (a registry's 404, a layout's missing file)."""


class DigestMismatch(OperationError):
    """Content did not hash to the digest it was fetched or stored under."""


class ManifestInvalid(OperationError):
    """A manifest, index, descriptor or config is malformed, oversized or ambiguous."""


class LayoutInvalid(OperationError):
    """The directory is not a usable OCI image layout."""


class InflateLimitReached(OperationError):
    """A layer decompresses beyond oci/inflate.py's caps (ratio, total size)."""


class ReferrersInvalid(OperationError):
    """The `<alg>-<hex>` tag exists but is not a referrers index (another tool's tag?)."""


class RecordInvalid(OperationError):
    """A referrer that claims to be a verification record and is not a usable one."""


class SignatureInvalid(OperationError):
    """A signature (cosign layer, DSSE envelope) is malformed, does not verify, or names another image."""


class Cancelled(OperationError):
    """A transfer stopped because another one failed."""


class BuildFailed(OperationError):
    """A builder job failed; `log_tail` holds the last lines of its log, when there is one."""

    def __init__(self, message: str, *, log_tail: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.log_tail = log_tail


class VerificationFailed(OperationError):
    """Verification found at least one error finding."""


class PublishFailed(OperationError):
    """Publish failed; `result` (a publish.PublishResult) says where every tag of every repository is."""

    def __init__(self, message: str, *, result: object) -> None:
        super().__init__(message)
        self.result = result


class ScanFailed(OperationError):
    """The vulnerability scan found a finding at or above the threshold, or the scanner failed."""


class SbomFailed(OperationError):
    """An SBOM could not be made: syft failed, a layer could not be read, a document is invalid."""


class Unsupported(OperationError):
    """The store or registry cannot do this (e.g. DELETE refused); callers may fall back."""
