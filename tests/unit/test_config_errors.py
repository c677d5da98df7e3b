"""dockyard.toml refused: one table row per kind of mistake, each with its exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.config.loader import load_config
from dockyard.config.pathglob import GLOB_RULE
from dockyard.errors import InputError

API = '[targets.api]\ncontext = "services/api"\n'
WEB = '[targets.web]\ncontext = "services/web"\n'
SIZES = "a number of bytes, or a number with kB, MB, GB, TB, KiB, MiB, GiB or TiB, e.g. 500MB or 1.5GiB"
REGISTRY_RULE = (
    "expected host[:port][/path] with a lower-case path, e.g. ghcr.io/acme or 127.0.0.1:5000/fleet"
)
IMAGE_RULE = (
    "expected a repository path of lower-case letters and digits separated by "
    "'/', '.', '_', '__' or '-', e.g. fleet-api"
)
BAD_REF = "(expected ${NAME} with NAME of letters, digits and _, or $${ for a literal ${)"

CASES = [
    # -- syntax and top level
    ("syntax", '[project\nname = "x"\n', "dockyard.toml:1: Expected ']' at the end of a table declaration (at column 9)"),
    ("syntax-eof", API + 'image = "api', "dockyard.toml:3: Unterminated string at end of document"),
    ("unknown-section", API + "[polcy]\nnon-root = true\n", "dockyard.toml: polcy: unknown key (did you mean 'policy'?)"),
    ("section-type", 'project = "fleet"\n' + API, "dockyard.toml: project: expected a table, got a string"),
    # -- [project]
    ("project-unknown", "[project]\nfoo = 1\n" + API, "dockyard.toml: project.foo: unknown key (valid: name, platforms, registries, builder)"),
    ("builder-unknown", '[project]\nbuilder = "kaniko"\n' + API, "dockyard.toml: project.builder: unknown builder 'kaniko' (valid: buildah, buildx, podman, docker)"),
    ("builder-type", "[project]\nbuilder = true\n" + API, "dockyard.toml: project.builder: expected a string, got a boolean"),
    ("builder-typo", '[project]\nbuidler = "buildx"\n' + API, "dockyard.toml: project.buidler: unknown key (did you mean 'builder'?)"),
    ("project-name-type", "[project]\nname = 5\n" + API, "dockyard.toml: project.name: expected a string, got an integer"),
    ("project-name-empty", '[project]\nname = " "\n' + API, "dockyard.toml: project.name: is empty (expected the project's name, e.g. fleet)"),
    ("platforms-string", '[project]\nplatforms = "linux/amd64"\n' + API, "dockyard.toml: project.platforms: expected a list of strings, got a string"),
    ("platforms-item-type", '[project]\nplatforms = ["linux/amd64", 5]\n' + API, "dockyard.toml: project.platforms[1]: expected a string, got an integer"),
    ("platforms-empty", "[project]\nplatforms = []\n" + API, 'dockyard.toml: project.platforms: is empty (expected at least one platform, e.g. ["linux/amd64"])'),
    ("platforms-duplicate", '[project]\nplatforms = ["linux/arm64", "linux/arm64"]\n' + API, "dockyard.toml: project.platforms[1]: duplicate platform linux/arm64 (list each once)"),
    ("registry-upper", '[project]\nregistries = ["ghcr.io/Acme"]\n' + API, f"dockyard.toml: project.registries[0]: 'ghcr.io/Acme' is not a registry prefix ({REGISTRY_RULE})"),
    ("registry-duplicate", '[project]\nregistries = ["ghcr.io/acme", "ghcr.io/acme/"]\n' + API, "dockyard.toml: project.registries[1]: duplicate registry 'ghcr.io/acme' (list each once)"),
    # -- [variables] and interpolation
    ("var-undefined", API + 'args = { V = "${X}" }\n[variables]\nVERSION = "dev"\n', "dockyard.toml: targets.api.args.V: undefined variable ${X} (defined in [variables]: VERSION)"),
    ("var-undefined-none", API + 'image = "${NAME}"\n', "dockyard.toml: targets.api.image: undefined variable ${NAME} (defined in [variables]: none)"),
    ("var-cycle", '[variables]\nA = "${B}"\nB = "x${C}"\nC = "${A}"\n' + API, "dockyard.toml: variables.A: cycle A -> B -> C -> A (a variable cannot depend on itself)"),
    ("var-undefined-in-var", '[variables]\nA = "${B}"\n' + API, "dockyard.toml: variables.A: undefined variable ${B} (defined in [variables]: A)"),
    ("var-name", '[variables]\n1X = "a"\n' + API, "dockyard.toml: variables.1X: '1X' is not a variable name (expected letters, digits and _, not starting with a digit)"),
    ("var-type", "[variables]\nA = [1]\n" + API, "dockyard.toml: variables.A: expected a string, number or boolean, got a list"),
    ("var-malformed", API + 'image = "api-${VERSION"\n[variables]\nVERSION = "1"\n', f"dockyard.toml: targets.api.image: '${{VERSION' is not a variable reference {BAD_REF}"),
    ("var-bad-name-ref", API + 'smoke = ["${foo-bar}"]\n', f"dockyard.toml: targets.api.smoke[0]: '${{foo-bar}}' is not a variable reference {BAD_REF}"),
    # -- [tags]
    ("tags-rules-string", '[tags]\nrules = "type=sha"\n' + API, "dockyard.toml: tags.rules: expected a list of strings, got a string"),
    ("tags-semver-type", '[tags]\nrequire-semver = "yes"\n' + API, "dockyard.toml: tags.require-semver: expected true or false, got a string"),
    ("tags-label-list", "[tags]\nlabels = { a = [1] }\n" + API, "dockyard.toml: tags.labels.a: expected a string, number or boolean, got a list"),
    ("tags-snake", "[tags]\nrequire_semver = true\n" + API, "dockyard.toml: tags.require_semver: unknown key (did you mean 'require-semver'?)"),
    # -- [policy]
    ("policy-size", '[policy]\nmax-size = "500M"\n' + API, f"dockyard.toml: policy.max-size: '500M' is not a size (expected {SIZES})"),
    ("policy-size-type", "[policy]\nmax-size = 1.5\n" + API, f"dockyard.toml: policy.max-size: expected a size ({SIZES}), got a float"),
    ("policy-bool", "[policy]\nnon-root = 1\n" + API, "dockyard.toml: policy.non-root: expected true or false, got an integer"),
    ("policy-labels", "[policy]\nrequire-labels = [1]\n" + API, "dockyard.toml: policy.require-labels[0]: expected a string, got an integer"),
    ("policy-snake", '[policy]\nmax_size = "1GB"\n' + API, "dockyard.toml: policy.max_size: unknown key (did you mean 'max-size'?)"),
    ("allow-foreign-string", '[policy]\nallow-foreign = "/usr/bin/qemu-*"\n' + API, "dockyard.toml: policy.allow-foreign: expected a list of strings, got a string"),
    ("allow-foreign-item", '[policy]\nallow-foreign = ["/usr/bin/qemu-*", 5]\n' + API, "dockyard.toml: policy.allow-foreign[1]: expected a string, got an integer"),
    ("allow-foreign-relative", '[policy]\nallow-foreign = ["usr/bin/qemu-*"]\n' + API, f"dockyard.toml: policy.allow-foreign[0]: 'usr/bin/qemu-*' is not a path glob ({GLOB_RULE})"),
    ("allow-foreign-target", API + 'allow-foreign = ["/opt/", "x"]\n', f"dockyard.toml: targets.api.allow-foreign[0]: '/opt/' is not a path glob ({GLOB_RULE})"),
    ("allow-foreign-table", API + "allow-foreign = { a = 1 }\n", "dockyard.toml: targets.api.allow-foreign: expected a list of strings, got a table"),
    ("allow-foreign-snake", '[policy]\nallow_foreign = []\n' + API, "dockyard.toml: policy.allow_foreign: unknown key (did you mean 'allow-foreign'?)"),
    # -- [retry]
    ("retry-zero", "[retry]\nattempts = 0\n" + API, "dockyard.toml: retry.attempts: 0 is out of range (expected an integer from 1 to 10)"),
    ("retry-many", "[retry]\nattempts = 11\n" + API, "dockyard.toml: retry.attempts: 11 is out of range (expected an integer from 1 to 10)"),
    ("retry-bool", "[retry]\nattempts = true\n" + API, "dockyard.toml: retry.attempts: expected an integer from 1 to 10, got a boolean"),
    ("retry-backoff-type", '[retry]\nbackoff = "1s"\n' + API, "dockyard.toml: retry.backoff: expected a number of seconds from 0 to 60, got a string"),
    ("retry-backoff-nan", "[retry]\nbackoff = nan\n" + API, "dockyard.toml: retry.backoff: nan is out of range (expected a number of seconds from 0 to 60)"),
    ("retry-max-delay", "[retry]\nbackoff = 2\nmax-delay = 0.5\n" + API, "dockyard.toml: retry.max-delay: 0.5 is less than backoff 2 (expected max-delay >= backoff)"),
    ("retry-deadline-word", '[retry]\ndeadline = "soon"\n' + API, "dockyard.toml: retry.deadline: 'soon' is not a duration (expected a duration such as 90s, 30m, 1h or 1h30m (a bare number is seconds))"),
    ("retry-deadline-list", "[retry]\ndeadline = []\n" + API, "dockyard.toml: retry.deadline: expected a duration such as 90s, 30m or 1h, got a list"),
    ("retry-deadline-date", "[retry]\ndeadline = 2026-01-01\n" + API, "dockyard.toml: retry.deadline: expected a duration such as 90s, 30m or 1h, got a date"),
    ("retry-deadline-zero", '[retry]\ndeadline = "0s"\n' + API, "dockyard.toml: retry.deadline: '0s' must be more than 0 (expected a duration such as 90s, 30m, 1h or 1h30m (a bare number is seconds))"),
    # -- [sign]
    ("sign-bare", '[sign]\nkey = "cosign.key"\n' + API, "dockyard.toml: sign.key: 'cosign.key' does not say where the key is (expected \"env:NAME\" (the PEM key is in that environment variable) or \"file:PATH\")"),
    ("sign-kind", '[sign]\nkey = "kms:gcp/key"\n' + API, "dockyard.toml: sign.key: 'kms:gcp/key' does not say where the key is (expected \"env:NAME\" (the PEM key is in that environment variable) or \"file:PATH\")"),
    ("sign-env-name", '[sign]\nkey = "env:COSIGN-KEY"\n' + API, "dockyard.toml: sign.key: 'env:COSIGN-KEY': 'COSIGN-KEY' is not an environment variable name (expected letters, digits and _, not starting with a digit)"),
    ("sign-empty-path", '[sign]\nkey = "file:"\n' + API, "dockyard.toml: sign.key: 'file:': the path is empty (expected \"env:NAME\" (the PEM key is in that environment variable) or \"file:PATH\")"),
    ("sign-type", "[sign]\nkey = 1\n" + API, "dockyard.toml: sign.key: expected a string, got an integer"),
    ("sign-unknown", '[sign]\npassword = "x"\n' + API, "dockyard.toml: sign.password: unknown key (valid: key)"),
    # -- [targets]
    ("no-targets", '[project]\nname = "x"\n', "dockyard.toml: targets: no targets defined (add a [targets.NAME] table, e.g. [targets.api])"),
    ("targets-type", "targets = 5\n", "dockyard.toml: targets: expected a table, got an integer"),
    ("target-type", '[targets]\napi = "x"\n', "dockyard.toml: targets.api: expected a table, got a string"),
    ("target-name", '[targets."a b"]\n', "dockyard.toml: targets.\"a b\": 'a b' is not a target name (expected letters, digits, '_' and '-')"),
    ("target-typo", API + 'platfroms = ["linux/amd64"]\n', "dockyard.toml: targets.api.platfroms: unknown key (did you mean 'platforms'?)"),
    ("target-platform", API + 'platforms = ["linux/amd64", "linux/arm65"]\n', "dockyard.toml: targets.api.platforms[1]: 'linux/arm65' is not a platform (expected os/arch[/variant], e.g. linux/arm64)"),
    ("context-missing", '[targets.api]\ncontext = "services/apix"\n', "dockyard.toml: targets.api.context: directory services/apix does not exist"),
    ("context-file", '[targets.api]\ncontext = "services/api/Dockerfile"\n', "dockyard.toml: targets.api.context: directory services/api/Dockerfile is not a directory"),
    ("context-empty", '[targets.api]\ncontext = ""\n', 'dockyard.toml: targets.api.context: is empty (expected a directory, e.g. "." or "services/api")'),
    ("dockerfile-missing", API + 'dockerfile = "Dockerfile.prod"\n', "dockyard.toml: targets.api.dockerfile: services/api/Dockerfile.prod does not exist"),
    ("dockerfile-dir", API + 'dockerfile = "."\n', "dockyard.toml: targets.api.dockerfile: services/api is not a file"),
    ("dockerfile-outside", API + 'dockerfile = "/nonexistent/Dockerfile"\n', "dockyard.toml: targets.api.dockerfile: /nonexistent/Dockerfile does not exist"),
    ("image-upper", API + 'image = "Fleet-API"\n', f"dockyard.toml: targets.api.image: 'Fleet-API' is not a repository path ({IMAGE_RULE})"),
    ("image-default", '[targets.API]\ncontext = "services/api"\n', f"dockyard.toml: targets.API.image: 'API' (the target name; set image = \"...\") is not a repository path ({IMAGE_RULE})"),
    ("image-host", API + 'image = "127.0.0.1:5000/api"\n', f"dockyard.toml: targets.api.image: '127.0.0.1:5000/api' is not a repository path ({IMAGE_RULE})"),
    ("image-too-long", '[project]\nregistries = ["ghcr.io/acme"]\n' + API + f'image = "{"a" * 250}"\n', f"dockyard.toml: targets.api.image: 'ghcr.io/acme/{'a' * 250}' is not a valid image reference: the name is 263 characters long (at most 255)"),
    ("args-list", API + 'args = ["A=1"]\n', "dockyard.toml: targets.api.args: expected a table of strings, got a list"),
    ("args-name", API + 'args = { "A B" = "1" }\n', "dockyard.toml: targets.api.args.\"A B\": 'A B' is not a build argument name (expected no spaces or '=', e.g. APP_VERSION)"),
    ("smoke-string", API + 'smoke = "echo hi"\n', "dockyard.toml: targets.api.smoke: expected a list of strings, got a string"),
    ("target-size", API + 'max-size = "lots"\n', f"dockyard.toml: targets.api.max-size: 'lots' is not a size (expected {SIZES})"),
    ("cache-from", API + "cache-from = [1]\n", "dockyard.toml: targets.api.cache-from[0]: expected a string, got an integer"),
    ("label-datetime", API + "labels = { built = 1979-05-27T07:32:00Z }\n", "dockyard.toml: targets.api.labels.built: expected a string, number or boolean, got a datetime"),
    ("label-quoted-key", API + 'labels = { "org.opencontainers.image.title" = {} }\n', 'dockyard.toml: targets.api.labels."org.opencontainers.image.title": expected a string, number or boolean, got a table'),
    # -- [groups]
    ("group-typo", API + WEB + '[groups]\ndefault = ["api", "wbe"]\n', "dockyard.toml: groups.default[1]: unknown target or group 'wbe' (did you mean 'web'?)"),
    ("group-unknown", API + WEB + '[groups]\ndefault = ["zzz"]\n', "dockyard.toml: groups.default[0]: unknown target or group 'zzz' (known: api, web; groups: default)"),
    ("group-cycle", API + '[groups]\ndefault = ["all"]\nall = ["api", "default"]\n', "dockyard.toml: groups: cycle default -> all -> default (a group cannot contain itself)"),
    ("group-self", API + '[groups]\nloop = ["loop"]\n', "dockyard.toml: groups: cycle loop -> loop (a group cannot contain itself)"),
    ("group-is-target", API + '[groups]\napi = ["api"]\n', "dockyard.toml: groups.api: 'api' is already a target (a group needs a name of its own)"),
    ("group-string", API + '[groups]\ndefault = "api"\n', "dockyard.toml: groups.default: expected a list of strings, got a string"),
    ("group-name", API + '[groups]\n"a.b" = ["api"]\n', "dockyard.toml: groups.\"a.b\": 'a.b' is not a group name (expected letters, digits, '_' and '-')"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for service in ("api", "web"):
        (tmp_path / "services" / service).mkdir(parents=True)
        (tmp_path / "services" / service / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_config_error_message(project: Path, text: str, message: str):
    (project / "dockyard.toml").write_text(text)
    with pytest.raises(InputError) as info:
        load_config(cwd=project, env={})
    assert str(info.value) == message


def test_file_is_named_relative_to_cwd(project: Path):
    (project / "ci").mkdir()
    (project / "ci" / "release.toml").write_text("[retry]\nattempts = 0\n")
    with pytest.raises(InputError) as info:
        load_config(Path("ci/release.toml"), cwd=project, env={})
    assert str(info.value).startswith("ci/release.toml: retry.attempts: 0 is out of range")


def test_file_outside_cwd_is_named_absolute(project: Path):
    (project / "dockyard.toml").write_text("[retry]\nattempts = 0\n")
    (project / "services" / "api" / "sub").mkdir()
    with pytest.raises(InputError) as info:
        load_config(cwd=project / "services" / "api" / "sub", env={})
    assert str(info.value).startswith(f"{project / 'dockyard.toml'}: retry.attempts:")


@pytest.mark.parametrize(
    ("name", "setup", "message"),
    [
        ("missing.toml", None, "missing.toml: file not found (give an existing file to -f)"),
        ("services", None, "services: is a directory (expected a dockyard.toml file)"),
        ("latin1.toml", b'name = "caf\xe9"\n', "latin1.toml: not UTF-8 text at byte 11 (TOML files are UTF-8)"),
    ],
)
def test_unreadable_file(project: Path, name, setup, message):
    if setup is not None:
        (project / name).write_bytes(setup)
    with pytest.raises(InputError) as info:
        load_config(Path(name), cwd=project, env={})
    assert str(info.value) == message


def test_sign_key_sources_are_read_relative_to_the_config(project: Path):
    (project / "dockyard.toml").write_text('[sign]\nkey = "file:keys/../cosign.key"\n' + API)
    config = load_config(project / "dockyard.toml")
    assert str(config.sign.key) == f"file:{project / 'cosign.key'}"
    (project / "dockyard.toml").write_text('[sign]\nkey = "env:COSIGN_KEY"\n' + API)
    assert str(load_config(project / "dockyard.toml").sign.key) == "env:COSIGN_KEY"
    (project / "dockyard.toml").write_text(API)
    assert load_config(project / "dockyard.toml").sign.key is None  # release signs nothing
