import numpy as np
import pytest

from materials.capture.align import local_contrast
from imaging.lattice import Lattice, find_lattice, rectangular_cell
from materials.capture.synthetic import smooth_noise


def _tiled(period_y, period_x, shape=(192, 256), seed=0):
    rng = np.random.default_rng(seed)
    tile = smooth_noise((period_y, period_x), 2.0, rng)
    reps = (shape[0] // period_y + 2, shape[1] // period_x + 2)
    return np.tile(tile, reps)[5:5 + shape[0], 9:9 + shape[1]].astype(np.float32)


@pytest.mark.parametrize("period_y,period_x", [(40, 56), (48, 48), (33, 61)])
def test_lattice_of_a_rectangular_tiling(period_y, period_x):
    img = _tiled(period_y, period_x) + np.random.default_rng(1).normal(0, 0.05, (192, 256)).astype(np.float32)
    lat = find_lattice(local_contrast(img))
    assert lat is not None
    assert lat.v1 == pytest.approx([period_x, 0], abs=0.1)
    assert lat.v2 == pytest.approx([0, period_y], abs=0.1)


def test_sheared_lattice_is_found_and_reduced():
    y, x = np.mgrid[0:192, 0:256].astype(np.float64)
    # Lattice v1 = (40, 0), v2 = (12, 36): a pattern periodic under both.
    basis = np.array([[40.0, 12.0], [0.0, 36.0]])
    uv = np.linalg.solve(basis, np.stack([x.ravel(), y.ravel()]))
    u, v = uv.reshape(2, 192, 256)
    img = (np.sin(2 * np.pi * u) + 0.7 * np.cos(2 * np.pi * v) + 0.5 * np.sin(2 * np.pi * (u + 2 * v))).astype(np.float32)
    lat = find_lattice(local_contrast(img))
    assert lat is not None
    area = abs(lat.v1[0] * lat.v2[1] - lat.v1[1] * lat.v2[0])
    assert area == pytest.approx(40 * 36, rel=0.01)
    # Both vectors are lattice vectors: integer coordinates in the true basis.
    for vec in (lat.v1, lat.v2):
        coords = np.linalg.solve(basis, vec)
        assert np.abs(coords - np.round(coords)).max() < 0.02


def test_stochastic_texture_has_no_lattice():
    img = smooth_noise((192, 256), 2.0, np.random.default_rng(3)).astype(np.float32)
    assert find_lattice(local_contrast(img)) is None


def test_diagonal_cell_becomes_an_axis_aligned_rectangle():
    diag = Lattice(v1=np.array([32.0, 32.0]), v2=np.array([-32.0, 32.0]), strength=0.9)
    rect = rectangular_cell(diag)
    assert rect.v1 == pytest.approx([64, 0])
    assert rect.v2 == pytest.approx([0, 64])
    sheared = Lattice(v1=np.array([40.0, 0.0]), v2=np.array([13.0, 37.0]), strength=0.9)
    assert rectangular_cell(sheared).v2 == pytest.approx([13.0, 37.0])  # no small rectangle: unchanged
