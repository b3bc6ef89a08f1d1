"""Is the photographed surface stationary? A check on the guide photo.

The method needs a flat surface whose texture looks alike everywhere (a
repeating or evenly random pattern): each point of the master tile must recur
across the photo. A photo of a scene (a person, a room, an object on a table)
has smooth regions (sky, walls) next to detailed ones. The score is the
spread, over blocks of about the tile's size, of the log of each block's
fine-detail energy (log-luminance minus a 4 px blur, so the light's level and
smooth gradients do not count).

Measured with the pipeline's blocks (the lattice tile of a periodic surface,
the tile side, W/6 by default, of a stochastic one) on the guide photos of
the synthetic materials, 256 to 1024 px wide, clean and noisy: periodic about
0.01, stochastic 0.04-0.16, a periodic pattern whose lattice went unnoticed
(blocks smaller than its period) up to 0.32; on the real texture photos that
scikit-image ships (brick, grass, gravel): 0.06-0.09. On its scene photos
(astronaut, camera, coffee, chelsea, rocket, motorcycle, moon, horse, retina,
clock): 0.48-1.9. Coins on a table, a page of text, stained tissue and a cell
sit in between (0.18-0.42) and pass: the threshold refuses scenes, not uneven
materials such as veined marble. See docs/capture.md.
"""

from __future__ import annotations

import cv2
import numpy as np

# Above this spread of log detail energy across blocks, the surface is refused.
MAX_DETAIL_SPREAD = 0.45
# Fewer blocks than this cannot tell (a photo only about two tiles wide): no verdict.
MIN_BLOCKS = 6
DETAIL_SIGMA_PX = 4.0


def detail_spread(luminance: np.ndarray, block: int) -> float | None:
    """Standard deviation over half-overlapping block x block windows of log(RMS fine
    detail of the log-luminance). luminance: (H,W) linear, > 0. None when fewer
    than MIN_BLOCKS windows fit."""
    h, w = luminance.shape
    block = int(max(8, block))
    log_lum = np.log(np.maximum(luminance, 1e-4)).astype(np.float32)
    detail = log_lum - cv2.GaussianBlur(log_lum, (0, 0), DETAIL_SIGMA_PX)
    power = cv2.blur(detail * detail, (block, block), borderType=cv2.BORDER_REFLECT)
    step = max(1, block // 2)
    ys = np.arange(block // 2, h - block // 2 + 1, step)
    xs = np.arange(block // 2, w - block // 2 + 1, step)
    if len(ys) * len(xs) < MIN_BLOCKS:
        return None
    energy = power[np.ix_(ys, xs)]
    return float(np.log(np.sqrt(energy) + 1e-4).std())
