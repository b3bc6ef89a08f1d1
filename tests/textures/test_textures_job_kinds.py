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


@pytest.mark.parametrize("as_set", [True, False])
def test_make_tileable_reads_float_normal_maps_holding_vectors(api_for, alice, project, uploaded, run_queued_jobs,
                                                               tmp_path, as_set):
    """An EXR normal map may hold n itself (values in [-1,1]); it is synthesised as normals (alone
    too) and written as 0.5n+0.5, like every normal map file (reading n as 0.5n+0.5 was off by ~55 deg)."""
    from imaging.io import read_image, write_image

    yy, xx = np.mgrid[0:32, 0:32] / 32
    normals = np.stack([0.3 * np.sin(2 * np.pi * xx), 0.3 * np.cos(2 * np.pi * yy), np.ones_like(xx)], -1)
    normals = (normals / np.linalg.norm(normals, axis=-1, keepdims=True)).astype(np.float32)
    write_image(tmp_path / "n.exr", normals)
    files, roles = [("n.exr", (tmp_path / "n.exr").read_bytes())], ["normal"]
    if as_set:
        files, roles = files + [("a.png", smooth_png_bytes(32, 32))], roles + ["albedo"]
    body = uploaded(files, roles)
    normal_id = next(a["id"] for a in body["assets"] if a["role"] == "normal")
    inputs = {"set": body["set"]["id"]} if as_set else {"texture": normal_id}
    response = create(api_for(alice), project, "texture.make_tileable", {"seed": 1}, inputs)
    assert response.status_code == 202, response.content
    assert run_queued_jobs() == ["succeeded"]
    output = Job.objects.get(pk=response.json()["id"]).output_set.assets.get(role="normal")
    values = read_image(output.file.path).pixels
    assert values.dtype == np.float32 and values.min() >= 0.0
    vectors = values[..., :3] * 2.0 - 1.0
    assert np.abs(np.linalg.norm(vectors, axis=-1) - 1).max() < 1e-3
    angles = np.degrees(np.arccos(np.clip((vectors * normals).sum(-1), -1, 1)))
    assert angles.mean() < 10.0, angles.mean()


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


def test_a_set_without_images_is_named_as_such(api_for, alice, project):
    from webapp.models import AssetSet

    # e.g. an engine export's set: only model files, which resolve to no images
    empty = AssetSet.objects.create(project=project, name="Export", kind="export")
    response = create(api_for(alice), project, "texture.variations", {}, {"set": str(empty.id)})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "inputs.set: The set has no texture maps."
