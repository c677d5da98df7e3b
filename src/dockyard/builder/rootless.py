"""Rootless builds: what an unprivileged user needs, and the fix when a build says it lacks it.

buildah and podman run rootless by themselves (a user namespace, storage in
~/.local/share/containers): checked here, a COPY-only build needs nothing
more and gives the index root's build gives. What it needs once a layer
holds files of more than one owner (any distribution base) is a range of
subordinate ids for the user in /etc/subuid and /etc/subgid, mapped by the
setuid `newuidmap`/`newgidmap` (Debian package uidmap): without them buildah
fails mid-build with "potentially insufficient UIDs or GIDs available in
user namespace". `problems` says beforehand (doctor) and `hint` after the
fact (a failed job's one-line error) what to run. Pure: the callers read
the files and look up the programs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# What buildah/podman (containers/storage) print when a layer's owner is outside the mapping.
SUBID_FAILURE = "insufficient UIDs or GIDs available in user namespace"
# A range as wide as `useradd` gives by default: what a distribution base needs (nobody is 65534).
WANTED_IDS = 65536


@dataclass(frozen=True)
class RootlessUser:
    name: str
    uid: int


def subordinate_ids(text: str, user: RootlessUser) -> int:
    """How many subordinate ids /etc/subuid (or subgid) `text` gives `user` (by name or uid)."""
    total = 0
    for line in text.splitlines():
        fields = line.strip().split(":")
        if len(fields) != 3 or fields[0] not in (user.name, str(user.uid)):
            continue
        try:
            total += max(0, int(fields[2]))
        except ValueError:
            continue
    return total


def problems(
    user: RootlessUser,
    *,
    subuid: str | None,
    subgid: str | None,
    which: Callable[[str], str | None],
) -> list[str]:
    """Each thing missing for rootless builds, with the command that fixes it; [] when ready.

    `subuid`/`subgid` are the files' text (None: the file does not exist).
    """
    found: list[str] = []
    for program in ("newuidmap", "newgidmap"):
        if which(program) is None:
            found.append(f"{program} not found: apt-get install uidmap")
    for path, text, flag in (("/etc/subuid", subuid, "uids"), ("/etc/subgid", subgid, "gids")):
        if subordinate_ids(text or "", user) < WANTED_IDS:
            found.append(
                f"{path} gives {user.name} fewer than {WANTED_IDS} ids: "
                f"usermod --add-sub{flag} 100000-165535 {user.name} (as root)"
            )
    return found


def hint(log_text: str, user: RootlessUser | None) -> str:
    """The fix to add to a failed build's message, or "" when the failure is something else."""
    if user is None or SUBID_FAILURE not in log_text:
        return ""
    return (
        f"rootless: {user.name} needs subordinate ids (usermod --add-subuids 100000-165535 "
        f"--add-subgids 100000-165535 {user.name} as root, then podman system migrate)"
    )
