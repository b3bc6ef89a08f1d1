"""Job life cycle: create and enqueue, cancel, execute in a worker, commit outputs in one step."""

import importlib
import logging
import shutil
import socket

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from webapp.api.errors import Conflict, ServiceUnavailable
from webapp.jobs import registry
from webapp.jobs.runtime import JobCancelled, JobContext, JobInputError, make_staging_dir, staging_root_for
from webapp.models import ACTIVE_STATUSES, Asset, AssetSet, Job, JobStatus, Project
from webapp.services.assets import IMAGE_FORMATS, default_colour_space, delete_files, store_file
from webapp.signals import job_finished

log = logging.getLogger(__name__)


# -- creation --------------------------------------------------------------------------------

def _as_list(value):
    return value if isinstance(value, list) else [value]


def resolve_inputs(project: Project, kind: registry.JobKind, raw_inputs) -> tuple[dict, dict[str, list[Asset]]]:
    """Validate the named inputs against the kind's spec; ids must belong to `project`.

    Returns (inputs as stored: name -> id or [ids], assets by name with sets expanded to their
    images). An asset given by id must be an image.
    A bare list is shorthand for {"assets": [...]}.
    """
    if raw_inputs is None:
        raw_inputs = {}
    if isinstance(raw_inputs, list):
        raw_inputs = {"assets": raw_inputs}
    if not isinstance(raw_inputs, dict):
        raise ValidationError({"inputs": "Expected an object of named inputs, e.g. {\"assets\": [\"<id>\"]}."})
    unknown = set(raw_inputs) - set(kind.inputs)
    if unknown:
        raise ValidationError({"inputs": f"Unknown input(s) {sorted(unknown)} for {kind.name}; "
                                         f"it takes {sorted(kind.inputs) or 'none'}."})
    stored, assets = {}, {}
    for name, spec in kind.inputs.items():
        value = raw_inputs.get(name)
        if value in (None, [], ""):
            if spec.required:
                raise ValidationError({f"inputs.{name}": "This input is required."})
            continue
        if not spec.many and isinstance(value, list):
            raise ValidationError({f"inputs.{name}": "Expected a single id, not a list."})
        ids = _as_list(value)
        if not all(isinstance(i, str) for i in ids):
            raise ValidationError({f"inputs.{name}": "Expected id strings."})
        ids = _valid_uuids(ids, name)  # canonical form: upper case or without hyphens is the same id
        if spec.kind == "set":
            found = {str(s.pk): s for s in AssetSet.objects.filter(project=project, pk__in=ids)}
            resolved = []
            for i in ids:
                if i not in found:
                    raise ValidationError({f"inputs.{name}": f"No asset set {i} in this project."})
                # A set's files that are not images (a capture's report.json, an export's glTF
                # model) are no tool's input: every job kind reads pixels.
                resolved.extend(a for a in found[i].assets.all() if a.format in IMAGE_FORMATS)
        else:
            found = {str(a.pk): a for a in Asset.objects.filter(asset_set__project=project, pk__in=ids)}
            missing = [i for i in ids if i not in found]
            if missing:
                raise ValidationError({f"inputs.{name}": f"No asset {missing[0]} in this project."})
            resolved = [found[i] for i in ids]
            not_image = next((a for a in resolved if a.format not in IMAGE_FORMATS), None)
            if not_image is not None:
                raise ValidationError({f"inputs.{name}": f"{not_image.name} is not an image "
                                                         f"({not_image.format.upper()} file)."})
        stored[name] = ids if spec.many else ids[0]
        assets[name] = resolved
    return stored, assets


def _valid_uuids(ids, name):
    import uuid

    try:
        return [str(uuid.UUID(i)) for i in ids]
    except ValueError:
        raise ValidationError({f"inputs.{name}": "Not a valid id."}) from None


def validate_params(kind: registry.JobKind, raw_params) -> dict:
    serializer = kind.params(data=raw_params if raw_params is not None else {})
    if isinstance(raw_params, dict):
        # A misspelt parameter ("sclae") would otherwise run the job on its default.
        unknown = sorted(set(raw_params) - set(serializer.fields))
        if unknown:
            raise ValidationError({"params": f"Unknown parameter(s) {unknown} for {kind.name}; "
                                             f"it takes {sorted(serializer.fields) or 'none'}."})
    if not serializer.is_valid():
        raise ValidationError({"params": serializer.errors})
    return serializer.validated_data


def create_job(project: Project, user, kind_name: str, raw_params=None, raw_inputs=None) -> Job:
    try:
        kind = registry.get(kind_name)
    except registry.UnknownJobKind:
        known = ", ".join(k.name for k in registry.all_kinds())
        raise ValidationError({"kind": f"Unknown job kind '{kind_name}'. Known kinds: {known}."}) from None
    params = validate_params(kind, raw_params)
    inputs, assets = resolve_inputs(project, kind, raw_inputs)
    if kind.check:
        kind.check(assets, params)
    with transaction.atomic():
        job = Job.objects.create(
            project=project, created_by=user if user and user.is_authenticated else None, kind=kind.name,
            params=_jsonable(params), inputs=inputs, queue=kind.queue, time_limit_s=kind.time_limit_s,
            max_attempts=kind.max_attempts,
        )
        job.input_assets.set({a.pk for group in assets.values() for a in group})
    enqueue(job)
    return job


def _jsonable(params: dict) -> dict:
    import json

    return json.loads(json.dumps(params, default=str))


def enqueue(job: Job) -> None:
    from gpu_workers.tasks import actor_for_queue

    try:
        actor_for_queue(job.queue).send_with_options(
            args=(str(job.pk),),
            time_limit=job.time_limit_s * 1000,
            max_retries=max(job.max_attempts - 1, 0),
        )
    except Exception as exc:
        log.exception("could not enqueue job %s", job.pk)
        with transaction.atomic():
            Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="The job queue is unavailable.",
                                                 finished_at=timezone.now())
            _announce_finished(job.pk, JobStatus.FAILED)
        raise ServiceUnavailable("The job queue is unavailable; the job was not started.") from exc


def cancel_job(job: Job) -> Job:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status not in ACTIVE_STATUSES:
            raise Conflict(f"The job has already {job.status}; only queued or running jobs can be cancelled.")
        job.status = JobStatus.CANCELLED
        job.stage = "cancelled"
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "stage", "finished_at", "updated_at"])
        _announce_finished(job.pk, JobStatus.CANCELLED)
    return job


def _announce_finished(job_id, status: str) -> None:
    """Called wherever a job's final status is written, inside that write's transaction."""
    job_finished.send(sender=Job, job_id=job_id, status=status)


# -- execution (inside a worker process) ------------------------------------------------------

class RetryJob(Exception):
    """Re-raised to the broker so the attempt is retried with back-off."""


def execute_job(job_id: str, *, time_limit_error: type[BaseException] | None = None) -> str:
    """Run one attempt of a job; returns the job's status afterwards.

    Called by the Dramatiq actors. A redelivered message of a finished job does nothing;
    an unexpected error is re-raised (so the broker retries) until the attempts run out.
    """
    job = _start_attempt(job_id)
    if job is None:
        # Finished (or given up) already: drop what attempts of killed workers staged for it.
        shutil.rmtree(staging_root_for(settings.JOB_STAGING_ROOT, job_id), ignore_errors=True)
        return Job.objects.filter(pk=job_id).values_list("status", flat=True).first() or "missing"
    kind = registry.get(job.kind)
    staging = make_staging_dir(settings.JOB_STAGING_ROOT, job)
    try:
        ctx = JobContext(job, job.params, _input_assets(job, kind), staging, job.device)
        runner = _import_runner(kind.runner)
        ctx.progress(0.0, "starting")
        runner(ctx)
        ctx.progress(1.0, "saving results")
        return commit_outputs(job, kind, ctx)
    except JobCancelled:
        return JobStatus.CANCELLED
    except JobInputError as exc:
        return _finish_failed(job, str(exc))
    except BaseException as exc:  # noqa: BLE001 - time limits arrive as a BaseException subclass
        if time_limit_error is not None and isinstance(exc, time_limit_error):
            return _finish_failed(job, f"The job ran over its time limit of {job.time_limit_s} s.")
        if not isinstance(exc, Exception):
            raise
        log.exception("job %s attempt %s failed", job.pk, job.attempts)
        if job.attempts < job.max_attempts:
            Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.QUEUED, stage=f"retrying after an error (attempt {job.attempts})"
            )
            raise RetryJob(str(exc)) from exc
        return _finish_failed(job, f"Internal error after {job.attempts} attempts: {type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not Job.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).exists():
            # Finished for good: also drop what attempts of killed workers left behind.
            shutil.rmtree(staging.parent, ignore_errors=True)


def _start_attempt(job_id: str) -> Job | None:
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in ACTIVE_STATUSES:
            return None
        if job.attempts >= job.max_attempts:
            job.status, job.error = JobStatus.FAILED, f"Gave up after {job.attempts} attempts."
            job.stage, job.finished_at = "failed", timezone.now()
            job.save()
            _announce_finished(job.pk, JobStatus.FAILED)
            return None
        job.attempts += 1
        job.status = JobStatus.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.worker_host = socket.gethostname()[:200]
        job.device = _device_for(job.queue)
        job.error = ""
        job.save()
        return job


def _device_for(queue: str) -> str:
    if queue != "gpu":
        return "cpu"
    from gpu_workers.device import pick_device

    return pick_device()


def _input_assets(job: Job, kind: registry.JobKind) -> dict[str, list[Asset]]:
    """The job's inputs, read again: one deleted since the job was queued fails it at once
    with the reason (not a retried internal error)."""
    try:
        _, assets = resolve_inputs(job.project, kind, job.inputs)
    except ValidationError as exc:
        messages = [str(m) for value in exc.detail.values() for m in (value if isinstance(value, list) else [value])]
        raise JobInputError(f"An input is no longer available: {' '.join(messages)}") from None
    return assets


def _import_runner(path: str):
    module_name, _, func = path.partition(":")
    return getattr(importlib.import_module(module_name), func)


def _finish_failed(job: Job, message: str) -> str:
    with transaction.atomic():
        # Only a running job fails here: one cancelled meanwhile stays cancelled (and was announced).
        if Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, error=message[:4000], finished_at=timezone.now(), stage="failed"
        ):
            _announce_finished(job.pk, JobStatus.FAILED)
    return JobStatus.FAILED


def commit_outputs(job: Job, kind: registry.JobKind, ctx: JobContext) -> str:
    """Store the staged outputs and create their asset set in one transaction.

    The job row is locked first: a cancelled job stores nothing, and a job that already has
    an output set (an earlier attempt committed, then its worker died before acknowledging)
    keeps that one, so there is never a second or half-written set.
    """
    from imaging.io import probe_image

    stored: list[str] = []
    try:
        with transaction.atomic():
            locked = Job.objects.select_for_update().get(pk=job.pk)
            if locked.status == JobStatus.CANCELLED:
                return JobStatus.CANCELLED
            if locked.output_set_id is None and ctx.outputs.assets:
                outputs = ctx.outputs
                asset_set = AssetSet(project_id=job.project_id, name=outputs.name or f"{kind.title}",
                                     kind=outputs.kind or kind.output_kind, job=locked)
                asset_set.set_tags(outputs.tags)
                asset_set.save()
                for staged in outputs.assets:
                    info = staged.info or probe_image(staged.path)
                    asset = store_file(asset_set, staged.path, name=staged.name, role=staged.role, info=info,
                                       colour_space=staged.colour_space or default_colour_space(staged.role, info.bit_depth),
                                       source=staged.source, metadata=staged.metadata)
                    stored.append(asset.file.name)
                locked.output_set = asset_set
            for step in ctx.commit_steps:
                step(locked, stored)
            locked.status = JobStatus.SUCCEEDED
            locked.progress, locked.stage = 1.0, "done"
            locked.result = _jsonable(ctx.result)
            locked.finished_at = timezone.now()
            locked.save()
            _announce_finished(locked.pk, JobStatus.SUCCEEDED)
        return JobStatus.SUCCEEDED
    except Exception:
        delete_files(stored)
        raise
