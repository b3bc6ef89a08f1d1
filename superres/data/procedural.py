"""Procedural HR textures and renders of synthetic materials (offline corpus).

Every generator is `fn(rng, size) -> (size,size,3) float32 sRGB in [0,1]`, fully
determined by the numpy Generator, so the corpus is rebuilt bit-for-bit from a
seed (`python -m superres.data.corpus`). The kinds cover what studios upscale:
natural noise (stone, dirt), cells (cobbles, scales), man-made patterns
(bricks, tiles, weave, stripes), sharp lettering and decals, wood/marble
grain, and lit renders of height-mapped materials (shading gives the
photographic look of scanned textures). "Dead leaves" images (occluding shapes
at every scale) stand in for photographs of scenes, which cannot be shipped;
they are for training only (the held-out benchmark kinds are fixed in
`corpus.HELDOUT_KINDS`).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import cKDTree


def _resize(grid: np.ndarray, size: int) -> np.ndarray:
    return cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)


def fbm(rng: np.random.Generator, size: int, octaves: int = 6, base: int = 4, persistence: float = 0.55) -> np.ndarray:
    """(size,size) fractal value noise, normalised to [0,1]."""
    out = np.zeros((size, size), np.float32)
    amp, cells = 1.0, base
    for _ in range(octaves):
        if cells > size:
            break
        grid = rng.random((cells, cells)).astype(np.float32)
        out += amp * _resize(grid, size)
        amp *= persistence
        cells *= 2
    out -= out.min()
    return out / max(float(out.max()), 1e-6)


def _palette(rng: np.random.Generator, stops: int = 3) -> np.ndarray:
    """(stops,3) random colour ramp, mostly muted like real materials."""
    base = rng.random(3) * 0.7 + 0.15
    cols = [np.clip(base + rng.normal(0, 0.25, 3), 0, 1) for _ in range(stops)]
    return np.array(cols, np.float32)


def _ramp(values: np.ndarray, palette: np.ndarray) -> np.ndarray:
    positions = np.linspace(0, 1, len(palette))
    return np.stack([np.interp(values, positions, palette[:, c]) for c in range(3)], -1).astype(np.float32)


def noise_texture(rng, size):
    return _ramp(fbm(rng, size, base=int(rng.integers(2, 9))), _palette(rng, 4))


def cells_texture(rng, size):
    count = int(rng.integers(20, 250))
    points = rng.random((count, 2)) * size
    # Tile the points so cells wrap and edges look the same everywhere.
    offsets = np.array([(dx, dy) for dx in (-size, 0, size) for dy in (-size, 0, size)])
    tree = cKDTree((points[None] + offsets[:, None]).reshape(-1, 2))
    yy, xx = np.mgrid[0:size, 0:size]
    dist, idx = tree.query(np.stack([xx.ravel(), yy.ravel()], 1), k=2)
    cell = idx[:, 0] % count
    edge = (dist[:, 1] - dist[:, 0]).reshape(size, size)
    colours = _ramp(rng.random(count), _palette(rng, 3))[cell].reshape(size, size, 3)
    mortar = np.clip(edge / rng.uniform(1.0, 4.0), 0, 1)[..., None]
    grout = _palette(rng, 1)[0] * rng.uniform(0.2, 0.6)
    detail = fbm(rng, size)[..., None] * 0.3 + 0.85
    return np.clip((colours * mortar + grout * (1 - mortar)) * detail, 0, 1).astype(np.float32)


def bricks_texture(rng, size):
    rows = int(rng.integers(4, 16))
    brick_h = size / rows
    brick_w = brick_h * rng.uniform(1.5, 3.5)
    gap = rng.uniform(1.0, max(brick_h * 0.15, 1.5))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    row = np.floor(yy / brick_h)
    shifted = xx + (row % 2) * brick_w * 0.5
    col = np.floor(shifted / brick_w)
    in_y = yy - row * brick_h
    in_x = shifted - col * brick_w
    mortar = (in_y < gap) | (in_x < gap)
    ids = (row * 97 + col * 31).astype(np.int64) % 1024
    tones = _ramp(rng.random(1024), _palette(rng, 3))[ids]
    grime = fbm(rng, size)[..., None] * 0.4 + 0.7
    mortar_col = np.full(3, rng.uniform(0.4, 0.8), np.float32)
    out = np.where(mortar[..., None], mortar_col, tones) * grime
    return np.clip(out, 0, 1).astype(np.float32)


def grain_texture(rng, size):
    """Wood rings or marble veins: sines distorted by turbulence."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    turb = fbm(rng, size, base=3) * rng.uniform(2, 8)
    if rng.random() < 0.5:
        cx, cy = rng.uniform(-1, 2, 2)
        phase = np.hypot(xx - cx, (yy - cy) * rng.uniform(0.05, 0.4)) * rng.uniform(20, 60) + turb
    else:
        phase = (xx * rng.uniform(2, 10) + yy * rng.uniform(-5, 5)) * np.pi + turb
    values = (np.sin(phase) * 0.5 + 0.5) ** rng.uniform(0.5, 4)
    return _ramp(values, _palette(rng, 3))


def weave_texture(rng, size):
    period = rng.uniform(6, 24)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    warp = np.sin(u / period * np.pi) ** 2
    weft = np.sin(v / period * np.pi) ** 2
    over = (np.floor(u / period) + np.floor(v / period)) % 2 == 0
    values = np.where(over, warp, weft) * (0.8 + 0.2 * fbm(rng, size))
    return _ramp(values, _palette(rng, 3))


def stripes_texture(rng, size):
    """Hard-edged geometric patterns: checkers, stripes, rotated."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    period = rng.uniform(4, 40)
    if rng.random() < 0.5:
        mask = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    else:
        mask = (np.floor(u / period) % int(rng.integers(2, 4)) == 0).astype(np.float32)
    mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.3, 0.8))
    palette = _palette(rng, 2)
    return (palette[0] * mask[..., None] + palette[1] * (1 - mask[..., None])).astype(np.float32)


_FONTS = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
          cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX]
_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789#&%"


def decal_texture(rng, size):
    """Lettering, lines and shapes on a surface: signs, labels, UI decals."""
    canvas = (noise_texture(rng, size) * 255).astype(np.uint8).copy()
    for _ in range(int(rng.integers(4, 14))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        choice = rng.random()
        if choice < 0.55:
            text = "".join(rng.choice(list(_CHARS), int(rng.integers(2, 9))))
            org = (int(rng.integers(-10, size - 20)), int(rng.integers(10, size)))
            cv2.putText(canvas, text, org, _FONTS[int(rng.integers(len(_FONTS)))], rng.uniform(0.4, 2.5),
                        colour, int(rng.integers(1, 4)), cv2.LINE_AA)
        elif choice < 0.8:
            p1 = tuple(int(v) for v in rng.integers(0, size, 2))
            p2 = tuple(int(v) for v in rng.integers(0, size, 2))
            cv2.line(canvas, p1, p2, colour, int(rng.integers(1, 5)), cv2.LINE_AA)
        else:
            centre = tuple(int(v) for v in rng.integers(0, size, 2))
            cv2.circle(canvas, centre, int(rng.integers(3, size // 4)), colour,
                       int(rng.choice([-1, 1, 2, 3])), cv2.LINE_AA)
    return canvas.astype(np.float32) / 255.0


def rendered_material(rng, size):
    """A height-mapped material lit by a directional light and a specular lobe."""
    height_src = [fbm, lambda r, s: cells_texture(r, s).mean(-1), lambda r, s: bricks_texture(r, s).mean(-1),
                  lambda r, s: grain_texture(r, s).mean(-1)][int(rng.integers(4))]
    height = height_src(rng, size).astype(np.float32) * rng.uniform(2, 12)
    albedo = [noise_texture, cells_texture, bricks_texture, grain_texture, weave_texture][int(rng.integers(5))](rng, size)
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3) / 8
    normal = np.stack([-gx, -gy, np.ones_like(gx)], -1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    elev, azim = rng.uniform(0.3, 1.2), rng.uniform(0, 2 * np.pi)
    light = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)], np.float32)
    diffuse = np.clip(normal @ light, 0, 1)[..., None]
    half = light + np.array([0, 0, 1], np.float32)
    half /= np.linalg.norm(half)
    spec = np.clip(normal @ half, 0, 1)[..., None] ** rng.uniform(8, 80) * rng.uniform(0, 0.6)
    linear = (albedo**2.2) * (0.15 + 0.85 * diffuse) + spec
    return np.clip(linear, 0, 1) ** (1 / 2.2)


def dead_leaves(rng, size):
    """Occluding shapes of power-law sizes (the "dead leaves" model of natural images).

    Photographs of scenes share its statistics: objects at every scale occlude
    one another, so edges come at all orientations and contrasts, with flat,
    shaded or textured regions between them (Lee, Mumford & Huang 2001; used to
    train restoration networks without real photos by Achddou et al. 2021).
    Shapes (ellipses, rotated rectangles, polygons) are laid until the image is
    covered several times over, each with a muted colour, a shading gradient,
    sometimes a texture; some are out of focus.
    """
    textures = [0.7 + 0.6 * fbm(rng, size, base=b) for b in (4, 16, 64)]
    grey = rng.uniform(0.2, 0.7)
    # The farthest layer: one shaded, textured colour under everything.
    out = (grey + 0.5 * (rng.random(3) - grey)).astype(np.float32) * textures[0][..., None]
    r_min, r_max = 2.5, size / 2.0
    for _ in range(int(rng.integers(500, 1200))):
        # Radius density ~ r^-3 (scale invariance), drawn by inverting its CDF.
        r = (r_min**-2 - rng.random() * (r_min**-2 - r_max**-2)) ** -0.5
        cx, cy = rng.uniform(-0.5 * r, size + 0.5 * r, 2)
        blur = rng.uniform(0.6, 3.0) if rng.random() < 0.2 else 0.0  # out of focus
        pad = int(np.ceil(r + 3 * blur + 2))
        x0, y0 = max(0, int(cx) - pad), max(0, int(cy) - pad)
        x1, y1 = min(size, int(cx) + pad + 1), min(size, int(cy) + pad + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        lx, ly = cx - x0, cy - y0
        kind = rng.random()
        if kind < 0.4:
            axes = (max(1, int(round(r))), max(1, int(round(r * rng.uniform(0.3, 1.0)))))
            cv2.ellipse(mask, (int(round(lx)), int(round(ly))), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1,
                        cv2.LINE_AA)
        else:
            corners = 4 if kind < 0.75 else int(rng.integers(3, 8))
            if corners == 4:
                angles = rng.uniform(0, 2 * np.pi) + np.array([0.25, 0.75, 1.25, 1.75]) * np.pi
                radii = np.full(4, r)
            else:
                angles, radii = np.sort(rng.uniform(0, 2 * np.pi, corners)), r * rng.uniform(0.5, 1.0, corners)
            pts = np.stack([lx + radii * np.cos(angles), ly + radii * np.sin(angles)], 1)
            cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
        alpha = mask.astype(np.float32) / 255
        if blur:
            alpha = cv2.GaussianBlur(alpha, (0, 0), blur)
        # Muted colours, as most of a photo is: a random hue pulled towards grey.
        colour = grey + rng.uniform(0.2, 0.8) * (rng.random(3) - grey)
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        direction = rng.uniform(0, 2 * np.pi)
        shade = 1 + rng.uniform(0, 0.5) * (np.cos(direction) * (xx - cx) + np.sin(direction) * (yy - cy)) / (r + 1)
        fill = colour[None, None] * np.clip(shade, 0.3, 1.7)[..., None]
        if rng.random() < 0.3:  # a textured object
            fill = fill * textures[int(rng.integers(3))][y0:y1, x0:x1, None]
        region = out[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = region * (1 - alpha[..., None]) + fill * alpha[..., None]
    return np.clip(out, 0, 1).astype(np.float32)


GENERATORS = {
    "noise": noise_texture,
    "cells": cells_texture,
    "bricks": bricks_texture,
    "grain": grain_texture,
    "weave": weave_texture,
    "stripes": stripes_texture,
    "decal": decal_texture,
    "rendered": rendered_material,
    "leaves": dead_leaves,
}
# Renders and decals carry the most varied detail; sample them more often.
KIND_WEIGHTS = {"noise": 1, "cells": 1, "bricks": 1, "grain": 1, "weave": 1, "stripes": 1, "decal": 2, "rendered": 3,
                "leaves": 3}


def make_texture(seed: int, size: int = 256, kind: str | None = None) -> tuple[str, np.ndarray]:
    """Texture number `seed`: (kind, (size,size,3) float32 sRGB in [0,1])."""
    rng = np.random.default_rng(seed)
    if kind is None:
        names = list(KIND_WEIGHTS)
        weights = np.array([KIND_WEIGHTS[n] for n in names], float)
        kind = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    image = GENERATORS[kind](rng, size)
    return kind, np.ascontiguousarray(np.clip(image, 0, 1), dtype=np.float32)
