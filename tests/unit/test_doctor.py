"""doctor's row decisions (pure) and what it reads from the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.emulation import binfmt_status
from dockyard.errors import InputError
from dockyard.pipeline.doctor import (
    DoctorReport,
    Row,
    binfmt_row,
    builder_row,
    certificate_problem,
    credential_row,
    describe_source,
    doctor_inputs,
    human_size,
    registry_row,
    space_row,
)
from dockyard.platform import Platform

AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")
GiB = 1024**3


@pytest.mark.parametrize(
    ("args", "kw", "row"),
    [
        (("buildah", "1.28.2", None), {"chosen": True}, Row("builder buildah", "ok", "buildah 1.28.2 (default)")),
        (("buildx", "0.12.1", None), {"chosen": False}, Row("builder buildx", "ok", "buildx 0.12.1")),
        (("buildah", None, "buildah is not installed (apt-get install buildah)"), {"chosen": True},
         Row("builder buildah", "fail", "buildah is not installed (apt-get install buildah)")),
        (("buildx", None, "docker buildx is not available: no 'docker' on PATH"), {"chosen": False},
         Row("builder buildx", "warn", "docker buildx is not available: no 'docker' on PATH")),
    ],
)  # fmt: skip
def test_builder_row(args, kw, row):
    assert builder_row(*args, **kw) == row


def test_binfmt_rows(tmp_path):
    root = tmp_path / "binfmt_misc"
    root.mkdir()
    (root / "status").write_text("enabled\n")
    assert binfmt_row(binfmt_status(AMD64, host=AMD64, root=root)) == Row(
        "binfmt linux/amd64", "ok", "native on linux/amd64"
    )
    row = binfmt_row(binfmt_status(ARM64, host=AMD64, root=root))
    assert (row.check, row.status) == ("binfmt linux/arm64", "fail")
    assert row.detail.endswith(
        "(run: apt-get install qemu-user-static binfmt-support && update-binfmts --enable qemu-aarch64)"
    )
    (root / "qemu-aarch64").write_text(
        "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n"
    )
    assert binfmt_row(binfmt_status(ARM64, host=AMD64, root=root)) == Row(
        "binfmt linux/arm64",
        "ok",
        "qemu-aarch64 enabled (/usr/libexec/qemu-binfmt/aarch64-binfmt-P, flags F)",
    )


@pytest.mark.parametrize(
    ("kw", "row"),
    [
        ({"scheme": "http", "auth": None, "error": None},
         Row("registry 127.0.0.1:5000", "ok", "http://127.0.0.1:5000/v2/ answers (anonymous access)")),
        ({"scheme": "https", "auth": "bearer", "error": None},
         Row("registry 127.0.0.1:5000", "ok", "https://127.0.0.1:5000/v2/ answers (asks for credentials: bearer)")),
        ({"scheme": None, "auth": None, "error": "GET http://127.0.0.1:5000/v2/: connection refused"},
         Row("registry 127.0.0.1:5000", "fail", "GET http://127.0.0.1:5000/v2/: connection refused")),
    ],
)  # fmt: skip
def test_registry_row(kw, row):
    assert registry_row("127.0.0.1:5000", **kw) == row


NONE_FOUND = (
    "none found (docker login / podman login, or set the DOCKYARD_REGISTRY_<HOST>_USER and "
    "_PASSWORD variables); pushes will be refused"
)


@pytest.mark.parametrize(
    ("kw", "status", "detail"),
    [
        ({"source": "/root/.docker/config.json", "user": "bob", "needed": True, "error": None},
         "ok", "user bob from docker config.json auths (/root/.docker/config.json)"),
        ({"source": "env", "user": "ci", "needed": None, "error": None},
         "ok", "user ci from environment (DOCKYARD_REGISTRY_<HOST>_USER/_PASSWORD)"),
        ({"source": "helper docker-credential-pass", "user": "", "needed": True, "error": None},
         "ok", "identity token from credential helper docker-credential-pass"),
        ({"source": None, "user": "", "needed": False, "error": None},
         "ok", "none found; the registry allows anonymous access"),
        ({"source": None, "user": "", "needed": True, "error": None}, "warn", NONE_FOUND),
        ({"source": None, "user": "", "needed": None, "error": None}, "warn", NONE_FOUND),
        ({"source": None, "user": "", "needed": None, "error": "credentials file /x is not valid JSON (line 1)"},
         "fail", "credentials file /x is not valid JSON (line 1)"),
    ],
)  # fmt: skip
def test_credential_row(kw, status, detail):
    assert credential_row("ghcr.io", **kw) == Row("credentials ghcr.io", status, detail)


def test_describe_source_podman():
    assert describe_source("/run/user/0/containers/auth.json") == (
        "podman auth.json auths (/run/user/0/containers/auth.json)"
    )


@pytest.mark.parametrize(
    ("free", "status", "detail"),
    [
        (int(77.46 * GiB), "ok", "77.5 GiB free of 100.0 GiB"),
        (2 * GiB, "warn", "2.0 GiB free of 100.0 GiB (less than 5.0 GiB)"),
        (GiB // 2, "fail", "512.0 MiB free of 100.0 GiB (less than 1.0 GiB)"),
    ],
)
def test_space_row(free, status, detail):
    row = space_row("builder", Path("/var/lib/containers/storage"), free=free, total=100 * GiB)
    assert row == Row("storage builder", status, f"/var/lib/containers/storage: {detail}")


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (5 * 1024**4, "5.0 TiB")],
)
def test_human_size(size, text):
    assert human_size(size) == text


def test_space_row_unknown():
    row = space_row("output", Path("/x"), free=None, total=None, error="/x: Permission denied")
    assert row == Row("storage output", "fail", "/x: Permission denied")


def test_report_fails_only_on_a_fail_row():
    ok, warn, fail = Row("a", "ok", ""), Row("b", "warn", ""), Row("c", "fail", "x")
    assert DoctorReport((ok, warn)).ok
    assert DoctorReport((ok, warn)).summary() == ""
    report = DoctorReport((ok, fail))
    assert not report.ok
    assert report.summary() == "doctor: 1 check failed (c)"
    assert DoctorReport((fail, warn, fail)).summary() == "doctor: 2 checks failed (c, c)"
    assert report.to_json() == {
        "ok": False,
        "checks": [
            {"check": "a", "status": "ok", "detail": ""},
            {"check": "c", "status": "fail", "detail": "x"},
        ],
    }


# ------------------------------------------------------------ config -> inputs


CONFIG = """[project]
name = "fleet"
platforms = ["linux/amd64"]
registries = ["127.0.0.1:5000/fleet", "ghcr.io/acme", "127.0.0.1:5000/other"]

[targets.api]
context = "api"
platforms = ["linux/arm64"]

[targets.web]
context = "web"
"""


def test_inputs_from_a_config(tmp_path):
    (tmp_path / "dockyard.toml").write_text(CONFIG)
    for context in ("api", "web"):
        (tmp_path / context).mkdir()
        (tmp_path / context / "Dockerfile").write_text("FROM scratch\n")
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    inputs = doctor_inputs(None, cwd=sub, env={})
    assert inputs.config_row == Row(
        "config", "ok", f"{tmp_path / 'dockyard.toml'} (2 targets, 2 platforms)"
    )
    assert inputs.platforms == (AMD64, ARM64)
    assert inputs.registries == ("127.0.0.1:5000", "ghcr.io")
    assert inputs.output == tmp_path / "dist"
    assert inputs.builder == "buildah"


def test_inputs_take_the_configs_builder(tmp_path):
    (tmp_path / "dockyard.toml").write_text('[project]\nbuilder = "buildx"\n[targets.app]\n')
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert doctor_inputs(None, cwd=tmp_path, env={}).builder == "buildx"


def test_inputs_without_a_config_use_the_default_platforms(tmp_path):
    inputs = doctor_inputs(None, cwd=tmp_path, env={})
    assert inputs.config_row == Row(
        "config", "warn", "no dockyard.toml here; checking linux/amd64, linux/arm64"
    )
    assert (inputs.platforms, inputs.registries, inputs.output) == (
        (AMD64, ARM64),
        (),
        tmp_path / "dist",
    )


def test_a_broken_config_found_is_a_fail_row_but_one_named_is_an_input_error(tmp_path):
    (tmp_path / "dockyard.toml").write_text("[project\n")
    inputs = doctor_inputs(None, cwd=tmp_path, env={})
    assert inputs.config_row.status == "fail"
    assert inputs.config_row.detail.startswith("dockyard.toml:1: ")
    with pytest.raises(InputError) as info:
        doctor_inputs(Path("missing.toml"), cwd=tmp_path, env={})
    assert str(info.value) == "missing.toml: file not found (give an existing file to -f)"


def test_certificate_problem_names_the_ca_fix():
    detail = certificate_problem("reg.lan:5000", "self-signed certificate", ca_cert=None)
    assert detail == (
        "certificate verify failed: self-signed certificate — a CA problem: pass --ca-cert FILE "
        "(the CA that signed reg.lan:5000's certificate), or --insecure-registry reg.lan:5000 "
        "to skip verification"
    )


def test_certificate_problem_with_the_wrong_ca_says_which_was_tried():
    detail = certificate_problem(
        "reg.lan", "unable to get local issuer certificate", ca_cert="/ca.pem"
    )
    assert detail == (
        "certificate verify failed: unable to get local issuer certificate (trusting --ca-cert "
        "/ca.pem) — a CA problem: pass the CA that signed reg.lan's certificate, or "
        "--insecure-registry reg.lan"
    )
