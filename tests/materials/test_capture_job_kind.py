"""material.two_shot through the API (pair upload + job in one request) and the job service."""

import io
import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from webapp.models import AssetSet, Job

pytestmark = pytest.mark.django_db


def png(pixels) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def pair():
    from materials.capture.synthetic import make_capture

    capture = make_capture("tiles", width=256, height=192, period=64, seed=2)
    return png(capture.flash), png(capture.guide)


def capture(api, project, flash, guide, **params):
    data = {"flash": SimpleUploadedFile("flash.png", flash), "guide": SimpleUploadedFile("guide.png", guide),
            **params}
    return api.post(f"/api/v1/projects/{project.id}/materials/capture", data, format="multipart")


def test_pair_upload_and_capture_give_a_material_set(api_for, alice, project, pair, run_queued_jobs):
    from imaging.io import read_image

    response = capture(api_for(alice), project, *pair, quality="fast", fov="65", resolution="96")
    assert response.status_code == 202, response.content
    assert response["Location"].endswith(response.json()["url"])
    assert run_queued_jobs() == ["succeeded"]
    job = Job.objects.get(pk=response.json()["id"])
    material = job.output_set
    assert material.kind == "material"
    maps = {a.role: a for a in material.assets.exclude(role__in=["render", "report"])}
    assert set(maps) == {"albedo", "specular", "normal", "roughness", "glossiness", "anisotropy", "height", "ao"}
    assert (maps["height"].bit_depth, maps["height"].colour_space) == ("16", "linear")  # 16-bit whatever the rest
    assert (maps["albedo"].colour_space, maps["normal"].colour_space) == ("srgb", "linear")
    # The lattice tile (64 px in the photo), enlarged to the asked resolution.
    assert job.result["tile"]["working_width"] == 64 and job.result["output_size"] == [96, 96]
    assert all((a.width, a.height) == (96, 96) for a in maps.values())
    assert material.assets.filter(role="render").count() >= 3
    normal = read_image(maps["normal"].file.path).pixels.astype(np.float32) / 255 * 2 - 1
    assert np.abs(np.linalg.norm(normal, axis=2) - 1).max() < 0.03
    assert job.result["surface"] == "periodic" and "lattice" in job.result
    assert AssetSet.objects.filter(kind="upload", assets__role="flash").count() == 1
    # The report travels with the maps (the set's zip) as report.json.
    report = material.assets.get(role="report")
    assert (report.name, report.format, report.channels) == ("report.json", "json", 0)
    download = api_for(alice).get(f"/api/v1/projects/{project.id}/assets/{report.id}/download")
    assert download.status_code == 200 and download["Content-Type"] == "application/json"
    assert json.loads(b"".join(download.streaming_content)) == job.result


def test_a_captured_material_goes_on_to_the_other_tools(api_for, alice, project, pair, run_queued_jobs):
    """Variations and upscaling of a capture's set take its maps, not its renders or report;
    with EXR on, each map is there twice (PNG and EXR) and variations use the EXR."""
    api = api_for(alice)
    assert capture(api, project, *pair, quality="fast", exr="true").status_code == 202
    assert run_queued_jobs() == ["succeeded"]
    material = AssetSet.objects.get(kind="material")
    jobs = f"/api/v1/projects/{project.id}/jobs"
    maps = {"albedo", "specular", "normal", "roughness", "glossiness", "anisotropy", "height", "ao"}

    varied = api.post(jobs, {"kind": "texture.variations", "inputs": {"set": str(material.id)},
                             "params": {"count": 1, "mode": "fast", "seed": 1}}, format="json")
    assert varied.status_code == 202, varied.content
    upscaled = api.post(jobs, {"kind": "superres.upscale", "inputs": {"sets": [str(material.id)]},
                               "params": {"scale": 2}}, format="json")
    assert upscaled.status_code == 202, upscaled.content
    assert run_queued_jobs() == ["succeeded", "succeeded"]
    variations = Job.objects.get(pk=varied.json()["id"]).output_set
    assert {a.role for a in variations.assets.all()} == maps | {"preview"}  # and the contact sheet
    assert all(a.format == "exr" for a in variations.assets.exclude(role="preview"))
    bigger = Job.objects.get(pk=upscaled.json()["id"]).output_set
    assert bigger.kind == "material"  # still a material: viewable, exportable
    assert {a.role for a in bigger.assets.all()} == maps
    assert all((a.width, a.height) == (128, 128) for a in bigger.assets.all())

    report = material.assets.get(role="report")
    refused = api.post(jobs, {"kind": "superres.upscale", "inputs": {"assets": [str(report.id)]},
                              "params": {"scale": 2}}, format="json")
    assert refused.status_code == 400 and "not an image" in refused.json()["error"]["message"]


def test_unrelated_photos_fail_with_a_clear_message_and_no_material(api_for, alice, project, pair, run_queued_jobs):
    rng = np.random.default_rng(0)
    unrelated = png(rng.integers(0, 255, (192, 256, 3), dtype=np.uint8))
    response = capture(api_for(alice), project, pair[0], unrelated, quality="fast")
    assert response.status_code == 202
    assert run_queued_jobs() == ["failed"]
    job = Job.objects.get(pk=response.json()["id"])
    assert job.error and job.attempts == 1 and job.output_set is None
    assert not AssetSet.objects.filter(kind="material").exists()


def test_too_small_photos_and_bad_params_are_refused(api_for, alice, project, pair):
    tiny = png(np.zeros((40, 40, 3), np.uint8))
    small = capture(api_for(alice), project, tiny, tiny)
    assert small.status_code == 400 and small.json()["error"]["field"] == "inputs.flash"
    assert not AssetSet.objects.filter(project=project).exists()  # the refused photos are not kept
    misspelt = capture(api_for(alice), project, *pair, resolutoin="1024")
    assert misspelt.status_code == 400 and "resolutoin" in misspelt.json()["error"]["message"]
    preset = capture(api_for(alice), project, *pair, quality="ultra")
    assert preset.status_code == 400 and preset.json()["error"]["field"] == "quality"
