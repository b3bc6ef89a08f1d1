"""Lattices that are not along the image axes: the tile is resampled along the
lattice vectors and its normals and tangents are expressed in its own frame."""

import numpy as np
import pytest

from materials.capture import capture_material
from materials.capture.maps import SvbrdfMaps, angle_difference_mod_pi, reframe, resample_axes
from materials.capture.observations import sample
from materials.capture.synthetic import _tile_tiles, make_capture, make_periodic_maps, normals_from_height


def _at(a, pos):
    return sample(np.ascontiguousarray(a if a.ndim == 3 else a[..., None], np.float32), pos)


def test_rotated_synthetic_tiling_is_the_tile_turned():
    period, turn = 48, np.radians(30)
    truth = make_periodic_maps(200, 240, kind="tiles", period=period, offset=(10, 20), rotation_deg=30)
    c, s = np.cos(turn), np.sin(turn)
    basis = np.array([[c, -s], [s, c]])
    v, u = np.mgrid[0:period, 0:period].astype(np.float64)
    # The tile's corner sits on lattice point (60, 40) of the tiling (offset (10, 20)), so the
    # sampled tile is the unrotated one rolled by whole pixels.
    corner = np.array([10.0, 20.0]) + basis @ [60, 40]
    pos = corner + np.stack([u, v], -1) @ basis.T  # tile pixels in the photo
    # One lattice step along either vector lands on the same material.
    for step in (basis[:, 0] * period, basis[:, 1] * period):
        # (interpolated twice, so equal up to resampling blur at the thread edges)
        assert np.abs(_at(truth.albedo, pos + step) - _at(truth.albedo, pos)).mean() < 0.005
    assert np.abs(_at(truth.albedo, pos + basis[:, 0] * period / 2) - _at(truth.albedo, pos)).mean() > 0.05
    # Re-expressed in the tile frame, the sampled normals are the tile's own
    # (finite differences of the unrotated tile's height).
    tile = _tile_tiles(period, np.random.default_rng(0))
    sampled = SvbrdfMaps(albedo=_at(truth.albedo, pos), specular=_at(truth.specular, pos),
                         normal=_at(truth.normal, pos), roughness=_at(truth.roughness, pos)[..., 0],
                         anisotropy=_at(truth.anisotropy, pos)[..., 0], angle=_at(truth.angle, pos)[..., 0])
    sampled.normal /= np.linalg.norm(sampled.normal, axis=-1, keepdims=True)
    in_tile = reframe(sampled, basis)
    own = normals_from_height(tile["height"])
    own = np.roll(own, (-40, -60), axis=(0, 1))
    err = np.degrees(np.arccos(np.clip((own * in_tile.normal).sum(-1), -1, 1)))
    assert np.median(err) < 1.5  # ~0.8: resampled twice; the photo frame is ~3.9 away
    photo_frame = np.degrees(np.arccos(np.clip((own * sampled.normal).sum(-1), -1, 1)))
    assert np.median(photo_frame) > 2 * np.median(err)


@pytest.fixture(scope="module")
def rotated_weave(one_thread):
    cap = make_capture("weave", width=320, height=256, period=64, seed=2, rotation_deg=25)
    return cap, capture_material(cap.flash, cap.guide, fov_deg=65, quality="fast")


def test_rotated_lattice_maps_are_in_the_tiles_frame(rotated_weave):
    cap, result = rotated_weave
    lat = result.report["lattice"]
    v1, v2 = np.array(lat["v1"]), np.array(lat["v2"])
    # The weave's primitive cell is the diagonal of its 64 px square, turned by 25 degrees.
    assert np.linalg.norm(v1) == pytest.approx(64 / np.sqrt(2), abs=0.5)
    assert abs(abs(v1 @ v2) / (np.linalg.norm(v1) * np.linalg.norm(v2))) < 0.02
    h, w = result.fitted_maps.shape
    basis = np.stack([v1 / w, v2 / h], axis=1)
    vv, uu = np.mgrid[0:h, 0:w].astype(np.float64)
    pos = np.array([result.report["tile"]["x"], result.report["tile"]["y"]]) + np.stack([uu, vv], -1) @ basis.T
    t = cap.truth
    photo_truth = SvbrdfMaps(albedo=_at(t.albedo, pos), specular=_at(t.specular, pos), normal=_at(t.normal, pos),
                             roughness=_at(t.roughness, pos)[..., 0], anisotropy=_at(t.anisotropy, pos)[..., 0],
                             angle=resample_axes(t.angle, lambda a: _at(a, pos)))
    photo_truth.normal /= np.linalg.norm(photo_truth.normal, axis=-1, keepdims=True)
    tile_truth = reframe(photo_truth, basis)
    got = result.fitted_maps
    err = lambda n: np.degrees(np.arccos(np.clip((n * got.normal).sum(-1), -1, 1))).mean()
    # ~3.5 deg on this size; the photo-frame truth is ~6 deg away.
    assert err(tile_truth.normal) < 5.0
    assert err(tile_truth.normal) < 0.75 * err(photo_truth.normal)
    strong = tile_truth.anisotropy > 0.3
    direction = lambda a: np.degrees(angle_difference_mod_pi(got.angle, a)[strong]).mean()
    # ~4.6 deg; the threads' photo-frame directions are ~21 deg away.
    assert direction(tile_truth.angle) < 10.0
    assert direction(photo_truth.angle) > 15.0
    # The written maps are the fitted ones in the same frame (periodic: no re-synthesis).
    np.testing.assert_allclose(result.maps.normal, got.normal)
