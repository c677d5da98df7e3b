"""TLS failures told apart: a certificate that does not verify, a host that is not TLS.

`tls_verify_failure` finds a verification failure behind an httpx error (a
CA problem: never retried, and `untrusted` names the fix); `is_tls_failure`
says the handshake failed otherwise, which the session's ping takes as "this
host speaks plain http" (`TlsRefused`).
"""

from __future__ import annotations

import ssl

from dockyard.errors import UntrustedCertificate


def tls_verify_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate-verification failure behind `exc` (its cause chain), if that is what it is."""
    seen = exc
    for _ in range(10):
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        nxt = seen.__cause__ or seen.__context__
        if nxt is None:
            break
        seen = nxt
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return ssl.SSLCertVerificationError(str(exc))
    return None


def is_tls_failure(exc: BaseException) -> bool:
    """`exc` is a TLS handshake failure (e.g. the host speaks plain http), not a network one."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    return "SSL" in text or "WRONG_VERSION_NUMBER" in text or "record layer" in text


class TlsRefused(Exception):
    """The host answered a TLS handshake with something that is not TLS."""


def untrusted(
    what: str, bad: ssl.SSLCertVerificationError, *, host: str, registry: str | None = None
) -> UntrustedCertificate:
    """The one-line error for a certificate that did not verify: a CA problem, named as such.

    `host` is the host:port whose certificate failed; `registry` the registry it
    was reached for, when that is another host (a token realm, a redirect):
    --insecure-registry cannot help there, only the CA can.
    """
    reason = getattr(bad, "verify_message", "") or "verification failed"
    if registry is None or registry == host:
        fix = f"pass --ca-cert FILE, or --insecure-registry {host} to skip verification"
    else:
        fix = (
            f"pass --ca-cert FILE (--insecure-registry {registry} does not extend to {host}, "
            "another host)"
        )
    return UntrustedCertificate(
        f"{what}: TLS certificate not trusted ({reason}); {fix}", reason=reason, host=host
    )
