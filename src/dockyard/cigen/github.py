"""The GitHub Actions workflow: plan -> one native build per target x platform -> merge.

    text = workflow(GithubSpec(project="fleet", directory="examples/fleet"))

Jobs, in order:

- `plan` prints the matrix (`dockyard ci matrix`: target x platform, each with
  its runner) and the repository owner in lower case (GHCR refuses capitals);
- `build`, one job per matrix entry on its native runner (qemu on the amd64
  runner for a platform without one): `dockyard build TARGET --platform P
  --push-by-digest STAGING --digest-dir digests`, then the digest file is
  uploaded under a name unique to the target and platform; on a pull request
  the same build runs without pushing and nothing is uploaded;
- `merge` (not on pull requests) downloads every digest file into one
  directory and runs `dockyard merge`, which verifies, writes each index,
  publishes it with the plan's tags, and writes the step summary and the
  `digests` / `tags` / `json` outputs.

Every job runs dockyard through the composite action (`spec.action`: `./`
in the repository that holds action.yml, else `OWNER/REPO@<40-hex sha>`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dockyard.cigen.matrix import ARTIFACT_PREFIX, DEFAULT_RUNNERS, HOST
from dockyard.cigen.pins import uses
from dockyard.errors import InputError
from dockyard.oci.auth.credentials.env import env_credential_names
from dockyard.ref import is_loopback_host

OWNER = "${{ needs.plan.outputs.owner }}"
DEFAULT_REGISTRY = f"ghcr.io/{OWNER}"
_SHA_REF = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}")


@dataclass(frozen=True)
class GithubSpec:
    project: str
    directory: str = "."  # where dockyard.toml is, relative to the repository root
    config: str = "dockyard.toml"  # its name there
    targets: tuple[str, ...] = ()  # empty: the config's default group
    registries: tuple[str, ...] = (DEFAULT_REGISTRY,)
    staging: str = ""  # default: <first registry>/<project>-staging
    runners: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RUNNERS))
    qemu: bool = False
    branch: str = "main"
    action: str = "./"
    version: str = ""  # dockyard's, for the pip cache key
    sign_env: str = ""  # [sign] key = "env:NAME": the merge job gets NAME from the secret NAME

    @property
    def staging_repository(self) -> str:
        return self.staging or f"{self.registries[0]}/{self.project}-staging"


def check_action(action: str) -> str:
    """`./path` or `owner/repo[/path]@<40-hex sha>`: a tag or branch could move under the workflow."""
    if action.startswith("./") or _SHA_REF.fullmatch(action):
        return action
    raise InputError(
        f"--action {action!r}: expected ./PATH or OWNER/REPO@<40-hex commit sha> "
        "(a tag or branch can be moved to other code)"
    )


_PLAIN = re.compile(r"[A-Za-z0-9_./$~][A-Za-z0-9_./$~={}()\-, :]*")
_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


def _q(text: str) -> str:
    """A YAML scalar: plain when it cannot be read as anything else, else double-quoted
    (JSON's string escaping is valid YAML)."""
    plain = (
        _PLAIN.fullmatch(text)
        and ": " not in text
        and " #" not in text
        and not text.endswith((" ", ":"))
        and text.lower() not in _WORDS
    )
    return text if plain else json.dumps(text)


def _logins(spec: GithubSpec) -> list[str]:
    """Job env lines: each registry host's DOCKYARD_REGISTRY_<HOST>_USER/_PASSWORD from secrets."""
    hosts = dict.fromkeys(r.split("/", 1)[0] for r in (*spec.registries, spec.staging_repository))
    lines = []
    for host in hosts:
        if "${{" in host or is_loopback_host(host):
            continue  # a loopback registry (tests, a local mirror) takes no login
        user, password = env_credential_names(host)
        if host == "ghcr.io":  # the workflow's own token, scoped by `permissions`
            lines += [
                f"{user}: ${{{{ github.actor }}}}",
                f"{password}: ${{{{ secrets.GITHUB_TOKEN }}}}",
            ]
        else:
            lines += [
                f"{user}: ${{{{ secrets.{user} }}}}",
                f"{password}: ${{{{ secrets.{password} }}}}",
            ]
    return lines


def _sign(spec: GithubSpec) -> list[str]:
    if not spec.sign_env:
        return []
    return [
        f"{spec.sign_env}: ${{{{ secrets.{spec.sign_env} }}}}  # [sign] key: merge signs before tags move"
    ]


def _indent(lines: Sequence[str], n: int) -> list[str]:
    return [" " * n + line if line else "" for line in lines]


def _checkout() -> list[str]:
    return [f"- uses: {uses('actions/checkout')}", "  with:", "    persist-credentials: false"]


def _pip_cache(spec: GithubSpec) -> list[str]:
    return [
        f"- uses: {uses('actions/cache')}",
        "  with:",
        "    path: ~/.cache/pip",
        f"    key: dockyard-pip-${{{{ runner.os }}}}-${{{{ runner.arch }}}}-{spec.version or 'dev'}",
    ]


def _action(
    spec: GithubSpec, name: str, step_id: str, inputs: Sequence[tuple[str, str]], when: str = ""
) -> list[str]:
    lines = [f"- name: {_q(name)}", f"  id: {step_id}"]
    if when:
        lines.append(f"  if: {when}")
    lines += [f"  uses: {spec.action}", "  with:"]
    lines += [f"    {key}: {_q(value)}" for key, value in inputs if value]
    return lines


def _path(spec: GithubSpec, rel: str) -> str:
    return rel if spec.directory in ("", ".") else f"{spec.directory.rstrip('/')}/{rel}"


def _common_inputs(spec: GithubSpec) -> list[tuple[str, str]]:
    inputs = [("working-directory", spec.directory if spec.directory not in ("", ".") else "")]
    if spec.config != "dockyard.toml":
        inputs.append(("args", f"-f {spec.config}"))
    return inputs


def _runner_args(spec: GithubSpec) -> str:
    args = [f"--runner {p}={label}" for p, label in spec.runners.items()]
    return " ".join([*args, *(["--qemu"] if spec.qemu else [])])


def _with_args(inputs: list[tuple[str, str]], extra: str) -> list[tuple[str, str]]:
    """Append `extra` to the `args` input (`-f FILE` may already be there)."""
    out = [(k, f"{v} {extra}" if k == "args" else v) for k, v in inputs]
    return out if any(k == "args" for k, _ in inputs) else [*out, ("args", extra)]


def workflow(spec: GithubSpec) -> str:
    check_action(spec.action)
    if HOST not in spec.runners:
        raise InputError(f"--runner: no runner for {HOST}, where other platforms are emulated")
    common = _common_inputs(spec)
    targets = " ".join(spec.targets)
    logins = _logins(spec)
    head = [
        f"# Generated by `dockyard ci github` from {_path(spec, spec.config)}: regenerate it, do not edit.",
        "# plan -> one build per target x platform on its native runner (push by digest) -> merge.",
        "name: dockyard",
        "",
        "on:",
        "  push:",
        f"    branches: [{_q(spec.branch)}]",
        '    tags: ["v*.*.*"]',
        "  pull_request:  # builds every target and platform, pushes nothing",
        "  workflow_dispatch:",
        "",
        "# Least privilege: read the repository; build and merge add packages: write (they push).",
        "# No id-token: dockyard signs with the key in [sign] (a secret), not keyless OIDC.",
        "permissions:",
        "  contents: read",
        "",
        "# One run per ref at a time; a newer push cancels an older pull-request run, never a release.",
        "concurrency:",
        "  group: dockyard-${{ github.ref }}",
        "  cancel-in-progress: ${{ github.event_name == 'pull_request' }}",
        "",
        "jobs:",
    ]
    plan = [
        "plan:",
        f"  runs-on: {spec.runners[HOST]}",
        "  outputs:",
        "    matrix: ${{ steps.matrix.outputs.json }}",
        "    owner: ${{ steps.owner.outputs.owner }}",
        "  steps:",
        *_indent(_checkout(), 4),
        "    - name: Repository owner in lower case (registry paths must be)",
        "      id: owner",
        '      run: echo "owner=${GITHUB_REPOSITORY_OWNER,,}" >> "$GITHUB_OUTPUT"',
        *_indent(_pip_cache(spec), 4),
        *_indent(
            _action(spec, "Matrix: target x platform, each on its runner", "matrix",
                    [("command", "ci matrix"), ("targets", targets),
                     *_with_args(common, _runner_args(spec))]),
            4,
        ),
    ]  # fmt: skip
    digests = _path(spec, "digests")
    build_inputs = [
        ("command", "build"),
        ("targets", "${{ matrix.target }}"),
        ("platforms", "${{ matrix.platform }}"),
        ("qemu", "${{ matrix.qemu }}"),
    ]
    build = [
        "build:",
        "  name: build ${{ matrix.target }} ${{ matrix.platform }}",
        "  needs: plan",
        "  runs-on: ${{ matrix.runner }}",
        "  strategy:",
        "    fail-fast: false",
        "    matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}",
        "  permissions:",
        "    contents: read",
        "    packages: write  # push by digest to the staging repository",
        "  env:",
        f"    STAGING: {_q(spec.staging_repository)}",
        *_indent(logins, 4),
        "  steps:",
        *_indent(_checkout(), 4),
        *_indent(_pip_cache(spec), 4),
        "    # This target and platform's layout from an earlier attempt of this commit: a re-run skips",
        "    # the build (its inputs hash the same; the build args carry the commit, so another rebuilds).",
        f"    - uses: {uses('actions/cache')}",
        "      with:",
        f"        path: {_path(spec, 'dist/oci/${{ matrix.target }}')}",
        "        key: dockyard-oci-${{ matrix.artifact }}-${{ github.sha }}",
        *_indent(
            _action(spec, "Build (pull request: nothing pushed)", "build-only", [*build_inputs, *common],
                    when="github.event_name == 'pull_request'"),
            4,
        ),
        *_indent(
            _action(spec, "Build and push by digest", "build",
                    [*build_inputs, *_with_args(common, "--push-by-digest ${{ env.STAGING }} --digest-dir digests")],
                    when="github.event_name != 'pull_request'"),
            4,
        ),
        "    - name: Upload the digest file",
        "      if: github.event_name != 'pull_request'",
        f"      uses: {uses('actions/upload-artifact')}",
        "      with:",
        "        name: ${{ matrix.artifact }}  # unique per target and platform",
        f"        path: {digests}/",
        "        if-no-files-found: error",
        "        retention-days: 1",
    ]  # fmt: skip
    merge = [
        "merge:",
        "  needs: [plan, build]",
        "  if: github.event_name != 'pull_request'",
        f"  runs-on: {spec.runners[HOST]}",
        "  permissions:",
        "    contents: read",
        "    packages: write  # publish the indexes and move the tags",
        *(["  env:", *_indent(logins + _sign(spec), 4)] if logins or spec.sign_env else []),
        "  outputs:",
        "    digests: ${{ steps.merge.outputs.digests }}",
        "    tags: ${{ steps.merge.outputs.tags }}",
        "  steps:",
        *_indent(_checkout(), 4),
        *_indent(_pip_cache(spec), 4),
        "    - name: Download every digest file into one directory",
        f"      uses: {uses('actions/download-artifact')}",
        "      with:",
        f"        pattern: {ARTIFACT_PREFIX}*",
        "        merge-multiple: true",
        f"        path: {digests}",
        *_indent(
            _action(spec, "Merge: verify, write each index, publish with the plan's tags", "merge",
                    [("command", "merge"), ("targets", targets),
                     ("registries", " ".join(spec.registries)),
                     *_with_args(common, "--digest-dir digests")]),
            4,
        ),
    ]  # fmt: skip
    lines = [*head, *_indent(plan, 2), "", *_indent(build, 2), "", *_indent(merge, 2)]
    return "\n".join(lines) + "\n"
