"""Ambient occlusion of the tile's relief, for engines' AO slots (Unreal's ORM red channel,
glTF's occlusion texture).

The flash sits at the camera, so the flash photo shows no shadows and the fitted albedo
holds no occlusion: crevices of the real surface are darker under room light than the
albedo alone says. This puts that back from the height (height.py, in texels): per pixel
and per direction the horizon's slope t over a radius, and the visible share of a
uniform sky, cosine-weighted, is cos^2 of the horizon's elevation, 1 / (1 + t^2)
(horizon-based AO, Bavoil et al. 2008, without the normal's tilt).
"""

from __future__ import annotations

import numpy as np

from imaging.resize import resize

DIRECTIONS = 16
STEPS = 12
RADIUS = 0.125  # of the tile's width: how far a crevice's walls are looked for
MAX_SIDE = 512  # computed at most at this size (occlusion is smooth), then resized


def ambient_occlusion(height: np.ndarray) -> np.ndarray:
    """(H,W) float32 in (0,1], 1 = open sky, of the tileable height field `height` in texels."""
    height = np.asarray(height, dtype=np.float32)
    shape = height.shape
    scale = min(1.0, MAX_SIDE / max(shape))
    if scale < 1.0:
        small = (max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale)))
        height = resize(height, small, wrap=True) * scale  # heights in the smaller texels
    radius = max(2.0, RADIUS * height.shape[1])
    distances = np.unique(np.round(np.geomspace(1.0, radius, STEPS)))
    visible = np.zeros_like(height)
    for angle in np.arange(DIRECTIONS) * 2 * np.pi / DIRECTIONS:
        horizon = np.zeros_like(height)
        for distance in distances:
            dx, dy = int(round(distance * np.cos(angle))), int(round(distance * np.sin(angle)))
            if dx == 0 and dy == 0:
                continue
            ahead = np.roll(height, (-dy, -dx), axis=(0, 1))  # the height at p + (dx, dy), wrapping
            np.maximum(horizon, (ahead - height) / np.hypot(dx, dy), out=horizon)
        visible += 1.0 / (1.0 + horizon * horizon)
    occlusion = visible / DIRECTIONS
    if occlusion.shape != shape:
        occlusion = resize(occlusion, shape, wrap=True)
    return np.clip(occlusion, 0.0, 1.0).astype(np.float32)
