"""Signing keys: PEM in (file or env, encrypted or not), P-256 only, never shown in an error or a repr."""

from __future__ import annotations

import pickle

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from dockyard.config.keysource import KeySource, parse_key_source
from dockyard.errors import InputError
from dockyard.evidence.sign.keys import (
    SigningKey,
    key_password,
    load_signing_key,
    load_verifying_key,
    signing_key_from_pem,
    verifying_key_from_pem,
)

PASSWORD = "correct horse battery staple"


def pkcs8(key, password: str | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password is not None
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def spki(key) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="module")
def p256():
    return ec.generate_private_key(ec.SECP256R1())


def secrets_of(key, *extra: str) -> list[str]:
    """Text that must never appear in output: the PEM body lines, the raw scalar, passwords."""
    pem = pkcs8(key).decode()
    lines = [line for line in pem.splitlines() if not line.startswith("-----")]
    return [*lines, str(key.private_numbers().private_value), *extra]


def test_a_pkcs8_key_from_a_file_signs_what_its_public_key_verifies(tmp_path, p256):
    (tmp_path / "k.pem").write_bytes(pkcs8(p256))
    (tmp_path / "k.pub").write_bytes(spki(p256))
    key = load_signing_key(parse_key_source("k.pem", base=tmp_path, bare="file"), {})
    public = load_verifying_key(parse_key_source("file:k.pub", base=tmp_path), {})
    signature = key.sign(b"payload")
    assert signature[0] == 0x30  # ASN.1 DER, as cosign writes it
    assert public.verify(signature, b"payload") and key.public == public
    assert not public.verify(signature, b"payload!")
    assert not public.verify(b"\x30\x02garbage", b"payload")


def test_a_key_in_an_environment_variable(p256):
    key = load_signing_key(KeySource("env", "SIGNING_KEY"), {"SIGNING_KEY": pkcs8(p256).decode()})
    assert key.public.keyid == verifying_key_from_pem(spki(p256), where="x").keyid


@pytest.mark.parametrize("variable", ["DOCKYARD_KEY_PASSWORD", "COSIGN_PASSWORD"])
def test_an_encrypted_key_takes_its_password_from_either_variable(p256, variable):
    key = load_signing_key(
        KeySource("env", "K"), {"K": pkcs8(p256, PASSWORD).decode(), variable: PASSWORD}
    )
    assert key.public.verify(key.sign(b"x"), b"x")


def test_dockyards_variable_wins_over_cosigns():
    assert key_password({"COSIGN_PASSWORD": "b", "DOCKYARD_KEY_PASSWORD": "a"}) == b"a"
    assert key_password({}) is None


def test_an_unencrypted_key_ignores_a_password_that_is_set(p256):
    key = signing_key_from_pem(pkcs8(p256), password=b"unused", where="x")
    assert key.public.verify(key.sign(b"x"), b"x")


def test_openssls_traditional_ec_key_is_read(p256):
    pem = p256.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert signing_key_from_pem(pem, password=None, where="x").public.keyid


def _error(call) -> str:
    with pytest.raises(InputError) as err:
        call()
    return str(err.value)


def test_bad_keys_are_refused_in_one_line_naming_the_source_and_never_their_content(tmp_path, p256):
    encrypted = pkcs8(p256, PASSWORD)
    p384 = ec.generate_private_key(ec.SECP384R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ed = ed25519.Ed25519PrivateKey.generate()
    cases = {
        "no such key file": lambda: load_signing_key(
            KeySource("file", str(tmp_path / "nope.pem")), {}
        ),
        "is not set or is empty": lambda: load_signing_key(KeySource("env", "NOPE"), {}),
        "not a PEM key": lambda: signing_key_from_pem(b"hello", password=None, where="file:k"),
        "the key is encrypted: set DOCKYARD_KEY_PASSWORD": lambda: signing_key_from_pem(
            encrypted, password=None, where="file:k"
        ),
        "cannot decrypt it (wrong password?)": lambda: signing_key_from_pem(
            encrypted, password=b"wrong", where="file:k"
        ),
        "an EC secp384r1 private key; expected ECDSA P-256": lambda: signing_key_from_pem(
            pkcs8(p384), password=None, where="file:k"
        ),
        "an RSA private key; expected ECDSA P-256": lambda: signing_key_from_pem(
            pkcs8(rsa_key), password=None, where="file:k"
        ),
        "an Ed25519 private key": lambda: signing_key_from_pem(
            pkcs8(ed), password=None, where="file:k"
        ),
        "not a private key": lambda: signing_key_from_pem(
            spki(p256), password=None, where="file:k"
        ),
        "a private key; verify takes the public key": lambda: verifying_key_from_pem(
            pkcs8(p256), where="file:k"
        ),
        "an RSA public key": lambda: verifying_key_from_pem(spki(rsa_key), where="file:k"),
        "cosign's own encrypted format": lambda: signing_key_from_pem(
            b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
            password=b"x",
            where="file:k",
        ),
    }
    secrets = secrets_of(p256, PASSWORD)
    for expected, call in cases.items():
        message = _error(call)
        assert expected in message, (expected, message)
        assert "\n" not in message
        assert not any(secret in message for secret in secrets), message


def test_a_key_file_that_is_a_directory_or_huge_is_refused(tmp_path):
    assert "cannot read the key file" in _error(
        lambda: load_signing_key(KeySource("file", str(tmp_path)), {})
    )
    big = tmp_path / "big.pem"
    big.write_bytes(b"x" * 70_000)
    assert "not a PEM key" in _error(lambda: load_signing_key(KeySource("file", str(big)), {}))


def test_the_repr_names_the_public_key_only_and_a_key_cannot_be_pickled(p256):
    key = SigningKey(p256)
    text = repr(key) + repr(key.public) + str(key)
    assert text.startswith("SigningKey(ECDSA P-256, keyid=")
    assert not any(secret in text for secret in secrets_of(p256))
    with pytest.raises(TypeError):
        pickle.dumps(key)
