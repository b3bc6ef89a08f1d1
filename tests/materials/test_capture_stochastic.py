"""Stochastic (non-periodic) surfaces: patch matching, fit, tileable output."""

import numpy as np
import pytest
import torch

from materials.capture import capture_material
from materials.capture.maps import SvbrdfMaps
from materials.capture.observations import sample
from materials.capture.stochastic import make_tileable
from materials.capture.synthetic import make_capture


def capture_synthetic(kind, width, height, tile_size):
    """(synthetic capture, its CaptureResult), fitted on one torch thread (fast preset)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cap = make_capture(kind, width=width, height=height, seed=1)
        return cap, capture_material(cap.flash, cap.guide, fov_deg=65, tile_size=tile_size, quality="fast")
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def leather():
    return capture_synthetic("leather", 384, 288, tile_size=48)


def _truth_sampler(result):
    """Samples a truth map at the fitted tile's pixels."""
    rep = result.report
    h, w = result.fitted_maps.shape
    yy, xx = np.mgrid[0:h, 0:w]
    pos = np.stack([xx + rep["tile"]["x"], yy + rep["tile"]["y"]], -1)
    return lambda a: sample(np.ascontiguousarray(a if a.ndim == 3 else a[..., None], np.float32), pos)


def _normal_errors(cap, result):
    """(mean angular error of the fitted normals, of a flat map), degrees."""
    normal = _truth_sampler(result)(cap.truth.normal)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    err = np.degrees(np.arccos(np.clip((normal * result.fitted_maps.normal).sum(-1), -1, 1))).mean()
    flat = np.degrees(np.arccos(np.clip(normal[..., 2], -1, 1))).mean()
    return err, flat, normal


def test_stochastic_surface_is_matched_and_fitted(leather):
    cap, result = leather
    rep = result.report
    assert rep["surface"] == "stochastic" and rep["lattice"] is None
    assert rep["matches_per_pixel_median"] >= 32
    m = result.fitted_maps
    at = _truth_sampler(result)
    err, flat, normal = _normal_errors(cap, result)
    # Grains recur only approximately, so normals are partly recovered: better
    # than a flat map (measured 4.9 deg against 6.6 deg for flat), and the
    # recovered slopes follow the true ones (measured correlation 0.71 / 0.58).
    assert err < 0.85 * flat
    for c in (0, 1):
        assert np.corrcoef(normal[..., c].ravel(), m.normal[..., c].ravel())[0, 1] > 0.4
    albedo = at(cap.truth.albedo)
    scale = (albedo * m.albedo).sum() / (m.albedo * m.albedo).sum()
    assert np.sqrt(((scale * m.albedo - albedo) ** 2).mean()) < 0.03
    assert np.abs(m.roughness - at(cap.truth.roughness)[..., 0]).mean() < 0.1


def test_offset_blend_fallback_removes_the_wrap_seam():
    """Tiles under the synthesis minimum (32 px) are made tileable by offset-and-blend."""
    rng = np.random.default_rng(0)
    h, w = 40, 56
    ramp = np.linspace(0, 1, w, dtype=np.float32)[None, :].repeat(h, 0)  # worst case: a full-width ramp
    n = np.zeros((h, w, 3), np.float32)
    n[..., 2] = 1
    maps = SvbrdfMaps(albedo=np.stack([ramp] * 3, -1), specular=np.full((h, w, 3), 0.04, np.float32),
                      normal=n, roughness=ramp.copy(), anisotropy=rng.uniform(0, 0.5, (h, w)).astype(np.float32),
                      angle=np.zeros((h, w), np.float32))
    tiled = make_tileable(maps)
    seam = lambda a: np.abs(a[:, 0] - a[:, -1]).mean()
    inner = lambda a: np.abs(np.diff(a, axis=1)).mean()
    assert seam(maps.roughness) > 0.9
    assert seam(tiled.roughness) < 3 * inner(tiled.roughness)
    assert np.allclose(np.linalg.norm(tiled.normal, axis=-1), 1, atol=1e-5)
    # The middle of the tile is untouched.
    assert np.allclose(tiled.roughness[h // 2, w // 2], maps.roughness[h // 2, w // 2])


def test_stochastic_tile_is_made_seamless_by_synthesis(leather):
    """The written maps wrap around without a seam (texture-multiplier make-tileable), keep the
    fitted tile's middle, and stay physically valid."""
    from textures.synthesis.metrics import seam_excess

    _, result = leather
    fitted, maps = result.fitted_maps, result.maps
    assert maps.shape == fitted.shape
    assert "tileable_s" in result.report["time_s"]
    # Wrap-around seam: the fitted tile (cut from the photo) has one, the output does not.
    # On a 48 px tile one line's score is noisy (a seamless output's lines range over
    # 0.3-3.9x the mean), so the wrap line is compared with all of the tile's interior lines.
    h, w = maps.shape
    assert seam_excess(fitted.albedo) > 5.0       # the cut tile's wrap line stands far out (measured 39)
    # One of the lines: measured 0.64 on one machine and 1.23 on another (floating-point order
    # changes the fit; there the wrap line is 4.1x the mean interior line, which reach 3.4x).
    assert seam_excess(maps.albedo) < 1.5, seam_excess(maps.albedo)
    middle = (slice(h // 2 - 4, h // 2 + 4), slice(w // 2 - 4, w // 2 + 4))
    assert np.abs(maps.albedo[middle] - fitted.albedo[middle]).mean() < 0.02
    assert np.allclose(np.linalg.norm(maps.normal, axis=-1), 1, atol=1e-4)
    assert (maps.roughness >= 0).all() and (maps.roughness <= 1).all()
    assert (maps.anisotropy >= 0).all() and (maps.anisotropy < 1).all()


def test_a_dark_metal_is_fitted_as_a_metal():
    """Brushed metal (albedo 0.03, coloured specular ~0.9/0.75/0.55): the shared stage also starts
    from a metal, so the highlight is not explained by a bright diffuse albedo (from the
    dielectric start alone the albedo came out at half the specular; measured 0.51-0.54)."""
    cap, result = capture_synthetic("brushed", 640, 480, tile_size=80)
    maps = result.fitted_maps
    specular = np.median(maps.specular.reshape(-1, 3), axis=0)
    albedo = np.median(maps.albedo.reshape(-1, 3), axis=0)
    assert albedo.mean() / specular.mean() < 0.2, (albedo, specular)  # truth 0.04; measured 0.09-0.11
    assert specular[0] > specular[1] > specular[2], specular  # the gold-ish tint of the truth
    # The streaks' matches disagree, and the split halves of the repeats say so: the normal
    # detail they do not share is filtered out, so the map is no worse than a flat one
    # (before the filter: 6.3 deg against 4.6 deg for flat at 1024x768).
    err, flat, _ = _normal_errors(cap, result)
    print(f"brushed normals {err:.2f} deg, flat {flat:.2f} deg, rings {result.report['normal_reliability']}")
    assert err < flat + 0.3, (err, flat)


@pytest.mark.parametrize("name, share", [("brick", 0.6), ("gravel", 0.85)])
def test_a_material_made_from_a_real_texture_photo_is_recovered(one_thread, name, share):
    """Real textures repeat only roughly (the brick photo was also taken at an angle, so
    its courses converge): normals well under a flat map's error (this size: brick 3.6
    deg, gravel 5.6 deg against ~8 deg flat), albedo close (RMSE 0.020 and 0.038 here;
    at 1024x768, bench/capture.py: 0.013 and 0.015)."""
    from materials.capture.synthetic import maps_from_photo
    from superres.data.real import real_images

    truth = maps_from_photo(real_images((name,))[0][1], 192, 256)
    flat_tilt = np.degrees(np.arccos(truth.normal[..., 2])).mean()
    assert 7.5 < flat_tilt < 8.5  # maps_from_photo's mean tilt
    cap = make_capture(f"photo:{name}", width=256, height=192, seed=3, truth=truth)
    result = capture_material(cap.flash, cap.guide, fov_deg=65, quality="fast", tile_size=64)
    assert result.report["surface"] == "stochastic"
    tile = result.report["tile"]
    h, w = result.fitted_maps.shape
    yy, xx = np.mgrid[0:h, 0:w]
    positions = np.stack([xx + tile["x"], yy + tile["y"]], -1).astype(np.float32)
    normal = sample(np.ascontiguousarray(cap.truth.normal), positions)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    error = np.degrees(np.arccos(np.clip((normal * result.fitted_maps.normal).sum(-1), -1, 1))).mean()
    flat = np.degrees(np.arccos(np.clip(normal[..., 2], -1, 1))).mean()
    assert error < share * flat, (error, flat)
    albedo = sample(np.ascontiguousarray(cap.truth.albedo), positions)
    fitted = result.fitted_maps.albedo
    scale = (albedo * fitted).sum() / (fitted * fitted).sum()
    assert np.sqrt(((scale * fitted - albedo) ** 2).mean()) < 0.05
