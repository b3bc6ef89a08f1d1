"""Refine the guide's scale against the flash observations.

The alignment (align.py) leaves a change of scale under 1 % out of the
motion, because the flash lights the relief from the highlight's side and so
biases every feature-based measure by a false zoom of 0.3-0.6 %. A real one
of that size is common (the camera moved a few millimetres between the shots,
or focus breathing), and it moves the matches far from the master tile by
several pixels: tiles 1.1 deg -> 5.1 deg normal error at 0.7 %.

The flash observations themselves tell the two apart: registered right, the
repeats of a master pixel are views of one surface under one shading model;
a wrong scale puts each repeat's sample a little off, by more the further the
repeat is from the master tile, and no per-pixel BRDF explains them all. So
candidate zooms are scored by the residual of a quick fit (fit.py with short
stages and no normal filter) on the block of master pixels where the guide
shows most detail, and the best one corrects the homography.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from imaging.color import luminance

from .fit import FitSettings, FlashGeometry, fit_svbrdf, initial_albedo
from .observations import gather, sample

# A quick fit: what it scores is how well the observations agree, not the maps.
# No flash beam in the quick fit: it is the same under every candidate zoom, and fitting it
# in 20 steps only added noise to the comparison (stretched tiles, no zoom: -0.3 % taken).
SCORING_SETTINGS = FitSettings(global_steps=20, coarse_steps=40, pixel_steps=40, matches_per_step=24,
                               half_steps=0, clusters=1, fit_beam=False)
STEP = 0.003  # first candidates at 0 and +-STEP, then further out in steps of STEP
LIMIT = 0.012  # the alignment takes a full homography above 1 %, whose bias is at most ~0.6 %
# Master pixels per side scored (all of a smaller tile), where the guide shows most detail:
# 32 px there told the scale within 0.1 % on tiles, weave and leather (synthetic, 1024 px).
BLOCK = 32
# Below this the correction is skipped: it moves no match by more than ~1 px (1024 px photo),
# and the quick fit's score is good to ~0.1 % only (tiles, hard: -0.15 % found for -0.08 %,
# which the full fit liked less than none: 1.48 deg against 1.11 deg).
MIN_CORRECTION = 0.002


def zoom_matrix(zoom: float, size) -> np.ndarray:
    """3x3 magnification by 1 + zoom about the centre of an (h, w) photo."""
    h, w = size
    s = 1.0 + zoom
    return np.array([[s, 0.0, (1 - s) * w / 2], [0.0, s, (1 - s) * h / 2], [0.0, 0.0, 1.0]])


def _unzoom(points: np.ndarray, zoom: float, size) -> np.ndarray:
    """Points (...,2) of the guide warped with H, in the guide warped with H @ zoom_matrix(zoom)."""
    h, w = size
    centre = np.array([w / 2, h / 2])
    return centre + (points - centre) / (1.0 + zoom)


def _block(guide, master, shape, block: int):
    """Row-major indices of the block x block master pixels of a (h, w) tile whose guide
    shows the most detail (a flat patch of a tile says nothing about the scale), and
    the block's shape."""
    h, w = shape
    bh, bw = min(block, h), min(block, w)
    lum = np.asarray(luminance(sample(guide, master[:, None, :])[:, 0]), np.float64)[..., 0].reshape(h, w)
    gy, gx = np.gradient(np.log(np.maximum(lum, 1e-4)))
    energy = np.pad(np.cumsum(np.cumsum(gx * gx + gy * gy, 0), 1), ((1, 0), (1, 0)))
    sums = energy[bh:, bw:] - energy[:-bh, bw:] - energy[bh:, :-bw] + energy[:-bh, :-bw]
    r0, c0 = np.unravel_index(np.argmax(sums), sums.shape)
    return (np.arange(r0, r0 + bh)[:, None] * w + np.arange(c0, c0 + bw)[None]).ravel(), (bh, bw)


def zoom_score(flash, guide, clipped, positions, master, gain, centre, distance: float, zoom: float,
               block_shape, device=None, room=None) -> float:
    """RMS log-domain residual of a quick fit of the block's observations when the guide
    is magnified by 1 + zoom. positions (P,K,2) / master (P,2): the block's matches and
    master pixels in the aligned guide's pixels; gain (P,K,1): their albedo gains, from the
    guide where the matches were found (the same for every zoom); flash, guide, clipped,
    room as observations.gather."""
    size = flash.shape[:2]
    obs = gather(flash, guide, clipped, _unzoom(positions, zoom, size), _unzoom(master, zoom, size),
                 centre, distance, block_shape, wrap=False, room=room)
    obs.gain = gain
    est = initial_albedo(obs, FlashGeometry(centre, distance)).flatten()
    obs.expose(max(float(torch.quantile(est, 0.99)) / 0.8, 1e-4))
    _, _, residual, _, _ = fit_svbrdf(obs, centre, distance, SCORING_SETTINGS, device=device,
                                      axis=((size[1] - 1) / 2, (size[0] - 1) / 2))
    return residual


def refine_zoom(flash, guide, clipped, positions, master, tile_shape, centre, distance: float,
                device=None, block: int = BLOCK, progress=None, room=None) -> tuple[float, list]:
    """The zoom of the guide (relative to its current alignment) that the flash
    observations agree with best.

    flash, guide: (H,W,3) float32 linear, the guide aligned; clipped (H,W,3); room
    (H,W,3) or None: the room light (observations.room_light);
    positions (P,K,2), master (P,2) over the tile's (h, w) `tile_shape`.
    progress(): called before each candidate's fit (what it raises propagates: cancellation).
    Returns (zoom, [(candidate, score), ...] in the order tried).
    """
    idx, block_shape = _block(guide, master, tile_shape, block)
    pos, mas = positions[idx], master[idx]
    gain = gather(flash, guide, clipped, pos, mas, centre, distance, block_shape, wrap=False).gain
    scores: dict = {}

    def score(z: float) -> float:
        z = round(z, 6)
        if z not in scores:
            if progress is not None:
                progress()
            scores[z] = zoom_score(flash, guide, clipped, pos, mas, gain, centre, distance, z, block_shape, device,
                                   room)
        return scores[z]

    best = min((0.0, STEP, -STEP), key=score)
    # Walk outwards while the score keeps falling.
    while best != 0.0 and abs(best) + STEP <= LIMIT + 1e-9:
        further = best + math.copysign(STEP, best)
        if score(further) >= score(best):
            break
        best = further
    # Then halfway to each neighbour. No parabola through three: the score is not
    # symmetric about its minimum (towards the side the relief's shading bias mimics,
    # the fit explains part of the error with normals), so a vertex lands off the truth.
    best = min((best - STEP / 2, best, best + STEP / 2), key=score)
    # A zoom that will be corrected is refined halfway again (a quarter step, 0.075 %):
    # 0.15 % off moves the farthest repeats by ~0.8 px (tiles, a 0.6 % zoom: 0.45 %
    # taken, 1.9 deg; on a 0.075 % grid the score's minimum is at 0.525 %). One under
    # the threshold is not: the quarter step would let the score's ~0.1 % noise through
    # it (the stretched tiles pair, no zoom: -0.225 % taken, 1.06 deg -> 1.61 deg).
    if abs(best) >= MIN_CORRECTION:
        best = min((best - STEP / 4, best, best + STEP / 4), key=score)
    return float(best), [(round(z, 6), round(s, 6)) for z, s in scores.items()]
