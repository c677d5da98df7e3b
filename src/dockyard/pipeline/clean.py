"""`dockyard clean`: remove what builds left behind: dist/ layouts and logs, builder images.

    result = clean(ws, all_images=False, dry_run=True)   # what would go
    result.paths, result.images

What goes, and only that (a wrong --output never costs a user's own files):
- `OUTPUT/oci/<name>` directories that are OCI layouts (hold an `oci-layout`
  file) and `OUTPUT/logs/*.log`; then those directories and OUTPUT itself when
  left empty;
- the builder's `localhost/dockyard/<target>-<platform>` images of this
  project's targets (every image under `localhost/dockyard/` with
  `all_images`): removing them drops the intermediate images only they kept,
  which is the builder's layer cache for them (the seeds' `container-clean`
  and cache prune). Base images and a user's own images are never touched.
Registry caches (`cache-to`) live in registries and are not cleaned here.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.builder.backends import get_backend
from dockyard.config.model import Config, chosen_builder
from dockyard.errors import InputError, OperationError
from dockyard.workspace import Workspace


@dataclass
class CleanResult:
    dry_run: bool
    paths: list[str] = field(default_factory=list)  # removed (or to remove), as given
    images: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "ok": True,
            "dry_run": self.dry_run,
            "paths": self.paths,
            "images": self.images,
            "notes": self.notes,
        }


def clean(ws: Workspace, *, all_images: bool = False, dry_run: bool = False) -> CleanResult:
    """Remove (or, with `dry_run`, list) dockyard's outputs and builder images."""
    result = CleanResult(dry_run=dry_run)
    output = ws.cwd / ws.settings.output
    result.paths = [_shown(p, ws.cwd) for p in _outputs(output)]
    config = _config(ws, required=not all_images)
    backend = get_backend(chosen_builder(ws.settings.builder, config and config.project))
    if not hasattr(backend, "local_images"):
        result.notes.append(
            f"the {backend.name} builder keeps its own cache: prune it with its own tool"
        )
    else:
        result.images = backend.local_images(None if all_images else _job_keys(config))
    if dry_run:
        return result
    for path in _outputs(output):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    for directory in (output / "oci", output / "logs", output):
        _remove_if_empty(directory)
    if result.images:
        backend.remove_local_images(result.images)
    return result


def _outputs(output: Path) -> list[Path]:
    """What dockyard wrote under OUTPUT: layouts and logs, nothing it cannot recognise."""
    if output.exists() and not output.is_dir():
        raise InputError(f"--output {output}: not a directory")
    found: list[Path] = []
    layouts = output / "oci"
    if layouts.is_dir() and not layouts.is_symlink():
        found += sorted(
            p for p in layouts.iterdir()
            if p.is_dir() and not p.is_symlink() and (p / "oci-layout").is_file()
        )  # fmt: skip
    logs = output / "logs"
    if logs.is_dir() and not logs.is_symlink():
        found += sorted(p for p in logs.glob("*.log") if p.is_file() and not p.is_symlink())
    return found


def _config(ws: Workspace, *, required: bool) -> Config | None:
    """The project's config; without one, --all still works (it needs no target names)."""
    try:
        return ws.config
    except InputError as exc:
        if required:
            raise InputError(f"{exc}, or use --all to remove every dockyard builder image") from None
        return None


def _job_keys(config: Config) -> list[str]:
    """Every (target, platform) image name this project's builds give, whatever is selected
    now: a target built last week for a platform since dropped still has its image."""
    return [
        f"{name}-{platform.slug}"
        for name, target in config.targets.items()
        for platform in target.platforms
    ]


def _remove_if_empty(directory: Path) -> None:
    try:
        os.rmdir(directory)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if not directory.is_dir() or any(directory.iterdir()):
            return  # not empty: the user's own files stay
        raise OperationError(f"cannot remove {directory}: {exc.strerror}") from None


def _shown(path: Path, cwd: Path) -> str:
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)
