"""Cases from the buildx documentation (docs.docker.com/build/bake/...), one per example.

Each case names the page and section it comes from. The expected values are what those pages
show `docker buildx bake --print` printing (or, where a page shows only the file, what the page
says the file does). Deliberate difference: buildx's --print writes cache-from/cache-to/output
entries as objects ({"type": "registry", "ref": ...}); dockyard keeps the CSV string the file
wrote ("type=registry,ref=..."), which is what the rest of dockyard parses.
"""

from __future__ import annotations

import pytest

from dockyard.bake import resolve_sources
from dockyard.errors import BakeError

H = "docker-bake.hcl"
CASES = [
    {
        "id": "variables.md / Using variables: TAG from the environment",
        "files": {
            H: 'variable "TAG" {\n  default = "latest"\n}\ntarget "webapp" {\n  tags = ["docker.io/username/webapp:${TAG}"]\n}\n'
        },
        "env": {"TAG": "v1.2.3"},
        "targets": ["webapp"],
        "expect": {"webapp": {"tags": ["docker.io/username/webapp:v1.2.3"]}},
    },
    {
        "id": "variables.md / Using variables: the default when unset",
        "files": {
            H: 'variable "TAG" {\n  default = "latest"\n}\ntarget "webapp" {\n  tags = ["docker.io/username/webapp:${TAG}"]\n}\n'
        },
        "targets": ["webapp"],
        "expect": {"webapp": {"tags": ["docker.io/username/webapp:latest"]}},
    },
    {
        "id": "variables.md / Validating variables: a passing condition",
        "files": {
            H: 'variable "PORT" {\n  default = 3000\n  validation {\n    condition = PORT > 1024\n    error_message = "The variable \'PORT\' must be greater than 1024."\n  }\n}\ntarget "default" {\n  args = {\n    PORT = PORT\n  }\n}\n'
        },
        "expect": {"default": {"args": {"PORT": "3000"}}},
    },
    {
        "id": "variables.md / Validating variables: a failing condition",
        "files": {
            H: 'variable "PORT" {\n  default = 3000\n  validation {\n    condition = PORT > 1024\n    error_message = "The variable \'PORT\' must be greater than 1024."\n  }\n}\ntarget "default" {\n  args = {\n    PORT = PORT\n  }\n}\n'
        },
        "env": {"PORT": "80"},
        "error": "The variable 'PORT' must be greater than 1024.",
    },
    {
        "id": "variables.md / Validating variables: multiple conditions (can + regex)",
        "files": {
            H: 'variable "FOO" {\n  validation {\n    condition = FOO != ""\n    error_message = "FOO is required."\n  }\n  validation {\n    condition = can(regex("^[a-z]+$", FOO))\n    error_message = "FOO must be lowercase letters."\n  }\n}\ntarget "default" {\n  args = {\n    FOO = FOO\n  }\n}\n'
        },
        "env": {"FOO": "Bar1"},
        "error": "FOO must be lowercase letters.",
    },
    {
        "id": "variables.md / Typed variables: list(string) from a CSV environment value",
        "files": {
            H: 'variable "PLATFORMS" {\n  type = list(string)\n  default = ["linux/amd64"]\n}\ntarget "default" {\n  platforms = PLATFORMS\n}\n'
        },
        "env": {"PLATFORMS": "linux/amd64,linux/arm64"},
        "expect": {"default": {"platforms": ["linux/amd64", "linux/arm64"]}},
    },
    {
        "id": "variables.md / Typed variables: a bool typed variable refuses a non-bool value",
        "files": {
            H: 'variable "DEBUG" {\n  type = bool\n  default = false\n}\ntarget "default" {\n  args = {\n    D = DEBUG\n  }\n}\n'
        },
        "env": {"DEBUG": "maybe"},
        "error": "failed to parse DEBUG as bool",
    },
    {
        "id": "expressions.md / Arithmetic operations",
        "files": {H: 'target "default" {\n  args = {\n    answer = 6 * 7\n  }\n}\n'},
        "expect": {"default": {"args": {"answer": "42"}}},
    },
    {
        "id": "expressions.md / Ternary operators",
        "files": {
            H: 'variable "DEV" {\n  default = false\n}\nvariable "IMAGE_NAME" {\n  default = "my-image"\n}\ntarget "default" {\n  dockerfile = "Dockerfile"\n  tags = [\n    IMAGE_NAME,\n    DEV ? "${IMAGE_NAME}-dev" : "${IMAGE_NAME}-prod"\n  ]\n}\n'
        },
        "expect": {"default": {"tags": ["my-image", "my-image-prod"]}},
    },
    {
        "id": "expressions.md / Expressions with variables (notequal and a conditional tag)",
        "files": {
            H: 'variable "TAG" {\n  default = ""\n}\ntarget "default" {\n  tags = [notequal("", TAG) ? "my-image:${TAG}" : "my-image:latest"]\n}\n'
        },
        "env": {"TAG": "1.0"},
        "expect": {"default": {"tags": ["my-image:1.0"]}},
    },
    {
        "id": "funcs.md / HCL Stdlib functions: add()",
        "files": {
            H: 'target "webapp-dev" {\n  dockerfile = "Dockerfile.webapp"\n  tags = ["docker.io/username/webapp:latest"]\n  args = {\n    buildno = "${add(123, 1)}"\n  }\n}\n'
        },
        "targets": ["webapp-dev"],
        "expect": {"webapp-dev": {"dockerfile": "Dockerfile.webapp", "args": {"buildno": "124"}}},
    },
    {
        "id": "funcs.md / User-defined functions: variadic parameter",
        "files": {
            H: 'function "tags" {\n  params = [repo]\n  variadic_param = versions\n  result = [for v in versions : "${repo}:${v}"]\n}\ntarget "default" {\n  tags = tags("org/app", "1", "1.2")\n}\n'
        },
        "expect": {"default": {"tags": ["org/app:1", "org/app:1.2"]}},
    },
    {
        "id": "inheritance.md / Inheritance: a common _common target",
        "files": {
            H: 'target "_common" {\n  args = {\n    GO_VERSION = "1.20"\n    BUILDKIT_CONTEXT_KEEP_GIT_DIR = 1\n  }\n}\ntarget "lint" {\n  inherits = ["_common"]\n  dockerfile = "./dockerfiles/lint.Dockerfile"\n  output = ["type=cacheonly"]\n}\n'
        },
        "targets": ["lint"],
        "expect": {
            "lint": {
                "dockerfile": "./dockerfiles/lint.Dockerfile",
                "output": ["type=cacheonly"],
                "args": {"GO_VERSION": "1.20", "BUILDKIT_CONTEXT_KEEP_GIT_DIR": "1"},
            }
        },
    },
    {
        "id": "inheritance.md / Overriding inherited attributes",
        "files": {
            H: 'target "app-dev" {\n  args = {\n    BAKE_ENV = "development"\n  }\n  tags = ["app:dev"]\n}\ntarget "app-release" {\n  inherits = ["app-dev"]\n  args = {\n    BAKE_ENV = "production"\n  }\n  tags = ["app:release"]\n}\n'
        },
        "targets": ["app-release"],
        "expect": {"app-release": {"args": {"BAKE_ENV": "production"}, "tags": ["app:release"]}},
    },
    {
        "id": "matrix.md / Matrix targets",
        "files": {
            H: 'target "build" {\n  name = "build-${tgt}"\n  matrix = {\n    tgt = ["release", "debug"]\n  }\n  target = tgt\n}\n'
        },
        "targets": ["build"],
        "expect": {"build-release": {"target": "release"}, "build-debug": {"target": "debug"}},
        "groups": {"build": ["build-release", "build-debug"]},
    },
    {
        "id": "matrix.md / Multiple axes",
        "files": {
            H: 'target "build" {\n  name = "${tgt}-${replace(version, ".", "-")}"\n  matrix = {\n    tgt = ["release", "debug"]\n    version = ["1.0", "2.0"]\n  }\n  target = tgt\n  args = {\n    VERSION = version\n  }\n}\n'
        },
        "targets": ["build"],
        "expect": {
            "release-1-0": {"args": {"VERSION": "1.0"}},
            "debug-2-0": {"target": "debug", "args": {"VERSION": "2.0"}},
        },
        "names": ["debug-1-0", "debug-2-0", "release-1-0", "release-2-0"],
    },
    {
        "id": "matrix.md / Multiple values per matrix target",
        "files": {
            H: 'target "app" {\n  name = "app-${item.tgt}"\n  matrix = {\n    item = [\n      {\n        tgt = "foo"\n        version = "1.0"\n      },\n      {\n        tgt = "bar"\n        version = "2.0"\n      }\n    ]\n  }\n  target = item.tgt\n  args = {\n    VERSION = item.version\n  }\n}\n'
        },
        "targets": ["app"],
        "expect": {
            "app-foo": {"target": "foo", "args": {"VERSION": "1.0"}},
            "app-bar": {"target": "bar", "args": {"VERSION": "2.0"}},
        },
    },
    {
        "id": "targets.md / Grouping targets (default group)",
        "files": {
            H: 'group "default" {\n  targets = ["frontend", "backend"]\n}\ntarget "frontend" {\n  context = "./frontend"\n  dockerfile = "frontend.Dockerfile"\n  args = {\n    NODE_VERSION = "22"\n  }\n  tags = ["myapp/frontend:latest"]\n}\ntarget "backend" {\n  context = "./backend"\n  dockerfile = "backend.Dockerfile"\n  args = {\n    GO_VERSION = "1.25"\n  }\n  tags = ["myapp/backend:latest"]\n}\n'
        },
        "expect": {
            # --print shows a local context as Go path.Clean makes it (buildx toBuildOpt).
            "frontend": {"context": "frontend", "tags": ["myapp/frontend:latest"]},
            "backend": {"dockerfile": "backend.Dockerfile", "args": {"GO_VERSION": "1.25"}},
        },
        "groups": {"default": ["frontend", "backend"]},
    },
    {
        "id": "overrides.md / Command line: --set app.args and app.platform",
        "files": {H: 'target "app" {\n  args = {\n    mybuildarg = "foo"\n  }\n}\n'},
        "targets": ["app"],
        "set": ["app.args.mybuildarg=bar", "app.platform=linux/arm64"],
        "expect": {"app": {"args": {"mybuildarg": "bar"}, "platforms": ["linux/arm64"]}},
    },
    {
        "id": "overrides.md / Command line: pattern matching (*.platform, foo*.args)",
        "files": {H: 'target "foo-a" {}\ntarget "foo-b" {}\ntarget "bar" {}\n'},
        "targets": ["foo-a", "foo-b", "bar"],
        "set": ["*.platform=linux/arm64", "foo*.args.mybuildarg=bar"],
        "expect": {
            "foo-a": {"platforms": ["linux/arm64"], "args": {"mybuildarg": "bar"}},
            "bar": {"platforms": ["linux/arm64"], "args": None},
        },
    },
    {
        "id": "overrides.md / Command line: --set with no-cache boolean",
        "files": {H: 'target "app" {}\n'},
        "targets": ["app"],
        "set": ["app.no-cache=true"],
        "expect": {"app": {"no-cache": True}},
    },
    {
        "id": "reference.md / target.args: null leaves the Dockerfile's default",
        "files": {
            H: 'target "default" {\n  args = {\n    VERSION = null\n    OTHER = "x"\n  }\n}\n'
        },
        "expect": {"default": {"args": {"OTHER": "x"}}},
    },
    {
        "id": "reference.md / target.contexts",
        "files": {
            H: 'target "app" {\n  contexts = {\n    alpine = "docker-image://alpine:3.13"\n  }\n}\n'
        },
        "targets": ["app"],
        "expect": {"app": {"contexts": {"alpine": "docker-image://alpine:3.13"}}},
    },
    {
        "id": "reference.md / target.dockerfile-inline",
        "files": {
            H: 'target "default" {\n  dockerfile-inline = "FROM alpine\\nENTRYPOINT [\\"echo\\", \\"hello\\"]"\n}\n'
        },
        "expect": {"default": {"dockerfile-inline": 'FROM alpine\nENTRYPOINT ["echo", "hello"]'}},
    },
    {
        "id": "reference.md / Built-in variables: BAKE_LOCAL_PLATFORM",
        "files": {H: 'target "default" {\n  platforms = ["${BAKE_LOCAL_PLATFORM}"]\n}\n'},
        "env": {"BAKE_LOCAL_PLATFORM": "linux/arm64"},
        "expect": {"default": {"platforms": ["linux/arm64"]}},
    },
    {
        "id": "reference.md / Escape variable interpolation ($${})",
        "files": {
            H: 'target "default" {\n  dockerfile-inline = <<EOT\nFROM alpine\nRUN echo "$${HOME}"\nEOT\n}\n'
        },
        "expect": {"default": {"dockerfile-inline": 'FROM alpine\nRUN echo "${HOME}"\n'}},
    },
    {
        "id": "reference.md / File format: the JSON form with a variable",
        "files": {
            "docker-bake.json": '{\n  "variable": {\n    "TAG": {\n      "default": "latest"\n    }\n  },\n  "group": {\n    "default": {\n      "targets": ["webapp"]\n    }\n  },\n  "target": {\n    "webapp": {\n      "dockerfile": "Dockerfile",\n      "tags": ["docker.io/username/webapp:${TAG}"]\n    }\n  }\n}\n'
        },
        "env": {"TAG": "v2"},
        "expect": {
            "webapp": {"dockerfile": "Dockerfile", "tags": ["docker.io/username/webapp:v2"]}
        },
        "groups": {"default": ["webapp"]},
    },
    {
        "id": "compose-file.md / Building with Bake from a Compose file (anchors, x-bake)",
        "files": {
            "compose.yaml": "services:\n  webapp-dev:\n    build: &build-dev\n      dockerfile: Dockerfile.webapp\n      tags:\n        - docker.io/username/webapp:latest\n      cache_from:\n        - docker.io/username/webapp:cache\n      cache_to:\n        - docker.io/username/webapp:cache\n\n  webapp-release:\n    build:\n      <<: *build-dev\n      x-bake:\n        platforms:\n          - linux/amd64\n          - linux/arm64\n\n  db:\n    image: docker.io/username/db\n    build:\n      dockerfile: Dockerfile.db\n"
        },
        "expect": {
            "db": {
                "context": ".",
                "dockerfile": "Dockerfile.db",
                "tags": ["docker.io/username/db"],
            },
            "webapp-dev": {
                "context": ".",
                "tags": ["docker.io/username/webapp:latest"],
                "cache-from": ["docker.io/username/webapp:cache"],
            },
            "webapp-release": {
                "platforms": ["linux/amd64", "linux/arm64"],
                "tags": ["docker.io/username/webapp:latest"],
            },
        },
        "groups": {"default": ["webapp-dev", "webapp-release", "db"]},
    },
    {
        "id": "compose-file.md / Environment variables (.env file and ${VAR:-default})",
        "files": {
            "compose.yaml": "services:\n  webapp:\n    image: docker.io/username/webapp:${WHOAMI_VERSION}\n    build:\n      args:\n        WHOAMI_VERSION: ${WHOAMI_VERSION:-0.0.1}\n"
        },
        "dotenv": {"WHOAMI_VERSION": "v1.1.0"},
        "expect": {
            "webapp": {
                "tags": ["docker.io/username/webapp:v1.1.0"],
                "args": {"WHOAMI_VERSION": "v1.1.0"},
            }
        },
    },
    {
        "id": "overrides.md / Default file lookup: docker-bake.override.hcl overrides docker-bake.hcl",
        "files": {
            H: 'variable "TAG" {\n  default = "bar"\n}\ntarget "default" {\n  tags = ["username/my-app:${TAG}"]\n}\n',
            "docker-bake.override.hcl": 'variable "TAG" {\n  default = "foo"\n}\n',
        },
        "expect": {"default": {"tags": ["username/my-app:foo"]}},
    },
]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_documented_example(case: dict) -> None:
    def run():
        return resolve_sources(
            list(case["files"].items()),
            case.get("targets", []),
            case.get("set", []),
            case.get("env", {}),
            dotenv=case.get("dotenv"),
        )

    if "error" in case:
        with pytest.raises(BakeError, match=None) as err:
            run()
        assert case["error"] in str(err.value)
        return
    resolved = run()
    for name, fields in case["expect"].items():
        for key, want in fields.items():
            assert resolved.targets[name].get(key) == want, (name, key)
    if "names" in case:
        assert sorted(resolved.targets) == case["names"]
    for group, members in case.get("groups", {}).items():
        assert resolved.groups[group] == members


def test_at_least_twenty_documented_cases() -> None:
    assert len(CASES) >= 20


def test_the_readme_states_these_counts() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"{len(CASES)} more cases from the buildx documentation" in readme
    assert "**40/40** cases of\nthe conformance set" in readme
