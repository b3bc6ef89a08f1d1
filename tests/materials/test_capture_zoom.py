"""The guide's scale checked against the flash observations (zoom.py)."""

import cv2
import numpy as np
import pytest
import torch

from materials.capture import capture_material
from materials.capture.zoom import _unzoom, zoom_matrix
from materials.capture.synthetic import make_capture
from materials.capture.align import scale_at, warp_guide

HARD = dict(noise=0.01, jpeg_quality=90, variation=0.05, misalignment_px=3.0)


def test_unzoom_follows_a_feature_into_the_rescaled_guide():
    rng = np.random.default_rng(0)
    photo = cv2.GaussianBlur(rng.random((120, 160)).astype(np.float32), (0, 0), 2.0)
    base = np.array([[1.0, 0.01, 2.0], [-0.01, 1.0, -1.5], [0, 0, 1]])
    zoom = 0.02
    before = warp_guide(photo, base, (120, 160))
    after = warp_guide(photo, base @ zoom_matrix(zoom, (120, 160)), (120, 160))
    feature = np.array([[100.0, 30.0], [40.0, 90.0]])  # where a feature lies in `before`
    moved = _unzoom(feature, zoom, (120, 160))
    for p, q in zip(feature, moved):
        a = cv2.getRectSubPix(before, (9, 9), tuple(p))
        b = cv2.getRectSubPix(after, (9, 9), tuple(q))
        assert np.abs(a - b).max() < 0.01 * np.abs(a).max()
    assert np.abs(moved - feature).max() > 0.5  # it did move


@pytest.fixture(scope="module")
def zoomed_weave():
    torch.set_num_threads(1)  # tiny tensors: extra threads only add contention (conftest.one_thread)
    # The camera 1.8 mm closer at 30 cm for the guide: under the 1 % the alignment takes a
    # zoom from, so only the flash observations can tell it from the relief's shading bias.
    cap = make_capture("weave", width=768, height=576, period=64, seed=1, misalignment_zoom=0.006, **HARD)
    return cap, capture_material(cap.flash, cap.guide, fov_deg=cap.fov_deg, quality="fast")


def test_a_small_zoom_between_the_shots_is_found(zoomed_weave):
    cap, result = zoomed_weave
    alignment = result.report["alignment"]
    # The zoom at the photo's centre (a tilt changes the scale across the photo).
    remaining = scale_at(np.linalg.inv(np.array(alignment["homography"])) @ cap.guide_homography, (384, 288)) - 1
    before = remaining + alignment["zoom"]  # what the feature alignment left
    assert abs(before) > 0.004, before  # the alignment alone leaves the zoom out
    assert abs(remaining) < 0.0015, (remaining, alignment["zoom_scores"])


def test_no_zoom_no_correction(one_thread):
    cap = make_capture("tiles", width=768, height=576, period=64, seed=2, **HARD)
    result = capture_material(cap.flash, cap.guide, fov_deg=cap.fov_deg, quality="fast")
    alignment = result.report["alignment"]
    assert alignment["zoom"] == 0.0, alignment["zoom_scores"]  # under MIN_CORRECTION: none taken
    assert len(alignment["zoom_scores"]) >= 3


def test_the_scale_check_reports_each_candidate_and_can_be_cancelled(one_thread):
    cap = make_capture("tiles", width=768, height=576, period=64, seed=2, **HARD)

    class Cancelled(Exception):
        pass

    checks = []

    def progress(fraction, stage):
        if stage == "checking the photos' scale":
            checks.append(fraction)
            if len(checks) == 3:  # the announcement, then once before each candidate's fit
                raise Cancelled()

    with pytest.raises(Cancelled):
        capture_material(cap.flash, cap.guide, fov_deg=cap.fov_deg, quality="fast", progress=progress)
    assert len(checks) == 3
