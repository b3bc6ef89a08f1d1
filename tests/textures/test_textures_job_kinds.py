"""texture.variations and texture.make_tileable through the API and the job service."""

import numpy as np
import pytest

from tests.images import png_bytes, smooth_png_bytes
from webapp.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploaded(upload, api_for, alice, project):
    def post(files, roles, **fields):
        response = upload(api_for(alice), project, files, roles=roles, previews="false", **fields)
        assert response.status_code == 201, response.content
        return response.json()

    return post


def create(api, project, kind, params, inputs):
    return api.post(f"/api/v1/projects/{project.id}/jobs", {"kind": kind, "params": params, "inputs": inputs},
                    format="json")


def test_material_variations_keep_maps_registered_and_seamless(api_for, alice, project, uploaded, run_queued_jobs):
    from imaging.io import read_image

    albedo, height = smooth_png_bytes(48, 48), png_bytes(48, 48, 1, np.uint16, seed=3)
    body = uploaded([("a.png", albedo), ("h.png", height)], ["albedo", "height"], name="Stones")
    response = create(api_for(alice), project, "texture.variations",
                      {"count": 2, "width": 64, "height": 64, "seed": 5, "mode": "fast"}, {"set": body["set"]["id"]})
    assert response.status_code == 202, response.content
    assert run_queued_jobs() == ["succeeded"]
    job = Job.objects.get(pk=response.json()["id"])
    names = sorted(a.name for a in job.output_set.assets.all())
    assert names == ["contact_sheet.png", "variation_01_albedo.png", "variation_01_height.png",
                     "variation_02_albedo.png", "variation_02_height.png"]
    assert job.output_set.kind == "texture-variations"
    heights = job.output_set.assets.filter(role="height")
    assert all((a.width, a.height, a.bit_depth, a.channels) == (64, 64, "16", 1) for a in heights)
    first = read_image(job.output_set.assets.get(name="variation_01_albedo.png").file.path).pixels
    second = read_image(job.output_set.assets.get(name="variation_02_albedo.png").file.path).pixels
    assert first.shape == (64, 64, 3) and np.abs(first.astype(int) - second.astype(int)).mean() > 1  # new layouts
    assert all(score < 1.5 for score in job.result["seam_scores"])


@pytest.mark.parametrize("params, inputs_kind, field", [
    ({"count": 0}, "texture", "params.count"),
    ({"width": 8000}, "texture", "params.width"),
    ({}, "both", "inputs"),
    ({}, "small", "inputs"),
])
def test_bad_variation_requests_are_refused(api_for, alice, project, uploaded, params, inputs_kind, field):
    body = uploaded([("t.png", png_bytes(64, 64)), ("s.png", png_bytes(16, 16))], ["texture", "texture"])
    big, small = body["assets"][0]["id"], body["assets"][1]["id"]
    inputs = {"texture": big, "both": None, "small": small}
    payload = {"both": {"texture": big, "set": body["set"]["id"]}}.get(inputs_kind, {"texture": inputs[inputs_kind]})
    response = create(api_for(alice), project, "texture.variations", params, payload)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == field
    assert Job.objects.count() == 0


def test_mask_must_match_the_texture(api_for, alice, project, uploaded):
    body = uploaded([("t.png", png_bytes(64, 64)), ("m.png", png_bytes(32, 32, 1))], ["texture", "mask"])
    response = create(api_for(alice), project, "texture.variations", {},
                      {"texture": body["assets"][0]["id"], "mask": body["assets"][1]["id"]})
    assert response.status_code == 400 and "must match" in response.json()["error"]["message"]


def test_a_set_of_several_materials_is_refused_at_creation(api_for, alice, project, uploaded):
    """A set with two maps of one role (e.g. several variations) is not one material."""
    body = uploaded([("v1_albedo.png", png_bytes(64, 64)), ("v2_albedo.png", png_bytes(64, 64)),
                     ("height.png", png_bytes(64, 64, 1))], ["albedo", "albedo", "height"])
    response = create(api_for(alice), project, "texture.variations", {}, {"set": body["set"]["id"]})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["field"] == "inputs.set" and "more than one albedo map" in error["message"]
    assert Job.objects.count() == 0
