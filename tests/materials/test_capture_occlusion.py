"""Ambient occlusion of the relief (materials/capture/occlusion.py)."""

import numpy as np

from materials.capture.occlusion import ambient_occlusion


def groove(width=8, depth=6.0, size=128):
    """A trench `width` texels wide and `depth` deep, along y, in an otherwise flat tile."""
    x = np.arange(size)[None, :].repeat(size, 0)
    return np.where(np.abs(x - size // 2) < width // 2, -depth, 0.0)


def test_open_ground_is_unoccluded_and_a_groove_is_dark_at_its_bottom():
    assert np.allclose(ambient_occlusion(np.zeros((64, 64))), 1.0)
    occlusion = ambient_occlusion(groove())
    assert occlusion.shape == (128, 128) and occlusion.dtype == np.float32
    assert occlusion[10, 20] == 1.0                # far from the groove: open sky
    bottom = occlusion[10, 64]
    # Across the groove the walls rise at atan(6/4) = 56 deg (cos^2 = 0.31), along it the sky is open.
    assert 0.4 < bottom < 0.75
    assert ambient_occlusion(groove(depth=12.0))[10, 64] < bottom  # deeper: darker
    assert ambient_occlusion(groove(width=24))[10, 64] > bottom    # wider: lighter


def test_occlusion_wraps_and_large_tiles_are_computed_small():
    shifted = np.roll(groove(), 64, axis=1)  # the groove across the tile's wrap line
    occlusion = ambient_occlusion(shifted)
    assert occlusion[10, 0] < 0.75 and np.allclose(np.roll(occlusion, 64, axis=1), ambient_occlusion(groove()),
                                                  atol=1e-5)
    big = ambient_occlusion(groove(width=64, depth=48.0, size=1024))
    assert big.shape == (1024, 1024) and big[10, 512] < 0.75 and big[10, 100] > 0.99
