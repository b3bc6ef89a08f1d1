"""The captured tile's maps at a chosen output size.

A tile is as many pixels as the repeat covered in the photo (often 100-300 px); artists
want 1K or 2K maps. Enlarging goes through the super-resolution network (x4 / x2 steps,
its PSNR model: fidelity, no invented detail; each map with its role's handling), then an
antialiased resample to the exact size; reducing is the resample alone. Everything wraps
around, so the maps still tile seamlessly.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from imaging.color import linear_to_srgb, srgb_to_linear
from imaging.resize import resize

from .height import height_from_normals, stretch
from .maps import SvbrdfMaps, encode_maps
from .shading import MIN_ROUGHNESS

MAX_SIDE = 4096


def output_size(shape, resolution: int) -> tuple[int, int]:
    """(height, width) with the longest side `resolution` and the tile's aspect kept."""
    height, width = shape
    if not 1 <= resolution <= MAX_SIDE:
        raise ValueError(f"resolution must be 1..{MAX_SIDE}, got {resolution}")
    scale = resolution / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def _enlarge(values: np.ndarray, size, role: str, progress=None) -> np.ndarray:
    """(H,W[,C]) float32 in [0,1] (encoded: sRGB colour, 0.5n+0.5 normal, linear data) to `size`."""
    from superres.upscale import upscale

    while values.shape[0] < size[0] or values.shape[1] < size[1]:
        ratio = max(size[0] / values.shape[0], size[1] / values.shape[1])
        values, _ = upscale(values, scale=4 if ratio > 2 else 2, sharpness=0.0, wrap=True, role=role,
                            colour_space="srgb" if role == "color" else "linear")
        if progress is not None:
            progress()
    return resize(values, size, wrap=True)


def resize_maps(maps: SvbrdfMaps, size, progress=None) -> SvbrdfMaps:
    """The maps at `size` (height, width), physically valid: unit normals, roughness in
    [MIN_ROUGHNESS, 1], anisotropy in [0, 1). progress() is called after each network step."""
    size = (int(size[0]), int(size[1]))
    if size == maps.shape:
        return maps
    enlarge = size[0] > maps.shape[0] or size[1] > maps.shape[1]
    fit = (lambda v, role: _enlarge(v, size, role, progress)) if enlarge else (lambda v, role: resize(v, size, wrap=True))
    # The files' encodings (sRGB colour, 0.5n+0.5 normals), which the network expects;
    # not encode_maps, which would also integrate the relief and its occlusion.
    encode = lambda v: np.clip(np.asarray(v, np.float32), 0, 1)
    albedo = np.clip(fit(encode(linear_to_srgb(maps.albedo)), "color"), 0, 1)
    specular = np.clip(fit(encode(linear_to_srgb(maps.specular)), "color"), 0, 1)
    unit = maps.normal / np.linalg.norm(maps.normal, axis=-1, keepdims=True).clip(1e-12)
    normal = fit(encode(unit * 0.5 + 0.5), "normal") * 2 - 1
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True).clip(1e-6)
    roughness = np.clip(fit(maps.roughness, "linear"), MIN_ROUGHNESS, 1)
    # The tangent direction is an axis (phi and phi + 180 deg are one), so the strength-weighted
    # double-angle vector is what can be interpolated; it is smooth (a fit prior), so no network.
    axis = np.stack([maps.anisotropy * np.cos(2 * maps.angle), maps.anisotropy * np.sin(2 * maps.angle)], -1)
    axis = resize(np.asarray(axis, np.float32), size, wrap=True)
    return replace(
        maps,
        albedo=np.asarray(srgb_to_linear(albedo), np.float32),
        specular=np.asarray(srgb_to_linear(specular), np.float32),
        normal=normal.astype(np.float32),
        roughness=roughness.astype(np.float32),
        anisotropy=np.clip(np.linalg.norm(axis, axis=-1), 0, 0.99).astype(np.float32),
        angle=(0.5 * np.arctan2(axis[..., 1], axis[..., 0])).astype(np.float32),
    )


def at_resolution(result, resolution: int | None, progress=None):
    """The CaptureResult with its maps (and encodings) at `resolution` (longest side);
    renders stay as they are; report gains `output_size` [width, height] and `output_resampling`."""
    if resolution is None:
        return result
    size = output_size(result.maps.shape, resolution)
    maps = resize_maps(result.maps, size, progress=progress)
    method = ("super-resolution network (PSNR model), then resampled" if size[0] > result.maps.shape[0]
              or size[1] > result.maps.shape[1] else "resampled" if size != result.maps.shape else "native")
    relief = height_from_normals(maps.normal)
    report = dict(result.report, output_size=[size[1], size[0]], output_resampling=method,
                  height_depth=round(stretch(relief)[1], 5))
    return replace(result, maps=maps, encoded=encode_maps(maps, relief), report=report)

