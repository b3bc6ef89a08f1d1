"""File inputs (JPEG bytes with EXIF, PNG paths) and written outputs."""

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from imaging.io import read_image
from materials.capture import CaptureInputError, capture_material
from materials.capture.outputs import write_outputs
from materials.capture.pipeline import fov_from_exif
from materials.capture.synthetic import make_capture, raw_photos
from tests.imaging.icc_profiles import rgb_profile
from tests.images import heic_bytes
from tests.materials.test_capture_pipeline import _truth_at_tile


def _jpeg_with_focal_length(pixels, f35, icc_profile=None):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA405] = f35  # FocalLengthIn35mmFilm
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=95, exif=exif, icc_profile=icc_profile)
    return buf.getvalue()


def test_fov_from_exif_uses_35mm_equivalent_focal_length():
    # A 3:2 photo spans the full frame's 36 mm width: 18 mm sees 90 degrees across.
    assert fov_from_exif({"FocalLengthIn35mmFilm": 18}, (2000, 3000)) == pytest.approx(90.0)
    # The equivalence is on the diagonal: a 4:3 photo's width is 34.6 mm of it, and an
    # upright (portrait) photo's width is its short side (phones: 26 mm, 4:3).
    landscape = fov_from_exif({"FocalLengthIn35mmFilm": 26}, (3000, 4000))
    portrait = fov_from_exif({"FocalLengthIn35mmFilm": 26}, (4000, 3000))
    assert landscape == pytest.approx(2 * np.degrees(np.arctan(43.2666 * 0.8 / 52)), abs=0.01)
    assert portrait == pytest.approx(2 * np.degrees(np.arctan(43.2666 * 0.6 / 52)), abs=0.01)
    assert portrait < landscape - 10
    assert fov_from_exif({}, (3, 4)) is None
    assert fov_from_exif({"FocalLengthIn35mmFilm": 0}, (3, 4)) is None


def test_capture_from_files_reads_exif_and_writes_outputs(tmp_path):
    cap = make_capture("tiles", width=256, height=192, period=64, seed=4)
    # Both as a phone saves them, in Display P3 (converted to sRGB on reading).
    flash = _jpeg_with_focal_length(cap.flash, 26, icc_profile=rgb_profile())
    guide_path = tmp_path / "guide.png"
    Image.fromarray(cap.guide).save(guide_path, icc_profile=rgb_profile())
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = capture_material(flash, str(guide_path), quality="fast")
    finally:
        torch.set_num_threads(before)
    profiles = result.report["colour_profiles"]
    assert profiles["flash"]["name"] == profiles["guide"]["name"] == "Display P3"
    assert profiles["flash"]["converted"] and profiles["guide"]["converted"]
    assert result.report["fov_deg"] == pytest.approx(fov_from_exif({"FocalLengthIn35mmFilm": 26}, cap.flash.shape), abs=1e-3)
    written = write_outputs(result, tmp_path / "out", bit_depth="16", exr=True)
    names = {p.name for p in written}
    assert {"albedo.png", "normal.png", "roughness.png", "glossiness.png", "anisotropy.png", "specular.png",
            "albedo.exr", "rerender_flash.png", "report.json"} <= names
    normal = read_image(tmp_path / "out" / "normal.png")
    assert normal.bit_depth == "16" and (normal.height, normal.width) == result.maps.shape
    # The EXR normal map holds what the PNG holds (0.5n+0.5), at float precision.
    normal_exr = read_image(tmp_path / "out" / "normal.exr").pixels
    assert np.abs(normal_exr - normal.pixels / 65535.0).max() < 1e-4
    assert json.loads((tmp_path / "out" / "report.json").read_text())["surface"] == "periodic"


def test_capture_from_iphone_heic_photos(one_thread):
    """HEIC, an iPhone's default: Display P3 named by nclx code points, EXIF focal length."""
    cap = make_capture("tiles", width=256, height=192, period=64, seed=4)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA405] = 26
    p3 = {"color_primaries": 12, "transfer_characteristics": 13, "matrix_coefficients": 6, "full_range_flag": 1}
    flash, guide = (heic_bytes(photo, exif=exif, nclx=p3) for photo in (cap.flash, cap.guide))
    result = capture_material(flash, guide, quality="fast")
    profiles = result.report["colour_profiles"]
    assert profiles["flash"] == profiles["guide"] == {"name": "Display P3 (nclx)", "converted": True, "reason": None}
    assert result.report["fov_deg"] == pytest.approx(fov_from_exif({"FocalLengthIn35mmFilm": 26}, cap.flash.shape), abs=1e-3)
    assert result.report["surface"] == "periodic" and result.maps.shape == (64, 64)
    assert result.report["rerender_psnr_db"] > 28


def test_capture_from_raw_dng_photos(one_thread):
    """A phone's RAW pair (Bayer DNG): linear light, no tone curve, each shot with its own white
    balance and exposure; the maps come out as from the renders themselves (same bounds as
    test_capture_pipeline's 8-bit pair)."""
    cap = make_capture("tiles", width=256, height=192, period=64, seed=2, quantise=False)
    flash, guide = raw_photos(cap, noise=0.01)
    result = capture_material(flash, guide, fov_deg=65, quality="fast")
    assert result.report["colour_profiles"]["flash"]["name"] == "camera colour (DNG colour matrices)"
    assert result.report["surface"] == "periodic" and result.maps.shape == (64, 64)
    normal, albedo, specular, _ = _truth_at_tile(cap, result)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    assert np.degrees(np.arccos(np.clip((normal * result.maps.normal).sum(-1), -1, 1))).mean() < 4.0
    fitted_albedo, fitted_specular = result.maps.albedo, result.maps.specular
    scale = (((albedo * fitted_albedo).sum() + (specular * fitted_specular).sum())
             / ((fitted_albedo ** 2).sum() + (fitted_specular ** 2).sum()))
    assert np.sqrt(((scale * fitted_albedo - albedo) ** 2).mean()) < 0.03
    assert result.report["rerender_psnr_db"] > 28


def test_unreadable_file_is_a_capture_error():
    with pytest.raises(CaptureInputError, match="flash photo could not be read"):
        capture_material(b"not an image", b"neither")
