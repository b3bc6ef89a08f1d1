"""Registration of the guide onto the flash photo (align.py)."""

import math

import cv2
import numpy as np
import pytest

from imaging.color import luminance, srgb_to_linear
from materials.capture.align import _scale_change, align_guide, scale_at
from materials.capture.synthetic import make_capture

W, H = 768, 576
HARD = dict(noise=0.01, jpeg_quality=90, variation=0.05)


def _grey(srgb_u8):
    linear = np.asarray(srgb_to_linear(srgb_u8.astype(np.float32) / 255), dtype=np.float32)
    return np.asarray(luminance(linear), dtype=np.float32)[..., 0]


def _errors(estimate, truth, size=(H, W)):
    """Mean distance (px) between the two mappings over the inner 80 % of a photo of
    size (h, w), as it is and with its mean shift removed (a shift of the whole guide
    is harmless: the matches of a stationary surface all move with it)."""
    h, w = size
    ys, xs = np.mgrid[h * 0.1:h * 0.9:16j, w * 0.1:w * 0.9:16j]
    points = np.stack([xs.ravel(), ys.ravel()], -1)[None].astype(np.float64)
    d = cv2.perspectiveTransform(points, estimate)[0] - cv2.perspectiveTransform(points, truth)[0]
    return float(np.linalg.norm(d, axis=1).mean()), float(np.linalg.norm(d - d.mean(0), axis=1).mean())


def _moved(kind, scale, degrees, shift=(4.0, -3.0), seed=1, tilt=0.0):
    """A capture whose guide was taken after turning/zooming/tilting the camera about the
    photo centre (tilt: perspective per px). Returns (flash grey, guide grey, the true
    flash -> guide homography)."""
    cap = make_capture(kind, width=W, height=H, period=64, seed=seed, **HARD)
    a = math.radians(degrees)
    cx, cy = W / 2, H / 2
    motion = (np.array([[1, 0, cx + shift[0]], [0, 1, cy + shift[1]], [0, 0, 1]])
              @ np.array([[scale * math.cos(a), -scale * math.sin(a), 0], [scale * math.sin(a), scale * math.cos(a), 0],
                          [tilt, 0.3 * tilt, 1]])
              @ np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]]))
    guide = cv2.warpPerspective(cap.guide, motion, (W, H), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REFLECT)
    return _grey(cap.flash), _grey(guide), np.linalg.inv(motion)


@pytest.mark.parametrize("kind", ["tiles", "leather"])
def test_a_turned_camera_is_registered(kind):
    flash, guide, truth = _moved(kind, 1.0, 1.0)
    error, _ = _errors(align_guide(flash, guide).homography, truth)
    assert error < 0.5, error  # doing nothing: ~5 px; a free homography: 0.6-1.7 px


def test_a_clear_zoom_is_followed():
    flash, guide, truth = _moved("weave", 1.02, 0.3)
    error, _ = _errors(align_guide(flash, guide).homography, truth)
    assert error < 1.0, error  # doing nothing: ~6 px; a rigid fit only: ~2 px at the borders


@pytest.mark.parametrize("seed", [1, 2])
def test_a_tilted_camera_is_followed(seed):
    # ~1 deg of tilt: one side of the photo 1 % larger, the other 1 % smaller.
    flash, guide, truth = _moved("weave", 1.0, 0.0, tilt=2.6e-5, seed=seed)
    _, distortion = _errors(align_guide(flash, guide).homography, truth)
    assert distortion < 0.85, distortion  # doing nothing or a rigid motion: 0.99 px


def test_relief_lit_differently_does_not_pose_as_distortion():
    # Leather under a side window in the guide (its relief shows) and the flash from the
    # camera: block shifts between the shots are biased towards/away from the highlight,
    # which a free homography took for a zoom (2.2 px of false distortion here).
    cap = make_capture("leather", width=1024, height=768, period=128, seed=1, misalignment_px=3.0,
                       guide_window=0.5, **HARD)
    alignment = align_guide(_grey(cap.flash), _grey(cap.guide))
    _, distortion = _errors(alignment.homography, cap.guide_homography, size=(768, 1024))
    assert distortion < 0.7, distortion
    # The same pair twice: the same answer (RANSAC draws from OpenCV's global generator).
    again = align_guide(_grey(cap.flash), _grey(cap.guide))
    np.testing.assert_array_equal(again.homography, alignment.homography)


def test_scale_is_read_at_the_photo_centre():
    # A 1 degree tilt about the centre of a 1024 x 768 photo: the scale changes by
    # ~1 % from the centre to a corner. Read at pixel (0, 0) it posed as a zoom, which
    # let a free homography fit the shading bias (half the tilt was lost).
    slope = math.tan(math.radians(1.0)) / 804.0
    to_centre = np.array([[1, 0, -511.5], [0, 1, -383.5], [0, 0, 1.0]])
    tilt = np.linalg.inv(to_centre) @ np.array([[1, 0, 0], [0, 1, 0], [slope, 0.5 * slope, 1]]) @ to_centre
    assert _scale_change(tilt, (768, 1024)) < 1e-4
    assert abs(scale_at(tilt, (0.0, 0.0)) - 1) > 0.01
    # The closed form agrees with finite differences on a general homography.
    hom = np.array([[1.02, 0.03, 5.0], [-0.01, 0.98, -3.0], [2e-5, -1e-5, 1.01]])
    x, y = 300.0, 200.0
    p, px, py = cv2.perspectiveTransform(np.float64([[[x, y], [x + 1e-3, y], [x, y + 1e-3]]]), hom)[0]
    numeric = math.sqrt(abs(np.linalg.det(np.stack([px - p, py - p], axis=1) / 1e-3)))
    assert scale_at(hom, (x, y)) == pytest.approx(numeric, rel=1e-6)


@pytest.mark.parametrize("kind, seed", [("tiles", 1), ("leather", 3)])
def test_a_tilted_hand_held_pair_is_registered(kind, seed):
    # The benchmark's "tilted" pair: hand-held motion and 1 degree of tilt, 1024 x 768.
    # The tilt moves the photo's inner part by ~1.8 px beyond a shift; with the scale read
    # at (0, 0) the registration was 0.9-2.0 px off (leather seed 3: worse than nothing).
    cap = make_capture(kind, width=1024, height=768, period=128, seed=seed, misalignment_px=3.0,
                       misalignment_tilt_deg=1.0, **HARD)
    _, distortion = _errors(align_guide(_grey(cap.flash), _grey(cap.guide)).homography, cap.guide_homography,
                            size=(768, 1024))
    assert distortion < 0.6, distortion
