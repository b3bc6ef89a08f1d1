"""Find the repetition lattice (two period vectors) of a periodic surface."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# Normalised autocorrelation a lattice peak must reach for the surface to count
# as periodic (exact tilings give ~0.9; stochastic textures stay < 0.2).
MIN_PEAK_CORRELATION = 0.45


@dataclass
class Lattice:
    """v1, v2: period vectors (x, y) in pixels, v1 the more horizontal one,
    both pointing right/down; strength: autocorrelation at the peaks (0..1)."""

    v1: np.ndarray
    v2: np.ndarray
    strength: float


def autocorrelation(image: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation (2H-1, 2W-1), zero shift at the centre.

    image: (H,W) float. Each shift is divided by its overlap area, so distant
    repeats are not weakened by the shrinking overlap.
    """
    h, w = image.shape
    x = image - image.mean()
    x = x / (x.std() + 1e-12)
    size = (2 * h, 2 * w)
    spec = np.fft.rfft2(x, size)
    corr = np.fft.irfft2(spec * np.conj(spec), size)
    ones = np.fft.rfft2(np.ones_like(x), size)
    count = np.fft.irfft2(ones * np.conj(ones), size)
    corr = np.fft.fftshift(corr / np.maximum(count, 1.0))
    return corr[1:, 1:]  # centre at (h-1, w-1)


def _subpixel_peak(corr: np.ndarray, y: int, x: int) -> np.ndarray:
    """Parabolic refinement of an integer peak; returns (y, x) float."""
    def vertex(m, c, p):
        den = m - 2 * c + p
        return 0.0 if abs(den) < 1e-12 else float(np.clip(0.5 * (m - p) / den, -0.5, 0.5))
    dy = vertex(corr[y - 1, x], corr[y, x], corr[y + 1, x])
    dx = vertex(corr[y, x - 1], corr[y, x], corr[y, x + 1])
    return np.array([y + dy, x + dx])


def _reduce(v1: np.ndarray, v2: np.ndarray):
    """Gauss (Lagrange) reduction to the two shortest basis vectors."""
    for _ in range(32):
        if v1 @ v1 > v2 @ v2:
            v1, v2 = v2, v1
        m = round(float(v1 @ v2) / float(v1 @ v1))
        if m == 0:
            break
        v2 = v2 - m * v1
    return v1, v2


def find_lattice(guide: np.ndarray, *, min_period: float = 8.0) -> Lattice | None:
    """Lattice of a periodic surface from the guide's autocorrelation.

    guide: (H,W) float32 (local-contrast luminance works best). Returns None
    when no lattice peak is strong enough (a stochastic surface).
    """
    h, w = guide.shape
    corr = autocorrelation(guide)
    cy, cx = h - 1, w - 1
    # Only shifts up to half the photo: beyond that the overlap is too small.
    ys, xs = np.mgrid[-cy:cy + 1, -cx:cx + 1]
    region = (np.abs(ys) <= h // 2) & (np.abs(xs) <= w // 2) & (ys * ys + xs * xs >= min_period**2)
    peaks = (corr == ndimage.maximum_filter(corr, size=5)) & region & (corr > MIN_PEAK_CORRELATION)
    py, px = np.nonzero(peaks)
    if len(py) < 2:
        return None
    values = corr[py, px]
    strong = values >= 0.8 * values.max()
    vecs = np.stack([px[strong] - cx, py[strong] - cy], axis=1).astype(np.float64)
    vals = values[strong]
    order = np.argsort(np.linalg.norm(vecs, axis=1))
    vecs, vals = vecs[order], vals[order]
    v1 = vecs[0]
    v2 = None
    for v in vecs[1:]:
        if abs(v1[0] * v[1] - v1[1] * v[0]) > 0.3 * np.linalg.norm(v1) * np.linalg.norm(v):
            v2 = v
            break
    if v2 is None:
        return None
    v1, v2 = _reduce(v1, v2)
    refined = []
    for v in (v1, v2):
        # Refine on the farthest multiple that fits: sub-pixel error shrinks by k.
        k = max(1, int(min(w // 2 / max(abs(v[0]), 1e-9), h // 2 / max(abs(v[1]), 1e-9))) - 1)
        target = k * v
        ty, tx = int(round(cy + target[1])), int(round(cx + target[0]))
        win = corr[ty - 2:ty + 3, tx - 2:tx + 3]
        oy, ox = np.unravel_index(np.argmax(win), win.shape)
        py_, px_ = ty - 2 + oy, tx - 2 + ox
        if 1 <= py_ < corr.shape[0] - 1 and 1 <= px_ < corr.shape[1] - 1:
            sub = _subpixel_peak(corr, py_, px_)
            refined.append(np.array([sub[1] - cx, sub[0] - cy]) / k)
        else:
            refined.append(v)
    v1, v2 = refined
    # Canonical orientation: v1 the more horizontal, pointing right; v2 down.
    if abs(v1[0]) < abs(v2[0]):
        v1, v2 = v2, v1
    if v1[0] < 0:
        v1 = -v1
    if v2[1] < 0:
        v2 = -v2
    return Lattice(v1=v1, v2=v2, strength=float(vals.min()))


def rectangular_cell(lattice: Lattice, *, max_area_factor: int = 4, tolerance: float = 0.005) -> Lattice:
    """A tile made of lattice vectors that is a rectangle along the image axes,
    when one exists within `max_area_factor` primitive cells (e.g. a basket
    weave's diagonal cell doubles to a square); else the primitive lattice.
    Any pair of lattice vectors spanning the cell still tiles seamlessly."""
    area = abs(lattice.v1[0] * lattice.v2[1] - lattice.v1[1] * lattice.v2[0])
    combos = [i * lattice.v1 + j * lattice.v2 for i in range(-4, 5) for j in range(-4, 5) if (i, j) != (0, 0)]
    horizontal = [v for v in combos if v[0] > 0 and abs(v[1]) <= tolerance * abs(v[0])]
    vertical = [v for v in combos if v[1] > 0 and abs(v[0]) <= tolerance * abs(v[1])]
    if not horizontal or not vertical:
        return lattice
    h = min(horizontal, key=lambda v: v[0])
    v = min(vertical, key=lambda v: v[1])
    if h[0] * v[1] > max_area_factor * area * (1 + tolerance):
        return lattice
    return Lattice(v1=h, v2=v, strength=lattice.strength)
