"""--ca-cert for the tools dockyard runs (buildah): a containers-certs.d style directory.

buildah, podman and skopeo take `--cert-dir DIR`, a directory whose `*.crt`
files are trusted CAs (containers-certs.d(5)); dockyard takes one PEM file.
`write_cert_dir` puts a copy of that file into a directory of its own, so
the tool trusts exactly what dockyard's own client trusts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dockyard.errors import InputError


def write_cert_dir(ca_cert: str | Path, directory: Path) -> Path:
    """`directory` (created) holding `ca_cert` as ca.crt; InputError when it cannot be read."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(ca_cert, directory / "ca.crt")
    except OSError as exc:
        raise InputError(f"--ca-cert {ca_cert}: cannot read it ({exc.strerror or exc})") from None
    return directory
