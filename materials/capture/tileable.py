"""Seamless stochastic tiles: the texture multiplier's make-tileable run on all maps at once.

A stochastic master tile is cut from the photo, so its opposite edges do not match. The
maps are stacked and passed through `textures.synthesis` make-tileable, which keeps the
middle of the tile and re-synthesises a band along the edges with circular padding: the
maps stay registered (one synthesis drives them all) and, unlike blending with a shifted
copy, no detail is averaged away. Tiles under the synthesis minimum (32 px) fall back to
offset-and-blend (`stochastic.make_tileable`).
"""

from __future__ import annotations

import numpy as np

from imaging.color import linear_to_srgb, srgb_to_linear
from materials.capture import stochastic
from materials.capture.maps import SvbrdfMaps


def make_tileable(maps: SvbrdfMaps, *, seed: int = 0, progress=None) -> SvbrdfMaps:
    """Seamlessly tileable version of a stochastic tile `maps` (same size and units)."""
    from textures.synthesis.job import MIN_EXEMPLAR, run_texture_job

    if min(maps.shape) < MIN_EXEMPLAR:
        return stochastic.make_tileable(maps)
    srgb = lambda linear: np.asarray(linear_to_srgb(np.clip(linear, 0, 1)), dtype=np.float32)
    # Anisotropy as a (a cos 2phi, a sin 2phi) vector: directions are defined mod 180 degrees,
    # so phi and phi + pi must be the same value for the synthesis to compare and mix them.
    doubled = np.stack([maps.anisotropy * np.cos(2 * maps.angle), maps.anisotropy * np.sin(2 * maps.angle)], -1)
    stack = {
        "albedo": srgb(maps.albedo),  # colours in sRGB: the patch distance then weighs darks fairly
        "specular": srgb(maps.specular),
        "normal": (maps.normal * 0.5 + 0.5).astype(np.float32),
        "roughness": maps.roughness[..., None].astype(np.float32),
        "anisotropy": (doubled * 0.5 + 0.5).astype(np.float32),
    }
    tile = run_texture_job(stack, kind="make_tileable", seed=seed, progress=progress).outputs[0]
    normal = tile["normal"] * 2 - 1
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True).clip(1e-12)  # undo the [0,1] clamp's nudge
    vector = tile["anisotropy"] * 2 - 1
    return SvbrdfMaps(
        albedo=np.asarray(srgb_to_linear(np.clip(tile["albedo"], 0, 1)), dtype=np.float32),
        specular=np.asarray(srgb_to_linear(np.clip(tile["specular"], 0, 1)), dtype=np.float32),
        normal=normal.astype(np.float32),
        roughness=np.clip(tile["roughness"][..., 0], 0, 1).astype(np.float32),
        anisotropy=np.clip(np.linalg.norm(vector, axis=-1), 0, 0.99).astype(np.float32),
        angle=(0.5 * np.arctan2(vector[..., 1], vector[..., 0])).astype(np.float32),
    )
