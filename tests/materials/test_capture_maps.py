import math

import numpy as np
import pytest

from imaging.io import from_float32, to_float32
from materials.capture.maps import SvbrdfMaps, angle_difference_mod_pi, decode_maps, encode_maps


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
    assert set(enc) == {"albedo", "specular", "normal", "roughness", "glossiness", "anisotropy"}
