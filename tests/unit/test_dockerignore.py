"""dockyard.dockerfile.ignore against docker's documented examples and moby's matcher rules."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dockyard.dockerfile.ignore import (
    IgnoreRules,
    Pattern,
    clean_path,
    format_pattern,
    parse_dockerignore,
    parse_patterns,
)
from dockyard.errors import InputError

# docs.docker.com, "Build context" > ".dockerignore files": each file, then
# (path, excluded?) rows as the documentation describes them.
DOCUMENTED = [
    # "/foo/bar and foo/bar both exclude a file or directory named bar in the
    # foo subdirectory ... Neither excludes anything else."
    ("/foo/bar", "foo/bar", True),
    ("/foo/bar", "foo/bar/baz.txt", True),
    ("/foo/bar", "bar", False),
    ("/foo/bar", "x/foo/bar", False),
    ("foo/bar", "foo/bar", True),
    ("foo/bar", "foo/bar/deep/er", True),
    ("foo/bar", "foo", False),
    ("foo/bar", "foo/barn", False),
    # the example file: "# comment", "*/temp*", "*/*/temp*", "temp?"
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "somedir/temporary.txt", True),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "somedir/temp", True),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "somedir/subdir/temporary.txt", True),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "tempa", True),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "tempb", True),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "temp", False),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "tempab", False),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "temporary.txt", False),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "a/b/c/temporary.txt", False),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "# comment", False),
    # "**/*.go excludes all files that end with .go found anywhere in the build
    # context", the root included.
    ("**/*.go", "main.go", True),
    ("**/*.go", "cmd/app/main.go", True),
    ("**/*.go", "main.go.txt", False),
    ("**/*.go", "go", False),
    # "*.md" then "!README.md": every Markdown file but README.md
    ("*.md\n!README.md", "CHANGES.md", True),
    ("*.md\n!README.md", "README.md", False),
    ("*.md\n!README.md", "docs/guide.md", False),  # *.md is root-only
    # "*.md", "!README*.md", "README-secret.md": README-secret.md excluded again
    ("*.md\n!README*.md\nREADME-secret.md", "README.md", False),
    ("*.md\n!README*.md\nREADME-secret.md", "README-other.md", False),
    ("*.md\n!README*.md\nREADME-secret.md", "README-secret.md", True),
    ("*.md\n!README*.md\nREADME-secret.md", "notes.md", True),
    # ... and with the last two lines swapped every README is included
    ("*.md\nREADME-secret.md\n!README*.md", "README-secret.md", False),
    ("*.md\nREADME-secret.md\n!README*.md", "notes.md", True),
    # "You can even use the .dockerignore file to exclude the Dockerfile"
    ("Dockerfile\n.dockerignore", "Dockerfile", True),
    ("Dockerfile\n.dockerignore", ".dockerignore", True),
    ("Dockerfile\n.dockerignore", "src/Dockerfile", False),
    # "specify which files to include ... use * as the first pattern, followed
    # by one or more ! exception patterns"
    ("*\n!src\n!go.mod", "src/main.go", False),
    ("*\n!src\n!go.mod", "go.mod", False),
    ("*\n!src\n!go.mod", "node_modules/x/index.js", True),
    ("*\n!src\n!go.mod", "README.md", True),
]


@pytest.mark.parametrize(("text", "path", "excluded"), DOCUMENTED)
def test_documented_examples(text: str, path: str, excluded: bool) -> None:
    assert parse_dockerignore(text).excludes(path) is excluded


# One pattern against one path, moby's MatchesOrParentMatches (filepath.Match + **).
SINGLE = [
    ("*", "fileutils.go", True),
    ("*", "dir/file", True),  # the parent "dir" matches
    ("*.go", "fileutils.go", True),
    ("**", "file", True),
    ("**/", "file", True),
    ("**", "dir/file", True),
    ("**/**", "dir/file", True),
    ("dir/**", "dir/file", True),
    ("dir/**", "dir/dir2/file", True),
    ("dir/**", "dir", False),  # a prefix test on "dir/"
    ("**/dir", "dir", True),
    ("**/dir", "dir/file", True),
    ("**/dir", "a/b/dir", True),
    ("**/dir2/*", "dir/dir2/file", True),
    ("**/dir2/**", "dir/dir2/dir3/file", True),
    ("**file", "file", True),
    ("**file", "dir/dir/file", True),
    # ** is whole directories (the docs, buildah 1.28 checked); not moby's newer bare suffix test
    ("**file", "dir/xfile", False),
    ("**file", "xfile", False),
    ("**.go", "main.go", False),
    ("**.go", "a/.go", True),
    ("**/file", "dir/xfile", False),
    ("**/file*", "dir/dir/file.txt", True),
    ("**/file*txt", "dir/dir/file.txt", True),
    ("**/**/*.txt", "dir/dir/file.txt", True),
    ("**/**/*.txt2", "dir/dir/file.txt", False),
    ("**/*.txt", "file.txt", True),
    ("**/**/*.txt", "file.txt", True),
    ("a**/*.txt", "a/file.txt", True),
    ("a**/*.txt", "a/dir/dir/file.txt", True),
    ("a/*.txt", "a/dir/file.txt", False),
    ("a/*.txt", "a/file.txt", True),
    ("a/*.txt**", "a/file.txt", True),
    ("a*", "ab/c", True),
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("a?b", "a/b", False),
    ("a*b", "a/b", False),
    ("a?b", "a☺b", True),
    ("a???b", "a☺b", False),
    ("a[b-d]e", "ace", True),
    ("a[b-d]e", "ae", False),
    ("a[b-d]e", "aae", False),
    ("a[^b-d]e", "aze", True),
    ("ab[^c]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a[!b]c", "a!c", True),  # Go's classes negate with ^ only: ! is a member
    ("a[!b]c", "axc", False),
    ("[a-ζ]*", "\u03b1", True),  # alpha
    ("*[a-ζ]", "A", False),
    ("[\\]a]", "]", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("a\\*b", "a*b", True),
    ("a\\*b", "ab", False),
    ("a\\\\", "a\\", True),
    (".*", ".foo", True),
    (".*", "foo", False),
    ("abc.def", "abc.def", True),
    ("abc.def", "abcZdef", False),
    ("abc?def", "abcZdef", True),
    ("abc/**", "abc", False),
    ("abc/**", "abc/def/ghi", True),
    ("**/.foo", ".foo", True),
    ("**/.foo", "bar.foo", False),
    ("a(b)c/def", "a(b)c/def", True),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
    # leading / and ./ stripped, filepath.Clean applied
    ("/node_modules", "node_modules/x/y.js", True),
    ("./node_modules", "node_modules/x/y.js", True),
    ("node_modules/", "node_modules/x/y.js", True),
    ("a//b/./c/../d", "a/b/d", True),
    ("a//b/./c/../d", "a/b/c", False),
    ("../secret", "secret", False),
    ("/", "anything", False),
    (".", "anything", False),
    # whitespace is trimmed; a # not in column 1 is part of the pattern
    ("   build   ", "build/out", True),
    (" #notes", "#notes", True),
]


@pytest.mark.parametrize(("pattern", "path", "excluded"), SINGLE)
def test_single_pattern(pattern: str, path: str, excluded: bool) -> None:
    assert parse_patterns([pattern]).excludes(path) is excluded


MULTI = [
    (["docs", "!docs/README.md"], "docs/README.md", False),
    (["docs", "!docs/README.md"], "docs/other.md", True),
    (["docs/", "!docs/README.md"], "docs/README.md", False),
    (["docs/*", "!docs/README.md"], "docs/README.md", False),
    (["*.go", "!fileutils.go"], "fileutils.go", False),
    (["!fileutils.go", "*.go"], "fileutils.go", True),  # order decides
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!dist/*.whl"], "dist/a-1.0-py3-none-any.whl", False),
    (["**", "!dist/*.whl"], "dist/a.tar.gz", True),
    # ! re-includes below an excluded directory, with ** too
    (["vendor", "!vendor/**/*.go"], "vendor/a/b/c.go", False),
    (["vendor", "!vendor/**/*.go"], "vendor/a/b/c.txt", True),
    (["*", "! keep.txt"], "keep.txt", False),  # space after ! is trimmed
    (["*", "!/keep.txt"], "keep.txt", False),  # leading / after ! is stripped too
    (["*", "!./keep.txt"], "keep.txt", False),
]


@pytest.mark.parametrize(("patterns", "path", "excluded"), MULTI)
def test_exceptions(patterns: list[str], path: str, excluded: bool) -> None:
    assert parse_patterns(patterns).excludes(path) is excluded


def test_the_context_root_is_never_excluded() -> None:
    rules = parse_patterns(["*", "**"])
    assert rules.excludes(".") is False
    assert rules.excludes("") is False


def test_paths_are_cleaned_before_matching() -> None:
    rules = parse_patterns(["build"])
    assert rules.excludes("./build/x") is True
    assert rules.excludes("build/") is True


def test_file_parsing_rules() -> None:
    text = "\ufeff# comment\n\n   \n  # not a comment\n!keep\r\nout\n"
    rules = parse_dockerignore(text, path="ctx/.dockerignore")
    assert rules.patterns == (Pattern("# not a comment"), Pattern("keep", True), Pattern("out"))
    assert [p.line for p in rules.patterns] == [4, 5, 6]
    assert rules.path == "ctx/.dockerignore"
    assert rules.has_exceptions
    assert not parse_dockerignore("a\nb\n").has_exceptions


def test_a_bom_is_dropped_only_on_the_first_line() -> None:
    assert parse_dockerignore("\ufeffa").patterns == (Pattern("a"),)
    assert parse_dockerignore("x\n\ufeffa").patterns == (Pattern("x"), Pattern("\ufeffa"))


def test_empty_file_excludes_nothing() -> None:
    rules = parse_dockerignore("")
    assert rules == IgnoreRules()
    assert rules.excludes("anything/at/all") is False


BAD = [
    ("!", ".dockerignore:2: '!' alone is not a pattern (expected !PATTERN, e.g. !README.md)"),
    ("  !  ", ".dockerignore:2: '!' alone is not a pattern (expected !PATTERN, e.g. !README.md)"),
    (
        "[",
        ".dockerignore:2: pattern '[' is not valid: a character class is not closed "
        "with ']' (expected [chars], [a-z] or [^chars])",
    ),
    (
        "a[bc",
        ".dockerignore:2: pattern 'a[bc' is not valid: a character class is not closed "
        "with ']' (expected [chars], [a-z] or [^chars])",
    ),
    (
        "[^",
        ".dockerignore:2: pattern '[^' is not valid: a character class is not closed "
        "with ']' (expected [chars], [a-z] or [^chars])",
    ),
    (
        "[]a]",
        ".dockerignore:2: pattern '[]a]' is not valid: a character class has a bare ']' "
        "(escape it: \\]) (expected [chars], [a-z] or [^chars])",
    ),
    (
        "[-x]",
        ".dockerignore:2: pattern '[-x]' is not valid: a character class has a bare '-' "
        "(escape it: \\-) (expected [chars], [a-z] or [^chars])",
    ),
    (
        "[x-]",
        ".dockerignore:2: pattern '[x-]' is not valid: a character class has a bare ']' "
        "(escape it: \\]) (expected [chars], [a-z] or [^chars])",
    ),
    (
        "[a-b-c]",
        ".dockerignore:2: pattern '[a-b-c]' is not valid: a character class has a bare '-' "
        "(escape it: \\-) (expected [chars], [a-z] or [^chars])",
    ),
    (
        "[z-a]",
        ".dockerignore:2: pattern '[z-a]' is not valid: the range z-a runs backwards "
        "(expected [chars], [a-z] or [^chars])",
    ),
    (
        "!src/x\\",
        ".dockerignore:2: pattern 'src/x\\' is not valid: it ends with an escaping '\\' "
        "(write '\\\\' for a backslash)",
    ),
]


@pytest.mark.parametrize(("line", "message"), BAD)
def test_refused_patterns(line: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_dockerignore(f"ok\n{line}\n")
    assert str(caught.value) == message


def test_a_pattern_built_by_hand_is_checked() -> None:
    with pytest.raises(InputError) as caught:
        Pattern("a[")
    assert str(caught.value) == (
        "pattern 'a[' is not valid: a character class is not closed with ']' "
        "(expected [chars], [a-z] or [^chars])"
    )


# Go's filepath.Clean, from its documentation and tests.
CLEAN = [
    ("", "."),
    (".", "."),
    ("abc", "abc"),
    ("abc/", "abc"),
    ("abc//def", "abc/def"),
    ("./abc", "abc"),
    ("abc/./def", "abc/def"),
    ("abc/../def", "def"),
    ("abc/def/..", "abc"),
    ("abc/..", "."),
    ("../abc", "../abc"),
    ("../../abc/..", "../.."),
    ("/../abc", "/abc"),
    ("/", "/"),
    ("//abc", "/abc"),
    ("///", "/"),
    ("abc/def/../../..", ".."),
]


@pytest.mark.parametrize(("path", "cleaned"), CLEAN)
def test_clean_path_is_gos_filepath_clean(path: str, cleaned: str) -> None:
    assert clean_path(path) == cleaned


REACH = [
    (["node_modules"], "node_modules", False),  # no exception at all
    (["node_modules", "!node_modules/keep"], "node_modules", True),
    (["node_modules", "!src/keep"], "node_modules", False),
    (["vendor", "!vendor/*/go.mod"], "vendor/a", True),
    (["vendor", "!vendor/a/go.mod"], "vendor/b", False),
    (["build", "!**/keep"], "build/deep", True),
    (["*", "!src"], "docs", False),
    (["*", "!src"], "src/a/b", True),  # the exception names an ancestor
]


@pytest.mark.parametrize(("patterns", "directory", "reachable"), REACH)
def test_may_include_below(patterns: list[str], directory: str, reachable: bool) -> None:
    assert parse_patterns(patterns).may_include_below(directory) is reachable


def test_may_include_below_agrees_with_excludes() -> None:
    # Whatever the walk would skip really holds nothing included.
    rules = parse_patterns(["*", "!src/*.go", "!docs/keep/**"])
    for directory, inner in [("bin", "bin/x.go"), ("src", "src/a.go"), ("docs", "docs/keep/a")]:
        if not rules.may_include_below(directory):
            assert rules.excludes(inner)
    assert rules.may_include_below("src") and not rules.excludes("src/a.go")
    assert rules.may_include_below("docs") and not rules.excludes("docs/keep/a")


# ---------------------------------------------------------------- properties

_PIECE = st.sampled_from(
    ["a", "b", "*", "**", "?", ".", "..", "", "x.go", "[a-c]", "[^z]", "\\*", "#", "!", " ", "-"]
)
_LINE = st.lists(_PIECE, min_size=1, max_size=5).map("/".join)
_PATH = st.lists(st.sampled_from(["a", "b", "x.go", "c", ".hidden", "a b"]), min_size=1, max_size=4)


def _parse_or_none(lines: list[str]) -> IgnoreRules | None:
    try:
        return parse_patterns(lines)
    except InputError:
        return None


@given(st.lists(st.one_of(_LINE, _LINE.map(lambda s: "!" + s)), max_size=6))
@example(lines=["!../../ /a"])  # cleaning eats the "!": a plain pattern " /a" (found by hypothesis)
@example(lines=["!./ /a"])  # an exception with a leading space: "./" goes after the "!"
@example(lines=["./!/a"])  # an exception with a leading slash: "./" goes before the "!"
def test_format_round_trips(lines: list[str]) -> None:
    rules = _parse_or_none(lines)
    if rules is None:
        return
    again = parse_dockerignore(str(rules))
    assert again == rules
    for p in rules.patterns:
        assert parse_patterns([format_pattern(p)]).patterns == (p,)


@given(st.lists(_LINE, min_size=1, max_size=4), _PATH)
def test_a_directory_excludes_its_contents(lines: list[str], parts: list[str]) -> None:
    # Without exceptions, an excluded directory excludes everything below it.
    rules = _parse_or_none(lines)
    if rules is None or len(parts) < 2:
        return
    parent = "/".join(parts[:-1])
    if rules.excludes(parent):
        assert rules.excludes("/".join(parts))


@given(st.lists(_LINE, max_size=4), _PATH)
def test_a_trailing_exception_for_the_path_includes_it(lines: list[str], parts: list[str]) -> None:
    path = "/".join(parts)
    rules = _parse_or_none([*lines, "!" + path.replace("\\", "\\\\")])
    if rules is not None and not any(c in path for c in "*?["):
        assert rules.excludes(path) is False
