"""reliability.md scenarios 7, 12, 14 and 16 against the real registry behind the fault proxy.

7  index PUT refused with MANIFEST_BLOB_UNKNOWN: the child is put back once, then the index;
12 an immutable tag (400 TAG_INVALID): same digest skipped, another digest rolled back;
14 read-after-write lag: a moved tag is read back for a bounded time;
16 chunked uploads: 416 resumed from the upload's Range, OCI-Chunk-Min-Length obeyed,
   a PATCH answered 201 (ECR) accepted.
"""

from __future__ import annotations

# ruff: noqa: F811 (the publish fault tests' fixtures are imported, then requested by name)
import io
import json
import os

import pytest

from dockyard.digest import sha256_digest
from dockyard.errors import PublishFailed, RegistryError
from dockyard.oci.copy import copy_image
from dockyard.oci.models import parse_manifest
from dockyard.oci.registry import RegistryClient
from dockyard.oci.retry import RetryPolicy
from dockyard.oci.session import RegistryOptions
from dockyard.publish import journal as jn
from dockyard.publish.readback import READBACK_DELAYS
from tests.helpers.faultproxy import Fault
from tests.integration.conftest import skopeo_raw
from tests.integration.test_publish import (
    index_digest,
    new_repo,
    tag_state,
)

# The test bed of the publish fault tests, shared: a source layout, a second registry
# behind a fault proxy, a client whose waits are recorded, v1 already released.
from tests.integration.test_publish_faults import (  # noqa: F401 (fixtures)
    NEW_TAGS,
    OLD_TAGS,
    client,
    layout,
    proxy,
    released,
    run,
    second,
)

pytestmark = pytest.mark.integration

MiB = 1024 * 1024
UPLOADS = r"/blobs/uploads/"


def first_child(layout, reference="v2"):
    return parse_manifest(layout.manifest_get(reference)[0]).manifests[0].digest


# ---------------------------------------------------------------- 7: MANIFEST_BLOB_UNKNOWN


def test_7_index_put_blob_unknown_puts_the_child_back_once(layout, second, proxy, client):
    """The proxy answers 201 to the first PUT of a child and drops it: the real registry then
    refuses the index (MANIFEST_BLOB_UNKNOWN); the child is put again, then the index."""
    child = first_child(layout)
    proxy.add(Fault("PUT", rf"/manifests/{child}$", status=201,
                    headers={"Docker-Content-Digest": str(child)}))  # fmt: skip
    repo = new_repo()
    copy_image(layout, "v2", client.store(f"{proxy.host}/{repo}", push=True), tag="v2")
    assert proxy.count("PUT", rf"/manifests/{child}$") == 2  # dropped, then put back
    assert proxy.count("PUT", r"/manifests/v2$") == 2  # refused, then accepted
    assert skopeo_raw(second, f"{repo}:v2") == layout.manifest_get("v2")[0]


def test_7_a_child_that_never_lands_fails_naming_it_and_moves_no_tag(
    layout, registry, second, proxy, client, waits, released
):
    child = first_child(layout)
    proxy.add(Fault("PUT", rf"/manifests/{child}$", status=201,
                    headers={"Docker-Content-Digest": str(child)}, times=None))  # fmt: skip
    before = tag_state(second, released, NEW_TAGS)
    with pytest.raises(PublishFailed) as err:
        run(layout, registry, proxy, client, released, waits)
    assert f"the registry refuses manifest {index_digest(layout, 'v2')} (MANIFEST_BLOB_UNKNOWN)" in str(err.value)
    assert f"missing: {child}" in str(err.value)
    assert proxy.count("PUT", rf"/manifests/{child}$") == 2  # put back once, not forever
    assert tag_state(second, released, NEW_TAGS) == before
    assert tag_state(registry, released, NEW_TAGS) == before  # no tag moved anywhere
    assert proxy.count("PUT", r"/manifests/(2\.0|edge|latest)$") == 0


# ---------------------------------------------------------------- 12: immutable tags

TAG_INVALID = json.dumps(
    {"errors": [{"code": "TAG_INVALID", "message": "tag is immutable", "detail": "edge"}]}
).encode()


def immutable(*tags: str) -> Fault:
    """An immutable-tag policy: a PUT on an existing tag is refused (as ECR, Harbor answer)."""
    return Fault("PUT", rf"/manifests/({'|'.join(tags)})$", status=400, body=TAG_INVALID,
                 headers={"Content-Type": "application/json"}, times=None)  # fmt: skip


def test_12_same_digest_on_an_immutable_tag_is_skipped(layout, registry, proxy, client, waits, released):
    proxy.add(immutable(*OLD_TAGS))
    result = run(layout, registry, proxy, client, released, waits, reference="v1", tags=OLD_TAGS)
    assert proxy.count("PUT", r"/manifests/(edge|latest)$") == 0
    for repo in result.repositories:
        assert [(t.tag, t.outcome) for t in repo.tags] == [("edge", jn.UNCHANGED), ("latest", jn.UNCHANGED)]


def test_12_another_digest_on_an_immutable_tag_fails_and_rolls_back(
    layout, registry, second, proxy, client, waits, released
):
    v1 = index_digest(layout, "v1")
    proxy.add(immutable(*OLD_TAGS))
    with pytest.raises(PublishFailed) as err:
        run(layout, registry, proxy, client, released, waits)
    message = str(err.value)
    assert message.startswith(
        f"publish failed moving tag {proxy.host}/{released}:edge (registry {proxy.host}: PUT "
        f"http://{proxy.host}/v2/{released}/manifests/edge failed: HTTP 400 TAG_INVALID "
        "(tag is immutable)); every tag this run moved was rolled back where possible"
    )
    assert proxy.count("PUT", r"/manifests/edge$") == 1  # a 400 is not retried
    want = {"2.0": None, "edge": v1, "latest": v1}
    assert tag_state(registry, released, NEW_TAGS) == want
    assert tag_state(second, released, NEW_TAGS) == want
    assert err.value.exit_code == 1


# ---------------------------------------------------------------- 14: read-after-write lag


def lagging(proxy, layout, tag: str, *, times) -> Fault:
    """From our PUT of `tag` on, its HEAD answers the old index (v1) `times` times: the lag.

    Armed by the PUT itself (a hook), so reads before the move are the registry's own."""
    raw, media_type = layout.manifest_get("v1")
    headers = {"Docker-Content-Digest": index_digest(layout, "v1"), "Content-Type": media_type,
               "Content-Length": str(len(raw))}  # fmt: skip
    lag = Fault("HEAD", rf"/manifests/{tag}$", status=200, headers=headers, times=times)
    proxy.add(Fault("PUT", rf"/manifests/{tag}$", action="rewrite", hook=lambda: proxy.add(lag)))
    return lag


def test_14_a_lagging_tag_is_read_back_until_it_serves_our_digest(
    layout, registry, second, proxy, client, waits, released
):
    v2 = index_digest(layout, "v2")
    lag = lagging(proxy, layout, "edge", times=2)
    result = run(layout, registry, proxy, client, released, waits)
    assert waits == list(READBACK_DELAYS[:2])  # two reads saw the old digest, then ours
    assert (lag.seen, lag.fired) == (3, 2)  # three read-backs, two of them lagging
    theirs = {r.repository: r for r in result.repositories}[f"{proxy.host}/{released}"]
    assert [(t.tag, t.outcome, str(t.digest)) for t in theirs.tags] == [
        (t, jn.MOVED, v2) for t in NEW_TAGS
    ]
    assert tag_state(second, released, NEW_TAGS) == dict.fromkeys(NEW_TAGS, v2)


def test_14_past_the_bound_it_fails_and_puts_the_tags_back(
    layout, registry, second, proxy, client, waits, released
):
    v1, v2 = index_digest(layout, "v1"), index_digest(layout, "v2")
    lagging(proxy, layout, "edge", times=None)
    with pytest.raises(PublishFailed) as err:
        run(layout, registry, proxy, client, released, waits)
    assert (
        f"registry still serves {v1} for tag edge {sum(READBACK_DELAYS):g} s after our PUT of {v2}"
        in str(err.value)
    )
    assert waits == list(READBACK_DELAYS)
    want = {"2.0": None, "edge": v1, "latest": v1}
    assert tag_state(registry, released, NEW_TAGS) == want
    assert tag_state(second, released, NEW_TAGS) == want  # the landed move was undone too


# ---------------------------------------------------------------- 16: chunked uploads


def chunked_client(chunk: int = MiB) -> RegistryClient:
    options = RegistryOptions(retry=RetryPolicy(attempts=3, base_delay=0.1), chunk_size=chunk)
    return RegistryClient(options=options, environ={}, sleep=lambda _: None)


def blob(size: int):
    data = os.urandom(size)
    return sha256_digest(data), data


def stored(reg, repo: str, digest) -> int | None:
    with RegistryClient(environ={}) as c:
        return c.store(f"{reg.host}/{repo}").blob_exists(digest)


def test_16_a_416_resumes_at_the_registrys_range(second, proxy):
    digest, data = blob(3 * MiB + 512 * 1024)
    proxy.add(Fault("PATCH", UPLOADS, status=416, first=2))
    repo = new_repo()
    with chunked_client() as c:
        c.store(f"{proxy.host}/{repo}", push=True).blob_put(digest, len(data), io.BytesIO(data))
    assert stored(second, repo, digest) == len(data)
    assert proxy.count("POST", UPLOADS) == 1  # the same session, resumed
    assert proxy.count("GET", UPLOADS) == 1  # its Range asked once
    assert proxy.count("PATCH", UPLOADS) == 5  # 4 chunks + the refused one
    assert proxy.body_bytes <= len(data) + MiB  # only the refused chunk went twice


def test_16_oci_chunk_min_length_makes_chunks_at_least_that_big(second, proxy):
    digest, data = blob(11 * MiB)
    proxy.add(Fault("POST", UPLOADS, action="rewrite", headers={"OCI-Chunk-Min-Length": str(5 * MiB)}))
    repo = new_repo()
    with chunked_client(MiB) as c:
        c.store(f"{proxy.host}/{repo}", push=True).blob_put(digest, len(data), io.BytesIO(data))
    sizes = [int(r.headers["Content-Length"]) for r in proxy.seen if r.method == "PATCH"]
    assert sizes == [5 * MiB, 5 * MiB, MiB]
    assert stored(second, repo, digest) == len(data)


@pytest.mark.parametrize("chunk", [MiB, None], ids=["chunked", "streamed"])
def test_16_a_patch_answered_201_is_accepted(second, proxy, chunk):
    digest, data = blob(5 * MiB + 100)
    proxy.add(Fault("PATCH", UPLOADS, action="rewrite", status=201, times=None))
    repo = new_repo()
    with chunked_client(chunk) as c:
        c.store(f"{proxy.host}/{repo}", push=True).blob_put(digest, len(data), io.BytesIO(data))
    assert stored(second, repo, digest) == len(data)
    assert proxy.count("POST", UPLOADS) == 1


def test_16_a_416_for_bytes_the_registry_lost_restarts_the_upload(second, proxy):
    """Range says less than the chunks already acknowledged: a new session, not a resume."""
    digest, data = blob(2 * MiB + 10)
    proxy.add(Fault("PATCH", UPLOADS, status=416, first=2),
              Fault("GET", UPLOADS, status=204, headers={"Range": "0-0"}))  # fmt: skip
    repo = new_repo()
    with chunked_client() as c:
        c.store(f"{proxy.host}/{repo}", push=True).blob_put(digest, len(data), io.BytesIO(data))
    assert stored(second, repo, digest) == len(data)
    assert proxy.count("POST", UPLOADS) == 2


def test_16_resume_is_refused_when_status_has_no_range(proxy):
    digest, data = blob(2 * MiB)
    proxy.add(Fault("PATCH", UPLOADS, status=416, first=2, times=None),
              Fault("GET", UPLOADS, status=204, times=None))  # fmt: skip
    with chunked_client() as c, pytest.raises(RegistryError) as err:
        c.store(f"{proxy.host}/{new_repo()}", push=True).blob_put(digest, len(data), io.BytesIO(data))
    assert "upload status without a usable Range header" in str(err.value)
