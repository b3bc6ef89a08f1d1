"""Circular (wrap-around) padding, so tileable textures see their opposite edge."""

import numpy as np


def _wrapped_indices(size: int, pad: int) -> np.ndarray:
    # Modulo indexing works for any pad, even one larger than the image.
    return np.arange(-pad, size + pad) % size


def wrap_pad(x, pad: int):
    """Pad by `pad` pixels on every side, taking the pixels from the opposite edge.

    x: numpy (H, W, C) or (H, W), or torch (B, C, H, W) on any device.
    Returns the same kind and dtype, (H + 2 pad, W + 2 pad) spatially, with
    out[i, j] = x[(i - pad) mod H, (j - pad) mod W].
    """
    pad = int(pad)
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    if type(x).__module__.split(".")[0] == "torch":
        import torch

        if x.dim() != 4:
            raise ValueError(f"expected a (B,C,H,W) tensor, got {tuple(x.shape)}")
        rows = torch.as_tensor(_wrapped_indices(x.shape[2], pad), device=x.device)
        cols = torch.as_tensor(_wrapped_indices(x.shape[3], pad), device=x.device)
        return x.index_select(2, rows).index_select(3, cols)
    x = np.asarray(x)
    if x.ndim not in (2, 3):
        raise ValueError(f"expected an (H,W,C) or (H,W) array, got {x.shape}")
    rows = _wrapped_indices(x.shape[0], pad)
    cols = _wrapped_indices(x.shape[1], pad)
    return x[rows][:, cols]


def looks_tileable(pixels: np.ndarray) -> bool:
    """Heuristic for a wrap default: (H,W[,C]) pixels whose jump across opposite edges is no
    larger than a typical jump between neighbouring interior rows/columns."""
    x = pixels.astype(np.float32)
    if x.ndim == 2:
        x = x[..., None]
    if min(x.shape[:2]) < 8:
        return False
    inner = 0.5 * (np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean())
    seam = 0.5 * (np.abs(x[0] - x[-1]).mean() + np.abs(x[:, 0] - x[:, -1]).mean())
    return bool(seam <= 1.5 * inner + 1e-6)
