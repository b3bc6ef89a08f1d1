"""Idempotency keys derived from what a request sends (file contents, parameters, inputs), so that the
same command run again gets what the first run made, while the server remembers the key (24 h),
instead of making it a second time. The service honours keys on job creation, on `capture` (whose
request also carries the photos) and on uploads: `upload` sends the same file again under the same
key, so the service answers with the set and assets it stored the first time; their ids, in the
job's inputs, then give the same job key too, and the job is replayed as well."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..client import Client
from ..errors import ApiError
from ..files import sha256_of
from ..types import Job, Upload

PREFIX = "matsvc-"
# A replayed job that failed or was cancelled is retried under a key derived from it (an upload whose
# key was used for other bytes likewise); a re-run walks this chain of earlier attempts, which is
# only ever a few long.
MAX_REPLAYS = 20


def file_digests(paths: Iterable[Path]) -> list[tuple[str, str]]:
    return [(path.name, sha256_of(path)) for path in paths]


def content_key(kind: str, params: dict, inputs: dict | None = None, files: Sequence[tuple[str, str]] = ()) -> str:
    """`files`: (name, sha256) of each file the request sends."""
    request = {"kind": kind, "params": params, "inputs": inputs or {}, "files": [list(f) for f in files]}
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return PREFIX + hashlib.sha256(canonical.encode()).hexdigest()


def upload(client: Client, project: str, files: Sequence[Path], digests: Sequence[tuple[str, str]],
           roles: Sequence[str] = (), name: str | None = None, tags: Sequence[str] = (),
           previews: bool = False) -> Upload:
    """`client.upload` under a key derived from what it sends: `digests` are `file_digests(files)`
    (the names and contents), and the form fields. The same upload again (a re-run) stores nothing
    and answers with the first one's set and assets, unless those were deleted since."""
    form = {"roles": list(roles), "name": name, "tags": list(tags), "previews": previews}
    key = content_key("upload", form, files=digests)
    for _ in range(MAX_REPLAYS):
        try:
            return client.upload(project, files, idempotency_key=key, **form)
        except ApiError as exc:
            if exc.code != "idempotency_key_reused":
                raise
        # The key was used with other bytes: a file that changed between being hashed and being
        # sent, and then changed back. The next key of the chain, the same in every run, so that a
        # re-run still finds this upload.
        key = _next_key(key, "reused")
    raise ApiError(422, "The upload's idempotency keys were all used for other files.",
                   code="idempotency_key_reused")


def start_job(create: Callable[[str], Job], key: str) -> Job:
    """`create(key)`, unless that answers with an earlier run's job that failed or was cancelled: then
    again under a key derived from that job, so a re-run tries again rather than replaying a failure."""
    for _ in range(MAX_REPLAYS):
        job = create(key)
        if job.get("status") not in ("failed", "cancelled"):
            return job
        key = _next_key(key, f"after {job['id']}")
    return job


def _next_key(key: str, why: str) -> str:
    return PREFIX + hashlib.sha256(f"{key} {why}".encode()).hexdigest()
