"""Uploads are checked by content, size and pixel count; a bad file stores nothing."""

import hashlib
import io
import zipfile

import numpy as np
import pytest

from tests.images import jpeg_bytes, png_bytes
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
