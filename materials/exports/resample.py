"""Bringing every map of a material to one size without corrupting what it holds.

Plain values (colours in linear light, roughness, AO...) are filtered as they are. Unit
vectors are not: averaging normals shortens them, so they are re-normalised afterwards.
Anisotropy directions are axes (phi and phi + pi are the same), so they are filtered as
doubled-angle vectors a*(cos 2phi, sin 2phi), which neighbouring opposite-signed
encodings of one axis reinforce instead of cancelling.
"""

import numpy as np

from imaging.normals import unit_vectors
from imaging.resize import resize

# Antialiased bicubic: low-passes before decimating when scaling down.
FILTER = "bicubic"


def target_size(height: int, width: int, resolution: int | None) -> tuple[int, int]:
    """(height, width) with the longest side at most `resolution` (never enlarged), aspect kept."""
    longest = max(height, width)
    if resolution is None or resolution >= longest:
        return height, width
    scale = resolution / longest
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_values(values: np.ndarray, size: tuple[int, int], low: float = 0.0, high: float = 1.0,
                  wrap: bool = False) -> np.ndarray:
    """Filter (H,W) or (H,W,C) float values to `size` = (height, width), clipped to [low, high]
    (bicubic lobes overshoot at edges). wrap: the map tiles (its edges filter across)."""
    if values.shape[:2] == tuple(size):
        return values
    return np.clip(resize(values.astype(np.float32), size, filter=FILTER, wrap=wrap), low, high).astype(np.float32)


def resize_normals(normals: np.ndarray, size: tuple[int, int], wrap: bool = False) -> np.ndarray:
    """(H,W,3) unit tangent-space normals -> (h,w,3) unit normals (filtered, then re-normalised)."""
    if normals.shape[:2] == tuple(size):
        return normals
    return unit_vectors(resize(normals.astype(np.float32), size, filter=FILTER, wrap=wrap))


def resize_axes(direction: np.ndarray, strength: np.ndarray, size: tuple[int, int], wrap: bool = False):
    """Anisotropy axes to a new size.

    direction: (H,W,2) unit (cos phi, sin phi); strength: (H,W) in [0,1].
    Returns ((h,w,2) unit directions, (h,w) strengths). Where the axes inside a filter
    footprint disagree the strength drops, as the blended lobe really is less anisotropic.
    """
    if strength.shape[:2] == tuple(size):
        return direction, strength
    cos, sin = direction[..., 0], direction[..., 1]
    doubled = np.stack([cos * cos - sin * sin, 2.0 * cos * sin], axis=-1) * strength[..., None]
    doubled = resize(doubled.astype(np.float32), size, filter=FILTER, wrap=wrap)
    new_strength = np.clip(np.linalg.norm(doubled, axis=-1), 0.0, 1.0).astype(np.float32)
    half_angle = 0.5 * np.arctan2(doubled[..., 1], doubled[..., 0])
    new_direction = np.stack([np.cos(half_angle), np.sin(half_angle)], axis=-1).astype(np.float32)
    return new_direction, new_strength
