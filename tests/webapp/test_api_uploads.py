"""Uploads are checked by content, size and pixel count; a bad file stores nothing."""

import hashlib
import io
import zipfile

import numpy as np
import pytest

from tests.images import dng_bytes, heic_bytes, jpeg_bytes, png_bytes
from webapp.models import Asset, AssetSet

pytestmark = pytest.mark.django_db


def stored_files(media_root):
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


def test_upload_describes_and_stores_assets(upload, api_for, alice, project, isolated_storage):
    rgb8, grey16 = png_bytes(64, 48, 3), png_bytes(40, 30, 1, np.uint16)
    response = upload(api_for(alice), project, [("wall.png", rgb8), ("height.png", grey16)],
                      roles=["albedo", "height"], name="Wall", tags=["brick", "red"], previews="false")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["set"]["name"] == "Wall" and body["set"]["kind"] == "upload"
    assert body["set"]["tags"] == ["brick", "red"] and body["previews_job"] is None
    albedo, height = body["assets"]
    assert (albedo["name"], albedo["width"], albedo["height"], albedo["channels"]) == ("albedo.png", 64, 48, 3)
    assert (albedo["bit_depth"], albedo["colour_space"]) == ("8", "srgb")
    assert (height["bit_depth"], height["colour_space"], height["channels"]) == ("16", "linear", 1)
    assert albedo["sha256"] == hashlib.sha256(rgb8).hexdigest() and albedo["byte_size"] == len(rgb8)
    asset = Asset.objects.get(pk=albedo["id"])
    assert asset.file.name == f"projects/{project.id}/sets/{body['set']['id']}/albedo.png"
    download = api_for(alice).get(albedo["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == rgb8


def test_deleting_an_asset_a_set_or_the_project_deletes_its_files(upload, api_for, alice, project, isolated_storage,
                                                                   django_capture_on_commit_callbacks):
    api = api_for(alice)
    base = f"/api/v1/projects/{project.id}"
    first = upload(api, project, [("a.png", png_bytes()), ("b.png", png_bytes())], roles=["albedo", "normal"],
                   previews="false").json()
    second = upload(api, project, [("c.png", png_bytes())], previews="false").json()
    assert len(stored_files(isolated_storage)) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"{base}/assets/{first['assets'][0]['id']}").status_code == 204
    assert sorted(p.name for p in stored_files(isolated_storage)) == ["normal.png", "texture.png"]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"{base}/sets/{first['set']['id']}").status_code == 204
    assert [p.name for p in stored_files(isolated_storage)] == ["texture.png"]
    assert second["assets"][0]["name"] == "texture.png"
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(base).status_code == 204
    assert stored_files(isolated_storage) == []


def test_upload_into_existing_set_keeps_names_unique(upload, api_for, alice, project):
    api = api_for(alice)
    first = upload(api, project, [("a.png", png_bytes(seed=1))], previews="false").json()
    second = upload(api, project, [("b.png", png_bytes(seed=2)), ("c.jpg", jpeg_bytes())],
                    set=first["set"]["id"], previews="false")
    assert second.status_code == 201
    names = sorted(Asset.objects.filter(asset_set_id=first["set"]["id"]).values_list("name", flat=True))
    assert names == ["texture.jpg", "texture.png", "texture_2.png"]


@pytest.mark.parametrize("label, content", [
    ("text file", b"this is not an image\n" * 10),
    ("truncated png", png_bytes(64, 64)[:300]),
    ("truncated jpeg", jpeg_bytes(128, 128)[:600]),
    ("empty-ish", b"\x89PNG\r\n\x1a\n"),
])
def test_non_images_and_truncated_files_are_refused_and_nothing_is_stored(upload, 
        api_for, alice, project, isolated_storage, label, content):
    response = upload(api_for(alice), project, [("good.png", png_bytes()), ("bad.png", content)])
    assert response.status_code == 400, label
    error = response.json()["error"]
    assert error["field"] == "files[1]" and "bad.png" in error["message"]
    assert AssetSet.objects.count() == 0 and Asset.objects.count() == 0
    assert stored_files(isolated_storage) == []


def test_an_empty_file_is_named_like_other_bad_files(upload, api_for, alice, project):
    response = upload(api_for(alice), project, [("good.png", png_bytes()), ("empty.png", b"")])
    assert response.status_code == 400 and response.json()["error"]["field"] == "files[1]"


def test_byte_and_pixel_limits(upload, api_for, alice, project, settings, isolated_storage):
    settings.MAX_UPLOAD_BYTES = 2000
    big = upload(api_for(alice), project, [("big.png", png_bytes(128, 128))])
    assert big.status_code == 413 and "bytes" in big.json()["error"]["message"]
    settings.MAX_UPLOAD_BYTES = 10**9
    settings.MAX_UPLOAD_PIXELS = 100 * 100
    many = upload(api_for(alice), project, [("wide.png", png_bytes(200, 100))])
    assert many.status_code == 413 and "pixels" in many.json()["error"]["message"]
    assert Asset.objects.count() == 0 and stored_files(isolated_storage) == []


def test_decompression_bomb_is_refused_from_its_header(upload, api_for, alice, project):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # A valid PNG header claiming 60000 x 60000 pixels with a tiny body.
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
    response = upload(api_for(alice), project, [("bomb.png", bomb)])
    assert response.status_code == 413
    assert Asset.objects.count() == 0


def test_bad_role_and_missing_files(upload, api_for, alice, project):
    api = api_for(alice)
    assert upload(api, project, [("a.png", png_bytes())], roles=["Not A Role"]).status_code == 400
    empty = api.post(f"/api/v1/projects/{project.id}/uploads", {}, format="multipart")
    assert empty.status_code == 400 and empty.json()["error"]["field"] == "files"


def test_requests_over_djangos_limits_get_json_errors(upload, api_for, alice, project, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    api = api_for(alice)
    response = upload(api, project, [(f"{i}.png", png_bytes()) for i in range(3)])
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "At most 2 files per request."
    assert not AssetSet.objects.exists()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = api.post(f"/api/v1/projects/{project.id}/jobs", {"kind": "previews", "params": {"x": "y" * 2000}},
                   format="json")
    assert big.status_code == 400 and "over 1000 bytes" in big.json()["error"]["message"]


def test_tags_are_limited_and_cannot_hold_the_index_separator(upload, api_for, alice, project):
    api = api_for(alice)
    piped = upload(api, project, [("a.png", png_bytes())], tags=["x|y"], previews="false")
    assert piped.status_code == 400 and piped.json()["error"]["field"].startswith("tags")
    many = upload(api, project, [("a.png", png_bytes())], tags=[f"t{i}" for i in range(33)], previews="false")
    assert many.status_code == 400 and many.json()["error"]["field"] == "tags"
    body = upload(api, project, [("a.png", png_bytes())], tags=[f"t{i}" for i in range(30)], previews="false").json()
    more = upload(api, project, [("b.png", png_bytes())], set=body["set"]["id"], tags=["u1", "u2", "u3"],
                  previews="false")
    assert more.status_code == 400 and "at most 32 tags" in more.json()["error"]["message"]
    assert AssetSet.objects.get(pk=body["set"]["id"]).assets.count() == 1
    renamed = api.patch(f"/api/v1/projects/{project.id}/sets/{body['set']['id']}", {"tags": ["a|b"]}, format="json")
    assert renamed.status_code == 400


def test_set_listing_filters_and_zip_download(upload, api_for, alice, project):
    api = api_for(alice)
    a = upload(api, project, [("a.png", png_bytes(seed=3)), ("n.png", png_bytes(seed=4))], roles=["albedo", "normal"],
               name="Bricks", tags=["wall"], previews="false").json()
    upload(api, project, [("b.png", png_bytes(seed=5))], name="Sand", tags=["ground"], previews="false")
    sets = api.get(f"/api/v1/projects/{project.id}/sets", {"tag": "wall"}).json()
    assert [s["name"] for s in sets["results"]] == ["Bricks"] and sets["count"] == 1
    assert api.get(f"/api/v1/projects/{project.id}/sets", {"search": "san"}).json()["count"] == 1
    assert api.get(f"/api/v1/projects/{project.id}/sets", {"kind": "material"}).json()["count"] == 0
    assert api.get(f"/api/v1/projects/{project.id}/sets", {"kind": "nonsense"}).status_code == 400
    assert api.get(f"/api/v1/projects/{project.id}/sets", {"kind": "upload,material"}).json()["count"] == 2
    assert api.get(f"/api/v1/projects/{project.id}/sets", {"exclude_kind": "upload"}).json()["count"] == 0
    assert api.get(f"/api/v1/projects/{project.id}/assets", {"role": "normal"}).json()["count"] == 1
    detail = api.get(f"/api/v1/projects/{project.id}/sets/{a['set']['id']}").json()
    assert sorted(x["role"] for x in detail["assets"]) == ["albedo", "normal"]
    response = api.get(detail["download_url"])
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["albedo.png", "normal.png"]
    assert archive.read("albedo.png") == png_bytes(seed=3)


def test_viewer_cannot_upload(upload, api_for, project, bob):
    from webapp.models import Membership

    Membership.objects.create(project=project, user=bob, role="viewer")
    assert upload(api_for(bob), project, [("a.png", png_bytes())]).status_code == 403


def _tiff_bytes(pixels, mode=None) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels, mode).save(out, format="TIFF")
    return out.getvalue()


def _tiff_with_a_broken_tag(entry, tag, field, value) -> bytes:
    """A 32x32 RGB TIFF from Pillow with one byte of a directory entry changed."""
    data = bytearray(_tiff_bytes(np.zeros((32, 32, 3), np.uint8)))
    assert int.from_bytes(data[entry:entry + 2], "little") == tag
    data[entry + field] = value
    return bytes(data)


def _exr_with_aovs(n_aovs, height, width) -> bytes:
    from tests.imaging.exr_files import float_exr, rgba_and_aovs

    return float_exr(rgba_and_aovs(n_aovs, height, width))


@pytest.mark.filterwarnings("ignore:.*:UserWarning")  # Pillow warns while parsing the broken tags
@pytest.mark.parametrize("make, status", [
    pytest.param(lambda: _tiff_with_a_broken_tag(58, 262, 4, 8), 400, id="tiff-photometric-count-8"),
    pytest.param(lambda: _tiff_with_a_broken_tag(22, 257, 2, 1), 400, id="tiff-image-length-type-byte"),
    pytest.param(lambda: _exr_with_aovs(100, 1, 4), 400, id="exr-with-100-aovs"),
    pytest.param(lambda: _tiff_bytes(np.zeros((1, (1 << 20) + 1), np.uint8)), 413, id="tiff-wider-than-opencv-decodes"),
])
def test_files_the_decoders_cannot_take_are_refused_not_crashing(upload, api_for, alice, project, isolated_storage,
                                                                 make, status):
    response = upload(api_for(alice), project, [("bad.img", make())])
    assert response.status_code == status
    assert "bad.img" in response.json()["error"]["message"]
    assert Asset.objects.count() == 0 and stored_files(isolated_storage) == []


def test_exr_channel_bytes_count_against_the_pixel_limit(upload, api_for, alice, project, settings):
    settings.MAX_UPLOAD_PIXELS = 64 * 64
    # 32x32 pixels is under the limit, but RGBA + 44 float AOVs store 12x what RGBA float would.
    response = upload(api_for(alice), project, [("layers.exr", _exr_with_aovs(44, 32, 32))])
    assert response.status_code == 413 and "48 channels" in response.json()["error"]["message"]
    plain = upload(api_for(alice), project, [("plain.exr", _exr_with_aovs(0, 32, 32))], previews="false")
    assert plain.status_code == 201 and plain.json()["assets"][0]["channels"] == 4


def test_grey_alpha_tiff_keeps_its_alpha_channel(upload, api_for, alice, project):
    grey_alpha = np.dstack([np.arange(64, dtype=np.uint8).reshape(8, 8), np.full((8, 8), 7, np.uint8)])
    response = upload(api_for(alice), project, [("mask.tif", _tiff_bytes(grey_alpha, "LA"))], previews="false")
    assert response.status_code == 201
    assert (response.json()["assets"][0]["channels"], response.json()["assets"][0]["bit_depth"]) == (2, "8")


def test_downloads_name_the_file_in_ascii_and_in_utf8(upload, api_for, alice, project):
    api = api_for(alice)
    body = upload(api, project, [("a.png", png_bytes())], roles=["albedo"], name="Pierre d'été", previews="false").json()
    zipped = api.get(f"/api/v1/projects/{project.id}/sets/{body['set']['id']}/download")
    disposition = zipped["Content-Disposition"]
    short_id = body["set"]["id"][:8]
    # curl -J and older tools read only filename=, which must be plain ASCII; browsers take filename*.
    assert disposition.startswith(f'attachment; filename="Pierre_d_ete-{short_id}.zip"; ')
    assert disposition.endswith(f"filename*=UTF-8''Pierre_d_%C3%A9t%C3%A9-{short_id}.zip")
    single = api.get(body["assets"][0]["download_url"])
    assert single["Content-Disposition"] == 'attachment; filename="albedo.png"'


def test_iphone_heic_photos_upload_and_download_as_heic(upload, api_for, alice, project, isolated_storage):
    pixels = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    heic = heic_bytes(pixels)
    response = upload(api_for(alice), project, [("IMG_0001.HEIC", heic)], roles=["flash"], previews="false")
    assert response.status_code == 201, response.json()
    asset = response.json()["assets"][0]
    assert (asset["name"], asset["original_name"], asset["format"]) == ("flash.heic", "IMG_0001.HEIC", "heic")
    assert (asset["width"], asset["height"], asset["channels"], asset["bit_depth"]) == (64, 48, 3, "8")
    download = api_for(alice).get(asset["download_url"])
    assert download["Content-Type"] == "image/heic" and b"".join(download.streaming_content) == heic


def test_raw_dng_photos_upload_as_16_bit_and_download_as_dng(upload, api_for, alice, project, isolated_storage):
    dng = dng_bytes(np.random.default_rng(3).random((48, 64, 3)) * 0.8, orientation=6)
    response = upload(api_for(alice), project, [("PXL_0001.dng", dng)], roles=["guide"], previews="false")
    assert response.status_code == 201, response.json()
    asset = response.json()["assets"][0]
    assert (asset["name"], asset["format"], asset["colour_space"]) == ("guide.dng", "dng", "srgb")
    assert (asset["width"], asset["height"], asset["channels"], asset["bit_depth"]) == (48, 64, 3, "16")  # upright
    download = api_for(alice).get(asset["download_url"])
    assert download["Content-Type"] == "image/x-adobe-dng" and b"".join(download.streaming_content) == dng
    # A camera RAW format that is not read gets a 400 that says what to do, and nothing is stored.
    cr2 = b"II*\0\x10\0\0\0CR\x02\0" + bytes(4096)
    refused = upload(api_for(alice), project, [("IMG_0002.CR2", cr2)], roles=["flash"], previews="false")
    assert refused.status_code == 400 and "Adobe DNG Converter" in str(refused.json()), refused.json()
