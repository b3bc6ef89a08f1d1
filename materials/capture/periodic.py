"""Master tile and matches for a periodic surface (a lattice of repeats)."""

from __future__ import annotations

import cv2
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

    Repeats are refined outwards from the master tile, each searched around
    the lattice position moved by the offset its nearest refined neighbour
    needed, so a drift that grows across the photo (stretched fabric, lens
    distortion) is followed beyond the search radius.

    guide_contrast: (H,W) float32 local-contrast guide; grid: (h,w,2) master
    tile positions; translates: (K,2)."""
    h, w = guide_contrast.shape
    img = guide_contrast[..., None]
    template = sample(img, grid)[..., 0]
    r = REFINE_RADIUS
    out = np.array(translates, dtype=np.float64)
    scores = np.full(len(translates), np.nan)
    done = np.zeros(len(translates), dtype=bool)
    for k in np.argsort(np.linalg.norm(translates, axis=1), kind="stable"):
        t = translates[k]
        if done.any():
            candidates = np.flatnonzero(done)
            nearest = candidates[np.argmin(((translates[candidates] - t) ** 2).sum(1))]
            t = t + (out[nearest] - translates[nearest])
        out[k] = t
        p = grid + t
        base_inside = (p[..., 0] >= r) & (p[..., 0] <= w - 1 - r) & (p[..., 1] >= r) & (p[..., 1] <= h - 1 - r)
        if not np.any(translates[k]):
            scores[k] = 1.0
            done[k] = True
            continue
        if base_inside.mean() < 0.5:
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
        out[k] = t + shift
        scores[k] = float(table.max())
        done[k] = True
    return out, scores


def wrap_coordinates(points: np.ndarray, origin, lattice: Lattice, size) -> np.ndarray:
    """Tile pixel coordinates (u, v) (fractional, wrapped into the tile) of
    flash positions `points` (...,2)."""
    h, w = size
    basis = tile_basis(lattice, size)
    uv = (points - np.asarray(origin)) @ np.linalg.inv(basis).T
    return np.mod(uv, [w, h])


# Largest change the per-repeat affine refinement may make: linear part (stretch,
# shear, turn) and extra translation; beyond these a fit is a mismatch, not a repeat.
MAX_AFFINE_LINEAR = 0.08
MAX_AFFINE_SHIFT = 4.0


def refine_deformation(guide_contrast: np.ndarray, grid: np.ndarray, translates: np.ndarray,
                       basis: np.ndarray) -> np.ndarray:
    """(P,K,2) photo positions of the master pixels in each repeat, each repeat
    mapped by its own small affine warp of the tile (fabric is stretched
    unevenly, lenses bend straight lattices, boards sag): the translation of
    `refine_translates` fixes each repeat's centre, this fixes its stretch.

    guide_contrast: (H,W) float32 local-contrast guide; grid: (h,w,2) master
    tile positions (an affine function of the tile pixel: origin + basis @ (u,v));
    translates: (K,2) refined lattice translates; basis: (2,2) tile_basis.
    The warp is found by ECC (enhanced correlation, OpenCV) between the master
    tile and the repeat in tile coordinates; it is kept only when it raises the
    correlation and stays within MAX_AFFINE_LINEAR / MAX_AFFINE_SHIFT.
    """
    h, w = grid.shape[:2]
    H, W = guide_contrast.shape
    img = guide_contrast[..., None]
    template = np.ascontiguousarray(sample(img, grid)[..., 0], dtype=np.float32)
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    uv1 = np.stack([u, v, np.ones_like(u)], -1)  # (h,w,3)
    origin = grid[0, 0]
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-5)
    out = np.empty((h * w, len(translates), 2), dtype=np.float32)
    for k, t in enumerate(translates):
        p = grid + t
        inside = ((p[..., 0] >= 0) & (p[..., 0] <= W - 1) & (p[..., 1] >= 0) & (p[..., 1] <= H - 1))
        warp = np.eye(2, 3, dtype=np.float32)
        if np.any(t) and inside.mean() >= 0.5:
            repeat = np.ascontiguousarray(sample(img, p)[..., 0], dtype=np.float32)
            mask = inside.astype(np.uint8)
            try:
                _, found = cv2.findTransformECC(template, repeat, warp.copy(), cv2.MOTION_AFFINE, criteria, mask, 3)
                linear, shift = found[:, :2] - np.eye(2), found[:, 2] + found[:, :2] @ [w / 2, h / 2] - [w / 2, h / 2]
                if (np.abs(linear).max() <= MAX_AFFINE_LINEAR and np.abs(shift).max() <= MAX_AFFINE_SHIFT
                        and _ncc(template, sample(img, _repeat_positions(origin, basis, found, uv1, t))[..., 0], inside)
                        > _ncc(template, repeat, inside)):
                    warp = found
            except cv2.error:
                pass  # no convergence: keep the translation
        out[:, k] = _repeat_positions(origin, basis, warp, uv1, t).reshape(-1, 2)
    return out


def displacement_field(positions: np.ndarray, on_lattice: np.ndarray, image_size, sigma: float = 6.0) -> np.ndarray:
    """(H,W,2) float64 smooth displacement of the material from its exact
    lattice place, at every photo pixel: where the refined match positions
    (P,K,2) lie against the exact lattice positions (P,K,2), spread by a
    Gaussian of `sigma` px (normalised convolution); 0 where no match lies."""
    h, w = image_size
    found = positions.reshape(-1, 2)
    moved = found - on_lattice.reshape(-1, 2)
    xi, yi = np.round(found[:, 0]).astype(int), np.round(found[:, 1]).astype(int)
    ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    total = np.zeros((h, w, 2), np.float32)
    count = np.zeros((h, w), np.float32)
    np.add.at(total, (yi[ok], xi[ok]), moved[ok].astype(np.float32))
    np.add.at(count, (yi[ok], xi[ok]), 1.0)
    blur = lambda a: cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    total, count = blur(total), blur(count)
    return np.where(count[..., None] > 1e-3, total / np.maximum(count, 1e-3)[..., None], 0.0).astype(np.float64)


def _repeat_positions(origin, basis, warp, uv1, t) -> np.ndarray:
    """(h,w,2) photo positions of the tile's pixels in the repeat at translate
    `t`: each tile pixel (u, v, 1) in `uv1` moved by the 2x3 `warp` (tile
    coordinates), then placed by origin + basis @ (u', v')."""
    return origin + (uv1 @ warp.T.astype(np.float64)) @ basis.T + t
