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
from materials.capture.synthetic import make_capture


def _jpeg_with_focal_length(pixels, f35):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA405] = f35  # FocalLengthIn35mmFilm
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=95, exif=exif)
    return buf.getvalue()


def test_fov_from_exif_uses_35mm_equivalent_focal_length():
    assert fov_from_exif({"FocalLengthIn35mmFilm": 18}) == pytest.approx(90.0)
    assert fov_from_exif({}) is None
    assert fov_from_exif({"FocalLengthIn35mmFilm": 0}) is None


def test_capture_from_files_reads_exif_and_writes_outputs(tmp_path):
    cap = make_capture("tiles", width=256, height=192, period=64, seed=4)
    flash = _jpeg_with_focal_length(cap.flash, 26)
    guide_path = tmp_path / "guide.png"
    Image.fromarray(cap.guide).save(guide_path)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = capture_material(flash, str(guide_path), quality="fast")
    finally:
        torch.set_num_threads(before)
    assert result.report["fov_deg"] == pytest.approx(fov_from_exif({"FocalLengthIn35mmFilm": 26}), abs=1e-3)
    written = write_outputs(result, tmp_path / "out", bit_depth="16", exr=True)
    names = {p.name for p in written}
    assert {"albedo.png", "normal.png", "roughness.png", "glossiness.png", "anisotropy.png", "specular.png",
            "albedo.exr", "rerender_flash.png", "report.json"} <= names
    normal = read_image(tmp_path / "out" / "normal.png")
    assert normal.bit_depth == "16" and (normal.height, normal.width) == result.maps.shape
    assert json.loads((tmp_path / "out" / "report.json").read_text())["surface"] == "periodic"


def test_unreadable_file_is_a_capture_error():
    with pytest.raises(CaptureInputError, match="flash photo could not be read"):
        capture_material(b"not an image", b"neither")
