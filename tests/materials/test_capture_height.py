"""Height from the fitted normals (materials/capture/height.py)."""

import numpy as np
from scipy import ndimage

from materials.capture.height import height_from_normals, stretch
from materials.capture.synthetic import normals_from_height


def relief(h=48, w=80, seed=0):
    """A smooth, tileable height field in texels, mean 0."""
    field = ndimage.gaussian_filter(np.random.default_rng(seed).normal(size=(h, w)), 2.5, mode="wrap") * 12
    return field - field.mean()


def test_integrates_the_reference_normals_back_to_their_height():
    height = relief()
    recovered = height_from_normals(normals_from_height(height))
    assert recovered.shape == height.shape
    assert np.abs(recovered - height).max() < 1e-3 * np.ptp(height)


def test_a_bump_comes_out_raised():
    y, x = np.mgrid[0:64, 0:64]
    bump = 4 * np.exp(-((x - 20) ** 2 + (y - 40) ** 2) / 50.0)
    recovered = height_from_normals(normals_from_height(bump - bump.mean()))
    assert np.unravel_index(np.argmax(recovered), recovered.shape) == (40, 20)


def test_encoding_spans_zero_to_one_and_depth_is_relative_to_the_width():
    height = relief()
    encoded, depth = stretch(height_from_normals(normals_from_height(height)))
    assert encoded.dtype == np.float32 and encoded.min() == 0 and encoded.max() == 1
    assert abs(depth - np.ptp(height) / height.shape[1]) < 1e-4
    flat = np.zeros((16, 16, 3), np.float32)
    flat[..., 2] = 1
    encoded, depth = stretch(height_from_normals(flat))
    assert depth == 0 and not encoded.any()
