"""The capture refuses photos of a scene: the surface must look alike everywhere (stationary)."""

import numpy as np
import pytest

from imaging.color import linear_to_srgb, luminance, srgb_to_linear
from materials.capture import CaptureInputError, capture_material
from materials.capture.align import even_illumination
from materials.capture.stationarity import MAX_DETAIL_SPREAD, detail_spread
from materials.capture.synthetic import make_capture
from superres.data.real import real_images


def _spread(srgb_u8, block=None):
    linear = np.asarray(srgb_to_linear(srgb_u8.astype(np.float32) / 255), dtype=np.float32)
    even, _ = even_illumination(linear)
    return detail_spread(np.asarray(luminance(even))[..., 0], block or max(32, even.shape[1] // 6))


@pytest.mark.parametrize("kind", ["tiles", "weave", "leather", "brushed"])
def test_materials_are_stationary(kind):
    # The pipeline's blocks: the lattice tile of a periodic surface, the tile side (W/6) of a
    # stochastic one. Even a periodic pattern whose lattice went unnoticed, judged on blocks
    # smaller than its period, passes.
    for width, height in ((256, 192), (512, 384)):
        cap = make_capture(kind, width=width, height=height, period=64, seed=3, noise=0.01, jpeg_quality=90)
        periodic = kind in ("tiles", "weave")
        assert _spread(cap.guide, 64 if periodic else None) < 0.5 * MAX_DETAIL_SPREAD, (kind, width)
        assert _spread(cap.guide) < MAX_DETAIL_SPREAD, (kind, width)


def test_real_texture_photos_pass_and_scene_photos_do_not():
    textures = real_images(("brick", "grass", "gravel"))
    scenes = real_images(("astronaut", "camera", "coffee", "chelsea", "rocket"))
    for name, photo in textures:
        assert _spread(photo) < 0.5 * MAX_DETAIL_SPREAD, name
    for name, photo in scenes:
        assert _spread(photo) > MAX_DETAIL_SPREAD, name


def test_too_few_blocks_give_no_verdict():
    assert detail_spread(np.ones((64, 64), np.float32), 64) is None
    # A flat grey surface has the same (no) detail everywhere.
    assert detail_spread(np.full((192, 256), 0.2, np.float32), 32) < 0.01


def test_a_scene_pair_is_refused_with_a_clear_message():
    # A no-flash photo of a scene, and the same photo with a flash highlight on it: the
    # pair aligns and has a highlight, so only the stationarity check can refuse it.
    (_, photo), = real_images(("astronaut",))
    guide = photo[:384, :512]
    linear = np.asarray(srgb_to_linear(guide.astype(np.float32) / 255), dtype=np.float32)
    yy, xx = np.mgrid[0:384, 0:512]
    highlight = 1.5 * np.exp(-((xx - 270) ** 2 + (yy - 200) ** 2) / (2 * 60.0**2))
    flash = np.clip(linear * (1.2 + highlight[..., None]), 0, 1)
    flash_u8 = (np.asarray(linear_to_srgb(flash)) * 255 + 0.5).astype(np.uint8)
    with pytest.raises(CaptureInputError, match="flat surface with an even texture"):
        capture_material(flash_u8, guide, quality="fast")
