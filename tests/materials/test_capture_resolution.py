"""Capture maps at a chosen output size (materials/capture/resolution.py)."""

import numpy as np
import pytest

from imaging.color import srgb_to_linear
from imaging.resize import resize
from materials.capture.maps import SvbrdfMaps, encode_maps
from materials.capture.resolution import output_size, resize_maps
from superres.data.procedural import make_texture
from textures.synthesis.metrics import seam_excess


def tile_maps(albedo_srgb: np.ndarray, angle: float = np.radians(80)) -> SvbrdfMaps:
    """Maps of a tileable tile: the given albedo, normals and roughness from its luminance."""
    h, w = albedo_srgb.shape[:2]
    luminance = albedo_srgb.mean(-1)
    gy, gx = np.gradient(np.pad(luminance, 1, mode="wrap"))
    normal = np.stack([-gx[1:-1, 1:-1], -gy[1:-1, 1:-1], np.full((h, w), 0.5)], -1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    return SvbrdfMaps(albedo=np.asarray(srgb_to_linear(albedo_srgb), np.float32),
                      specular=np.full((h, w, 3), 0.04, np.float32), normal=normal.astype(np.float32),
                      roughness=(0.2 + 0.6 * luminance).astype(np.float32),
                      anisotropy=np.full((h, w), 0.5, np.float32), angle=np.full((h, w), angle, np.float32))


@pytest.fixture(scope="module")
def texture():
    _, hr = make_texture(1000001, 128, kind="cells")  # a held-out seed; cells wrap around
    return hr


def test_output_size_keeps_the_aspect():
    assert output_size((30, 40), 80) == (60, 80)
    assert output_size((64, 64), 48) == (48, 48)
    with pytest.raises(ValueError):
        output_size((64, 64), 0)


def test_enlarged_maps_are_valid_seamless_and_sharper_than_bicubic(texture):
    low = np.clip(resize(texture, (32, 32), wrap=True), 0, 1)
    maps = tile_maps(low)
    big = resize_maps(maps, (128, 128))
    assert big.shape == (128, 128)
    assert np.allclose(np.linalg.norm(big.normal, axis=-1), 1, atol=1e-5)
    assert big.roughness.min() >= 0.02 and big.roughness.max() <= 1
    assert 0 <= big.anisotropy.min() and big.anisotropy.max() < 1
    encoded = encode_maps(big)
    assert seam_excess(encoded["albedo"]) < 1.5 and seam_excess(encoded["normal"]) < 1.5  # still tiles
    before = float(encode_maps(maps)["albedo"].mean())  # the network keeps the (sRGB) mean colour
    assert abs(float(encoded["albedo"].mean()) - before) < 0.01 * before
    # The network, not interpolation: closer to the high-resolution texture than bicubic.
    psnr = lambda x: 10 * np.log10(1 / np.mean((np.clip(x, 0, 1) - texture) ** 2))
    bicubic = resize(low, (128, 128), wrap=True)
    assert psnr(encoded["albedo"]) > psnr(bicubic) + 0.3, (psnr(encoded["albedo"]), psnr(bicubic))


def test_anisotropy_direction_is_an_axis(texture):
    """80 deg and -100 deg are one tangent axis: resampling keeps it (no averaging towards 0)."""
    maps = tile_maps(np.clip(resize(texture, (32, 32), wrap=True), 0, 1))
    maps.angle[:, 16:] = np.radians(-100)
    for size in ((64, 64), (16, 16)):
        out = resize_maps(maps, size)
        axis_error = np.abs(np.angle(np.exp(2j * (out.angle - np.radians(80))))) / 2
        assert np.degrees(axis_error).max() < 0.5
        assert np.allclose(out.anisotropy, 0.5, atol=1e-3)


def test_reduced_maps_are_resampled(texture):
    maps = tile_maps(np.clip(resize(texture, (64, 64), wrap=True), 0, 1))
    small = resize_maps(maps, (24, 24))
    assert small.shape == (24, 24)
    assert np.allclose(np.linalg.norm(small.normal, axis=-1), 1, atol=1e-5)
    assert resize_maps(maps, (64, 64)) is maps
