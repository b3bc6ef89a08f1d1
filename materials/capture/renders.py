"""Preview renders of recovered maps: the flash photo again, and new lights."""

from __future__ import annotations

import math

import numpy as np
import torch

from imaging.color import linear_to_srgb

from .maps import SvbrdfMaps
from .shading import camera_distance, flash_directions, render_flash, render_point_light


def _sample_maps(maps: SvbrdfMaps, u: np.ndarray, v: np.ndarray) -> dict:
    """Nearest-pixel lookup of tile maps at wrapped tile coords (H,W) -> torch dict."""
    h, w = maps.shape
    # Tile pixel i sits at tile coordinate i: round, and wrap across the edge.
    iu = np.mod(np.floor(u + 0.5).astype(np.int64), w)
    iv = np.mod(np.floor(v + 0.5).astype(np.int64), h)
    t = maps.to_torch()
    return {k: val[torch.from_numpy(iv), torch.from_numpy(iu)] for k, val in t.items()}


def rerender_flash(maps: SvbrdfMaps, tile_uv: np.ndarray, gain: np.ndarray, centre, distance: float,
                   exposure: float, room: np.ndarray | None = None, beam: float = 0.0,
                   axis=None) -> np.ndarray:
    """The flash photo rendered from the tile placed at every repeat.

    tile_uv: (H,W,2) tile coordinates of each photo pixel (wrapped, NaN where
    no match covers the pixel); gain: (H,W) guide ratio (per-repeat albedo);
    exposure: the global scale removed before fitting; room: (H,W,3) the room
    light the flash photo also held (photo units), added; beam, axis: the flash
    beam's fall-off (shading.flash_directions). Returns (H,W,3)
    linear RGB, NaN where uncovered.
    """
    h, w = tile_uv.shape[:2]
    covered = np.isfinite(tile_uv).all(-1)
    uv = np.nan_to_num(tile_uv)
    m = _sample_maps(maps, uv[..., 0], uv[..., 1])
    rows, cols = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    dirs, fall = flash_directions(cols, rows, centre, distance, beam=beam, axis=axis)
    with torch.no_grad():
        out = exposure * render_flash(m, dirs, fall, torch.from_numpy(gain[..., None].astype(np.float32)))
    out = out.numpy()
    if room is not None:
        out = out + room
    out[~covered] = np.nan
    return out


def new_light_renders(maps: SvbrdfMaps, *, repeats: int = 3, fov_deg: float = 50.0) -> dict:
    """The tile tiled `repeats` x `repeats` under two point lights away from
    the camera (a grazing side light and a high corner light). Returns sRGB
    (H,W,3) float32 images in [0,1], exposed so the mean sits mid-grey."""
    th, tw = maps.shape
    tiled = SvbrdfMaps(*(np.tile(getattr(maps, k), (repeats, repeats) + (1,) * (getattr(maps, k).ndim - 2))
                         for k in ("albedo", "specular", "normal", "roughness", "anisotropy", "angle")))
    h, w = tiled.shape
    d = camera_distance(w, fov_deg)
    rows, cols = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    camera = (w / 2, h / 2, d)
    lights = {"render_light_side": (-0.3 * w, 0.5 * h, 0.5 * d), "render_light_corner": (0.85 * w, 0.1 * h, 0.9 * d)}
    out = {}
    t = tiled.to_torch()
    for name, light in lights.items():
        with torch.no_grad():
            lin = render_point_light(t, cols, rows, camera, light).numpy()
        lin = lin * (0.18 / max(float(np.median(lin)), 1e-6))
        out[name] = np.asarray(linear_to_srgb(np.clip(lin, 0, 1)), dtype=np.float32)
    return out


def psnr_srgb(a_linear: np.ndarray, b_linear: np.ndarray) -> float:
    """PSNR (dB) of two linear images compared as clipped sRGB in [0,1], over finite pixels."""
    ok = np.isfinite(a_linear).all(-1) & np.isfinite(b_linear).all(-1)
    a = np.asarray(linear_to_srgb(np.clip(np.nan_to_num(a_linear), 0, 1)))[ok]
    b = np.asarray(linear_to_srgb(np.clip(np.nan_to_num(b_linear), 0, 1)))[ok]
    mse = float(np.mean((a - b) ** 2)) if a.size else float("nan")
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)
