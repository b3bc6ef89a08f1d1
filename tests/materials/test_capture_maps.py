import math

import numpy as np
import pytest

from imaging.io import from_float32, to_float32
from materials.capture.maps import SvbrdfMaps, angle_difference_mod_pi, decode_maps, encode_maps, reframe
from materials.capture.synthetic import normals_from_height


def _random_maps(seed=0, shape=(16, 12)):
    rng = np.random.default_rng(seed)
    n = rng.normal(size=shape + (3,)) * [0.3, 0.3, 0.1]
    n[..., 2] = np.abs(n[..., 2]) + 0.8
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    return SvbrdfMaps(albedo=rng.uniform(0, 1, shape + (3,)).astype(np.float32),
                      specular=rng.uniform(0, 1, shape + (3,)).astype(np.float32),
                      normal=n.astype(np.float32), roughness=rng.uniform(0.02, 1, shape).astype(np.float32),
                      anisotropy=rng.uniform(0, 0.9, shape).astype(np.float32),
                      angle=rng.uniform(-math.pi / 2, math.pi / 2, shape).astype(np.float32))


@pytest.mark.parametrize("bit_depth,tol", [("8", 0.03), ("16", 3e-4)])
def test_encodings_round_trip_through_integer_files(bit_depth, tol):
    maps = _random_maps()
    enc = encode_maps(maps)
    stored = {k: to_float32(from_float32(v, bit_depth)) for k, v in enc.items()}
    back = decode_maps(stored)
    assert np.abs(back.albedo - maps.albedo).max() < tol
    assert np.abs(back.specular - maps.specular).max() < tol
    assert np.abs(back.roughness - maps.roughness).max() < tol
    assert np.abs(back.anisotropy - maps.anisotropy).max() < tol
    cos = np.clip((back.normal * maps.normal).sum(-1), -1, 1)
    assert np.degrees(np.arccos(cos)).max() < 100 * tol
    # Where anisotropy is visible, the axis survives (modulo 180 degrees).
    strong = maps.anisotropy > 0.2
    assert angle_difference_mod_pi(back.angle, maps.angle)[strong].max() < 20 * tol


def test_encodings_follow_the_documented_conventions():
    maps = _random_maps(shape=(2, 2))
    maps.normal[0, 0] = [0.0, math.sin(0.3), math.cos(0.3)]  # tilted towards image up
    maps.angle[0, 0] = math.pi / 2
    maps.roughness[0, 0] = 0.25
    maps.albedo[0, 0] = [0.5, 0.0, 1.0]
    enc = encode_maps(maps)
    assert enc["normal"][0, 0, 1] > 0.6  # OpenGL: +Y (green) is up
    assert enc["normal"][0, 0, 0] == pytest.approx(0.5)
    assert enc["anisotropy"][0, 0, :2] == pytest.approx([0.5, 1.0], abs=1e-6)
    assert enc["glossiness"][0, 0] == pytest.approx(0.75)
    assert enc["albedo"][0, 0, 0] == pytest.approx(0.7354, abs=1e-3)  # sRGB-encoded 0.5
    assert set(enc) == {"albedo", "specular", "normal", "roughness", "glossiness", "anisotropy", "height", "ao"}
    assert enc["height"].shape == (2, 2) and 0 <= enc["height"].min() <= enc["height"].max() <= 1


def _plane_maps(normal, angle, shape=(24, 24)):
    h, w = shape
    return SvbrdfMaps(albedo=np.full((h, w, 3), 0.5, np.float32), specular=np.full((h, w, 3), 0.04, np.float32),
                      normal=np.broadcast_to(np.asarray(normal, np.float32), (h, w, 3)).copy(),
                      roughness=np.full((h, w), 0.4, np.float32), anisotropy=np.full((h, w), 0.5, np.float32),
                      angle=np.full((h, w), angle, np.float32))


@pytest.mark.parametrize("basis", [
    [[np.cos(0.5), -np.sin(0.5)], [np.sin(0.5), np.cos(0.5)]],   # lattice turned by 0.5 rad
    [[1.0, 0.4], [0.1, 0.9]],                                     # sheared, unequal steps
    [[0.0, 1.0], [1.0, 0.0]],                                     # mirrored (u and v swapped)
])
def test_reframe_gives_the_normals_of_the_resampled_surface(basis):
    """A tilted plane height(x, y) = a x + b y resampled along `basis`: the
    tile's normals measured by finite differences of the resampled height must
    equal the photo-frame normals re-expressed by `reframe`."""
    basis = np.asarray(basis)
    a, b = 0.3, -0.2  # height slope per photo pixel along x (right) and y (down)
    height = lambda x, y: a * x + b * y
    photo_normal = np.array([-a, b, 1.0]) / np.linalg.norm([-a, b, 1.0])  # y-up plane frame
    v, u = np.mgrid[0:24, 0:24].astype(np.float64)
    x = 5 + basis[0, 0] * u + basis[0, 1] * v
    y = 7 + basis[1, 0] * u + basis[1, 1] * v
    tile_height = height(x, y)
    expected = normals_from_height(tile_height)[2:-2, 2:-2]  # interior: no wrap-around
    got = reframe(_plane_maps(photo_normal, 0.0), basis).normal[2:-2, 2:-2]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # The photo-frame normal itself would be wrong for every one of these tiles.
    assert np.abs(got - photo_normal).max() > 0.02


def test_reframe_turns_tangents_with_the_lattice():
    turn = 0.4  # lattice turned clockwise on screen (image y down) by `turn`
    basis = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    # A tangent along the lattice's first vector (photo angle -turn, angles count towards
    # image up) lies along the tile's u axis; one along the second vector along its v axis.
    along_v1 = reframe(_plane_maps([0, 0, 1], -turn), basis)
    along_v2 = reframe(_plane_maps([0, 0, 1], -turn - np.pi / 2), basis)
    assert np.abs(angle_difference_mod_pi(along_v1.angle, 0.0)).max() < 1e-5
    assert np.abs(angle_difference_mod_pi(along_v2.angle, np.pi / 2)).max() < 1e-5
    identity = reframe(_plane_maps([0.1, -0.2, 0.97], 0.7), np.eye(2))
    np.testing.assert_allclose(identity.angle, 0.7, atol=1e-6)
    expected = np.array([0.1, -0.2, 0.97]) / np.linalg.norm([0.1, -0.2, 0.97])
    np.testing.assert_allclose(identity.normal, np.broadcast_to(expected, identity.normal.shape), atol=1e-5)
    # Strength, albedo and roughness are per point: unchanged.
    np.testing.assert_array_equal(along_v1.anisotropy, 0.5)
    np.testing.assert_array_equal(along_v1.roughness, np.float32(0.4))
