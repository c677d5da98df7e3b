"""The public Python API: `from dockyard import …` (README "Python API")."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

import dockyard

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NAMES = [n for n in dockyard.__all__ if n != "__version__"]


def _section() -> str:
    text = README.read_text()
    return text[text.index("## Python API") : text.index("## Layout")]


def test_all_lists_the_version_and_the_api():
    assert dockyard.__all__[0] == "__version__"
    assert len(NAMES) == len(set(NAMES)) >= 50
    for name in ("Settings", "Workspace", "build", "release", "merge", "verify_image", "copy_image",
                 "LayoutStore", "RegistryClient", "Reference", "Platform", "compute_tags",
                 "load_config", "Plan", "InputError", "OperationError"):  # fmt: skip
        assert name in NAMES, name


@pytest.mark.parametrize("name", NAMES)
def test_every_exported_name_exists_and_says_what_it_is(name):
    value = getattr(dockyard, name)
    doc = value.__doc__ or ""
    # A dataclass without a docstring gets its signature as __doc__: not documentation.
    assert doc.strip() and not doc.startswith(f"{name}("), f"{name} has no docstring"
    assert value.__module__.startswith("dockyard."), name


def test_no_exported_name_is_shadowed_by_a_subpackage():
    # `import dockyard.verify` sets dockyard.verify to the package: an export of that name would vanish.
    packages = {p.name for p in (ROOT / "src" / "dockyard").iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in (ROOT / "src" / "dockyard").glob("*.py")}
    assert not (set(NAMES) & (packages | modules))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        dockyard.nope  # noqa: B018


def test_importing_dockyard_loads_nothing_else_and_changes_nothing():
    # In a fresh interpreter: no dockyard submodule, no httpx, no sys.modules entry planted.
    code = (
        "import sys; before = set(sys.modules); import dockyard; new = set(sys.modules) - before; "
        "print(sorted(m for m in new if m.startswith(('dockyard.', 'httpx')))); "
        "print(sorted(m for m in new if sys.modules[m] is None))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "[]"]


def test_the_readme_example_runs_and_prints_what_the_readme_shows(monkeypatch):
    section = _section()
    code = re.findall(r"```python\n(.*?)```", section, re.S)
    shown = re.findall(r"```text\n(.*?)```", section, re.S)
    assert len(code) == 1 and len(shown) == 1
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code[0], "README.md", "exec"), {})
    assert out.getvalue() == shown[0]
