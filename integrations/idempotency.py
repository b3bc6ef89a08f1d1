"""`Idempotency-Key` for job-creating requests and uploads: a client that retries a request (after
a timeout, say) with the same key gets the job (or the uploaded assets) the first request created
instead of a second one.

A key belongs to one user in one project and is remembered for IDEMPOTENCY_KEY_HOURS. Its row is
written before the job is created, so of two concurrent requests with the same key only one
creates a job; the other sees the row and replays that job, or answers 409 while it is in the making.
"""

import hashlib
import json
from datetime import timedelta
from typing import Callable

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from integrations.models import IdempotencyKey
from webapp.api.errors import Conflict
from webapp.models import Asset, AssetSet, Job, Project

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

OPENAPI_PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False,
    description="Any unique string of up to 255 characters. Repeating the request with the same key within "
                "24 hours answers with what the first request created (header Idempotent-Replayed: true) "
                "instead of creating it again; the same key with a different body answers 422.",
)


class KeyReusedWithOtherRequest(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (f"This {HEADER} was already used with a different request in the last 24 hours; "
                      "send a new key for a new request.")
    default_code = "idempotency_key_reused"


class KeyInUse(Conflict):
    default_detail = (f"A request with this {HEADER} is still being processed; "
                      "repeat it in a moment to get its job.")
    default_code = "idempotency_key_in_use"


def create_once(request, project: Project, create: Callable[[], Job]) -> tuple[Job, bool]:
    """`create()` the job, unless the request's key already made one: returns (job, replayed)."""
    key = _key_of(request)
    if key is None:
        return create(), False
    claim, earlier = _claim(project, request.user, key, fingerprint(request.data))
    if earlier is not None:
        if earlier.job is None:
            raise KeyInUse()
        return earlier.job, True
    try:
        job = create()
    except BaseException:
        claim.delete()  # nothing was created: the client may fix the request and use the key again
        raise
    claim.job = job
    claim.save(update_fields=["job"])
    return job, False


def upload_once(request, project: Project, store: Callable[[], tuple]) -> tuple[tuple, bool]:
    """`store()` the upload (returns (asset_set, assets, previews_job)) unless the request's key
    already stored it: returns (that triple, replayed). An earlier upload whose set or assets
    were deleted since is not replayed: the key is used again for a new one."""
    key = _key_of(request)
    if key is None:
        return store(), False
    request_fingerprint = fingerprint(request.data)
    claim, earlier = _claim(project, request.user, key, request_fingerprint)
    if earlier is not None:
        if earlier.upload is None:
            raise KeyInUse()
        stored = _stored_upload(project, earlier.upload)
        if stored is not None:
            return stored, True
        earlier.delete()
        claim, earlier = _claim(project, request.user, key, request_fingerprint)
        if earlier is not None:  # another request took the key in between
            raise KeyInUse()
    try:
        asset_set, assets, previews_job = store()
    except BaseException:
        claim.delete()
        raise
    claim.upload = {"set": str(asset_set.pk), "assets": [str(a.pk) for a in assets],
                    "previews_job": str(previews_job.pk) if previews_job else None}
    claim.save(update_fields=["upload"])
    return (asset_set, assets, previews_job), False


def _stored_upload(project: Project, upload: dict):
    asset_set = AssetSet.objects.filter(project=project, pk=upload["set"]).first()
    assets = {str(a.pk): a for a in Asset.objects.filter(asset_set=asset_set, pk__in=upload["assets"])}
    if asset_set is None or len(assets) != len(upload["assets"]):
        return None
    previews_job = Job.objects.filter(project=project, pk=upload["previews_job"]).first() \
        if upload["previews_job"] else None
    return asset_set, [assets[i] for i in upload["assets"]], previews_job


def _key_of(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ValidationError({HEADER: f"Must be 1 to {MAX_KEY_LENGTH} characters."})
    return key


def _claim(project, user, key, request_fingerprint) -> tuple[IdempotencyKey | None, IdempotencyKey | None]:
    """Write the key's row (returns (it, None)), or find the row of an earlier request with it
    (returns (None, that row))."""
    mine = IdempotencyKey.objects.filter(project=project, user=user, key=key)
    mine.filter(created_at__lt=expiry_cutoff()).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(project=project, user=user, key=key,
                                                 fingerprint=request_fingerprint), None
    except IntegrityError:
        earlier = mine.select_related("job").first()
    if earlier is None:  # expired and purged in between: rare enough to ask for a retry
        raise KeyInUse()
    if earlier.fingerprint != request_fingerprint:
        raise KeyReusedWithOtherRequest()
    return None, earlier


def expiry_cutoff():
    return timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


def purge_expired() -> int:
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=expiry_cutoff()).delete()
    return deleted


def fingerprint(data) -> str:
    """SHA-256 of the request body as canonical JSON (sorted keys; files by name and content)."""
    canonical = json.dumps(_canonical(data), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value):
    if isinstance(value, MultiValueDict):  # form and multipart bodies
        return {k: [_canonical(v) for v in value.getlist(k)] for k in value}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, UploadedFile):
        return {"file": value.name, "sha256": _file_sha256(value)}
    return value


def _file_sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()
