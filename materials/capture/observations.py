"""Gather flash observations of the master tile at its matches.

A match is a field of positions in the flash photo, one per master-tile
pixel, where the same point of the material appears again.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from imaging.color import luminance

from .fit import Observations
from .shading import flash_directions

# An 8-bit sRGB value at or above this is treated as saturated.
CLIP_LEVEL_SRGB = 250 / 255
# Matches near the highlight centre see the narrow specular peak; they get
# up to (1 + HIGHLIGHT_BOOST) times the weight of the others.
HIGHLIGHT_BOOST = 2.0
HIGHLIGHT_WIDTH_DEG = 12.0


def sample(image: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Bilinear samples. image (H,W,C) float32; positions (...,2) x,y -> (...,C)."""
    flat = positions.reshape(-1, 2).astype(np.float32)
    n = flat.shape[0]
    cols = 1024  # remap maps must stay under 32767 rows and columns
    pad = (-n) % cols
    grid = np.concatenate([flat, np.zeros((pad, 2), np.float32)]).reshape(-1, cols, 2)
    out = np.concatenate([
        cv2.remap(image, part[..., 0], part[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        .reshape(-1, image.shape[2]) for part in np.array_split(grid, max(1, grid.shape[0] // 16384 + 1))])
    return out[:n].reshape(positions.shape[:-1] + (image.shape[2],))


def room_light(guide: np.ndarray, light: np.ndarray, flash: np.ndarray) -> np.ndarray:
    """The room light as the flash photo would hold it: (H,W,3) float32.

    guide: (H,W,3) linear, aligned to the flash photo and evenly lit
    (align.even_illumination); light: (H,W) the light divided out there. The
    room lit the flash shot as it lit the guide (same place, moments apart), so
    the flash photo holds some multiple of the guide as the camera saw it; that
    multiple (FlashGeometry.room_level) is a fraction of the flash photo's mean
    with this scaling, whatever the two exposures were.
    """
    room = guide * light[..., None]
    scale = float(flash.mean()) / max(float(room.mean()), 1e-8)
    return np.ascontiguousarray(room * scale, dtype=np.float32)


# Bounds of a repeat's albedo gain over the master pixel's (a ratio of guide brightness). A
# high-contrast texture's matches (grass blades, gravel) differ by more than 0.6-1.6, the
# earlier bounds: their clipped gains left a misfit that the room light's level and the
# flash beam took up (grass: room level 0.25 where there is none, normals 4.16 -> 3.60 deg).
GAIN_RANGE = (0.25, 4.0)


def gather(flash: np.ndarray, guide: np.ndarray, clipped: np.ndarray, positions: np.ndarray,
           master: np.ndarray, centre, distance: float, shape, wrap: bool,
           room: np.ndarray | None = None) -> Observations:
    """Observations of P master pixels at K matches.

    flash, guide: (H,W,3) float32 linear (guide aligned to the flash);
    clipped: (H,W,3) float32 1 where the flash channel is saturated;
    positions: (P,K,2) x,y flash-photo positions of the matches; master: (P,2)
    the master pixels' own positions (guide reference for the gain); room:
    (H,W,3) the room light (room_light) or None (the flash alone lit the shot).
    """
    h, w = flash.shape[:2]
    inside = ((positions[..., 0] >= 0) & (positions[..., 0] <= w - 1)
              & (positions[..., 1] >= 0) & (positions[..., 1] <= h - 1))
    f = sample(flash, positions)
    # The gain compares repeats' albedo; a light blur keeps sensor noise out of it.
    guide_soft = cv2.GaussianBlur(guide, (0, 0), 1.0)
    lum = lambda x: np.asarray(luminance(x), dtype=np.float32)[..., 0]
    g = lum(sample(guide_soft, positions))
    g0 = lum(sample(guide_soft, master[:, None, :]))
    gain = np.clip(g / np.maximum(g0, 1e-4), *GAIN_RANGE)
    clip = sample(clipped, positions) > 0.5
    pos = torch.from_numpy(positions.astype(np.float32))
    dirs, _ = flash_directions(pos[..., 0], pos[..., 1], centre, distance)
    tilt = torch.rad2deg(torch.acos(dirs[..., 2:3].clamp(-1, 1)))
    weight = (1 + HIGHLIGHT_BOOST * torch.exp(-(tilt / HIGHLIGHT_WIDTH_DEG) ** 2))
    weight = weight * torch.from_numpy(inside[..., None].astype(np.float32))
    room_at = None if room is None else torch.from_numpy(sample(room, positions))
    return Observations(flash=torch.from_numpy(f), positions=pos,
                        gain=torch.from_numpy(gain[..., None].astype(np.float32)),
                        weight=weight, clipped=torch.from_numpy(clip), shape=tuple(shape), wrap=wrap, room=room_at)
