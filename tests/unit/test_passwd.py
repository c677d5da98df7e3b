"""verify.passwd: config User forms, /etc/passwd parsing, root detection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.verify.passwd import UserSpec, parse_passwd, parse_user, resolve_user

PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1::/usr/sbin:/usr/sbin/nologin
# a comment:x:0:0
+nis:x:0:0::/:
broken
admin:x:0:0:uid 0 by another name:/root:/bin/sh
app:x:1000:1000::/home/app:/bin/sh
app:x:0:0:second entry is never used:/:/bin/sh
weird:x:notanumber:0::/:
"""


@pytest.mark.parametrize(
    ("text", "user", "group", "uid"),
    [
        ("", "", "", None),
        ("  ", "", "", None),
        ("0", "0", "", 0),
        ("1000", "1000", "", 1000),
        ("0:0", "0", "0", 0),
        ("1000:0", "1000", "0", 1000),
        ("app", "app", "", None),
        ("app:staff", "app", "staff", None),
        ("root:1000", "root", "1000", None),
        (" app : staff ", "app", "staff", None),
    ],
)
def test_parse_user(text, user, group, uid):
    spec = parse_user(text)
    assert spec == UserSpec(user, group)
    assert spec.uid == uid


def test_parse_passwd_skips_what_libc_skips_and_keeps_the_first_entry():
    assert dict(parse_passwd(PASSWD)) == {"root": 0, "daemon": 1, "admin": 0, "app": 1000}


@pytest.mark.parametrize(
    ("user", "passwd", "uid", "reason"),
    [
        ("", None, 0, "no User set: the container runs as root"),
        ("0", None, 0, "uid 0"),
        ("0:1000", None, 0, "uid 0"),
        ("root", None, 0, "user root"),
        ("root:app", PASSWD, 0, "user root"),
        ("1000", None, 1000, "uid 1000"),
        ("1000:0", None, 1000, "uid 1000"),
        ("admin", PASSWD, 0, "user 'admin' is uid 0 in the image's /etc/passwd"),
        ("admin:app", PASSWD, 0, "user 'admin' is uid 0 in the image's /etc/passwd"),
        ("app", PASSWD, 1000, "user 'app' is uid 1000 in the image's /etc/passwd"),
        ("daemon", PASSWD, 1, "user 'daemon' is uid 1 in the image's /etc/passwd"),
        ("nobody", PASSWD, None, "user 'nobody' is not in the image's /etc/passwd"),
        ("weird", PASSWD, None, "user 'weird' is not in the image's /etc/passwd"),
        ("app", None, None, "user 'app' cannot be resolved: no /etc/passwd in the image"),
    ],
)
def test_resolve_user(user, passwd, uid, reason):
    check = resolve_user(user, passwd)
    assert (check.uid, check.reason) == (uid, reason)
    assert check.is_root == (uid == 0)


@pytest.mark.parametrize(
    ("user", "needs"), [("", False), ("0", False), ("root", False), ("app", True), ("app:0", True)]
)
def test_needs_lookup_only_for_names_other_than_root(user, needs):
    assert parse_user(user).needs_lookup is needs


_name = st.from_regex(r"[a-z_][a-z0-9_-]{0,15}", fullmatch=True)
_group = st.one_of(st.just(""), _name, st.integers(0, 65535).map(str))


@given(user=st.one_of(_name, st.integers(0, 2**31).map(str)), group=_group)
def test_user_spec_round_trips(user, group):
    spec = UserSpec(user, group)
    assert parse_user(str(spec)) == spec


@given(entries=st.dictionaries(_name, st.integers(0, 2**31), max_size=20))
def test_parse_passwd_reads_what_was_written(entries):
    text = "".join(f"{n}:x:{uid}:{uid}::/home/{n}:/bin/sh\n" for n, uid in entries.items())
    assert dict(parse_passwd(text)) == entries
