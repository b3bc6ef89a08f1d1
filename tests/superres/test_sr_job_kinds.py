"""The superres.upscale and superres.finetune job kinds through the API and the job service."""

import numpy as np
import pytest

from tests.images import jpeg_bytes, png_bytes
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


def normal_png(size=24):
    import io

    from PIL import Image

    rng = np.random.default_rng(1)
    slopes = rng.normal(0, 0.3, (size, size, 2))
    vectors = np.concatenate([slopes, np.ones((size, size, 1))], axis=2)
    vectors /= np.linalg.norm(vectors, axis=2, keepdims=True)
    out = io.BytesIO()
    Image.fromarray(np.round((vectors * 0.5 + 0.5) * 255).astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()


def test_upscale_job_keeps_formats_and_renormalises_normals(api_for, alice, project, uploaded, run_queued_jobs):
    from imaging.io import read_image

    body = uploaded([("albedo.png", png_bytes(24, 16, 3)), ("h.png", png_bytes(20, 20, 1, np.uint16)),
                     ("n.png", normal_png())], ["albedo", "height", "normal"])
    response = create(api_for(alice), project, "superres.upscale", {"scale": 2, "sharpness": 0.3},
                      {"sets": [body["set"]["id"]]})
    assert response.status_code == 202, response.content
    assert run_queued_jobs() == ["succeeded"]
    job = Job.objects.get(pk=response.json()["id"])
    assets = {a.role: a for a in job.output_set.assets.all()}
    assert job.output_set.kind == "upscale" and set(assets) == {"albedo", "height", "normal"}
    assert (assets["albedo"].width, assets["albedo"].height, assets["albedo"].bit_depth) == (48, 32, "8")
    assert (assets["height"].width, assets["height"].bit_depth, assets["height"].channels) == (40, "16", 1)
    assert assets["height"].colour_space == "linear"
    normal = read_image(assets["normal"].file.path).pixels.astype(np.float32) / 255 * 2 - 1
    lengths = np.linalg.norm(normal, axis=2)
    assert np.abs(lengths - 1).max() < 0.02  # unit vectors up to 8-bit quantisation
    # Lossless sources are back-projected by default (params.back_projection "auto"), with the
    # model for clean sources (params.source "auto").
    assert all(a.metadata["upscale"]["back_projection"] for a in assets.values())
    assert {a.metadata["upscale"]["source"] for a in assets.values()} == {"clean"}


def smooth_normals(size=24):
    """(size,size,3) float32 unit normals of a gently waving surface."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    vectors = np.stack([0.3 * np.sin(2 * np.pi * xx), 0.3 * np.cos(2 * np.pi * yy), np.ones_like(xx)], -1)
    return (vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)).astype(np.float32)


def test_float_normal_map_holding_vectors_is_upscaled_as_normals(api_for, alice, project, uploaded,
                                                                  run_queued_jobs, tmp_path):
    """An EXR normal map may hold n itself (values in [-1,1]); the output holds 0.5n+0.5, like every
    normal map file, and the same normals (reading n as 0.5n+0.5 was off by ~50 degrees)."""
    from imaging.io import read_image, write_image

    normals = smooth_normals()
    write_image(tmp_path / "n.exr", normals)
    body = uploaded([("n.exr", (tmp_path / "n.exr").read_bytes())], ["normal"])
    response = create(api_for(alice), project, "superres.upscale", {"scale": 2, "sharpness": 0.0},
                      {"assets": [body["assets"][0]["id"]]})
    assert response.status_code == 202, response.content
    assert run_queued_jobs() == ["succeeded"]
    output = Job.objects.get(pk=response.json()["id"]).output_set.assets.get()
    values = read_image(output.file.path).pixels
    assert values.dtype == np.float32 and values.shape == (48, 48, 3) and values.min() >= 0.0
    vectors = values * 2.0 - 1.0
    assert np.abs(np.linalg.norm(vectors, axis=-1) - 1).max() < 1e-4
    expected = np.repeat(np.repeat(normals, 2, axis=0), 2, axis=1)
    angles = np.degrees(np.arccos(np.clip((vectors * expected).sum(-1), -1, 1)))
    assert angles.mean() < 3.0, angles.mean()


def test_compressed_sources_are_not_back_projected_unless_asked(api_for, alice, project, uploaded, run_queued_jobs):
    body = uploaded([("photo.jpg", jpeg_bytes(24, 16, quality=70))], ["albedo"])
    params = [{"back_projection": "auto"}, {"back_projection": "on", "source": "clean"}]
    jobs = [create(api_for(alice), project, "superres.upscale", {"scale": 2, **p},
                   {"assets": [body["assets"][0]["id"]]}) for p in params]
    assert [r.status_code for r in jobs] == [202, 202], [r.content for r in jobs]
    assert run_queued_jobs() == ["succeeded", "succeeded"]
    reports = [Job.objects.get(pk=r.json()["id"]).output_set.assets.get().metadata["upscale"] for r in jobs]
    assert [r["back_projection"] for r in reports] == [False, True]
    # ... and get the model that was also trained on compressed images, unless asked otherwise.
    assert [r["source"] for r in reports] == ["degraded", "clean"]


def test_block_compressed_game_textures_count_as_compressed_sources(api_for, alice, project, uploaded,
                                                                   run_queued_jobs):
    """A DXT-compressed DDS is lossy like a JPEG; the same texture as an uncompressed TGA is not."""
    import io

    from PIL import Image

    rows, cols = np.mgrid[0:24, 0:32]
    texture = Image.fromarray(np.stack([cols * 8, rows * 10, 128 + 0 * cols], -1).astype(np.uint8))
    files = []
    for name, options in (("wall.dds", {"pixel_format": "DXT1"}), ("wall.tga", {})):
        out = io.BytesIO()
        texture.save(out, name.rsplit(".", 1)[1].upper(), **options)
        files.append((name, out.getvalue()))
    body = uploaded(files, ["albedo", "albedo"])
    assert sorted(a["format"] for a in body["assets"]) == ["dds", "tga"]
    response = create(api_for(alice), project, "superres.upscale", {"scale": 2},
                      {"assets": [a["id"] for a in body["assets"]]})
    assert response.status_code == 202, response.content
    assert run_queued_jobs() == ["succeeded"]
    outputs = Job.objects.get(pk=response.json()["id"]).output_set.assets.all()
    by_source = {a.metadata["upscale"]["source"]: a for a in outputs}
    assert sorted(by_source) == ["clean", "degraded"]
    assert by_source["degraded"].source.format == "dds" and by_source["clean"].source.format == "tga"
    assert not by_source["degraded"].metadata["upscale"]["back_projection"]
    # Game textures stay game textures, at twice the size: the DDS in its block compression.
    assert sorted((a.format, a.width, a.height) for a in outputs) == [("dds", 64, 48), ("tga", 64, 48)]
    assert by_source["degraded"].metadata["upscale"]["file"] == {"format": "dds", "compression": "DXT1",
                                                                 "mip_levels": 1, "srgb": False}
    # ... or PNGs when asked.
    response = create(api_for(alice), project, "superres.upscale", {"scale": 2, "output_format": "png"},
                      {"assets": [a["id"] for a in body["assets"]]})
    assert run_queued_jobs() == ["succeeded"]
    outputs = Job.objects.get(pk=response.json()["id"]).output_set.assets.all()
    assert [(a.format, a.width, a.height) for a in outputs] == [("png", 64, 48)] * 2


def test_mipmapped_dds_normal_map_comes_back_with_a_new_mip_chain(api_for, alice, project, uploaded,
                                                                    run_queued_jobs, tmp_path):
    """A BC5 normal map with mip levels (as engines store them) -> BC5, twice the size, a full chain
    made from the upscaled vectors (unit length at every level)."""
    import struct

    from imaging.io import encode_dds, read_image
    from imaging.mipmaps import mip_chain

    rows, cols = np.mgrid[0:32, 0:32]
    slope = np.stack([np.sin(cols / 3.0) * 0.5, np.cos(rows / 4.0) * 0.3, np.ones((32, 32))], -1)
    encoded = np.rint((slope / np.linalg.norm(slope, axis=-1, keepdims=True) * 0.5 + 0.5) * 255).astype(np.uint8)
    texture = encode_dds([encoded, *mip_chain(encoded, kind="normal")], compression="BC5")
    body = uploaded([("bump_n.dds", texture)], ["normal"])
    response = create(api_for(alice), project, "superres.upscale", {"scale": 2},
                      {"assets": [body["assets"][0]["id"]]})
    assert response.status_code == 202, response.content
    assert run_queued_jobs() == ["succeeded"]
    output = Job.objects.get(pk=response.json()["id"]).output_set.assets.get()
    assert (output.name[-4:], output.format, output.width, output.height) == (".dds", "dds", 64, 64)
    assert output.metadata["upscale"]["file"] == {"format": "dds", "compression": "BC5", "mip_levels": 7,
                                                 "srgb": False}
    data = output.file.read()
    assert struct.unpack_from("<I", data, 28)[0] == 7
    image = read_image(data)
    assert image.block_compression == "BC5" and image.mip_levels == 7
    vectors = image.pixels.astype(np.float32) / 127.5 - 1
    assert np.abs(np.linalg.norm(vectors, axis=-1) - 1).max() < 0.03
    # the upscaled map still shows the input's bumps: its 32x32 level is close to the input
    level_1 = mip_chain(image.pixels, kind="normal")[0].astype(np.float32) / 127.5 - 1
    source = encoded.astype(np.float32) / 127.5 - 1
    assert np.degrees(np.arccos(np.clip((level_1 * source).sum(-1), -1, 1))).mean() < 3


@pytest.mark.parametrize("params, field", [
    ({"scale": 3}, "params.scale"),
    ({"sharpness": 1.5}, "params.sharpness"),
    ({"model": "project"}, "params.model"),
    ({"back_projection": "sometimes"}, "params.back_projection"),
    ({"source": "pristine"}, "params.source"),
])
def test_bad_upscale_requests_are_refused(api_for, alice, project, uploaded, params, field):
    body = uploaded([("a.png", png_bytes())], ["albedo"])
    response = create(api_for(alice), project, "superres.upscale", params, {"assets": [body["assets"][0]["id"]]})
    assert response.status_code == 400 and response.json()["error"]["field"] == field
    assert Job.objects.count() == 0


def test_output_size_limit(api_for, alice, project, uploaded, monkeypatch):
    from superres import jobs

    monkeypatch.setattr(jobs, "MAX_OUTPUT_PIXELS", 100 * 100)
    body = uploaded([("oak_floor.png", png_bytes(64, 48))], ["albedo"])
    response = create(api_for(alice), project, "superres.upscale", {"scale": 4}, {"assets": [body["assets"][0]["id"]]})
    message = response.json()["error"]["message"]
    assert response.status_code == 400 and "over the limit" in message
    assert "oak_floor.png (albedo.png) would become 256x192 pixels" in message  # the name the user knows


def test_finetune_needs_enough_high_resolution_images(api_for, alice, project, uploaded):
    body = uploaded([("a.png", png_bytes(256, 256)), ("b.png", png_bytes(64, 64))], ["texture", "texture"])
    response = create(api_for(alice), project, "superres.finetune", {"scale": 4}, {"sets": [body["set"]["id"]]})
    assert response.status_code == 400
    assert "at least 2 high-resolution images of at least 96x96" in response.json()["error"]["message"]


def test_finetune_limits_mirror_the_training_module():
    from superres import jobs
    from superres.training import finetune

    assert jobs.FINETUNE_MIN_IMAGES == finetune.MIN_IMAGES
    assert jobs.FINETUNE_MIN_SIDE == {s: p * s for s, p in finetune.LR_PATCH.items()}


def test_finetune_job_stores_a_project_model_used_by_upscale(api_for, alice, project, uploaded, run_queued_jobs):
    from superres.models import ProjectModel

    body = uploaded([("a.png", png_bytes(128, 128, seed=1)), ("b.png", png_bytes(128, 128, seed=2))],
                    ["texture", "texture"])
    api = api_for(alice)
    tune = create(api, project, "superres.finetune", {"scale": 2, "steps": 10}, {"sets": [body["set"]["id"]]})
    assert tune.status_code == 202, tune.content
    assert run_queued_jobs() == ["succeeded"]
    model = ProjectModel.objects.get(project=project)
    assert model.scale == 2 and model.byte_size > 0
    assert Job.objects.get(pk=tune.json()["id"]).result["model"] == str(model.id)
    tuned = Job.objects.get(pk=tune.json()["id"]).result
    assert "model_path" not in tuned["finetune"]  # no paths of the worker's disk in results (or webhooks)
    up = create(api, project, "superres.upscale", {"scale": 2, "model": "project"}, {"assets": [body["assets"][0]["id"]]})
    assert up.status_code == 202 and run_queued_jobs() == ["succeeded"]
    assert Job.objects.get(pk=up.json()["id"]).result["upscaled"][0]["model"] == f"project model {model.id}"


def test_srgb_flagged_dds_keeps_its_flag(api_for, alice, project, uploaded, run_queued_jobs):
    """texconv -srgb's BC1_UNORM_SRGB (which Pillow alone does not read) in, the same format out."""
    from imaging.io import encode_dds, read_image

    rows, cols = np.mgrid[0:16, 0:24]
    texture = np.stack([cols * 10, rows * 15, 90 + 0 * cols], -1).astype(np.uint8)
    body = uploaded([("sign.dds", encode_dds([texture], compression="DXT1", srgb=True))], ["albedo"])
    response = create(api_for(alice), project, "superres.upscale", {"scale": 2}, {"assets": [body["assets"][0]["id"]]})
    assert run_queued_jobs() == ["succeeded"]
    output = Job.objects.get(pk=response.json()["id"]).output_set.assets.get()
    assert output.metadata["upscale"]["file"]["srgb"] is True
    image = read_image(output.file.read())
    assert (image.block_compression, image.dds_srgb, image.width) == ("BC1", True, 48)
