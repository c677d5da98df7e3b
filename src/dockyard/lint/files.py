"""The file-system edge of `dockyard lint`: which Dockerfiles, read them, run the rules.

With no Dockerfile named, every target of dockyard.toml is linted with its
own build args (so a base named through an ARG is checked as it will be
built). hadolint's findings are merged in when it is installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard.bake.project import load_project
from dockyard.errors import InputError
from dockyard.findings import Finding
from dockyard.lint.hadolint import find_hadolint, run_hadolint
from dockyard.lint.rules import LintReport, filter_ignored, lint_text

__all__ = ["lint_files"]


@dataclass(frozen=True)
class _Job:
    path: Path  # absolute
    shown: str  # as the user would type it
    args: Mapping[str, str]


def lint_files(
    dockerfiles: Sequence[Path] = (),
    *,
    config_file: Path | None = None,
    bake_files: Sequence[Path] = (),
    overrides: Sequence[str] = (),
    ignore: frozenset[str] = frozenset(),
    hadolint: bool = True,
    cwd: Path | None = None,
) -> LintReport:
    """Lint these Dockerfiles, or with none every target's Dockerfile of the config (dockyard.toml
    and/or the bake files, with their `--set` overrides, as plan reads them).

    `hadolint=False` skips hadolint even when it is installed. InputError when
    a Dockerfile cannot be read or parsed, or the config is wrong.
    """
    cwd = Path(os.path.abspath(cwd if cwd is not None else Path.cwd()))
    jobs = _jobs(
        dockerfiles, cwd, config_file=config_file, bake_files=bake_files, overrides=overrides
    )
    executable = find_hadolint() if hadolint else None
    findings: list[Finding] = []
    texts: dict[Path, str] = {}
    for job in jobs:
        text = texts.setdefault(job.path, _read(job))
        findings.extend(lint_text(text, path=job.shown, args=job.args))
    if executable is not None:
        for job in _unique_paths(jobs):
            findings.extend(
                run_hadolint(
                    texts[job.path], path=job.shown, executable=executable, cwd=job.path.parent
                )
            )
    kept = filter_ignored(dict.fromkeys(findings), ignore)  # one target's args may repeat another's
    return LintReport(
        findings=tuple(sorted(kept, key=_order)),
        files=tuple(j.shown for j in _unique_paths(jobs)),
        hadolint=executable,
        ignored=tuple(sorted(ignore)),
    )


def _order(finding: Finding) -> tuple[str, int, str]:
    return (finding.path, int(finding.detail.get("line", 0)), finding.rule)


def _jobs(
    dockerfiles: Sequence[Path],
    cwd: Path,
    *,
    config_file: Path | None,
    bake_files: Sequence[Path],
    overrides: Sequence[str],
) -> list[_Job]:
    """Named Dockerfiles get the args of the config's target using them, when -f is given."""
    targets = []
    if config_file is not None or bake_files or not dockerfiles:
        project = load_project(
            config_file=config_file, bake_files=bake_files, overrides=overrides, cwd=cwd
        )
        targets = list(project.targets.values())
    if not dockerfiles:
        return [_Job(t.dockerfile, _shown(t.dockerfile, cwd), dict(t.args)) for t in targets]
    args = {}
    for t in reversed(targets):  # the first target naming a Dockerfile wins
        args[t.dockerfile] = dict(t.args)
    paths = [_absolute(d, cwd) for d in dockerfiles]
    return [_Job(p, _shown(p, cwd), args.get(p, {})) for p in paths]


def _unique_paths(jobs: Iterable[_Job]) -> list[_Job]:
    first: dict[Path, _Job] = {}
    for job in jobs:
        first.setdefault(job.path, job)
    return list(first.values())


def _absolute(path: Path, cwd: Path) -> Path:
    return Path(os.path.abspath(cwd / path))


def _shown(path: Path, cwd: Path) -> str:
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def _read(job: _Job) -> str:
    try:
        return job.path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{job.shown}: file not found (give the path of a Dockerfile)") from None
    except IsADirectoryError:
        raise InputError(f"{job.shown}: is a directory (give the path of a Dockerfile)") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{job.shown}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{job.shown}: cannot be read ({exc.strerror})") from None
