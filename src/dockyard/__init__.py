"""dockyard: build, verify and publish multi-architecture container images.

The Python API, for programs that drive dockyard without its command line:

    from dockyard import Settings, Workspace, release

    settings = Settings(config_file=Path("dockyard.toml"), registries=("ghcr.io/acme",))
    with Workspace(settings) as ws:
        result = release(ws, dry_run=True)
    print(result.ok, result.error)

A Workspace turns Settings into the config, the plan, one registry client
and the builder; the drivers (build, release, merge, build_push_by_digest,
copy_location, verify_location, retain_repository, scan_location, sign_location,
sbom_location) each take one. The stages and values they are made of are
exported too: the plan, build_plan, verify_image, copy_image, retain, the
stores, references, platforms, digests, the tag engine, the config and the
error tree (`dockyard.errors`).
A name is never that of a subpackage (`dockyard.verify`, `dockyard.publish`
are packages), so the publish stage itself is `dockyard.publish.publish.publish`.

Every name is imported on first use (PEP 562): `import dockyard` costs
nothing, changes nothing in the host process, and the command line, which
imports this package first, pays only for what a command needs.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> the module that defines it: the one list of the public API.
_EXPORTS = {
    # the workspace and the drivers
    "Settings": "dockyard.workspace",
    "Workspace": "dockyard.workspace",
    "build": "dockyard.pipeline.build",
    "release": "dockyard.pipeline.release",
    "ReleaseResult": "dockyard.pipeline.release",
    "merge": "dockyard.pipeline.merge",
    "MergeResult": "dockyard.pipeline.merge",
    "build_push_by_digest": "dockyard.pipeline.fanout",
    "FanoutBuild": "dockyard.pipeline.fanout",
    "copy_location": "dockyard.pipeline.locations",
    "verify_location": "dockyard.pipeline.locations",
    "retain_repository": "dockyard.pipeline.locations",
    "scan_location": "dockyard.pipeline.scan",
    "ScanResult": "dockyard.evidence.scan.result",
    "sign_location": "dockyard.pipeline.sign",
    "SignResult": "dockyard.pipeline.sign",
    "sbom_location": "dockyard.pipeline.sbom",
    "SbomResult": "dockyard.pipeline.sbom",
    # the plan
    "Plan": "dockyard.plan.model",
    "TargetPlan": "dockyard.plan.model",
    "Job": "dockyard.plan.model",
    "make_plan": "dockyard.plan.model",
    "plan_from_config": "dockyard.plan.load",
    "plan_from_files": "dockyard.plan.load",
    # the stages
    "build_plan": "dockyard.builder.run",
    "BuildResult": "dockyard.builder.result",
    "get_backend": "dockyard.builder.backends",
    "verify_image": "dockyard.verify.image",
    "VerifyOptions": "dockyard.verify.image",
    "Report": "dockyard.verify.report",
    "PublishItem": "dockyard.publish.model",
    "PublishResult": "dockyard.publish.model",
    "retain": "dockyard.publish.retain",
    "RetainResult": "dockyard.publish.retain",
    "copy_image": "dockyard.oci.copy",
    "CopyResult": "dockyard.oci.copyresult",
    # stores
    "Store": "dockyard.oci.store",
    "LayoutStore": "dockyard.oci.layout",
    "RegistryClient": "dockyard.oci.registry",
    "RegistryOptions": "dockyard.oci.session",
    "RetryPolicy": "dockyard.oci.retry",
    "open_location": "dockyard.oci.open",
    # references, platforms, digests
    "Reference": "dockyard.ref",
    "LayoutRef": "dockyard.ref",
    "parse_ref": "dockyard.ref",
    "parse_repository": "dockyard.ref",
    "parse_location": "dockyard.ref",
    "Platform": "dockyard.platform",
    "parse_platform": "dockyard.platform",
    "parse_platforms": "dockyard.platform",
    "Digest": "dockyard.digest",
    "parse_digest": "dockyard.digest",
    # tags and config
    "GitContext": "dockyard.context",
    "compute_tags": "dockyard.tags",
    "TagResult": "dockyard.tags",
    "Config": "dockyard.config",
    "load_config": "dockyard.config",
    # errors
    "DockyardError": "dockyard.errors",
    "InputError": "dockyard.errors",
    "OperationError": "dockyard.errors",
    "RegistryError": "dockyard.errors",
    "BuildFailed": "dockyard.errors",
    "VerificationFailed": "dockyard.errors",
    "PublishFailed": "dockyard.errors",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dockyard' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})

