"""`Client`: a thin, typed wrapper over the service's REST API (`/api/v1/`).

Results are the API's JSON objects as dicts (see `matsvc.types` for their keys). Errors from the
API raise `ApiError`; GETs, job creations (which carry an `Idempotency-Key`) and uploads given
one are retried on network errors.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import requests

from .errors import ApiError, JobFailed, JobTimeout, JobUnreachable
from .files import atomic_writer
from .transport import RETRY_STATUSES, Transport
from .types import Asset, AssetSet, Job, JobKind, Project, Upload

API = "/api/v1"
FINISHED = ("succeeded", "failed", "cancelled")
IDEMPOTENCY_HEADER = "Idempotency-Key"
# While the server cannot be reached, `wait` asks again after 1, 2, 4 ... seconds, at most this often.
MAX_OUTAGE_POLL = 30.0


class Client:
    """`retry_for`: how long `wait` keeps trying while the server cannot be reached or its gateway
    answers 502/503/504 (a restart, a network blip) before it gives up with `JobUnreachable`."""

    def __init__(self, url: str, token: str | None = None, *, session: requests.Session | None = None,
                 timeout: float = 60.0, retries: int = 3, backoff: float = 0.5, retry_for: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.http = Transport(url, token, session=session, timeout=timeout, retries=retries, backoff=backoff,
                              sleep=sleep)
        self.retry_for = retry_for
        self.clock = clock

    @property
    def url(self) -> str:
        return self.http.base_url

    # -- identity -----------------------------------------------------------------------------

    @classmethod
    def login(cls, url: str, username: str, password: str, token_name: str = "matsvc") -> str:
        """Exchange a username and password for a new API token (its key; shown only this once)."""
        anonymous = Transport(url, None)
        body = {"username": username, "password": password, "name": token_name}
        return anonymous.request("POST", f"{API}/auth/token", json=body)["key"]

    def me(self) -> dict:
        return self.http.request("GET", f"{API}/me", retry=True)

    # -- projects -----------------------------------------------------------------------------

    def projects(self, search: str | None = None) -> list[Project]:
        return list(self._pages(f"{API}/projects", {"search": search} if search else {}))

    def create_project(self, name: str, slug: str | None = None, description: str = "") -> Project:
        body = {"name": name, "description": description, **({"slug": slug} if slug else {})}
        return self.http.request("POST", f"{API}/projects", json=body)

    def invitations(self) -> list[dict]:
        """Your pending invitations: {id, project: {id, name}, role, invited_by, created_at}."""
        return list(self._pages(f"{API}/invitations", {}))

    def accept_invitation(self, invitation_id: int) -> Project:
        """Join the invitation's project with its role; returns the project."""
        return self.http.request("POST", f"{API}/invitations/{int(invitation_id)}/accept")

    def decline_invitation(self, invitation_id: int) -> None:
        self.http.request("DELETE", f"{API}/invitations/{int(invitation_id)}")

    def resolve_project(self, ref: str) -> Project:
        """A project by its id, slug or name (exact, then case-insensitive)."""
        projects = self.projects()
        for matches in (lambda p: ref in (p["id"], p["slug"], p["name"]),
                        lambda p: ref.lower() in (p["slug"].lower(), p["name"].lower())):
            found = [p for p in projects if matches(p)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                ids = ", ".join(f"{p['id']} ({p['slug']})" for p in found)
                raise ApiError(409, f"'{ref}' names {len(found)} projects: {ids}; give its id.",
                               code="ambiguous")
        known = ", ".join(p["slug"] for p in projects) or "none"
        raise ApiError(404, f"No project '{ref}' (yours: {known}).", code="not_found")

    # -- uploads, sets and assets ---------------------------------------------------------------

    def upload(self, project: str, files: Sequence[str | os.PathLike], roles: Sequence[str] = (),
               name: str | None = None, tags: Sequence[str] = (), previews: bool = False,
               asset_set: str | None = None, idempotency_key: str | None = None) -> Upload:
        """Upload image files into a new asset set (or `asset_set`).

        With an `idempotency_key` (sent as the Idempotency-Key header; at most 255 characters) the
        service answers a repeat of the same upload within 24 hours with what the first one stored
        (set, assets, previews job) instead of storing the files again, so the upload is retried on
        network errors and 502/503/504 answers like a GET. The same key with other files or form
        fields is refused (422, code `idempotency_key_reused`). Without a key the upload is sent once
        and not retried: a repeat would store the files twice."""
        paths = [_existing(path) for path in files]
        data: dict[str, Any] = {"roles": list(roles), "tags": list(tags), "previews": "true" if previews else "false"}
        if name:
            data["name"] = name
        if asset_set:
            data["set"] = asset_set
        keyed = {"retry": True, "headers": {IDEMPOTENCY_HEADER: idempotency_key}} if idempotency_key else {}
        return self.http.request("POST", f"{API}/projects/{project}/uploads", data=data, **keyed,
                                 body=lambda: {"files": [("files", (p.name, open(p, "rb"))) for p in paths]})

    def asset_set(self, project: str, set_id: str) -> AssetSet:
        return self.http.request("GET", f"{API}/projects/{project}/sets/{set_id}", retry=True)

    def asset(self, project: str, asset_id: str) -> Asset:
        return self.http.request("GET", f"{API}/projects/{project}/assets/{asset_id}", retry=True)

    def download_asset(self, project: str, asset_id: str, dest: str | os.PathLike) -> Path:
        """Save an asset's file as `dest` (a file path, or a directory to keep the asset's name)."""
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / self.asset(project, asset_id)["name"]
        return self._download(f"{API}/projects/{project}/assets/{asset_id}/download", dest)

    def download_set_zip(self, project: str, set_id: str, dest: str | os.PathLike) -> Path:
        """Save a whole asset set as one zip file at `dest`."""
        return self._download(f"{API}/projects/{project}/sets/{set_id}/download", Path(dest))

    # -- jobs ---------------------------------------------------------------------------------

    def job_kinds(self) -> list[JobKind]:
        return self.http.request("GET", f"{API}/job-kinds", retry=True)["results"]

    def create_job(self, project: str, kind: str, params: dict | None = None, inputs: dict | None = None,
                   idempotency_key: str | None = None) -> Job:
        """Start a job (answered 202 by the API); safe to retry thanks to its Idempotency-Key."""
        body = {"kind": kind, "params": params or {}, "inputs": inputs or {}}
        return self._create(f"{API}/projects/{project}/jobs", idempotency_key, json=body)

    def capture(self, project: str, flash: str | os.PathLike, guide: str | os.PathLike,
                idempotency_key: str | None = None, **params: Any) -> Job:
        """Upload a flash/guide photo pair and start `material.two_shot` in one request; `params` are
        the job's (quality, surface, fov, tile_size, max_width, resolution, bit_depth, exr) plus `name`."""
        flash_path, guide_path = _existing(flash), _existing(guide)
        data = {key: _form_value(value) for key, value in params.items() if value is not None}

        def files() -> dict:
            return {"files": [("flash", (flash_path.name, open(flash_path, "rb"))),
                              ("guide", (guide_path.name, open(guide_path, "rb")))]}

        return self._create(f"{API}/projects/{project}/materials/capture", idempotency_key, data=data, body=files)

    def job(self, project: str, job_id: str) -> Job:
        return self.http.request("GET", f"{API}/projects/{project}/jobs/{job_id}", retry=True)

    def jobs(self, project: str, status: str | Iterable[str] | None = None, kind: str | None = None,
             limit: int = 50) -> list[Job]:
        """The project's newest jobs first; `status` one or several (e.g. "queued,running")."""
        params: dict[str, Any] = {"page_size": min(max(limit, 1), 500)}
        if status:
            params["status"] = status if isinstance(status, str) else ",".join(status)
        if kind:
            params["kind"] = kind
        page = self.http.request("GET", f"{API}/projects/{project}/jobs", params=params, retry=True)
        return page["results"][:limit]

    def cancel(self, project: str, job_id: str) -> Job:
        return self.http.request("POST", f"{API}/projects/{project}/jobs/{job_id}/cancel")

    def wait(self, project: str, job: Job | str, *, on_progress: Callable[[Job], None] | None = None,
             timeout: float | None = None, poll: float = 0.5, max_poll: float = 2.0,
             raise_on_failure: bool = True, retry_for: float | None = None,
             on_connection_lost: Callable[[BaseException], None] | None = None) -> Job:
        """Poll a job until it finishes; `on_progress(job)` is called with each state seen.
        Raises `JobFailed` when it fails or is cancelled (unless `raise_on_failure` is false),
        `JobTimeout` after `timeout` seconds, and `JobUnreachable` when the server cannot be reached
        for `retry_for` seconds (default: the client's); `on_connection_lost(error)` is called when
        an outage begins."""
        job_id = job if isinstance(job, str) else job["id"]
        retry_for = self.retry_for if retry_for is None else retry_for
        started = self.clock()
        current: Job = {"id": job_id, "status": "unknown"} if isinstance(job, str) else job
        lost_since: float | None = None
        while True:
            try:
                current = self.job(project, job_id)
            except (requests.ConnectionError, requests.Timeout, ApiError) as exc:
                if isinstance(exc, ApiError) and exc.status not in RETRY_STATUSES:
                    raise
                now = self.clock()
                if lost_since is None:
                    lost_since, outage_poll = now, 1.0
                    if on_connection_lost:
                        on_connection_lost(exc)
                if now - lost_since >= retry_for:
                    raise JobUnreachable(job_id, now - lost_since, exc) from exc
                delay = min(outage_poll, lost_since + retry_for - now)
                outage_poll = min(outage_poll * 2, MAX_OUTAGE_POLL)
            else:
                lost_since = None
                if on_progress:
                    on_progress(current)
                if current["status"] in FINISHED:
                    if raise_on_failure and current["status"] != "succeeded":
                        raise JobFailed(current)
                    return current
                delay = poll
                # Short jobs answer quickly; long ones need not be asked twice a second.
                poll = min(poll * 1.25, max_poll)
            if timeout is not None and self.clock() - started > timeout:
                raise JobTimeout(current, timeout)
            self.http.sleep(delay)

    # -- internals ------------------------------------------------------------------------------

    def _create(self, path: str, idempotency_key: str | None, **kwargs: Any) -> Job:
        # One key per logical request, the same on every network retry: a server that honours it
        # answers a repeat with the job the first attempt created.
        headers = {IDEMPOTENCY_HEADER: idempotency_key or str(uuid.uuid4())}
        return self.http.request("POST", path, retry=True, headers=headers, **kwargs)

    def _pages(self, path: str, params: dict) -> Iterator[dict]:
        page = self.http.request("GET", path, params={**params, "page_size": 500}, retry=True)
        while True:
            yield from page["results"]
            if not page.get("next"):
                return
            page = self.http.request("GET", page["next"], retry=True)

    def _download(self, path: str, dest: Path) -> Path:
        """Stream into a temporary file beside `dest`, then rename: `dest` exists only when complete
        (which is what lets the CLI resume a batch), with the mode the user's umask gives new files."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        response = self.http.request("GET", path, retry=True, stream=True, expect_json=False)
        with contextlib.closing(response), atomic_writer(dest) as out:
            for chunk in response.iter_content(1024 * 1024):
                out.write(chunk)
        return dest


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {path}")
    return path


def _form_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
