"""Registration of the guide onto the flash photo (align.py)."""

import math

import cv2
import numpy as np
import pytest

from imaging.color import luminance, srgb_to_linear
from materials.capture.align import align_guide
from materials.capture.synthetic import make_capture

W, H = 768, 576
HARD = dict(noise=0.01, jpeg_quality=90, variation=0.05)


def _grey(srgb_u8):
    linear = np.asarray(srgb_to_linear(srgb_u8.astype(np.float32) / 255), dtype=np.float32)
    return np.asarray(luminance(linear), dtype=np.float32)[..., 0]


def _errors(estimate, truth):
    """Mean distance (px) between the two mappings over the inner 80 % of the photo,
    as it is and with its mean shift removed (a shift of the whole guide is harmless:
    the matches of a stationary surface all move with it)."""
    ys, xs = np.mgrid[H * 0.1:H * 0.9:16j, W * 0.1:W * 0.9:16j]
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
    # ~1 deg of tilt: one side of the photo 1 % larger, the other 1 % smaller. (On
    # leather the tilt is not always found: see docs/capture.md, limits.)
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
    ys, xs = np.mgrid[768 * 0.1:768 * 0.9:16j, 1024 * 0.1:1024 * 0.9:16j]
    points = np.stack([xs.ravel(), ys.ravel()], -1)[None].astype(np.float64)
    d = (cv2.perspectiveTransform(points, alignment.homography)[0]
         - cv2.perspectiveTransform(points, cap.guide_homography)[0])
    distortion = float(np.linalg.norm(d - d.mean(0), axis=1).mean())
    assert distortion < 0.7, distortion
    # The same pair twice: the same answer (RANSAC draws from OpenCV's global generator).
    again = align_guide(_grey(cap.flash), _grey(cap.guide))
    np.testing.assert_array_equal(again.homography, alignment.homography)
