"""The 40 bake cases checked against real buildx (../shared/conformance/bake.json, copied).

Each case: files given with -f in order, the environment (plus BAKE_LOCAL_PLATFORM), --set
values and requested targets; either the resolved fields that must match or a substring of the
error. A list field buildx leaves out when empty (it prints with omitempty) is compared as [].
Deliberate differences from buildx: none among these cases. (dockyard refuses an inheritance
cycle that buildx silently ignores; see test_bake_errors.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard.bake import resolve_sources
from dockyard.bake.model import LISTS
from dockyard.errors import BakeError, InputError

CASES = json.loads((Path(__file__).parent / "data" / "bake.json").read_text())


def _run(case: dict) -> object:
    env = {**case["env"], "BAKE_LOCAL_PLATFORM": "linux/amd64"}
    return resolve_sources(list(case["files"].items()), case["targets"], case["overrides"], env)


def test_all_forty_cases_are_present() -> None:
    assert len(CASES) == 40
    assert len({c["name"] for c in CASES}) == 40


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict) -> None:
    if "expected_error" in case:
        with pytest.raises(BakeError) as err:
            _run(case)
        assert case["expected_error"] in str(err.value)
        assert isinstance(err.value, InputError)
        return
    resolved = _run(case)
    if "expected_target_names" in case:
        # Generated matrix targets come in Go map order upstream: compared as a set.
        assert sorted(resolved.targets) == sorted(case["expected_target_names"])
    for name, fields in case["expected"].items():
        assert name in resolved.targets, f"target {name} not resolved"
        got = resolved.targets[name]
        for key, want in fields.items():
            assert got.get(key, [] if key in LISTS else None) == want, (name, key)
