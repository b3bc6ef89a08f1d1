"""The job life cycle inside a worker: retries, failures, cancellation and the one-step commit."""

from pathlib import Path

import pytest
from django.conf import settings
from rest_framework import serializers

from webapp.jobs import registry
from webapp.jobs.runtime import JobInputError
from webapp.models import AssetSet, Job, JobStatus
from webapp.services import jobs as job_service

pytestmark = pytest.mark.django_db

CALLS = {"n": 0}


class NoParams(serializers.Serializer):
    pass


def flaky_runner(ctx):
    """Fails on the first attempt, succeeds on the second."""
    CALLS["n"] += 1
    ctx.add_output("one.png", "texture", pixels=_pixels())
    if ctx.job.attempts == 1:
        raise RuntimeError("transient trouble")


def broken_runner(ctx):
    ctx.add_output("partial.png", "texture", pixels=_pixels())
    raise RuntimeError("always broken")


def bad_input_runner(ctx):
    raise JobInputError("too few matches for the master tile; capture a larger area")


def cancelling_runner(ctx):
    ctx.add_output("partial.png", "texture", pixels=_pixels())
    Job.objects.filter(pk=ctx.job.pk).update(status=JobStatus.CANCELLED)
    ctx.progress(0.5, "halfway")


def _pixels():
    import numpy as np

    return np.full((8, 8, 3), 100, np.uint8)


@pytest.fixture
def test_kind():
    made = []

    def make(runner, max_attempts=3):
        kind = registry.JobKind(name=f"test.{runner}", title="Test", params=NoParams,
                                runner=f"tests.webapp.test_job_service:{runner}", max_attempts=max_attempts)
        registry._kinds[kind.name] = kind
        made.append(kind.name)
        return kind.name

    yield make
    for name in made:
        registry._kinds.pop(name, None)


def test_transient_error_is_retried_and_leaves_exactly_one_output_set(project, alice, test_kind, run_queued_jobs):
    job = job_service.create_job(project, alice, test_kind("flaky_runner"))
    assert run_queued_jobs() == ["retry", "succeeded"]
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 2
    assert AssetSet.objects.filter(job=job).count() == 1
    assert list(Path(settings.JOB_STAGING_ROOT, str(job.pk)).glob("attempt-*")) == []  # staging cleaned


def test_persistent_error_fails_after_max_attempts_without_output(project, alice, test_kind, run_queued_jobs,
                                                                   isolated_storage):
    job = job_service.create_job(project, alice, test_kind("broken_runner", max_attempts=2))
    assert run_queued_jobs() == ["retry", "failed"]
    job.refresh_from_db()
    assert job.status == "failed" and job.attempts == 2 and "always broken" in job.error
    assert job.output_set is None and AssetSet.objects.count() == 0
    assert list(isolated_storage.rglob("*.png")) == []


def test_input_errors_fail_at_once_with_the_users_message(project, alice, test_kind, run_queued_jobs):
    job = job_service.create_job(project, alice, test_kind("bad_input_runner"))
    assert run_queued_jobs() == ["failed"]
    job.refresh_from_db()
    assert job.attempts == 1 and job.error.startswith("too few matches")


def test_cancel_while_running_stops_at_next_progress_and_stores_nothing(project, alice, test_kind, run_queued_jobs):
    job = job_service.create_job(project, alice, test_kind("cancelling_runner"))
    assert run_queued_jobs() == ["cancelled"]
    job.refresh_from_db()
    assert job.status == "cancelled" and job.output_set is None and AssetSet.objects.count() == 0


def test_commit_is_idempotent_for_a_redelivered_job(project, alice, run_queued_jobs):
    job = job_service.create_job(project, alice, "diagnostics.sleep", {"seconds": 0})
    assert run_queued_jobs() == ["succeeded"]
    # A second delivery of the same message (worker died after commit, before ack) does nothing.
    assert job_service.execute_job(str(job.pk)) == "succeeded"
    assert AssetSet.objects.filter(job=job).count() == 1


def test_time_limit_is_reported_as_a_failure(project, alice, test_kind, run_queued_jobs, monkeypatch):
    class FakeTimeLimit(BaseException):
        pass

    def over_time(ctx):
        raise FakeTimeLimit()

    monkeypatch.setattr(job_service, "_import_runner", lambda path: over_time)
    job = job_service.create_job(project, alice, "diagnostics.sleep", {"seconds": 0})
    assert job_service.execute_job(str(job.pk), time_limit_error=FakeTimeLimit) == "failed"
    job.refresh_from_db()
    assert "time limit of 180 s" in job.error


def test_queue_down_fails_the_job_and_answers_503(api_for, alice, project, monkeypatch):
    from gpu_workers import tasks

    def refuse(**kwargs):
        raise ConnectionError("no broker")

    monkeypatch.setattr(tasks.run_default_job, "send_with_options", refuse)
    response = api_for(alice).post(f"/api/v1/projects/{project.id}/jobs",
                                   {"kind": "diagnostics.sleep", "params": {}}, format="json")
    assert response.status_code == 503
    assert Job.objects.get().status == "failed"


def test_upload_is_kept_when_the_queue_is_down(api_for, alice, project, upload, monkeypatch):
    from gpu_workers import tasks
    from tests.images import png_bytes

    def refuse(**kwargs):
        raise ConnectionError("no broker")

    monkeypatch.setattr(tasks.run_default_job, "send_with_options", refuse)
    response = upload(api_for(alice), project, [("a.png", png_bytes())])
    assert response.status_code == 201 and response.json()["previews_job"] is None
    assert AssetSet.objects.filter(project=project).count() == 1


def test_job_given_up_after_killed_workers_is_failed_and_their_staging_removed(project, alice, run_queued_jobs):
    # Two attempts whose workers were killed mid-run: rows left "running", staging folders left behind.
    job = job_service.create_job(project, alice, "diagnostics.sleep", {"seconds": 0})
    left_behind = Path(settings.JOB_STAGING_ROOT, str(job.pk), "attempt-2-killed")
    left_behind.mkdir(parents=True)
    (left_behind / "half.png").write_bytes(b"partial")
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=job.max_attempts, stage="fitting")
    # The broker redelivers the message once more.
    assert job_service.execute_job(str(job.pk)) == "failed"
    job.refresh_from_db()
    assert job.error.startswith("Gave up after") and job.stage == "failed" and job.finished_at is not None
    assert not left_behind.parent.exists()
