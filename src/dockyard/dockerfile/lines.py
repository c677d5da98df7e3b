"""Physical lines -> logical instructions, as BuildKit's Dockerfile parser reads them (pure).

What BuildKit does (frontend/dockerfile/parser/parser.go) and so do we:
- lines end at "\\n"; a trailing "\\r" is dropped; a UTF-8 BOM before line 1 too;
- parser directives (`# escape=\\``, `# syntax=...`, `# check=...`) are read
  only from the top, until the first line that is not one (an instruction, a
  blank line, any other comment);
- comment lines (`#` after optional blanks) and blank lines are skipped,
  also in the middle of a continued instruction;
- the escape character at the end of a line (blanks after it allowed)
  continues the instruction; the pieces are joined without a separator;
- RUN, COPY and ADD may carry heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`): the
  lines after the instruction up to the terminator are the body, whatever
  they look like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.errors import InputError

_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*")
_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_HEREDOC = re.compile(r"\d*<<(-?)([^<]*)")
_RAW_WORD = re.compile(r"""(?:[^\s"']|"(?:\\.|[^"\\])*"?|'[^']*'?)+""")


@dataclass(frozen=True)
class LogicalLine:
    line: int  # 1-based number of its first physical line
    end_line: int  # its last physical line (continuations and heredoc bodies included)
    text: str  # the joined instruction, without heredoc bodies
    heredocs: tuple[str, ...]
    escape: str


def physical_lines(text: str) -> list[str]:
    """The lines as BuildKit's scanner sees them: split on \\n, a trailing \\r dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the text ends with a newline: no further line
    if lines:
        lines[0] = lines[0].removeprefix("\ufeff")
    return [line.removesuffix("\r") for line in lines]


def logical_lines(text: str, *, path: str) -> tuple[str, list[LogicalLine]]:
    """The escape character and the instructions of a Dockerfile, in order."""
    lines = physical_lines(text)
    escape, pos = _directives(lines, path)
    found: list[LogicalLine] = []
    while pos < len(lines):
        start = pos
        joined, pos = _join(lines, pos, escape)
        if joined is None:
            continue
        heredocs: tuple[str, ...] = ()
        keyword = joined.split(None, 1)[0].upper()
        if keyword in _HEREDOC_KEYWORDS and "<<" in joined:
            heredocs, pos = _read_heredocs(joined, lines, pos, start + 1, path)
        found.append(LogicalLine(start + 1, pos, joined, heredocs, escape))
    return escape, found


def _directives(lines: list[str], path: str) -> tuple[str, int]:
    """Read the parser directives at the top; returns the escape character and the first
    line after them."""
    escape = "\\"
    seen: set[str] = set()
    for pos, line in enumerate(lines):
        match = _DIRECTIVE.fullmatch(line.lstrip(" \t"))
        key = match.group(1).lower() if match else ""
        if key not in _KNOWN_DIRECTIVES:
            return escape, pos
        if key in seen:
            raise InputError(f"{path}:{pos + 1}: the '{key}' parser directive is given twice")
        seen.add(key)
        if key == "escape":
            escape = match.group(2)
            if escape not in ("\\", "`"):
                raise InputError(
                    f"{path}:{pos + 1}: escape character '{escape}' is not valid (expected \\ or `)"
                )
    return escape, len(lines)


def _is_skipped(line: str) -> bool:
    stripped = line.lstrip(" \t")
    return stripped == "" or stripped.startswith("#")


def _continues(line: str, escape: str) -> tuple[str, bool]:
    """The line without a trailing escape character, and whether there was one."""
    body = line.rstrip(" \t")
    if body.endswith(escape):
        return body[: -len(escape)], True
    return line, False


def _join(lines: list[str], pos: int, escape: str) -> tuple[str | None, int]:
    """One instruction starting at lines[pos]; None for a comment or blank line."""
    first = lines[pos]
    pos += 1
    if _is_skipped(first):
        return None, pos
    piece, more = _continues(first.lstrip(" \t"), escape)
    # Pieces joined once at the end: `joined += piece` copied the whole instruction
    # on every line (4 MB of continuation lines took 20 s, 20 MB never finished).
    pieces = [piece]
    while more and pos < len(lines):
        line = lines[pos]
        pos += 1
        if _is_skipped(line):
            continue
        piece, more = _continues(line, escape)
        pieces.append(piece)
    joined = "".join(pieces)
    if not joined.strip():
        return None, pos  # a lone escape character continued into nothing
    return joined, pos


def _read_heredocs(
    joined: str, lines: list[str], pos: int, line_no: int, path: str
) -> tuple[tuple[str, ...], int]:
    bodies: list[str] = []
    for word in _RAW_WORD.findall(joined):
        match = _HEREDOC.fullmatch(word)
        if match is None:
            continue
        chomp, name = match.group(1) == "-", unquote(match.group(2), "\\")
        if not name:
            continue
        body: list[str] = []
        while True:
            if pos >= len(lines):
                raise InputError(
                    f"{path}:{line_no}: heredoc <<{name} is not closed (no line '{name}' after it)"
                )
            line = lines[pos]
            pos += 1
            if (line.lstrip("\t") if chomp else line) == name:
                break
            body.append(line + "\n")
        bodies.append("".join(body))
    return tuple(bodies), pos


def unquote(text: str, escape: str) -> str:
    """Remove shell quoting without expanding anything: 'a b' -> a b, "x" -> x, \\y -> y."""
    out: list[str] = []
    quote = ""
    pos = 0
    while pos < len(text):
        ch = text[pos]
        pos += 1
        if quote == "'":
            if ch == "'":
                quote = ""
            else:
                out.append(ch)
        elif ch == escape and pos < len(text) and (not quote or text[pos] in ('"', escape)):
            out.append(text[pos])
            pos += 1
        elif ch in ("'", '"') and (not quote or ch == quote):
            quote = "" if quote else ch
        else:
            out.append(ch)
    return "".join(out)
