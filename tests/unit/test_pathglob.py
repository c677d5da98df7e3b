"""config.pathglob: allow-foreign globs, matched one path component at a time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.config.pathglob import GLOB_RULE, check_path_glob, first_match, matches
from dockyard.errors import InputError


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        ("/usr/bin/qemu-*-static", "/usr/bin/qemu-aarch64-static", True),
        ("/usr/bin/qemu-*-static", "/usr/bin/qemu-x86_64-static", True),
        ("/usr/bin/qemu-*-static", "/usr/bin/qemu-aarch64", False),
        # `*` never crosses a `/`.
        ("/usr/bin/qemu-*-static", "/usr/bin/x/qemu-a-static", False),
        ("/usr/*/qemu-arm-static", "/usr/bin/qemu-arm-static", True),
        ("/usr/*/qemu-arm-static", "/usr/local/bin/qemu-arm-static", False),
        ("/usr/bin/*", "/usr/bin", False),
        ("/*", "/busybox", True),
        ("/*", "/bin/busybox", False),
        # `**` as a whole component: any number of components, none included.
        ("/opt/cross/**", "/opt/cross/bin/gcc", True),
        ("/opt/cross/**", "/opt/cross/a/b/c/libc.so.6", True),
        ("/opt/cross/**", "/opt/crossx/bin/gcc", False),
        ("/opt/**/lib/*.so", "/opt/lib/a.so", True),
        ("/opt/**/lib/*.so", "/opt/x/y/lib/a.so", True),
        ("/opt/**/lib/*.so", "/opt/x/y/lib/sub/a.so", False),
        ("/**/qemu-*-static", "/qemu-arm-static", True),
        ("/**/qemu-*-static", "/usr/libexec/qemu-arm-static", True),
        ("/**", "/any/thing", True),
        ("/**/a/**/b", "/x/a/y/a/z/b", True),
        ("/**/a/**/b", "/x/a/y/z/c", False),
        # `?` and sets stay inside a component; matching is case-sensitive.
        ("/lib/ld-linux-?.so", "/lib/ld-linux-3.so", True),
        ("/lib/ld-linux-?.so", "/lib/ld-linux-/.so", False),
        ("/lib/lib[ab].so", "/lib/liba.so", True),
        ("/lib/lib[!ab].so", "/lib/liba.so", False),
        ("/usr/bin/QEMU", "/usr/bin/qemu", False),
        ("/usr/bin/qemu", "/usr/bin/qemu", True),
    ],
)
def test_matches(glob, path, hit):
    assert matches(check_path_glob(glob), path) is hit


def test_first_match_names_the_first_glob_that_matches():
    globs = ("/usr/bin/x", "/usr/bin/*", "/usr/**")
    assert first_match(globs, "/usr/bin/y") == "/usr/bin/*"
    assert first_match(globs, "/usr/lib/y") == "/usr/**"
    assert first_match(globs, "/opt/y") is None
    assert first_match((), "/usr/bin/y") is None


@pytest.mark.parametrize(
    "glob", ["usr/bin/x", "", "/", "/usr//bin", "/usr/bin/", "/usr/../bin", "/./x", "*"]
)
def test_invalid_globs_are_refused_with_the_rule(glob):
    with pytest.raises(InputError) as info:
        check_path_glob(glob)
    assert str(info.value) == f"{glob!r} is not a path glob ({GLOB_RULE})"


_name = st.text(alphabet="abc-_.x", min_size=1, max_size=4).filter(lambda s: s not in (".", ".."))


@given(st.lists(_name, min_size=1, max_size=6))
def test_a_literal_path_matches_itself_and_double_star_matches_everything(parts):
    path = "/" + "/".join(parts)
    assert matches(check_path_glob(path), path)
    assert matches("/**", path)
    assert matches("/**/" + parts[-1], path)
    # One `*` per component matches a path of exactly that depth, never a deeper one.
    assert matches("/*" * len(parts), path)
    assert not matches("/*" * len(parts), path + "/y")
