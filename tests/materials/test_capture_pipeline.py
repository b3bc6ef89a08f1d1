"""End to end on a small synthetic pair (256x192, 64 px period, 12 repeats).

Bounds: on clean 8-bit renders this size reaches ~2 deg mean normal error and
~0.005 albedo RMSE; the asserted bounds leave room for solver noise but fail
for a wrong geometry (a 13 px centre error alone gives ~7 deg) or a wrong
lattice (errors of tens of degrees)."""

import json

import numpy as np
import pytest

from materials.capture import CaptureInputError, capture_material
from materials.capture.observations import sample
from materials.capture.synthetic import make_capture


@pytest.fixture(scope="module")
def tiles(one_thread):
    cap = make_capture("tiles", width=256, height=192, period=64, seed=2)
    stages = []
    result = capture_material(cap.flash, cap.guide, fov_deg=65, quality="fast",
                              progress=lambda f, s: stages.append((f, s)))
    return cap, result, stages


def _truth_at_tile(cap, result):
    rep = result.report["tile"]
    h, w = result.maps.shape
    yy, xx = np.mgrid[0:h, 0:w]
    pos = np.stack([xx + rep["x"], yy + rep["y"]], -1)
    at = lambda a: sample(np.ascontiguousarray(a if a.ndim == 3 else a[..., None], np.float32), pos)
    return at(cap.truth.normal), at(cap.truth.albedo), at(cap.truth.specular), at(cap.truth.roughness)[..., 0]


def test_periodic_capture_recovers_the_tile(tiles):
    cap, result, _ = tiles
    assert result.report["surface"] == "periodic"
    assert result.maps.shape == (64, 64)
    lat = result.report["lattice"]
    assert lat["v1"] == pytest.approx([64, 0], abs=0.3) and lat["v2"] == pytest.approx([0, 64], abs=0.3)
    # The master tile starts on a whole pixel (no interpolation blur on a whole-pixel lattice).
    assert float(result.report["tile"]["x"]).is_integer() and float(result.report["tile"]["y"]).is_integer()
    normal, albedo, specular, roughness = _truth_at_tile(cap, result)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    err = np.degrees(np.arccos(np.clip((normal * result.maps.normal).sum(-1), -1, 1)))
    assert err.mean() < 4.0
    fa, fs = result.maps.albedo, result.maps.specular
    scale = ((albedo * fa).sum() + (specular * fs).sum()) / ((fa * fa).sum() + (fs * fs).sum())
    assert np.sqrt(((scale * fa - albedo) ** 2).mean()) < 0.03
    assert np.abs(result.maps.roughness - roughness).mean() < 0.12
    # The highlight centre is refined close to the truth.
    centre = result.report["highlight_centre"]
    assert np.hypot(centre[0] - cap.centre[0], centre[1] - cap.centre[1]) < 4.0
    assert result.report["rerender_psnr_db"] > 28


def test_height_and_occlusion_follow_the_true_relief(tiles):
    """The height integrated from the fitted normals, and its occlusion, match the true normals'."""
    from materials.capture.height import height_from_normals

    cap, result, _ = tiles
    normal = _truth_at_tile(cap, result)[0]
    truth = height_from_normals(normal / np.linalg.norm(normal, axis=-1, keepdims=True))
    fitted = height_from_normals(result.maps.normal)
    assert np.corrcoef(truth.ravel(), fitted.ravel())[0, 1] > 0.9
    depth = np.ptp(truth) / truth.shape[1]
    assert result.report["height_depth"] == pytest.approx(depth, rel=0.3)
    # And so does the occlusion of that relief (the grout between the tiles is the dark part).
    from materials.capture.occlusion import ambient_occlusion

    true_ao = ambient_occlusion(truth)
    assert np.corrcoef(true_ao.ravel(), result.encoded["ao"].ravel())[0, 1] > 0.8
    assert true_ao.min() < 0.97  # the relief occludes at all


def test_outputs_and_report_are_complete(tiles):
    _, result, stages = tiles
    assert set(result.encoded) == {"albedo", "specular", "normal", "roughness", "glossiness", "anisotropy", "height",
                                   "ao"}
    for name, img in result.encoded.items():
        assert img.shape[:2] == (64, 64) and img.min() >= 0 and img.max() <= 1, name
    assert {"input_flash", "rerender_flash", "render_light_side", "render_light_corner"} <= set(result.renders)
    assert result.renders["rerender_flash"].shape == result.renders["input_flash"].shape
    json.dumps(result.report)  # JSON-able
    for key in ("alignment", "fit_residual", "time_s", "tile", "clipped_fraction"):
        assert key in result.report
    assert 0 <= result.report["texture_spread"] < 0.1  # an exact tiling: every tile holds the same detail
    # The flash alone lit this pair: no room light is found in it.
    assert max(result.report["room_light_in_flash"]) < 0.03
    fractions = [f for f, _ in stages]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0


def test_room_light_in_the_flash_photo_is_separated(one_thread):
    # A flash photo taken in a lit room: the room's light (a fifth of the photo's mean
    # here) adds to the flash's. Left in, it was read as a wider lobe and flatter normals
    # (this pair: roughness MAE 0.24, normals 4.9 deg; separated: 0.16, 3.8 deg).
    cap = make_capture("weave", width=256, height=192, period=64, seed=3, flash_ambient=0.25)
    result = capture_material(cap.flash, cap.guide, fov_deg=65, quality="fast")
    level = result.report["room_light_in_flash"]
    assert 0.12 < min(level) and max(level) < 0.35, level
    normal, _, _, roughness = _truth_at_tile(cap, result)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    err = np.degrees(np.arccos(np.clip((normal * result.maps.normal).sum(-1), -1, 1)))
    assert err.mean() < 4.4
    assert np.abs(result.maps.roughness - roughness).mean() < 0.2


def test_progress_callback_exceptions_cancel_the_job(one_thread):
    cap = make_capture("tiles", width=256, height=192, period=64)

    class Cancelled(Exception):
        pass

    seen = []

    def cancel(fraction, stage):
        seen.append(stage)
        if stage == "fitting maps":  # the optimisation loop reports too
            raise Cancelled()

    with pytest.raises(Cancelled):
        capture_material(cap.flash, cap.guide, quality="fast", progress=cancel)
    assert "aligning photos" in seen


@pytest.mark.parametrize("quarters", [-1, 1])
def test_a_guide_taken_with_the_phone_turned_is_turned_back(tiles, one_thread, quarters):
    """Portrait guide, landscape flash photo, turned either way: the guide is turned back
    exactly (no half-turn left for the warp) and aligned."""
    cap, _, _ = tiles
    turned = capture_material(cap.flash, np.ascontiguousarray(np.rot90(cap.guide, quarters)), fov_deg=65,
                              quality="fast")
    assert turned.report["surface"] == "periodic" and turned.maps.shape == (64, 64)
    homography = np.array(turned.report["alignment"]["homography"])
    assert np.allclose(homography[:2, :2], np.eye(2), atol=0.01)  # what is left is no turn at all
    normal = _truth_at_tile(cap, turned)[0]
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    err = np.degrees(np.arccos(np.clip((normal * turned.maps.normal).sum(-1), -1, 1)))
    assert err.mean() < 4.0
    assert turned.report["rerender_psnr_db"] > 28


def test_bad_inputs_get_clear_errors():
    cap = make_capture("tiles", width=256, height=192, period=64)
    with pytest.raises(CaptureInputError, match="over-exposed"):
        capture_material(np.full_like(cap.flash, 255), cap.guide)
    with pytest.raises(CaptureInputError, match="highlight"):
        capture_material(cap.guide, cap.guide)
    with pytest.raises(CaptureInputError, match="same surface"):
        other = make_capture("leather", width=256, height=192, seed=5)
        capture_material(cap.flash, other.guide)
    with pytest.raises(CaptureInputError, match="too small"):
        capture_material(cap.flash[:40, :40], cap.guide[:40, :40])
    with pytest.raises(CaptureInputError, match="2x2"):
        capture_material(cap.flash, cap.guide, surface="stochastic", tile_size=120)
    with pytest.raises(ValueError):
        capture_material(cap.flash, cap.guide, quality="ultra")
    with pytest.raises(CaptureInputError, match="different aspect ratios"):
        capture_material(cap.flash, cap.guide[:, :200])
    # Two rows cropped off the guide: refused (stretched back, it costs the normals ~1 degree).
    with pytest.raises(CaptureInputError, match="cropped"):
        capture_material(cap.flash, cap.guide[1:-1])
    for fov in (0.0, -20.0, 179.9, float("nan")):
        with pytest.raises(CaptureInputError, match="field of view"):
            capture_material(cap.flash, cap.guide, fov_deg=fov)
    for tile in (2, -8, 12.5):
        with pytest.raises(CaptureInputError, match="tile size"):
            capture_material(cap.flash, cap.guide, tile_size=tile)
    with pytest.raises(CaptureInputError, match="int64"):
        capture_material(cap.flash.astype(np.int64), cap.guide.astype(np.int64))
    with pytest.raises(CaptureInputError, match="0-255 values"):
        capture_material(cap.flash.astype(np.float32), cap.guide.astype(np.float32))
    leather = make_capture("leather", width=256, height=192, seed=6)
    with pytest.raises(CaptureInputError, match="no repeating pattern"):
        capture_material(leather.flash, leather.guide, surface="periodic")
