"""ECDSA P-256 keys for signing and verifying, read from PEM without ever showing them.

    key = load_signing_key(parse_key_source("file:cosign.key"), environ)   # SigningKey
    der = key.sign(payload)                                                # ASN.1 DER, SHA-256
    pub = load_verifying_key(parse_key_source("cosign.pub", bare="file"), environ)
    pub.verify(der, payload)                                               # True / False

Private keys: PEM PKCS#8 (`PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY` with the
password from $DOCKYARD_KEY_PASSWORD, else $COSIGN_PASSWORD as cosign reads
it); OpenSSL's traditional `EC PRIVATE KEY` is read too. Public keys: PEM
SubjectPublicKeyInfo (`PUBLIC KEY`, what `cosign public-key` and `openssl
pkey -pubout` write). Only P-256 (cosign's default, what its verify expects
of an ECDSA key) is accepted. cosign's own encrypted format (`ENCRYPTED
SIGSTORE PRIVATE KEY`: scrypt + NaCl secretbox) is refused with a message
saying so: the `cryptography` package has no secretbox.

A key, its PEM and its password never appear in a message, a repr or a log:
errors name the source (`file:PATH`, `env:NAME`) and what is wrong, never the
content, and cryptography's own messages are not passed on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from dockyard.config.keysource import ENV, KeySource
from dockyard.errors import InputError

PASSWORD_VARIABLES = ("DOCKYARD_KEY_PASSWORD", "COSIGN_PASSWORD")
# A PEM key is a few hundred bytes; a larger file is not a key (and is not read whole).
MAX_PEM = 64 * 1024
_ECDSA = ec.ECDSA(hashes.SHA256())
_NEW_KEY = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out cosign.key"


class VerifyingKey:
    """An ECDSA P-256 public key: verify(signature, data), its SPKI PEM and key id."""

    __slots__ = ("_key",)

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        self._key = key

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when `signature` (ASN.1 DER, as cosign writes it) is this key's over `data`."""
        try:
            self._key.verify(signature, data, _ECDSA)
        except (InvalidSignature, ValueError):
            return False
        return True

    def verify_raw(self, signature: bytes, data: bytes) -> bool:
        """The same for a raw r||s signature (64 bytes), as some DSSE signers write it."""
        if len(signature) != 64:
            return False
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        return self.verify(encode_dss_signature(r, s), data)

    def pem(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def keyid(self) -> str:
        """sha256 of the DER SubjectPublicKeyInfo, hex: names the key without being it."""
        der = self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(der).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyingKey) and other.keyid == self.keyid

    def __hash__(self) -> int:
        return hash(self.keyid)

    def __repr__(self) -> str:
        return f"VerifyingKey(ECDSA P-256, keyid={self.keyid[:16]})"


class SigningKey:
    """An ECDSA P-256 private key: sign(data) -> ASN.1 DER over SHA-256. Its repr names the
    public key only."""

    __slots__ = ("_key", "public")

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self.public = VerifyingKey(key.public_key())

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, _ECDSA)

    def __repr__(self) -> str:
        return f"SigningKey(ECDSA P-256, keyid={self.public.keyid[:16]})"

    def __reduce__(self):  # never pickled into a worker, a cache or a log
        raise TypeError("a SigningKey cannot be pickled")


# ---------------------------------------------------------------- reading


def read_pem(source: KeySource, environ: Mapping[str, str]) -> bytes:
    """The PEM text a source holds; InputError naming the source when there is none."""
    if source.kind == ENV:
        value = environ.get(source.value, "")
        if not value.strip():
            raise InputError(
                f"{source}: the environment variable {source.value} is not set or is empty "
                "(expected a PEM key in it)"
            )
        return value.encode()
    path = Path(source.value)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_PEM + 1)
    except FileNotFoundError:
        raise InputError(f"{source}: no such key file") from None
    except OSError as exc:
        raise InputError(f"{source}: cannot read the key file ({exc.strerror})") from None
    if len(data) > MAX_PEM:
        raise InputError(f"{source}: more than {MAX_PEM} bytes, not a PEM key")
    return data


def key_password(environ: Mapping[str, str]) -> bytes | None:
    """$DOCKYARD_KEY_PASSWORD, else $COSIGN_PASSWORD, else None."""
    for name in PASSWORD_VARIABLES:
        if name in environ:
            return environ[name].encode()
    return None


def load_signing_key(source: KeySource, environ: Mapping[str, str]) -> SigningKey:
    """The private key at `source`, decrypted with the password variables when encrypted."""
    pem = read_pem(source, environ)
    return signing_key_from_pem(pem, password=key_password(environ), where=str(source))


def load_verifying_key(source: KeySource, environ: Mapping[str, str]) -> VerifyingKey:
    return verifying_key_from_pem(read_pem(source, environ), where=str(source))


def signing_key_from_pem(pem: bytes, *, password: bytes | None, where: str) -> SigningKey:
    """A P-256 private key from PEM; InputError naming `where` (never the content)."""
    _check_pem(pem, where)
    if b"SIGSTORE PRIVATE KEY" in pem or b"COSIGN PRIVATE KEY" in pem:
        raise InputError(
            f"{where}: a key in cosign's own encrypted format, which dockyard cannot read "
            "(expected a PEM PKCS#8 ECDSA P-256 key, e.g. from " + _NEW_KEY + ")"
        )
    if b"PRIVATE KEY-----" not in pem:
        raise InputError(
            f"{where}: not a private key (signing needs the private key; expected PEM PKCS#8)"
        )
    encrypted = b"ENCRYPTED PRIVATE KEY" in pem or b"Proc-Type: 4,ENCRYPTED" in pem
    if encrypted and password is None:
        raise InputError(
            f"{where}: the key is encrypted: set DOCKYARD_KEY_PASSWORD "
            "(or COSIGN_PASSWORD) to its password"
        )
    try:
        key = serialization.load_pem_private_key(pem, password=password if encrypted else None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        why = (
            "cannot decrypt it (wrong password?)" if encrypted else "not a readable PEM private key"
        )
        raise InputError(f"{where}: {why}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InputError(f"{where}: {_kind(key)} private key; expected ECDSA P-256 ({_NEW_KEY})")
    return SigningKey(key)


def verifying_key_from_pem(pem: bytes, *, where: str) -> VerifyingKey:
    """A P-256 public key from PEM SubjectPublicKeyInfo; InputError naming `where`."""
    _check_pem(pem, where)
    if b"PRIVATE KEY-----" in pem:
        raise InputError(
            f"{where}: a private key; verify takes the public key "
            "(openssl pkey -in KEY -pubout -out cosign.pub)"
        )
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(
            f"{where}: not a readable PEM public key (expected '-----BEGIN PUBLIC KEY-----')"
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InputError(f"{where}: {_kind(key)} public key; expected ECDSA P-256")
    return VerifyingKey(key)


def _check_pem(pem: bytes, where: str) -> None:
    if b"-----BEGIN " not in pem:
        raise InputError(f"{where}: not a PEM key (expected a '-----BEGIN …-----' block)")


def _kind(key: object) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "an RSA"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "an Ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"an EC {key.curve.name}"
    return f"a {type(key).__name__}"
