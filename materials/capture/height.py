"""A height map from the fitted normals, for parallax and displacement in engines.

The tile tiles, so its slope field is integrated on the torus with the FFT (Frankot and
Chellappa 1988: the least-squares integrable surface), using the spectrum of the central
difference that `synthetic.normals_from_height` (the project's reference of how a height
field gives normals) differentiates with. The normals hold the relief's slope per texel,
so the height comes out in texels: its range over the tile's width is the depth a
displacement should be given relative to the tile's size in the world.
"""

from __future__ import annotations

import numpy as np


def height_from_normals(normal: np.ndarray) -> np.ndarray:
    """(H,W) height in texels, mean 0, of the tileable unit normals `normal` (H,W,3) in the
    plane frame (x right, y up, z out; OpenGL normal maps)."""
    normal = np.asarray(normal, dtype=np.float64)
    nz = np.clip(normal[..., 2], 0.05, None)  # grazing normals: slopes capped at 20
    dh_dx = -normal[..., 0] / nz
    dh_drow = normal[..., 1] / nz  # y is up, rows grow down
    h, w = dh_dx.shape
    # Central difference on the torus: d/dx <-> i sin(2 pi k / N).
    sx = np.sin(2 * np.pi * np.fft.fftfreq(w))[None, :]
    sy = np.sin(2 * np.pi * np.fft.fftfreq(h))[:, None]
    denominator = sx**2 + sy**2
    spectrum = (-1j * sx * np.fft.fft2(dh_dx) - 1j * sy * np.fft.fft2(dh_drow))
    # The mean and the Nyquist rows/columns (where the central difference is blind) stay 0.
    spectrum = np.where(denominator > 1e-9, spectrum / np.where(denominator > 1e-9, denominator, 1), 0)
    return np.real(np.fft.ifft2(spectrum)).astype(np.float32)


def stretch(height: np.ndarray) -> tuple[np.ndarray, float]:
    """(height (H,W) float32 in [0,1], depth): a height in texels stretched to [0,1] (0 lowest),
    and its range as a fraction of the tile's width (scale a displacement by it)."""
    low, high = float(height.min()), float(height.max())
    span = high - low
    encoded = (height - low) / span if span > 1e-9 else np.zeros_like(height)
    return encoded.astype(np.float32), span / height.shape[1]
