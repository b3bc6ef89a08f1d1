"""material.export through the API: upload a material's maps, export them for an engine, get the
export set and its zip; bad inputs and params are refused with the field at fault."""

import io
import json
import zipfile

import numpy as np
import pytest

from imaging.io import encode_png, read_image
from webapp.models import AssetSet, Job

pytestmark = pytest.mark.django_db


def map_png(value, channels=3, size=(48, 64), dtype=np.uint8) -> bytes:
    top = np.iinfo(dtype).max
    return encode_png(np.full((*size, channels), round(value * top), dtype))


def normal_png(size=(48, 64)) -> bytes:
    y, x = np.mgrid[0:size[0], 0:size[1]]
    n = np.stack([0.3 * np.sin(x / 4.0), 0.3 * np.cos(y / 5.0), np.ones(size)], axis=-1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    return encode_png(np.rint((n * 0.5 + 0.5) * 255).astype(np.uint8))


MAPS = {"albedo": map_png(0.5), "specular": map_png(0.22), "normal": normal_png(),
        "roughness": map_png(0.6, 1), "anisotropy": map_png(0.5)}


@pytest.fixture
def material_set(api_for, alice, project, upload):
    """A material uploaded with roles; returns the set's id."""
    def make(maps=MAPS, name="Brick wall"):
        response = upload(api_for(alice), project, [(f"{role}.png", data) for role, data in maps.items()],
                          roles=list(maps), name=name, tags=["bricks"], previews="false")
        assert response.status_code == 201, response.content
        return response.json()["set"]["id"]

    return make


def create(api, project, params, inputs):
    return api.post(f"/api/v1/projects/{project.id}/jobs",
                    {"kind": "material.export", "params": params, "inputs": inputs}, format="json")


def download_zip(api, project, set_id) -> zipfile.ZipFile:
    response = api.get(f"/api/v1/projects/{project.id}/sets/{set_id}/download")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_unreal_export_makes_an_export_set_downloadable_as_zip(api_for, alice, project, material_set,
                                                               run_queued_jobs):
    api = api_for(alice)
    response = create(api, project, {"preset": "unreal", "resolution": 64, "bit_depth": "16"},
                      {"set": material_set()})
    assert response.status_code == 202, response.content
    assert response.json()["queue"] == "default"
    assert run_queued_jobs() == ["succeeded"]
    job = Job.objects.get(pk=response.json()["id"])
    export = job.output_set
    assert (export.kind, export.name, export.tags) == ("export", "BrickWall (Unreal)", ["bricks"])
    assets = {a.name: a for a in export.assets.all()}
    assert set(assets) == {"T_BrickWall_BC.png", "T_BrickWall_N.png", "T_BrickWall_ORM.png"}
    assert assets["T_BrickWall_BC.png"].colour_space == "srgb"
    assert assets["T_BrickWall_ORM.png"].colour_space == "linear" and assets["T_BrickWall_ORM.png"].role == "orm"
    assert all((a.width, a.height, a.bit_depth) == (64, 48, "16") for a in assets.values())
    assert job.result["preset"] == "unreal" and job.result["width"] == 64

    archive = download_zip(api, project, export.id)
    assert sorted(archive.namelist()) == sorted(assets)
    orm = read_image(archive.read("T_BrickWall_ORM.png")).pixels
    assert orm.dtype == np.uint16
    # F0 = 0.22 sRGB (0.04 linear): a dielectric. R = AO (none: white), G = roughness, B = metallic.
    np.testing.assert_allclose(orm[0, 0] / 65535, (1.0, 0.6, 0.0), atol=1 / 255)


def test_dds_export_stores_block_compressed_textures_with_mip_maps(api_for, alice, project, material_set,
                                                                  run_queued_jobs):
    response = create(api_for(alice), project, {"preset": "unreal", "texture_format": "dds"}, {"set": material_set()})
    assert response.status_code == 202, response.content
    assert run_queued_jobs() == ["succeeded"]
    assets = {a.name: a for a in Job.objects.get(pk=response.json()["id"]).output_set.assets.all()}
    assert set(assets) == {"T_BrickWall_BC.dds", "T_BrickWall_N.dds", "T_BrickWall_ORM.dds"}
    assert {a.format for a in assets.values()} == {"dds"}
    normal = read_image(assets["T_BrickWall_N.dds"].file.read())
    assert (normal.block_compression, normal.mip_levels) == ("BC5", 7)  # 64x48 .. 1x1
    # TGA and DDS hold 8 bits a channel: a 16-bit request is refused, not quietly lowered.
    response = create(api_for(alice), project, {"preset": "unity", "texture_format": "tga", "bit_depth": "16"},
                      {"set": material_set()})
    assert response.status_code == 400 and response.json()["error"]["field"] == "params.bit_depth"


def test_gltf_export_stores_the_model_files_and_their_textures(api_for, alice, project, material_set,
                                                               run_queued_jobs):
    api = api_for(alice)
    response = create(api, project, {"preset": "gltf", "name": "Red bricks!"}, {"set": material_set()})
    assert response.status_code == 202, response.content
    assert run_queued_jobs() == ["succeeded"]
    export = Job.objects.get(pk=response.json()["id"]).output_set
    assert export.name == "RedBricks (glTF)"
    gltf = export.assets.get(name="RedBricks.gltf")
    assert (gltf.format, gltf.role, gltf.width, gltf.height, gltf.bit_depth) == ("gltf", "gltf", 64, 48, "8")
    assert export.assets.get(name="RedBricks.bin").format == "bin"
    archive = download_zip(api, project, export.id)
    document = json.loads(archive.read("RedBricks.gltf"))
    names = set(archive.namelist())
    assert document["buffers"][0]["uri"] in names
    assert all(image["uri"] in names for image in document["images"])
    assert "KHR_materials_anisotropy" in document["extensionsUsed"]
    detail = api.get(f"/api/v1/projects/{project.id}/assets/{gltf.id}/download")
    assert detail.status_code == 200 and detail["Content-Type"] == "model/gltf+json"


def test_exporting_or_previewing_an_export_set_is_refused_as_it_holds_no_images(api_for, alice, project,
                                                                                material_set, run_queued_jobs):
    api = api_for(alice)
    create(api, project, {"preset": "glb"}, {"set": material_set()})
    assert run_queued_jobs() == ["succeeded"]
    export = AssetSet.objects.get(kind="export")
    assert [a.name for a in export.assets.all()] == ["BrickWall.glb"]
    previews = api.post(f"/api/v1/projects/{project.id}/jobs",
                        {"kind": "previews", "inputs": {"sets": [str(export.id)]}}, format="json")
    # The set's model file is no input of any tool: nothing to preview, and the error says so.
    assert previews.status_code == 400 and "holds images" in previews.json()["error"]["message"]
    model = export.assets.get()
    direct = api.post(f"/api/v1/projects/{project.id}/jobs",
                      {"kind": "previews", "inputs": {"assets": [str(model.id)]}}, format="json")
    assert direct.status_code == 400 and "BrickWall.glb is not an image" in direct.json()["error"]["message"]
    assert not Job.objects.filter(kind="previews").exists()
    again = create(api, project, {"preset": "pbr"}, {"set": str(export.id)})
    assert again.status_code == 400 and again.json()["error"]["field"] == "inputs.set"


def test_a_set_of_several_materials_exports_each(api_for, alice, project, upload, run_queued_jobs):
    """A variations set (variation_01_albedo.png, variation_02_albedo.png, ...): one export per
    material, named after its prefix; one without a normal map is refused naming it."""
    api = api_for(alice)
    maps = {f"variation_0{n}_{role}.png": (role, MAPS[role]) for n in (1, 2) for role in ("albedo", "normal")}
    maps["contact_sheet.png"] = ("preview", MAPS["albedo"])  # not a map: no material of its own
    response = upload(api, project, [(name, data) for name, (_, data) in maps.items()],
                      roles=[role for role, _ in maps.values()], name="Moss", previews="false")
    assert response.status_code == 201, response.content
    assert create(api, project, {"preset": "unreal"}, {"set": response.json()["set"]["id"]}).status_code == 202
    assert run_queued_jobs() == ["succeeded"]
    export = Job.objects.get(kind="material.export")
    names = sorted(a.name for a in export.output_set.assets.all())
    assert names == ["T_MossVariation01_BC.png", "T_MossVariation01_N.png", "T_MossVariation01_ORM.png",
                     "T_MossVariation02_BC.png", "T_MossVariation02_N.png", "T_MossVariation02_ORM.png"]
    assert [m["name"] for m in export.result["materials"]] == ["MossVariation01", "MossVariation02"]

    partial = upload(api, project, [("a_albedo.png", MAPS["albedo"]), ("a_normal.png", MAPS["normal"]),
                                    ("b_albedo.png", MAPS["albedo"])], roles=["albedo", "normal", "albedo"],
                     name="Two", previews="false")
    refused = create(api, project, {"preset": "pbr"}, {"set": partial.json()["set"]["id"]})
    assert refused.status_code == 400 and "The material 'b' in the set has no normal map" in refused.content.decode()


def test_a_set_without_normal_map_is_refused_naming_it(api_for, alice, project, material_set):
    set_id = material_set({"albedo": MAPS["albedo"], "roughness": MAPS["roughness"]})
    response = create(api_for(alice), project, {"preset": "unity"}, {"set": set_id})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "inputs.set" and "no normal map" in error["message"]
    assert not Job.objects.exists()


@pytest.mark.parametrize("params, field", [
    ({"preset": "blender"}, "params.preset"),
    ({}, "params.preset"),
    ({"preset": "gltf", "resolution": 32}, "params.resolution"),
    ({"preset": "gltf", "bit_depth": "32"}, "params.bit_depth"),
])
def test_bad_params_are_refused_with_their_field(api_for, alice, project, material_set, params, field):
    response = create(api_for(alice), project, params, {"set": material_set()})
    assert response.status_code == 400 and response.json()["error"]["field"] == field
