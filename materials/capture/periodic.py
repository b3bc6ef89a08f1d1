"""Master tile and matches for a periodic surface (a lattice of repeats)."""

from __future__ import annotations

import numpy as np

from imaging.lattice import Lattice
from .observations import sample

# Search radius (px) around each predicted repeat for the NCC refinement.
REFINE_RADIUS = 2


def tile_positions(origin, lattice: Lattice, size) -> np.ndarray:
    """(h,w,2) x,y flash positions of the tile pixels: origin + u/w*v1 + v/h*v2."""
    h, w = size
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    pos = (np.asarray(origin)[None, None] + (u / w)[..., None] * lattice.v1[None, None]
           + (v / h)[..., None] * lattice.v2[None, None])
    return pos


def tile_basis(lattice: Lattice, size) -> np.ndarray:
    """(2,2) photo-pixel step (columns) of one tile pixel along the tile's u and v axes."""
    h, w = size
    return np.stack([lattice.v1 / w, lattice.v2 / h], axis=1)


def tile_size(lattice: Lattice) -> tuple:
    """(h, w) pixels of the tile: the period vectors' lengths."""
    return (max(2, int(round(np.linalg.norm(lattice.v2)))), max(2, int(round(np.linalg.norm(lattice.v1)))))


def lattice_translates(grid: np.ndarray, lattice: Lattice, image_size, min_inside: float = 0.25) -> np.ndarray:
    """(K,2) translations i*v1 + j*v2 that keep at least `min_inside` of the tile in the photo."""
    h, w = image_size
    span = int(np.ceil(max(h, w) / max(min(np.linalg.norm(lattice.v1), np.linalg.norm(lattice.v2)), 1))) + 1
    out = []
    for i in range(-span, span + 1):
        for j in range(-span, span + 1):
            t = i * lattice.v1 + j * lattice.v2
            p = grid + t
            inside = ((p[..., 0] >= 0) & (p[..., 0] <= w - 1) & (p[..., 1] >= 0) & (p[..., 1] <= h - 1)).mean()
            if inside >= min_inside:
                out.append(t)
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def _ncc(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    a = a[mask] - a[mask].mean()
    b = b[mask] - b[mask].mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-12))


def refine_translates(guide_contrast: np.ndarray, grid: np.ndarray, translates: np.ndarray) -> tuple:
    """Sub-pixel refinement of each repeat by NCC on the guide (repeats are
    similar, not identical, and lenses bend lattices). Returns (translates, ncc).

    guide_contrast: (H,W) float32 local-contrast guide; grid: (h,w,2) master
    tile positions; translates: (K,2)."""
    h, w = guide_contrast.shape
    img = guide_contrast[..., None]
    template = sample(img, grid)[..., 0]
    r = REFINE_RADIUS
    out, scores = [], []
    for t in translates:
        p = grid + t
        base_inside = (p[..., 0] >= r) & (p[..., 0] <= w - 1 - r) & (p[..., 1] >= r) & (p[..., 1] <= h - 1 - r)
        if base_inside.mean() < 0.5 or not np.any(t):
            out.append(t)
            scores.append(1.0 if not np.any(t) else np.nan)
            continue
        table = np.full((2 * r + 1, 2 * r + 1), -1.0)
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                cand = sample(img, p + np.array([dx, dy]))[..., 0]
                table[dy + r, dx + r] = _ncc(template, cand, base_inside)
        iy, ix = np.unravel_index(np.argmax(table), table.shape)
        shift = np.array([ix - r, iy - r], dtype=np.float64)
        # Parabolic sub-pixel step where the peak is interior.
        if 0 < ix < 2 * r:
            m, c, q = table[iy, ix - 1], table[iy, ix], table[iy, ix + 1]
            den = m - 2 * c + q
            shift[0] += 0.5 * (m - q) / den if den < 0 else 0.0
        if 0 < iy < 2 * r:
            m, c, q = table[iy - 1, ix], table[iy, ix], table[iy + 1, ix]
            den = m - 2 * c + q
            shift[1] += 0.5 * (m - q) / den if den < 0 else 0.0
        out.append(t + shift)
        scores.append(float(table.max()))
    return np.array(out), np.array(scores)


def wrap_coordinates(points: np.ndarray, origin, lattice: Lattice, size) -> np.ndarray:
    """Tile pixel coordinates (u, v) (fractional, wrapped into the tile) of
    flash positions `points` (...,2)."""
    h, w = size
    basis = tile_basis(lattice, size)
    uv = (points - np.asarray(origin)) @ np.linalg.inv(basis).T
    return np.mod(uv, [w, h])
