"""write_cert_dir: --ca-cert as the *.crt directory buildah's --cert-dir reads."""

import pytest

from dockyard.errors import InputError
from dockyard.oci.certdir import write_cert_dir


def test_the_ca_is_copied_as_ca_crt(tmp_path):
    ca = tmp_path / "my-ca.pem"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
    directory = write_cert_dir(ca, tmp_path / "certs")
    assert sorted(p.name for p in directory.iterdir()) == ["ca.crt"]
    assert (directory / "ca.crt").read_bytes() == ca.read_bytes()


def test_a_missing_ca_is_bad_input(tmp_path):
    with pytest.raises(InputError) as err:
        write_cert_dir(tmp_path / "nope.pem", tmp_path / "certs")
    assert (
        str(err.value)
        == f"--ca-cert {tmp_path / 'nope.pem'}: cannot read it (No such file or directory)"
    )
