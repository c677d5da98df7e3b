"""`build_plan` end to end: real buildah, real qemu, busybox bases in the real registry.

Each test writes a tiny project (dockyard.toml + contexts) into its tmp dir;
the bases are Debian's busybox-static for amd64 and arm64, pushed once as an
index. Builds share one buildah storage of their own (not the machine's).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dockyard.builder.backends.buildah import BuildahBackend, BuildahStorage
from dockyard.builder.inputs import INPUT_HASH_ANNOTATION
from dockyard.builder.result import BuildResult
from dockyard.builder.run import TargetCache, build_plan
from dockyard.oci.copy import copy_image
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Index, Manifest, parse_manifest
from dockyard.oci.registry import RegistryClient
from dockyard.plan.load import plan_from_files
from dockyard.platform import EM_X86_64, Platform
from dockyard.verify.archscan import scan_manifest
from tests.helpers.buildproject import base_index, project

pytestmark = pytest.mark.integration

AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")

TRAP = """\
ARG BASE
FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN echo hi > /tmp/marker
FROM ${BASE}
COPY --from=build /tmp/marker /marker
"""


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("busybox-base"))


def storage(root: Path) -> BuildahBackend:
    return BuildahBackend(storage=BuildahStorage(root=root / "root", runroot=root / "run"))


@pytest.fixture(scope="module")
def backend(tmp_path_factory) -> BuildahBackend:
    return storage(tmp_path_factory.mktemp("buildah-storage"))


def build(config: Path, backend: BuildahBackend, **kwargs) -> BuildResult:
    output = kwargs.pop("output", config.parent / "dist")
    if "client" in kwargs:
        return build_plan(plan_from_files(config), output=output, backend=backend, jobs=4, **kwargs)
    with RegistryClient() as client:
        return build_plan(
            plan_from_files(config), output=output, backend=backend, jobs=4, client=client, **kwargs
        )


def states(result: BuildResult) -> dict[str, str]:
    return {j.key: j.state for j in result.jobs}


def index_of(result: BuildResult, target: str) -> tuple[LayoutStore, Index]:
    t = next(t for t in result.targets if t.name == target)
    store = LayoutStore(t.layout)
    index = parse_manifest(*store.manifest_get(t.tag))
    assert isinstance(index, Index)
    assert index.digest == t.index_digest
    return store, index


def image(store: LayoutStore, index: Index, platform: Platform) -> Manifest:
    child = index.find(platform)
    assert child is not None
    manifest = parse_manifest(*store.manifest_get(str(child.digest)))
    assert isinstance(manifest, Manifest)
    return manifest


def elf_machines(store: LayoutStore, manifest: Manifest, platform: Platform) -> tuple[int, list]:
    """(ELF files scanned, mismatching (path, machine name))."""
    scan = scan_manifest(store, manifest, platform=platform)
    return scan.elf_files, [(path, header.machine) for path, header in scan.mismatches]


# ---------------------------------------------------------------- pinning: the trap


def test_the_trap_is_closed_every_elf_in_the_arm64_image_is_aarch64(tmp_path, base, backend):
    config = project(tmp_path, {"app": TRAP}, base=base)
    result = build(config, backend)
    assert result.ok, result.failed
    assert states(result) == {"app-linux-arm64": "built"}

    store, index = index_of(result, "app")
    manifest = image(store, index, ARM64)
    files, mismatches = elf_machines(store, manifest, ARM64)
    assert files >= 1 and mismatches == []

    plan = plan_from_files(config)
    # The tag engine's annotations (not a child's); `created` is the clock of each plan here.
    assert set(index.annotations) == set(plan.targets[0].annotations)
    assert index.annotations["org.opencontainers.image.title"] == "app"
    job = result.jobs[0]
    # Each stage pinned for its own platform: the build stage amd64, the final arm64.
    assert [(b.stage, str(b.platform)) for b in job.bases] == [
        (0, "linux/amd64"),
        (1, "linux/arm64"),
    ]
    assert job.bases[0].digest != job.bases[1].digest
    child = index.manifests[0]
    assert child.annotations == {
        INPUT_HASH_ANNOTATION: str(job.input_hash),
        "org.opencontainers.image.base.name": f"{base.rsplit(':', 1)[0]}:1",
        "org.opencontainers.image.base.digest": str(job.bases[1].digest),
    }


def test_without_pinning_the_arm64_image_ships_x86_64_busybox(tmp_path, base):
    """The same build with pinning off shows the bug the pinning prevents.

    The base is written out rather than passed as ${BASE}: the buildah backend
    turns TLS verification off for a loopback registry it can read in the
    FROM lines, and unpinned FROMs still hold the variable.
    """
    config = project(tmp_path, {"app": TRAP.replace("${BASE}", base)}, base=base)
    fresh = storage(tmp_path / "storage")  # no earlier pulls can change what buildah picks
    result = build(config, fresh, pin_bases=False)
    assert result.ok, result.failed
    store, index = index_of(result, "app")
    _, mismatches = elf_machines(store, image(store, index, ARM64), ARM64)
    assert ("bin/busybox", EM_X86_64) in [(p.lstrip("/"), m) for p, m in mismatches]


def test_a_run_step_of_an_arm64_stage_runs_under_qemu(tmp_path, base, backend):
    dockerfile = "ARG BASE\nFROM ${BASE}\nRUN uname -m > /arch\n"
    result = build(project(tmp_path, {"app": dockerfile}, base=base), backend)
    assert result.ok, result.failed
    store, index = index_of(result, "app")
    manifest = image(store, index, ARM64)
    assert _file(store, manifest, "arch") == b"aarch64\n"


def test_a_build_platform_stage_runs_natively_while_the_target_stage_is_emulated(
    tmp_path, base, backend
):
    """The cross-compiling pattern: `--platform=$BUILDPLATFORM` stages run on the host.

    Each stage records the machine it ran on: the build stage natively
    (x86_64, no qemu: where a Go or C cross-compiler would run), the final
    stage under qemu (aarch64). COPY --from puts the build stage's answer in
    the arm64 image.
    """
    dockerfile = (
        "ARG BASE\n"
        "FROM --platform=$BUILDPLATFORM ${BASE} AS build\n"
        "ARG TARGETARCH\n"
        "RUN uname -m > /build-machine && echo $TARGETARCH > /target-arch\n"
        "FROM ${BASE}\n"
        "COPY --from=build /build-machine /target-arch /\n"
        "RUN uname -m > /final-machine\n"
    )
    result = build(project(tmp_path, {"app": dockerfile}, base=base), backend)
    assert result.ok, result.failed
    store, index = index_of(result, "app")
    manifest = image(store, index, ARM64)
    assert _file_in(store, manifest, "build-machine") == b"x86_64\n"
    assert _file_in(store, manifest, "target-arch") == b"arm64\n"
    assert _file_in(store, manifest, "final-machine") == b"aarch64\n"


def _file_in(store: LayoutStore, manifest: Manifest, name: str) -> bytes:
    """A file of the image's final view: the last layer that has it."""
    for layer in reversed(manifest.layers):
        try:
            return _file_of_layer(store, layer.digest, name)
        except KeyError:
            continue
    raise KeyError(name)


def _file_of_layer(store: LayoutStore, digest, name: str) -> bytes:
    import gzip
    import io
    import tarfile

    with store.blob_open(digest) as f:
        data = gzip.decompress(f.read())
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile(name)  # KeyError when the layer lacks it
        assert member is not None
        return member.read()


def _file(store: LayoutStore, manifest: Manifest, name: str) -> bytes:
    return _file_of_layer(store, manifest.layers[-1].digest, name)


# ---------------------------------------------------------------- skip unchanged

COPY_ONLY = "ARG BASE\nFROM ${BASE}\nCOPY file.txt /file.txt\n"


def test_unchanged_inputs_are_skipped_and_a_touched_context_rebuilds_only_its_target(
    tmp_path, base, backend
):
    config = project(
        tmp_path,
        {"a": COPY_ONLY, "b": COPY_ONLY},
        base=base,
        platforms=("linux/amd64", "linux/arm64"),
    )
    first = build(config, backend)
    assert set(states(first).values()) == {"built"}
    _, index = index_of(first, "a")
    assert [str(c.platform) for c in index.manifests] == ["linux/amd64", "linux/arm64"]

    second = build(config, backend)
    assert states(second) == {
        "a-linux-amd64": "skipped",
        "a-linux-arm64": "skipped",
        "b-linux-amd64": "skipped",
        "b-linux-arm64": "skipped",
    }
    assert [j.digest for j in second.jobs] == [j.digest for j in first.jobs]
    assert second.jobs[0].describe() == "skipped (unchanged)"
    assert second.jobs[0].stats == first.jobs[0].stats

    (tmp_path / "b" / "file.txt").write_text("changed\n")
    third = build(config, backend)
    assert states(third) == {
        "a-linux-amd64": "skipped",
        "a-linux-arm64": "skipped",
        "b-linux-amd64": "built",
        "b-linux-arm64": "built",
    }

    forced = build(config, backend, no_cache=True)
    assert set(states(forced).values()) == {"built"}
    assert all(j.cache_hits == 0 for j in forced.jobs)


def test_an_identical_index_is_not_rewritten(tmp_path, base, backend):
    config = project(tmp_path, {"app": COPY_ONLY}, base=base)
    plan = plan_from_files(config)
    with RegistryClient() as client:
        first = build_plan(plan, output=tmp_path / "dist", backend=backend, client=client)
        again = build_plan(
            plan, output=tmp_path / "dist", backend=backend, client=client
        )  # same plan: same annotations
    assert first.targets[0].index_written and not again.targets[0].index_written
    assert again.targets[0].index_digest == first.targets[0].index_digest


# ---------------------------------------------------------------- fresh machine: reuse


def test_a_fresh_machine_copies_an_unchanged_image_from_the_registry(
    tmp_path, base, backend, registry
):
    config = project(
        tmp_path,
        {"svc": COPY_ONLY},
        base=base,
        registries=(f"{registry.host}/fresh",),
        platforms=("linux/amd64", "linux/arm64"),
    )
    first = build(config, backend)
    assert set(states(first).values()) == {"built"}
    target = first.targets[0]
    children = index_of(first, "svc")[1].manifests
    with RegistryClient() as client:
        copy_image(
            LayoutStore(target.layout), target.tag,
            client.store(f"{registry.host}/fresh/svc", push=True), tag="dev",
        )  # fmt: skip

    dist = tmp_path / "dist"
    for path in sorted(dist.rglob("*"), reverse=True):  # a new CI runner: nothing local
        path.unlink() if not path.is_dir() or path.is_symlink() else path.rmdir()
    again = build(config, backend)
    assert states(again) == {"svc-linux-amd64": "reused", "svc-linux-arm64": "reused"}
    assert [j.digest for j in again.jobs] == [j.digest for j in first.jobs]
    for job in again.jobs:
        assert job.reused_from == f"{registry.host}/fresh/svc@{job.digest}"
        assert job.describe() == f"reused from {job.reused_from}"
    assert not (dist / "logs").exists()  # no builder ran
    # The same children with the same annotations (the index's own carry this run's time).
    assert index_of(again, "svc")[1].manifests == children


def _published_then_wiped(tmp_path, base, backend, host: str) -> tuple[Path, BuildResult]:
    """A project built and pushed to `host`/fresh/svc:dev, then its dist/ removed (a new runner)."""
    config = project(
        tmp_path, {"svc": COPY_ONLY}, base=base, registries=(f"{host}/fresh",),
        platforms=("linux/amd64", "linux/arm64"),
    )  # fmt: skip
    first = build(config, backend)
    target = first.targets[0]
    with RegistryClient() as client:
        copy_image(
            LayoutStore(target.layout),
            target.tag,
            client.store(f"{host}/fresh/svc", push=True),
            tag="dev",
        )
    shutil.rmtree(tmp_path / "dist")
    return config, first


def test_a_transient_registry_error_during_reuse_is_retried_not_built(
    tmp_path, base, backend, registry
):
    from tests.helpers.faultproxy import Fault, FaultProxy

    with FaultProxy(registry.host) as proxy:
        config, _ = _published_then_wiped(tmp_path, base, backend, proxy.host)
        # Every blob GET of the reuse copy answers 503 once, then goes through.
        proxy.add(Fault("GET", r"/blobs/sha256:", status=503, times=1))
        again = build(config, backend)
    assert states(again) == {"svc-linux-amd64": "reused", "svc-linux-arm64": "reused"}
    assert proxy.faults[0].fired == 1
    assert again.to_json()["counts"]["reuse_failed"] == 0


def test_a_failed_reuse_builds_says_so_and_is_counted_apart(
    tmp_path, base, backend, registry, caplog
):
    from tests.helpers.faultproxy import Fault, FaultProxy

    with FaultProxy(registry.host) as proxy:
        config, first = _published_then_wiped(tmp_path, base, backend, proxy.host)
        # The registry serves corrupt blobs: the copy cannot succeed however often it tries.
        proxy.add(Fault("GET", r"/blobs/sha256:", action="alter", offset=10, times=None))
        with caplog.at_level("WARNING", logger="dockyard.build"):
            again = build(config, backend)
    assert states(again) == {"svc-linux-amd64": "built", "svc-linux-arm64": "built"}
    assert again.counts()["reuse_failed"] == 2 and again.counts()["built"] == 0
    assert "built after a failed reuse" in again.summary()
    published = {j.key: j.digest for j in first.jobs}
    for job in again.jobs:
        assert job.reuse_error.startswith(f"{proxy.host}/fresh/svc@{published[job.key]}: ")
        assert "content hashes to" in job.reuse_error
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("failed, building instead" in w for w in warnings), warnings


def test_a_registry_that_is_down_is_no_error(tmp_path, base, backend):
    from dockyard.oci.registry import RegistryOptions
    from dockyard.oci.retry import RetryPolicy

    config = project(tmp_path, {"svc": COPY_ONLY}, base=base, registries=("127.0.0.1:1/down",))
    options = RegistryOptions(retry=RetryPolicy(attempts=1))
    with RegistryClient(options=options) as client:
        result = build(config, backend, client=client)
    assert states(result) == {"svc-linux-arm64": "built"}


# ---------------------------------------------------------------- failures

ARM64_FAILS = "ARG BASE\nFROM ${BASE}\nARG TARGETARCH\nRUN echo checking $TARGETARCH && test $TARGETARCH = amd64\n"
ALWAYS_OK = "ARG BASE\nFROM ${BASE}\nARG TARGETARCH\nRUN echo checking $TARGETARCH\n"


def test_a_failing_job_leaves_the_targets_index_alone_and_the_others_build(tmp_path, base, backend):
    config = project(
        tmp_path, {"good": COPY_ONLY, "bad": ARM64_FAILS}, base=base,
        platforms=("linux/amd64", "linux/arm64"),
    )  # fmt: skip
    layout = tmp_path / "dist" / "oci" / "bad"

    first = build(config, backend)
    assert states(first) == {
        "good-linux-amd64": "built",
        "good-linux-arm64": "built",
        "bad-linux-amd64": "built",
        "bad-linux-arm64": "failed",
    }
    assert first.exit_code == 1 and not first.ok
    bad = next(t for t in first.targets if t.name == "bad")
    assert (bad.index_digest, bad.index_written) == (None, False)
    assert not (layout / "index.json").exists()  # not even the amd64 image's name
    good = next(t for t in first.targets if t.name == "good")
    assert good.ok and good.index_digest is not None

    failed = first.failed[0]
    log = tmp_path / "dist" / "logs" / "bad-linux-arm64.log"
    assert failed.log_path == log
    assert failed.error == (
        'build bad linux/arm64 failed (exit 1): Error: building at STEP "RUN echo checking '
        f'$TARGETARCH && test $TARGETARCH = amd64": exit status 1; log: {log}'
    )
    assert "checking arm64" in failed.log_tail
    assert first.summary() == "1 of 4 build jobs failed (bad-linux-arm64)"

    # Once it builds, then breaks again: index.json stays exactly as the good build left it.
    (tmp_path / "bad" / "Dockerfile").write_text(ALWAYS_OK)
    assert build(config, backend).ok
    before = (layout / "index.json").read_bytes()
    (tmp_path / "bad" / "Dockerfile").write_text(ARM64_FAILS)
    third = build(config, backend)
    assert states(third)["bad-linux-arm64"] == "failed"
    assert states(third)["bad-linux-amd64"] == "built"  # and it named its image, then was undone
    assert (layout / "index.json").read_bytes() == before


def test_a_base_without_the_platform_fails_the_job_naming_both(tmp_path, base, backend):
    config = project(tmp_path, {"app": COPY_ONLY}, base=base, platforms=("linux/riscv64",))
    result = build(config, backend)
    (job,) = result.jobs
    assert job.state == "failed" and result.exit_code == 1
    assert job.error == (
        f"build app linux/riscv64: base {base} has no linux/riscv64 image "
        "(it has: linux/amd64, linux/arm64)"
    )
    assert not (tmp_path / "dist" / "logs").exists()  # refused before any builder ran


def test_without_binfmt_a_foreign_run_fails_before_building_and_says_how_to_enable_it(
    tmp_path, base, backend
):
    dockerfile = "ARG BASE\nFROM ${BASE}\nRUN uname -m > /arch\n"
    config = project(
        tmp_path, {"app": dockerfile, "copy": COPY_ONLY}, base=base,
        platforms=("linux/amd64", "linux/arm64"),
    )  # fmt: skip
    binfmt = tmp_path / "binfmt_misc"  # mounted (status exists), no qemu-aarch64 entry
    binfmt.mkdir()
    (binfmt / "status").write_text("enabled\n")
    result = build(config, backend, binfmt_root=binfmt)
    assert states(result) == {
        "app-linux-amd64": "built",  # native
        "app-linux-arm64": "failed",
        "copy-linux-amd64": "built",
        "copy-linux-arm64": "built",  # no RUN: nothing to emulate
    }
    (failed,) = result.failed
    assert failed.error == (
        "build app linux/arm64: linux/arm64 needs qemu emulation but binfmt_misc has no enabled "
        "qemu-aarch64 (run: apt-get install qemu-user-static binfmt-support && "
        "update-binfmts --enable qemu-aarch64)"
    )
    assert failed.log_path is None and not (tmp_path / "dist/logs/app-linux-arm64.log").exists()


# ---------------------------------------------------------------- registry layer cache


def test_a_registry_cache_is_reused_from_empty_builder_storage(tmp_path, base, registry):
    dockerfile = "ARG BASE\nFROM ${BASE}\nRUN echo one > /one\nRUN echo two > /two\n"
    config = project(tmp_path, {"app": dockerfile}, base=base)
    cache = {"app": TargetCache(
        cache_from=(f"type=registry,ref={registry.host}/cache/app:cache",),
        cache_to=(f"type=registry,ref={registry.host}/cache/app:cache",),
    )}  # fmt: skip
    first = build(config, storage(tmp_path / "one"), caches=cache, output=tmp_path / "d1")
    assert first.ok, first.failed
    assert first.jobs[0].cache_hits == 0
    with RegistryClient() as client:
        # buildah keeps the cache in a repository per platform (tags are per step).
        assert list(client.store(f"{registry.host}/cache/app-cache-linux-arm64").tag_list())

    second = build(config, storage(tmp_path / "two"), caches=cache, output=tmp_path / "d2")
    assert second.ok, second.failed
    job = second.jobs[0]
    assert job.state == "built" and job.cache_hits >= 2
    log = job.log_path.read_text()
    assert "RUN echo one" in log and "Using cache" in log
