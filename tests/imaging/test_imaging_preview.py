import numpy as np
import pytest

from imaging.color import linear_to_srgb
from imaging.io import Image
from imaging.preview import make_preview, needs_tonemapped_preview, tonemap_to_srgb8

rng = np.random.default_rng(7)


def _image(pixels, bit_depth, colour_space="srgb", fmt="png"):
    return Image(pixels, bit_depth, colour_space, fmt)


def test_size_aspect_and_dtype():
    preview = make_preview(_image(rng.integers(0, 255, (600, 400, 3), dtype=np.uint8), "8"), max_size=128)
    assert preview.dtype == np.uint8
    assert preview.shape == (128, 85, 3)


def test_small_images_are_not_upscaled():
    pixels = rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)
    preview = make_preview(_image(pixels, "8"), max_size=256)
    assert preview.shape == pixels.shape
    assert np.abs(preview.astype(int) - pixels).max() <= 1  # sRGB -> linear -> sRGB only


def test_sixteen_bit_maps_by_value():
    levels = np.arange(256, dtype=np.uint16) * 257  # exactly representable 8-bit levels
    pixels = np.repeat(levels.reshape(16, 16, 1), 3, axis=2)
    preview = make_preview(_image(pixels, "16"))
    assert np.array_equal(preview[..., 0], np.arange(256).reshape(16, 16))


def test_downscaling_averages_in_linear_light():
    checker = (np.indices((64, 64)).sum(axis=0) % 2 * 255).astype(np.uint8)[..., None]
    preview = make_preview(_image(np.repeat(checker, 3, axis=2), "8"), max_size=16)
    expected = round(float(linear_to_srgb(np.float64(0.5))) * 255)  # 188, not 128
    assert np.all(np.abs(preview.astype(int) - expected) <= 1)


def test_grey_stays_two_dimensional_and_grey_alpha_becomes_rgba():
    grey = rng.integers(0, 255, (300, 100, 1), dtype=np.uint8)
    assert make_preview(_image(grey, "8")).shape == (256, 85)
    grey_alpha = rng.integers(0, 255, (30, 10, 2), dtype=np.uint8)
    preview = make_preview(_image(grey_alpha, "8"))
    assert preview.shape == (30, 10, 4)
    assert np.array_equal(preview[..., 0], preview[..., 2])
    assert np.array_equal(preview[..., 3], grey_alpha[..., 1])


def test_transparent_colour_does_not_bleed():
    pixels = np.zeros((64, 64, 4), np.uint8)
    pixels[..., 0] = 255  # red everywhere ...
    pixels[::2, :, 3] = 0  # ... but every other row fully transparent
    pixels[1::2, :, :3] = (0, 255, 0)  # opaque rows are green
    pixels[1::2, :, 3] = 255
    preview = make_preview(_image(pixels, "8"), max_size=16)
    assert preview[..., 0].max() == 0  # no red
    assert np.all(preview[..., 1] == 255)
    assert np.all(np.abs(preview[..., 3].astype(int) - 128) <= 1)


def test_hdr_preview_is_not_blown_out():
    hdr = np.exp(rng.normal(0.0, 2.0, (200, 300, 3))).astype(np.float32)  # ~0.0003 .. 3000
    preview = make_preview(_image(hdr, "32f", "linear", "exr"))
    assert preview.shape == (171, 256, 3)
    assert (preview == 255).mean() < 0.02
    assert 40 < preview.mean() < 200


def test_tonemap_is_monotonic_and_keeps_ldr_exposure():
    ramp = np.repeat(np.linspace(0.0, 50.0, 4000, dtype=np.float32).reshape(1, -1, 1), 3, axis=2)
    mapped = tonemap_to_srgb8(ramp)[0, :, 0].astype(int)
    assert np.all(np.diff(mapped) >= 0)
    assert mapped[0] == 0 and mapped[-1] == 255
    albedo = rng.random((32, 32, 3), dtype=np.float32) * 0.9
    expected = np.rint(linear_to_srgb(albedo) * 255)
    assert np.abs(tonemap_to_srgb8(albedo).astype(int) - expected).max() == 0


def test_non_finite_values_do_not_break_the_preview():
    hdr = rng.random((16, 16, 3), dtype=np.float32)
    hdr[0, 0] = np.nan
    hdr[1, 1] = np.inf
    hdr[2, 2] = -5.0
    preview = make_preview(_image(hdr, "32f", "linear", "exr"))
    assert preview.dtype == np.uint8
    assert preview[2, 2].tolist() == [0, 0, 0]


@pytest.mark.parametrize("bit_depth,colour_space,expected", [
    ("8", "srgb", False), ("16", "srgb", True), ("32f", "linear", True),
])
def test_needs_tonemapped_preview(bit_depth, colour_space, expected):
    dtype = {"8": np.uint8, "16": np.uint16, "32f": np.float32}[bit_depth]
    image = _image(np.zeros((2, 2, 3), dtype), bit_depth, colour_space)
    assert needs_tonemapped_preview(image) is expected
