"""[evidence]: which SBOM formats and whether provenance release attaches (config/evidencetable.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dockyard.config.loader import load_config
from dockyard.config.model import EvidenceConfig
from dockyard.errors import InputError

HEAD = '[project]\nname = "x"\n[targets.a]\nimage = "a"\n'


def load(tmp_path: Path, body: str):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "dockyard.toml").write_text(HEAD + body)
    return load_config(tmp_path / "dockyard.toml", cwd=tmp_path)


def test_without_the_table_release_attaches_an_spdx_sbom_and_the_provenance(tmp_path):
    assert load(tmp_path, "").evidence == EvidenceConfig(sbom=("spdx",), provenance=True)


def test_formats_in_order_once_each_and_provenance_off(tmp_path):
    got = load(tmp_path, '[evidence]\nsbom = ["cyclonedx", "spdx", "cyclonedx"]\nprovenance = false\n')
    assert got.evidence == EvidenceConfig(sbom=("cyclonedx", "spdx"), provenance=False)
    assert load(tmp_path, "[evidence]\nsbom = []\n").evidence.sbom == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('sbom = ["swid"]', "evidence.sbom[0]: 'swid' is not an SBOM format (valid: spdx, cyclonedx)"),
        ('sbom = "spdx"', "evidence.sbom"),
        ('provenance = "yes"', "evidence.provenance"),
        ("signed = true", "evidence.signed: unknown key (valid: sbom, provenance)"),
    ],
)
def test_bad_values_name_the_field(tmp_path, body, message):
    with pytest.raises(InputError, match=re.escape("dockyard.toml: " + message)):
        load(tmp_path, f"[evidence]\n{body}\n")
