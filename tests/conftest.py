"""Shared fixtures: isolated media storage, users with tokens, API clients and test images."""

import pytest


@pytest.fixture(autouse=True)
def isolated_storage(settings, tmp_path):
    """Each test stores files in its own media and staging directories."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(tmp_path / "media")}},
    }
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.JOB_STAGING_ROOT = str(tmp_path / "staging")
    return tmp_path / "media"


@pytest.fixture
def make_user(db, django_user_model):
    from webapp.models import ApiToken

    def make(username="alice"):
        user = django_user_model.objects.create_user(username=username, password="pw-" + username,
                                                     email=f"{username}@example.com")
        _, key = ApiToken.issue(user, "tests")
        user.api_key = key
        return user

    return make


@pytest.fixture
def api_for():
    from rest_framework.test import APIClient

    def client(user=None):
        api = APIClient()
        if user is not None:
            api.credentials(HTTP_AUTHORIZATION=f"Token {user.api_key}")
        return api

    return client


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def project(alice):
    from webapp.models import Membership, Project, Role

    project = Project.objects.create(name="Alice's project", slug="alice")
    Membership.objects.create(project=project, user=alice, role=Role.OWNER)
    return project


@pytest.fixture
def run_queued_jobs():
    """Run every message waiting on the stub broker through the job service, in this thread
    (so the test's database transaction sees the same rows). Returns the jobs' statuses.
    Messages of other actors (webhook deliveries) run as they are, delays ignored."""
    import dramatiq

    from webapp.services.jobs import RetryJob, execute_job

    broker = dramatiq.get_broker()

    def run():
        statuses = []
        progressed = True
        while progressed:
            progressed = False
            for name in list(broker.queues):
                queue = broker.queues[name]
                while not queue.empty():
                    message = dramatiq.Message.decode(queue.get_nowait())
                    progressed = True
                    if message.actor_name not in ("run_gpu_job", "run_default_job"):
                        broker.get_actor(message.actor_name).fn(*message.args, **message.kwargs)
                        continue
                    try:
                        statuses.append(execute_job(*message.args))
                    except RetryJob:
                        broker.enqueue(message)  # what the Retries middleware does, without its delay
                        statuses.append("retry")
        return statuses

    broker.flush_all()
    yield run
    broker.flush_all()


@pytest.fixture
def upload():
    """POST files ([(name, bytes)]) to a project's upload endpoint; returns the response."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def post(api, project, files, **fields):
        data = {"files": [SimpleUploadedFile(name, content) for name, content in files], **fields}
        return api.post(f"/api/v1/projects/{project.id}/uploads", data, format="multipart")

    return post
