"""Git context: real temporary repositories and fake GitHub Actions environments."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from dockyard.context import GitContext
from dockyard.errors import InputError
from dockyard.gitinfo import detect, normalize_ref, normalize_sha, normalize_timestamp

# The committer date every test commit gets: 10:00 UTC.
COMMIT_DATE = "2024-03-01T12:00:00+02:00"
COMMIT_UTC = "2024-03-01T10:00:00Z"


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No repository above tmp_path, no user or system config can change what git answers.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def git(repo: Path, *args: str, date: str = COMMIT_DATE) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    proc = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "commit", "-q", "--allow-empty", "-m", "first")
    return path


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


# -- outside git -----------------------------------------------------------------------


def test_outside_git_is_an_empty_context(tmp_path: Path):
    context = detect(env={}, cwd=tmp_path)
    assert context == GitContext()
    assert not context.known


def test_git_missing_is_like_outside_git(repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert detect(env={}, cwd=repo) == GitContext()


def test_repository_without_commits_is_like_outside_git(tmp_path: Path):
    git(tmp_path, "init", "-q", "-b", "main")
    assert detect(env={}, cwd=tmp_path) == GitContext()


def test_outside_git_with_flags(tmp_path: Path):
    context = detect(env={}, cwd=tmp_path, ref="v1.2.3", sha="ABCDEF1", event="tag")
    assert (context.event, context.ref, context.sha, context.timestamp) == (
        "push",
        "refs/tags/v1.2.3",
        "abcdef1",
        "",
    )
    assert context.known


# -- local git -------------------------------------------------------------------------


def test_branch_head(repo: Path):
    context = detect(env={}, cwd=repo)
    assert context == GitContext(
        event="push",
        ref="refs/heads/main",
        sha=head(repo),
        default_branch="main",
        timestamp=COMMIT_UTC,
    )
    assert context.branch == "main" and context.known


def test_works_from_a_subdirectory(repo: Path):
    (repo / "services" / "api").mkdir(parents=True)
    assert detect(env={}, cwd=repo / "services" / "api").ref == "refs/heads/main"


def test_feature_branch_default_is_main(repo: Path):
    git(repo, "switch", "-q", "-c", "feature/x")
    git(repo, "commit", "-q", "--allow-empty", "-m", "second", date="2024-03-02T00:00:00Z")
    context = detect(env={}, cwd=repo)
    assert (context.ref, context.default_branch, context.timestamp) == (
        "refs/heads/feature/x",
        "main",
        "2024-03-02T00:00:00Z",
    )


def test_default_branch_master(tmp_path: Path):
    git(tmp_path, "init", "-q", "-b", "master")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "first")
    git(tmp_path, "switch", "-q", "-c", "dev")
    assert detect(env={}, cwd=tmp_path).default_branch == "master"


def test_default_branch_is_current_without_main_or_master(tmp_path: Path):
    git(tmp_path, "init", "-q", "-b", "trunk")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "first")
    assert detect(env={}, cwd=tmp_path).default_branch == "trunk"


def test_default_branch_from_origin_head(repo: Path):
    git(repo, "update-ref", "refs/remotes/origin/develop", "HEAD")
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/develop")
    assert detect(env={}, cwd=repo).default_branch == "develop"


@pytest.mark.parametrize(
    ("url", "repository", "server"),
    [
        ("git@github.com:acme/fleet.git", "acme/fleet", "https://github.com"),
        ("https://github.com/acme/fleet", "acme/fleet", "https://github.com"),
        ("https://user@gitlab.example.com/acme/fleet.git", "acme/fleet", "https://gitlab.example.com"),
        ("ssh://git@git.example.com:2222/acme/fleet.git", "acme/fleet", "https://git.example.com"),
        ("/srv/git/fleet.git", "", "https://github.com"),
    ],
)
def test_repository_from_origin(repo: Path, url, repository, server):
    git(repo, "remote", "add", "origin", url)
    context = detect(env={}, cwd=repo)
    assert (context.repository, context.server_url) == (repository, server)


def test_detached_tag(repo: Path):
    git(repo, "tag", "v1.2.3")
    git(repo, "switch", "-q", "--detach", "HEAD")
    context = detect(env={}, cwd=repo)
    assert (context.event, context.ref, context.tag) == ("push", "refs/tags/v1.2.3", "v1.2.3")
    assert context.default_branch == "main"


def test_detached_annotated_tag(repo: Path):
    git(repo, "tag", "-a", "-m", "release", "v2.0.0")
    git(repo, "switch", "-q", "--detach", "HEAD")
    context = detect(env={}, cwd=repo)
    assert (context.ref, context.sha) == ("refs/tags/v2.0.0", head(repo))


@pytest.mark.parametrize(
    ("tags", "chosen"),
    [
        (["latest", "v1.2.3"], "v1.2.3"),
        (["v1.9.0", "v1.10.0", "v1.2.3"], "v1.10.0"),
        (["v2.0.0-rc.1", "v2.0.0"], "v2.0.0"),
        (["v2.0.0-rc.2", "v2.0.0-rc.10"], "v2.0.0-rc.10"),
        (["1.0.0", "v1.0.0"], "v1.0.0"),
        (["zeta", "alpha"], "alpha"),
    ],
)
def test_several_tags_prefer_the_highest_semver(repo: Path, tags, chosen):
    for tag in tags:
        git(repo, "tag", tag)
    git(repo, "switch", "-q", "--detach", "HEAD")
    assert detect(env={}, cwd=repo).ref == f"refs/tags/{chosen}"


def test_branch_wins_over_tag_unless_event_tag(repo: Path):
    git(repo, "tag", "v1.2.3")
    assert detect(env={}, cwd=repo).ref == "refs/heads/main"
    context = detect(env={}, cwd=repo, event="tag")
    assert (context.event, context.ref) == ("push", "refs/tags/v1.2.3")


def test_event_tag_without_a_tag_is_refused(repo: Path):
    with pytest.raises(InputError) as info:
        detect(env={}, cwd=repo, event="tag")
    assert str(info.value) == (
        f"--event tag: no tag points at HEAD ({head(repo)[:7]}) "
        "(create one with git tag, or pass --ref refs/tags/NAME)"
    )


def test_detached_untagged_has_sha_only(repo: Path):
    git(repo, "switch", "-q", "--detach", "HEAD")
    context = detect(env={}, cwd=repo)
    assert (context.ref, context.sha, context.known) == ("", head(repo), True)


def test_flags_override_local_git(repo: Path):
    first = head(repo)
    git(repo, "commit", "-q", "--allow-empty", "-m", "second", date="2024-04-01T00:00:00Z")
    context = detect(env={}, cwd=repo, ref="release/1.x", sha=first[:7], event="workflow_dispatch")
    assert (context.event, context.ref, context.sha, context.timestamp) == (
        "workflow_dispatch",
        "refs/heads/release/1.x",
        first,  # expanded: the repository knows the commit
        COMMIT_UTC,  # and its time, not HEAD's
    )
    assert context.default_branch == "main"


def test_sha_flag_of_head_keeps_full_sha_and_time(repo: Path):
    context = detect(env={}, cwd=repo, sha=head(repo)[:10].upper())
    assert (context.sha, context.timestamp) == (head(repo), COMMIT_UTC)


def test_sha_flag_unknown_to_the_repository(repo: Path):
    context = detect(env={}, cwd=repo, sha="deadbeef")
    assert (context.sha, context.timestamp, context.ref) == ("deadbeef", "", "refs/heads/main")


# -- GitHub Actions ----------------------------------------------------------------------


def github_env(tmp_path: Path, payload: object | None = None, **extra: str) -> dict[str, str]:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_REF": "refs/tags/v1.2.3",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
        "GITHUB_REPOSITORY": "acme/fleet",
        "GITHUB_SERVER_URL": "https://github.example.com",
    }
    if payload is not None:
        path = tmp_path / "event.json"
        path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
        env["GITHUB_EVENT_PATH"] = str(path)
    env.update(extra)
    return env


PUSH_PAYLOAD = {
    "repository": {"default_branch": "trunk"},
    "head_commit": {"timestamp": "2024-05-06T09:08:07-07:00"},
}


def test_github_push(tmp_path: Path):
    context = detect(env=github_env(tmp_path, PUSH_PAYLOAD), cwd=tmp_path)
    assert context == GitContext(
        event="push",
        ref="refs/tags/v1.2.3",
        sha="0123456789abcdef0123456789abcdef01234567",
        default_branch="trunk",
        timestamp="2024-05-06T16:08:07Z",
        repository="acme/fleet",
        server_url="https://github.example.com",
    )
    assert context.payload == PUSH_PAYLOAD


def test_github_pull_request_without_timestamp(tmp_path: Path):
    payload = {"repository": {"default_branch": "main"}, "pull_request": {"number": 7}}
    env = github_env(tmp_path, payload, GITHUB_EVENT_NAME="pull_request", GITHUB_REF="refs/pull/7/merge")
    context = detect(env=env, cwd=tmp_path)
    assert (context.event, context.ref, context.timestamp, context.default_branch) == (
        "pull_request",
        "refs/pull/7/merge",
        "",
        "main",
    )
    assert context.payload["pull_request"]["number"] == 7


def test_github_event_name_alone_means_actions(tmp_path: Path):
    env = {"GITHUB_EVENT_NAME": "schedule", "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": "abc1234"}
    context = detect(env=env, cwd=tmp_path)
    assert (context.event, context.ref, context.sha, context.server_url, context.payload) == (
        "schedule",
        "refs/heads/main",
        "abc1234",
        "https://github.com",
        {},
    )


def test_github_falls_back_to_the_checkout(repo: Path, tmp_path: Path):
    # A payload without repository or head_commit: default branch and time from the checkout.
    env = github_env(tmp_path, {}, GITHUB_SHA=head(repo), GITHUB_EVENT_NAME="workflow_dispatch")
    context = detect(env=env, cwd=repo)
    assert (context.default_branch, context.timestamp) == ("main", COMMIT_UTC)


def test_github_ignores_local_git_for_ref(repo: Path, tmp_path: Path):
    context = detect(env=github_env(tmp_path, PUSH_PAYLOAD), cwd=repo)
    assert context.ref == "refs/tags/v1.2.3"


def test_flags_override_github(tmp_path: Path):
    env = github_env(tmp_path, PUSH_PAYLOAD)
    context = detect(env=env, cwd=tmp_path, ref="main", sha="FEDCBA9", event="schedule")
    assert (context.event, context.ref, context.sha, context.repository) == (
        "schedule",
        "refs/heads/main",
        "fedcba9",
        "acme/fleet",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the event payload (No such file or directory)"),
        ("{not json", "not valid JSON at line 1 column 2 (Expecting property name enclosed in double quotes; expected the event payload GitHub writes)"),
        ("[1, 2]", "expected a JSON object (the event payload), got list"),
    ],
)
def test_github_bad_payload(tmp_path: Path, content, message):
    path = tmp_path / "event.json"
    if content is not None:
        path.write_text(content)
    env = github_env(tmp_path, GITHUB_EVENT_PATH=str(path))
    with pytest.raises(InputError) as info:
        detect(env=env, cwd=tmp_path)
    assert str(info.value) == f"GITHUB_EVENT_PATH {path}: {message}"


# -- flag normalisation (pure) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("main", "refs/heads/main"),
        ("feature/login", "refs/heads/feature/login"),
        ("v1.2.3", "refs/tags/v1.2.3"),
        ("1.2", "refs/tags/1.2"),
        ("v1.2.3-rc.1", "refs/tags/v1.2.3-rc.1"),
        ("1.2.3+build.5", "refs/tags/1.2.3+build.5"),
        ("v1", "refs/heads/v1"),
        ("release-1.2", "refs/heads/release-1.2"),
        ("refs/heads/main", "refs/heads/main"),
        ("refs/tags/latest", "refs/tags/latest"),
        ("refs/pull/7/merge", "refs/pull/7/merge"),
        ("tags/nightly", "refs/tags/nightly"),
        ("heads/1.2.3", "refs/heads/1.2.3"),
        ("pull/7/merge", "refs/pull/7/merge"),
    ],
)
def test_normalize_ref(text, ref):
    assert normalize_ref(text) == ref


@pytest.mark.parametrize(
    "text", ["", "a b", "a..b", "refs/heads/", "refs/x", "-main", "/main", "a~1", "x.lock", "a:b"]
)
def test_normalize_ref_refuses(text):
    with pytest.raises(InputError) as info:
        normalize_ref(text)
    assert str(info.value) == (
        f"--ref {text!r} is not a git ref "
        "(expected a branch, a tag or a full ref, e.g. main, v1.2.3 or refs/pull/7/merge)"
    )


@pytest.mark.parametrize("text", ["xyz1234", "abc", "a" * 65, "abc 123"])
def test_normalize_sha_refuses(text):
    with pytest.raises(InputError) as info:
        normalize_sha(text)
    assert str(info.value) == (
        f"--sha {text!r} is not a commit SHA (expected 7 to 64 hex digits, e.g. 3f2c1ab)"
    )


@pytest.mark.parametrize("event", ["Push", "pull-request", "", "tag!"])
def test_event_refused(tmp_path: Path, event):
    with pytest.raises(InputError) as info:
        detect(env={}, cwd=tmp_path, event=event)
    assert str(info.value) == (
        f"--event {event!r} is not an event name (expected a GitHub event name such as "
        "push, pull_request, schedule or workflow_dispatch, or 'tag')"
    )


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2024-03-01T12:00:00+02:00", "2024-03-01T10:00:00Z"),
        ("2024-03-01T12:00:00Z", "2024-03-01T12:00:00Z"),
        ("2024-03-01T12:00:00", "2024-03-01T12:00:00Z"),
        ("2024-03-01T23:30:00-01:00", "2024-03-02T00:30:00Z"),
        ("yesterday", ""),
    ],
)
def test_normalize_timestamp(text, utc):
    assert normalize_timestamp(text) == utc
