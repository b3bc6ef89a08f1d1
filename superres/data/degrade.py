"""Degradation model: HR patch -> realistic LR patch.

Half of the pairs are the clean bicubic down-scale (the benchmark protocol and
the common case of textures authored at low resolution); the other half add
what real low-resolution assets carry: optical/resampling blur before the
down-scale, a different down-scaling filter, sensor noise, and JPEG blocking or
DXT1 (BC1) block compression, as most game textures of the 2000s were shipped.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from imaging.io import dxt1_roundtrip, jpeg_roundtrip


def bicubic_downscale(hr: np.ndarray, scale: int) -> np.ndarray:
    """(H,W,3) float32 in [0,1] -> (H/scale,W/scale,3), antialiased bicubic."""
    tensor = torch.from_numpy(np.ascontiguousarray(hr)).permute(2, 0, 1)[None]
    low = F.interpolate(tensor, scale_factor=1 / scale, mode="bicubic", antialias=True, align_corners=False)
    return low[0].permute(1, 2, 0).clamp(0, 1).numpy()


def degrade(hr: np.ndarray, scale: int, rng: np.random.Generator, clean_fraction: float = 0.5) -> np.ndarray:
    """(H,W,3) float32 sRGB in [0,1], H and W multiples of `scale` -> LR (H/s,W/s,3) float32 in [0,1]."""
    if rng.random() < clean_fraction:
        return bicubic_downscale(hr, scale)
    image = hr
    if rng.random() < 0.6:
        sigma = rng.uniform(0.2, 0.6 * scale)
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    h, w = hr.shape[0] // scale, hr.shape[1] // scale
    filt = rng.choice(["bicubic", "area", "bilinear"])
    if filt == "bicubic":
        low = bicubic_downscale(image, scale)
    else:
        interp = cv2.INTER_AREA if filt == "area" else cv2.INTER_LINEAR
        low = cv2.resize(image, (w, h), interpolation=interp)
    if rng.random() < 0.4:
        low = low + rng.normal(0, rng.uniform(0.002, 0.02), low.shape).astype(np.float32)
    low = np.clip(low, 0, 1)
    compression = rng.random()
    if compression < 0.4:
        quality = int(rng.integers(55, 96))
        low = jpeg_roundtrip((low * 255 + 0.5).astype(np.uint8), quality).astype(np.float32) / 255.0
    elif compression < 0.6:  # 4x4 blocks of two 5:6:5 colours and two between them
        low = dxt1_roundtrip((low * 255 + 0.5).astype(np.uint8)).astype(np.float32) / 255.0
    return np.ascontiguousarray(low, dtype=np.float32)
