"""Idempotency-Key on job creation: a repeated request gets the first request's job."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from integrations.idempotency import purge_expired
from integrations.models import IdempotencyKey
from tests.images import png_bytes
from webapp.models import AssetSet, Job, Membership, Project, Role

pytestmark = pytest.mark.django_db

SLEEP = {"kind": "diagnostics.sleep", "params": {"seconds": 0.0}}


def post_job(api, project, key, payload=SLEEP):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post(f"/api/v1/projects/{project.id}/jobs", payload, format="json", **headers)


def test_the_same_key_twice_gives_one_job(api_for, alice, project):
    api = api_for(alice)
    first, again = post_job(api, project, "order-17"), post_job(api, project, "order-17")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Job.objects.count() == 1
    # The same body with its keys in another order is the same request.
    reordered = {"params": {"seconds": 0.0}, "kind": "diagnostics.sleep"}
    assert post_job(api, project, "order-17", reordered).json()["id"] == first.json()["id"]
    assert post_job(api, project, None).json()["id"] != first.json()["id"]  # no key: always a new job


def test_the_same_key_with_another_body_is_refused(api_for, alice, project):
    api = api_for(alice)
    post_job(api, project, "k1")
    response = post_job(api, project, "k1", {"kind": "diagnostics.sleep", "params": {"seconds": 1.0}})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused" and "different request" in error["message"]
    assert Job.objects.count() == 1


def test_keys_are_per_user_and_per_project(api_for, alice, bob, project):
    Membership.objects.create(project=project, user=bob, role=Role.EDITOR)
    other = Project.objects.create(name="Second", slug="second")
    Membership.objects.create(project=other, user=alice, role=Role.OWNER)
    ids = {post_job(api_for(alice), project, "same")["Location"],
           post_job(api_for(bob), project, "same")["Location"],
           post_job(api_for(alice), other, "same")["Location"]}
    assert len(ids) == 3 and Job.objects.count() == 3


def test_keys_expire_after_a_day_and_can_be_purged(api_for, alice, project):
    api = api_for(alice)
    first = post_job(api, project, "daily").json()
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    second = post_job(api, project, "daily")
    assert second.status_code == 202 and second.json()["id"] != first["id"]
    assert "Idempotent-Replayed" not in second and Job.objects.count() == 2
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_expired() == 1 and IdempotencyKey.objects.count() == 0


def test_key_length_is_checked(api_for, alice, project):
    api = api_for(alice)
    too_long = post_job(api, project, "x" * 256)
    assert too_long.status_code == 400 and too_long.json()["error"]["field"] == "Idempotency-Key"
    assert post_job(api, project, "").status_code == 400
    assert post_job(api, project, "x" * 255).status_code == 202 and Job.objects.count() == 1


def test_a_refused_request_does_not_use_up_its_key(api_for, alice, project):
    api = api_for(alice)
    bad = post_job(api, project, "retry-me", {"kind": "diagnostics.sleep", "params": {"seconds": -1}})
    assert bad.status_code == 400 and IdempotencyKey.objects.count() == 0
    assert post_job(api, project, "retry-me").status_code == 202


def test_a_key_whose_first_request_is_still_running_answers_409(api_for, alice, project):
    from integrations.idempotency import fingerprint

    # What a concurrent request finds: the first one has claimed the key but not made its job yet.
    IdempotencyKey.objects.create(project=project, user=alice, key="busy", fingerprint=fingerprint(SLEEP))
    response = post_job(api_for(alice), project, "busy")
    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_key_in_use"
    assert Job.objects.count() == 0


def test_capture_upload_with_a_key_stores_the_photos_once(api_for, alice, project):
    api = api_for(alice)

    def capture(guide_seed):
        data = {"flash": SimpleUploadedFile("flash.png", png_bytes(256, 192, seed=1)),
                "guide": SimpleUploadedFile("guide.png", png_bytes(256, 192, seed=guide_seed))}
        return api.post(f"/api/v1/projects/{project.id}/materials/capture", data, format="multipart",
                        HTTP_IDEMPOTENCY_KEY="capture-1")

    first, again = capture(2), capture(2)
    assert first.status_code == again.status_code == 202, first.content
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert AssetSet.objects.count() == 1 and Job.objects.count() == 1
    assert capture(3).status_code == 422  # another guide photo: another request


def post_upload(api, project, key, content, **fields):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    data = {"files": [SimpleUploadedFile("wall.png", content)], "previews": "false", **fields}
    return api.post(f"/api/v1/projects/{project.id}/uploads", data, format="multipart", **headers)


def test_an_upload_repeated_with_its_key_stores_nothing_more(api_for, alice, project, isolated_storage):
    api = api_for(alice)
    first = post_upload(api, project, "wall-sha", png_bytes(seed=1))
    again = post_upload(api, project, "wall-sha", png_bytes(seed=1))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert AssetSet.objects.count() == 1 and len([p for p in isolated_storage.rglob("*.png")]) == 1
    other_file = post_upload(api, project, "wall-sha", png_bytes(seed=2))
    assert other_file.status_code == 422 and AssetSet.objects.count() == 1


def test_an_upload_whose_set_was_deleted_is_stored_again_under_its_key(api_for, alice, project):
    api = api_for(alice)
    first = post_upload(api, project, "wall", png_bytes(seed=1)).json()
    assert api.delete(f"/api/v1/projects/{project.id}/sets/{first['set']['id']}").status_code == 204
    again = post_upload(api, project, "wall", png_bytes(seed=1))
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert again.json()["set"]["id"] != first["set"]["id"] and AssetSet.objects.count() == 1
    assert post_upload(api, project, "wall", png_bytes(seed=1))["Idempotent-Replayed"] == "true"


def test_a_refused_upload_does_not_use_up_its_key(api_for, alice, project):
    api = api_for(alice)
    assert post_upload(api, project, "u1", b"not an image").status_code == 400
    assert IdempotencyKey.objects.count() == 0
    assert post_upload(api, project, "u1", png_bytes()).status_code == 201
