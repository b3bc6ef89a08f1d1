"""Job creation, validation, cancellation and execution through the job service."""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.images import png_bytes
from webapp.models import Asset, AssetSet, Job, Membership, Project, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploaded(upload):
    """Upload without queuing previews; returns the response body."""
    def post(api, project, files, **fields):
        response = upload(api, project, files, previews="false", **fields)
        assert response.status_code == 201, response.content
        return response.json()

    return post


def create(api, project, kind, params=None, inputs=None):
    return api.post(f"/api/v1/projects/{project.id}/jobs",
                    {"kind": kind, "params": params or {}, "inputs": inputs or {}}, format="json")


def test_create_answers_202_with_location_and_runs_to_success(api_for, alice, project, run_queued_jobs, uploaded):
    api = api_for(alice)
    body = uploaded(api, project, [("t.png", png_bytes(600, 300)), ("h.png", png_bytes(64, 64, 1, np.uint16))],
                      roles=["texture", "height"])
    response = create(api, project, "previews", {"max_size": 128}, {"assets": [a["id"] for a in body["assets"]]})
    assert response.status_code == 202
    job = response.json()
    assert response["Location"] == f"http://testserver{job['url']}"
    assert job["url"] == f"/api/v1/projects/{project.id}/jobs/{job['id']}"
    assert job["status"] == "queued" and job["queue"] == "default" and job["params"] == {"max_size": 128}
    assert run_queued_jobs() == ["succeeded"]
    done = api.get(job["url"]).json()
    assert done["status"] == "succeeded" and done["progress"] == 1.0 and done["attempts"] == 1
    assert done["device"] == "cpu" and done["worker_host"] and done["finished_at"]
    output = AssetSet.objects.get(pk=done["output_set"])
    assert output.kind == "preview" and output.job_id == Job.objects.get(pk=job["id"]).pk
    roles = sorted((a.role, a.source.name) for a in output.assets.all())
    # Every input gets a thumbnail; only the 16-bit one also gets a tone-mapped preview.
    assert roles == [("preview", "height.png"), ("thumbnail", "height.png"), ("thumbnail", "texture.png")]
    thumb = output.assets.get(role="thumbnail", source__name="texture.png")
    assert (thumb.width, thumb.height, thumb.bit_depth, thumb.colour_space) == (128, 64, "8", "srgb")
    listed = api.get(f"/api/v1/projects/{project.id}/assets/{body['assets'][0]['id']}").json()
    assert listed["thumbnail_url"].endswith(f"/assets/{thumb.id}/download")
    input_set = api.get(f"/api/v1/projects/{project.id}/sets/{body['set']['id']}").json()
    assert input_set["thumbnail_url"] and input_set["thumbnail_url"].endswith("/download")


def test_upload_queues_previews_by_default(api_for, alice, project, run_queued_jobs):
    api = api_for(alice)
    response = api.post(f"/api/v1/projects/{project.id}/uploads",
                        {"files": [SimpleUploadedFile("a.png", png_bytes())]}, format="multipart")
    job_id = response.json()["previews_job"]
    assert job_id and run_queued_jobs() == ["succeeded"]
    assert Job.objects.get(pk=job_id).output_set.assets.count() == 1


def test_previews_of_inputs_with_one_name(api_for, alice, project, run_queued_jobs, uploaded):
    """Two uploads stored as texture.png (in two sets) get a thumbnail each, under two names."""
    api = api_for(alice)
    first = uploaded(api, project, [("a.png", png_bytes(32, 32))])["assets"][0]
    second = uploaded(api, project, [("b.png", png_bytes(48, 16))])["assets"][0]
    assert first["name"] == second["name"]
    job = create(api, project, "previews", inputs={"assets": [first["id"], second["id"]]}).json()
    assert run_queued_jobs() == ["succeeded"]
    thumbs = Job.objects.get(pk=job["id"]).output_set.assets.filter(role="thumbnail")
    assert sorted(str(t.source_id) for t in thumbs) == sorted([first["id"], second["id"]])
    assert len({t.name for t in thumbs}) == 2
    assert {(t.source_id, t.width) for t in thumbs} == {(Asset.objects.get(pk=first["id"]).pk, 32),
                                                       (Asset.objects.get(pk=second["id"]).pk, 48)}


@pytest.mark.parametrize("payload, field, text", [
    ({"kind": "material.nope"}, "kind", "Unknown job kind"),
    ({"kind": "previews", "params": {"max_size": "big"}, "inputs": {"assets": []}}, "params.max_size", "valid integer"),
    ({"kind": "previews", "params": {"max_size": 5000}}, "params.max_size", "less than or equal"),
    ({"kind": "previews", "inputs": {}}, "inputs", "at least one"),
    ({"kind": "previews", "inputs": {"bogus": []}}, "inputs", "Unknown input"),
    ({"kind": "previews", "inputs": {"assets": ["not-a-uuid"]}}, "inputs.assets", "valid id"),
    ({"kind": "previews", "params": {"max_sise": 64}, "inputs": {"assets": []}}, "params", "Unknown parameter"),
    ({"kind": "previews", "inputs": {"assets": "00000000-0000-0000-0000-000000000000"}}, "inputs.assets", "No asset"),
])
def test_bad_job_requests_get_field_errors_and_create_nothing(api_for, alice, project, payload, field, text):
    response = api_for(alice).post(f"/api/v1/projects/{project.id}/jobs", payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field and text in error["message"], error
    assert Job.objects.count() == 0


def test_input_ids_are_read_in_any_uuid_spelling(api_for, alice, project, uploaded):
    api = api_for(alice)
    body = uploaded(api, project, [("a.png", png_bytes())])
    asset_id = body["assets"][0]["id"]
    for spelling in (asset_id.upper(), asset_id.replace("-", "")):
        job = create(api, project, "previews", inputs={"assets": [spelling]})
        assert job.status_code == 202, job.json()
        assert job.json()["inputs"] == {"assets": [asset_id]}


def test_a_job_whose_input_was_deleted_fails_once_with_the_reason(api_for, alice, project, uploaded, run_queued_jobs):
    api = api_for(alice)
    body = uploaded(api, project, [("a.png", png_bytes())])
    job = create(api, project, "previews", inputs={"assets": [body["assets"][0]["id"]]}).json()
    assert api.delete(f"/api/v1/projects/{project.id}/sets/{body['set']['id']}").status_code == 204
    assert run_queued_jobs() == ["failed"]
    failed = Job.objects.get(pk=job["id"])
    assert failed.attempts == 1 and failed.output_set is None
    assert failed.error.startswith("An input is no longer available: No asset"), failed.error


def test_inputs_from_another_project_are_refused(api_for, alice, bob, project, uploaded):
    other = Project.objects.create(name="Bob's", slug="bob")
    Membership.objects.create(project=other, user=bob, role=Role.OWNER)
    bobs = uploaded(api_for(bob), other, [("b.png", png_bytes())])
    response = create(api_for(alice), project, "previews", inputs={"assets": [bobs["assets"][0]["id"]]})
    assert response.status_code == 400 and "No asset" in response.json()["error"]["message"]
    whole_set = create(api_for(alice), project, "previews", inputs={"sets": [bobs["set"]["id"]]})
    assert whole_set.status_code == 400 and Job.objects.count() == 0


def test_cancel_queued_job_then_cancelling_again_conflicts(api_for, alice, project, run_queued_jobs):
    api = api_for(alice)
    job = create(api, project, "diagnostics.sleep", {"seconds": 0.0}).json()
    cancelled = api.post(job["url"] + "/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert run_queued_jobs() == ["cancelled"]  # the worker skips it
    assert Job.objects.get(pk=job["id"]).output_set is None
    again = api.post(job["url"] + "/cancel")
    assert again.status_code == 409 and "already cancelled" in again.json()["error"]["message"]


def test_job_list_filters(api_for, alice, project, run_queued_jobs):
    api = api_for(alice)
    create(api, project, "diagnostics.sleep", {"seconds": 0.0})
    second = create(api, project, "diagnostics.sleep", {"seconds": 0.0}).json()
    api.post(second["url"] + "/cancel")
    run_queued_jobs()
    jobs = f"/api/v1/projects/{project.id}/jobs"
    assert api.get(jobs, {"status": "succeeded"}).json()["count"] == 1
    assert api.get(jobs, {"status": "cancelled,failed"}).json()["count"] == 1
    assert api.get(jobs, {"kind": "previews"}).json()["count"] == 0
    assert api.get(jobs, {"status": "succeded"}).status_code == 400
    assert api.get(jobs, {"kind": "preview"}).status_code == 400


def test_job_kinds_are_listed_with_their_parameters(api_for, alice):
    kinds = {k["kind"]: k for k in api_for(alice).get("/api/v1/job-kinds").json()["results"]}
    assert kinds["previews"]["params"]["max_size"]["max"] == 1024
    assert kinds["previews"]["inputs"]["assets"]["many"] is True
    for tool, tool_kinds in {"materials": ["material.two_shot"],
                             "textures": ["texture.variations", "texture.make_tileable"],
                             "superres": ["superres.upscale", "superres.finetune"]}.items():
        status = api_for(alice).get(f"/api/v1/tools/{tool}/").json()
        # A tool reports each of its kinds as available exactly when the registry has it.
        assert status == {"tool": tool, "kinds": {k: k in kinds for k in tool_kinds}}
        assert all(status["kinds"].values()), f"{tool} lists a kind the registry lacks"
