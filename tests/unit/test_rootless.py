"""What a rootless build needs (subordinate ids, newuidmap) and the fix a failed build is given."""

from __future__ import annotations

from dockyard.builder.rootless import RootlessUser, hint, problems, subordinate_ids

ALICE = RootlessUser(name="alice", uid=1001)
READY = "bob:100000:65536\nalice:165536:65536\n"


def test_subordinate_ids_count_lines_by_name_or_uid():
    assert subordinate_ids(READY, ALICE) == 65536
    assert subordinate_ids("1001:200000:1000\nalice:300000:500\n", ALICE) == 1500
    assert subordinate_ids("alice:x:y\nalice:1\n\n#c\nalice:1:-5\n", ALICE) == 0
    assert subordinate_ids("", ALICE) == 0


def test_a_ready_user_has_no_problems():
    assert problems(ALICE, subuid=READY, subgid=READY, which=lambda p: f"/usr/bin/{p}") == []


def test_each_missing_piece_is_named_with_its_fix():
    found = problems(ALICE, subuid=None, subgid="alice:1:10\n", which=lambda p: None)
    assert found == [
        "newuidmap not found: apt-get install uidmap",
        "newgidmap not found: apt-get install uidmap",
        "/etc/subuid gives alice fewer than 65536 ids: usermod --add-subuids 100000-165535 alice (as root)",
        "/etc/subgid gives alice fewer than 65536 ids: usermod --add-subgids 100000-165535 alice (as root)",
    ]


def test_the_hint_is_given_only_for_the_id_mapping_failure_and_only_rootless():
    log = "Error: ... potentially insufficient UIDs or GIDs available in user namespace (requested 2000:2000 for /owned)"
    assert hint(log, ALICE).startswith("rootless: alice needs subordinate ids (usermod --add-subuids")
    assert hint(log, None) == ""
    assert hint("Error: building at STEP RUN false: exit status 1", ALICE) == ""
