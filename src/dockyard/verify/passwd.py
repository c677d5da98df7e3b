"""Who a container runs as: a config's `User` against the image's /etc/passwd (pure).

The `User` field takes docker's forms: empty (root), `name`, `uid`,
`name:group`, `uid:gid` (and `name:gid`, `uid:group`). Only the user part
decides whether the process is root; the group does not (gid 0 alone grants
no privilege the kernel checks for). A name is looked up as getpwnam does:
the first line of /etc/passwd with that name wins. `root` counts as uid 0
even without a passwd file: no runtime maps it to anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

ROOT_NAME = "root"


@dataclass(frozen=True)
class UserSpec:
    """A config `User` split into its user and (optional) group parts."""

    user: str
    group: str = ""

    def __str__(self) -> str:
        return self.user + (f":{self.group}" if self.group else "")

    @property
    def uid(self) -> int | None:
        """The numeric uid when the user part is a number, else None (a name)."""
        return int(self.user) if self.user.isdecimal() else None

    @property
    def needs_lookup(self) -> bool:
        """A name other than root: only /etc/passwd can tell its uid."""
        return self.uid is None and self.user not in ("", ROOT_NAME)


def parse_user(text: str) -> UserSpec:
    """Split `user[:group]`; surrounding blanks dropped, an empty user means root."""
    user, _, group = text.strip().partition(":")
    return UserSpec(user.strip(), group.strip())


def parse_passwd(text: str) -> Mapping[str, int]:
    """name -> uid from /etc/passwd text; the first entry of a name wins (getpwnam).

    Lines that are blank, comments, NIS `+`/`-` entries or malformed (fewer
    than three fields, a uid that is not a number) are skipped, as libc does.
    """
    users: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 3:
            continue
        name, uid = fields[0], fields[2].strip()
        if not name or name[0] in "#+-" or not uid.isdecimal() or name in users:
            continue
        users[name] = int(uid)
    return MappingProxyType(users)


@dataclass(frozen=True)
class UserCheck:
    """What `resolve_user` found. uid None: the name is not in /etc/passwd (or there is none)."""

    spec: UserSpec
    uid: int | None
    reason: str

    @property
    def is_root(self) -> bool:
        return self.uid == 0


def resolve_user(user: str, passwd: str | None) -> UserCheck:
    """Resolve a config `User` to a uid, reading `passwd` (None: the image has no /etc/passwd)."""
    spec = parse_user(user)
    if spec.user == "":
        return UserCheck(spec, 0, "no User set: the container runs as root")
    if spec.uid is not None:
        return UserCheck(spec, spec.uid, f"uid {spec.uid}")
    if spec.user == ROOT_NAME:
        return UserCheck(spec, 0, "user root")
    if passwd is None:
        return UserCheck(spec, None, f"user '{spec.user}' cannot be resolved: no /etc/passwd in the image")
    uid = parse_passwd(passwd).get(spec.user)
    if uid is None:
        return UserCheck(spec, None, f"user '{spec.user}' is not in the image's /etc/passwd")
    return UserCheck(spec, uid, f"user '{spec.user}' is uid {uid} in the image's /etc/passwd")
