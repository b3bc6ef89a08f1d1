"""SVBRDF maps of a tile and their file encodings (docs/shading-model.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from imaging.color import linear_to_srgb, srgb_to_linear

from .height import height_from_normals, stretch
from .occlusion import ambient_occlusion

MAP_NAMES = ("albedo", "specular", "normal", "roughness", "glossiness", "anisotropy", "height", "ao")


@dataclass
class SvbrdfMaps:
    """Per-pixel parameters of the shading model, numpy float32.

    albedo, specular: (H,W,3) linear RGB in [0,1]; normal: (H,W,3) unit, plane
    frame (x right, y up, z out); roughness: (H,W) in [0,1]; anisotropy:
    (H,W) strength a in [0,1); angle: (H,W) tangent direction phi in radians
    from image +x towards image up.
    """

    albedo: np.ndarray
    specular: np.ndarray
    normal: np.ndarray
    roughness: np.ndarray
    anisotropy: np.ndarray
    angle: np.ndarray

    @property
    def shape(self):
        return self.roughness.shape

    def to_torch(self, device="cpu") -> dict:
        """Dict of tensors for `shading`: vectors (H,W,3), scalars (H,W,1)."""
        def t(a):
            a = np.asarray(a, dtype=np.float32)
            return torch.from_numpy(a if a.ndim == 3 else a[..., None]).to(device)
        return {k: t(getattr(self, k)) for k in
                ("albedo", "specular", "normal", "roughness", "anisotropy", "angle")}

    def crop(self, y0: int, x0: int, h: int, w: int) -> "SvbrdfMaps":
        return SvbrdfMaps(*(getattr(self, k)[y0:y0 + h, x0:x0 + w].copy() for k in
                            ("albedo", "specular", "normal", "roughness", "anisotropy", "angle")))

    @staticmethod
    def from_torch(maps: dict) -> "SvbrdfMaps":
        def n(k):
            a = maps[k].detach().cpu().numpy().astype(np.float32)
            return a[..., 0] if a.shape[-1] == 1 else a
        return SvbrdfMaps(n("albedo"), n("specular"), n("normal"), n("roughness"),
                          n("anisotropy"), n("angle"))


def encode_maps(maps: SvbrdfMaps, relief: np.ndarray | None = None) -> dict:
    """File encodings, float32 in [0,1] ready for 8/16-bit PNG.

    albedo, specular: sRGB (H,W,3); normal: n*0.5+0.5 (H,W,3), OpenGL +Y up;
    roughness: linear r (H,W); glossiness: 1-r (H,W); anisotropy: linear RGB
    (cos phi, sin phi)*0.5+0.5 and B = a (H,W,3); height: the normals integrated
    (height.py), stretched to [0,1] (H,W); ao: the relief's ambient occlusion
    (occlusion.py), 1 = open (H,W).
    """
    normal = maps.normal / np.linalg.norm(maps.normal, axis=-1, keepdims=True).clip(1e-12)
    if relief is None:  # callers that also report the relief's depth pass it in (one FFT)
        relief = height_from_normals(normal)
    aniso = np.stack([np.cos(maps.angle) * 0.5 + 0.5, np.sin(maps.angle) * 0.5 + 0.5,
                      maps.anisotropy], axis=-1)
    enc = {
        "albedo": linear_to_srgb(maps.albedo),
        "specular": linear_to_srgb(maps.specular),
        "normal": normal * 0.5 + 0.5,
        "roughness": maps.roughness,
        "glossiness": 1.0 - maps.roughness,
        "anisotropy": aniso,
        "height": stretch(relief)[0],
        "ao": ambient_occlusion(relief),
    }
    return {k: np.clip(np.asarray(v, dtype=np.float32), 0.0, 1.0) for k, v in enc.items()}


def decode_maps(encoded: dict) -> SvbrdfMaps:
    """Inverse of `encode_maps` (uses roughness; glossiness is redundant)."""
    normal = np.asarray(encoded["normal"], dtype=np.float32) * 2.0 - 1.0
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True).clip(1e-12)
    aniso = np.asarray(encoded["anisotropy"], dtype=np.float32)
    angle = np.arctan2(aniso[..., 1] * 2.0 - 1.0, aniso[..., 0] * 2.0 - 1.0)
    return SvbrdfMaps(
        albedo=np.asarray(srgb_to_linear(encoded["albedo"]), dtype=np.float32),
        specular=np.asarray(srgb_to_linear(encoded["specular"]), dtype=np.float32),
        normal=normal.astype(np.float32),
        roughness=np.asarray(encoded["roughness"], dtype=np.float32),
        anisotropy=aniso[..., 2].astype(np.float32),
        angle=angle.astype(np.float32),
    )


def resample_axes(angle: np.ndarray, resample) -> np.ndarray:
    """Axis angles (mod 180 degrees, radians) resampled by `resample`, a function
    of an (H,W,2) array (interpolation, warping, sampling at positions). The
    doubled-angle vector (cos 2phi, sin 2phi) is resampled, so axes on either
    side of the 180 degree wrap blend instead of averaging to a wrong direction."""
    doubled = resample(np.stack([np.cos(2 * angle), np.sin(2 * angle)], axis=-1))
    return 0.5 * np.arctan2(doubled[..., 1], doubled[..., 0])


def angle_difference_mod_pi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a-b| modulo 180 degrees (anisotropy axes have no sign), radians in [0, pi/2]."""
    d = np.mod(a - b, math.pi)
    return np.minimum(d, math.pi - d)


def reframe(maps: SvbrdfMaps, basis) -> SvbrdfMaps:
    """Maps fitted in the photo's frame, re-expressed in the frame of a tile
    that was resampled along `basis` (a lattice tile whose vectors are not
    along the image axes: rotated, sheared or mirrored).

    basis: (2,2), columns = the photo-pixel step (x right, y down) of one
    tile pixel along the tile's u (right) and v (down) axes. The surface slope
    is a gradient, so it maps by basis^T; a tangent direction is a vector, so
    it maps by basis^-1. Albedo, specular, roughness and anisotropy strength
    are per-point and stay as they are. The identity basis returns the maps
    unchanged.
    """
    b = np.asarray(basis, dtype=np.float64).reshape(2, 2)
    n = maps.normal.astype(np.float64)
    nz = np.maximum(n[..., 2], 1e-3)
    # Height gradient per photo pixel (x right, y down); normals are y-up.
    grad = np.stack([-n[..., 0] / nz, n[..., 1] / nz], axis=-1)
    grad = grad @ b  # row vectors: (b^T g)^T = g^T b
    normal = np.stack([-grad[..., 0], grad[..., 1], np.ones_like(nz)], axis=-1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    # Tangent direction: angle measured towards image up, so the pixel step is (cos, -sin).
    step = np.stack([np.cos(maps.angle), -np.sin(maps.angle)], axis=-1).astype(np.float64)
    step = step @ np.linalg.inv(b).T
    angle = np.arctan2(-step[..., 1], step[..., 0])
    return SvbrdfMaps(albedo=maps.albedo, specular=maps.specular, normal=normal.astype(np.float32),
                      roughness=maps.roughness, anisotropy=maps.anisotropy, angle=angle.astype(np.float32))
