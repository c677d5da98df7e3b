"""`dockyard load TARGET|REF`: one platform's image into a local engine (podman or Docker).

    with Workspace(Settings(ref="refs/tags/v1.2.0")) as ws:
        result = load(ws, "api", engine="docker")          # dist/oci/api, the plan's tags
        result = load(ws, "ghcr.io/acme/api:1.2.0")         # a registry image, its own tag

TARGET is a target of dockyard.toml: its built layout (`<output>/oci/<target>`,
the index of the plan's version), loaded under every tag the plan gives it
(`registry/image:tag`, or `image:tag` without registries). REF is
`oci:DIR[:TAG]` or a registry reference (loaded under its own tag). One
platform is loaded (default: this host's), written as a docker-archive
(oci/dockersave.py) and handed to `podman load` / `docker load`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dockyard.builder.engines import DEFAULT_ENGINE, engine_command, load_archive
from dockyard.builder.jobrules import layout_tag
from dockyard.digest import Digest
from dockyard.errors import InputError
from dockyard.evidence.sbom.generate import platform_images
from dockyard.oci.dockersave import write_docker_archive
from dockyard.oci.layout import LayoutStore
from dockyard.platform import Platform, host_platform, parse_platform
from dockyard.ref import LayoutRef, Reference, parse_location
from dockyard.workspace import Workspace


@dataclass(frozen=True)
class LoadResult:
    engine: str
    source: str  # what was loaded: "oci:dist/oci/api:1.2.0" or the registry reference
    platform: Platform
    manifest: Digest  # the platform image's manifest
    image_id: Digest  # its config's digest: the image id both engines show
    tags: tuple[str, ...]
    said: str  # the engine's own last line ("Loaded image: …")

    def to_json(self) -> dict:
        return {
            "engine": self.engine,
            "source": self.source,
            "platform": str(self.platform),
            "manifest": str(self.manifest),
            "image_id": str(self.image_id),
            "tags": list(self.tags),
        }


def load(
    ws: Workspace,
    what: str,
    *,
    engine: str = DEFAULT_ENGINE,
    platform: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> LoadResult:
    """Load `what`'s image for `platform` into `engine` (see the module docstring)."""
    say = progress or (lambda _: None)
    engine_command(engine)  # an unknown engine is bad input, before anything is read
    wanted = parse_platform(platform) if platform else host_platform()
    source, tags = _source(ws, what)
    store, reference = ws.open(source)
    (image,) = platform_images(store, reference, platform=wanted, where=str(source))
    with tempfile.TemporaryDirectory(prefix="dockyard-load-") as tmp:
        archive = Path(tmp) / "image.tar"
        say(f"{image.platform}: writing {image.descriptor.digest} as a docker-archive")
        write_docker_archive(store, image.manifest, archive, repo_tags=tags)
        say(f"{engine} load ({', '.join(tags) or 'untagged'})")
        said = load_archive(engine, archive)
    return LoadResult(
        engine=engine,
        source=str(source),
        platform=image.platform,
        manifest=image.descriptor.digest,
        image_id=image.manifest.config.digest,
        tags=tags,
        said=said,
    )


def _source(ws: Workspace, what: str) -> tuple[Reference | LayoutRef, tuple[str, ...]]:
    """The location to read and the tags to load it under."""
    targets = ws.config.targets if _looks_like_target(what) else {}
    if what in targets:
        plan = ws.plan
        target = next((t for t in plan.targets if t.name == what), None)
        if target is None:  # a target left out by --target/--platform selection
            raise InputError(f"target '{what}' is not in the plan")
        layout = ws.settings.output / "oci" / what
        tag = layout_tag(plan.version)
        if not (layout / "index.json").exists() or tag not in LayoutStore(layout).tag_list():
            raise InputError(
                f"target '{what}': no image for version {plan.version} in {layout} "
                "(run dockyard build first, with the same --ref/--sha)"
            )
        return LayoutRef(str(layout), tag), target.shown_tags()
    if _looks_like_target(what):
        valid = ", ".join(ws.config.targets) or "none"
        raise InputError(
            f"'{what}' is neither a target of the config (targets: {valid}) nor a reference "
            "(oci:DIR[:TAG] or host/repo:tag)"
        )
    parsed = parse_location(what)
    if isinstance(parsed, LayoutRef):
        name = f"localhost/{Path(parsed.path).name}:{parsed.tag or 'latest'}"
        return parsed, (name,)
    return parsed, ((f"{parsed.name}:{parsed.tag}",) if parsed.tag else ())


def _looks_like_target(what: str) -> bool:
    """A bare name (`api`): no registry, no layout, no tag; references always have one of them."""
    return not what.startswith("oci:") and "/" not in what and ":" not in what and "@" not in what
