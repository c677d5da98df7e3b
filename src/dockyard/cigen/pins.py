"""Every action a generated workflow `uses:`, pinned to a full commit SHA with its version.

A tag (`@v6`) can be moved to other code by whoever controls the action's
repository; a 40-hex commit cannot. The version goes in a comment after the
SHA (`uses: actions/checkout@<sha> # v6.0.1`), the form Dependabot and
Renovate keep up to date.

Each SHA was checked, with no access to GitHub from here, against public
repositories' workflows that pin the same commit under the same version
comment (code search over public GitHub sources, 2026-12; the version
comment and the SHA agree in every occurrence found, tens for each).
Node 24 majors throughout: GitHub removed the node20 runtime on 2026-09-23,
and actionlint flags node20 actions (checkout v4, setup-python v5,
upload-artifact v4/v5, download-artifact v4-v6, cache v4).

docker/setup-qemu-action is not used: the dockyard composite action installs
qemu-user-static from the runner's apt, which also registers binfmt.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pin:
    action: str  # owner/repo
    sha: str  # the full commit the version tag pointed at
    version: str
    seen: str  # where the pairing was checked

    @property
    def uses(self) -> str:
        return f"{self.action}@{self.sha}"

    @property
    def line(self) -> str:
        """The text after `uses: `: the SHA, then the version as a comment."""
        return f"{self.uses} # {self.version}"


PINS = {
    pin.action: pin
    for pin in (
        Pin(
            "actions/checkout", "8e8c483db84b4bee98b60c0593521ed34d9990e8", "v6.0.1",
            "public workflows and pinning guides: 'actions/checkout@8e8c483d… # v6.0.1'",
        ),
        Pin(
            "actions/setup-python", "e797f83bcb11b83ae66e0230d6156d7c80228e7c", "v6.0.0",
            "public workflows and tests asserting 'actions/setup-python@e797f83b… # v6.0.0'",
        ),
        Pin(
            "actions/cache", "9255dc7a253b0ccc959486e2bca901246202afeb", "v5.0.1",
            "public workflows: 'actions/cache@9255dc7a… # v5.0.1' (v5: node24, runner >= 2.327.1)",
        ),
        Pin(
            "actions/upload-artifact", "b7c566a772e6b6bfb58ed0dc250532a479d7789f", "v6.0.0",
            "public workflows and pin tables: 'actions/upload-artifact@b7c566a7… # v6.0.0'",
        ),
        Pin(
            "actions/download-artifact", "37930b1c2abaa49bbe596cd826c3c89aef350131", "v7.0.0",
            "public workflows: 'actions/download-artifact@37930b1c… # v7.0.0', paired with upload v6.0.0",
        ),
    )
}  # fmt: skip


def uses(action: str) -> str:
    """`owner/repo@<sha> # <version>` for a pinned action (KeyError: not pinned, a bug)."""
    return PINS[action].line
