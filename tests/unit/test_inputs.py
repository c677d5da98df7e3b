"""dockyard.builder.inputs: what changes the input hash, and what must not."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockyard.builder.inputs import (
    INPUT_HASH_ANNOTATION,
    InputHash,
    context_digest,
    input_hash,
    load_ignore,
)
from dockyard.digest import Digest
from dockyard.dockerfile.ignore import parse_patterns
from dockyard.errors import InputError
from dockyard.platform import Platform

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
BASE = "sha256:" + "ab" * 32


def make_tree(root: Path, files: dict[str, str] | None = None) -> Path:
    files = files if files is not None else {
        "Dockerfile": "FROM busybox\nCOPY . /app\n",
        "app/main.py": "print('hi')\n",
        "app/util/__init__.py": "",
        "run.sh": "#!/bin/sh\nexec python app/main.py\n",
        ".dockerignore": "*.log\nbuild/\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def hash_of(context: Path, **overrides) -> InputHash:
    options = {
        "context": context,
        "dockerfile_text": "FROM busybox@" + BASE + "\n",
        "args": {"A": "1", "B": "2"},
        "platform": ARM64,
        "base_digests": [BASE],
        "builder": "buildah 1.28.2",
        "target_stage": None,
    }
    options.update(overrides)
    return input_hash(**options)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "ctx")


def test_the_annotation_name() -> None:
    assert INPUT_HASH_ANNOTATION == "dev.dockyard.input-hash"


def test_same_tree_same_hash_wherever_it_is(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "one")
    b = make_tree(tmp_path / "elsewhere" / "two")
    assert hash_of(a) == hash_of(b)
    assert str(hash_of(a)).startswith("sha256:")
    assert isinstance(hash_of(a).digest, Digest)


def test_a_golden_value(tmp_path: Path) -> None:
    # Changing what is hashed must bump FORMAT_VERSION: this value pins the format.
    context = make_tree(tmp_path / "ctx", {"a.txt": "a\n", "d/b": "b"})
    (context / "d" / "b").chmod(0o755)
    (context / "link").symlink_to("d/b")
    result = hash_of(context)
    assert (result.files, result.bytes) == (2, 3)
    assert str(result.digest) == GOLDEN


GOLDEN = "sha256:48c4dbf7decb0a05f0d85d4bc03a577177951555bb577a071fc0db6b8b74bd8f"  # format 2; only "version" differs from format 1's 3a2630fb…


def test_counts_files_and_bytes(tree: Path) -> None:
    result = hash_of(tree)
    sizes = [p.stat().st_size for p in tree.rglob("*") if p.is_file()]
    assert (result.files, result.bytes) == (len(sizes), sum(sizes))
    assert result.ignore_file == ".dockerignore"


def test_content_change_changes_it(tree: Path) -> None:
    before = hash_of(tree)
    (tree / "app" / "main.py").write_text("print('bye')\n")
    assert hash_of(tree) != before


def test_same_size_content_change_changes_it(tree: Path) -> None:
    before = hash_of(tree)
    (tree / "app" / "main.py").write_text("print('ho')\n")
    assert hash_of(tree).digest != before.digest


def test_mtime_and_owner_do_not_matter(tree: Path) -> None:
    before = hash_of(tree)
    for path in tree.rglob("*"):
        os.utime(path, (1, 1), follow_symlinks=False)
    if os.geteuid() == 0:
        os.chown(tree / "run.sh", 12345, 12345)
    assert hash_of(tree) == before


def test_ignored_files_do_not_matter(tree: Path) -> None:
    before = hash_of(tree)
    (tree / "debug.log").write_text("noise")
    (tree / "build").mkdir()
    (tree / "build" / "out.bin").write_bytes(b"\0" * 100)
    assert hash_of(tree) == before
    (tree / "debug.log").write_text("other noise")
    assert hash_of(tree) == before


def test_the_executable_bit_matters_and_other_bits_do_not(tree: Path) -> None:
    script = tree / "run.sh"
    script.chmod(0o644)
    before = hash_of(tree)
    script.chmod(0o600)  # a different umask's checkout: same inputs
    assert hash_of(tree) == before
    script.chmod(0o755)
    assert hash_of(tree) != before


def test_a_symlink_target_matters(tree: Path) -> None:
    link = tree / "current"
    link.symlink_to("app/main.py")
    before = hash_of(tree)
    link.unlink()
    link.symlink_to("app/util")
    assert hash_of(tree) != before


def test_a_symlink_is_not_followed(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("one")
    (tree / "ext").symlink_to(outside)
    before = hash_of(tree)
    outside.write_text("two")
    assert hash_of(tree) == before


def test_a_symlink_replacing_a_file_differs(tree: Path) -> None:
    (tree / "x").write_text("app/main.py")
    before = hash_of(tree)
    (tree / "x").unlink()
    (tree / "x").symlink_to("app/main.py")
    assert hash_of(tree) != before


def test_an_empty_directory_matters(tree: Path) -> None:
    before = hash_of(tree)
    (tree / "data").mkdir()
    assert hash_of(tree) != before


def test_renaming_a_file_matters(tree: Path) -> None:
    before = hash_of(tree)
    (tree / "app" / "main.py").rename(tree / "app" / "main2.py")
    assert hash_of(tree) != before


def test_args_order_does_not_matter(tree: Path) -> None:
    assert hash_of(tree, args={"A": "1", "B": "2"}) == hash_of(tree, args={"B": "2", "A": "1"})
    assert hash_of(tree, args={"A": "1", "B": "2"}) != hash_of(tree, args={"A": "1", "B": "3"})
    assert hash_of(tree, args={"A": "1"}) != hash_of(tree, args={"A": "1", "B": ""})


@pytest.mark.parametrize(
    "change",
    [
        {"platform": AMD64},
        {"platform": Platform("linux", "arm", "v7")},
        {"dockerfile_text": "FROM busybox@" + BASE + "\nRUN true\n"},
        {"base_digests": ["sha256:" + "cd" * 32]},
        {"base_digests": []},
        {"builder": "buildah 1.29.0"},
        {"builder": "buildx 0.12"},
        {"target_stage": "runtime"},
        {"extra": {"no-cache": True}},
    ],
    ids=lambda c: next(iter(c)),
)
def test_every_other_input_matters(tree: Path, change: dict) -> None:
    assert hash_of(tree, **change) != hash_of(tree)


def test_extra_key_order_does_not_matter(tree: Path) -> None:
    assert hash_of(tree, extra={"a": 1, "b": [1, 2]}) == hash_of(tree, extra={"b": [1, 2], "a": 1})


def test_extra_must_be_json(tree: Path) -> None:
    with pytest.raises(InputError) as caught:
        hash_of(tree, extra={"a": object()})
    assert str(caught.value) == (
        "input hash: an extra value is not plain JSON data "
        "(Object of type object is not JSON serializable)"
    )


def test_exceptions_re_include_below_an_excluded_directory(tmp_path: Path) -> None:
    context = make_tree(
        tmp_path / "ctx",
        {".dockerignore": "vendor\n!vendor/keep.txt\n", "vendor/keep.txt": "k", "vendor/x": "x"},
    )
    before = hash_of(context)
    (context / "vendor" / "x").write_text("changed")
    assert hash_of(context) == before
    (context / "vendor" / "keep.txt").write_text("changed")
    assert hash_of(context) != before
    assert hash_of(context).files == 2  # .dockerignore and vendor/keep.txt


def test_containerignore_wins_over_dockerignore(tmp_path: Path) -> None:
    context = make_tree(
        tmp_path / "ctx",
        {".dockerignore": "a\n", ".containerignore": "b\n", "a": "1", "b": "2"},
    )
    assert load_ignore(context)[1] == ".containerignore"
    before = hash_of(context)
    (context / "b").write_text("changed")  # ignored by the file buildah reads
    assert hash_of(context) == before
    (context / "a").write_text("changed")
    assert hash_of(context) != before


@pytest.mark.parametrize("suffix", [".containerignore", ".dockerignore"])
def test_an_ignore_file_beside_the_dockerfile_wins(tmp_path: Path, suffix: str) -> None:
    context = make_tree(
        tmp_path / "ctx",
        {".dockerignore": "a\n", "docker/api.Dockerfile": "FROM x\n", "a": "1", "b": "2"},
    )
    dockerfile = context / "docker" / "api.Dockerfile"
    Path(f"{dockerfile}{suffix}").write_text("b\n")
    rules, name = load_ignore(context, dockerfile=dockerfile)
    assert name == f"docker/api.Dockerfile{suffix}"
    assert rules.excludes("b") and not rules.excludes("a")
    before = hash_of(context, dockerfile=dockerfile)
    assert before.ignore_file == name
    (context / "b").write_text("changed")
    assert hash_of(context, dockerfile=dockerfile) == before
    # without the Dockerfile's path, the context's .dockerignore applies
    assert load_ignore(context)[1] == ".dockerignore"


def test_a_containerignore_beside_the_dockerfile_comes_first(tmp_path: Path) -> None:
    outside = make_tree(
        tmp_path / "files",
        {"Containerfile": "FROM x\n", "Containerfile.dockerignore": "a\n", "Containerfile.containerignore": "b\n"},
    )
    context = make_tree(tmp_path / "ctx", {"a": "1"})
    _, name = load_ignore(context, dockerfile=outside / "Containerfile")
    assert name == str(outside / "Containerfile.containerignore")


def test_no_ignore_file(tmp_path: Path) -> None:
    context = make_tree(tmp_path / "ctx", {"a": "1"})
    rules, name = load_ignore(context)
    assert (rules.patterns, name) == ((), None)
    assert hash_of(context).ignore_file is None


def test_rules_given_by_the_caller(tree: Path) -> None:
    result = hash_of(tree, ignore=parse_patterns(["app"]))
    assert result.ignore_file is None
    before = result.digest
    (tree / "app" / "main.py").write_text("changed")
    assert hash_of(tree, ignore=parse_patterns(["app"])).digest == before


def test_a_bad_ignore_file_is_an_input_error(tmp_path: Path) -> None:
    context = make_tree(tmp_path / "ctx", {".dockerignore": "ok\n[\n"})
    with pytest.raises(InputError) as caught:
        hash_of(context)
    assert str(caught.value) == (
        f"{context}/.dockerignore:2: pattern '[' is not valid: a character class is not "
        "closed with ']' (expected [chars], [a-z] or [^chars])"
    )


def test_a_fifo_is_recorded_not_read(tree: Path) -> None:
    before = hash_of(tree)
    os.mkfifo(tree / "pipe")
    after = hash_of(tree)  # would block forever if opened
    assert after != before
    assert after.files == before.files


def test_an_unreadable_file_is_named(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tree / "app" / "main.py"
    if os.geteuid() != 0:
        target.chmod(0)
    else:  # root reads anything: make open() refuse this one file as it would for a user
        real_open = os.open

        def refusing_open(path, flags, *args, **kwargs):
            if Path(path) == target:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(InputError) as caught:
        hash_of(tree)
    assert str(caught.value) == (
        f"{target}: cannot read it for the input hash (Permission denied); "
        "make it readable or list it in .dockerignore"
    )


def test_the_context_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        hash_of(tmp_path / "missing")
    assert str(caught.value) == f"{tmp_path / 'missing'}: the build context is not a directory"


def test_large_files_are_streamed(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    size = 24 * 1024 * 1024
    with (context / "big.bin").open("wb") as f:
        for _ in range(size // (1 << 20)):
            f.write(os.urandom(1 << 20))
    tracemalloc.start()
    try:
        _digest, files, total = context_digest(context, parse_patterns([]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (files, total) == (1, size)
    assert peak < 4 * 1024 * 1024  # a few chunks, never the whole file


_NAMES = st.sampled_from(["a", "b", "c.txt", "d/e", "d/f", "g/h/i", "Z", "a-b", "a.b"])


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_NAMES, st.binary(max_size=20), min_size=1), st.randoms())
def test_creation_order_does_not_matter(tmp_path_factory, files: dict, rnd) -> None:
    names = [n for n in files if not any(o.startswith(n + "/") for o in files)]
    contents = {n: files[n] for n in names}
    roots = []
    for order in (sorted(names), rnd.sample(names, len(names))):
        root = tmp_path_factory.mktemp("tree")
        for name in order:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(contents[name])
        roots.append(root)
    assert hash_of(roots[0]) == hash_of(roots[1])
