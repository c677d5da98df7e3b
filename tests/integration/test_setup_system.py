"""scripts/setup-system.sh's self-check: quiet on a set-up machine, loud and complete otherwise.

The script runs with `--check-only` (it installs nothing). A missing program is
simulated with a PATH of symlinks to everything on the real PATH but that program,
a broken one with a stub that fails first on PATH, and binfmt_misc with a fake
directory ($DOCKYARD_BINFMT_ROOT): nothing on this machine is removed or changed.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "setup-system.sh"
README = REPO_ROOT / "README.md"


def _check(*, path: str | None = None, binfmt: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    if binfmt is not None:
        env["DOCKYARD_BINFMT_ROOT"] = str(binfmt)
    return subprocess.run(
        ["bash", str(SCRIPT), "--check-only"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _path_without(farm: Path, *missing: str) -> str:
    """A PATH of one directory linking every program on the real PATH except `missing`."""
    farm.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            link = farm / entry.name
            if entry.name in missing or link.exists() or link.is_symlink():
                continue  # the first on PATH wins, as in a lookup
            link.symlink_to(entry.path)
    return str(farm)


def _stub(directory: Path, name: str, script: str) -> None:
    directory.mkdir(exist_ok=True)
    stub = directory / name
    stub.write_text("#!/bin/sh\n" + script + "\n")
    stub.chmod(0o755)


def _failures(stderr: str) -> dict[str, str]:
    """{check name: its failure line} from the script's stderr."""
    found = {}
    for line in stderr.splitlines():
        match = re.match(r"setup: check failed: ([^:]+): ", line)
        if match:
            found[match.group(1)] = line
    return found


def _binfmt_dir(root: Path, entries: dict[str, str]) -> Path:
    root.mkdir()
    (root / "status").write_text("enabled\n")
    for name, text in entries.items():
        (root / name).write_text(text)
    return root


ENTRY = "enabled\ninterpreter /usr/libexec/qemu-binfmt/{0}-binfmt-P\nflags: {1}\noffset 0\n"


def test_check_only_on_this_machine_is_quiet_and_passes():
    done = _check()
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_a_second_full_run_is_quiet_and_changes_nothing():
    """What `make test` runs every time: on a set-up machine nothing to install (an install
    would say "setup: installing ..."), binfmt already enabled, every check passing."""
    done = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, timeout=600, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_missing_arch_test_names_its_package(tmp_path):
    done = _check(path=_path_without(tmp_path / "bin", "arch-test"))
    assert done.returncode == 1
    failures = _failures(done.stderr)
    assert sorted(failures) == ["arch-test arm64", "arch-test armhf"]
    assert failures["arch-test arm64"] == (
        "setup: check failed: arch-test arm64: arch-test not found on PATH; "
        "fix: apt-get install arch-test"
    )
    assert done.stderr.splitlines()[-1].startswith(
        "setup: 2 of 28 checks failed (arch-test arm64, arch-test armhf)"
    )


def test_every_failing_check_is_listed_with_the_package_that_fixes_it(tmp_path):
    stubs = tmp_path / "stubs"
    _stub(stubs, "skopeo", 'echo "skopeo: error while loading shared libraries" >&2; exit 127')
    # python3 runs but has no ensurepip: Debian's python3 without python3-venv.
    _stub(stubs, "python3", "echo \"ModuleNotFoundError: No module named 'ensurepip'\" >&2; exit 1")
    farm = _path_without(tmp_path / "bin", "buildah", "htpasswd", "skopeo", "python3")
    binfmt = _binfmt_dir(
        tmp_path / "binfmt",
        {"qemu-aarch64": ENTRY.format("aarch64", "P")},  # no F flag; qemu-arm absent
    )

    done = _check(path=f"{stubs}:{farm}", binfmt=binfmt)

    assert done.returncode == 1
    failures = _failures(done.stderr)
    fixes = {name: line.rsplit("fix: apt-get install ", 1)[1] for name, line in failures.items()}
    assert fixes == {
        "python3 venv": "python3-venv",
        "buildah": "buildah",
        "skopeo": "skopeo",
        "htpasswd": "apache2-utils",
        "binfmt qemu-aarch64": "qemu-user-static",
        "binfmt qemu-arm": "qemu-user-static",
    }
    assert "(skopeo: error while loading shared libraries)" in failures["skopeo"]
    assert f"{binfmt}/qemu-aarch64 lacks the F flag" in failures["binfmt qemu-aarch64"]
    assert f"no {binfmt}/qemu-arm" in failures["binfmt qemu-arm"]
    summary = done.stderr.splitlines()[-1]
    assert summary.startswith("setup: 6 of 28 checks failed (python3 venv, buildah, skopeo, ")


def test_unmounted_binfmt_misc_fails_each_emulated_platform(tmp_path):
    empty = tmp_path / "binfmt"
    empty.mkdir()  # what /proc/sys/fs/binfmt_misc is before `mount -t binfmt_misc`
    failures = _failures(_check(binfmt=empty).stderr)
    assert sorted(failures) == ["binfmt qemu-aarch64", "binfmt qemu-arm"]
    assert failures["binfmt qemu-arm"] == (
        f"setup: check failed: binfmt qemu-arm: 'binfmt_ok qemu-arm' failed (binfmt_misc is "
        f"not mounted or not enabled at {empty}); fix: apt-get install qemu-user-static"
    )


def _script_array(name: str) -> list[str]:
    text = SCRIPT.read_text()
    match = re.search(rf"^{name}=\((.*?)\)$", text, re.S | re.M)
    assert match, f"{name}=(...) not found in {SCRIPT}"
    return re.findall(r'"([^"]*)"', match.group(1)) or match.group(1).split()


def test_every_package_a_check_names_is_one_setup_installs():
    installed = set(_script_array("PKGS"))
    rows = [row.split("|") for row in _script_array("CHECKS")]
    named = {row[1] for row in rows} | {row[3] for row in rows if len(row) > 3}
    assert named - installed <= {"dpkg", "apt"}  # Essential/required: on every Debian


def test_readme_setup_names_only_packages_setup_installs():
    text = README.read_text()
    match = re.search(r"`scripts/setup-system.sh`: (.*?); then", text, re.S)
    assert match, "README's set-up sentence not found"
    named = set(re.findall(r"`([a-z0-9.+-]+)`", match.group(1)))
    assert named, match.group(1)
    assert named <= set(_script_array("PKGS"))


def test_the_engines_checks_name_their_packages(tmp_path):
    """Missing engine programs name their packages. (podman finds runc by absolute paths from
    containers.conf, not PATH: its `podman info` row cannot be failed this way, only by a machine
    without runc.)"""
    farm = _path_without(tmp_path / "bin", "runc", "dockerd", "slirp4netns")
    done = _check(path=farm)
    assert done.returncode == 1
    fixes = {
        name: line.rsplit("fix: apt-get install ", 1)[1] for name, line in _failures(done.stderr).items()
    }
    assert fixes == {
        "runc": "runc",
        "dockerd": "docker.io",
        "slirp4netns": "slirp4netns",
    }
