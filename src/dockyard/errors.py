"""The one exception tree of dockyard, and how it maps to exit codes.

    DockyardError                      base; never raised directly
    ├── InputError          exit 2     bad input: usage, config, reference, rule
    └── OperationError      exit 1     the operation failed or found problems
        ├── RegistryError               an HTTP exchange with a registry failed, or a
        │   │                           token realm / redirect it named was refused
        │   │                           (the registry's configuration, not the user's input)
        │   └── UntrustedCertificate    a TLS certificate did not verify: a CA problem
        ├── DigestMismatch              bytes did not hash to the expected digest
        ├── BuildFailed                 a builder job failed
        ├── VerificationFailed          verify found error findings
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
    ) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes
        self.method = method
        self.url = url
        self.temporary = temporary


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


class DigestMismatch(OperationError):
    """Content did not hash to the digest it was fetched or stored under."""


class BuildFailed(OperationError):
    """A builder job failed."""


class VerificationFailed(OperationError):
    """Verification found at least one error finding."""


class Unsupported(OperationError):
    """The store or registry cannot do this (e.g. DELETE refused); callers may fall back."""
