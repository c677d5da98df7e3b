"""Release summaries (pure: text in, text out; the caller writes files and prints).

One row per target and repository. The same rows become:

- `table(rows)` a rich Table for stderr (`table_text` renders it to plain text);
- `markdown(rows)` for $GITHUB_STEP_SUMMARY;
- `github_outputs(rows, document=...)` for $GITHUB_OUTPUT: `digest-<target>=…`,
  `tags-<target>` (one image:tag a line), `digests` and `tags` (the same as
  one JSON object each, the composite action's outputs) and `json` (the whole document),
  multi-line values in GitHub's heredoc syntax
  (`name<<DELIMITER` / value / `DELIMITER`, docs: "Multiline strings");
- `rows_json(rows)` for --json.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.config.sizes import round_size

# actions/toolkit spells its delimiters this way; a random part makes a
# collision with the value practically impossible, and we check anyway.
DELIMITER_PREFIX = "ghadelimiter_"
# Characters GitHub's expression syntax handles in an output name (steps.x.outputs.NAME).
_OUTPUT_NAME = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class SummaryRow:
    target: str
    repository: str  # host/path
    tags: tuple[str, ...]  # bare tag names
    digest: str  # index digest, "" when none (failed before it existed)
    platforms: tuple[str, ...] = ()
    size: int = 0  # bytes: every blob and manifest of the image
    verify: str = ""  # "passed", "2 warnings", "" when not verified here
    seconds: float = 0.0
    state: str = ""  # published, unchanged, rolled back, failed, dry run ...

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(f"{self.repository}:{t}" for t in self.tags)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "repository": self.repository,
            "tags": list(self.tags),
            "digest": self.digest or None,
            "platforms": list(self.platforms),
            "size": self.size,
            "verify": self.verify or None,
            "seconds": round(self.seconds, 3),
            "state": self.state,
        }


HEADERS = ("Target", "Registry", "Tags", "Index digest", "Platforms", "Size", "Verify", "Time", "State")


def short_digest(digest: str) -> str:
    algorithm, _, hex_part = digest.partition(":")
    return f"{algorithm}:{hex_part[:12]}" if hex_part else (digest or "-")


def _cells(row: SummaryRow) -> tuple[str, ...]:
    return (
        row.target,
        row.repository,
        ", ".join(row.tags) or "-",
        short_digest(row.digest),
        ", ".join(row.platforms) or "-",
        round_size(row.size) if row.size else "-",
        row.verify or "-",
        f"{row.seconds:.1f} s",
        row.state or "-",
    )


def table(rows: Sequence[SummaryRow], *, title: str | None = None):
    """A rich Table of the rows (rich imported here: it costs start-up time)."""
    from rich.table import Table

    out = Table(title=title, show_lines=False)
    for header in HEADERS:
        out.add_column(header, overflow="fold")
    for row in rows:
        out.add_row(*_cells(row))
    return out


def table_text(rows: Sequence[SummaryRow], *, width: int = 160, title: str | None = None) -> str:
    """The table as plain text (no colours), `width` columns wide."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    console.print(table(rows, title=title))
    return buffer.getvalue()


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown(rows: Sequence[SummaryRow], *, title: str = "dockyard release") -> str:
    """A GitHub-flavoured Markdown table (full digests, in code spans, so they copy whole)."""
    lines = [f"### {_md_escape(title)}", "", "| " + " | ".join(HEADERS) + " |"]
    lines.append("|" + "|".join(" --- " for _ in HEADERS) + "|")
    for row in rows:
        cells = list(_cells(row))
        cells[2] = " ".join(f"`{_md_escape(t)}`" for t in row.tags) or "-"
        cells[3] = f"`{row.digest}`" if row.digest else "-"
        cells = [c if i in (2, 3) else _md_escape(c) for i, c in enumerate(cells)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def output_name(prefix: str, target: str) -> str:
    """`digest-<target>`: characters an output name cannot carry become `_`."""
    return f"{prefix}-{_OUTPUT_NAME.sub('_', target)}"


def output_line(name: str, value: str, *, delimiter: str | None = None) -> str:
    """One $GITHUB_OUTPUT entry: `name=value`, or GitHub's heredoc form for multi-line values."""
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = delimiter or f"{DELIMITER_PREFIX}{uuid.uuid4()}"
    if delimiter in value or delimiter in name:
        raise ValueError(f"output {name}: the value contains its delimiter {delimiter!r}")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def github_outputs(
    rows: Sequence[SummaryRow],
    *,
    document: Mapping[str, Any] | None = None,
    delimiter: str | None = None,
) -> str:
    """The text to append to $GITHUB_OUTPUT: per target its digest and tags, then `json`."""
    digests: dict[str, str] = {}
    tags: dict[str, list[str]] = {}
    for row in rows:
        if row.digest:
            digests.setdefault(row.target, row.digest)
        tags.setdefault(row.target, []).extend(row.references)
    out = []
    for target, refs in tags.items():
        if target in digests:
            out.append(output_line(output_name("digest", target), digests[target]))
        out.append(output_line(output_name("tags", target), "\n".join(refs), delimiter=delimiter))
    out.append(output_line("digests", json.dumps(digests, sort_keys=False)))
    out.append(output_line("tags", json.dumps(tags, sort_keys=False)))
    doc = document if document is not None else {"rows": rows_json(rows)}
    text = json.dumps(doc, sort_keys=False)
    out.append(output_line("json", text, delimiter=delimiter))
    return "".join(out)


def rows_json(rows: Sequence[SummaryRow]) -> list[dict[str, Any]]:
    return [row.to_json() for row in rows]
