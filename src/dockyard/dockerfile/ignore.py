""".dockerignore patterns, matched as docker, BuildKit and buildah match them (pure).

The semantics are those of moby's patternmatcher and ignorefile packages (what
the docker CLI, BuildKit's context transfer and buildah all use):

- A line starting with `#` in column 1 is a comment; a UTF-8 BOM is dropped;
  each line is trimmed; blank lines are skipped.
- `!PATTERN` is an exception: it re-includes what earlier lines excluded. The
  last line that matches a path decides.
- Each pattern is cleaned as Go's filepath.Clean does (`./a/../b/` is `b`),
  then one leading `/` is dropped: the context root is both the working and
  the root directory.
- `*` and `?` never match `/`; `[...]` is a class (`^` negates, ranges,
  `\\` escapes); `\\` escapes the next character; `**` matches any number of
  directories, including none.
- A pattern excludes a path when it matches the path or any of its parent
  directories (`node_modules` excludes everything below it).
- A pattern without wildcards compares exactly; `PREFIX**` is a prefix test.
- A pattern docker would refuse (`!` alone, an unterminated `[`, a class
  range that runs backwards, a trailing `\\`) is refused here, naming the line.

Why not a package: `pathspec` implements gitignore, whose rules differ (an
unanchored `foo` matches at any depth there, only at the root here);
`docker`'s `docker.utils.build.exclude_paths` pulls in the whole Docker SDK
and requests for 100 lines, and has diverged from moby before; the small
dockerignore packages on PyPI are unmaintained or brand new. This is a port
of the ~200 lines of moby's matcher, checked against docker's documented
examples (tests/unit/test_dockerignore.py).

Where the builders disagree, the reading here never excludes more than the
builder does, so an input hash over what survives can only over-count:
- `**foo` matches `foo` and `dir/foo`, never `xfoo`: "`**` matches any number
  of directories" (docker's documentation), what buildah 1.28 does (checked
  here with `COPY . /`); moby's current patternmatcher takes a shortcut that
  tests a plain suffix, so BuildKit also leaves out `xfoo`.
- `vendor` then `!vendor/**/*.go` re-includes `vendor/a/b/c.go` (BuildKit);
  buildah 1.28 and docker's classic builder do not descend into an excluded
  directory unless an exception's text starts with it (docker/cli#2919, checked).

Deliberate difference, on patterns no one writes: moby turns a pattern into
an RE2 regular expression by passing `\\x` and `[...]` through, so `\\d` there
means "a digit" and `[*]` garbles; here `\\x` is always the literal `x` and a
class is always a class, as filepath.Match (and docker's documentation) say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from dockyard.errors import InputError

_BOM = "\ufeff"


class _Kind(Enum):
    EXACT = "exact"
    PREFIX = "prefix"  # PREFIX** : path starts with PREFIX
    SUFFIX = "suffix"  # **[/]NAME : path is NAME or ends with /NAME
    REGEXP = "regexp"


@dataclass(frozen=True)
class Pattern:
    """One cleaned pattern; `exception` for a `!` line."""

    text: str
    exception: bool = False
    line: int = field(default=0, compare=False)  # 1-based line in the file, 0 if not from one
    _kind: _Kind = field(default=_Kind.EXACT, init=False, repr=False, compare=False)
    _regexp: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problem = _syntax_problem(self.text)
        if problem:
            raise InputError(f"pattern '{self.text}' is not valid: {problem}")
        kind, regexp = _compile(self.text)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_regexp", regexp)

    def __str__(self) -> str:
        return format_pattern(self)

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(self.text.split("/"))

    def matches(self, path: str) -> bool:
        """Does the pattern itself match this cleaned, /-separated relative path?"""
        text = self.text
        if self._kind is _Kind.EXACT:
            return path == text
        if self._kind is _Kind.PREFIX:
            return path.startswith(text[:-2])
        if self._kind is _Kind.SUFFIX:
            # (.*/)?NAME, as the regular expression would say; not moby's bare suffix test
            name = text[2:].removeprefix("/")
            return not name or path == name or path.endswith("/" + name)
        assert self._regexp is not None
        return self._regexp.fullmatch(path) is not None


@dataclass(frozen=True)
class IgnoreRules:
    """A parsed .dockerignore: its patterns in order. `str()` gives an equivalent file."""

    patterns: tuple[Pattern, ...] = ()
    path: str = field(default=".dockerignore", compare=False)

    def __str__(self) -> str:
        return "".join(f"{format_pattern(p)}\n" for p in self.patterns)

    @property
    def has_exceptions(self) -> bool:
        return any(p.exception for p in self.patterns)

    def excludes(self, path: str) -> bool:
        """Is this path (relative to the context, /-separated) left out of the context?

        moby's MatchesOrParentMatches: the last pattern that matches the path
        or one of its parent directories decides.
        """
        path = clean_path(path)
        if path in (".", "") or path.startswith("../") or path == "..":
            return False  # docker never excludes the context root itself
        parents = _parents(path)
        excluded = False
        for pattern in self.patterns:
            # An exclusion only matters once excluded, an inclusion only before.
            if pattern.exception != excluded:
                continue
            if pattern.matches(path) or any(pattern.matches(p) for p in parents):
                excluded = not pattern.exception
        return excluded

    def may_include_below(self, directory: str) -> bool:
        """Could an exception re-include something below this excluded directory?

        Conservative (True when unsure): lets a walk skip an excluded
        directory, as BuildKit does, only when no `!` pattern can reach into it.
        """
        parts = clean_path(directory).split("/")
        return any(_could_reach(p.components, parts) for p in self.patterns if p.exception)


def parse_dockerignore(text: str, *, path: str = ".dockerignore") -> IgnoreRules:
    """Parse a .dockerignore file's text (docker's ignorefile.ReadAll, then patternmatcher.New)."""
    patterns = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if number == 1:
            raw = raw.removeprefix(_BOM)
        if raw.startswith("#"):
            continue
        normal = _read_all_line(raw)
        if normal is None:
            continue
        patterns.append(_new_pattern(normal, path=path, line=number))
    return IgnoreRules(tuple(patterns), path)


def parse_patterns(patterns: Iterable[str], *, path: str = "patterns") -> IgnoreRules:
    """Rules from a list of pattern strings (one per item, no comment lines)."""
    result = []
    for number, raw in enumerate(patterns, start=1):
        normal = _read_all_line(raw)
        if normal is not None:
            result.append(_new_pattern(normal, path=path, line=number))
    return IgnoreRules(tuple(result), path)


def format_pattern(p: Pattern) -> str:
    """The shortest line that parses back to this pattern.

    Usually the pattern itself. A pattern starting with `#`, or one the two
    trims and cleanings would rewrite (a leading `/` or space, a trailing
    space, as the odd line `./ /a` or `a/ / /.` gives), is spelled with a
    `./` before (after or before the `!` of an exception) or a `/ /.` after,
    which cleaning removes again. A plain pattern with a leading space comes only
    from a line like `!../../ /a`, whose second cleaning eats the `!`; it is
    spelled that way.
    """
    head = "!" if p.exception else ""
    for before in ("", "./", "./ ", "!../../"):
        for after in ("", "/ /."):
            # Both orders: `!./ /a` keeps a leading space, `./!/a` a leading slash.
            for line in (head + before + p.text + after, before + head + p.text + after):
                if not line.startswith("#") and _reparses(line, p):
                    return line
    raise ValueError(f"pattern {p.text!r} has no .dockerignore spelling")  # not from a parse


def clean_path(path: str) -> str:
    """Go's filepath.Clean on a /-separated path (lexical: no file system access)."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    joined = "/".join(out)
    if rooted:
        return "/" + joined
    return joined or "."


# ---------------------------------------------------------------- parsing steps


def _read_all_line(raw: str) -> str | None:
    """ignorefile.ReadAll's normalisation of one non-comment line; None if blank."""
    pattern = raw.strip()
    if not pattern:
        return None
    invert = pattern.startswith("!")
    if invert:
        pattern = pattern[1:].strip()
    if pattern:
        pattern = clean_path(pattern)
        if len(pattern) > 1 and pattern.startswith("/"):
            pattern = pattern[1:]
    return "!" + pattern if invert else pattern


def _new_pattern(text: str, *, path: str, line: int) -> Pattern:
    """patternmatcher.New for one pattern: clean again, split off `!`, check the syntax."""
    text = clean_path(text.strip())
    exception = text.startswith("!")
    if exception:
        if text == "!":
            raise InputError(
                f"{path}:{line}: '!' alone is not a pattern (expected !PATTERN, e.g. !README.md)"
            )
        text = text[1:]
    problem = _syntax_problem(text)
    if problem:
        raise InputError(f"{path}:{line}: pattern '{text}' is not valid: {problem}")
    return Pattern(text, exception, line)


def _reparses(line: str, p: Pattern) -> bool:
    try:
        got = parse_patterns([line]).patterns
    except InputError:
        return False
    return got == (p,)


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _could_reach(pattern: tuple[str, ...], directory: list[str]) -> bool:
    for index, name in enumerate(directory):
        if index >= len(pattern):
            return True  # the pattern names an ancestor: unsure, so yes
        piece = pattern[index]
        if "**" in piece:
            return True
        try:
            if not Pattern(piece).matches(name):
                return False
        except InputError:
            return True  # a class holding '/' spans components: unsure
    return True


# ---------------------------------------------------------------- compiling


def _compile(text: str) -> tuple[_Kind, re.Pattern[str] | None]:
    """moby's Pattern.compile: the kind of test, and a regular expression when needed."""
    regexp: list[str] = []
    kind = _Kind.EXACT
    pos, end = 0, len(text)
    while pos < end:
        first = pos == 0
        ch = text[pos]
        pos += 1
        if ch == "*" and pos < end and text[pos] == "*":
            pos += 1
            if pos < end and text[pos] == "/":
                pos += 1  # **/ is read as **
            if pos == end:
                # trailing **: everything (a prefix test when nothing came before)
                if kind is _Kind.EXACT:
                    kind = _Kind.PREFIX
                else:
                    regexp.append(".*")
                    kind = _Kind.REGEXP
            else:
                regexp.append("(?:.*/)?")  # any number of directories, even none
                kind = _Kind.REGEXP
            if first:
                kind = _Kind.SUFFIX
        elif ch == "*":
            regexp.append("[^/]*")
            kind = _Kind.REGEXP
        elif ch == "?":
            regexp.append("[^/]")
            kind = _Kind.REGEXP
        elif ch == "\\" and pos < end:
            regexp.append(re.escape(text[pos]))
            pos += 1
            kind = _Kind.REGEXP
        elif ch == "[":
            body, pos = _class(text, pos)
            regexp.append(body)
            kind = _Kind.REGEXP
        elif ch == "]":
            regexp.append(re.escape(ch))
            kind = _Kind.REGEXP
        else:
            regexp.append(re.escape(ch))
    if kind is not _Kind.REGEXP:
        return kind, None
    return kind, re.compile("".join(regexp))


def _class(text: str, pos: int) -> tuple[str, int]:
    """A `[...]` class starting after its `[`: (Python class, position after `]`)."""
    negated = pos < len(text) and text[pos] == "^"
    if negated:
        pos += 1
    items: list[str] = []
    while True:
        if pos < len(text) and text[pos] == "]" and items:
            return "[" + ("^" if negated else "") + "".join(items) + "]", pos + 1
        lo, pos = _class_char(text, pos)
        hi = lo
        if text[pos] == "-":
            hi, pos = _class_char(text, pos + 1)
        items.append(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}")


def _class_char(text: str, pos: int) -> tuple[str, int]:
    """Go's getEsc: one (possibly escaped) class character, which must not end the text."""
    if pos < len(text) and text[pos] in "-]":
        raise _BadPattern(f"a character class has a bare '{text[pos]}' (escape it: \\{text[pos]})")
    if pos < len(text) and text[pos] == "\\":
        pos += 1
    if pos + 1 >= len(text):
        raise _BadPattern("a character class is not closed with ']'")
    return text[pos], pos + 1


class _BadPattern(Exception):
    pass


def _syntax_problem(text: str) -> str | None:
    """Why docker would refuse this pattern, or None (filepath.Match's syntax + RE2's ranges)."""
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == "\\":
            if pos + 1 >= len(text):
                return "it ends with an escaping '\\' (write '\\\\' for a backslash)"
            pos += 2
        elif ch == "[":
            try:
                _, after = _class(text, pos + 1)
                _check_ranges(text[pos + 1 : after - 1])
            except _BadPattern as exc:
                return f"{exc} (expected [chars], [a-z] or [^chars])"
            pos = after
        else:
            pos += 1
    return None


def _check_ranges(body: str) -> None:
    pos = 1 if body.startswith("^") else 0
    while pos < len(body):
        lo, pos = _one(body, pos)
        if pos < len(body) and body[pos] == "-":
            hi, pos = _one(body, pos + 1)
            if hi < lo:
                raise _BadPattern(f"the range {lo}-{hi} runs backwards")


def _one(body: str, pos: int) -> tuple[str, int]:
    if body[pos] == "\\":
        pos += 1
    return body[pos], pos + 1
