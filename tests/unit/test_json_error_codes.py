"""The README's closed list of `--json` failure codes is every code the CLI can print.

cli/main.py prints the class name of a DockyardError, or one of the CLI's own
codes; a new error class must be added to the README's list (a script that
matches on `code` relies on it), and the exit code the list gives each one
must be the one the class carries.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from dockyard import errors

README = Path(__file__).resolve().parents[2] / "README.md"
CLI_CODES = {"UsageError": 2, "Aborted": 1, "failed": 1, "Interrupted": 130}


def readme_codes() -> dict[str, int]:
    """{code: exit status} from the README's "`code` is one of a closed list" sentence."""
    text = " ".join(README.read_text().split())
    sentence = re.search(r"`code` is one of a closed list: (.*?)\. ", text)
    assert sentence, "README.md: the closed list of --json error codes not found"
    codes: dict[str, int] = {}
    for part in re.split(r"; with ", sentence.group(1).removeprefix("with ")):
        status = re.match(r"exit (\d+) ", part)
        assert status, part
        for code in re.findall(r"`(\w+)`", part):
            codes[code] = int(status.group(1))
    return codes


def error_classes() -> dict[str, int]:
    found: dict[str, int] = {}
    pending = [errors.DockyardError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is not errors.DockyardError:  # never raised directly
            found[cls.__name__] = cls.exit_code
    return found


def test_the_readme_lists_every_code_with_its_exit_status():
    assert readme_codes() == error_classes() | CLI_CODES


def test_no_error_class_is_defined_outside_errors_py():
    # One defined elsewhere would escape the README's list (and errors.py's tree): its
    # module may not even be imported when error_classes() looks.
    names = {*error_classes(), "DockyardError"}
    src = Path(errors.__file__).parent
    outside = [
        f"{path.relative_to(src)}:{node.lineno} {node.name}"
        for path in src.rglob("*.py")
        if path != Path(errors.__file__)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and any(ast.unparse(base).rsplit(".", 1)[-1] in names for base in node.bases)
    ]
    assert outside == []
    for name in error_classes():
        assert f"{name} " in errors.__doc__, f"errors.py's tree lacks {name}"
