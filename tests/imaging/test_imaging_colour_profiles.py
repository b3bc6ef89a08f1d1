"""Embedded ICC profiles: 8-bit pixels come back in sRGB, and Image.colour_profile says what was done."""

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage, ImageCms

from imaging.io import read_image
from tests.imaging.icc_profiles import ADOBE_RGB_COLORANTS, P3_TO_SRGB, gamma_curve, rgb_profile, table_curve

# Flat 8x8 blocks (so JPEG keeps them flat): a red, a green outside sRGB, mid grey, white.
COLOURS = [(200, 60, 60), (60, 160, 60), (128, 128, 128), (255, 255, 255)]


def _blocks(alpha=None):
    pixels = np.concatenate([np.full((8, 8, 3), c, np.uint8) for c in COLOURS], axis=1)
    if alpha is not None:
        pixels = np.dstack([pixels, np.full(pixels.shape[:2], alpha, np.uint8)])
    return pixels


def _p3_to_srgb(rgb):
    """Independent reference: sRGB curve, the P3 -> sRGB matrix, clip, sRGB curve back."""
    x = rgb / 255.0
    linear = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    linear = np.clip(linear @ np.array(P3_TO_SRGB).T, 0, 1)
    encoded = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.rint(encoded * 255)


def _save(pixels, fmt, **options):
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, fmt, **options)
    return buffer.getvalue()


def _with_iccp(png: bytes, profile: bytes) -> bytes:
    """Insert an iCCP chunk right after IHDR (for PNGs written by OpenCV, which cannot)."""
    body = b"test\0\0" + zlib.compress(profile)
    chunk = struct.pack(">I", len(body)) + b"iCCP" + body + struct.pack(">I", zlib.crc32(b"iCCP" + body))
    return png[:33] + chunk + png[33:]


_FORMATS = {
    "PNG": {},
    "JPEG": {"quality": 100, "subsampling": 0},
    "WEBP": {"lossless": True, "exact": True},
    "TIFF": {},
}


@pytest.mark.parametrize("fmt", _FORMATS)
def test_display_p3_pixels_are_converted_to_srgb(fmt):
    pixels = _blocks()
    image = read_image(_save(pixels, fmt, icc_profile=rgb_profile("Display P3"), **_FORMATS[fmt]))
    got = image.pixels[4, 4::8].astype(int)  # the middle of each block
    assert np.abs(got[0] - (217, 42, 51)).max() <= 2  # the saturated red stays saturated
    assert np.abs(got - _p3_to_srgb(np.array(COLOURS))).max() <= 2
    assert got[2].tolist() == [128, 128, 128] and got[3].tolist() == [255, 255, 255]
    assert image.pixels.dtype == np.uint8 and image.pixels.flags.writeable
    assert image.colour_profile == {"name": "Display P3", "converted": True, "reason": None}


def test_alpha_is_kept_as_stored_while_colour_is_converted():
    pixels = _blocks(alpha=77)
    pixels[0, 0, 3] = 0
    image = read_image(_save(pixels, "PNG", icc_profile=rgb_profile("Display P3")))
    assert np.abs(image.pixels[4, 4::8, :3] - _p3_to_srgb(np.array(COLOURS))).max() <= 2
    assert np.array_equal(image.pixels[..., 3], pixels[..., 3])
    assert image.colour_profile["converted"]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_srgb_profiles_and_files_without_one_are_left_alone(fmt):
    pixels = np.random.default_rng(7).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    plain = read_image(_save(pixels, fmt))
    assert plain.colour_profile is None
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tagged = read_image(_save(pixels, fmt, icc_profile=srgb))
    assert tagged.colour_profile == {"name": "sRGB built-in", "converted": False, "reason": "already sRGB"}
    assert np.array_equal(tagged.pixels, plain.pixels)  # bit-identical: no round trip through LittleCMS


def test_a_broken_profile_is_ignored_and_reported():
    pixels = _blocks()
    image = read_image(_save(pixels, "PNG", icc_profile=b"not an ICC profile at all"))
    assert np.array_equal(image.pixels, pixels)
    assert image.colour_profile["name"] is None and image.colour_profile["converted"] is False
    assert image.colour_profile["reason"].startswith("unreadable ICC profile")


def _png16_with_profile(rgb16, profile):
    png = cv2.imencode(".png", np.ascontiguousarray(rgb16[..., ::-1]))[1].tobytes()
    return _with_iccp(png, profile)


def test_sixteen_bit_display_p3_pixels_are_converted_to_srgb():
    rgb16 = (np.array(COLOURS, np.uint16) * 257)[None]  # 8-bit colours on 16-bit codes
    image = read_image(_png16_with_profile(rgb16, rgb_profile("Display P3")))
    assert image.pixels.dtype == np.uint16
    assert image.colour_profile == {"name": "Display P3", "converted": True, "reason": None}
    assert np.abs(image.pixels[0] / 257.0 - _p3_to_srgb(np.array(COLOURS))).max() <= 0.6
    assert image.pixels[0, 3].min() >= 65535 - 16  # white stays white (to the colorants' 4 decimals)


@pytest.mark.parametrize("trc", ["gamma", "table"])
def test_sixteen_bit_conversion_agrees_with_littlecms_on_the_same_colours(trc):
    # Adobe RGB colorants with a gamma curve or a table curve: the 16-bit path (imaging.icc) and
    # LittleCMS (the 8-bit path) read the same profile independently.
    curve = gamma_curve(563 / 256) if trc == "gamma" else table_curve(
        np.rint(65535 * np.linspace(0, 1, 1024) ** 1.8).astype(int).tolist())
    profile = rgb_profile("Adobe RGB test", ADOBE_RGB_COLORANTS, trc=curve)
    rgb8 = np.random.default_rng(5).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    by_littlecms = read_image(_save(rgb8, "PNG", icc_profile=profile)).pixels.astype(float)
    sixteen = read_image(_png16_with_profile(rgb8.astype(np.uint16) * 257, profile))
    assert sixteen.colour_profile["converted"]
    assert np.abs(sixteen.pixels / 257.0 - by_littlecms).max() <= 1.5
    assert np.abs(by_littlecms - rgb8).max() > 20  # the profile did change the colours


def test_sixteen_bit_alpha_is_kept_while_colour_is_converted():
    rgba16 = np.random.default_rng(3).integers(0, 65536, (4, 5, 4), dtype=np.uint16)
    png = cv2.imencode(".png", np.ascontiguousarray(rgba16[..., [2, 1, 0, 3]]))[1].tobytes()
    image = read_image(_with_iccp(png, rgb_profile("Display P3")))
    assert np.array_equal(image.pixels[..., 3], rgba16[..., 3]) and image.colour_profile["converted"]


def test_sixteen_bit_pixels_under_a_lookup_table_profile_keep_their_values_and_say_so():
    rgb16 = np.random.default_rng(3).integers(0, 65536, (4, 5, 3), dtype=np.uint16)
    image = read_image(_png16_with_profile(rgb16, rgb_profile("LUT only", matrix=False)))
    assert np.array_equal(image.pixels, rgb16)
    assert image.colour_profile["converted"] is False
    assert "matrix/TRC profiles only" in image.colour_profile["reason"]
