"""`dockyard doctor` against real registries: one reachable, one asking for auth, one dead port."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.certs import self_signed
from tests.helpers.registry import free_port

pytestmark = pytest.mark.integration

SECRET = "doctor-s3cret-never-printed"


def project(tmp_path: Path, registries: list[str]) -> Path:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text("FROM scratch\n")
    listed = ", ".join(f'"{r}"' for r in registries)
    config = tmp_path / "dockyard.toml"
    config.write_text(
        f'[project]\nname = "fleet"\nplatforms = ["linux/amd64", "linux/arm64"]\n'
        f"registries = [{listed}]\n\n"
        '[targets.api]\ncontext = "api"\n'
    )
    return config


def docker_config(tmp_path: Path, host: str) -> Path:
    directory = tmp_path / "docker"
    directory.mkdir()
    auth = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    (directory / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return directory


def doctor(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", "doctor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        timeout=60,
    )


def test_doctor_reports_reachable_and_dead_registries(registry, auth_registry, tmp_path):
    dead = f"127.0.0.1:{free_port()}"
    config = project(
        tmp_path, [f"{registry.host}/fleet", f"{auth_registry.host}/fleet", f"{dead}/fleet"]
    )
    env = {"HOME": str(tmp_path), "DOCKER_CONFIG": str(docker_config(tmp_path, auth_registry.host))}

    proc = doctor("-f", str(config), "--json", cwd=tmp_path, env=env)
    assert proc.returncode == 1, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    rows = {row["check"]: (row["status"], row["detail"]) for row in report["checks"]}
    assert rows["config"] == ("ok", f"{config} (1 targets, 2 platforms)")
    assert rows["builder buildah"][0] == "ok"
    assert rows["binfmt linux/arm64"][0] == "ok"
    assert rows[f"registry {registry.host}"] == (
        "ok",
        f"http://{registry.host}/v2/ answers (anonymous access)",
    )
    assert rows[f"credentials {registry.host}"] == (
        "ok",
        "none found; the registry allows anonymous access",
    )
    assert rows[f"registry {auth_registry.host}"] == (
        "ok",
        f"http://{auth_registry.host}/v2/ answers (asks for credentials: basic)",
    )
    assert rows[f"credentials {auth_registry.host}"] == (
        "ok",
        f"user alice from docker config.json auths ({tmp_path}/docker/config.json)",
    )
    assert rows[f"registry {dead}"] == (
        "fail",
        f"registry {dead}: GET https://{dead}/v2/ connection failed (ConnectError) after 1 attempt(s)",
    )
    assert rows[f"credentials {dead}"][0] == "warn"
    assert [row["check"] for row in report["checks"]][-2:] == ["storage builder", "storage output"]
    assert proc.stderr == f"error: doctor: 1 check failed (registry {dead})\n"


def test_doctor_human_table_on_stderr_and_exit_0_when_nothing_fails(registry, tmp_path):
    config = project(tmp_path, [f"{registry.host}/fleet"])
    proc = doctor("-f", str(config), cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert f"registry {registry.host}" in proc.stderr
    assert "binfmt linux/arm64" in proc.stderr


def test_doctor_with_a_missing_config_file_is_exit_2(tmp_path):
    proc = doctor("-f", "nope.toml", cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr == "error: nope.toml: file not found (give an existing file to -f)\n"


def rows_of(proc: subprocess.CompletedProcess) -> dict[str, tuple[str, str]]:
    checks = json.loads(proc.stdout)["checks"]
    return {row["check"]: (row["status"], row["detail"]) for row in checks}


def test_doctor_reports_an_untrusted_certificate_as_a_ca_problem(tls_registry, tmp_path):
    host = tls_registry.host
    config = project(tmp_path, [f"{host}/fleet"])
    env = {"HOME": str(tmp_path)}
    proc = doctor("-f", str(config), "--json", cwd=tmp_path, env=env)
    assert proc.returncode == 1, proc.stderr
    status, detail = rows_of(proc)[f"registry {host}"]
    assert status == "fail"
    assert detail.startswith("certificate verify failed: ") and "connection failed" not in detail
    assert detail.endswith(
        f"— a CA problem: pass --ca-cert FILE (the CA that signed {host}'s certificate), "
        f"or --insecure-registry {host} to skip verification"
    )

    ca = str(tls_registry.ca_cert)
    trusted = doctor("-f", str(config), "--json", "--ca-cert", ca, cwd=tmp_path, env=env)
    assert rows_of(trusted)[f"registry {host}"] == (
        "ok",
        f"https://{host}/v2/ answers (anonymous access)",
    )

    other = self_signed("another CA").write(tmp_path, "other")[0]
    wrong = doctor("-f", str(config), "--json", "--ca-cert", str(other), cwd=tmp_path, env=env)
    status, detail = rows_of(wrong)[f"registry {host}"]
    assert status == "fail" and f"(trusting --ca-cert {other}) — a CA problem" in detail
