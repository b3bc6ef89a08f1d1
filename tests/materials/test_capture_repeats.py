"""Repeats of a periodic surface that sit off the exact lattice (lens
distortion, stretched fabric): each is found by a translation refined outwards
from the master tile and then an affine warp of its own."""

import numpy as np
import pytest
from scipy import ndimage

from imaging.lattice import Lattice
from materials.capture import periodic
from materials.capture.synthetic import smooth_noise

PERIOD = 40
CENTRE = np.array([130.0, 100.0])
BARREL = 3.0 / 150**3  # 3 px of displacement 150 px from the centre


def _distortion(points, strength=1.0):
    """Displacement d(x) of a barrel distortion about CENTRE; (...,2) -> (...,2)."""
    rel = points - CENTRE
    return strength * BARREL * (rel**2).sum(-1, keepdims=True) * rel


def _distorted_texture(strength=1.0):
    """(200,260) guide: a periodic texture seen through the distortion (a pixel x shows the
    texture at x - d(x)); the undistorted lattice is (PERIOD, 0), (0, PERIOD)."""
    tex = smooth_noise((PERIOD, PERIOD), 2.5, np.random.default_rng(3))
    y, x = np.mgrid[0:200, 0:260].astype(np.float64)
    source = np.stack([x, y], -1) - _distortion(np.stack([x, y], -1), strength)
    return ndimage.map_coordinates(tex, [source[..., 1], source[..., 0]], order=3, mode="grid-wrap").astype(np.float32)


def _match_error(positions, master, translates, strength=1.0):
    """Mean distance (px of texture) between where each match shows the texture and
    where its master pixel plus the lattice translate shows it."""
    seen = positions - _distortion(positions, strength)
    wanted = (master - _distortion(master, strength))[:, None, :] + translates[None]
    inside = ((positions[..., 0] >= 0) & (positions[..., 0] <= 259)
              & (positions[..., 1] >= 0) & (positions[..., 1] <= 199))
    return float(np.linalg.norm(seen - wanted, axis=-1)[inside].mean())


@pytest.fixture(scope="module")
def distorted():
    return _setup(_distorted_texture())


def _setup(guide):
    lattice = Lattice(v1=np.array([PERIOD, 0.0]), v2=np.array([0.0, PERIOD]), strength=1.0)
    size = periodic.tile_size(lattice)
    origin = CENTRE - PERIOD / 2
    grid = periodic.tile_positions(origin, lattice, size)
    translates = periodic.lattice_translates(grid, lattice, guide.shape)
    return guide, lattice, size, grid, translates


def test_repeats_follow_a_drift_beyond_the_search_radius():
    strength = 2.5  # repeats 80 px from the master tile drift by ~2.5 px, 120 px by ~6
    guide, lattice, size, grid, translates = _setup(_distorted_texture(strength))
    master = grid.reshape(-1, 2)
    refined, ncc = periodic.refine_translates(guide, grid, translates)
    shifted = (grid.reshape(-1, 1, 2) + refined[None]).astype(np.float32)
    far = np.linalg.norm(translates, axis=1) > 100
    # ~0.89 and ~0.58 px (a translation cannot undo the stretch); searched around the bare
    # lattice position instead, the farthest repeat correlates at 0.33 and the error is ~1 px.
    assert np.nanmin(ncc[far]) > 0.85  # each far repeat was found, not a neighbouring bump
    assert _match_error(shifted, master, translates, strength) < 0.75


def test_each_repeat_gets_its_own_stretch(distorted):
    guide, lattice, size, grid, translates = distorted
    master = grid.reshape(-1, 2)
    refined, _ = periodic.refine_translates(guide, grid, translates)
    shifted = (grid.reshape(-1, 1, 2) + refined[None]).astype(np.float32)
    warped = periodic.refine_deformation(guide, grid, refined, periodic.tile_basis(lattice, size))
    assert warped.shape == shifted.shape
    # A translation leaves the repeat's stretch (the distortion's gradient) uncorrected.
    assert _match_error(warped, master, translates) < 0.7 * _match_error(shifted, master, translates)
    assert _match_error(warped, master, translates) < 0.25
    # The master tile itself is not moved.
    own = np.flatnonzero(~np.any(refined, axis=1))
    np.testing.assert_allclose(warped[:, own[0]], master, atol=1e-4)


def test_an_exact_lattice_stays_exact():
    guide = _distorted_texture(strength=0.0)
    lattice = Lattice(v1=np.array([PERIOD, 0.0]), v2=np.array([0.0, PERIOD]), strength=1.0)
    size = periodic.tile_size(lattice)
    grid = periodic.tile_positions(CENTRE - PERIOD / 2, lattice, size)
    translates = periodic.lattice_translates(grid, lattice, guide.shape)
    refined, _ = periodic.refine_translates(guide, grid, translates)
    warped = periodic.refine_deformation(guide, grid, refined, periodic.tile_basis(lattice, size))
    exact = grid.reshape(-1, 1, 2) + translates[None]
    inside = ((exact[..., 0] >= 0) & (exact[..., 0] <= 259) & (exact[..., 1] >= 0) & (exact[..., 1] <= 199))
    assert np.abs(warped - exact)[inside].max() < 0.1


def test_displacement_field_spreads_the_repeats_offsets(distorted):
    guide, lattice, size, grid, translates = distorted
    exact = (grid.reshape(-1, 1, 2) + translates[None]).astype(np.float32)
    moved = exact + _distortion(exact, 2.5)  # where each material point now lies
    field = periodic.displacement_field(moved, exact, guide.shape)
    assert field.shape == guide.shape + (2,)
    y, x = np.mgrid[20:180:7, 20:240:7].astype(np.float64)
    points = np.stack([x, y], -1)
    # The distortion is smooth, so its spread samples match it to a fraction of a pixel
    # (up to ~4.5 px at these points).
    err = np.linalg.norm(field[y.astype(int), x.astype(int)] - _distortion(points, 2.5), axis=-1)
    assert np.abs(_distortion(points, 2.5)).max() > 4.0
    assert err.mean() < 0.15
    # Nothing moved, nothing spread.
    np.testing.assert_array_equal(periodic.displacement_field(exact, exact, guide.shape), 0.0)
