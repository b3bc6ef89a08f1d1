"""Procedural test textures (stochastic noise, stones, bricks, weave, wood grain).

Each is drawn on a larger canvas and cropped, so it is *not* tileable as given: the
benchmark and the tests need exemplars whose plain repetition shows seams.
All return `(size, size, 3)` float32 sRGB-encoded values in [0,1].
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return (field - field.mean()) / (field.std() + 1e-8)


def _colourise(value: np.ndarray, dark: tuple, light: tuple) -> np.ndarray:
    value = np.clip(value, 0.0, 1.0)[..., None]
    return (np.asarray(dark) * (1 - value) + np.asarray(light) * value).astype(np.float32)


def noise(size: int, seed: int = 0) -> np.ndarray:
    """Multi-octave coloured noise (moss / plaster)."""
    rng = np.random.default_rng(seed)
    canvas = (size * 5 // 4, size * 5 // 4)
    field = sum(_smooth_noise(rng, canvas, s) * w for s, w in ((1, 0.3), (3, 0.5), (9, 0.8)))
    tint = _smooth_noise(rng, canvas, 12)
    image = _colourise(0.5 + 0.18 * field, (0.16, 0.22, 0.08), (0.62, 0.70, 0.40))
    image[..., 0] += 0.05 * tint
    return np.clip(image[:size, :size], 0, 1).astype(np.float32)


def stones(size: int, seed: int = 0) -> np.ndarray:
    """Voronoi cells with per-stone colour and dark grout."""
    rng = np.random.default_rng(seed)
    canvas = size * 5 // 4
    count = max(8, canvas * canvas // 900)
    points = rng.uniform(0, canvas, (count, 2))
    yy, xx = np.mgrid[0:canvas, 0:canvas]
    distances = np.stack([np.hypot(yy - py, xx - px) for py, px in points])
    nearest = np.sort(distances, axis=0)
    cell = np.argmin(distances, axis=0)
    shade = rng.uniform(0.35, 0.85, count)[cell]
    grout = np.clip((nearest[1] - nearest[0]) / 4.0, 0, 1)
    grain = _smooth_noise(rng, (canvas, canvas), 1.0)
    value = shade * grout + 0.04 * grain
    image = _colourise(value, (0.12, 0.10, 0.09), (0.85, 0.78, 0.66))
    return np.clip(image[:size, :size], 0, 1).astype(np.float32)


def bricks(size: int, seed: int = 0) -> np.ndarray:
    """Running-bond bricks with colour jitter and mortar."""
    rng = np.random.default_rng(seed)
    canvas = size * 5 // 4
    brick_h, brick_w, mortar = size // 10, size // 4, 2
    yy, xx = np.mgrid[0:canvas, 0:canvas].astype(float)
    yy += 7
    row = (yy // brick_h).astype(int)
    shifted = xx + (row % 2) * brick_w / 2 + 5
    col = (shifted // brick_w).astype(int)
    in_mortar = ((yy % brick_h) < mortar) | ((shifted % brick_w) < mortar)
    brick_id = row * 1000 + col
    jitter = rng.uniform(-0.12, 0.12, brick_id.max() + 1)[brick_id]
    grain = _smooth_noise(rng, (canvas, canvas), 0.8)
    red = np.stack([0.62 + jitter, 0.28 + jitter * 0.6, 0.20 + jitter * 0.4], -1)
    red += 0.04 * grain[..., None]
    image = np.where(in_mortar[..., None], np.array([0.72, 0.70, 0.66]) + 0.03 * grain[..., None], red)
    return np.clip(image[:size, :size], 0, 1).astype(np.float32)


def weave(size: int, seed: int = 0) -> np.ndarray:
    """Basket weave: alternating over/under warp and weft threads."""
    rng = np.random.default_rng(seed)
    canvas = size * 5 // 4
    period = max(8, size // 16)
    yy, xx = np.mgrid[0:canvas, 0:canvas].astype(float)
    warp = np.sin(np.pi * (xx % period) / period)
    weft = np.sin(np.pi * (yy % period) / period)
    over = ((xx // period + yy // period) % 2) == 0
    value = np.where(over, warp, weft) * 0.8 + 0.1 * _smooth_noise(rng, (canvas, canvas), 1.5)
    image = _colourise(value, (0.18, 0.12, 0.08), (0.86, 0.76, 0.55))
    return np.clip(image[:size, :size], 0, 1).astype(np.float32)


def wood(size: int, seed: int = 0) -> np.ndarray:
    """Wood grain: stretched, noise-warped growth rings."""
    rng = np.random.default_rng(seed)
    canvas = size * 5 // 4
    yy, xx = np.mgrid[0:canvas, 0:canvas].astype(float)
    warp = _smooth_noise(rng, (canvas, canvas), 10)
    distance = np.hypot((yy - canvas * 2.5) * 0.3, (xx - canvas * 0.4) * 0.05) + 6 * warp
    rings = 0.5 + 0.5 * np.sin(distance * 0.9)
    fibres = _smooth_noise(rng, (canvas, canvas), (0.6, 6))
    value = 0.25 + 0.55 * rings ** 3 + 0.08 * fibres
    image = _colourise(value, (0.30, 0.16, 0.06), (0.80, 0.56, 0.32))
    return np.clip(image[:size, :size], 0, 1).astype(np.float32)


TEXTURES = {"noise": noise, "stones": stones, "bricks": bricks, "weave": weave, "wood": wood}
