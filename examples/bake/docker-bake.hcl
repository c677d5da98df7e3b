# The shape of a real pipeline dockyard replaces (issue 15): `docker buildx bake --push all`
# in CI, six services sharing `_common`, tags and caches from functions.
# dockyard reads this file as buildx does (`dockyard bake --print all` shows the result) and
# builds, verifies and publishes the targets; dockyard.toml beside it adds the policy.
# Base images come from a local registry (made from Debian packages; no Docker Hub here).

variable "REGISTRY" {
  default = "127.0.0.1:5000"
}

variable "IMAGE_PREFIX" {
  default = "shop/"
}

variable "VERSION" {
  default = "dev"
}

variable "PLATFORMS" {
  default = "linux/amd64,linux/arm64"
}

# The base every service starts from (examples/tools/make_bases.py pushes it).
variable "BASE" {
  default = "127.0.0.1:5000/base/busybox:1.35"
}

# GitHub Actions' cache, one scope per service: buildx uses it in CI, dockyard reports it
# (it keeps its own per-platform skip cache and reuses images already in the registry).
function "cache" {
  params = [name]
  result = ["type=gha,scope=${name}"]
}

function "tags" {
  params = [name]
  result = ["${REGISTRY}/${IMAGE_PREFIX}${name}:${VERSION}"]
}

target "_common" {
  platforms = split(",", PLATFORMS)
  args = {
    BASE    = BASE
    VERSION = VERSION
  }
  labels = {
    "org.opencontainers.image.vendor" = "acme"
  }
}

target "api" {
  inherits   = ["_common"]
  context    = "services/api"
  tags       = tags("api")
  cache-from = cache("api")
  cache-to   = ["type=gha,scope=api,mode=max"]
}

target "ui" {
  inherits   = ["_common"]
  context    = "services/ui"
  tags       = tags("ui")
  cache-from = cache("ui")
}

target "gateway" {
  inherits   = ["_common"]
  context    = "services/gateway"
  tags       = tags("gateway")
  cache-from = cache("gateway")
}

target "jobrunner" {
  inherits   = ["_common"]
  context    = "services/jobrunner"
  tags       = tags("jobrunner")
  cache-from = cache("jobrunner")
}

target "otel" {
  inherits   = ["_common"]
  context    = "services/otel"
  tags       = tags("otel")
  cache-from = cache("otel")
  # amd64 only: the collector's plugins are not built for arm64.
  platforms  = ["linux/amd64"]
}

target "mlflow" {
  inherits   = ["_common"]
  context    = "services/mlflow"
  dockerfile = "Containerfile"
  target     = "runtime"
  tags       = tags("mlflow")
  cache-from = cache("mlflow")
}

group "default" {
  targets = ["api", "ui", "gateway"]
}

group "all" {
  targets = ["default", "jobrunner", "otel", "mlflow"]
}
