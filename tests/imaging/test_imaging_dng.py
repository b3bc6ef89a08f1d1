"""DNG (camera RAW) reading: developed linearly by LibRaw, encoded as 16-bit sRGB."""

import io
import struct

import numpy as np
import pytest
from PIL import Image as PILImage
from scipy.ndimage import gaussian_filter

from imaging.color import srgb_to_linear
from imaging import dng
from imaging.io import ImageFormatError, ImageInfo, ImageTooLargeError, probe_image, read_image
from materials.capture import synthetic
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


def test_a_phones_lens_shading_gain_maps_are_applied():
    """Phones store their lens shading correction as GainMap opcodes, which LibRaw (without
    Adobe's SDK) ignores: uncorrected, this file's corners would read 0.4-0.6 of its centre,
    redder or bluer by channel."""
    scene = np.full((96, 128, 3), 0.4)
    image = read_image(dng_bytes(scene, shading=0.5, neutral=(0.5, 1.0, 0.7)))
    assert image.colour_profile["name"] == "camera colour (DNG colour matrices, lens shading corrected)"
    error = np.abs(developed(image) / 0.4 - 1)[4:-4, 4:-4]
    # What is left is the 13x17 grid's bilinear interpolation of a 1 / (1 - k r^2) correction.
    assert error.max() < 0.03 and np.median(error) < 0.005, (error.max(), np.median(error))


def test_gain_maps_are_placed_as_adobes_sdk_places_them(monkeypatch):
    """Grid point (i, j) at relative position (i/(v-1), j/(h-1)) of the whole image, pixel
    centres at (row + 0.5) / height: with a fine grid the correction is exact to quantisation
    (a half-pixel or a one-point shift would leave a few per cent in the corners)."""
    coarse = synthetic.lens_shading
    monkeypatch.setattr(synthetic, "lens_shading", lambda h, w, s, points=(49, 65): coarse(h, w, s, points))
    pixels, development = dng.develop(dng_bytes(np.full((96, 128, 3), 0.4), shading=0.5))
    assert development.gain_maps == 4 and development.skipped_opcodes == []
    error = np.abs(np.asarray(srgb_to_linear(pixels / 65535.0)) / 0.4 - 1)[4:-4, 4:-4]
    assert error.max() < 0.004, error.max()


def test_a_phones_lens_distortion_warp_is_applied(monkeypatch):
    """Android leaves the lens's distortion in the pixels and stores its correction as a
    WarpRectilinear opcode (OpcodeList3): corrected, a fine pattern lands where the scene
    has it; uncorrected, it is 4 px off in the corners (barrel, 5 % at r = 1)."""
    rows, cols = np.mgrid[0:96, 0:128]
    scene = 0.25 + 0.2 * (np.sin(cols / 2.3) * np.sin(rows / 2.9))[..., None] * np.ones(3)
    data = dng_bytes(scene, distortion=-0.05)
    image = read_image(data)
    assert image.colour_profile["name"] == "camera colour (DNG colour matrices, lens distortion corrected)"
    inner = (slice(6, -6), slice(6, -6))
    corrected = np.abs(developed(image) - scene)[inner]
    pixels, development = dng.develop(data)
    assert development.warps == 1 and development.skipped_opcodes == []
    warp = dng.parse_warp_rectilinear(dng.parse_opcodes(synthetic._warp_rectilinear_opcodes(-0.05))[0][2])
    x, y = warp.source_positions(0, 96, 128)
    assert abs(x[48, 64] - 64) < 1e-4 and abs(y[48, 64] - 48) < 1e-4  # the centre stays
    assert 3.5 < np.hypot(x[0, 0], y[0, 0]) < 4.5  # the corner samples 4 px inwards
    # the same file with its warp left out
    with monkeypatch.context() as patch:
        patch.setattr(dng, "_apply_opcode_list_3", lambda linear, blob, development: linear)
        uncorrected = np.abs(np.asarray(srgb_to_linear(dng.develop(data)[0] / 65535.0)) - scene)[inner]
    assert np.mean(corrected) < 0.2 * np.mean(uncorrected), (np.mean(corrected), np.mean(uncorrected))
    assert np.percentile(corrected, 99) < 0.02, np.percentile(corrected, 99)  # 0.013: demosaicing, resampling
    # a malformed warp is reported and nothing is moved
    development = dng.Development()
    linear = np.full((4, 4, 3), 1000, np.uint16)
    broken = struct.pack(">I", 1) + struct.pack(">I4sII", 1, bytes((1, 3, 0, 0)), 0, 8) + bytes(8)
    assert dng._apply_opcode_list_3(linear, broken, development) is linear
    assert development.skipped_opcodes == ["OpcodeList3 #1: malformed WarpRectilinear"]


def test_a_lens_vignetting_correction_is_applied_in_the_lists_order_and_the_default_crop_cut(monkeypatch):
    """Adobe's DNG Converter stores a known lens's vignetting as a FixVignetteRadial opcode
    (OpcodeList3, ahead of the warp) and keeps a margin outside DefaultCrop; LibRaw applies
    neither. Uncorrected, this file's corners read 1 / (1 + 0.6) of the light; its 6-8 px
    margins would be handed over as part of the photo."""
    rows, cols = np.mgrid[0:96, 0:128]
    scene = (0.3 + 0.1 * np.sin(cols / 7.0) * np.cos(rows / 9.0))[..., None] * np.array([1.0, 0.9, 0.8])
    crop = (6, 8, 80, 110)  # top, left, height, width
    data = dng_bytes(scene, vignette=0.6, distortion=-0.03, crop=crop)
    assert probe_image(data) == ImageInfo("dng", 110, 80, 3, "16")
    image = read_image(data)
    assert image.pixels.shape == (80, 110, 3)
    assert image.colour_profile["name"] == \
        "camera colour (DNG colour matrices, lens distortion and vignetting corrected)"
    pixels, development = dng.develop(data)
    assert (development.vignettes, development.warps, development.crop) == (1, 1, crop)
    assert development.skipped_opcodes == []
    shown = scene[6:86, 8:118]
    error = np.abs(developed(image) / shown - 1)
    assert np.median(error) < 0.01 and np.percentile(error, 99) < 0.04, (np.median(error), np.percentile(error, 99))
    # the corners are as bright as the middle: the vignetting was undone, not just cut away
    corner = developed(image)[:8, :8] / shown[:8, :8]
    assert abs(np.median(corner) - 1) < 0.02, np.median(corner)
    # the gains are the SDK's: 1 + k0 r^2 at pixel centres, r = 1 at the farthest corner
    vignette = dng.parse_vignette_radial(synthetic._vignette_radial_opcode(0.6)[16:])
    gains = vignette.gains(96, 128)
    assert np.allclose(gains, 1 / synthetic.vignette_fall_off(96, 128, 0.6), rtol=1e-5)
    assert gains[0, 0] == pytest.approx(1 + 0.6 * (63.5 ** 2 + 47.5 ** 2) / (64 ** 2 + 48 ** 2), rel=1e-5)
    with monkeypatch.context() as patch:  # the same file as a reader without the opcode sees it
        patch.setattr(dng, "_FIX_VIGNETTE_RADIAL_OPCODE", -1)
        pixels, development = dng.develop(data)
        assert development.skipped_opcodes == ["OpcodeList3 #1: opcode 3 (optional)"]
    uncorrected = np.asarray(srgb_to_linear(pixels / 65535.0))[:8, :8] / shown[:8, :8]
    assert np.median(uncorrected) < 0.8, np.median(uncorrected)  # 0.73 at the crop's corner
    with pytest.raises(ValueError):
        dng.parse_vignette_radial(synthetic._vignette_radial_opcode(0.6)[16:-8])
    # a crop that does not fit the image is not applied
    class Sizes:
        crop_height, crop_width, crop_top_margin, crop_left_margin = 80, 110, 30, 8
        height, width, top_margin, left_margin = 96, 128, 0, 0
    assert dng._default_crop(Sizes) is None


def test_other_and_broken_opcodes_are_skipped_and_reported():
    gain_map = dng.parse_opcodes(synthetic._gain_map_opcodes(np.ones((2, 2, 3), np.float32), 96, 128))[0]
    assert gain_map[0] == 9 and dng.parse_gain_map(gain_map[2]).row_pitch == 2
    with pytest.raises(ValueError):
        dng.parse_gain_map(gain_map[2][:-4])  # one gain short
    with pytest.raises(ValueError):
        dng.parse_opcodes(b"\0\0\0\x02" + bytes(20))  # says 2 opcodes, holds less than one

    class FakeRaw:  # LibRaw's view of a 4x4 Bayer image
        raw_image_visible = np.full((4, 4), 1000, np.uint16)
        raw_colors_visible = np.zeros((4, 4), np.uint8)
        black_level_per_channel = [0, 0, 0, 0]
        white_level = 4000

    warp = struct.pack(">I4sII", 1, bytes((1, 3, 0, 0)), 1, 4) + bytes(4)  # WarpRectilinear, optional
    development = dng.Development()
    dng._apply_gain_maps(FakeRaw, struct.pack(">I", 1) + warp, development)
    assert development.skipped_opcodes == ["OpcodeList2 #1: opcode 1 (optional)"]
    assert (FakeRaw.raw_image_visible == 1000).all()
    dng._apply_gain_maps(FakeRaw, b"\0\0\0\x05", development)
    assert development.skipped_opcodes[-1] == "OpcodeList2 (unreadable)"
