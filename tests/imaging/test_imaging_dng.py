"""DNG (camera RAW) reading: developed linearly by LibRaw, encoded as 16-bit sRGB."""

import io

import numpy as np
import pytest
from PIL import Image as PILImage
from scipy.ndimage import gaussian_filter

from imaging.color import srgb_to_linear
from imaging.io import ImageFormatError, ImageInfo, ImageTooLargeError, probe_image, read_image
from tests.images import dng_bytes


@pytest.fixture(scope="module")
def light():
    """(96,128,3) smooth linear RGB in [0.05, 0.85], distinct per channel."""
    rng = np.random.default_rng(0)
    field = np.stack([gaussian_filter(rng.random((96, 128)), 6) for _ in range(3)], -1)
    return (field - field.min()) / (field.max() - field.min()) * 0.8 + 0.05


def developed(image) -> np.ndarray:
    return np.asarray(srgb_to_linear(image.pixels / 65535.0))


@pytest.mark.parametrize("bayer", [True, False], ids=["bayer", "linear-raw"])
def test_dng_reads_as_linear_light_in_16_bit_srgb(light, bayer):
    """The camera's white balance undone, no tone curve: the values are the light, to scale 1."""
    data = dng_bytes(light, bayer=bayer, neutral=(0.5, 1.0, 0.7), focal_35mm=26)
    assert probe_image(data) == ImageInfo("dng", 128, 96, 3, "16")
    image = read_image(data)
    assert (image.format, image.bit_depth, image.colour_space) == ("dng", "16", "srgb")
    assert image.pixels.shape == (96, 128, 3) and image.pixels.dtype == np.uint16
    assert image.colour_profile["converted"] and "DNG" in image.colour_profile["name"]
    assert image.exif["FocalLengthIn35mmFilm"] == 26
    inner = (slice(8, -8), slice(8, -8))
    ratio = (developed(image)[inner] / light[inner]).reshape(-1, 3)
    # The file's white level is 1 (not the brightest pixel found): same scale for every shot.
    assert np.abs(np.median(ratio, 0) - 1).max() < 0.03, np.median(ratio, 0)
    # The white balance is neutral again: channels in the written proportions.
    assert np.abs(np.median(ratio, 0) / np.median(ratio) - 1).max() < 0.01
    assert np.abs(developed(image)[inner] - light[inner]).mean() < 0.01  # demosaicing a smooth field


def test_dng_orientation_is_applied_like_exif(light):
    upright = read_image(dng_bytes(light))
    turned = read_image(dng_bytes(light, orientation=6))  # stored as the sensor saw it, shown turned right
    assert probe_image(dng_bytes(light, orientation=6)) == ImageInfo("dng", 128, 96, 3, "16")  # as stored
    assert turned.pixels.shape == (128, 96, 3) and turned.exif["Orientation"] == 1
    assert np.array_equal(turned.pixels, np.rot90(upright.pixels, -1))
    as_stored = read_image(dng_bytes(light, orientation=6), apply_exif_orientation=False)
    assert np.array_equal(as_stored.pixels, upright.pixels)


def test_dng_highlights_clip_at_the_sensors_white_in_every_channel(light):
    """What reaches the sensor's white level reads 1 in every channel after white balance, so
    a clipped flash highlight is seen as clipped (a channel left below 1 would look coloured)."""
    scene = light.copy()
    scene[30:50, 40:70] = 1.2  # over-exposed: green clips in the raw data; red and blue only once balanced
    image = read_image(dng_bytes(scene, neutral=(0.5, 1.0, 0.7)))
    assert (image.pixels[34:46, 44:66] == 65535).all()
    assert image.pixels[60:, :].max() < 65535


def test_broken_dng_and_other_camera_raw_files_get_clear_errors(light):
    data = dng_bytes(light)
    with pytest.raises(ImageFormatError, match="DNG"):
        read_image(data[: len(data) // 2])
    with pytest.raises(ImageTooLargeError):
        read_image(data, max_pixels=128 * 96 - 1)
    # Canon CR2 / CR3, Fujifilm, Olympus, Panasonic: recognised, refused with a way out.
    heads = [b"II*\0\x10\0\0\0CR\x02\0", b"\0\0\0\x18ftypcrx ", b"FUJIFILMCCD-RAW 0201", b"IIRO\x08\0\0\0",
             b"IIU\0\x08\0\0\0"]
    for head in heads:
        with pytest.raises(ImageFormatError, match="read as DNG only.*Adobe DNG Converter"):
            probe_image(head + bytes(64))
    # Nikon NEF, Sony ARW...: TIFFs whose first image is a small preview. Decoding that
    # would hand over a thumbnail as if it were the photo.
    preview = io.BytesIO()
    PILImage.fromarray(np.zeros((12, 16, 3), np.uint8)).save(preview, "TIFF", tiffinfo={254: 1, 271: "NIKON"})
    with pytest.raises(ImageFormatError, match="reduced-resolution preview.*DNG"):
        read_image(preview.getvalue())
